"""Neural spline flows (Durkan et al., 2019) from Pyro's spline transforms.

Each layer maps every coordinate through a monotonic rational-quadratic spline of
``bins`` segments on [−B, B] (the identity outside), whose knots come from a network:
of the other half of the coordinates (``spline_coupling``: one pass both ways), or of
the preceding coordinates (``spline_autoregressive``, read data → base as in MAF, so
that log p(x) is one pass). log|det| is the sum of the splines' log-derivatives.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from pyro.distributions.transforms import spline_autoregressive, spline_coupling
from torch import nn
from torch.distributions.transforms import Transform

from probgen import checks
from probgen.errors import ArgumentError
from probgen.models.flows.model import FlowModel, with_flips

KINDS = ("coupling", "autoregressive")


class NSF(FlowModel):
    """A neural spline flow on events flattened to D ≥ 2 values: ``layers`` spline layers
    of ``kind`` ``"coupling"`` (order reversed between layers) or ``"autoregressive"``,
    networks of two hidden layers of ``hidden`` units (≥ D for the autoregressive kind),
    ``bins`` segments on [−``bound``, ``bound``].

    Tests: tests/models/test_flows_models.py.
    """

    def __init__(
        self,
        event_shape: int | Sequence[int] = (2,),
        hidden: int = 64,
        layers: int = 4,
        bins: int = 8,
        bound: float = 4.0,
        kind: str = "coupling",
        logit_alpha: float | None = None,
    ):
        super().__init__(event_shape, logit_alpha)
        checks.positive_int("hidden", hidden)
        checks.positive_int("layers", layers)
        checks.positive_int("bins", bins)
        checks.positive_float("bound", bound)
        if kind not in KINDS:
            raise ArgumentError(f"kind must be one of {KINDS}, got {kind!r}")
        if self.dim < 2:
            raise ArgumentError(f"NSF needs events of 2 or more values, got {self.event_shape}")
        if kind == "autoregressive" and hidden < self.dim:
            raise ArgumentError(f"hidden must be ≥ D = {self.dim} for kind='autoregressive'")
        self.kind = kind
        make = spline_coupling if kind == "coupling" else spline_autoregressive
        self.splines = nn.ModuleList(
            make(self.dim, hidden_dims=[hidden, hidden], count_bins=bins, bound=bound)
            for _ in range(layers)
        )
        self.register_buffer("flip", torch.arange(self.dim - 1, -1, -1))

    def body(self) -> list[Transform]:
        """Base → data: couplings with reversals in between, or autoregressive layers inverted."""
        if self.kind == "coupling":
            return self.vectorized(with_flips(self.splines, self.flip))
        return self.vectorized([t.inv for t in reversed(self.splines)])
