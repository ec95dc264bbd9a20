"""The multiscale architecture of RealNVP and Glow (Dinh et al., 2017, §3.6).

At each scale the image is squeezed, (C, H, W) → (4C, H/2, W/2), each 2×2 block of
pixels becoming four channels; the flow acts on the squeezed tensor, then half of the
channels are factored out: they go to the latent as they are, and the following scales
act on the other half only. Here the factoring out is a transform, ``ChannelSplit``,
that applies an inner transform (the following scales) to the first channels and the
identity to the rest, so the whole architecture stays one bijection of the event shape
and one ``TransformedDistribution``: the latent is N(0, I) on the image's own shape, read
through squeezes, which only permute its values.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from pyro.distributions import constraints
from pyro.distributions.torch_transform import TransformModule
from torch.distributions.transforms import Transform

from probgen.errors import ArgumentError


class Squeeze(Transform):
    """y[..., 4c + 2i + j, h, w] = x[..., c, 2h + i, 2w + j]: (C, H, W) → (4C, H/2, W/2).

    A permutation of the values: log|det| = 0. H and W must be even.

    Tests: tests/models/test_flows_transforms.py (the index formula; inverse).
    """

    domain = constraints.independent(constraints.real, 3)
    codomain = constraints.independent(constraints.real, 3)
    bijective = True

    def __init__(self) -> None:
        super().__init__(cache_size=1)

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_unshuffle(x, 2)  # torch's space-to-depth, this index order

    def _inverse(self, y: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(y, 2)

    def log_abs_det_jacobian(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(x.shape[:-3])

    def forward_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        *batch, c, h, w = shape
        return (*batch, 4 * c, h // 2, w // 2)

    def inverse_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        *batch, c, h, w = shape
        return (*batch, c // 4, 2 * h, 2 * w)


class ChannelSplit(TransformModule):
    """y = (inner(x[:k]), x[k:]) along the channel axis: the first k = ``channels``
    channels go through ``inner`` (an image transform), the others are factored out.

    log|det ∂y/∂x| = log|det ∂inner/∂x[:k]|; the inverse applies ``inner``'s inverse.

    Tests: tests/models/test_flows_transforms.py (inverse; log-det against the autograd
    Jacobian).
    """

    domain = constraints.independent(constraints.real, 3)
    codomain = constraints.independent(constraints.real, 3)
    bijective = True

    def __init__(self, inner: Transform, channels: int):
        super().__init__(cache_size=1)
        self.inner = inner
        self.channels = channels
        self._saved: tuple | None = None

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x.split([self.channels, x.shape[-3] - self.channels], dim=-3)

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        x_inner, rest = self._split(x)
        y_inner = self.inner(x_inner)
        y = torch.cat([y_inner, rest], dim=-3)
        self._saved = (x, y, x_inner, y_inner)
        return y

    def _inverse(self, y: torch.Tensor) -> torch.Tensor:
        y_inner, rest = self._split(y)
        x_inner = self.inner.inv(y_inner)
        x = torch.cat([x_inner, rest], dim=-3)
        self._saved = (x, y, x_inner, y_inner)
        return x

    def log_abs_det_jacobian(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # the halves seen by ``inner`` itself let its parts reuse their caches
        if self._saved is not None and x is self._saved[0] and y is self._saved[1]:
            x_inner, y_inner = self._saved[2:]
        else:
            x_inner, y_inner = self._split(x)[0], self._split(y)[0]
        return self.inner.log_abs_det_jacobian(x_inner, y_inner)

    def clear_cache(self) -> None:
        super().clear_cache()
        self._saved = None


def squeezed(body: Sequence[Transform], split: ChannelSplit | None = None) -> list[Transform]:
    """One scale, base → data: squeeze, ``split`` (which factors out the channels that the
    following scales leave alone; none at the last scale), ``body`` on the squeezed
    tensor, unsqueeze. Read data → base: squeeze, body, factor out, unsqueeze."""
    return [Squeeze(), *([] if split is None else [split]), *body, Squeeze().inv]


def check_image_shape(shape: tuple[int, ...], name: str, value: int, squeezes: int) -> None:
    """Raise an ``ArgumentError`` unless ``shape`` is (C, H, W) with H and W divisible by
    2^``squeezes``, the number of squeezes that the argument ``name`` = ``value`` asks for."""
    if len(shape) != 3:
        raise ArgumentError(f"this flow takes images (C, H, W), got event_shape {shape}")
    side = 2**squeezes
    if shape[1] % side or shape[2] % side:
        raise ArgumentError(
            f"with {name}={value}, H and W must be divisible by {side}, got event_shape "
            f"{shape}; use a smaller {name}"
        )
