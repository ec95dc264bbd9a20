"""A ``param`` in the model (a learned prior scale, type-II maximum likelihood) fitted with
the latents' autoguide by SVI."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
import torch
from corpus import Case, tensor
from numpyro.distributions import constraints as nconstraints
from pyro.distributions import constraints as pconstraints

_y = np.random.default_rng(6).normal(size=12) * 2.0


def numpyro_model(y):
    prior_scale = numpyro.param("prior_scale", 1.0, constraint=nconstraints.positive)
    with numpyro.plate("groups", len(y)):
        theta = numpyro.sample("theta", ndist.Normal(0.0, prior_scale))
        numpyro.sample("y", ndist.Normal(theta, 1.0), obs=y)


def pyro_model(y):
    prior_scale = pyro.param("prior_scale", torch.tensor(1.0), constraint=pconstraints.positive)
    with pyro.plate("groups", len(y)):
        theta = pyro.sample("theta", pdist.Normal(0.0, prior_scale))
        pyro.sample("y", pdist.Normal(theta, 1.0), obs=y)


CASES = [
    Case("param_in_model", "numpyro", numpyro_model, (jnp.asarray(_y, jnp.float32),), method="svi"),
    Case("param_in_model", "pyro", pyro_model, (tensor(_y),), method="svi"),
]
