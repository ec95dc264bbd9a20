"""Metropolis–Hastings: the pure step shared by every MH kernel, and random-walk MH.

The step (BlackJAX style: a pure function of a state, ``step_jax`` and ``step_torch``)
takes a proposal y ~ g(· | x) and accepts it with probability

    α(x, y) = min(1, p̃(y) g(x | y) / (p̃(x) g(y | x))),

where p̃ is the unnormalised target density and ``log_proposal_ratio(x, y)`` is
log g(x | y) − log g(y | x) (None for a symmetric proposal, where it is zero); the
accept/reject itself is ``metropolis.py``'s, which the Langevin step shares. The resulting
transition kernel T satisfies detailed balance, p(x) T(x → y) = p(y) T(y → x);
tests/inference/test_mh.py checks the flows π_i T_ij = π_j T_ji on a five-state chain.

``RandomWalk`` is Gaussian random-walk Metropolis on the unconstrained space of a Pyro
or NumPyro program: y = x + σ ε, ε ~ N(0, I). Warm-up adapts log σ by Robbins–Monro,

    log σ_{t+1} = log σ_t + (t + 1)^(−0.6) (α_t − α*),

towards the acceptance rate α* = ``target_accept`` (0.234, Roberts, Gelman & Gilks
1997), and then freezes σ. The generic kernels (``mh_numpyro.NumPyroMH``, ``mh_pyro.PyroMH``) take
the proposal as a ``make_proposal`` function, so ``independence.py`` reuses them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from probgen import lazy
from probgen.inference.metropolis import accept_jax, accept_torch
from probgen.initialization import init_strategy
from probgen.programs import Program

jax = lazy.load("jax", globals())
mh_numpyro = lazy.load("probgen.inference.mh_numpyro", globals())
mh_pyro = lazy.load("probgen.inference.mh_pyro", globals())
torch = lazy.load("torch", globals())

# make_proposal(sites, unravel) -> (propose(key, x, σ) or propose(x, σ), log_ratio or None)
MakeProposal = Callable[[dict[str, Any], Callable], tuple[Callable, Callable | None]]


class MHState(NamedTuple):
    """A position and its log density log p̃(x) (arrays of JAX or torch)."""

    position: Any
    logdensity: Any


class MHInfo(NamedTuple):
    """The acceptance probability α(x, y) of the last proposal, and whether it was taken."""

    accept_prob: Any
    accepted: Any


def step_jax(
    key: jax.Array,
    state: MHState,
    logdensity_fn: Callable,
    propose_fn: Callable,
    log_proposal_ratio: Callable | None = None,
) -> tuple[MHState, MHInfo]:
    """One MH transition in JAX: y = propose_fn(key, x), accepted with probability α(x, y).

    ``log_proposal_ratio(x, y)`` = log g(x | y) − log g(y | x); None means symmetric.
    A NaN log-acceptance (e.g. −∞ − (−∞)) rejects.
    """
    key_propose, key_accept = jax.random.split(key)
    proposal = propose_fn(key_propose, state.position)
    logdensity = logdensity_fn(proposal)
    log_alpha = logdensity - state.logdensity
    if log_proposal_ratio is not None:
        log_alpha = log_alpha + log_proposal_ratio(state.position, proposal)
    new, accept_prob, accepted = accept_jax(
        key_accept, log_alpha, MHState(proposal, logdensity), state
    )
    return new, MHInfo(accept_prob, accepted)


def step_torch(
    state: MHState,
    logdensity_fn: Callable,
    propose_fn: Callable,
    log_proposal_ratio: Callable | None = None,
) -> tuple[MHState, MHInfo]:
    """One MH transition in torch (torch's global RNG): as ``step_jax``, y = propose_fn(x).

    The log density may carry batch dimensions (independent chains) that lead the
    position's shape; each chain accepts or rejects on its own.
    """
    proposal = propose_fn(state.position)
    logdensity = logdensity_fn(proposal)
    log_alpha = logdensity - state.logdensity
    if log_proposal_ratio is not None:
        log_alpha = log_alpha + log_proposal_ratio(state.position, proposal)
    new, accept_prob, accepted = accept_torch(log_alpha, MHState(proposal, logdensity), state)
    return new, MHInfo(accept_prob, accepted)


def adapt_log_scale(log_scale, accept_prob, t, target: float):
    """Robbins–Monro: log σ_{t+1} = log σ_t + (t + 1)^(−0.6) (α_t − target)."""
    return log_scale + (t + 1.0) ** -0.6 * (accept_prob - target)


def _random_walk_jax(sites: dict[str, Any], unravel: Callable):
    return (lambda key, x, scale: x + scale * jax.random.normal(key, x.shape, x.dtype)), None


def _random_walk_torch(sites: dict[str, Any], unravel: Callable):
    return (lambda x, scale: x + scale * torch.randn_like(x)), None


@dataclass(frozen=True)
class RandomWalk:
    """Gaussian random-walk Metropolis on the unconstrained space (see the module doc).

    α(x, y) = min(1, p̃(y) / p̃(x)) with y = x + σ ε. ``scale=None`` starts at
    σ = 2.38 / √d and adapts it during warm-up towards ``target_accept``; a number fixes σ.
    ``jit_compile`` (Pyro programs) compiles the potential with the PyTorch JIT.
    """

    scale: float | None = None
    target_accept: float = 0.234
    jit_compile: bool = False
    name = "mh"

    def kernel(self, program: Program, init: str | dict[str, Any] | None) -> Callable[[], Any]:
        """A factory of fresh library kernels for ``program``, one per chain."""
        strategy = init_strategy(program.backend, init, program.site_names("latent"))
        target = self.target_accept if self.scale is None else None
        options = dict(init_strategy=strategy, scale=self.scale, target_accept=target)
        if program.backend == "pyro":
            nesting, jit = program.max_plate_nesting, self.jit_compile
            return lambda: mh_pyro.PyroMH(
                program.model, _random_walk_torch, nesting, jit_compile=jit, **options
            )
        return lambda: mh_numpyro.NumPyroMH(program.model, _random_walk_jax, **options)


# the library kernels, from the module of their library
__getattr__, __dir__ = lazy.attributes(
    __name__,
    {
        "NumPyroMH": "probgen.inference.mh_numpyro",
        "NumPyroState": "probgen.inference.mh_numpyro",
        "PyroMH": "probgen.inference.mh_pyro",
    },
)
