"""Bad input at the API boundary raises a probgen error that names the problem."""

import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as dist
import pytest
import torch

import probgen as pg
from probgen.models import registry


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_observed_data_names_the_site(coin, bad):
    with pytest.raises(pg.DataError, match="observed site 'k'"):
        pg.mcmc(coin, 10, k=bad, progress=False)
    with pytest.raises(pg.DataError, match="observed site 'k'"):
        pg.svi(coin, 10, k=bad, progress=False)


def test_nan_inside_an_array_is_counted():
    def model(y):
        mu = numpyro.sample("mu", ndist.Normal(0, 1))
        numpyro.sample("y", ndist.Normal(mu, 1), obs=y)

    with pytest.raises(pg.DataError, match=r"'y' has 2 NaN or inf"):
        pg.mcmc(model, np.array([0.1, np.nan, 0.3, np.inf]), progress=False)


def test_unknown_sampler():
    with pytest.raises(pg.ArgumentError, match="sampler must be one of"):
        pg.mcmc(registry.get("coin").numpyro, 10, k=7.0, sampler="gibs")


@pytest.mark.parametrize(
    "option, value", [("chains", 0), ("warmup", -1), ("draws", 0), ("draws", 2.5)]
)
def test_counts_out_of_range(option, value):
    with pytest.raises(pg.ArgumentError, match=f"{option} must be an integer"):
        pg.mcmc(registry.get("coin").numpyro, 10, k=7.0, **{option: value})


def test_target_accept_out_of_range():
    with pytest.raises(pg.ArgumentError, match="target_accept"):
        pg.mcmc(registry.get("coin").numpyro, 10, k=7.0, target_accept=1.0)


def test_discrete_latent_for_nuts_names_the_site():
    def pyro_model():
        z = pyro.sample("z", dist.Bernoulli(0.3))
        pyro.sample("x", dist.Normal(z, 1.0), obs=0.5)

    def numpyro_model():
        z = numpyro.sample("z", ndist.Bernoulli(0.3))
        numpyro.sample("x", ndist.Normal(z, 1.0), obs=0.5)

    for model in (pyro_model, numpyro_model):
        with pytest.raises(pg.ModelError, match="site 'z' is a discrete latent.*enumerate"):
            pg.mcmc(model, sampler="hmc", progress=False)


def test_unknown_backend_and_device():
    with pytest.raises(pg.ArgumentError, match="backend must be"):
        pg.mcmc(registry.get("coin").numpyro, 10, k=7.0, backend="stan")
    with pytest.raises(pg.ArgumentError, match="device must be"):
        pg.mcmc(registry.get("coin").numpyro, 10, k=7.0, device="tpu")


def test_not_a_program():
    with pytest.raises(pg.ModelError, match="no pyro.sample or numpyro.sample"):
        pg.mcmc(lambda: None)
    with pytest.raises(pg.ArgumentError, match="callable"):
        pg.mcmc("coin")


def test_model_that_fails_before_sampling_asks_for_backend():
    def model(x):
        return x.no_such_attribute

    with pytest.raises(pg.ModelError, match="backend='pyro'"):
        pg.mcmc(model, 1.0)


def test_svi_arguments():
    with pytest.raises(pg.ArgumentError, match="steps must be"):
        pg.svi(registry.get("coin").pyro, 10, k=7.0, steps=0)
    with pytest.raises(pg.ArgumentError, match="guide must be one of"):
        pg.svi(registry.get("coin").pyro, 10, k=7.0, guide="gaussian")
    with pytest.raises(pg.ArgumentError, match="elbo must be one of"):
        pg.svi(registry.get("coin").pyro, 10, k=7.0, elbo="iwae")
    with pytest.raises(pg.ArgumentError, match="lr must be positive"):
        pg.svi(registry.get("coin").pyro, 10, k=7.0, lr=0.0)


def test_init_names_an_unknown_site():
    with pytest.raises(pg.ArgumentError, match=r"init names \['phi'\]"):
        pg.mcmc(registry.get("coin").numpyro, 10, k=7.0, init={"phi": 0.5})


def test_sampler_objects_and_settings():
    from probgen.inference.mcmc import NUTS

    with pytest.raises(pg.ArgumentError, match=r"\['target_accept'\] apply to samplers given"):
        pg.mcmc(registry.get("coin").numpyro, 10, k=7.0, sampler=NUTS(), target_accept=0.9)
    with pytest.raises(pg.ArgumentError, match="a name or a sampler object"):
        pg.mcmc(registry.get("coin").numpyro, 10, k=7.0, sampler=3)


