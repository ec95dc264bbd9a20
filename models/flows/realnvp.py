"""RealNVP (Dinh et al., 2017): affine couplings, on images and on vectors.

On images (C, H, W), data → base, each scale but the last is: three checkerboard
couplings, a squeeze to (4C, H/2, W/2), three channel couplings, then half of the
channels are factored out and the next scale acts on the other half (``multiscale.py``);
the last scale is four checkerboard couplings. Couplings are ``MaskedAffineCoupling``
with conv nets and tanh-bounded log-scales; the masks alternate between layers.

On vectors (the 2-D toys), the flow is Pyro's ``AffineCoupling`` (dense nets) with the
order of the coordinates reversed between layers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from pyro.distributions.torch_transform import ComposeTransformModule
from pyro.distributions.transforms import affine_coupling
from torch import nn
from torch.distributions.transforms import Transform

from probgen.errors import ArgumentError
from probgen.models import checks
from probgen.models.flows.coupling import MaskedAffineCoupling, channel_mask, checkerboard_mask
from probgen.models.flows.model import FlowModel, with_flips
from probgen.models.flows.multiscale import ChannelSplit, check_image_shape, squeezed


def couplings(shape: Sequence[int], count: int, mask, hidden: int) -> list[Transform]:
    """``count`` masked affine couplings on ``shape`` whose masks alternate in parity."""
    return [MaskedAffineCoupling(mask(shape, k % 2), hidden) for k in range(count)]


def realnvp_scale(shape: tuple[int, int, int], scales: int, hidden: int) -> ComposeTransformModule:
    """Base → data transform of ``scales`` scales on images of ``shape``."""
    if scales == 1:
        return ComposeTransformModule(couplings(shape, 4, checkerboard_mask, hidden))
    c, h, w = shape
    inner = realnvp_scale((2 * c, h // 2, w // 2), scales - 1, hidden)
    body = couplings((4 * c, h // 2, w // 2), 3, channel_mask, hidden)
    return ComposeTransformModule(
        [
            *squeezed(body, ChannelSplit(inner, 2 * c)),
            *couplings(shape, 3, checkerboard_mask, hidden),
        ]
    )


class RealNVP(FlowModel):
    """Multiscale RealNVP on images of ``event_shape`` (C, H, W), H and W divisible by
    2^(``scales`` − 1); ``hidden`` channels in each coupling's conv net.

    Inputs in [0, 1] go through the logit pre-processing with ``logit_alpha`` (None to
    model them on ℝ^D).

    Tests: tests/models/test_flows_models.py.
    """

    def __init__(
        self,
        event_shape: Sequence[int] = (1, 8, 8),
        hidden: int = 32,
        scales: int = 2,
        logit_alpha: float | None = 0.05,
    ):
        super().__init__(event_shape, logit_alpha)
        checks.positive_int("hidden", hidden)
        checks.positive_int("scales", scales)
        check_image_shape(self.event_shape, "scales", scales, scales - 1)
        self.multiscale = realnvp_scale(self.event_shape, scales, hidden)

    def body(self) -> list[Transform]:
        """Base → data: the scales, the coarsest innermost."""
        return [self.multiscale]


class VectorRealNVP(FlowModel):
    """RealNVP on vectors (events flattened to D ≥ 2 values): ``layers`` of Pyro's
    ``AffineCoupling`` y_b = μ(x_a) + exp(s(x_a)) ⊙ x_b, x_a the first ⌊D/2⌋ values, each
    with an MLP of two hidden layers of ``hidden`` units, and the order reversed in between.

    Tests: tests/models/test_flows_models.py.
    """

    def __init__(
        self,
        event_shape: int | Sequence[int] = (2,),
        hidden: int = 64,
        layers: int = 6,
        logit_alpha: float | None = None,
    ):
        super().__init__(event_shape, logit_alpha)
        checks.positive_int("hidden", hidden)
        checks.positive_int("layers", layers)
        if self.dim < 2:
            raise ArgumentError(
                f"couplings need events of 2 or more values, got {self.event_shape}"
            )
        self.couplings = nn.ModuleList(
            affine_coupling(self.dim, hidden_dims=[hidden, hidden]) for _ in range(layers)
        )
        self.register_buffer("flip", torch.arange(self.dim - 1, -1, -1))

    def body(self) -> list[Transform]:
        """Base → data: the couplings with reversals in between."""
        return self.vectorized(with_flips(self.couplings, self.flip))
