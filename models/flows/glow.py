"""Glow (Kingma & Dhariwal, 2018): ActNorm, invertible 1×1 convolutions, affine couplings.

Data → base, each of the ``levels`` levels squeezes the image to (4C, H/2, W/2), runs
``steps`` steps of flow, each ActNorm → 1×1 convolution → affine coupling, and (but the
last) factors out half of the channels, the next level taking the other half
(``multiscale.py``). The 1×1 convolution is Pyro's ``GeneralizedChannelPermute``,
W = P L U with P a fixed permutation, L unit lower triangular and U upper triangular
with diagonal s, so log|det| = H·W·Σ log|s_c|. The coupling is ``MaskedAffineCoupling``
with a channel mask, whose last conv layer starts at zero, as in the paper.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyro.distributions.torch_transform import ComposeTransformModule
from pyro.distributions.transforms import GeneralizedChannelPermute
from torch.distributions.transforms import Transform

from probgen import checks
from probgen.models.flows.actnorm import ActNorm
from probgen.models.flows.coupling import MaskedAffineCoupling, channel_mask
from probgen.models.flows.model import FlowModel
from probgen.models.flows.multiscale import ChannelSplit, check_image_shape, squeezed


def glow_steps(shape: tuple[int, int, int], steps: int, hidden: int) -> list[Transform]:
    """``steps`` steps of flow on ``shape``, base → data: per step coupling, 1×1 conv,
    ActNorm (so that data → base each step reads ActNorm, 1×1 conv, coupling)."""
    out: list[Transform] = []
    for k in range(steps):
        out += [
            MaskedAffineCoupling(channel_mask(shape, k % 2), hidden),
            GeneralizedChannelPermute(channels=shape[0]),
            ActNorm(shape[0]),
        ]
    return out


def glow_level(
    shape: tuple[int, int, int], levels: int, steps: int, hidden: int
) -> ComposeTransformModule:
    """Base → data transform of ``levels`` levels on images of ``shape``."""
    c, h, w = shape
    squeezed_shape = (4 * c, h // 2, w // 2)
    body = glow_steps(squeezed_shape, steps, hidden)
    if levels == 1:
        return ComposeTransformModule(squeezed(body))
    inner = glow_level((2 * c, h // 2, w // 2), levels - 1, steps, hidden)
    return ComposeTransformModule(squeezed(body, ChannelSplit(inner, 2 * c)))


class Glow(FlowModel):
    """Glow on images of ``event_shape`` (C, H, W), H and W divisible by 2^``levels``;
    ``steps`` steps of flow per level, ``hidden`` channels in each coupling's conv net.

    Inputs in [0, 1] go through the logit pre-processing with ``logit_alpha`` (None to
    model them on ℝ^D). The ActNorm layers initialise from the first batch scored by
    ``log_prob`` (or ``model``); fit or score data before sampling.

    Tests: tests/models/test_flows_models.py.
    """

    def __init__(
        self,
        event_shape: Sequence[int] = (1, 8, 8),
        hidden: int = 32,
        levels: int = 2,
        steps: int = 4,
        logit_alpha: float | None = 0.05,
    ):
        super().__init__(event_shape, logit_alpha)
        checks.positive_int("hidden", hidden)
        checks.positive_int("levels", levels)
        checks.positive_int("steps", steps)
        check_image_shape(self.event_shape, "levels", levels, levels)
        self.multiscale = glow_level(self.event_shape, levels, steps, hidden)

    def body(self) -> list[Transform]:
        """Base → data: the levels, the coarsest innermost."""
        return [self.multiscale]
