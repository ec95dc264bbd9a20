"""ULA and MALA (kernels and functional torch API) against exact stationary laws.

ULA on N(0, s²) is the AR(1) chain x ← (1 − η/s²)x + √(2η)ξ, whose stationary variance
is s²/(1 − η/(2s²)) exactly; MALA's Hastings correction removes that bias.
"""

import arviz as az
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pytest
import torch
from scipy import stats

import probgen as pg
from probgen.datasets import posteriordb
from probgen.errors import ArgumentError
from probgen.inference.energy_samplers import annealed_langevin, langevin
from probgen.inference.mala import MALA
from probgen.inference.ula import ULA
from probgen.models import registry

# the coin's posterior for k = 7 heads in n = 10 tosses under a flat prior
BETA_8_4 = stats.beta(8, 4)


def ula_variance(s: float, eta: float) -> float:
    """The exact stationary variance of ULA with step η on N(0, s²)."""
    return s**2 / (1 - eta / (2 * s**2))


def normal_model(scale):
    numpyro.sample("x", ndist.Normal(0.0, scale))


def variance_and_error(x: np.ndarray) -> tuple[float, float]:
    """The variance of zero-mean chains (chains, draws) and its Monte Carlo standard error."""
    squares = x**2
    return squares.mean(), squares.std() / np.sqrt(az.ess(squares))


# --- 1. ULA's exact bias, and MALA's lack of it ------------------------------------------


def test_functional_ula_matches_exact_stationary_variance():
    s, eta = 1.0, 0.5
    x0 = torch.zeros(20_000, 1)
    g = torch.Generator().manual_seed(0)
    out = langevin(x0, 60, eta, score_fn=lambda x: -x / s**2, generator=g)
    var = out.samples.var().item()
    assert abs(var / ula_variance(s, eta) - 1) < 0.03
    assert abs(var / s**2 - 1) > 0.2  # the bias is real, far outside the 3 % band
    assert torch.all(out.acceptance_rate == 1)


def test_functional_mala_same_step_is_unbiased():
    s, eta, n = 1.0, 0.5, 20_000
    g = torch.Generator().manual_seed(1)
    out = langevin(
        torch.zeros(n, 1),
        80,
        eta,
        potential_fn=lambda x: (x**2).sum(-1) / (2 * s**2),
        metropolize=True,
        generator=g,
    )
    var = out.samples.var().item()
    assert abs(var - s**2) < 4 * s**2 * np.sqrt(2 / n)
    assert 0.5 < out.acceptance_rate.mean().item() < 1  # proposals are really rejected


def test_functional_langevin_rejects_metropolized_score():
    with pytest.raises(ValueError, match="energy"):
        langevin(torch.zeros(2, 1), 1, 0.1, score_fn=lambda x: -x, metropolize=True)


def test_functional_samplers_name_their_bad_arguments():
    x0, score = torch.zeros(2, 1), lambda x: -x
    with pytest.raises(ArgumentError, match="exactly one of potential_fn.*neither"):
        langevin(x0, 1, 0.1)
    with pytest.raises(ArgumentError, match="exactly one of potential_fn.*both"):
        langevin(x0, 1, 0.1, score_fn=score, potential_fn=lambda x: (x**2).sum(-1))
    with pytest.raises(ArgumentError, match="steps"):
        langevin(x0, 0, 0.1, score_fn=score)
    with pytest.raises(ArgumentError, match="step_size"):
        langevin(x0, 1, 0.0, score_fn=score)
    with pytest.raises(ArgumentError, match="x0"):
        langevin(torch.zeros(2), 1, 0.1, score_fn=score)
    with pytest.raises(ArgumentError, match="exactly one of potential_fn"):
        annealed_langevin(x0, [1.0], 1, 0.1)
    with pytest.raises(ArgumentError, match="sigmas"):
        annealed_langevin(x0, [], 1, 0.1, score_fn=lambda x, s: -x)


