"""SGLD on Pyro and NumPyro programs that subsample their data with a plate.

The conjugate model μ ~ N(0, 10²), y_i ~ N(μ, 1) has the posterior
N(Σy / (N + 1/100), 1 / (N + 1/100)); its score is linear in μ, so SGLD's stationary
mean is exact whatever the step. Under this weak prior the mean barely depends on the
N/B scaling of the minibatch likelihood; the spread does: unscaled, the chain would sample
N(ȳ_B, 1/B), with a standard deviation √(N/B) ≈ 3.2 times the posterior's.
Logistic regression is checked against NUTS on the full-data model (the same program
with ``subsample_size=None``).
"""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
import pytest
import torch

import probgen as pg
from probgen.errors import ArgumentError
from probgen.inference.sgld import SGLD

N, B = 1000, 100


def numpyro_normal(y, subsample_size=None):
    mu = numpyro.sample("mu", ndist.Normal(0.0, 10.0))
    with numpyro.plate("data", y.shape[0], subsample_size=subsample_size) as idx:
        numpyro.sample("y", ndist.Normal(mu, 1.0), obs=y[idx])


def pyro_normal(y, subsample_size=None):
    mu = pyro.sample("mu", pdist.Normal(0.0, 10.0))
    with pyro.plate("data", y.shape[0], subsample_size=subsample_size) as idx:
        pyro.sample("y", pdist.Normal(mu, 1.0), obs=y[idx])


def numpyro_logistic(x, y, subsample_size=None):
    w = numpyro.sample("w", ndist.Normal(0.0, 5.0).expand([x.shape[1]]).to_event(1))
    with numpyro.plate("data", x.shape[0], subsample_size=subsample_size) as idx:
        numpyro.sample("y", ndist.Bernoulli(logits=x[idx] @ w), obs=y[idx])


def pyro_logistic(x, y, subsample_size=None):
    w = pyro.sample("w", pdist.Normal(0.0, 5.0).expand([x.shape[1]]).to_event(1))
    with pyro.plate("data", x.shape[0], subsample_size=subsample_size) as idx:
        pyro.sample("y", pdist.Bernoulli(logits=x[idx] @ w), obs=y[idx])


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def normal_data():
    y = np.random.default_rng(0).normal(1.5, 1.0, N).astype(np.float32)
    exact_mean = y.astype(np.float64).sum() / (N + 1 / 100)
    return y, exact_mean


@pytest.fixture(scope="module")
def logistic_data():
    """Intercept and two features, and NUTS's posterior mean of w on the full data."""
    rng = np.random.default_rng(1)
    x = np.column_stack([np.ones(N), rng.normal(size=(N, 2))]).astype(np.float32)
    p = 1 / (1 + np.exp(-x @ np.array([0.3, 0.5, -1.0])))
    y = (rng.uniform(size=N) < p).astype(np.float32)
    nuts = pg.mcmc(
        numpyro_logistic, jnp.asarray(x), jnp.asarray(y),
        chains=1, warmup=300, draws=600, seed=0, progress=False,
    )  # fmt: skip
    return x, y, nuts.samples["w"].mean(axis=(0, 1))


# --- 1. the step schedule η_t = a (b + t)^(−γ), t counting warm-up -----------------------


@pytest.mark.parametrize("backend", ["numpyro", "pyro"])
def test_step_size_follows_polynomial_schedule(backend, normal_data):
    y, _ = normal_data
    sampler = SGLD(step_size=2e-3, b=5.0, gamma=0.7)
    model, data = (
        (numpyro_normal, jnp.asarray(y)) if backend == "numpyro" else (pyro_normal, torch.tensor(y))
    )
    warmup, draws = 30, 50
    post = pg.mcmc(
        model, data, sampler=sampler, chains=1, warmup=warmup, draws=draws, seed=0,
        progress=False, subsample_size=B,
    )  # fmt: skip
    t = warmup + np.arange(draws)
    expected = 2e-3 * (5.0 + t) ** -0.7
    np.testing.assert_allclose(post.sample_stats["step_size"][0], expected, rtol=1e-5)
    np.testing.assert_allclose(sampler.step_size_at(t), expected)
    assert np.all(post.sample_stats["acceptance_rate"] == 1.0)
    assert post.attrs["sampler"] == "sgld"


