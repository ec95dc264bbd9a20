"""Masked coupling layers: NICE's additive coupling and RealNVP's affine coupling on images,
and the softly bounded hyper-network of RealNVP's affine coupling on vectors.

A binary mask b splits the input: the values where b = 1 pass unchanged and condition a
network that moves the others. The Jacobian is triangular up to a permutation, so its
log-determinant is a sum of log-scales, and the inverse is one pass of the same network
(b ⊙ y = b ⊙ x). Pyro's ``AffineCoupling`` splits a tensor into two contiguous blocks;
the checkerboard mask of RealNVP on images interleaves them, hence this module. On
vectors, Pyro's ``AffineCoupling`` is used as it is, with ``SoftBoundedDenseNN`` as its
network: Pyro bounds the log-scale with a hard clamp only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from pyro.distributions import constraints
from pyro.distributions.torch_transform import TransformModule
from pyro.nn import DenseNN
from torch import nn


def checkerboard_mask(shape: Sequence[int], parity: int) -> torch.Tensor:
    """b[c, i, j] = 1 where (i + j) mod 2 = ``parity``, for an image of ``shape`` (C, H, W).

    Tests: tests/models/test_flows_transforms.py (the two parities partition the image).
    """
    _, height, width = shape
    i = torch.arange(height).unsqueeze(-1)
    j = torch.arange(width)
    return ((i + j) % 2 == parity).to(torch.get_default_dtype()).expand(*shape).clone()


def channel_mask(shape: Sequence[int], parity: int) -> torch.Tensor:
    """b[c, i, j] = 1 on the first half of the C channels (``parity`` 0) or the second (1).

    Tests: tests/models/test_flows_transforms.py (the two parities partition the image).
    """
    channels = shape[0]
    first = torch.arange(channels) < channels // 2
    keep = first if parity == 0 else ~first
    return keep.to(torch.get_default_dtype()).reshape(-1, 1, 1).expand(*shape).clone()


def coupling_net(channels: int, hidden: int) -> nn.Sequential:
    """3×3 conv → ReLU → 1×1 conv → ReLU → 3×3 conv to 2·C channels (ŝ, t).

    The last layer starts at zero, so that a new coupling layer is the identity.
    """
    last = nn.Conv2d(hidden, 2 * channels, 3, padding=1)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(
        nn.Conv2d(channels, hidden, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(hidden, hidden, 1),
        nn.ReLU(),
        last,
    )


class MaskedAffineCoupling(TransformModule):
    """RealNVP's affine coupling with a mask b on images (C, H, W):

        y = b ⊙ x + (1 − b) ⊙ (x ⊙ exp(s) + t),   (ŝ, t) = NN(b ⊙ x),  s = σ ⊙ tanh(ŝ),
        log|det ∂y/∂x| = Σ (1 − b) ⊙ s,           x = b ⊙ y + (1 − b) ⊙ (y − t) ⊙ exp(−s).

    σ is a learned scale per channel (starting at 1): tanh bounds the log-scale to
    (−σ, σ), which keeps early training stable. ``mask`` comes from ``checkerboard_mask``
    or ``channel_mask``; ``net`` defaults to ``coupling_net(C, hidden)``.

    Tests: tests/models/test_flows_transforms.py (inverse; log-det against the autograd
    Jacobian with both masks).
    """

    domain = constraints.independent(constraints.real, 3)
    codomain = constraints.independent(constraints.real, 3)
    bijective = True

    def __init__(self, mask: torch.Tensor, hidden: int = 32, net: nn.Module | None = None):
        super().__init__(cache_size=1)
        channels = mask.shape[0]
        self.register_buffer("mask", mask)
        self.net = coupling_net(channels, hidden) if net is None else net
        self.scale = nn.Parameter(torch.ones(channels, 1, 1))
        self._saved: tuple | None = None

    def shift_and_log_scale(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(t, s) of the coupling at ``x``, zero where the mask passes values through."""
        batch = x.shape[:-3]
        out = self.net((self.mask * x).reshape(-1, *x.shape[-3:]))
        raw_log_scale, shift = out.reshape(*batch, *out.shape[-3:]).chunk(2, dim=-3)
        moved = 1 - self.mask
        return moved * shift, moved * self.scale * torch.tanh(raw_log_scale)

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        shift, log_scale = self.shift_and_log_scale(x)
        y = x * torch.exp(log_scale) + shift
        self._saved = (x, y, log_scale)
        return y

    def _inverse(self, y: torch.Tensor) -> torch.Tensor:
        shift, log_scale = self.shift_and_log_scale(y)
        x = (y - shift) * torch.exp(-log_scale)
        self._saved = (x, y, log_scale)
        return x

    def log_abs_det_jacobian(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self._saved is not None and x is self._saved[0] and y is self._saved[1]:
            log_scale = self._saved[2]
        else:
            log_scale = self.shift_and_log_scale(x)[1]
        return log_scale.sum((-3, -2, -1))

    def clear_cache(self) -> None:
        super().clear_cache()
        self._saved = None


class AdditiveCoupling(TransformModule):
    """NICE's additive coupling on vectors (Dinh et al., 2015), with a mask b ∈ {0, 1}^D:

        y = x + (1 − b) ⊙ m(b ⊙ x),   log|det ∂y/∂x| = 0,   x = y − (1 − b) ⊙ m(b ⊙ y).

    m is an MLP (Pyro's ``DenseNN``) with ``hidden`` widths.

    Tests: tests/models/test_flows_transforms.py (inverse; zero log-det against the
    autograd Jacobian).
    """

    domain = constraints.real_vector
    codomain = constraints.real_vector
    bijective = True

    def __init__(self, mask: torch.Tensor, hidden: Sequence[int] = (128, 128)):
        super().__init__(cache_size=1)
        dim = mask.shape[-1]
        self.register_buffer("mask", mask)
        self.net = DenseNN(dim, list(hidden), param_dims=[dim])

    def shift(self, x: torch.Tensor) -> torch.Tensor:
        """(1 − b) ⊙ m(b ⊙ x)."""
        return (1 - self.mask) * self.net(self.mask * x)

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.shift(x)

    def _inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y - self.shift(y)

    def log_abs_det_jacobian(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(x.shape[:-1])


class SoftBoundedDenseNN(DenseNN):
    """Pyro's ``DenseNN`` (ReLU MLP with ``hidden`` widths) from ``in_dim`` values to the
    shift μ and the log-scale s of ``out_dim`` values, the log-scale bounded softly:

        (μ, ŝ) = MLP(x),   s = ŝ / (1 + |ŝ| / c),   c = ``bound``,

    so that s ∈ (−c, c), s ≈ ŝ near 0 and ds/dŝ = 1 / (1 + |ŝ| / c)² shrinks smoothly as
    |ŝ| grows, where a hard clamp keeps the full gradient up to the bound. The default
    c = ln 1000 is zuko's ``MonotonicAffineTransform`` (scales in (10⁻³, 10³)). It is the
    hypernet of Pyro's ``AffineCoupling``, whose own hard clamp must then be ±c or wider.

    Tests: tests/models/test_flows_models.py (VectorRealNVP against zuko's RealNVP with
    the same weights).
    """

    def __init__(
        self, in_dim: int, hidden: Sequence[int], out_dim: int, bound: float = math.log(1000)
    ):
        super().__init__(in_dim, list(hidden), param_dims=[out_dim, out_dim])
        self.bound = bound

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shift, log_scale = super().forward(x)
        return shift, log_scale / (1 + log_scale.abs() / self.bound)
