"""A two-state HMM whose state path is summed out by enumeration: NumPyro's ``scan`` with
``infer={"enumerate": "parallel"}`` and Pyro's ``pyro.markov`` loop, as in the libraries'
HMM examples."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
import torch
from corpus import Case, tensor
from numpyro.contrib.control_flow import scan

_y = np.array([-1.1, -0.8, -1.3, 0.9, 1.2, 1.0, 0.7, -0.9, -1.2, 1.1, 0.8, 1.3])


def numpyro_hmm(y):
    stay = numpyro.sample("stay", ndist.Beta(5.0, 2.0).expand([2]).to_event(1))
    locs = numpyro.sample("locs", ndist.Normal(jnp.array([-1.0, 1.0]), 0.5).to_event(1))
    transition = jnp.stack([jnp.stack([stay[0], 1 - stay[0]]), jnp.stack([1 - stay[1], stay[1]])])

    def step(z, y_t):
        z = numpyro.sample("z", ndist.Categorical(transition[z]), infer={"enumerate": "parallel"})
        numpyro.sample("y", ndist.Normal(locs[z], 0.5), obs=y_t)
        return z, None

    scan(step, 0, y)


def pyro_hmm(y):
    stay = pyro.sample("stay", pdist.Beta(5.0, 2.0).expand([2]).to_event(1))
    locs = pyro.sample("locs", pdist.Normal(torch.tensor([-1.0, 1.0]), 0.5).to_event(1))
    transition = torch.stack(
        [torch.stack([stay[0], 1 - stay[0]]), torch.stack([1 - stay[1], stay[1]])]
    )
    z = 0
    for t in pyro.markov(range(len(y))):
        z = pyro.sample(f"z_{t}", pdist.Categorical(transition[z]), infer={"enumerate": "parallel"})
        pyro.sample(f"y_{t}", pdist.Normal(locs[z], 0.5), obs=y[t])


CASES = [
    Case("markov_hmm_enum", "numpyro", numpyro_hmm, (jnp.asarray(_y, jnp.float32),)),
    Case(
        "markov_hmm_enum",
        "pyro",
        pyro_hmm,
        (tensor(_y),),
        options={"warmup": 30, "draws": 20},
    ),
]
