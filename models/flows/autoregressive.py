"""MAF and IAF: affine autoregressive flows on MADE (Papamakarios et al., 2017;
Kingma et al., 2016).

Both stack Pyro's ``AffineAutoregressive`` on ``AutoRegressiveNN`` (MADE, each with its
own random order of the coordinates): u_i = μ_i(u_{<i}) + exp(α_i(u_{<i})) v_i, whose
Jacobian is triangular, log|det| = Σ_i α_i. The two differ in which direction is one
network pass. Pyro's transform maps v → u in one pass and u → v in D passes, so:

- MAF reads it data → base, v = x: log p(x) is one pass (density estimation), a draw
  takes D passes;
- IAF reads it base → data, v = z: a draw is one pass (and log p of its own draws is
  free), log p(x) of other data takes D passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pyro.distributions.transforms import AffineAutoregressive
from pyro.nn import AutoRegressiveNN
from torch import nn
from torch.distributions.transforms import Transform

from probgen import checks
from probgen.errors import ArgumentError
from probgen.models.flows.model import FlowModel


class AutoregressiveFlow(FlowModel):
    """``layers`` affine autoregressive layers on events flattened to D values, each MADE
    with two hidden layers of ``hidden`` ≥ D units; ``sampling_direction`` picks IAF.

    Tests: tests/models/test_flows_models.py.
    """

    sampling_direction: ClassVar[bool]

    def __init__(
        self,
        event_shape: int | Sequence[int] = (2,),
        hidden: int = 128,
        layers: int = 5,
        logit_alpha: float | None = None,
    ):
        super().__init__(event_shape, logit_alpha)
        checks.positive_int("layers", layers)
        if checks.positive_int("hidden", hidden) < self.dim:
            raise ArgumentError(
                f"MADE needs hidden ≥ D = {self.dim} units to connect every input, got "
                f"hidden={hidden}; pass hidden={self.dim} or more"
            )
        self.made = nn.ModuleList(
            AffineAutoregressive(AutoRegressiveNN(self.dim, [hidden, hidden]))
            for _ in range(layers)
        )

    def body(self) -> list[Transform]:
        """Base → data: the layers as they are (IAF) or inverted (MAF)."""
        if self.sampling_direction:
            return self.vectorized(list(self.made))
        return self.vectorized([t.inv for t in reversed(self.made)])


class MAF(AutoregressiveFlow):
    """Masked autoregressive flow: log p(x) in one MADE pass per layer."""

    sampling_direction = False


class IAF(AutoregressiveFlow):
    """Inverse autoregressive flow: a draw in one MADE pass per layer."""

    sampling_direction = True
