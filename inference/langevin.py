"""Langevin dynamics: the pure transition in JAX and in torch, and a functional torch API.

One transition from x, with log density log p, step size η and a diagonal inverse mass
matrix M⁻¹ (a vector m; m = 1 without preconditioning), proposes

    x' = x + η m ⊙ ∇log p(x) + √(2η m) ⊙ ξ,    ξ ~ N(0, I),

that is x' ~ q(· | x) = N(x + η m ⊙ ∇log p(x), 2η diag(m)). ULA keeps x' always; MALA
keeps it with probability

    α = min(1, p(x') q(x | x') / (p(x) q(x' | x))),
    log q(b | a) = −‖(b − a − η m ⊙ ∇log p(a)) / √m‖² / (4η) + const.

``jax_step`` and ``torch_step`` are that transition on a flat position (BlackJAX style:
a pure function of the state); the NumPyro and Pyro kernels in ``mala.py`` wrap them.
``langevin`` and ``annealed_langevin`` run torch chains on energy and score functions
that are not programs, batched over the leading dimension of the starting points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import torch


class LangevinState(NamedTuple):
    """A position with its log density (None where only the score is known) and score."""

    position: jax.Array | torch.Tensor
    logdensity: jax.Array | torch.Tensor | None
    grad: jax.Array | torch.Tensor


def jax_step(
    key: jax.Array,
    state: LangevinState,
    logdensity_and_grad: Callable,
    step_size: jax.Array,
    inverse_mass: jax.Array,
    metropolize: bool,
) -> tuple[LangevinState, jax.Array]:
    """One Langevin transition of a flat JAX position; returns the new state and α."""
    key_noise, key_accept = jax.random.split(key)
    x, logp_x, grad_x = state
    noise = jax.random.normal(key_noise, jnp.shape(x), jnp.result_type(x))
    y = x + step_size * inverse_mass * grad_x + jnp.sqrt(2 * step_size * inverse_mass) * noise
    logp_y, grad_y = logdensity_and_grad(y)
    proposal = LangevinState(y, logp_y, grad_y)
    if not metropolize:
        return proposal, jnp.ones((), jnp.result_type(x))

    def log_q(b, a, grad_a):  # log q(b | a) up to a constant
        return -jnp.sum((b - a - step_size * inverse_mass * grad_a) ** 2 / inverse_mass) / (
            4 * step_size
        )

    log_ratio = logp_y - logp_x + log_q(x, y, grad_y) - log_q(y, x, grad_x)
    accept_prob = jnp.where(jnp.isnan(log_ratio), 0.0, jnp.exp(jnp.minimum(log_ratio, 0.0)))
    accept = jax.random.uniform(key_accept) < accept_prob
    new = jax.tree_util.tree_map(lambda a, b: jnp.where(accept, a, b), proposal, state)
    return new, accept_prob


def torch_step(
    state: LangevinState,
    logdensity_and_grad: Callable,
    step_size: float | torch.Tensor,
    inverse_mass: float | torch.Tensor = 1.0,
    metropolize: bool = True,
    generator: torch.Generator | None = None,
) -> tuple[LangevinState, torch.Tensor]:
    """One Langevin transition of a batch of torch positions (leading dimension: chains).

    ``inverse_mass`` broadcasts against one position; returns the new state and α per chain.
    """
    x, logp_x, grad_x = state
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    scaled = step_size * inverse_mass  # a number when both are: one tensor product fewer
    y = x + scaled * grad_x + (2 * scaled) ** 0.5 * noise
    logp_y, grad_y = logdensity_and_grad(y)
    proposal = LangevinState(y, logp_y, grad_y)
    if not metropolize:
        return proposal, torch.ones(x.shape[0], dtype=x.dtype, device=x.device)
    dims = tuple(range(1, x.dim()))

    def log_q(b, a, grad_a):  # log q(b | a) up to a constant, per chain
        gap = (b - a - scaled * grad_a).square()
        if torch.is_tensor(inverse_mass):
            return -(gap / inverse_mass).sum(dims) / (4 * step_size)
        return gap.sum(dims) / (-4 * scaled)  # a number: divide the sums, not each entry

    log_ratio = logp_y - logp_x + log_q(x, y, grad_y) - log_q(y, x, grad_x)
    accept_prob = torch.nan_to_num(log_ratio.clamp(max=0.0).exp(), nan=0.0)
    uniform = torch.rand(x.shape[0], generator=generator, dtype=x.dtype, device=x.device)
    accept = uniform < accept_prob
    keep = accept.reshape(-1, *[1] * (x.dim() - 1))
    new = LangevinState(
        torch.where(keep, y, x),
        torch.where(accept, logp_y, logp_x),
        torch.where(keep, grad_y, grad_x),
    )
    return new, accept_prob


class LangevinResult(NamedTuple):
    """Final samples of ``langevin`` and each chain's mean acceptance probability.

    ``acceptance_rate`` is 1 for every chain of the unadjusted sampler.
    """

    samples: torch.Tensor
    acceptance_rate: torch.Tensor


def langevin(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    steps: int,
    step_size: float,
    *,
    kind: Literal["score", "energy"] = "score",
    metropolize: bool = False,
    generator: torch.Generator | None = None,
) -> LangevinResult:
    """Run ``x0.shape[0]`` Langevin chains for ``steps`` steps of size η = ``step_size``.

    ``kind="score"``: ``fn(x)`` = ∇log p(x), per chain. ``kind="energy"``: ``fn(x)`` = E(x)
    with p ∝ exp(−E), one energy per chain, differentiated by autograd. The update is
    x ← x + η∇log p(x) + √(2η)ξ (ULA); ``metropolize=True`` accepts it with the MALA
    probability, which needs log p and so an energy. ULA's stationary law is biased by
    O(η): on N(0, s²) its variance is s²/(1 − η/(2s²)) exactly; MALA's is p itself.
    """
    if kind not in ("score", "energy"):
        raise ValueError(f"kind must be 'score' or 'energy', got {kind!r}")
    if metropolize and kind == "score":
        raise ValueError("metropolize=True needs log p: pass an energy with kind='energy'")
    if steps < 1 or step_size <= 0:
        raise ValueError(f"steps must be ≥ 1 and step_size > 0, got {steps} and {step_size}")

    def logdensity_and_grad(x):
        if kind == "score":
            with torch.no_grad():
                return None, fn(x)
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            energy = fn(x)
            (grad,) = torch.autograd.grad(energy.sum(), x)
        return -energy.detach(), -grad

    state = LangevinState(x0.detach(), *logdensity_and_grad(x0))
    total = torch.zeros(x0.shape[0], dtype=x0.dtype, device=x0.device)
    with torch.no_grad():
        for _ in range(steps):
            state, accept_prob = torch_step(
                state, logdensity_and_grad, step_size, 1.0, metropolize, generator
            )
            total += accept_prob
    return LangevinResult(state.position, total / steps)


def annealed_langevin(
    score_fn: Callable[[torch.Tensor, float], torch.Tensor],
    sigmas: torch.Tensor | list[float],
    steps_per_level: int,
    eps: float,
    x0: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Annealed Langevin dynamics (Song & Ermon, 2019, Algorithm 1).

    For each noise level σ_1 > … > σ_L, with α_i = ε σ_i² / σ_L², ``steps_per_level`` times

        x ← x + (α_i / 2) s(x, σ_i) + √α_i ξ,    ξ ~ N(0, I),

    where ``score_fn(x, σ)`` = s(x, σ) ≈ ∇log p_σ(x), the score of the data law smoothed
    by N(0, σ² I). Returns the final samples, batched like ``x0``.
    """
    sigmas = [float(s) for s in sigmas]
    x = x0.detach().clone()
    with torch.no_grad():
        for sigma in sigmas:
            alpha = eps * sigma**2 / sigmas[-1] ** 2
            for _ in range(steps_per_level):
                noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
                x = x + alpha / 2 * score_fn(x, sigma) + alpha**0.5 * noise
    return x
