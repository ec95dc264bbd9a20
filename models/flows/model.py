"""Normalizing flows as zoo models: an exact density by the change of variables.

A flow pushes the base N(0, I) on the event shape through a bijection T (base → data),
so that, with z = T⁻¹(x),

    log p(x) = log N(z; 0, I) − log|det ∂T/∂z (z)|.

``FlowModel`` assembles the transforms of a subclass into a Pyro
``TransformedDistribution`` (``distribution()``) and gives it the zoo-model interface
of ``probgen.models.base``: ``log_prob``, the Pyro program ``model``, ``sample`` and
``log_likelihood``. ``pg.fit`` fits it by maximum likelihood (``default_objective = "mle"``).
Transforms follow Pyro's convention: ``_call`` maps base → data, ``_inverse`` data →
base; a flow whose density is cheap in the data → base direction (MAF, i-ResNet) lists
the ``.inv`` of its modules.

Tests: tests/models/test_flows_models.py (log p(x) against the autograd Jacobian of
T⁻¹, inside Pyro programs, densities that integrate to 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions.transforms import Permute
from torch.distributions.transforms import ReshapeTransform, Transform

from probgen import checks
from probgen.errors import DataError
from probgen.models.base import GenerativeModel, data_plate
from probgen.models.flows.logit import logit_preprocessing


class FlowModel(GenerativeModel):
    """Base of the flow models: p(x) = N(T⁻¹(x); 0, I) |det ∂T⁻¹/∂x|.

    Subclasses build their modules and define ``body()``, the transforms from the base
    to the data in order (built anew on each call, so that wrappers such as ``.inv`` and
    permutations follow the modules' device). ``logit_alpha`` = α appends the inverse of
    the logit pre-processing x ↦ logit(α + (1 − 2α)x) (see ``logit.py``), for data in
    [0, 1]; None models x on ℝ^D.
    """

    default_objective: ClassVar[str] = "mle"

    def __init__(self, event_shape: int | Sequence[int], logit_alpha: float | None = None):
        super().__init__()
        self.event_shape = checks.shape("event_shape", event_shape)
        self.preprocessing = [] if logit_alpha is None else logit_preprocessing(logit_alpha)
        self.logit_alpha = logit_alpha
        self.register_buffer("base_loc", torch.zeros(self.event_shape))

    @property
    def dim(self) -> int:
        """D, the number of values in one example."""
        return math.prod(self.event_shape)

    def transforms(self) -> list[Transform]:
        """The transforms base → data: the flow's ``body()``, then the pre-processing."""
        return [*self.body(), *self.preprocessing]

    def transform(self) -> Transform:
        """T, the whole bijection base → data as one transform."""
        return torch.distributions.ComposeTransform(self.transforms())

    def base_distribution(self) -> dist.Independent:
        """N(0, I) on the event shape."""
        loc = self.base_loc
        return dist.Normal(loc, torch.ones_like(loc)).to_event(len(self.event_shape))

    def distribution(self) -> dist.TransformedDistribution:
        """The flow as a Pyro distribution with event shape ``event_shape``.

        It clears the caches that Pyro's transforms keep of their last input and output,
        so that a distribution made after a parameter update never reuses stale values:
        call it again after each update.
        """
        for module in self.modules():
            if isinstance(module, Transform):
                module.clear_cache()
        return dist.TransformedDistribution(self.base_distribution(), self.transforms())

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x_i) for each of the B examples of ``x`` (B, *event_shape): shape (B,)."""
        self.check_data(x)
        return self.distribution().log_prob(x)

    def model(self, x: torch.Tensor, size: int | None = None) -> None:
        """The Pyro program x_i ~ p(x), i = 1..B, in the ``data_plate`` of ``size``."""
        self.check_data(x)
        with data_plate(x, size):
            pyro.sample("x", self.distribution(), obs=x)

    def sample(self, n: int) -> torch.Tensor:
        """n draws x = T(z), z ~ N(0, I): shape (n, *event_shape)."""
        checks.positive_int("n", n)
        with torch.no_grad():
            return self.distribution().sample((n,))

    def log_likelihood(self, x: torch.Tensor) -> torch.Tensor:
        """The exact log p(x_i) in nats for each example, shape (B,), without gradients."""
        with torch.no_grad():
            return self.log_prob(x)

    def check_data(self, x: torch.Tensor) -> None:
        """Raise a ``DataError`` unless ``x`` is a finite batch of examples that fit."""
        checks.batch(x, self.event_shape)
        checks.finite(x)
        loc = self.base_loc
        if x.dtype != loc.dtype or x.device != loc.device:
            raise DataError(
                f"x is {x.dtype} on {x.device} but the flow is {loc.dtype} on {loc.device}; "
                f"pass x.to({loc.dtype}).to('{loc.device}') or move the model with .to()"
            )
        if self.preprocessing and ((x < 0) | (x > 1)).any():
            raise DataError(
                "x must lie in [0, 1] for a flow with logit pre-processing; scale the data "
                "to [0, 1] (e.g. x / 255) or pass logit_alpha=None to model x on ℝ^D"
            )

    def vectorized(self, parts: list[Transform]) -> list[Transform]:
        """``parts`` on flat vectors, between reshapes event_shape → (D,) → event_shape."""
        if len(self.event_shape) == 1:
            return parts
        flat = (self.dim,)
        return [
            ReshapeTransform(self.event_shape, flat),
            *parts,
            ReshapeTransform(flat, self.event_shape),
        ]


def with_flips(parts: Sequence[Transform], flip: torch.Tensor) -> list[Transform]:
    """``parts`` with the order reversal x ↦ x[flip] (``flip`` = D−1, …, 0) between them,
    so that coupling layers take turns at which half they change."""
    out: list[Transform] = []
    for i, part in enumerate(parts):
        if i:
            out.append(Permute(flip))
        out.append(part)
    return out
