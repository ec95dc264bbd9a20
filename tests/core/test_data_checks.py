"""pg.mcmc checks the data the user passed, not values that the program computes.

Residual likelihoods (posteriordb's arma11: ``obs=err(θ)``) run; NaN or inf in an argument
or in an observed value computed from the arguments alone is refused naming it; a program
that cannot combine its arguments' shapes is refused naming the site and the shapes.
"""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as dist
import pytest
import torch

import probgen as pg
from probgen.datasets import posteriordb
from probgen.models import registry
from probgen.programs import prepare

ARMA = "arma-arma11"


# posteriordb's arma11, the zoo's twins: the residuals err_t = y_t − (μ + φ y_{t−1} + θ err_{t−1})
# are the observed site, computed from the latents
numpyro_arma11 = registry.get("arma11").numpyro
pyro_arma11 = registry.get("arma11").pyro


needs_posteriordb = pytest.mark.skipif(
    posteriordb.root() is None, reason="../shared/reference/posteriordb not found"
)


@needs_posteriordb
def test_arma11_residuals_are_not_checked_as_data():
    data = posteriordb.load(ARMA)
    explosive = {"mu": 0.0, "phi": 2.0, "theta": 2.0, "sigma": 1.0}
    for model in (numpyro_arma11, pyro_arma11):
        program = prepare(model, (), data, init=explosive)
        # with |θ| > 1 the recursion overflows (float32): the residuals are not finite
        assert not np.isfinite(program.values(["err"])["err"]).all()
        assert program.sites()["err"].from_latents
        program.check_data()  # no DataError


@needs_posteriordb
@pytest.mark.parametrize("init", [None, {"mu": 0.0, "phi": 0.9, "theta": 0.0, "sigma": 0.2}])
def test_numpyro_arma11_draws_are_raw_numpyro_draws(init):
    data = posteriordb.load(ARMA)
    strategy = numpyro.infer.init_to_uniform
    if init is not None:
        strategy = numpyro.infer.init_to_value(values={k: np.asarray(v) for k, v in init.items()})
    raw = numpyro.infer.MCMC(
        numpyro.infer.NUTS(numpyro_arma11, init_strategy=strategy),
        num_warmup=200,
        num_samples=200,
        progress_bar=False,
    )
    raw.run(jax.random.PRNGKey(0), data["T"], jnp.asarray(data["y"]))
    post = pg.mcmc(
        numpyro_arma11, **data, chains=1, warmup=200, draws=200, init=init, progress=False
    )
    for site, draws in raw.get_samples().items():
        np.testing.assert_array_equal(post.samples[site][0], np.asarray(draws), err_msg=site)


@needs_posteriordb
def test_pyro_arma11_draws_are_raw_pyro_draws():
    data = posteriordb.load(ARMA)
    pyro.set_rng_seed(0)
    raw = pyro.infer.MCMC(
        pyro.infer.NUTS(pyro_arma11), warmup_steps=15, num_samples=10, disable_progbar=True
    )
    raw.run(data["T"], torch.as_tensor(data["y"], dtype=torch.get_default_dtype()))
    post = pg.mcmc(pyro_arma11, **data, chains=1, warmup=15, draws=10, progress=False)
    for site, draws in raw.get_samples().items():
        np.testing.assert_array_equal(post.samples[site][0], draws.numpy(), err_msg=site)


def test_sites_start_at_init():
    data = {"T": 3, "y": np.array([0.1, 0.2, 0.3])}
    init = {"mu": 0.5, "phi": 0.25, "theta": -0.5, "sigma": 2.0}
    for model in (numpyro_arma11, pyro_arma11):
        values = prepare(model, (), data, init=init).values(list(init))
        for name, value in init.items():
            np.testing.assert_allclose(values[name], value)


def _regressions():
    def pyro_regression(x, y):
        a = pyro.sample("a", dist.Normal(0.0, 1.0))
        with pyro.plate("data", len(x)):
            pyro.sample("y", dist.Normal(a * x, 1.0), obs=y)

    def numpyro_regression(x, y):
        a = numpyro.sample("a", ndist.Normal(0.0, 1.0))
        with numpyro.plate("data", len(x)):
            numpyro.sample("y", ndist.Normal(a * x, 1.0), obs=y)

    return [pyro_regression, numpyro_regression]


@pytest.mark.parametrize("model", _regressions(), ids=["pyro", "numpyro"])
def test_nan_in_a_covariate_names_the_argument(model):
    x = np.linspace(0.0, 1.0, 20)
    x[4] = np.nan
    with pytest.raises(pg.DataError, match="argument 'x' has 1 NaN or inf"):
        pg.mcmc(model, x, np.ones(20), progress=False)


@pytest.mark.parametrize("model", _regressions(), ids=["pyro", "numpyro"])
def test_wrong_shapes_name_the_site_and_the_shapes(model):
    x, y = np.linspace(0.0, 1.0, 20), np.ones(19)
    with pytest.raises(pg.DataError, match=r"site 'y'.*x: \(20,\), y: \(19,\)") as error:
        pg.mcmc(model, x, y, progress=False)
    assert isinstance(error.value.__cause__, RuntimeError | ValueError | TypeError)
    assert not isinstance(error.value.__cause__, pg.ProbgenError)


def test_a_failure_between_sample_sites_names_the_last_one():
    def model(x, z, y):
        a = pyro.sample("a", dist.Normal(0.0, 1.0))
        pyro.sample("y", dist.Normal(a * x + z, 1.0).to_event(1), obs=y)

    with pytest.raises(pg.DataError, match=r"after its sample site 'a'.*z: \(19,\)") as error:
        pg.mcmc(model, np.ones(20), np.ones(19), np.ones(19), progress=False)
    assert isinstance(error.value.__cause__, RuntimeError)


def test_an_observed_value_computed_from_data_alone_is_checked():
    def model(y):
        mu = numpyro.sample("mu", ndist.Normal(0.0, 1.0))
        numpyro.sample("log_y", ndist.Normal(mu, 1.0), obs=jnp.log(y))

    with pytest.raises(pg.DataError, match="observed site 'log_y' has 1 NaN"):
        pg.mcmc(model, np.array([1.0, -1.0, 2.0]), progress=False)
