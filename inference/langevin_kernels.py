"""The Langevin kernels of both libraries, which MALA, ULA and SGLD build on.

``NumPyroLangevin`` and ``PyroLangevin`` run the Langevin step of ``langevin.py``,

    x' = x + η m ⊙ ∇log p(x) + √(2η m) ⊙ ξ,    ξ ~ N(0, I),

metropolized (MALA, ``mala.py``) or not (ULA, ``ula.py``), on the unconstrained space of a
program's latent sites flattened to one vector x, where log p = −U is the libraries'
potential (``kernels.py``). ``step_size=None`` makes warm-up adapt η by dual averaging
towards the target acceptance (0.574 is optimal for MALA, Roberts & Rosenthal, 1998),
starting from a first η found by doubling or halving ``INITIAL_STEP_SIZE`` until one
proposal's α crosses the target (Hoffman & Gelman, 2014); ``adapt_mass`` also adapts m
from the warm-up draws. Both use the libraries' own adapters (Stan's windows). SGLD's
kernels (``sgld.py``) subclass these with a decaying η and a fresh minibatch per step.

Each publishes the statistics ``METROPOLIS_STATS`` (``kernels.py``): α of the transition
as ``acceptance_rate`` (unadjusted: 1, or 0 where the proposal was rejected) and its η as
``step_size``. A proposal outside the support or with an invalid parameter has log p = −∞
or NaN (``kernels.tolerant_potential``): MALA's accept step rejects it, and so does the
unadjusted step here (``metropolis.keep_finite_*``), in the step-size search as in sampling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import torch
from jax.flatten_util import ravel_pytree
from numpyro.infer.hmc_util import HMCAdaptState, warmup_adapter
from pyro.infer.mcmc.adaptation import WarmupAdapter
from pyro.ops.integrator import potential_grad

from probgen.inference import langevin
from probgen.inference.flat_numpyro import NumPyroFlatKernel
from probgen.inference.flat_pyro import PyroFlatKernel
from probgen.inference.langevin import LangevinState
from probgen.inference.metropolis import keep_finite_jax, keep_finite_torch
from probgen.initialization import init_strategy
from probgen.programs import Program

# the first step size that the step-size search starts from when none is given
INITIAL_STEP_SIZE = 0.1


def langevin_kernel(
    program: Program, init: str | dict[str, Any] | None, *, jit_compile: bool, **options: Any
) -> Callable[[], Any]:
    """A factory of Langevin kernels of ``program``'s library with ``options``."""
    strategy = init_strategy(program.backend, init, program.site_names("latent"))
    if program.backend == "pyro":
        nesting = program.max_plate_nesting
        return lambda: PyroLangevin(
            program.model,
            init_strategy=strategy,
            max_plate_nesting=nesting,
            jit_compile=jit_compile,
            **options,
        )
    return lambda: NumPyroLangevin(program.model, init_strategy=strategy, **options)


def step_jax(key, state: LangevinState, logdensity_and_grad, step_size, inverse_mass, metropolize):
    """``langevin.step_jax``, whose unadjusted proposal is kept only where log p is finite."""
    new, accept_prob = langevin.step_jax(
        key, state, logdensity_and_grad, step_size, inverse_mass, metropolize
    )
    return (new, accept_prob) if metropolize else keep_finite_jax(new.logdensity, new, state)


def step_torch(
    state, logdensity_and_grad, step_size, inverse_mass=1.0, metropolize=True, generator=None
):
    """``langevin.step_torch``, whose unadjusted proposals are kept only where log p is finite."""
    new, accept_prob = langevin.step_torch(
        state, logdensity_and_grad, step_size, inverse_mass, metropolize, generator
    )
    return (new, accept_prob) if metropolize else keep_finite_torch(new.logdensity, new, state)


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


