"""K-component 1-D Gaussian mixture with explicit assignments, summed out by enumeration.

w ~ Dirichlet(1, …, 1); μ = sort(μ₁..μ_K), μ_k ~ N(0, 10) i.i.d.; σ_k ~ LogNormal(0, 1);
z_n ~ Categorical(w); y_n ~ N(μ_{z_n}, σ_{z_n}).

The means are ordered (the order statistics of K i.i.d. N(0, 10) draws, density
K!·Π N(μ_k; 0, 10) on μ₁ < … < μ_K): the prior stays proper and sampleable, and ordering
removes label switching, so independent MCMC chains agree on which component is which.
z carries ``infer={"enumerate": "parallel"}``: NUTS and TraceEnum_ELBO sum it out, leaving
Σ_n log Σ_k w_k N(y_n; μ_k, σ_k) as the log-likelihood.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from probgen import lazy
from probgen.models.registry import BayesModel, register

_ordered_numpyro = lazy.load("probgen.models.bayes._ordered_numpyro", globals())
_ordered_pyro = lazy.load("probgen.models.bayes._ordered_pyro", globals())
jnp = lazy.load("jax.numpy", globals())
ndist = lazy.load("numpyro.distributions", globals())
numpyro = lazy.load("numpyro", globals())
pdist = lazy.load("pyro.distributions", globals())
pyro = lazy.load("pyro", globals())
torch = lazy.load("torch", globals())


def pyro_model(N: int, K: int = 2, y: Any = None) -> None:
    """w ~ Dirichlet(1); μ = sort(μ₁..μ_K), μ_k ~ N(0, 10); σ_k ~ LogNormal(0, 1);
    z_n ~ Categorical(w) (enumerated); y_n ~ N(μ_(z_n), σ_(z_n))  (Pyro)."""
    w = pyro.sample("w", pdist.Dirichlet(torch.ones(K)))
    mu = pyro.sample("mu", _ordered_pyro.PyroOrderedNormal(0.0, 10.0, K))
    sigma = pyro.sample("sigma", pdist.LogNormal(0.0, 1.0).expand([K]).to_event(1))
    with pyro.plate("data", N):
        z = pyro.sample("z", pdist.Categorical(w), infer={"enumerate": "parallel"})
        pyro.sample("y", pdist.Normal(mu[z], sigma[z]), obs=y)


def numpyro_model(N: int, K: int = 2, y: Any = None) -> None:
    """w ~ Dirichlet(1); μ = sort(μ₁..μ_K), μ_k ~ N(0, 10); σ_k ~ LogNormal(0, 1);
    z_n ~ Categorical(w) (enumerated); y_n ~ N(μ_(z_n), σ_(z_n))  (NumPyro)."""
    w = numpyro.sample("w", ndist.Dirichlet(jnp.ones(K)))
    mu = numpyro.sample("mu", _ordered_numpyro.NumPyroOrderedNormal(0.0, 10.0, K))
    sigma = numpyro.sample("sigma", ndist.LogNormal(0.0, 1.0).expand([K]).to_event(1))
    with numpyro.plate("data", N):
        z = numpyro.sample("z", ndist.Categorical(w), infer={"enumerate": "parallel"})
        numpyro.sample("y", ndist.Normal(mu[z], sigma[z]), obs=y)


def data() -> dict[str, Any]:
    """N = 200 draws from 0.4·N(−2, 0.8) + 0.6·N(2.5, 1.2); seed 2."""
    rng = np.random.default_rng(2)
    z = rng.uniform(size=200) < 0.6
    y = np.where(z, rng.normal(2.5, 1.2, size=200), rng.normal(-2.0, 0.8, size=200))
    return {"N": 200, "K": 2, "y": y}


register(
    BayesModel(
        name="gaussian_mixture",
        description="1-D Gaussian mixture, assignments enumerated: z ~ Cat(w); y ~ N(μ_z, σ_z)",
        pyro=pyro_model,
        numpyro=numpyro_model,
        data=data,
    )
)
