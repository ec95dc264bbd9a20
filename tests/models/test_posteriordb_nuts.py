"""NUTS on both backends reproduces posteriordb's reference posteriors.

Each reference mean must lie within 0.15 reference sd and each reference sd within 15 %
(the references come from 10 000 thinned Stan draws; see ../shared/reference/posteriordb).
"""

import re

import numpy as np
import pytest

import probgen as pg
from probgen.datasets import posteriordb
from probgen.models import registry

# pg.mcmc options per posterior and backend: enough ESS for the tolerance, no more. Pyro's
# NUTS takes milliseconds a leapfrog step, so its runs are single chains, with a dense mass
# matrix where the posterior is correlated enough to need long trees without one.
NUMPYRO = dict(chains=2, warmup=500, draws=1000)
PYRO = dict(chains=1, warmup=300, draws=700)
POSTERIORS = {
    # θ_j's tails are heavy (τ's half-Cauchy prior): their sd needs more draws to settle
    "eight_schools_noncentered": {"numpyro": NUMPYRO, "pyro": {**PYRO, "draws": 2000}},
    "kidscore_momiq": {"numpyro": NUMPYRO, "pyro": {**PYRO, "dense_mass": True}},
    "sblrc_blr": {"numpyro": NUMPYRO, "pyro": {**PYRO, "dense_mass": True}},
    "ark": {"numpyro": NUMPYRO, "pyro": {**PYRO, "dense_mass": True}},
    "arma11": {"numpyro": NUMPYRO, "pyro": {**PYRO, "dense_mass": True}},
    # seed 0's warm-up settles on a step size 3× smaller (0.18 against 0.53): 110 s, not 10 s
    "low_dim_gauss_mix": {"numpyro": NUMPYRO, "pyro": {**PYRO, "seed": 1}},
    "garch11": {"numpyro": NUMPYRO, "pyro": {**PYRO, "draws": 1200, "dense_mass": True}},
}


def reference_value(samples: dict[str, np.ndarray], name: str) -> np.ndarray:
    """Draws of a Stan-named scalar (``beta[2]``, 1-based) from probgen's site arrays."""
    match = re.fullmatch(r"(\w+)(?:\[([\d,]+)\])?", name)
    site, index = match.group(1), match.group(2)
    draws = samples[site]
    if index:
        draws = draws[(..., *[int(i) - 1 for i in index.split(",")])]
    return draws.ravel()


@pytest.mark.skipif(posteriordb.root() is None, reason="../shared/reference/posteriordb not found")
@pytest.mark.parametrize("backend", ["numpyro", "pyro"])
@pytest.mark.parametrize("name", sorted(POSTERIORS))
def test_nuts_reproduces_the_reference(name, backend):
    entry = registry.get(name)
    module = __import__(entry.pyro.__module__, fromlist=["POSTERIORDB"])
    reference = posteriordb.reference(module.POSTERIORDB)
    options = POSTERIORS[name][backend]
    options = {"seed": 0, "progress": False, **options}
    post = pg.mcmc(entry.program(backend), **entry.data(), **options)
    bad = []
    for param, ref in reference.items():
        x = reference_value(post.samples, param)
        if (
            abs(x.mean() - ref["mean"]) > 0.15 * ref["sd"]
            or abs(x.std() - ref["sd"]) > 0.15 * ref["sd"]
        ):
            bad.append(
                f"{param}: mean {x.mean():.4g} vs {ref['mean']:.4g}, "
                f"sd {x.std():.4g} vs {ref['sd']:.4g}"
            )
    assert not bad, "\n".join(bad)
