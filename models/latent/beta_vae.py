"""The β-VAE (Higgins et al., 2017): the VAE with its KL term weighted by β.

The latent site runs under ``poutine.scale(scale=β)`` in both model and guide, so that
Trace_ELBO's estimate becomes

    log p(x | z) + β (log p(z) − log q(z | x)),   z ~ q(z | x),

whose expectation is E_q[log p(x | z)] − β KL(q(z | x) ‖ p(z)). β > 1 favours
disentangled, prior-like codes; β = 1 is the VAE. ``log_likelihood`` is unaffected by β
(it scores the unscaled densities).
"""

from __future__ import annotations

from typing import Any

import pyro
import pyro.distributions as dist
import torch
from pyro import poutine

from probgen import checks
from probgen.models.latent.vae import VAE


class BetaVAE(VAE):
    """The VAE with the ELBO's KL term weighted by ``beta`` (β > 0).

    Other arguments as ``VAE``. Tests: tests/models/test_latent_vae.py (β = 1 equals the
    VAE's ELBO; β ≠ 1 shifts it by (β − 1)(log q − log p) exactly).
    """

    def __init__(self, *args: Any, beta: float = 4.0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.beta = checks.positive_float("beta", beta)

    def latent(self, name: str, fn: dist.Distribution) -> torch.Tensor:
        """The latent site, its log density scaled by β."""
        with poutine.scale(scale=self.beta):
            return pyro.sample(name, fn)

    def weigh_latent(self, log_ratio: torch.Tensor) -> torch.Tensor:
        """β (log p(z) − log q(z | x)), as ``latent`` scales the site."""
        return self.beta * log_ratio
