"""NICE, non-linear independent components estimation (Dinh et al., 2015).

x (flattened to D values) → additive couplings that take turns at the even and the odd
coordinates → a diagonal scaling exp(s) → z ~ N(0, I). The couplings preserve volume,
so log p(x) = log N(z; 0, I) + Σ_d s_d.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions.transforms import Transform

from probgen import checks
from probgen.errors import ArgumentError
from probgen.models.flows.coupling import AdditiveCoupling
from probgen.models.flows.model import FlowModel
from probgen.models.flows.scaling import DiagonalScaling


class NICE(FlowModel):
    """NICE on events of ``event_shape``, flattened to D ≥ 2 values.

    Data → base: ``couplings`` additive couplings y = x + (1 − b) ⊙ m(b ⊙ x), with b the
    even coordinates in one layer and the odd ones in the next and m an MLP of ``depth``
    hidden layers of width ``hidden``; then z = exp(s) ⊙ y. The scaling is the last
    layer read data → base, the first read base → data.

    Tests: tests/models/test_flows_models.py.
    """

    def __init__(
        self,
        event_shape: int | Sequence[int] = (1, 8, 8),
        hidden: int = 128,
        depth: int = 2,
        couplings: int = 4,
        logit_alpha: float | None = None,
    ):
        super().__init__(event_shape, logit_alpha)
        checks.positive_int("hidden", hidden)
        checks.positive_int("depth", depth)
        checks.positive_int("couplings", couplings)
        if self.dim < 2:
            raise ArgumentError(f"NICE needs events of 2 or more values, got {self.event_shape}")
        even = (torch.arange(self.dim) % 2 == 0).to(torch.get_default_dtype())
        masks = [even if k % 2 == 0 else 1 - even for k in range(couplings)]
        self.couplings = nn.ModuleList(AdditiveCoupling(b, [hidden] * depth) for b in masks)
        self.scaling = DiagonalScaling((self.dim,))

    def body(self) -> list[Transform]:
        """Base → data: exp(−s) ⊙ z, then the couplings inverted, last first."""
        return self.vectorized([self.scaling.inv, *(c.inv for c in reversed(self.couplings))])