def test_sampler_rejects_bad_settings():
    with pytest.raises(ArgumentError, match="gamma"):
        SGLD(gamma=1.5)
    with pytest.raises(ArgumentError, match="> 0"):
        SGLD(step_size=0.0)


# --- 2. the minibatch likelihood is scaled by N/B: the conjugate posterior mean ----------


@pytest.mark.parametrize(
    "backend, draws", [("numpyro", 3000), ("pyro", 3000)], ids=["numpyro", "pyro"]
)
def test_conjugate_posterior_mean(backend, draws, normal_data):
    y, exact_mean = normal_data
    model, data = (
        (numpyro_normal, jnp.asarray(y)) if backend == "numpyro" else (pyro_normal, torch.tensor(y))
    )
    post = pg.mcmc(
        model, data, sampler=SGLD(), chains=1, warmup=500, draws=draws, seed=0,
        progress=False, subsample_size=B,
    )  # fmt: skip
    mu = post.samples["mu"]
    assert abs(mu.mean() - exact_mean) < 0.05
    # the N/B scaling: sd ≈ 1/√N (0.032), not 1/√B (0.1); gradient noise inflates it a little
    assert 0.6 < mu.std() * np.sqrt(N + 1 / 100) < 1.5


def test_pyro_potential_sees_a_fresh_subsample_each_call(normal_data):
    from pyro.infer.autoguide.initialization import init_to_median

    from probgen.inference.sgld import PyroSGLD

    y, _ = normal_data
    kernel = PyroSGLD(pyro_normal, SGLD(), init_strategy=init_to_median, max_plate_nesting=1)
    pyro.set_rng_seed(0)
    kernel.setup(0, torch.tensor(y), subsample_size=B)
    values = {float(kernel._potential_fn(kernel.initial_params)) for _ in range(5)}
    assert len(values) == 5


# --- 3. Bayesian logistic regression against NUTS on the full data ------------------------


def test_numpyro_logistic_regression_matches_nuts(logistic_data):
    x, y, nuts_mean = logistic_data
    post = pg.mcmc(
        numpyro_logistic, jnp.asarray(x), jnp.asarray(y), sampler=SGLD(step_size=1e-2),
        chains=1, warmup=1000, draws=3000, seed=0, progress=False, subsample_size=B,
    )  # fmt: skip
    sgld_mean = post.samples["w"].mean(axis=(0, 1))
    np.testing.assert_allclose(sgld_mean, nuts_mean, atol=0.1)


def test_pyro_logistic_regression_matches_nuts(logistic_data):
    x, y, nuts_mean = logistic_data
    post = pg.mcmc(
        pyro_logistic, torch.tensor(x), torch.tensor(y), sampler=SGLD(step_size=1e-2),
        chains=1, warmup=500, draws=2000, seed=0, progress=False, subsample_size=B,
    )  # fmt: skip
    sgld_mean = post.samples["w"].mean(axis=(0, 1))
    np.testing.assert_allclose(sgld_mean, nuts_mean, atol=0.1)


@pytest.mark.parametrize("model", [numpyro_normal, pyro_normal])
def test_sgld_by_name_and_arviz_without_pointwise_likelihood(model):
    """A subsampling program has no pointwise log-likelihood; the rest converts."""
    y = np.random.default_rng(1).normal(0.5, 1.0, size=N)
    post = pg.mcmc(
        model, y, subsample_size=B, sampler="sgld", chains=1, warmup=10, draws=20, progress=False
    )
    assert post.attrs["sampler"] == "sgld"
    with pytest.warns(UserWarning, match="subsamples its data"):
        idata = post.to_arviz()
    assert not hasattr(idata, "log_likelihood")
    assert {"acceptance_rate", "step_size"} <= set(idata.sample_stats.data_vars)
