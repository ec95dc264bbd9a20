"""Decoder likelihoods p(x | z): the distribution that a decoder's outputs parameterise.

A decoder maps z to parameters θ of shape (..., *event_shape, *param_shape); the
likelihood turns θ into a distribution whose event shape is the data's event shape,
so that ``pyro.sample("x", likelihood(θ), obs=x)`` scores a whole example at once:

- ``"bernoulli"``: x ∈ {0, 1}, p(x | θ) = Π_j sigmoid(θ_j)^x_j (1 − sigmoid(θ_j))^(1 − x_j);
- ``"gaussian"``: x ∈ ℝ, p(x | θ) = Π_j N(x_j; θ_j, σ_j²), σ fixed or learned (one per
  element of x);
- ``"categorical"``: x ∈ {0, …, levels − 1} (quantized pixels),
  p(x | θ) = Π_j softmax(θ_j)[x_j], θ_j ∈ ℝ^levels.

tests/models/test_latent_vae.py checks each against these formulas.
"""

from __future__ import annotations

import math

import pyro.distributions as dist
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import constraints

from probgen import checks
from probgen.errors import ArgumentError, DataError

LIKELIHOODS = ("bernoulli", "gaussian", "categorical")


class Likelihood(nn.Module):
    """p(x | θ) with event shape ``event_shape``; θ has shape (..., *event_shape, *param_shape)."""

    param_shape: tuple[int, ...] = ()
    support: constraints.Constraint = constraints.real
    advice = "remove NaN and infinite values"

    def __init__(self, event_shape: tuple[int, ...]):
        super().__init__()
        self.event_dim = len(event_shape)

    def check(self, x: torch.Tensor, name: str = "x") -> None:
        """Raise a ``DataError`` unless every value of ``x`` lies in the support of p(x | θ)."""
        if not self.support.check(x).all():
            raise DataError(f"{name} has values outside {self.support}; {self.advice}")

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """E[x | θ], shaped (..., *event_shape)."""
        return self(params).mean

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x | θ), shaped (...): the distribution's ``log_prob``."""
        return self(params).log_prob(x)


class BernoulliLikelihood(Likelihood):
    """x_j ~ Bernoulli(sigmoid(θ_j)) independently; θ are logits. E[x_j | θ] = sigmoid(θ_j)."""

    support = constraints.boolean
    advice = "binarize the data (values 0 and 1) or use likelihood='gaussian'"

    def forward(self, params: torch.Tensor) -> dist.Independent:
        return dist.Bernoulli(logits=params).to_event(self.event_dim)

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x | θ) = −Σ_j BCE(θ_j, x_j), the cross-entropy with logits that
        ``Bernoulli.log_prob`` computes, without the distribution's broadcasts and
        reshape (x is broadcast over the leading dims of θ)."""
        bce = F.binary_cross_entropy_with_logits(params, x.expand_as(params), reduction="none")
        return -bce.sum(tuple(range(-self.event_dim, 0)))


class GaussianLikelihood(Likelihood):
    """x_j ~ N(θ_j, σ_j²) independently; σ is ``scale`` when given, else learned (log σ_j,
    initialised at 0)."""

    def __init__(self, event_shape: tuple[int, ...], scale: float | None = None):
        super().__init__(event_shape)
        if scale is None:
            self.log_scale = nn.Parameter(torch.zeros(event_shape))
        else:
            log_scale = math.log(checks.positive_float("scale", scale))
            self.register_buffer("log_scale", torch.full(event_shape, log_scale))

    def forward(self, params: torch.Tensor) -> dist.Independent:
        return dist.Normal(params, self.log_scale.exp()).to_event(self.event_dim)


class CategoricalLikelihood(Likelihood):
    """x_j ~ Categorical(softmax(θ_j)) over {0, …, levels − 1};
    E[x_j | θ] = Σ_k k · softmax(θ_j)_k."""

    advice = "quantize the data to the integers 0..levels − 1"

    def __init__(self, event_shape: tuple[int, ...], levels: int):
        super().__init__(event_shape)
        self.param_shape = (levels,)
        self.support = constraints.integer_interval(0, levels - 1)

    def forward(self, params: torch.Tensor) -> dist.Independent:
        return dist.Categorical(logits=params).to_event(self.event_dim)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        values = torch.arange(params.shape[-1], dtype=params.dtype, device=params.device)
        return params.softmax(-1) @ values


def make_likelihood(
    name: str, event_shape: tuple[int, ...], scale: float | None, levels: int | None
) -> Likelihood:
    """The likelihood called ``name`` (one of ``LIKELIHOODS``) for data of ``event_shape``.

    ``scale`` (σ, fixed) is read by ``"gaussian"`` only and ``levels`` by
    ``"categorical"`` only, where it is required.
    """
    if name not in LIKELIHOODS:
        raise ArgumentError(f"likelihood must be one of {LIKELIHOODS}, got {name!r}")
    if scale is not None and name != "gaussian":
        raise ArgumentError(f"scale is for likelihood='gaussian' only, not {name!r}")
    if levels is not None and name != "categorical":
        raise ArgumentError(f"levels is for likelihood='categorical' only, not {name!r}")
    if name == "bernoulli":
        return BernoulliLikelihood(event_shape)
    if name == "gaussian":
        return GaussianLikelihood(event_shape, scale)
    if levels is None or checks.positive_int("levels", levels) < 2:
        raise ArgumentError(
            "likelihood='categorical' needs levels, the number of values a pixel takes (≥ 2)"
        )
    return CategoricalLikelihood(event_shape, levels)
