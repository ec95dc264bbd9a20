"""Bayesian ridge regression: β ~ N(0, τ² I); y ~ N(Xβ, σ) with σ known.

The posterior is Gaussian with precision XᵀX/σ² + I/τ² (the ridge estimate is its mean).
"""

from __future__ import annotations

from typing import Any

from probgen import lazy
from probgen.models.bayes import _datasets
from probgen.models.registry import BayesModel, register

jnp = lazy.load("jax.numpy", globals())
ndist = lazy.load("numpyro.distributions", globals())
numpyro = lazy.load("numpyro", globals())
pdist = lazy.load("pyro.distributions", globals())
pyro = lazy.load("pyro", globals())


def pyro_model(X: Any, y: Any = None, sigma: Any = 1.0, tau: Any = 1.0) -> None:
    """β_d ~ N(0, τ); y_n ~ N(x_nᵀβ, σ)  (Pyro)."""
    beta = pyro.sample("beta", pdist.Normal(0.0, tau).expand([X.shape[-1]]).to_event(1))
    with pyro.plate("data", X.shape[0]):
        pyro.sample("y", pdist.Normal(X @ beta, sigma), obs=y)


def numpyro_model(X: Any, y: Any = None, sigma: Any = 1.0, tau: Any = 1.0) -> None:
    """β_d ~ N(0, τ); y_n ~ N(x_nᵀβ, σ)  (NumPyro)."""
    beta = numpyro.sample("beta", ndist.Normal(0.0, tau).expand([X.shape[-1]]).to_event(1))
    with numpyro.plate("data", X.shape[0]):
        numpyro.sample("y", ndist.Normal(jnp.matmul(X, beta), sigma), obs=y)


def data() -> dict[str, Any]:
    """50 rows, 5 standard-normal features, β = (1, −2, 0.5, 0, 3), unit noise; seed 0."""
    return _datasets.linear_regression()


register(
    BayesModel(
        name="ridge",
        description="Bayesian ridge regression: β ~ N(0, τ²I); y ~ N(Xβ, σ), σ known",
        pyro=pyro_model,
        numpyro=numpyro_model,
        data=data,
    )
)
