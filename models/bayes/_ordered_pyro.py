"""The order statistics of K i.i.d. normals, as a Pyro distribution (its NumPyro twin:
``_ordered_numpyro``).

x = sort(x₁..x_K) with x_k ~ N(loc, scale) i.i.d. has density K!·Π_k N(x_k; loc, scale) on
x₁ < … < x_K. Mixtures use it for ordered component means: it is Stan's
``ordered[K] mu; mu ~ normal(loc, scale)`` up to the constant log K!, but it is proper, so
prior draws (and prior predictive checks) work, and the ordering removes label switching.
"""

from __future__ import annotations

import math

import pyro.distributions as pdist
import torch


class PyroOrderedNormal(pdist.TorchDistribution):
    """Sorted K-vector of i.i.d. N(loc, scale) draws: density K!·Π N(x_k; loc, scale), x ordered."""

    arg_constraints = {"loc": pdist.constraints.real, "scale": pdist.constraints.positive}
    support = pdist.constraints.ordered_vector

    def __init__(self, loc: float, scale: float, size: int, validate_args: bool | None = None):
        self.loc = torch.as_tensor(loc, dtype=torch.get_default_dtype())
        self.scale = torch.as_tensor(scale, dtype=torch.get_default_dtype())
        super().__init__(torch.Size(), torch.Size([size]), validate_args=validate_args)

    def sample(self, sample_shape: tuple[int, ...] = ()) -> torch.Tensor:
        shape = torch.Size(sample_shape) + self.event_shape
        with torch.no_grad():
            return torch.normal(self.loc.expand(shape), self.scale.expand(shape)).sort(-1).values

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        normal = pdist.Normal(self.loc, self.scale).log_prob(value).sum(-1)
        return normal + math.lgamma(self.event_shape[0] + 1)
