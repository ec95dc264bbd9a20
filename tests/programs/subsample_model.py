"""Subsampling declared in the model (``plate(subsample_size=...)``) under SVI with an
autoguide: each step's log-likelihood is the minibatch's, scaled by N/B."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
from corpus import Case, tensor

_y = np.random.default_rng(4).normal(1.5, 1.0, size=64)


def numpyro_subsampled(y):
    mu = numpyro.sample("mu", ndist.Normal(0.0, 10.0))
    with numpyro.plate("data", len(y), subsample_size=16) as index:
        numpyro.sample("y", ndist.Normal(mu, 1.0), obs=y[index])


def pyro_subsampled(y):
    mu = pyro.sample("mu", pdist.Normal(0.0, 10.0))
    with pyro.plate("data", len(y), subsample_size=16) as index:
        pyro.sample("y", pdist.Normal(mu, 1.0), obs=y[index])


CASES = [
    Case(
        "subsample_model",
        "numpyro",
        numpyro_subsampled,
        (jnp.asarray(_y, jnp.float32),),
        method="svi",
    ),
    Case("subsample_model", "pyro", pyro_subsampled, (tensor(_y),), method="svi"),
]
