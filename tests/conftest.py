"""Shared fixtures: the coin in both libraries, and its exact Beta(8, 4) posterior."""

import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as dist
import pytest

# k = 7 heads in n = 10 tosses under a flat prior: the posterior is Beta(8, 4)
COIN_MEAN = 2 / 3
COIN_SD = (8 * 4 / (12**2 * 13)) ** 0.5  # 0.13074


def pyro_coin(n, k=None):
    theta = pyro.sample("theta", dist.Beta(1.0, 1.0))
    pyro.sample("k", dist.Binomial(n, theta), obs=k)


def numpyro_coin(n, k=None):
    theta = numpyro.sample("theta", ndist.Beta(1.0, 1.0))
    numpyro.sample("k", ndist.Binomial(n, theta), obs=k)


@pytest.fixture(params=["pyro", "numpyro"])
def coin(request):
    """The coin program of each backend."""
    return pyro_coin if request.param == "pyro" else numpyro_coin
