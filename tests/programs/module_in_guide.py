"""An amortised guide that registers a torch network with ``pyro.module`` (the VAE
pattern): q(z_i | y_i) = N(f(y_i), softplus(g(y_i)))."""

import numpy as np
import pyro
import pyro.distributions as pdist
import torch
from corpus import Case, tensor
from torch import nn

_y = np.random.default_rng(7).normal(size=(24, 2))


def model(y):
    with pyro.plate("rows", len(y)):
        z = pyro.sample("z", pdist.Normal(0.0, 1.0))
        pyro.sample("y", pdist.Normal(torch.stack([z, -z], -1), 1.0).to_event(1), obs=y)


torch.manual_seed(0)
_encoder = nn.Linear(2, 2)


def guide(y):
    pyro.module("encoder", _encoder)
    out = _encoder(y)
    with pyro.plate("rows", len(y)):
        pyro.sample("z", pdist.Normal(out[:, 0], nn.functional.softplus(out[:, 1])))


_initial = {k: v.clone() for k, v in _encoder.state_dict().items()}

CASES = [
    Case(
        "module_in_guide",
        "pyro",
        model,
        (tensor(_y),),
        method="svi",
        guide=guide,
        before=lambda: _encoder.load_state_dict(_initial),
    )
]
