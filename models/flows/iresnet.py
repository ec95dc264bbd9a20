"""i-ResNet, the invertible residual network as a flow (Behrmann et al., 2019).

Data → base, z = F_L ∘ … ∘ F_1(x) with residual blocks F(x) = x + g(x), Lip(g) < 1
(``residual.py``), so log p(x) = log N(z; 0, I) + Σ_l log det(I + J_{g_l}). Training
uses the truncated power series with Hutchinson traces (one probe per example);
``log_likelihood`` switches every block to the exact log-determinant, the full
Jacobian's slogdet, which is affordable for the digits' D = 64. A draw inverts each
block by fixed-point iteration.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn
from torch.distributions.transforms import Transform

from probgen import checks
from probgen.models.flows.model import FlowModel
from probgen.models.flows.residual import InvertibleResidual


class IResNet(FlowModel):
    """``blocks`` invertible residual blocks on events flattened to D values; each g has
    ``depth`` hidden layers of ``hidden`` units, spectral norm scaled to ``coeff`` < 1.

    ``log_det`` (``"hutchinson"``, ``"series"`` or ``"exact"``) and ``terms`` set how
    ``log_prob`` computes each log det(I + J_g); ``log_likelihood`` is always exact.

    Tests: tests/models/test_flows_models.py.
    """

    def __init__(
        self,
        event_shape: int | Sequence[int] = (2,),
        hidden: int = 64,
        depth: int = 2,
        blocks: int = 4,
        coeff: float = 0.9,
        log_det: str = "hutchinson",
        terms: int = 8,
        activation: str = "lipswish",
        logit_alpha: float | None = None,
    ):
        super().__init__(event_shape, logit_alpha)
        checks.positive_int("blocks", blocks)
        self.blocks = nn.ModuleList(
            InvertibleResidual(
                self.dim, hidden, depth, coeff, activation, log_det=log_det, terms=terms
            )
            for _ in range(blocks)
        )

    def body(self) -> list[Transform]:
        """Base → data: the blocks inverted (fixed-point iterations), last first."""
        return self.vectorized([b.inv for b in reversed(self.blocks)])

    @contextmanager
    def exact_log_det(self) -> Iterator[None]:
        """Within it, every block computes log det(I + J_g) exactly."""
        modes = [b.log_det for b in self.blocks]
        try:
            for b in self.blocks:
                b.log_det = "exact"
            yield
        finally:
            for b, mode in zip(self.blocks, modes, strict=True):
                b.log_det = mode

    def log_likelihood(self, x: torch.Tensor) -> torch.Tensor:
        """The exact log p(x_i) per example (exact log-determinants), without gradients."""
        with self.exact_log_det():
            return super().log_likelihood(x)
