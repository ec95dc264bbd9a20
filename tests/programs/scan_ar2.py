"""AR(2) written with NumPyro's ``scan``: y_t = α + β₁ y_{t−1} + β₂ y_{t−2} + σ ε_t."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from corpus import Case
from numpyro.contrib.control_flow import scan


def ar2(y):
    alpha = numpyro.sample("alpha", dist.Normal(0.0, 1.0))
    beta = numpyro.sample("beta", dist.Normal(0.0, 0.5).expand([2]).to_event(1))
    sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))

    def transition(carry, y_t):
        y1, y2 = carry
        numpyro.sample("y", dist.Normal(alpha + beta[0] * y1 + beta[1] * y2, sigma), obs=y_t)
        return (y_t, y1), None

    scan(transition, (y[1], y[0]), y[2:])


_rng = np.random.default_rng(0)
_y = np.zeros(40)
for t in range(2, 40):
    _y[t] = 0.3 + 0.5 * _y[t - 1] - 0.2 * _y[t - 2] + 0.5 * _rng.normal()

CASES = [Case("scan_ar2", "numpyro", ar2, (jnp.asarray(_y, jnp.float32),))]
