"""NICE's diagonal scaling layer (Dinh et al., 2015, §3.3).

Additive couplings preserve volume; one learned scale per dimension lets the flow
change it: y = exp(s) ⊙ x, with log|det ∂y/∂x| = Σ_d s_d. Large s_d mark the directions
that carry the data's variation, small ones those that matter little.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from pyro.distributions import constraints
from pyro.distributions.torch_transform import TransformModule
from torch import nn


class DiagonalScaling(TransformModule):
    """y = exp(s) ⊙ x over an event of ``shape``; log|det ∂y/∂x| = Σ s; x = exp(−s) ⊙ y.

    s starts at 0 (the identity).

    Tests: tests/models/test_flows_transforms.py (inverse; log-det against the autograd
    Jacobian).
    """

    bijective = True

    def __init__(self, shape: Sequence[int]):
        super().__init__(cache_size=1)
        self.log_scale = nn.Parameter(torch.zeros(tuple(shape)))

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> constraints.Constraint:
        return constraints.independent(constraints.real, self.log_scale.dim())

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> constraints.Constraint:
        return constraints.independent(constraints.real, self.log_scale.dim())

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.exp(self.log_scale)

    def _inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * torch.exp(-self.log_scale)

    def log_abs_det_jacobian(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        batch = x.shape[: x.dim() - self.log_scale.dim()]
        return self.log_scale.sum().expand(batch)
