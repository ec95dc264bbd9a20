"""Subsampling declared in both the model and the guide (``subsample_size=batch_size`` in
each plate): the model replays the guide's subsample."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
from corpus import Case, tensor
from subsample_guide import Y, numpyro_guide, pyro_guide  # the same guides and data


def numpyro_model(y, batch_size=None):
    mu = numpyro.sample("mu", ndist.Normal(0.0, 5.0).expand([3]).to_event(1))
    with numpyro.plate("rows", len(y), subsample_size=batch_size) as index:
        z = numpyro.sample("z", ndist.Normal(0.0, 1.0))
        numpyro.sample("y", ndist.Normal(mu + z[:, None], 1.0).to_event(1), obs=y[index])


def pyro_model(y, batch_size=None):
    mu = pyro.sample("mu", pdist.Normal(0.0, 5.0).expand([3]).to_event(1))
    with pyro.plate("rows", len(y), subsample_size=batch_size) as index:
        z = pyro.sample("z", pdist.Normal(0.0, 1.0))
        pyro.sample("y", pdist.Normal(mu + z[:, None], 1.0).to_event(1), obs=y[index])


CASES = [
    Case(
        "subsample_both",
        "numpyro",
        numpyro_model,
        (jnp.asarray(Y, jnp.float32),),
        {"batch_size": 8},
        method="svi",
        guide=numpyro_guide,
    ),
    Case(
        "subsample_both",
        "pyro",
        pyro_model,
        (tensor(Y),),
        {"batch_size": 8},
        method="svi",
        guide=pyro_guide,
    ),
]
