"""Shared fixtures: the coin in both libraries, and its exact Beta(8, 4) posterior."""

import atexit
import os
import shutil
import tempfile

import jax
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as dist
import pytest
import torch

# NumPyro compiles its sampling loop anew for every chain and every run; a persistent XLA
# cache for this test session (notebook kernels too, through the environment) turns the
# repeats into cache hits. Results are unchanged: the same executables run.
_XLA_CACHE = tempfile.mkdtemp(prefix="probgen-xla-cache-")
atexit.register(shutil.rmtree, _XLA_CACHE, ignore_errors=True)
for _option, _value in [
    ("jax_compilation_cache_dir", _XLA_CACHE),
    ("jax_persistent_cache_min_compile_time_secs", 0),
]:
    jax.config.update(_option, _value)
    os.environ[_option.upper()] = str(_value)

# Pyro's models are small: a second intra-op thread costs more than it gives on 2 cores
torch.set_num_threads(1)

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
