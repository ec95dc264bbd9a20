"""A local-level model in ``scan`` whose missing observations are masked out
(``handlers.mask`` inside the scanned step)."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from corpus import Case
from numpyro import handlers
from numpyro.contrib.control_flow import scan


def local_level(y, observed):
    sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
    tau = numpyro.sample("tau", dist.HalfNormal(1.0))

    def transition(level, inputs):
        y_t, seen = inputs
        level = numpyro.sample("level", dist.Normal(level, tau))
        with handlers.mask(mask=seen):
            numpyro.sample("y", dist.Normal(level, sigma), obs=y_t)
        return level, None

    scan(transition, jnp.zeros(()), (y, observed))


_rng = np.random.default_rng(1)
_y = np.cumsum(0.3 * _rng.normal(size=20)) + 0.2 * _rng.normal(size=20)
_seen = np.ones(20, bool)
_seen[[4, 11, 12]] = False
_y[~_seen] = 0.0  # masked: any finite value

CASES = [
    Case("scan_mask", "numpyro", local_level, (jnp.asarray(_y, jnp.float32), jnp.asarray(_seen)))
]
