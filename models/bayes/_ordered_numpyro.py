"""The order statistics of K i.i.d. normals as a NumPyro distribution: density
K!·Π_k N(x_k; loc, scale) on x₁ < … < x_K. The Pyro twin, ``_ordered_pyro``, says why the
mixtures use it."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpyro.distributions as ndist
from jax import random
from numpyro.distributions.util import validate_sample


class NumPyroOrderedNormal(ndist.Distribution):
    """Sorted K-vector of i.i.d. N(loc, scale) draws: density K!·Π N(x_k; loc, scale), x ordered."""

    arg_constraints = {"loc": ndist.constraints.real, "scale": ndist.constraints.positive}
    support = ndist.constraints.ordered_vector
    pytree_data_fields = ("loc", "scale")

    def __init__(self, loc: float, scale: float, size: int, *, validate_args: bool | None = None):
        self.loc, self.scale = loc, scale
        super().__init__(batch_shape=(), event_shape=(size,), validate_args=validate_args)

    def sample(self, key, sample_shape: tuple[int, ...] = ()):
        draws = random.normal(key, sample_shape + self.event_shape)
        return jnp.sort(self.loc + self.scale * draws, axis=-1)

    @validate_sample
    def log_prob(self, value):
        normal = ndist.Normal(self.loc, self.scale).log_prob(value).sum(-1)
        return normal + math.lgamma(self.event_shape[0] + 1)
