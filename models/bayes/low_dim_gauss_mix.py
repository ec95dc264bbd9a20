"""Two-component Gaussian mixture, as posteriordb's ``low_dim_gauss_mix-low_dim_gauss_mix``.

μ ordered (μ₁ < μ₂) with μ_k ~ N(0, 2); σ_k ~ HalfNormal(2); θ ~ Beta(5, 5);
y_n ~ θ N(μ₁, σ₁) + (1 − θ) N(μ₂, σ₂).

μ is the order statistic of two N(0, 2) draws (``_ordered``): Stan's density up to the
constant log 2!, and a proper prior. The assignments are summed out analytically.
"""

from __future__ import annotations

from typing import Any

from probgen import lazy
from probgen.datasets import posteriordb
from probgen.models.registry import BayesModel, register

_ordered_numpyro = lazy.load("probgen.models.bayes._ordered_numpyro", globals())
_ordered_pyro = lazy.load("probgen.models.bayes._ordered_pyro", globals())
jnp = lazy.load("jax.numpy", globals())
ndist = lazy.load("numpyro.distributions", globals())
numpyro = lazy.load("numpyro", globals())
pdist = lazy.load("pyro.distributions", globals())
pyro = lazy.load("pyro", globals())
torch = lazy.load("torch", globals())

POSTERIORDB = "low_dim_gauss_mix-low_dim_gauss_mix"


def pyro_model(N: int, y: Any = None) -> None:
    """μ₁ < μ₂, μ_k ~ N(0, 2); σ_k ~ HalfNormal(2); θ ~ Beta(5, 5);
    y_n ~ θ N(μ₁, σ₁) + (1 − θ) N(μ₂, σ₂)  (Pyro)."""
    mu = pyro.sample("mu", _ordered_pyro.PyroOrderedNormal(0.0, 2.0, 2))
    sigma = pyro.sample("sigma", pdist.HalfNormal(2.0).expand([2]).to_event(1))
    theta = pyro.sample("theta", pdist.Beta(5.0, 5.0))
    weights = pdist.Categorical(probs=torch.stack([theta, 1.0 - theta]))
    with pyro.plate("data", N):
        pyro.sample("y", pdist.MixtureSameFamily(weights, pdist.Normal(mu, sigma)), obs=y)


def numpyro_model(N: int, y: Any = None) -> None:
    """μ₁ < μ₂, μ_k ~ N(0, 2); σ_k ~ HalfNormal(2); θ ~ Beta(5, 5);
    y_n ~ θ N(μ₁, σ₁) + (1 − θ) N(μ₂, σ₂)  (NumPyro)."""
    mu = numpyro.sample("mu", _ordered_numpyro.NumPyroOrderedNormal(0.0, 2.0, 2))
    sigma = numpyro.sample("sigma", ndist.HalfNormal(2.0).expand([2]).to_event(1))
    theta = numpyro.sample("theta", ndist.Beta(5.0, 5.0))
    weights = ndist.Categorical(probs=jnp.stack([theta, 1.0 - theta]))
    with numpyro.plate("data", N):
        numpyro.sample("y", ndist.MixtureSameFamily(weights, ndist.Normal(mu, sigma)), obs=y)


def data() -> dict[str, Any]:
    """posteriordb's low_dim_gauss_mix data (N = 1000), read from the shared posteriordb folder."""
    return posteriordb.load(POSTERIORDB)


register(
    BayesModel(
        name="low_dim_gauss_mix",
        description=f"2-component Gaussian mixture, ordered μ (posteriordb {POSTERIORDB})",
        pyro=pyro_model,
        numpyro=numpyro_model,
        data=data,
    )
)
