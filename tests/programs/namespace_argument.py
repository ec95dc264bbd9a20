"""A program that takes its data and settings as one ``argparse.Namespace`` (the pattern
of the libraries' example scripts), with the observations as a keyword."""

from argparse import Namespace

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
from corpus import Case, tensor

_y = np.array([3.0, 5.0, 4.0, 6.0, 2.0, 4.0])


def numpyro_rate(args, counts=None):
    rate = numpyro.sample("rate", ndist.Gamma(args.shape, args.rate))
    with numpyro.plate("days", args.days):
        numpyro.sample("counts", ndist.Poisson(rate), obs=counts)


def pyro_rate(args, counts=None):
    rate = pyro.sample("rate", pdist.Gamma(args.shape, args.rate))
    with pyro.plate("days", args.days):
        pyro.sample("counts", pdist.Poisson(rate), obs=counts)


_settings = Namespace(shape=2.0, rate=0.5, days=len(_y))
CASES = [
    Case(
        "namespace_argument",
        "numpyro",
        numpyro_rate,
        (_settings,),
        {"counts": jnp.asarray(_y, jnp.float32)},
    ),  # fmt: skip
    Case("namespace_argument", "pyro", pyro_rate, (_settings,), {"counts": tensor(_y)}),
]
