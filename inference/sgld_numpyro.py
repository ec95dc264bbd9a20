"""SGLD's kernel for NumPyro programs (``sgld.py`` gives the method; ``sgld_pyro`` is the
Pyro twin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import jax
import jax.numpy as jnp
import numpyro.handlers
from jax.flatten_util import ravel_pytree
from numpyro.infer.util import potential_energy

from probgen.inference.kernels import tolerant_potential
from probgen.inference.langevin import LangevinState
from probgen.inference.langevin_kernels import step_jax
from probgen.inference.langevin_numpyro import NumPyroLangevin

if TYPE_CHECKING:
    from probgen.inference.sgld import SGLD


class NumPyroSGLDState(NamedTuple):
    """``z``: unconstrained latents; ``logdensity``/``grad``: log p̂ and ∇log p̂ at z on the
    minibatch drawn for the next transition; ``step_size``: the η_t of this transition."""

    i: jax.Array
    z: Any
    logdensity: jax.Array
    grad: jax.Array
    accept_prob: jax.Array
    step_size: jax.Array
    rng_key: jax.Array


class NumPyroSGLD(NumPyroLangevin):
    """A NumPyro kernel of SGLD: the unadjusted ``step_jax`` with a fresh minibatch per step."""

    def __init__(self, model: Callable, sampler: SGLD, *, init_strategy: Callable):
        super().__init__(
            model,
            step_size=sampler.step_size,
            metropolize=False,
            adapt_mass=False,
            init_strategy=init_strategy,
        )
        self._sampler = sampler

    def get_diagnostics_str(self, state: NumPyroSGLDState) -> str:
        return f"step size {state.step_size:.2e}"

    def _minibatch_logdensity_and_grad(
        self, key: jax.Array, unravel: Callable, model_args: tuple, model_kwargs: dict | None
    ) -> Callable:
        """x ↦ (log p̂(x), ∇log p̂(x)), the model's subsample plates seeded by ``key``."""
        model = numpyro.handlers.seed(self._model, key)

        potential = tolerant_potential(potential_energy)

        def logdensity(flat):
            return -potential(model, model_args, model_kwargs or {}, unravel(flat))

        return jax.value_and_grad(logdensity)

    def init(self, rng_key, num_warmup, init_params, model_args, model_kwargs):
        rng_key, key_model, key_data = jax.random.split(rng_key, 3)
        z, _, _ = self._initialize(key_model, init_params, model_args, model_kwargs)
        flat, unravel = ravel_pytree(z)
        f = self._minibatch_logdensity_and_grad(key_data, unravel, model_args, model_kwargs)
        logp, grad = f(flat)
        zero = jnp.zeros((), flat.dtype)
        return NumPyroSGLDState(jnp.array(0), z, logp, grad, zero, zero, rng_key)

    def sample(self, state, model_args, model_kwargs):
        i, z, logp, grad, _, _, rng_key = state
        rng_key, key_step, key_data = jax.random.split(rng_key, 3)
        flat, unravel = ravel_pytree(z)
        step_size = self._sampler.step_size_at(i).astype(flat.dtype)
        # the drift uses ∇log p̂ at x_t on the minibatch drawn with it; the new position's
        # gradient is taken on a fresh minibatch (key_data), used by the next transition
        new, accept_prob = step_jax(
            key_step,
            LangevinState(flat, logp, grad),
            self._minibatch_logdensity_and_grad(key_data, unravel, model_args, model_kwargs),
            step_size,
            jnp.ones((), flat.dtype),
            False,
        )
        return NumPyroSGLDState(
            i + 1, unravel(new.position), new.logdensity, new.grad, accept_prob, step_size,
            rng_key,
        )  # fmt: skip
