"""A discrete latent that is not summed out: a regime switch z ~ Bernoulli(0.3) shifting
the mean of normal data, under probgen's Gibbs (exact discrete conditional, NUTS for μ).
Neither library runs Gibbs on it as written (Pyro has no Gibbs kernel), so the reference
is the exact posterior, which marginalising μ gives in closed form:

    y | z ~ N(2z·1, I + 11ᵀ),  P(z | y) ∝ P(z) N(y; 2z·1, I + 11ᵀ),
    E[μ | y] = Σ_z P(z | y) Σ_i (y_i − 2z) / (n + 1).
"""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
from corpus import Case, tensor
from scipy import stats

_y = np.array([1.4, 2.1, 0.9, 1.7])


def numpyro_switch(y):
    mu = numpyro.sample("mu", ndist.Normal(0.0, 1.0))
    z = numpyro.sample("z", ndist.Bernoulli(0.3))
    with numpyro.plate("data", len(y)):
        numpyro.sample("y", ndist.Normal(mu + 2.0 * z, 1.0), obs=y)


def pyro_switch(y):
    mu = pyro.sample("mu", pdist.Normal(0.0, 1.0))
    z = pyro.sample("z", pdist.Bernoulli(0.3))
    with pyro.plate("data", len(y)):
        pyro.sample("y", pdist.Normal(mu + 2.0 * z, 1.0), obs=y)


def _exact(y: np.ndarray) -> dict[str, float]:
    n = len(y)
    cov = np.eye(n) + np.ones((n, n))
    joint = [p * stats.multivariate_normal(2.0 * z * np.ones(n), cov).pdf(y)
             for z, p in ((0, 0.7), (1, 0.3))]  # fmt: skip
    p1 = joint[1] / sum(joint)
    mu = sum(p * (y - 2.0 * z).sum() / (n + 1) for z, p in ((0, 1 - p1), (1, p1)))
    return {"z": p1, "mu": mu}


_options = {"sampler": "gibbs", "warmup": 200, "draws": 1500}
CASES = [
    Case(
        "gibbs_discrete",
        backend,
        model,
        (data,),
        options=_options,
        compare="moments",
        exact=_exact(_y),
    )  # fmt: skip
    for backend, model, data in (
        ("numpyro", numpyro_switch, jnp.asarray(_y, jnp.float32)),
        ("pyro", pyro_switch, tensor(_y)),
    )
]
