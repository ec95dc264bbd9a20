"""NUTS and HMC through pg.mcmc, against the coin's exact Beta(8, 4) posterior."""

import numpy as np
import pytest
from scipy import stats

import probgen as pg
from probgen.models import registry

# the coin's posterior for k = 7 heads in n = 10 tosses under a flat prior
EXACT = stats.beta(8, 4)

# Pyro's kernels take milliseconds a step: its chains are kept short
SETTINGS = {
    "pyro": dict(chains=1, warmup=300, draws=1500),
    "numpyro": dict(chains=4, warmup=1000, draws=1000),
}


def test_nuts_coin_matches_beta_8_4(coin, backend):
    settings = SETTINGS[backend]
    post = pg.mcmc(coin, 10, k=7.0, seed=1, progress=False, **settings)
    theta = post.samples["theta"]
    assert theta.shape == (settings["chains"], settings["draws"])
    # within 4 Monte Carlo standard errors, as the HMC test below; the error is about
    # 0.006 for Pyro's one chain and 0.002 for NumPyro's four, so a bias of 0.03 fails
    mcse = post.summary(round_to="none").loc["theta", "mcse_mean"]
    assert mcse < 0.008
    assert abs(theta.mean() - EXACT.mean()) < 4 * mcse
    assert abs(theta.std() - EXACT.std()) < 0.1 * EXACT.std()
    assert post.check() == []


def test_hmc_coin_mean_within_monte_carlo_error(coin):
    post = pg.mcmc(
        coin, 10, k=7.0, sampler="hmc", chains=1, warmup=200, draws=800, seed=2, progress=False
    )
    row = post.summary(round_to="none").loc["theta"]
    assert abs(row["mean"] - EXACT.mean()) < 4 * row["mcse_mean"]
    assert abs(row["sd"] - EXACT.std()) < 0.15 * EXACT.std()


def test_sample_stats(coin):
    post = pg.mcmc(coin, 10, k=7.0, chains=2, warmup=100, draws=100, seed=0, progress=False)
    stats = post.to_arviz().sample_stats
    expected = {"diverging", "step_size"}
    if post.attrs["backend"] == "numpyro":
        expected |= {"energy", "n_steps", "tree_depth", "acceptance_rate"}
    assert expected <= set(stats.data_vars)
    assert stats["diverging"].shape == (2, 100)
    assert not stats["diverging"].values.any()
    # one step size per chain after warm-up: adaptation has stopped
    step = stats["step_size"].values
    assert np.all(step == step[:, :1])


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_init_value_picks_the_mode_and_seed_reproduces(backend):
    """Two modes at ±10 with no mass between them: a chain stays where init puts it."""
    import jax
    import numpyro
    import numpyro.distributions as ndist
    import pyro
    import pyro.distributions as dist
    import torch

    if backend == "pyro":

        def model():
            x = pyro.sample("x", dist.Normal(0.0, 30.0))
            modes = dist.Normal(torch.tensor([-10.0, 10.0]), 1.0).log_prob(x)
            pyro.factor("modes", torch.logsumexp(modes, -1))
    else:

        def model():
            x = numpyro.sample("x", ndist.Normal(0.0, 30.0))
            modes = ndist.Normal(np.array([-10.0, 10.0]), 1.0).log_prob(x)
            numpyro.factor("modes", jax.nn.logsumexp(modes, -1))

    kwargs = dict(chains=1, warmup=50, draws=50, seed=3, progress=False)
    a = pg.mcmc(model, init={"x": 10.0}, **kwargs).samples["x"]
    b = pg.mcmc(model, init={"x": 10.0}, **kwargs).samples["x"]
    c = pg.mcmc(model, init={"x": -10.0}, **kwargs).samples["x"]
    np.testing.assert_array_equal(a, b)
    assert np.all(a > 5) and np.all(c < -5)


