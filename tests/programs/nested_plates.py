"""Nested plates: a random intercept per subject and per (subject, visit) observation,
with the visits' plate inside the subjects'."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
from corpus import Case, tensor

_rng = np.random.default_rng(11)
_y = _rng.normal(size=(5, 1)) + 0.4 * _rng.normal(size=(5, 4))


def numpyro_nested(y):
    sd = numpyro.sample("sd", ndist.HalfNormal(1.0))
    with numpyro.plate("subjects", y.shape[0], dim=-2):
        alpha = numpyro.sample("alpha", ndist.Normal(0.0, sd))
        with numpyro.plate("visits", y.shape[1], dim=-1):
            numpyro.sample("y", ndist.Normal(alpha, 0.4), obs=y)


def pyro_nested(y):
    sd = pyro.sample("sd", pdist.HalfNormal(1.0))
    with pyro.plate("subjects", y.shape[0], dim=-2):
        alpha = pyro.sample("alpha", pdist.Normal(0.0, sd))
        with pyro.plate("visits", y.shape[1], dim=-1):
            pyro.sample("y", pdist.Normal(alpha, 0.4), obs=y)


CASES = [
    Case("nested_plates", "numpyro", numpyro_nested, (jnp.asarray(_y, jnp.float32),)),
    Case("nested_plates", "pyro", pyro_nested, (tensor(_y),)),
]
