"""SGLD, stochastic-gradient Langevin dynamics (Welling & Teh, 2011), for Pyro and NumPyro.

On the unconstrained latents x (flattened to one vector), transition t is

    x_{t+1} = x_t + η_t ∇log p̂_t(x_t) + √(2η_t) ξ_t,    ξ_t ~ N(0, I),
    η_t = a (b + t)^(−γ),

with no accept/reject step, where log p̂_t is the log density on a fresh minibatch:

    log p̂_t(x) = log p(x) + (N / B) Σ_{i ∈ S_t} log p(y_i | x),    |S_t| = B,

an unbiased estimate of the full log density. The minibatch comes from the program: the
user writes ``with plate("data", N, subsample_size=B) as idx:`` and indexes the data with
``idx``; both libraries then draw S_t afresh on every run of the model and scale the
likelihood by N/B. The NumPyro kernel runs the model under ``seed`` with a new key at every
step; the Pyro kernel's potential re-runs the model, whose plate draws S_t from torch's RNG.

Welling & Teh write the update with η_t/2 on the drift and noise N(0, η_t); here η is the
Langevin step of ``langevin.py`` (drift η, noise variance 2η), so their ε_t = 2η_t. The
schedule needs Σ η_t = ∞ and Σ η_t² < ∞, that is 0.5 < γ ≤ 1 (γ = 0: a constant step).
t counts every transition, warm-up included (t = 0 is the first warm-up step), so the
kept draw k of a run with W warm-up steps was made with η_{W+k}: warm-up is the large-step
burn-in of the same decaying schedule, not an adaptation phase. The kernels
(``sgld_numpyro``, ``sgld_pyro``) subclass the Langevin kernels of ``langevin_kernels.py``
and run the step ``step_jax`` / ``step_torch`` unadjusted; they report η_t as ``step_size``
and an acceptance rate of 1 per draw (0 where a proposal with log p̂ = −∞ or NaN, outside
the support, was rejected).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from probgen import lazy
from probgen.errors import ArgumentError
from probgen.initialization import init_strategy
from probgen.programs import Program

sgld_numpyro = lazy.load("probgen.inference.sgld_numpyro", globals())
sgld_pyro = lazy.load("probgen.inference.sgld_pyro", globals())


@dataclass(frozen=True)
class SGLD:
    """Stochastic-gradient Langevin with the step η_t = a (b + t)^(−γ), a = ``step_size``.

    Subsample the data in the program (``plate(..., subsample_size=B)``) to get stochastic
    gradients; without a subsample plate this is ULA with a decaying step.
    """

    step_size: float = 1e-3
    b: float = 10.0
    gamma: float = 0.55
    name = "sgld"

    def __post_init__(self) -> None:
        if not self.step_size > 0 or not self.b > 0:
            raise ArgumentError(f"step_size and b must be > 0, got {self.step_size}, {self.b}")
        if not 0 <= self.gamma <= 1:
            raise ArgumentError(f"gamma must lie in [0, 1], got {self.gamma}")

    def step_size_at(self, t: Any) -> Any:
        """η_t = a (b + t)^(−γ) for transition t (an int, an array or a tensor)."""
        return self.step_size * (self.b + t) ** (-self.gamma)

    def kernel(self, program: Program, init: str | dict[str, Any] | None) -> Callable[[], Any]:
        """A factory of fresh library kernels for ``program``, one per chain."""
        strategy = init_strategy(program.backend, init, program.site_names("latent"))
        if program.backend == "pyro":
            nesting = program.max_plate_nesting
            return lambda: sgld_pyro.PyroSGLD(
                program.model, self, init_strategy=strategy, max_plate_nesting=nesting
            )
        return lambda: sgld_numpyro.NumPyroSGLD(program.model, self, init_strategy=strategy)


# the library kernels, from the module of their library
__getattr__, __dir__ = lazy.attributes(
    __name__,
    {
        "NumPyroSGLD": "probgen.inference.sgld_numpyro",
        "NumPyroSGLDState": "probgen.inference.sgld_numpyro",
        "PyroSGLD": "probgen.inference.sgld_pyro",
    },
)
