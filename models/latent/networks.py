"""The default networks of the VAE family: MLPs, and MLPs with a diagonal-Gaussian head.

Every model takes its networks as constructor arguments (an image model can swap in
conv nets); these are what it builds when none is given. The interfaces are:

- a *Gaussian network* maps its input u (and an optional context c, such as a one-hot
  label) to a distribution over a latent vector, e.g. q(z | x) or p(z₁ | z₂);
- a *decoder* maps z (and c) to the parameters of p(x | z), shaped (..., *out_shape).

Inputs may carry extra leading dimensions (the particle dimension of vectorized
importance sampling); the context is broadcast over them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyro.distributions as dist
import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    """f(u, c) = L_n(relu(… relu(L_1([flatten(u), c])))), reshaped to ``out_shape``.

    u has shape (..., *in_shape) and is flattened over its last ``len(in_shape)`` dims;
    c, when the net was built with ``context_dim > 0``, has shape (..., context_dim).
    ``hidden`` lists the widths of the hidden layers (empty: one affine map).
    Tests: tests/models/test_latent_gaussian.py (as the linear decoders there).
    """

    def __init__(
        self,
        in_shape: tuple[int, ...],
        hidden: Sequence[int],
        out_shape: tuple[int, ...],
        context_dim: int = 0,
    ):
        super().__init__()
        self.in_dims = len(in_shape)
        self.out_shape = tuple(out_shape)
        sizes = [math.prod(in_shape) + context_dim, *hidden, math.prod(out_shape)]
        layers: list[nn.Module] = []
        for width_in, width_out in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
        self.layers = nn.Sequential(*layers[:-1])

    def forward(self, u: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        # vectors in and out need no reshaping, which would cost a view and its backward
        h = u if self.in_dims == 1 else u.flatten(-self.in_dims)
        if context is not None:
            h = torch.cat([h, context.expand(*h.shape[:-1], context.shape[-1])], dim=-1)
        out = self.layers(h)
        return out if len(self.out_shape) == 1 else out.unflatten(-1, self.out_shape)


class GaussianMLP(nn.Module):
    """q(z | u, c) = N(μ, diag σ²) with (μ, ρ) = MLP(u, c) and σ = softplus(ρ).

    Returns the distribution (batch shape: u's leading dims, event shape (latent_dim,)).
    Tests: tests/models/test_latent_gaussian.py (as the linear-Gaussian guides there).
    """

    def __init__(
        self,
        in_shape: tuple[int, ...],
        hidden: Sequence[int],
        latent_dim: int,
        context_dim: int = 0,
    ):
        super().__init__()
        self.net = MLP(in_shape, hidden, (2 * latent_dim,), context_dim)

    def forward(self, u: torch.Tensor, context: torch.Tensor | None = None) -> dist.Independent:
        loc, raw_scale = self.net(u, context).chunk(2, dim=-1)
        return dist.Normal(loc, F.softplus(raw_scale)).to_event(1)