def test_dense_mass_on_correlated_gaussian():
    import numpyro
    import numpyro.distributions as ndist

    cov = np.array([[1.0, 0.95], [0.95, 1.0]])

    def model():
        numpyro.sample("x", ndist.MultivariateNormal(np.zeros(2), cov))

    post = pg.mcmc(model, chains=1, warmup=500, draws=3000, dense_mass=True, seed=0, progress=False)
    x = post.flat()["x"]
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.1)


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_enumerated_mixture_is_sampled_with_the_discrete_site_summed_out(backend):
    """The posterior of a mixture weight, z enumerated out, against quadrature."""
    import numpyro
    import numpyro.distributions as ndist
    import pyro
    import pyro.distributions as dist
    from scipy import integrate, stats

    y = np.array([-2.1, -1.9, -2.3, 2.0, 1.8, 2.2, 2.1, -2.0])

    def pyro_model(y):
        w = pyro.sample("w", dist.Beta(1.0, 1.0))
        with pyro.plate("data", len(y)):
            z = pyro.sample("z", dist.Bernoulli(w), infer={"enumerate": "parallel"})
            pyro.sample("y", dist.Normal(4.0 * z - 2.0, 1.0), obs=y)

    def numpyro_model(y):
        w = numpyro.sample("w", ndist.Beta(1.0, 1.0))
        with numpyro.plate("data", len(y)):
            z = numpyro.sample("z", ndist.Bernoulli(w), infer={"enumerate": "parallel"})
            numpyro.sample("y", ndist.Normal(4.0 * z - 2.0, 1.0), obs=y)

    def unnormalized(w):
        like = w * stats.norm.pdf(y, 2.0, 1.0) + (1 - w) * stats.norm.pdf(y, -2.0, 1.0)
        return np.prod(like)

    norm = integrate.quad(unnormalized, 0, 1)[0]
    exact_mean = integrate.quad(lambda w: w * unnormalized(w), 0, 1)[0] / norm
    model = pyro_model if backend == "pyro" else numpyro_model
    draws = 300 if backend == "pyro" else 1000  # Pyro enumerates in Python at every step
    post = pg.mcmc(model, y, chains=1, warmup=200, draws=draws, seed=0, progress=False)
    row = post.summary(round_to="none").loc["w"]
    assert abs(row["mean"] - exact_mean) < 4 * row["mcse_mean"]


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_flat_prior_gives_the_likelihood_posterior(backend):
    """μ flat, y_i ~ N(μ, 1): μ | y ~ N(ȳ, 1/√n). ImproperUniform cannot be sampled."""
    import numpyro
    import numpyro.distributions as ndist
    import pyro
    import pyro.distributions as dist

    def pyro_model(y):
        mu = pyro.sample("mu", dist.ImproperUniform(dist.constraints.real, (), ()))
        with pyro.plate("data", len(y)):
            pyro.sample("y", dist.Normal(mu, 1.0), obs=y)

    def numpyro_model(y):
        mu = numpyro.sample("mu", ndist.ImproperUniform(ndist.constraints.real, (), ()))
        with numpyro.plate("data", len(y)):
            numpyro.sample("y", ndist.Normal(mu, 1.0), obs=y)

    y = np.random.default_rng(0).normal(0.3, 1.0, size=16)
    model = pyro_model if backend == "pyro" else numpyro_model
    post = pg.mcmc(model, y, chains=1, warmup=200, draws=800, seed=0, progress=False)
    row = post.summary(round_to="none").loc["mu"]
    assert abs(row["mean"] - y.mean()) < 4 * row["mcse_mean"]
    assert abs(row["sd"] - 0.25) < 0.1 * 0.25


def test_sampler_object_equals_its_name():
    from probgen.inference.mcmc import NUTS

    coin = registry.get("coin").numpyro
    options = dict(chains=1, warmup=100, draws=100, seed=0, progress=False)
    by_name = pg.mcmc(coin, 10, k=7.0, target_accept=0.9, **options)
    by_object = pg.mcmc(coin, 10, k=7.0, sampler=NUTS(target_accept=0.9), **options)
    np.testing.assert_array_equal(by_name.samples["theta"], by_object.samples["theta"])
    assert by_object.attrs["sampler"] == "nuts"


def test_pyro_nuts_info_marks_exactly_the_draws_pyro_records_as_divergent():
    """A fixed step too large for the narrow axis (0.3 against sd 0.1): about half diverge."""
    import pyro
    import pyro.distributions as dist
    import torch

    from probgen.inference.mcmc import PyroNUTS

    def model():
        pyro.sample("x", dist.Normal(torch.zeros(2), torch.tensor([1.0, 0.1])).to_event(1))

    pyro.set_rng_seed(0)
    kernel = PyroNUTS(model, step_size=0.3, adapt_step_size=False)
    flags = []

    def hook(kernel, params, stage, i):
        if stage.startswith("Sample"):
            flags.append(kernel.info["diverging"])

    mcmc = pyro.infer.MCMC(kernel, num_samples=60, warmup_steps=10, hook_fn=hook)
    mcmc.run()
    recorded = mcmc.diagnostics()["divergences"]["chain 0"]
    assert 0 < len(recorded) < 60
    assert np.flatnonzero(flags).tolist() == recorded


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_every_sampler_builds_kernels_that_declare_their_statistics(backend):
    import numpyro.distributions as ndist
    import pyro.distributions as pdist

    from probgen.inference.kernels import Kernel, PyroKernel
    from probgen.inference.samplers import SAMPLERS, Sampler, resolve
    from probgen.programs import prepare

    program = prepare(registry.get("coin").program(backend), (10,), {"k": 7.0})
    beta = (pdist if backend == "pyro" else ndist).Beta(2.0, 2.0)
    required = {"ula": {"step_size": 0.1}, "independence": {"proposal": {"theta": beta}}}
    for name in SAMPLERS:
        sampler = resolve(name, **required.get(name, {}))
        assert isinstance(sampler, Sampler)
        kernel = sampler.kernel(program, None)()
        assert isinstance(kernel, PyroKernel if backend == "pyro" else Kernel), name
        assert set(kernel.sample_stats) <= {
            "acceptance_rate", "step_size", "diverging", "energy", "n_steps"
        }, name  # fmt: skip
