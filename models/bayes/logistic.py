"""Bayesian logistic regression: α, β_d ~ N(0, s); y_n ~ Bernoulli(logit⁻¹(α + x_nᵀβ))."""

from __future__ import annotations

from typing import Any

import numpy as np

from probgen import lazy
from probgen.models.registry import BayesModel, register

jnp = lazy.load("jax.numpy", globals())
ndist = lazy.load("numpyro.distributions", globals())
numpyro = lazy.load("numpyro", globals())
pdist = lazy.load("pyro.distributions", globals())
pyro = lazy.load("pyro", globals())


def pyro_model(X: Any, y: Any = None, prior_scale: Any = 2.5) -> None:
    """α, β_d ~ N(0, s); y_n ~ Bernoulli(logits = α + x_nᵀβ), s = prior_scale  (Pyro)."""
    alpha = pyro.sample("alpha", pdist.Normal(0.0, prior_scale))
    beta = pyro.sample("beta", pdist.Normal(0.0, prior_scale).expand([X.shape[-1]]).to_event(1))
    with pyro.plate("data", X.shape[0]):
        pyro.sample("y", pdist.Bernoulli(logits=alpha + X @ beta), obs=y)


def numpyro_model(X: Any, y: Any = None, prior_scale: Any = 2.5) -> None:
    """α, β_d ~ N(0, s); y_n ~ Bernoulli(logits = α + x_nᵀβ), s = prior_scale  (NumPyro)."""
    alpha = numpyro.sample("alpha", ndist.Normal(0.0, prior_scale))
    beta = numpyro.sample("beta", ndist.Normal(0.0, prior_scale).expand([X.shape[-1]]).to_event(1))
    with numpyro.plate("data", X.shape[0]):
        numpyro.sample("y", ndist.Bernoulli(logits=alpha + jnp.matmul(X, beta)), obs=y)


def data() -> dict[str, Any]:
    """200 rows, 3 standard-normal features, α = −0.5, β = (1.5, −1, 0); seed 1."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 3))
    logits = -0.5 + X @ np.array([1.5, -1.0, 0.0])
    y = (rng.uniform(size=200) < 1.0 / (1.0 + np.exp(-logits))).astype(np.float64)
    return {"X": X, "y": y}


register(
    BayesModel(
        name="logistic",
        description="logistic regression: α, β ~ N(0, 2.5); y ~ Bernoulli(logits = α + Xβ)",
        pyro=pyro_model,
        numpyro=numpyro_model,
        data=data,
    )
)
