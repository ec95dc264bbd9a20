"""Poisson regression over a vectorised ``plate`` with a log link."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
import torch
from corpus import Case, tensor

_rng = np.random.default_rng(10)
_x = _rng.uniform(-1, 1, 25)
_y = _rng.poisson(np.exp(0.5 + 0.8 * _x)).astype(float)


def numpyro_poisson(x, y):
    a = numpyro.sample("a", ndist.Normal(0.0, 2.0))
    b = numpyro.sample("b", ndist.Normal(0.0, 2.0))
    with numpyro.plate("data", len(x)):
        numpyro.sample("y", ndist.Poisson(jnp.exp(a + b * x)), obs=y)


def pyro_poisson(x, y):
    a = pyro.sample("a", pdist.Normal(0.0, 2.0))
    b = pyro.sample("b", pdist.Normal(0.0, 2.0))
    with pyro.plate("data", len(x)):
        pyro.sample("y", pdist.Poisson(torch.exp(a + b * x)), obs=y)


CASES = [
    Case(
        "vectorized_plate",
        "numpyro",
        numpyro_poisson,
        (jnp.asarray(_x, jnp.float32), jnp.asarray(_y, jnp.float32)),
    ),  # fmt: skip
    Case("vectorized_plate", "pyro", pyro_poisson, (tensor(_x), tensor(_y))),
]
