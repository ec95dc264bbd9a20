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
1997), and then freezes σ. The generic kernels below (``NumPyroMH``, ``PyroMH``) take
the proposal as a ``make_proposal`` function, so ``independence.py`` reuses them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import torch
from jax.flatten_util import ravel_pytree

from probgen.inference.flat_numpyro import NumPyroFlatKernel
from probgen.inference.flat_pyro import PyroFlatKernel
from probgen.inference.metropolis import accept_jax, accept_torch
from probgen.initialization import init_strategy
from probgen.programs import Program

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
            return lambda: PyroMH(
                program.model, _random_walk_torch, nesting, jit_compile=jit, **options
            )
        return lambda: NumPyroMH(program.model, _random_walk_jax, **options)


class NumPyroState(NamedTuple):
    """The state of ``NumPyroMH``: step count, unconstrained sites, −log p̃, α, σ, key."""

    i: jax.Array
    z: dict[str, jax.Array]
    potential_energy: jax.Array
    accept_prob: jax.Array
    step_size: jax.Array
    rng_key: jax.Array


class NumPyroMH(NumPyroFlatKernel):
    """MH for a NumPyro program on its unconstrained space, with the proposal of
    ``make_proposal(sites, unravel)``: ``sites`` maps each latent site to its
    distribution, ``unravel`` maps the flat position to ``{site: unconstrained value}``.

    ``scale`` is the initial σ (None: 2.38 / √d); ``target_accept`` None freezes σ.
    ``sample_stats`` (``kernels.Kernel``) replaces the default table of what is recorded.
    """

    def __init__(
        self,
        model: Callable,
        make_proposal: MakeProposal,
        *,
        init_strategy: Callable,
        scale: float | None = None,
        target_accept: float | None = None,
        sample_stats: Mapping[str, str] | None = None,
    ):
        super().__init__(model, init_strategy=init_strategy)
        self._make_proposal = make_proposal
        self._scale = scale
        self._target = target_accept
        if sample_stats is not None:
            self.sample_stats = sample_stats
        self._sample_fn = None

    def init(self, rng_key, num_warmup, init_params, model_args, model_kwargs):
        rng_key, key_init = jax.random.split(rng_key)
        # MH needs no gradient: programs whose density has none are fine
        z, potential_fn, trace = self._initialize(
            key_init, init_params, model_args, model_kwargs, validate_grad=False
        )
        flat, unravel = ravel_pytree(z)
        sites = {name: trace[name]["fn"] for name in z}
        propose, self._log_ratio = self._make_proposal(sites, unravel)
        self._propose, self._unravel = propose, unravel
        self._logdensity = lambda x: -potential_fn(unravel(x))
        self._num_warmup = num_warmup
        self._sample_fn = self.sample
        scale = self._scale or 2.38 / math.sqrt(max(flat.size, 1))
        zero = jnp.zeros((), flat.dtype)
        return NumPyroState(jnp.array(0), z, -self._logdensity(flat), zero, zero + scale, rng_key)

    def sample(self, state, model_args, model_kwargs):
        rng_key, key_step = jax.random.split(state.rng_key)
        flat, _ = ravel_pytree(state.z)
        scale = state.step_size
        new, info = step_jax(
            key_step,
            MHState(flat, -state.potential_energy),
            self._logdensity,
            lambda key, x: self._propose(key, x, scale),
            self._log_ratio,
        )
        if self._target is not None:
            adapted = jnp.exp(
                adapt_log_scale(jnp.log(scale), info.accept_prob, state.i, self._target)
            )
            scale = jnp.where(state.i < self._num_warmup, adapted, scale)
        return NumPyroState(
            state.i + 1,
            self._unravel(new.position),
            -new.logdensity,
            info.accept_prob,
            scale,
            rng_key,
        )

    def get_diagnostics_str(self, state) -> str:
        return f"acc. prob={float(state.accept_prob):.2f}"


class PyroMH(PyroFlatKernel):
    """MH for a Pyro program on its unconstrained space, as ``NumPyroMH``.

    ``make_proposal(sites, unravel)`` returns ``propose(x, σ)`` (torch's global RNG,
    which ``pyro.set_rng_seed`` seeds) and ``log_ratio(x, y)`` or None. After each
    ``sample()``, ``info`` holds the transition's ``accept_prob`` and σ as ``step_size``.
    """

    def __init__(
        self,
        model: Callable,
        make_proposal: MakeProposal,
        max_plate_nesting: int,
        *,
        scale: float | None = None,
        target_accept: float | None = None,
        sample_stats: Mapping[str, str] | None = None,
        **options: Any,
    ):
        # options: init_strategy, jit_compile
        super().__init__(model, max_plate_nesting=max_plate_nesting, **options)
        self._make_proposal = make_proposal
        self._scale = scale
        self._target = target_accept
        if sample_stats is not None:
            self.sample_stats = sample_stats

    def setup(self, warmup_steps, *args, **kwargs):
        params, potential_fn, trace = self._initialize(args, kwargs)
        ravel = self.ravel
        sites = {k: trace.nodes[k]["fn"] for k in ravel.names}
        self._propose, self._log_ratio = self._make_proposal(sites, ravel.unflatten)
        self._unravel = ravel.unflatten
        self._logdensity = lambda x: -potential_fn(ravel.unflatten(x))
        self._last = None
        self._start(params)
        size = self._state.position.numel()
        self._log_scale = math.log(self._scale or 2.38 / math.sqrt(max(size, 1)))
        self._warmup = warmup_steps
        self._t = 0

    def _start(self, params: dict[str, torch.Tensor]) -> MHState:
        """The state at ``params``: the kept one when the driver hands back the last draw."""
        if params is not self._last:
            with torch.no_grad():
                flat = self.ravel.flatten(params)
                self._state = MHState(flat, self._logdensity(flat))
            self._last = params
        return self._state

    def sample(self, params):
        scale = math.exp(self._log_scale)
        with torch.no_grad():
            self._state, info = step_torch(
                self._start(params),
                self._logdensity,
                lambda x: self._propose(x, scale),
                self._log_ratio,
            )
        accept_prob = float(info.accept_prob)
        if self._target is not None and self._t < self._warmup:
            self._log_scale = adapt_log_scale(self._log_scale, accept_prob, self._t, self._target)
        self._t += 1
        self.info = {"accept_prob": accept_prob, "step_size": scale}
        self._last = self._unravel(self._state.position)
        return self._last

    def logging(self):
        return {"acc. prob": f"{self.info['accept_prob']:.2f}"}