class PyroLangevin(PyroFlatKernel):
    """A Pyro kernel of MALA (``metropolize``) or ULA on the model's unconstrained latents.

    After each ``sample``, ``info`` holds the transition's ``accept_prob`` and ``step_size``.
    """

    def __init__(
        self,
        model: Callable,
        *,
        step_size: float | None,
        metropolize: bool,
        adapt_mass: bool,
        target_accept: float = 0.574,
        **options: Any,
    ):
        super().__init__(model, **options)  # init_strategy, max_plate_nesting, jit_compile
        self._step_size = step_size
        self._metropolize = metropolize
        self._target_accept = target_accept
        self._adapter = WarmupAdapter(
            INITIAL_STEP_SIZE if step_size is None else step_size,
            adapt_step_size=step_size is None,
            target_accept_prob=target_accept,
            adapt_mass_matrix=adapt_mass,
        )

    def setup(self, warmup_steps, *args, **kwargs):
        params, self._potential_fn, _ = self._initialize(args, kwargs)
        self._names = self.ravel.names
        self._warmup_steps, self._t = warmup_steps, 0
        flat = self._flatten(params)
        self._adapter.configure(
            warmup_steps,
            mass_matrix_shape={self._names: (flat.shape[-1],)},
            find_reasonable_step_size_fn=self._find_step_size,
            options={"dtype": flat.dtype, "device": flat.device},
        )
        if self._adapter.adapt_step_size:
            self._adapter.reset_step_size_adaptation(params)
        self._state = LangevinState(flat, *self._logdensity_and_grad(flat))
        self._last = params

    def _flatten(self, z: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.ravel.flatten(z).unsqueeze(0)  # step_torch runs a batch of chains

    def _unflatten(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.ravel.unflatten(flat[0])

    def _logdensity_and_grad(self, flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """log p̃ and its gradient with respect to the one flat leaf that the sites view.

        Pyro's ``potential_grad`` turns the errors in its exception registry (a singular
        Cholesky factor) into a NaN potential, a proposal that is then rejected."""
        with torch.enable_grad():
            grads, potential = potential_grad(
                lambda z: self._potential_fn(self._unflatten(z["flat"])), {"flat": flat.detach()}
            )
        return -potential.reshape(1), -grads["flat"]

    @property
    def _inverse_mass(self) -> torch.Tensor | float:
        if not self._adapter.adapt_mass_matrix:
            return 1.0  # M = I: the transition skips the elementwise products
        return self._adapter.mass_matrix_adapter.inverse_mass_matrix[self._names]

    def _find_step_size(self, z: dict[str, torch.Tensor]) -> float:
        """Double or halve η until one proposal's α crosses the target (Hoffman & Gelman)."""
        flat = self._flatten(z)
        state = LangevinState(flat, *self._logdensity_and_grad(flat))
        seed = int(torch.randint(2**31, ()))

        def above(eta: float) -> bool:
            noise = torch.Generator(device=flat.device).manual_seed(seed)
            step = step_torch(
                state, self._logdensity_and_grad, eta, self._inverse_mass, True, noise
            )
            return bool(step[1] > self._target_accept)

        eta = self._adapter.step_size
        direction = above(eta)
        factor = 2.0 if direction else 0.5
        for _ in range(40):
            if above(eta) != direction:
                break
            eta *= factor
        return eta

    def _start(self, params: dict[str, torch.Tensor]) -> LangevinState:
        """The state at ``params``: the kept one when the driver hands back the last draw."""
        if params is not self._last:
            flat = self._flatten(params)
            self._state = LangevinState(flat, *self._logdensity_and_grad(flat))
        return self._state

    def _finish(self, state: LangevinState, accept_prob, step_size) -> dict[str, torch.Tensor]:
        self._state, self._t = state, self._t + 1
        self._last = self._unflatten(state.position)
        self.info = {"accept_prob": float(accept_prob[0]), "step_size": float(step_size)}
        return self._last

    def sample(self, params):
        step_size = self._adapter.step_size
        state, accept_prob = step_torch(
            self._start(params),
            self._logdensity_and_grad,
            step_size,
            self._inverse_mass,
            self._metropolize,
        )
        z = self._finish(state, accept_prob, step_size)
        if self._t <= self._warmup_steps:
            self._adapter.step(self._t - 1, z, accept_prob[0])
        return z

    def logging(self):
        return self.info  # Pyro's driver turns it into JSON for the progress bar
