"""Langevin samplers for energy and score functions that are not programs (torch).

An energy-based model gives p(x) ∝ exp(−U(x)) through its potential U (``potential_fn``),
a score model gives only s(x) = ∇log p(x) (``score_fn``); as NumPyro's kernels take
``model=`` or ``potential_fn=``, these samplers take exactly one of the two, by keyword.
From a potential, ∇log p = −∇U comes from autograd. Both run ``x0.shape[0]`` chains at
once, batched over the leading dimension of ``x0``, with the torch Langevin step of
``langevin.py`` (m = 1):

    x ← x + η ∇log p(x) + √(2η) ξ,    ξ ~ N(0, I).

``langevin`` runs it at one step size, unadjusted (ULA) or metropolized (MALA, which
needs log p and so a potential); ``annealed_langevin`` through a decreasing ladder of
noise levels (Song & Ermon, 2019). Tests: tests/inference/test_langevin.py (ULA's exact
stationary variance, MALA's lack of bias, a Gaussian mixture's moments).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch

from probgen.checks import at_least, positive_float
from probgen.errors import ArgumentError
from probgen.inference.langevin import LangevinState, step_torch


class LangevinResult(NamedTuple):
    """Final samples of ``langevin`` and each chain's mean acceptance probability.

    ``acceptance_rate`` is 1 for every chain of the unadjusted sampler.
    """

    samples: torch.Tensor
    acceptance_rate: torch.Tensor


def langevin(
    x0: torch.Tensor,
    steps: int,
    step_size: float,
    *,
    potential_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
    score_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
    metropolize: bool = False,
    generator: torch.Generator | None = None,
) -> LangevinResult:
    """Run ``x0.shape[0]`` Langevin chains for ``steps`` steps of size η = ``step_size``.

    ``potential_fn(x)`` = U(x), one potential per chain (p ∝ exp(−U)); ``score_fn(x)`` =
    ∇log p(x), shaped like ``x``: give exactly one. The update is
    x ← x + η∇log p(x) + √(2η)ξ (ULA); ``metropolize=True`` accepts it with the MALA
    probability, which needs log p and so ``potential_fn``. ULA's stationary law is biased
    by O(η): on N(0, s²) its variance is s²/(1 − η/(2s²)) exactly; MALA's is p itself.
    """
    _check_start(x0)
    at_least("steps", steps, 1)
    positive_float("step_size", step_size)
    logdensity_and_grad = _logdensity_and_grad(potential_fn, score_fn)
    if metropolize and score_fn is not None:
        raise ArgumentError(
            "metropolize=True needs log p, which a score does not give: pass the energy "
            "U = −log p as potential_fn= instead of score_fn=, or metropolize=False"
        )
    state = LangevinState(x0.detach(), *logdensity_and_grad(x0))
    total = torch.zeros(x0.shape[0], dtype=x0.dtype, device=x0.device)
    with torch.no_grad():
        for _ in range(steps):
            state, accept_prob = step_torch(
                state, logdensity_and_grad, step_size, 1.0, metropolize, generator
            )
            total += accept_prob
    return LangevinResult(state.position, total / steps)


def annealed_langevin(
    x0: torch.Tensor,
    sigmas: torch.Tensor | Sequence[float],
    steps_per_level: int,
    eps: float,
    *,
    potential_fn: Callable[[torch.Tensor, float], torch.Tensor] | None = None,
    score_fn: Callable[[torch.Tensor, float], torch.Tensor] | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Annealed Langevin dynamics (Song & Ermon, 2019, Algorithm 1).

    For each noise level σ_1 > … > σ_L, with α_i = ε σ_i² / σ_L², ``steps_per_level`` times

        x ← x + (α_i / 2) s(x, σ_i) + √α_i ξ,    ξ ~ N(0, I),

    the unadjusted Langevin step with η = α_i / 2, where s(x, σ) ≈ ∇log p_σ(x) is the
    score of the data law smoothed by N(0, σ² I): ``score_fn(x, σ)``, or −∇U(x, σ) from
    ``potential_fn(x, σ)`` = U(x, σ) (one per chain). Give exactly one. Returns the final
    samples, batched like ``x0``.
    """
    _check_start(x0)
    at_least("steps_per_level", steps_per_level, 1)
    positive_float("eps", eps)
    sigmas = [float(s) for s in sigmas]
    if not sigmas or not all(s > 0 for s in sigmas):
        raise ArgumentError(f"sigmas must be one or more noise levels > 0, got {sigmas}")
    _logdensity_and_grad(potential_fn, score_fn)  # exactly one of the two
    x = x0.detach()
    with torch.no_grad():
        for sigma in sigmas:
            eta = eps * sigma**2 / sigmas[-1] ** 2 / 2
            logdensity_and_grad = _logdensity_and_grad(
                _at_level(potential_fn, sigma), _at_level(score_fn, sigma)
            )
            state = LangevinState(x, *logdensity_and_grad(x))
            for _ in range(steps_per_level):
                state, _ = step_torch(state, logdensity_and_grad, eta, 1.0, False, generator)
            x = state.position
    return x


def _check_start(x0: torch.Tensor) -> None:
    if not isinstance(x0, torch.Tensor) or x0.dim() < 2:
        shape = tuple(x0.shape) if isinstance(x0, torch.Tensor) else type(x0).__name__
        raise ArgumentError(
            f"x0 must be a tensor of starting points shaped (chains, *event_shape), got "
            f"{shape}: for scalar positions pass x0[:, None]"
        )


def _at_level(fn: Callable | None, sigma: float) -> Callable | None:
    """x ↦ fn(x, σ), or None without ``fn``."""
    return None if fn is None else (lambda x: fn(x, sigma))


def _logdensity_and_grad(
    potential_fn: Callable | None, score_fn: Callable | None
) -> Callable[[torch.Tensor], tuple[torch.Tensor | None, torch.Tensor]]:
    """x ↦ (log p(x), ∇log p(x)) from the potential, or (None, s(x)) from the score."""
    if (potential_fn is None) == (score_fn is None):
        given = "both" if potential_fn is not None else "neither"
        raise ArgumentError(
            f"pass exactly one of potential_fn= (the energy U = −log p, differentiated by "
            f"autograd) and score_fn= (∇log p); got {given}"
        )
    if score_fn is not None:

        def from_score(x):
            with torch.no_grad():
                return None, score_fn(x)

        return from_score

    def from_potential(x):
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            energy = potential_fn(x)
            (grad,) = torch.autograd.grad(energy.sum(), x)
        return -energy.detach(), -grad

    return from_potential
