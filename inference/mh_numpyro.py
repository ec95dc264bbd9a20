"""MH for a NumPyro program: the kernel that ``mh.RandomWalk`` and ``independence.py`` build
(``mh.py`` holds the step it takes; ``mh_pyro`` is the Pyro twin)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from probgen.inference.flat_numpyro import NumPyroFlatKernel
from probgen.inference.mh import MakeProposal, MHState, adapt_log_scale, step_jax


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
