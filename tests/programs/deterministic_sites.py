"""Logistic regression that records its linear predictor and odds as ``deterministic``
sites."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
import torch
from corpus import Case, tensor

_rng = np.random.default_rng(2)
_x = _rng.normal(size=(30, 2))
_y = (_x @ np.array([1.0, -0.5]) + 0.3 + _rng.logistic(size=30) > 0).astype(float)


def numpyro_logistic(x, y):
    w = numpyro.sample("w", ndist.Normal(0.0, 1.0).expand([2]).to_event(1))
    b = numpyro.sample("b", ndist.Normal(0.0, 1.0))
    numpyro.deterministic("odds_ratio", jnp.exp(w))
    with numpyro.plate("data", len(y)):
        eta = numpyro.deterministic("eta", x @ w + b)
        numpyro.sample("y", ndist.Bernoulli(logits=eta), obs=y)


def pyro_logistic(x, y):
    w = pyro.sample("w", pdist.Normal(0.0, 1.0).expand([2]).to_event(1))
    b = pyro.sample("b", pdist.Normal(0.0, 1.0))
    pyro.deterministic("odds_ratio", torch.exp(w))
    with pyro.plate("data", len(y)):
        eta = pyro.deterministic("eta", x @ w + b)
        pyro.sample("y", pdist.Bernoulli(logits=eta), obs=y)


CASES = [
    Case(
        "deterministic_sites",
        "numpyro",
        numpyro_logistic,
        (jnp.asarray(_x, jnp.float32), jnp.asarray(_y, jnp.float32)),
    ),
    Case("deterministic_sites", "pyro", pyro_logistic, (tensor(_x), tensor(_y))),
]
