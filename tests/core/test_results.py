"""Posterior: ArviZ groups, pointwise likelihood, predictive draws, netCDF round trip."""

import arviz as az
import numpy as np
import pytest
import torch
from scipy import stats

import probgen as pg
from probgen.diagnostics import check
from probgen.models import registry


@pytest.fixture(scope="module")
def numpyro_post():
    return pg.mcmc(
        registry.get("coin").numpyro,
        10,
        k=7.0,
        chains=2,
        warmup=300,
        draws=1000,
        seed=0,
        progress=False,
    )


def test_arviz_groups_and_pointwise_log_likelihood(coin):
    post = pg.mcmc(coin, 10, k=7.0, chains=2, warmup=100, draws=100, seed=0, progress=False)
    idata = post.to_arviz()
    for group in ("posterior", "sample_stats", "log_likelihood", "observed_data"):
        assert hasattr(idata, group), group
    assert idata.observed_data["k"].values.ravel().tolist() == [7.0]
    theta = post.samples["theta"].astype(float)
    exact = stats.binom.logpmf(7, 10, theta)
    np.testing.assert_allclose(idata.log_likelihood["k"].values, exact, rtol=1e-4)


def test_pyro_log_likelihood_without_vectorization():
    """A program that cannot broadcast over draws falls back to one trace per draw."""
    import pyro
    import pyro.distributions as dist

    def model(y):
        mu = pyro.sample("mu", dist.Normal(0.0, 1.0))
        for i in range(len(y)):  # float() fails on a batch of draws
            pyro.sample(f"y{i}", dist.Normal(float(mu), 1.0), obs=y[i])

    y = torch.tensor([0.3, -0.2])
    post = pg.Posterior({"mu": np.array([[0.1, 0.5, -1.0]])}, program=None)
    post.program = pg.programs.prepare(model, (y,), {})
    ll = post.to_arviz().log_likelihood
    mu = np.array([0.1, 0.5, -1.0])
    np.testing.assert_allclose(ll["y1"].values[0], stats.norm.logpdf(-0.2, mu, 1.0), rtol=1e-5)


def test_predictive_is_the_beta_binomial(coin):
    """The posterior predictive of k under Beta(8, 4) is BetaBinomial(10, 8, 4)."""
    post = pg.mcmc(coin, 10, k=7.0, chains=1, warmup=300, draws=1000, seed=0, progress=False)
    k_rep = post.predictive(4000, seed=1)["k"]
    assert k_rep.shape == (4000,)
    freq = np.bincount(k_rep.astype(int), minlength=11) / k_rep.size
    tv = 0.5 * np.abs(freq - stats.betabinom.pmf(np.arange(11), 10, 8, 4)).sum()
    assert tv < 0.05


def test_save_load_round_trip(numpyro_post, tmp_path):
    path = numpyro_post.save(tmp_path / "post.nc")
    assert not list(tmp_path.glob("*.tmp"))
    loaded = pg.Posterior.load(path)
    assert loaded.summary().equals(numpyro_post.summary())
    np.testing.assert_array_equal(loaded.samples["theta"], numpyro_post.samples["theta"])
    assert loaded.check() == numpyro_post.check() == []
    with pytest.raises(pg.ArgumentError, match="needs the program"):
        loaded.predictive(10)


def test_summary_is_arviz_summary(numpyro_post):
    table = numpyro_post.summary()
    reference = az.summary(az.from_dict(posterior=numpyro_post.samples))
    assert table.equals(reference)
    assert {"mean", "sd", "ess_bulk", "ess_tail", "r_hat"} <= set(table.columns)


def _idata(posterior, **sample_stats):
    return az.from_dict(posterior=posterior, sample_stats=sample_stats or None)


def test_check_flags_each_problem():
    rng = np.random.default_rng(0)
    good = rng.normal(size=(4, 1000))
    assert check(_idata({"x": good})) == []
    # chains centred apart: R-hat
    shifted = good + np.arange(4)[:, None]
    assert any("r_hat of x" in p for p in check(_idata({"x": shifted})))
    # a random walk: tiny ESS
    walk = np.cumsum(rng.normal(size=(4, 1000)), axis=1)
    assert any("bulk ESS of x" in p for p in check(_idata({"x": walk})))
    # divergences are counted
    diverging = np.zeros((4, 1000), bool)
    diverging[1, 5] = diverging[2, 7] = True
    problems = check(_idata({"x": good}, diverging=diverging))
    assert problems == [
        "2 divergent transition(s) after warm-up: raise target_accept or "
        "reparameterize (e.g. non-centered)"
    ]
    # slowly varying energy: E-BFMI = Σ ΔE² / Σ (E − Ē)² is small
    energy = np.cumsum(rng.normal(size=(4, 1000)), axis=1)
    problems = check(_idata({"x": good}, energy=energy))
    assert sum("E-BFMI of chain" in p for p in problems) == 4
    # a vector site names the offending component
    vec = np.stack([good, shifted], axis=-1)
    assert any("r_hat of x[1]" in p for p in check(_idata({"x": vec})))


def test_check_of_one_chain_leaves_r_hat_out_quietly(capfd):
    """A guide's draws are one chain: ESS still applies, R̂ (which compares chains) does
    not, and ArviZ's "Shape validation failed" must not reach the user."""
    rng = np.random.default_rng(1)
    walk = np.cumsum(rng.normal(size=(1, 1013)), axis=1)  # a draw count of its own:
    # ArviZ logs each message once per process
    problems = pg.Posterior({"x": walk}, attrs={"sampler": "svi"}).check()
    assert any(p.startswith("bulk ESS of x is") and "< 100" in p for p in problems)
    assert not any("r_hat" in p for p in problems)
    assert pg.Posterior({"x": rng.normal(size=(1, 1013))}).check() == []
    out, err = capfd.readouterr()
    assert "Shape validation" not in out + err


def test_load_refuses_a_missing_or_foreign_file_and_leaves_it_alone(numpyro_post, tmp_path):
    whole = numpyro_post.save(tmp_path / "post.nc").read_bytes()
    (tmp_path / "truncated.nc").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "empty.nc").write_bytes(b"")
    (tmp_path / "text.nc").write_text("theta,1\n")
    az.from_dict(sample_stats={"lp": np.zeros((1, 4))}).to_netcdf(
        tmp_path / "stats.nc", engine="h5netcdf"
    )
    for name, why in [
        ("missing.nc", "does not exist"),
        ("truncated.nc", "is not a probgen posterior file: it cannot be read as netCDF"),
        ("empty.nc", "is not a probgen posterior file: it cannot be read as netCDF"),
        ("text.nc", "is not a probgen posterior file: it cannot be read as netCDF"),
        ("stats.nc", "is not a probgen posterior file: it has no posterior group"),
    ]:
        before = (tmp_path / name).read_bytes() if name != "missing.nc" else None
        with pytest.raises(pg.ArgumentError) as caught:
            pg.Posterior.load(tmp_path / name)
        assert str(tmp_path / name) in str(caught.value) and why in str(caught.value), name
        if before is not None:
            assert (tmp_path / name).read_bytes() == before
    assert not (tmp_path / "missing.nc").exists()
