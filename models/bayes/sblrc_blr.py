"""Bayesian linear regression, as posteriordb's ``sblrc-blr``.

β_d ~ N(0, 10); σ ~ HalfNormal(10); y_n ~ N(x_nᵀβ, σ).
"""

from __future__ import annotations

from typing import Any

from probgen import lazy
from probgen.datasets import posteriordb
from probgen.models.registry import BayesModel, register

jnp = lazy.load("jax.numpy", globals())
ndist = lazy.load("numpyro.distributions", globals())
numpyro = lazy.load("numpyro", globals())
pdist = lazy.load("pyro.distributions", globals())
pyro = lazy.load("pyro", globals())

POSTERIORDB = "sblrc-blr"


def pyro_model(N: int, D: int, X: Any, y: Any = None) -> None:
    """β_d ~ N(0, 10); σ ~ HalfNormal(10); y_n ~ N(x_nᵀβ, σ)  (Pyro)."""
    beta = pyro.sample("beta", pdist.Normal(0.0, 10.0).expand([D]).to_event(1))
    sigma = pyro.sample("sigma", pdist.HalfNormal(10.0))
    with pyro.plate("data", N):
        pyro.sample("y", pdist.Normal(X @ beta, sigma), obs=y)


def numpyro_model(N: int, D: int, X: Any, y: Any = None) -> None:
    """β_d ~ N(0, 10); σ ~ HalfNormal(10); y_n ~ N(x_nᵀβ, σ)  (NumPyro)."""
    beta = numpyro.sample("beta", ndist.Normal(0.0, 10.0).expand([D]).to_event(1))
    sigma = numpyro.sample("sigma", ndist.HalfNormal(10.0))
    with numpyro.plate("data", N):
        numpyro.sample("y", ndist.Normal(jnp.matmul(X, beta), sigma), obs=y)


def data() -> dict[str, Any]:
    """posteriordb's sblrc data (N = 100, D = 5), read from the shared posteriordb folder."""
    return posteriordb.load(POSTERIORDB)


register(
    BayesModel(
        name="sblrc_blr",
        description=f"linear regression: β ~ N(0, 10); σ ~ HalfN(10) (posteriordb {POSTERIORDB})",
        pyro=pyro_model,
        numpyro=numpyro_model,
        data=data,
    )
)
