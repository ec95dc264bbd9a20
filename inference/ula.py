"""ULA, the unadjusted Langevin algorithm, for Pyro and NumPyro programs.

x ← x + η∇log p(x) + √(2η)ξ, ξ ~ N(0, I), with a fixed step η and no accept/reject step
(Roberts & Tweedie, 1996). The chain's stationary law is p only as η → 0: on N(0, s²) its
variance is s² / (1 − η / (2s²)), which the tests check. The kernels are MALA's
(``langevin_kernels.py``) running the unadjusted step of ``langevin.py``; they report an
acceptance rate of 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from probgen.inference.langevin_kernels import langevin_kernel
from probgen.programs import Program


@dataclass(frozen=True)
class ULA:
    """Unadjusted Langevin with the fixed step ``step_size`` (η); ``jit_compile`` as MALA's."""

    step_size: float
    jit_compile: bool = False
    name = "ula"

    def kernel(self, program: Program, init: str | dict[str, Any] | None) -> Callable[[], Any]:
        """A factory of fresh library kernels for ``program``, one per chain."""
        return langevin_kernel(
            program,
            init,
            step_size=self.step_size,
            metropolize=False,
            adapt_mass=False,
            jit_compile=self.jit_compile,
        )
