"""A flat improper prior on a location and a positive scale (``ImproperUniform``), the
normal model whose posterior is proper once there are data."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
from corpus import Case, tensor

_y = np.array([1.2, 0.4, 2.3, 1.7, 0.9, 1.4, 2.0, 0.8])


def numpyro_flat(y):
    mu = numpyro.sample("mu", ndist.ImproperUniform(ndist.constraints.real, (), ()))
    sigma = numpyro.sample("sigma", ndist.ImproperUniform(ndist.constraints.positive, (), ()))
    with numpyro.plate("data", len(y)):
        numpyro.sample("y", ndist.Normal(mu, sigma), obs=y)


def pyro_flat(y):
    mu = pyro.sample("mu", pdist.ImproperUniform(pdist.constraints.real, (), ()))
    sigma = pyro.sample("sigma", pdist.ImproperUniform(pdist.constraints.positive, (), ()))
    with pyro.plate("data", len(y)):
        pyro.sample("y", pdist.Normal(mu, sigma), obs=y)


# Raw Pyro cannot start NUTS here (init_to_uniform samples the prior); probgen starts in
# (−2, 2) of the unconstrained space. The reference is the exact posterior mean of μ, ȳ
# (the marginal posterior of μ is a Student t centred at ȳ).
CASES = [
    Case("improper_flat_prior", "numpyro", numpyro_flat, (jnp.asarray(_y, jnp.float32),)),
    Case(
        "improper_flat_prior",
        "pyro",
        pyro_flat,
        (tensor(_y),),
        options={"warmup": 200, "draws": 600},
        compare="moments",
        exact={"mu": float(_y.mean())},
    ),
]
