"""What a program says about a set of draws: its sites' values and pointwise likelihoods.

Draws come as flat dicts ``{site: array (n, ...)}``. Each function has one path per
backend, built from that library's own ``Predictive``, ``condition`` and
``log_likelihood``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from probgen import lazy
from probgen.initialization import init_strategy
from probgen.programs import Program, as_numpy, to_backend

_subsample = lazy.load("probgen.subsample", globals())
jax = lazy.load("jax", globals())
numpyro = lazy.load("numpyro", globals())
pyro = lazy.load("pyro", globals())
pyro_init = lazy.load("pyro.infer.autoguide.initialization", globals())
torch = lazy.load("torch", globals())


def site_values(
    program: Program,
    draws: dict[str, np.ndarray],
    sites: list[str],
    seed: int = 0,
    uncondition: bool = False,
) -> dict[str, np.ndarray]:
    """Run the program once per draw and return the values of ``sites``, shape (n, ...).

    With ``uncondition=True`` the observed sites are sampled from their likelihood
    instead of fixed to the data: that gives posterior-predictive draws
    ``y_rep ~ p(y | θ_i)`` for each draw ``θ_i``.
    """
    if not sites:
        return {}
    n = len(next(iter(draws.values())))
    if program.backend == "pyro":
        model = _pyro_model(program)
        model = pyro.poutine.uncondition(model) if uncondition else model
        pyro.set_rng_seed(seed)
        predictive = pyro.infer.Predictive(
            model, posterior_samples=to_backend(draws, "pyro", program.device), return_sites=sites
        )
        out = predictive(*program.args, **program.kwargs)
    else:
        model = numpyro.handlers.uncondition(program.model) if uncondition else program.model
        predictive = numpyro.infer.Predictive(model, posterior_samples=draws, return_sites=sites)
        out = predictive(jax.random.PRNGKey(seed), *program.args, **program.kwargs)
    return _per_draw(program, out, n)


def log_likelihood(program: Program, draws: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Pointwise log-likelihood ``log p(y_j | θ_i)`` of each observed site, shape (n, ...)."""
    if program.backend == "numpyro":
        out = numpyro.infer.util.log_likelihood(
            program.model, draws, *program.args, **program.kwargs
        )
        return {k: np.asarray(v) for k, v in out.items()}
    with torch.no_grad():
        return _pyro_log_likelihood(program, to_backend(draws, "pyro", program.device))


def _pyro_log_likelihood(program: Program, samples: dict[str, torch.Tensor]):
    observed = program.site_names("observed")
    n = len(next(iter(samples.values())))

    def pointwise(trace):
        return {k: trace.nodes[k]["fn"].log_prob(trace.nodes[k]["value"]) for k in observed}

    def at_draw(i):
        conditioned = pyro.poutine.condition(program.model, {k: v[i] for k, v in samples.items()})
        return pointwise(pyro.poutine.trace(conditioned).get_trace(*program.args, **program.kwargs))

    first = at_draw(0)
    try:
        predictive = pyro.infer.Predictive(
            _pyro_model(program), posterior_samples=samples, parallel=True
        )
        out = pointwise(predictive.get_vectorized_trace(*program.args, **program.kwargs))
        if all(out[k].shape == (n, *first[k].shape) for k in observed):
            return {k: as_numpy(v) for k, v in out.items()}
    except (RuntimeError, ValueError, IndexError):
        pass  # not every Pyro program broadcasts over a batch of draws: loop instead
    draws = [first] + [at_draw(i) for i in range(1, n)]
    return {k: np.stack([as_numpy(d[k]) for d in draws]) for k in observed}


def _pyro_model(program: Program):
    """The Pyro program under probgen's init strategy.

    Pyro's ``Predictive`` first runs the program with values drawn from the prior to
    count its plates, which improper priors cannot give; probgen's strategy fills those
    sites first. The draws that ``Predictive`` conditions on replace these values.
    """
    return pyro_init.InitMessenger(init_strategy("pyro"))(program.model)


def guide_draws(
    program: Program, guide: Any, state: Any, draws: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """``draws`` samples z ~ q(z) from a fitted guide, with the model's deterministic sites.

    ``state`` is the guide's fitted parameters: Pyro's param-store state, or NumPyro's
    parameter dict. A guide that subsamples a plate that the model does not is replayed
    with its fitted arguments over the full data in minibatches (``probgen.subsample``).
    Sites that the program sums out by enumeration are left out: the guide does not
    cover them (``Posterior.discrete()`` draws them).
    """
    summed = {s.name for s in program.sites().values() if s.enumerated}
    latent = [k for k in program.site_names("latent") if k not in summed]
    sites = latent + program.site_names("deterministic")
    if _subsample.guide_plates(program, guide, state):
        out = _subsample.full_data_draws(program, guide, state, latent, draws, seed)
        out.update(site_values(program, out, program.site_names("deterministic"), seed))
    elif program.backend == "pyro":
        with pyro.get_param_store().scope(state), torch.no_grad():
            pyro.set_rng_seed(seed)
            out = pyro.infer.Predictive(
                program.model, guide=guide, num_samples=draws, return_sites=sites
            )(*program.args, **program.kwargs)
    elif isinstance(guide, numpyro.infer.autoguide.AutoGuide):
        # an autoguide's own sampler: AutoLaplaceApproximation is a Delta until sampled so
        latent = guide.sample_posterior(jax.random.PRNGKey(seed), state, sample_shape=(draws,))
        deterministic = site_values(program, latent, program.site_names("deterministic"), seed)
        out = {**latent, **deterministic}
    else:
        predictive = numpyro.infer.Predictive(
            program.model, guide=guide, params=state, num_samples=draws, return_sites=sites
        )
        out = predictive(jax.random.PRNGKey(seed), *program.args, **program.kwargs)
    return _per_draw(program, {k: v for k, v in out.items() if k in sites}, draws)


def _per_draw(program: Program, values: dict[str, Any], n: int) -> dict[str, np.ndarray]:
    """Drop the singleton dims that Pyro's Predictive pads to sites outside plates."""
    shapes = {name: site.shape for name, site in program.sites().items()}
    return {k: as_numpy(v).reshape((n, *shapes[k])) for k, v in values.items()}
