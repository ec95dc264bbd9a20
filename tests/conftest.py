"""Shared test settings, the coin of each library as a fixture, and float64."""

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator

import jax
import pytest
import torch

from probgen.models import registry

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


@pytest.fixture(params=["pyro", "numpyro"])
def backend(request):
    """Each of the two libraries."""
    return request.param


@pytest.fixture
def coin(backend):
    """The zoo's coin, θ ~ Beta(1, 1); k ~ Binomial(n, θ), as a program of ``backend``.

    With k = 7 heads in n = 10 tosses its posterior is Beta(8, 4).
    """
    return registry.get("coin").program(backend)


@pytest.fixture
def float64() -> Iterator[None]:
    """Run torch and jax in float64 for the test, then restore both settings."""
    torch_dtype, jax_x64 = torch.get_default_dtype(), jax.config.read("jax_enable_x64")
    torch.set_default_dtype(torch.float64)
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        torch.set_default_dtype(torch_dtype)
        jax.config.update("jax_enable_x64", jax_x64)
