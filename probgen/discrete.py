"""Posterior draws of the discrete sites that a program sums out by enumeration.

For each draw θ_i of the continuous latents, the enumerated sites z are drawn from their
exact conditional, z_i ~ p(z | x, θ_i), by forward filtering and backward sampling over
the enumerated sites (the libraries' ``infer_discrete`` with temperature 1: Pyro's
``pyro.infer.infer_discrete``, NumPyro's ``numpyro.contrib.funsor.infer_discrete``). One
draw of z per draw of θ gives draws of the joint posterior p(z, θ | x).
"""

from __future__ import annotations

import numpy as np

from probgen import lazy
from probgen.errors import ArgumentError, ModelError
from probgen.programs import Program, as_numpy, to_backend

jax = lazy.load("jax", globals())
jnp = lazy.load("jax.numpy", globals())
numpyro = lazy.load("numpyro", globals())
numpyro_funsor = lazy.load("numpyro.contrib.funsor", globals())
pyro = lazy.load("pyro", globals())
torch = lazy.load("torch", globals())


def enumerated_sites(program: Program) -> list[str]:
    """Names of the discrete latent sites that ``program`` sums out by enumeration."""
    return [s.name for s in program.sites().values() if s.enumerated]


def select(program: Program, sites: list[str] | None) -> list[str]:
    """``sites``, checked against the program's enumerated sites (all of them if None)."""
    known = enumerated_sites(program)
    if sites is None:
        return known
    for name in sites:
        if name not in known:
            raise ArgumentError(
                f"sites: {name!r} is not a site that {program.name} sums out by "
                f"enumeration; those are {known}"
            )
    return list(sites)


def draws(
    program: Program, latent: dict[str, np.ndarray], sites: list[str], seed: int = 0
) -> dict[str, np.ndarray]:
    """One draw z_i ~ p(z | x, θ_i) of each enumerated site in ``sites`` per draw θ_i.

    ``latent`` holds the continuous draws ``{site: array (n, ...)}``; returns
    ``{site: array (n, ...)}`` with the shape the site has in the program.
    """
    if not sites:
        return {}
    nesting = -program.max_plate_nesting - 1
    shapes = {name: program.sites()[name].shape for name in sites}
    if program.backend == "pyro":
        values = _pyro_draws(program, latent, sites, nesting, seed)
    else:
        values = _numpyro_draws(program, latent, sites, nesting, seed)
    return {k: v.reshape((len(v), *shapes[k])) for k, v in values.items()}


def _pyro_draws(program, latent, sites, first_dim, seed):
    samples = to_backend(latent, "pyro", program.device)
    n = len(next(iter(samples.values())))
    pyro.set_rng_seed(seed)
    rows = []
    with torch.no_grad():
        for i in range(n):
            conditioned = pyro.poutine.condition(
                program.model, {k: v[i] for k, v in samples.items()}
            )
            sampler = pyro.infer.infer_discrete(
                conditioned, first_available_dim=first_dim, temperature=1
            )
            trace = pyro.poutine.trace(sampler).get_trace(*program.args, **program.kwargs)
            rows.append({k: as_numpy(trace.nodes[k]["value"]) for k in sites})
    return {k: np.stack([row[k] for row in rows]) for k in sites}


def _numpyro_draws(program, latent, sites, first_dim, seed):
    n = len(next(iter(latent.values())))

    def one(key, values):
        conditioned = numpyro.handlers.substitute(program.model, data=values)
        sampler = numpyro_funsor.infer_discrete(
            conditioned, first_available_dim=first_dim, temperature=1, rng_key=key
        )
        trace = numpyro.handlers.trace(numpyro.handlers.seed(sampler, key)).get_trace(
            *program.args, **program.kwargs
        )
        return {k: trace[k]["value"] for k in sites}

    keys = jax.random.split(jax.random.PRNGKey(seed), n)
    try:
        out = jax.vmap(one)(keys, {k: jnp.asarray(v) for k, v in latent.items()})
    except (AssertionError, ValueError) as exc:  # infer_discrete does not follow ``scan``
        raise ModelError(
            f"the sites {sites} of {program.name} cannot be drawn: NumPyro's infer_discrete "
            f"failed ({type(exc).__name__}: {exc}); it does not support "
            "numpyro.contrib.control_flow.scan: write such a chain as a loop over "
            "numpyro.contrib.funsor.markov(range(T)) to draw its states"
        ) from exc
    return {k: np.asarray(v) for k, v in out.items()}
