"""A residual likelihood: ARMA(1, 1) whose innovations ε_t = y_t − μ − φ y_{t−1} − θ ε_{t−1}
are computed from the latents and observed as ``obs=ε`` (posteriordb's arma11 pattern)."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
import torch
from corpus import Case, tensor

_rng = np.random.default_rng(3)
_y = np.zeros(30)
_e = _rng.normal(size=30) * 0.5
for t in range(1, 30):
    _y[t] = 0.2 + 0.6 * _y[t - 1] + 0.3 * _e[t - 1] + _e[t]


def numpyro_arma(y):
    mu = numpyro.sample("mu", ndist.Normal(0.0, 10.0))
    phi = numpyro.sample("phi", ndist.Normal(0.0, 2.0))
    theta = numpyro.sample("theta", ndist.Uniform(-1.0, 1.0))
    sigma = numpyro.sample("sigma", ndist.HalfCauchy(2.5))

    def step(err_prev, inputs):
        y_t, y_prev = inputs
        err = y_t - (mu + phi * y_prev + theta * err_prev)
        return err, err

    first = y[0] - (mu + phi * mu)
    _, rest = jax.lax.scan(step, first, (y[1:], y[:-1]))
    numpyro.sample("err", ndist.Normal(0.0, sigma), obs=jnp.concatenate([first[None], rest]))


def pyro_arma(y):
    mu = pyro.sample("mu", pdist.Normal(0.0, 10.0))
    phi = pyro.sample("phi", pdist.Normal(0.0, 2.0))
    theta = pyro.sample("theta", pdist.Uniform(-1.0, 1.0))
    sigma = pyro.sample("sigma", pdist.HalfCauchy(2.5))
    errors = [y[0] - (mu + phi * mu)]
    for t in range(1, len(y)):
        errors.append(y[t] - (mu + phi * y[t - 1] + theta * errors[-1]))
    pyro.sample(
        "err", pdist.Normal(0.0, sigma).expand([len(y)]).to_event(1), obs=torch.stack(errors)
    )


CASES = [
    Case("obs_from_latents", "numpyro", numpyro_arma, (jnp.asarray(_y, jnp.float32),)),
    Case("obs_from_latents", "pyro", pyro_arma, (tensor(_y),)),
]