def test_annealed_langevin_from_a_potential_is_the_same_chain_as_from_its_score():
    """U(x, σ) = ‖x‖² / (2(1 + σ²)) has the score −x / (1 + σ²): autograd gives it exactly."""
    x0 = torch.randn(100, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sigmas, runs = [1.0, 0.3], []
    for fn in (
        {"score_fn": lambda x, s: -x / (1 + s**2)},
        {"potential_fn": lambda x, s: (x**2).sum(-1) / (2 * (1 + s**2))},
    ):
        g = torch.Generator().manual_seed(1)
        runs.append(annealed_langevin(x0, sigmas, 20, 0.1, generator=g, **fn))
    torch.testing.assert_close(runs[0], runs[1])


def test_numpyro_ula_kernel_matches_exact_stationary_variance():
    s, eta = 2.0, 2.0
    post = pg.mcmc(
        normal_model, s, sampler=ULA(eta), chains=1, warmup=200, draws=30_000, seed=0,
        progress=False,
    )  # fmt: skip
    var, error = variance_and_error(post.samples["x"])
    assert abs(var / ula_variance(s, eta) - 1) < 0.03
    assert abs(var - ula_variance(s, eta)) < 4 * error
    assert np.all(post.to_arviz().sample_stats["acceptance_rate"].values == 1)


def test_numpyro_mala_kernel_same_step_is_unbiased():
    s, eta = 2.0, 2.0
    post = pg.mcmc(
        normal_model, s, sampler=MALA(step_size=eta), chains=1, warmup=200, draws=30_000,
        seed=0, progress=False,
    )  # fmt: skip
    var, error = variance_and_error(post.samples["x"])
    assert abs(var - s**2) < 4 * error
    step = post.to_arviz().sample_stats["step_size"].values
    assert np.all(step == eta)  # a given step is kept, not adapted


# --- 2. MALA on the coin, both backends -------------------------------------------------

COIN = {
    "pyro": dict(chains=1, warmup=500, draws=2500),  # η settles later with M adapted
    "numpyro": dict(chains=1, warmup=500, draws=5000),
}


def test_mala_coin_matches_beta_8_4(backend):
    post = pg.mcmc(
        registry.get("coin").program(backend), 10, k=7.0, sampler=MALA(), seed=0,
        progress=False, **COIN[backend],
    )  # fmt: skip
    row = post.summary(round_to="none").loc["theta"]
    assert abs(row["mean"] - BETA_8_4.mean()) < 4 * row["mcse_mean"]
    assert abs(row["sd"] - BETA_8_4.std()) < 0.1 * BETA_8_4.std()
    sample_stats = post.to_arviz().sample_stats
    assert {"acceptance_rate", "step_size"} <= set(sample_stats.data_vars)
    assert abs(sample_stats["acceptance_rate"].values.mean() - 0.574) < 0.1
    step = sample_stats["step_size"].values
    assert np.all(step == step[:, :1])  # adaptation stops after warm-up


# --- 3. A correlated, badly scaled 2-D Gaussian -----------------------------------------

SCALES = np.array([1.0, 3.0])
COV = np.array([[1.0, 0.95], [0.95, 1.0]]) * np.outer(SCALES, SCALES)


def gaussian_2d():
    numpyro.sample("x", ndist.MultivariateNormal(np.zeros(2), COV))


def test_numpyro_mala_correlated_gaussian_covariance():
    post = pg.mcmc(
        gaussian_2d, sampler=MALA(adapt_mass=True), chains=2, warmup=1000, draws=10_000,
        seed=0, progress=False,
    )  # fmt: skip
    x = post.samples["x"].reshape(-1, 2)
    cov = np.cov(x.T)
    assert np.all(np.abs(cov / COV - 1) < 0.1), cov


# --- 4. posteriordb references (NumPyro) --------------------------------------------------

POSTERIORS = {
    "eight_schools_noncentered": dict(chains=2, warmup=1000, draws=10_000),
    "kidscore_momiq": dict(chains=2, warmup=1000, draws=10_000),
}


@pytest.mark.skipif(posteriordb.root() is None, reason="../shared/reference/posteriordb not found")
@pytest.mark.parametrize("name", sorted(POSTERIORS))
def test_numpyro_mala_reproduces_posteriordb_means(name):
    entry = registry.get(name)
    module = __import__(entry.pyro.__module__, fromlist=["POSTERIORDB"])
    reference = posteriordb.reference(module.POSTERIORDB)
    post = pg.mcmc(
        entry.numpyro, **entry.data(), sampler=MALA(adapt_mass=True), seed=0, progress=False,
        **POSTERIORS[name],
    )  # fmt: skip
    bad = []
    for param, ref in reference.items():
        site, _, index = param.partition("[")
        x = post.samples[site]
        if index:
            x = x[..., int(index.rstrip("]")) - 1]
        if abs(x.mean() - ref["mean"]) > 0.2 * ref["sd"]:
            bad.append(f"{param}: mean {x.mean():.4g} vs {ref['mean']:.4g} (sd {ref['sd']:.3g})")
    assert not bad, "\n".join(bad)


# --- 5. Annealed Langevin on a 1-D Gaussian mixture ---------------------------------------

WEIGHTS = torch.tensor([0.3, 0.7], dtype=torch.float64)
MEANS = torch.tensor([-2.0, 2.0], dtype=torch.float64)
SDS = torch.tensor([0.5, 0.5], dtype=torch.float64)


def smoothed_mixture_score(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """∇ log of Σ w_k N(x; μ_k, s_k² + σ²), the mixture convolved with N(0, σ²)."""
    var = SDS**2 + sigma**2
    log_terms = torch.log(WEIGHTS) - 0.5 * torch.log(var) - (x - MEANS) ** 2 / (2 * var)
    responsibilities = torch.softmax(log_terms, dim=-1)
    return (responsibilities * (MEANS - x) / var).sum(-1, keepdim=True)


def test_annealed_langevin_recovers_mixture_moments():
    n = 20_000
    mean = (WEIGHTS * MEANS).sum().item()
    var = (WEIGHTS * (SDS**2 + MEANS**2)).sum().item() - mean**2
    sigmas = torch.logspace(np.log10(5.0), np.log10(0.05), 10)
    g = torch.Generator().manual_seed(0)
    x0 = 10 * torch.rand(n, 1, generator=g, dtype=torch.float64) - 5
    x = annealed_langevin(x0, sigmas, 300, 2e-3, score_fn=smoothed_mixture_score, generator=g)
    assert abs(x.mean().item() - mean) < 4 * np.sqrt(var / n)
    squares = (x - mean) ** 2  # the variance's standard error from their spread
    assert abs(squares.mean().item() - var) < 4 * squares.std().item() / np.sqrt(n)
