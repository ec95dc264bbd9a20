"""The user-facing entry points: check the input, bind the program, call a backend.

probgen's own options are keyword-only; every other positional or keyword argument is
passed to the program (``pg.mcmc(coin, 10, k=7.0)`` calls ``coin(10, k=7.0)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from probgen.errors import ArgumentError, ModelError
from probgen.inference import mcmc as _mcmc
from probgen.inference import svi as _svi
from probgen.inference.mcmc import NUTS
from probgen.inference.samplers import Sampler, resolve
from probgen.programs import Backend, Program, prepare
from probgen.results import Posterior, VIResult


def mcmc(
    model: Callable,
    *args: Any,
    sampler: str | Sampler = "nuts",
    chains: int = 4,
    warmup: int = 1000,
    draws: int = 1000,
    seed: int = 0,
    progress: bool = True,
    dense_mass: bool | None = None,
    target_accept: float | None = None,
    init: str | dict[str, Any] | None = None,
    device: str = "cpu",
    backend: Backend | None = None,
    **kwargs: Any,
) -> Posterior:
    """Sample the posterior p(z | x) ∝ p(x, z) of a Pyro or NumPyro program by MCMC.

    ``sampler`` is a name from ``probgen.inference.samplers.SAMPLERS`` or a sampler object
    such as ``NUTS(target_accept=0.9)``. ``"nuts"`` is the No-U-Turn sampler (Hoffman &
    Gelman, 2014); ``"hmc"`` is Hamiltonian Monte Carlo with a fixed trajectory length.
    Both run on the program's own library, adapt the step size towards ``target_accept``
    (default 0.8) and a diagonal (``dense_mass``: dense) mass matrix during ``warmup``,
    then keep ``draws`` draws per chain. ``target_accept`` and ``dense_mass`` apply to a
    sampler given by name; None keeps the sampler's default.

    ``init`` is ``"uniform"`` (default), ``"median"``, ``"mean"``, ``"sample"`` or a dict
    ``{site: value}`` of constrained starting values. ``backend`` overrides the detection
    of the program's library. Returns a ``Posterior`` with draws shaped (chains, draws, ...).
    """
    _at_least("chains", chains, 1)
    _at_least("warmup", warmup, 0)
    _at_least("draws", draws, 1)
    if target_accept is not None and not 0 < target_accept < 1:
        raise ArgumentError(f"target_accept must lie in (0, 1), got {target_accept}")
    spec = resolve(sampler, dense_mass=dense_mass, target_accept=target_accept)
    program = _bind(model, args, kwargs, backend, device)
    if isinstance(spec, NUTS):
        _continuous_latents(program, spec.name)
    return _mcmc.run(
        program,
        spec.kernel(program, init),
        chains=chains,
        warmup=warmup,
        draws=draws,
        seed=seed,
        progress=progress,
        sampler=spec.name,
    )


def svi(
    model: Callable,
    *args: Any,
    guide: str | Callable = "normal",
    elbo: str = "trace",
    steps: int = 1000,
    lr: float = 0.01,
    lr_decay: float = 1.0,
    particles: int = 1,
    alpha: float = 0.0,
    seed: int = 0,
    progress: bool = True,
    device: str = "cpu",
    backend: Backend | None = None,
    **kwargs: Any,
) -> VIResult:
    """Fit a variational guide q(z) to a Pyro or NumPyro program by maximising the ELBO.

    ELBO = E_q[log p(x, z) − log q(z)]. ``guide`` is ``"delta"`` (MAP), ``"normal"``
    (mean-field), ``"mvn"`` (full covariance), ``"lowrank"``, ``"iaf"`` (an inverse
    autoregressive flow), ``"laplace"`` (N(ẑ, H⁻¹) at the MAP ẑ), or a guide function.
    ``elbo`` is ``"trace"``, ``"meanfield"`` (analytic KL where available) or ``"renyi"``
    with ``alpha`` and ``particles`` (α = 0 gives the IWAE bound). Adam with learning
    rate ``lr`` takes ``steps`` steps; the rate decays geometrically to ``lr · lr_decay``
    at the last step (decay helps a MAP on a non-smooth density, e.g. a Laplace prior,
    settle). A NaN loss stops the run with ``TrainingError``.
    """
    _at_least("steps", steps, 1)
    _at_least("particles", particles, 1)
    if not lr > 0:
        raise ArgumentError(f"lr must be positive, got {lr}")
    if not 0 < lr_decay <= 1:
        raise ArgumentError(f"lr_decay must lie in (0, 1], got {lr_decay}")
    program = _bind(model, args, kwargs, backend, device)
    fitted_guide = _svi.make_guide(program, guide)
    loss = _svi.make_elbo(program, elbo, particles, alpha)
    return _svi.run(
        program,
        fitted_guide,
        loss,
        steps=steps,
        lr=lr,
        lr_decay=lr_decay,
        seed=seed,
        progress=progress,
        laplace=guide == "laplace" and program.backend == "pyro",
    )


def _bind(model, args, kwargs, backend, device) -> Program:
    program = prepare(model, args, kwargs, backend=backend, device=device)
    program.check_data()
    return program


def _continuous_latents(program: Program, sampler: str) -> None:
    if discrete := program.discrete_latents():
        raise ModelError(
            f"site {discrete[0]!r} is a discrete latent variable, and {sampler.upper()} "
            "needs continuous ones: sum it out by marking the sample statement with "
            "infer={'enumerate': 'parallel'}, or integrate it out by hand"
        )


def _at_least(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ArgumentError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
