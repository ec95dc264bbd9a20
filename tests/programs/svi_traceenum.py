"""SVI on a mixture with enumerated assignments and a guide over the global sites only,
trained with ``TraceEnum_ELBO`` (Pyro's Gaussian-mixture tutorial pattern)."""

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

_rng = np.random.default_rng(9)
_y = np.concatenate([_rng.normal(-2, 0.7, 12), _rng.normal(2, 0.7, 12)])


def numpyro_mixture(y):
    weights = numpyro.sample("weights", ndist.Dirichlet(jnp.ones(2)))
    locs = numpyro.sample("locs", ndist.Normal(0.0, 3.0).expand([2]).to_event(1))
    with numpyro.plate("data", len(y)):
        z = numpyro.sample("z", ndist.Categorical(weights), infer={"enumerate": "parallel"})
        numpyro.sample("y", ndist.Normal(locs[z], 0.7), obs=y)


def numpyro_guide(y):
    concentration = numpyro.param("concentration", jnp.ones(2), constraint=nconstraints.positive)
    numpyro.sample("weights", ndist.Dirichlet(concentration))
    locs = numpyro.param("locs_map", jnp.array([-1.0, 1.0]))
    numpyro.sample("locs", ndist.Delta(locs).to_event(1))


def pyro_mixture(y):
    weights = pyro.sample("weights", pdist.Dirichlet(torch.ones(2)))
    locs = pyro.sample("locs", pdist.Normal(0.0, 3.0).expand([2]).to_event(1))
    with pyro.plate("data", len(y)):
        z = pyro.sample("z", pdist.Categorical(weights), infer={"enumerate": "parallel"})
        pyro.sample("y", pdist.Normal(locs[z], 0.7), obs=y)


def pyro_guide(y):
    concentration = pyro.param("concentration", torch.ones(2), constraint=pconstraints.positive)
    pyro.sample("weights", pdist.Dirichlet(concentration))
    locs = pyro.param("locs_map", torch.tensor([-1.0, 1.0]))
    pyro.sample("locs", pdist.Delta(locs).to_event(1))


CASES = [
    Case(
        "svi_traceenum",
        "numpyro",
        numpyro_mixture,
        (jnp.asarray(_y, jnp.float32),),
        method="svi",
        guide=numpyro_guide,
        enumerated=True,
        raw_options={"max_plate_nesting": 1},
    ),
    Case(
        "svi_traceenum",
        "pyro",
        pyro_mixture,
        (tensor(_y),),
        method="svi",
        guide=pyro_guide,
        enumerated=True,
        raw_options={"max_plate_nesting": 1},
    ),
]
