"""The overdamped Langevin step, once in JAX and once in torch (BlackJAX style: a pure
function of a state).

From x, with log density log p, step size η and a diagonal inverse mass matrix M⁻¹ (a
vector m; m = 1 without preconditioning), one step proposes

    x' = x + η m ⊙ ∇log p(x) + √(2η m) ⊙ ξ,    ξ ~ N(0, I),

the Euler–Maruyama step of dx = m ⊙ ∇log p(x) dt + √(2m) dW over a time η, so that
x' ~ q(· | x) = N(x + η m ⊙ ∇log p(x), 2η diag(m)). Unadjusted (ULA, SGLD, the functional
samplers) the step keeps x'; metropolized (MALA, Roberts & Tweedie, 1996) it keeps x'
with probability (``metropolis.py``)

    α = min(1, p(x') q(x | x') / (p(x) q(x' | x))),
    log q(b | a) = −‖(b − a − η m ⊙ ∇log p(a)) / √m‖² / (4η) + const.

``step_jax`` runs one flat JAX position; ``step_torch`` a batch of torch positions (the
leading dimension: chains). The state carries log p and ∇log p at x, so each step
evaluates the density once, at x'. Users: the library kernels of MALA, ULA and SGLD
(``langevin_kernels.py``, ``sgld.py``) and the functional samplers on energies and scores
(``energy_samplers.py``). tests/inference/test_langevin.py checks ULA's exact stationary
variance and MALA's lack of bias; benchmarks/langevin.py runs the same chain as BlackJAX.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from probgen import lazy
from probgen.inference.metropolis import accept_jax, accept_torch

jax = lazy.load("jax", globals())
jnp = lazy.load("jax.numpy", globals())
torch = lazy.load("torch", globals())


class LangevinState(NamedTuple):
    """A position with its log density (None where only the score is known) and score."""

    position: jax.Array | torch.Tensor
    logdensity: jax.Array | torch.Tensor | None
    grad: jax.Array | torch.Tensor


def step_jax(
    key: jax.Array,
    state: LangevinState,
    logdensity_and_grad: Callable,
    step_size: jax.Array,
    inverse_mass: jax.Array,
    metropolize: bool,
) -> tuple[LangevinState, jax.Array]:
    """One Langevin step of a flat JAX position; returns the new state and α (1 unadjusted).

    ``logdensity_and_grad(x)`` = (log p(x), ∇log p(x)); ``inverse_mass`` is m.
    """
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

    log_alpha = logp_y - logp_x + log_q(x, y, grad_y) - log_q(y, x, grad_x)
    new, accept_prob, _ = accept_jax(key_accept, log_alpha, proposal, state)
    return new, accept_prob


def step_torch(
    state: LangevinState,
    logdensity_and_grad: Callable,
    step_size: float | torch.Tensor,
    inverse_mass: float | torch.Tensor = 1.0,
    metropolize: bool = True,
    generator: torch.Generator | None = None,
) -> tuple[LangevinState, torch.Tensor]:
    """One Langevin step of a batch of torch positions; returns the new state and α per chain.

    ``inverse_mass`` (m) broadcasts against one position. Where η and m are both numbers,
    η m is one number and the step skips the elementwise products with m.
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

    log_alpha = logp_y - logp_x + log_q(x, y, grad_y) - log_q(y, x, grad_x)
    new, accept_prob, _ = accept_torch(log_alpha, proposal, state, generator)
    return new, accept_prob