@pytest.mark.parametrize("name, needs", [("ula", "step_size"), ("independence", "proposal")])
def test_sampler_name_without_its_required_setting(name, needs):
    with pytest.raises(pg.ArgumentError, match=f"needs \\['{needs}'\\]"):
        pg.mcmc(registry.get("coin").numpyro, 10, k=7.0, sampler=name)


def test_string_data_names_the_site(coin):
    with pytest.raises(pg.DataError, match="site 'k'"):
        pg.mcmc(coin, 10, k="seven", progress=False)


@pytest.mark.parametrize(
    "entry, option, value",
    [
        ("mcmc", "seed", "0"),
        ("mcmc", "chains", True),
        ("mcmc", "target_accept", "high"),
        ("svi", "lr", "fast"),
        ("svi", "lr_decay", "slow"),
        ("svi", "alpha", "zero"),
        ("svi", "particles", True),
        ("svi", "seed", 1.5),
    ],
)
def test_numeric_options_refuse_strings_and_bools(entry, option, value):
    with pytest.raises(pg.ArgumentError, match=f"^{option} must"):
        getattr(pg, entry)(registry.get("coin").numpyro, 10, k=7.0, **{option: value})


@pytest.mark.parametrize("option, value", [("lr", "fast"), ("clip_norm", "big"), ("seed", True)])
def test_fit_numeric_options_refuse_strings_and_bools(option, value):
    from probgen.models import VectorRealNVP

    with pytest.raises(pg.ArgumentError, match=f"^{option} must"):
        pg.fit(VectorRealNVP((2,)), torch.zeros(4, 2), steps=1, **{option: value})


def test_misspelt_option_is_named_with_the_nearest_option(coin):
    with pytest.raises(
        pg.ArgumentError,
        match=r"'chain' is neither a pg.mcmc option nor a "
        r"parameter of \w+\(n.*did you mean 'chains'",
    ):
        pg.mcmc(coin, 10, k=7.0, chain=2)
    with pytest.raises(pg.ArgumentError, match=r"'step' is neither a pg.svi option.*'steps'"):
        pg.svi(coin, 10, k=7.0, step=10)


def test_program_with_var_keywords_takes_any_keyword():
    def model(n, **extras):
        theta = pyro.sample("theta", dist.Beta(1.0, 1.0))
        pyro.sample("k", dist.Binomial(n, theta), obs=extras["heads"])

    post = pg.mcmc(model, 10, heads=7.0, chains=1, warmup=10, draws=10, progress=False)
    assert post.samples["theta"].shape == (1, 10)


def test_program_without_latent_sites_is_refused():
    def pyro_model(y):
        pyro.sample("y", dist.Normal(0.0, 1.0), obs=y)

    def numpyro_model(y):
        numpyro.sample("y", ndist.Normal(0.0, 1.0), obs=y)

    for model in (pyro_model, numpyro_model):
        with pytest.raises(pg.ModelError, match=f"{model.__name__} has no latent.*nothing"):
            pg.mcmc(model, np.zeros(3), progress=False)
        with pytest.raises(pg.ModelError, match=f"{model.__name__} has no latent"):
            pg.svi(model, np.zeros(3), progress=False)


def test_init_outside_the_support_names_the_site_and_support(coin):
    with pytest.raises(pg.ArgumentError, match=r"site 'theta' lies outside .*support.*Interval"):
        pg.mcmc(coin, 10, k=7.0, init={"theta": 1.5}, progress=False)
    with pytest.raises(pg.ArgumentError, match=r"init names \['thetta'\]"):
        pg.mcmc(coin, 10, k=7.0, init={"thetta": 0.5}, progress=False)


def test_init_on_the_edge_of_the_support_is_refused_where_its_map_is_infinite():
    """NumPyro's logit(0) is −∞, which NumPyro's own init search reports only as "Cannot
    find valid initial parameters"; Pyro's biject_to clamps the edge to a finite point."""
    coin = registry.get("coin")
    for theta in (0.0, 1.0, -1e-300):
        with pytest.raises(pg.ArgumentError, match=r"site 'theta' .* or on its edge"):
            pg.mcmc(coin.numpyro, 10, k=7.0, init={"theta": theta}, progress=False)
    post = pg.mcmc(coin.pyro, 10, k=7.0, init={"theta": 0.0}, chains=1, warmup=50, draws=50,
                   progress=False)
    assert np.all((0 < post.samples["theta"]) & (post.samples["theta"] < 1))
