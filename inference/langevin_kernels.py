"""The Langevin kernels of both libraries, which MALA, ULA and SGLD build on.

``langevin_numpyro.NumPyroLangevin`` and ``langevin_pyro.PyroLangevin`` run the Langevin
step of ``langevin.py``,

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
from typing import Any

from probgen import lazy
from probgen.inference import langevin
from probgen.inference.langevin import LangevinState
from probgen.inference.metropolis import keep_finite_jax, keep_finite_torch
from probgen.initialization import init_strategy
from probgen.programs import Program

langevin_numpyro = lazy.load("probgen.inference.langevin_numpyro", globals())
langevin_pyro = lazy.load("probgen.inference.langevin_pyro", globals())

# the first step size that the step-size search starts from when none is given
INITIAL_STEP_SIZE = 0.1


def langevin_kernel(
    program: Program, init: str | dict[str, Any] | None, *, jit_compile: bool, **options: Any
) -> Callable[[], Any]:
    """A factory of Langevin kernels of ``program``'s library with ``options``."""
    strategy = init_strategy(program.backend, init, program.site_names("latent"))
    if program.backend == "pyro":
        nesting = program.max_plate_nesting
        return lambda: langevin_pyro.PyroLangevin(
            program.model,
            init_strategy=strategy,
            max_plate_nesting=nesting,
            jit_compile=jit_compile,
            **options,
        )
    return lambda: langevin_numpyro.NumPyroLangevin(
        program.model, init_strategy=strategy, **options
    )


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


# the library kernels, from the module of their library
__getattr__, __dir__ = lazy.attributes(
    __name__,
    {
        "NumPyroLangevin": "probgen.inference.langevin_numpyro",
        "NumPyroLangevinState": "probgen.inference.langevin_numpyro",
        "PyroLangevin": "probgen.inference.langevin_pyro",
    },
)
