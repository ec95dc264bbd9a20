"""Subsampling declared only in the guide, with ``batch_size`` as a keyword (the amortised
pattern of Pyro's LDA example): the model's plate takes the guide's subsample."""

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

Y = np.random.default_rng(5).normal(size=(40, 3)) + np.array([0.5, -0.5, 1.0])


def numpyro_model(y, batch_size=None):
    mu = numpyro.sample("mu", ndist.Normal(0.0, 5.0).expand([3]).to_event(1))
    with numpyro.plate("rows", len(y)) as index:
        z = numpyro.sample("z", ndist.Normal(0.0, 1.0))
        numpyro.sample("y", ndist.Normal(mu + z[:, None], 1.0).to_event(1), obs=y[index])


def numpyro_guide(y, batch_size=None):
    loc = numpyro.param("mu_loc", jnp.zeros(3))
    numpyro.sample("mu", ndist.Delta(loc).to_event(1))
    weight = numpyro.param("weight", jnp.zeros(3))
    scale = numpyro.param("z_scale", 1.0, constraint=nconstraints.positive)
    with numpyro.plate("rows", len(y), subsample_size=batch_size) as index:
        numpyro.sample("z", ndist.Normal(y[index] @ weight, scale))


def pyro_model(y, batch_size=None):
    mu = pyro.sample("mu", pdist.Normal(0.0, 5.0).expand([3]).to_event(1))
    with pyro.plate("rows", len(y)) as index:
        z = pyro.sample("z", pdist.Normal(0.0, 1.0))
        pyro.sample("y", pdist.Normal(mu + z[:, None], 1.0).to_event(1), obs=y[index])


def pyro_guide(y, batch_size=None):
    loc = pyro.param("mu_loc", torch.zeros(3))
    pyro.sample("mu", pdist.Delta(loc).to_event(1))
    weight = pyro.param("weight", torch.zeros(3))
    scale = pyro.param("z_scale", torch.tensor(1.0), constraint=pconstraints.positive)
    with pyro.plate("rows", len(y), subsample_size=batch_size) as index:
        pyro.sample("z", pdist.Normal(y[index] @ weight, scale))


CASES = [
    Case(
        "subsample_guide",
        "numpyro",
        numpyro_model,
        (jnp.asarray(Y, jnp.float32),),
        {"batch_size": 8},
        method="svi",
        guide=numpyro_guide,
    ),
    Case(
        "subsample_guide",
        "pyro",
        pyro_model,
        (tensor(Y),),
        {"batch_size": 8},
        method="svi",
        guide=pyro_guide,
    ),
]
