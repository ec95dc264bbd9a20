"""pg.svi against closed forms on the coin: MAP, Laplace approximation and evidence."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit, logit

import probgen as pg
from probgen.models import registry

# the coin's posterior for k = 7 heads in n = 10 tosses under a flat prior
EXACT = stats.beta(8, 4)

LOG_EVIDENCE = -math.log(11.0)  # p(k=7 | n=10) under a flat prior is 1/11


def laplace_moments():
    """Laplace approximation of the coin posterior in the unconstrained space u = logit θ.

    log p(u | k) = 8 log σ(u) + 4 log(1 − σ(u)) + const peaks at σ(u) = 2/3 with
    curvature 12 σ(1 − σ) = 8/3.
    """
    return logit(2 / 3), math.sqrt(3 / 8)


def test_delta_guide_finds_the_map(coin):
    vi = pg.svi(coin, 10, k=7.0, guide="delta", steps=1500, lr=0.02, seed=0, progress=False)
    assert abs(vi.posterior(10).samples["theta"].mean() - 0.7) < 1e-3


def test_normal_guide_is_close_to_the_laplace_mean(coin):
    loc, scale = laplace_moments()
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    laplace_mean = float(weights @ expit(loc + scale * nodes) / weights.sum())
    vi = pg.svi(coin, 10, k=7.0, guide="normal", steps=2000, seed=0, progress=False)
    assert abs(vi.posterior(4000).samples["theta"].mean() - laplace_mean) < 0.02
    assert abs(laplace_mean - EXACT.mean()) < 0.02  # and both near the exact mean


def test_laplace_guide_is_the_laplace_approximation(coin):
    loc, scale = laplace_moments()
    vi = pg.svi(coin, 10, k=7.0, guide="laplace", steps=1500, lr=0.02, seed=0, progress=False)
    u = logit(vi.posterior(4000, seed=1).samples["theta"].ravel().astype(float))
    assert abs(u.mean() - loc) < 4 * scale / math.sqrt(u.size)
    assert abs(u.std() - scale) < 0.05 * scale


def exact_guide(backend):
    """The exact posterior Beta(8, 4) as a guide with one parameter, a = 8."""
    if backend == "pyro":
        import pyro
        import pyro.distributions as dist
        import torch

        def guide(n, k=None):
            a = pyro.param("a", torch.tensor(8.0))
            pyro.sample("theta", dist.Beta(a, 4.0))
    else:
        import numpyro
        import numpyro.distributions as ndist

        def guide(n, k=None):
            a = numpyro.param("a", 8.0)
            numpyro.sample("theta", ndist.Beta(a, 4.0))

    return guide


@pytest.mark.parametrize("elbo", ["trace", "renyi"])
def test_bound_is_the_evidence_when_the_guide_is_exact(coin, backend, elbo):
    """log p(x, z) − log q(z) = log p(x) for every z when q is the posterior."""
    vi = pg.svi(
        coin,
        10,
        k=7.0,
        guide=exact_guide(backend),
        elbo=elbo,
        particles=3,
        steps=1,
        lr=1e-9,
        progress=False,
    )
    assert abs(-vi.losses[0] - LOG_EVIDENCE) < 1e-4


def test_meanfield_elbo_estimates_the_evidence(coin, backend):
    vi = pg.svi(
        coin,
        10,
        k=7.0,
        guide=exact_guide(backend),
        elbo="meanfield",
        particles=4000,
        steps=1,
        lr=1e-9,
        progress=False,
    )
    assert abs(-vi.losses[0] - LOG_EVIDENCE) < 0.05


def test_nan_loss_stops_with_the_step(coin, backend):
    if backend == "pyro":
        import pyro
        import pyro.distributions as dist
        import torch

        def guide(n, k=None):
            pyro.sample("theta", dist.Beta(8.0, 4.0))
            pyro.factor("bad", pyro.param("a", torch.tensor(float("nan"))), has_rsample=True)
    else:
        import numpyro
        import numpyro.distributions as ndist

        def guide(n, k=None):
            numpyro.sample("theta", ndist.Beta(8.0, 4.0))
            numpyro.factor("bad", numpyro.param("a", float("nan")))

    import pyro

    # Pyro's argument validation would catch this NaN before the loss does
    with pyro.validation_enabled(False), pytest.raises(pg.TrainingError, match="step 1 of 5"):
        pg.svi(coin, 10, k=7.0, guide=guide, steps=5, progress=False)


def test_pyro_nan_parameter_inside_the_program_stops_with_the_step():
    """With Pyro's validation on, a NaN distribution parameter raises inside the step: it
    becomes a TrainingError naming the step, like a NaN loss."""
    import pyro
    import pyro.distributions as dist
    import torch

    def guide(n, k=None):
        a = pyro.param("a", torch.tensor(8.0)) * torch.tensor(float("nan"))
        pyro.sample("theta", dist.Beta(a, 4.0))

    with pytest.raises(pg.TrainingError, match="parameter became invalid .* step 1 of 5"):
        pg.svi(registry.get("coin").pyro, 10, k=7.0, guide=guide, steps=5, progress=False)


@pytest.mark.parametrize("guide", ["normal", "mvn", "lowrank", "iaf"])
def test_gaussian_guides_recover_a_gaussian_posterior(guide):
    """Ridge regression's posterior is N(A⁻¹Xᵀy, σ²A⁻¹), A = XᵀX + (σ²/τ²) I: every
    Gaussian guide family holds its mean exactly, so the fitted means must match."""
    from probgen.models.bayes import ridge

    data = ridge.data()
    X, y = data["X"][:, :2], data["y"]
    exact = np.linalg.solve(X.T @ X + np.eye(2), X.T @ y)
    vi = pg.svi(
        ridge.numpyro_model,
        X,
        y,
        guide=guide,
        steps=3000,
        lr=0.05,
        lr_decay=0.01,
        particles=8,
        seed=0,
        progress=False,
    )
    beta = vi.posterior(8000).samples["beta"][0]
    sd = np.sqrt(np.diag(np.linalg.inv(X.T @ X + np.eye(2))))
    # stochastic optimisation leaves the fitted mean within a tenth of a posterior sd
    np.testing.assert_allclose(beta.mean(0), exact, atol=0.1 * sd.min())
    assert vi.params


def test_iaf_needs_two_dimensions():

    with pytest.raises(pg.ArgumentError, match="at least 2 latent dimensions"):
        pg.svi(registry.get("coin").numpyro, 10, k=7.0, guide="iaf")
