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
burn-in of the same decaying schedule, not an adaptation phase. The kernels subclass the
Langevin kernels of ``langevin_kernels.py`` and run the step ``step_jax`` / ``step_torch``
unadjusted; they report η_t as ``step_size`` and an acceptance rate of 1 per draw (0 where
a proposal with log p̂ = −∞ or NaN, outside the support, was rejected).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpyro.handlers
import pyro.poutine
import torch
from jax.flatten_util import ravel_pytree
from numpyro.infer.util import potential_energy
from pyro.infer.autoguide.initialization import InitMessenger
from pyro.poutine.util import site_is_subsample

from probgen.errors import ArgumentError
from probgen.inference.kernels import tolerant_potential
from probgen.inference.langevin import LangevinState
from probgen.inference.langevin_kernels import NumPyroLangevin, PyroLangevin, step_jax, step_torch
from probgen.initialization import init_strategy
from probgen.programs import Program


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
            return lambda: PyroSGLD(
                program.model, self, init_strategy=strategy, max_plate_nesting=nesting
            )
        return lambda: NumPyroSGLD(program.model, self, init_strategy=strategy)


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


class PyroSGLD(PyroLangevin):
    """A Pyro kernel of SGLD: the unadjusted ``step_torch``; the potential re-runs the model,
    so every gradient sees a fresh subsample drawn from torch's RNG.

    After each ``sample``, ``info`` holds ``accept_prob`` (1) and ``step_size`` (η_t).
    """

    def __init__(
        self,
        model: Callable,
        sampler: SGLD,
        **options: Any,
    ):
        # options: init_strategy, max_plate_nesting
        super().__init__(
            model, step_size=sampler.step_size, metropolize=False, adapt_mass=False, **options
        )
        self._sampler = sampler

    def setup(self, warmup_steps, *args, **kwargs):
        """MALA's setup, with the potential swapped for the minibatch one.

        Pyro's ``initialize_model`` refuses subsample plates, so it runs on the model with
        the subsample sites fixed (conditioned) to one draw; only its starting point and
        transforms are kept.
        """
        # under the init strategy, as elsewhere: improper priors cannot be sampled
        initialized = InitMessenger(self._init_strategy)(self.model)
        trace = pyro.poutine.trace(initialized).get_trace(*args, **kwargs)
        fixed = {k: s["value"] for k, s in trace.nodes.items() if site_is_subsample(s)}
        model, self.model = self.model, pyro.poutine.condition(self.model, fixed)
        try:
            super().setup(warmup_steps, *args, **kwargs)
        finally:
            self.model = model
        self._potential_fn = self._minibatch_potential(args, kwargs)
        self._state = LangevinState(
            self._state.position, *self._logdensity_and_grad(self._state.position)
        )

    def _minibatch_potential(self, args: tuple, kwargs: dict) -> Callable:
        """The potential on unconstrained latents z, re-running the model (fresh subsample):

        U(z) = −log p̂(T⁻¹(z)) − Σ_sites log |det ∂T⁻¹(z)/∂z|, T = ``self.transforms``
        (constrained → unconstrained), as in Pyro's own potential, with the plate's N/B.
        """

        def potential(params: dict[str, torch.Tensor]) -> torch.Tensor:
            constrained = {k: self.transforms[k].inv(v) for k, v in params.items()}
            model = pyro.poutine.condition(self.model, constrained)
            log_joint = pyro.poutine.trace(model).get_trace(*args, **kwargs).log_prob_sum()
            for k, t in self.transforms.items():
                log_joint = log_joint - t.log_abs_det_jacobian(constrained[k], params[k]).sum()
            return -log_joint

        return potential

    def sample(self, params):
        step_size = self._sampler.step_size_at(self._t)
        state, accept_prob = step_torch(
            self._start(params), self._logdensity_and_grad, step_size, 1.0, metropolize=False
        )
        return self._finish(state, accept_prob, step_size)
