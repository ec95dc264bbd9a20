"""A program that takes a function as an argument: the mean function of a regression,
passed by the caller."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
import torch
from corpus import Case, tensor

_x = np.linspace(0.1, 2.0, 15)
_y = np.log1p(_x) * 1.5 + 0.1 * np.random.default_rng(12).normal(size=15)


def numpyro_regression(mean_fn, x, y):
    slope = numpyro.sample("slope", ndist.Normal(0.0, 2.0))
    sigma = numpyro.sample("sigma", ndist.HalfNormal(1.0))
    with numpyro.plate("data", len(x)):
        numpyro.sample("y", ndist.Normal(slope * mean_fn(x), sigma), obs=y)


def pyro_regression(mean_fn, x, y):
    slope = pyro.sample("slope", pdist.Normal(0.0, 2.0))
    sigma = pyro.sample("sigma", pdist.HalfNormal(1.0))
    with pyro.plate("data", len(x)):
        pyro.sample("y", pdist.Normal(slope * mean_fn(x), sigma), obs=y)


CASES = [
    Case(
        "function_argument",
        "numpyro",
        numpyro_regression,
        (jnp.log1p, jnp.asarray(_x, jnp.float32), jnp.asarray(_y, jnp.float32)),
    ),  # fmt: skip
    Case("function_argument", "pyro", pyro_regression, (torch.log1p, tensor(_x), tensor(_y))),
]
