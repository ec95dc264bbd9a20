"""Ridge and lasso regression against closed forms and scikit-learn."""

import numpy as np
import pytest
from sklearn.linear_model import Lasso

import probgen as pg
from probgen.models import registry
from probgen.models.bayes import lasso, ridge

SETTINGS = {
    "pyro": dict(chains=1, warmup=300, draws=700),
    "numpyro": dict(chains=2, warmup=500, draws=1000),
}


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_ridge_posterior_is_the_closed_form(backend):
    """β | y ~ N(A⁻¹Xᵀy, σ²A⁻¹) with A = XᵀX + (σ²/τ²) I."""
    data = ridge.data()
    X, y, sigma, tau = data["X"], data["y"], 1.5, 0.7
    A = X.T @ X + (sigma**2 / tau**2) * np.eye(X.shape[1])
    mean = np.linalg.solve(A, X.T @ y)
    sd = np.sqrt(np.diag(sigma**2 * np.linalg.inv(A)))
    model = registry.get("ridge").program(backend)
    post = pg.mcmc(model, X, y, sigma=sigma, tau=tau, seed=0, progress=False, **SETTINGS[backend])
    table = post.summary(round_to="none")
    rows = [f"beta[{i}]" for i in range(X.shape[1])]
    np.testing.assert_array_less(
        np.abs(table.loc[rows, "mean"] - mean), 4 * table.loc[rows, "mcse_mean"]
    )
    np.testing.assert_allclose(table.loc[rows, "sd"], sd, rtol=0.1)


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_lasso_map_is_sklearn_lasso(backend):
    """argmax p(β | y) minimises ‖y − Xβ‖²/(2n) + (λσ²/n)‖β‖₁: sklearn's Lasso objective."""
    data = lasso.data()
    X, y, sigma, lam = data["X"], data["y"], 1.0, 20.0
    reference = (
        Lasso(alpha=lam * sigma**2 / len(y), fit_intercept=False, tol=1e-12, max_iter=100_000)
        .fit(X, y)
        .coef_
    )
    assert (reference == 0).sum() == 2  # λ is large enough for a sparse solution
    model = registry.get("lasso").program(backend)
    vi = pg.svi(
        model,
        X,
        y,
        sigma=sigma,
        lam=lam,
        guide="delta",
        steps=3000,
        lr=0.1,
        lr_decay=1e-3,
        progress=False,
    )
    beta = vi.posterior(1).samples["beta"][0, 0]
    np.testing.assert_allclose(beta, reference, atol=1e-3)
