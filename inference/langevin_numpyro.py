"""The Langevin kernel of NumPyro programs (MALA, ULA; ``langevin_kernels`` describes both
libraries' kernels, ``langevin_pyro`` is the Pyro twin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
from numpyro.infer.hmc_util import HMCAdaptState, warmup_adapter

from probgen.inference.flat_numpyro import NumPyroFlatKernel
from probgen.inference.langevin import LangevinState
from probgen.inference.langevin_kernels import INITIAL_STEP_SIZE, step_jax


class NumPyroLangevinState(NamedTuple):
    """``z``: unconstrained latents; ``step_size``: the η of this transition."""

    i: jax.Array
    z: Any
    logdensity: jax.Array
    grad: jax.Array
    accept_prob: jax.Array
    step_size: jax.Array
    mean_accept_prob: jax.Array
    adapt_state: HMCAdaptState
    rng_key: jax.Array


class NumPyroLangevin(NumPyroFlatKernel):
    """A NumPyro kernel of MALA (``metropolize``) or ULA on the model's unconstrained latents.

    ``step_size=None`` searches a first η and adapts it during warm-up.
    """

    def __init__(
        self,
        model: Callable,
        *,
        step_size: float | None,
        metropolize: bool,
        adapt_mass: bool,
        target_accept: float = 0.574,
        init_strategy: Callable,
    ):
        super().__init__(model, init_strategy=init_strategy)
        self._step_size = step_size
        self._metropolize = metropolize
        self._adapt_mass = adapt_mass
        self._target_accept = target_accept

    def get_diagnostics_str(self, state: NumPyroLangevinState) -> str:
        return f"step size {state.step_size:.2e}. acc. prob={state.mean_accept_prob:.2f}"

    def _logdensity_and_grad(self, unravel: Callable) -> Callable:
        return jax.value_and_grad(lambda flat: -self._potential_fn(unravel(flat)))

    def _find_step_size(self, step_size, inverse_mass, z_info, rng_key):
        """Double or halve η until one proposal's α crosses the target (Hoffman & Gelman)."""
        flat, unravel = ravel_pytree(z_info[0])
        f = self._logdensity_and_grad(unravel)
        state = LangevinState(flat, *f(flat))

        def above(eta):
            return step_jax(rng_key, state, f, eta, inverse_mass, True)[1] > self._target_accept

        factor = jnp.where(above(step_size), 2.0, 0.5)
        step_size, _ = jax.lax.while_loop(
            lambda c: (c[1] < 40) & (above(c[0]) == (factor > 1)),
            lambda c: (c[0] * factor, c[1] + 1),
            (jnp.asarray(step_size, flat.dtype), 0),
        )
        return step_size

    def init(self, rng_key, num_warmup, init_params, model_args, model_kwargs):
        rng_key, key_model, key_adapt = jax.random.split(rng_key, 3)
        z, potential_fn, _ = self._initialize(key_model, init_params, model_args, model_kwargs)
        self._potential_fn = potential_fn
        flat, unravel = ravel_pytree(z)
        adapt = self._step_size is None
        self._num_warmup = num_warmup
        adapter_init, self._adapter_update = warmup_adapter(
            num_warmup,
            find_reasonable_step_size=self._find_step_size if adapt else None,
            adapt_step_size=adapt,
            adapt_mass_matrix=self._adapt_mass,
            target_accept_prob=self._target_accept,
        )
        first = INITIAL_STEP_SIZE if adapt else self._step_size
        adapt_state = adapter_init((z,), key_adapt, first, mass_matrix_size=flat.size)
        logp, grad = self._logdensity_and_grad(unravel)(flat)
        zero = jnp.zeros((), flat.dtype)
        return NumPyroLangevinState(
            jnp.array(0), z, logp, grad, zero, adapt_state.step_size, zero, adapt_state, rng_key
        )

    def sample(self, state, model_args, model_kwargs):
        i, z, logp, grad, _, _, mean_accept, adapt_state, rng_key = state
        rng_key, key = jax.random.split(rng_key)
        flat, unravel = ravel_pytree(z)
        step_size = adapt_state.step_size
        new, accept_prob = step_jax(
            key,
            LangevinState(flat, logp, grad),
            self._logdensity_and_grad(unravel),
            step_size,
            adapt_state.inverse_mass_matrix,
            self._metropolize,
        )
        z = unravel(new.position)
        warming = i < self._num_warmup
        adapt_state = jax.lax.cond(
            warming,
            lambda s: self._adapter_update(i, accept_prob, (z,), s),
            lambda s: s,
            adapt_state,
        )
        n = jnp.where(warming, i + 1, i + 1 - self._num_warmup)
        mean_accept = mean_accept + (accept_prob - mean_accept) / n
        return NumPyroLangevinState(
            i + 1, z, new.logdensity, new.grad, accept_prob, step_size, mean_accept,
            adapt_state, rng_key,
        )  # fmt: skip

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_adapter_update"] = None
        return state
