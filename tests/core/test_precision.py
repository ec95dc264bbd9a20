"""``precision="float64"`` runs pg.mcmc and pg.svi in double precision on both libraries and
leaves torch's default dtype and JAX's ``jax_enable_x64`` as the caller had them.

References: the coin's closed-form posterior Beta(8, 4) (mean 2/3), raw NumPyro run under
x64 with the same seed (bit for bit), and posteriordb's gp_pois_regr reference.
"""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import numpyro.infer
import pytest
import scipy.stats
import torch

import probgen as pg
from probgen.cli import main
from probgen.datasets import posteriordb
from probgen.programs import precision_scope, to_backend

SHORT = dict(chains=1, warmup=200, draws=400, seed=0, progress=False)


def settings():
    return torch.get_default_dtype(), jax.config.jax_enable_x64


def test_float64_draws_match_the_closed_form_and_restore_the_settings(coin):
    before = settings()
    post = pg.mcmc(coin, 10, k=7.0, precision="float64", **SHORT)
    assert settings() == before
    assert post.samples["theta"].dtype == np.float64
    summary = post.summary()
    assert abs(summary.loc["theta", "mean"] - 2 / 3) < 4 * summary.loc["theta", "mcse_mean"]


def test_svi_fits_in_float64_and_restores_the_settings(coin):
    before = settings()
    vi = pg.svi(coin, 10, k=7.0, steps=20, precision="float64", progress=False)
    assert settings() == before
    assert all(np.asarray(v).dtype == np.float64 for v in vi.params.values())


def test_later_calls_run_in_the_precision_of_the_fit(coin):
    post = pg.mcmc(coin, 10, k=7.0, precision="float64", **SHORT)
    vi = pg.svi(coin, 10, k=7.0, steps=20, precision="float64", progress=False)
    before = settings()
    loglik = post.to_arviz().log_likelihood["k"].values
    theta = post.samples["theta"]
    assert loglik.dtype == np.float64
    np.testing.assert_allclose(loglik, scipy.stats.binom.logpmf(7, 10, theta), rtol=1e-12)
    assert vi.posterior(draws=5).samples["theta"].dtype == np.float64
    assert settings() == before


def test_settings_are_restored_when_the_call_raises(coin):
    before = settings()
    with pytest.raises(pg.ArgumentError, match="chain"):
        pg.mcmc(coin, 10, k=7.0, chain=2, precision="float64")
    with pytest.raises(pg.ArgumentError, match="precision must be one of"):
        pg.mcmc(coin, 10, k=7.0, precision="float16")
    assert settings() == before


def test_a_callers_float64_settings_survive_either_precision(coin, float64):
    for precision in ("float64", "float32"):
        pg.svi(coin, 10, k=7.0, steps=2, precision=precision, progress=False)
        assert settings() == (torch.float64, True)


def test_to_backend_makes_every_floating_input_float64():
    with precision_scope("float64"):
        for value in (
            np.ones(3, np.float32),
            torch.ones(3, dtype=torch.float32),
            jnp.ones(3, jnp.float32),
            [1.0],
        ):
            assert to_backend(value, "pyro", precision="float64").dtype == torch.float64
            assert to_backend(value, "numpyro", precision="float64").dtype == jnp.float64
        assert to_backend(np.arange(3), "pyro", precision="float64").dtype == torch.int64
        assert to_backend({"n": 3}, "numpyro", precision="float64") == {"n": 3}


def test_numpyro_float64_draws_equal_raw_numpyro_under_x64():
    def model(n, k):
        theta = numpyro.sample("theta", ndist.Beta(1.0, 1.0))
        numpyro.sample("k", ndist.Binomial(n, theta), obs=k)

    post = pg.mcmc(model, 10, k=7.0, precision="float64", **{**SHORT, "chains": 2})
    x64 = jax.config.jax_enable_x64
    numpyro.enable_x64()
    try:
        raw = numpyro.infer.MCMC(
            numpyro.infer.NUTS(model),
            num_warmup=SHORT["warmup"],
            num_samples=SHORT["draws"],
            num_chains=2,
            chain_method="sequential",
            progress_bar=False,
        )
        raw.run(jax.random.PRNGKey(0), 10, k=7.0)
        expected = np.asarray(raw.get_samples(group_by_chain=True)["theta"])
    finally:
        numpyro.enable_x64(x64)
    assert expected.dtype == post.samples["theta"].dtype == np.float64
    np.testing.assert_array_equal(post.samples["theta"], expected)


def test_cli_fit_with_precision_float64_saves_float64_draws(tmp_path, capsys):
    before = settings()
    argv = ["fit", "coin", "--precision", "float64", "--out", str(tmp_path), "--progress", "off"]
    assert main([*argv, "--chains", "1", "--warmup", "200", "--draws", "400"]) == 0
    assert settings() == before
    assert pg.Posterior.load(tmp_path / "posterior.nc").samples["theta"].dtype == np.float64


GP_POIS_REGR = "gp_pois_regr-gp_pois_regr"


def gp_pois_regr(N, x, k, y=None):
    """posteriordb's gp_pois_regr: f = L f̃, L L' = α² exp(−(x_i − x_j)²/(2ρ²)) + 1e-10 I,
    f̃ ~ N(0, I), ρ ~ Gamma(25, 4), α ~ half-N(0, 2), k_i ~ Poisson(exp f_i); y unused."""
    rho = numpyro.sample("rho", ndist.Gamma(25.0, 4.0))
    alpha = numpyro.sample("alpha", ndist.HalfNormal(2.0))
    f_tilde = numpyro.sample("f_tilde", ndist.Normal(0.0, 1.0).expand([N]).to_event(1))
    gram = alpha**2 * jnp.exp(-((x[:, None] - x[None, :]) ** 2) / (2 * rho**2))
    f = jnp.linalg.cholesky(gram + 1e-10 * jnp.eye(N)) @ f_tilde
    numpyro.sample("k", ndist.Poisson(jnp.exp(numpyro.deterministic("f", f))), obs=k)


@pytest.mark.skipif(
    posteriordb.root() is None or not (posteriordb.root() / GP_POIS_REGR).is_dir(),
    reason="../shared/reference/posteriordb/gp_pois_regr-gp_pois_regr not found",
)
def test_gp_pois_regr_matches_posteriordb_in_float64():
    # the 1e-10 jitter needs float64's Cholesky; the tolerance is test_posteriordb_nuts's
    reference = posteriordb.reference(GP_POIS_REGR)
    options = dict(chains=1, warmup=300, draws=600, target_accept=0.9, seed=0, progress=False)
    post = pg.mcmc(gp_pois_regr, **posteriordb.load(GP_POIS_REGR), precision="float64", **options)
    bad = []
    for param, ref in reference.items():
        site, _, index = param.partition("[")
        x = post.samples[site]
        x = (x[..., int(index[:-1]) - 1] if index else x).ravel()
        if (
            abs(x.mean() - ref["mean"]) > 0.15 * ref["sd"]
            or abs(x.std() - ref["sd"]) > 0.15 * ref["sd"]
        ):
            bad.append(f"{param}: mean {x.mean():.4g} vs {ref['mean']:.4g}, sd {x.std():.4g}")
    assert not bad, "\n".join(bad)
