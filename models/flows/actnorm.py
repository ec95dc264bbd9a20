"""Glow's activation normalisation, ActNorm (Kingma & Dhariwal, 2018, §3.1).

An affine map per channel, like batch normalisation but with learned parameters that
are set once from data: on the first batch that flows in the data → base direction,
the parameters are chosen so that the output has zero mean and unit variance in each
channel; after that they are ordinary parameters. A buffer records that the
initialisation happened, so it is saved in and restored from the ``state_dict``.
"""

from __future__ import annotations

import torch
from pyro.distributions import constraints
from pyro.distributions.torch_transform import TransformModule
from torch import nn

from probgen import checks
from probgen.errors import DataError

# the smallest standard deviation the initialisation divides by (a constant channel)
MIN_SCALE = 1e-6


class ActNorm(TransformModule):
    """Base → data: y = exp(s) ⊙ x + m per channel; data → base: x = (y − m) ⊙ exp(−s).

    log|det ∂y/∂x| = (H·W) Σ_c s_c for images (``event_dim`` = 3, channels on axis −3),
    Σ_c s_c for vectors (``event_dim`` = 1). On the first ``_inverse`` (the direction of
    ``log_prob``), m and s are set to each channel's mean and log standard deviation
    (population sd, over the batch and the pixels), so that x has mean 0 and sd 1 per
    channel on that batch; ``initialized`` then stays True.

    Tests: tests/models/test_flows_transforms.py (moments after initialisation,
    state_dict round trip, inverse, log-det against the autograd Jacobian).
    """

    bijective = True

    def __init__(self, channels: int, event_dim: int = 3):
        super().__init__(cache_size=1)
        checks.positive_int("channels", channels)
        self.event_rank = checks.positive_int("event_dim", event_dim)
        shape = (channels,) + (1,) * (event_dim - 1)
        self.loc = nn.Parameter(torch.zeros(shape))
        self.log_scale = nn.Parameter(torch.zeros(shape))
        self.register_buffer("initialized", torch.tensor(False))

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> constraints.Constraint:
        return constraints.independent(constraints.real, self.event_rank)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> constraints.Constraint:
        return constraints.independent(constraints.real, self.event_rank)

    def initialize(self, y: torch.Tensor) -> None:
        """Set m, s from the batch ``y`` so that (y − m) exp(−s) has mean 0, sd 1 per channel."""
        channel_axis = y.dim() - self.event_rank
        others = [d for d in range(y.dim()) if d != channel_axis]
        if y.numel() // y.shape[channel_axis] < 2:
            raise DataError(
                "ActNorm initialises from the first batch and needs at least 2 values per "
                "channel; pass a batch of 2 or more examples first"
            )
        with torch.no_grad():
            mean = y.mean(others)
            sd = y.std(others, correction=0).clamp_min(MIN_SCALE)
            self.loc.copy_(mean.reshape(self.loc.shape))
            self.log_scale.copy_(sd.log().reshape(self.log_scale.shape))
            self.initialized.fill_(True)

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.exp(self.log_scale) + self.loc

    def _inverse(self, y: torch.Tensor) -> torch.Tensor:
        if not self.initialized:
            self.initialize(y)
        return (y - self.loc) * torch.exp(-self.log_scale)

    def log_abs_det_jacobian(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        pixels = x.shape[x.dim() - self.event_rank + 1 :].numel()
        batch = x.shape[: x.dim() - self.event_rank]
        return (pixels * self.log_scale.sum()).expand(batch)
