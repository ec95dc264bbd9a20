"""Eight schools, non-centred by ``handlers.reparam`` with ``LocScaleReparam(0.0)`` (both
libraries' documented way to decentre a hierarchical model)."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
from corpus import Case, tensor
from numpyro.infer.reparam import LocScaleReparam as NumPyroLocScale
from pyro.infer.reparam import LocScaleReparam as PyroLocScale

_y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
_sigma = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def numpyro_schools(sigma, y):
    mu = numpyro.sample("mu", ndist.Normal(0.0, 5.0))
    tau = numpyro.sample("tau", ndist.HalfCauchy(5.0))
    with numpyro.plate("schools", len(y)):
        with numpyro.handlers.reparam(config={"theta": NumPyroLocScale(0.0)}):
            theta = numpyro.sample("theta", ndist.Normal(mu, tau))
        numpyro.sample("obs", ndist.Normal(theta, sigma), obs=y)


def pyro_schools(sigma, y):
    mu = pyro.sample("mu", pdist.Normal(0.0, 5.0))
    tau = pyro.sample("tau", pdist.HalfCauchy(5.0))
    with pyro.plate("schools", len(y)):
        with pyro.poutine.reparam(config={"theta": PyroLocScale(0.0)}):
            theta = pyro.sample("theta", pdist.Normal(mu, tau))
        pyro.sample("obs", pdist.Normal(theta, sigma), obs=y)


CASES = [
    Case(
        "locscale_reparam",
        "numpyro",
        numpyro_schools,
        (jnp.asarray(_sigma, jnp.float32), jnp.asarray(_y, jnp.float32)),
    ),
    Case("locscale_reparam", "pyro", pyro_schools, (tensor(_sigma), tensor(_y))),
]
