"""A two-component Gaussian mixture whose assignments are summed out (``enumerate:
parallel``) so that NUTS samples the weights and locations."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
from corpus import Case, tensor

_rng = np.random.default_rng(8)
_y = np.concatenate([_rng.normal(-2, 0.7, 15), _rng.normal(2, 0.7, 10)])


def numpyro_mixture(y):
    weights = numpyro.sample("weights", ndist.Dirichlet(jnp.ones(2)))
    locs = numpyro.sample("locs", ndist.Normal(jnp.array([-1.0, 1.0]), 2.0).to_event(1))
    with numpyro.plate("data", len(y)):
        z = numpyro.sample("z", ndist.Categorical(weights), infer={"enumerate": "parallel"})
        numpyro.sample("y", ndist.Normal(locs[z], 0.7), obs=y)


def pyro_mixture(y):
    weights = pyro.sample("weights", pdist.Dirichlet(tensor(np.ones(2))))
    locs = pyro.sample("locs", pdist.Normal(tensor([-1.0, 1.0]), 2.0).to_event(1))
    with pyro.plate("data", len(y)):
        z = pyro.sample("z", pdist.Categorical(weights), infer={"enumerate": "parallel"})
        pyro.sample("y", pdist.Normal(locs[z], 0.7), obs=y)


CASES = [
    Case("nuts_enum_mixture", "numpyro", numpyro_mixture, (jnp.asarray(_y, jnp.float32),)),
    Case(
        "nuts_enum_mixture",
        "pyro",
        pyro_mixture,
        (tensor(_y),),
        options={"warmup": 40, "draws": 30},
    ),
]
