"""The importance-weighted autoencoder (Burda et al., 2016).

The VAE's model and guide, fitted with the bound L_K(x) = log (1/K) Σ_k p(x, z_k)/q(z_k | x),
z_k ~ q(z | x), which is tighter than the ELBO (L_1) for K > 1 and tends to log p(x) as K
grows. The K particles are vectorized (see ``models/latent/importance_weighted.py``).
"""

from __future__ import annotations

from typing import Any

import torch

from probgen import checks
from probgen.models.latent.importance_weighted import ImportanceWeightedELBO, log_mean_weight
from probgen.models.latent.vae import VAE


class IWAE(VAE):
    """The VAE trained on the K-particle importance-weighted bound, K = ``num_particles``.

    Other arguments as ``VAE``. Tests: tests/models/test_latent_iwae.py (the bound equals
    Pyro's ``RenyiELBO(alpha=0)`` on a full batch, and Trace_ELBO for K = 1).
    """

    def __init__(self, *args: Any, num_particles: int = 5, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.num_particles = checks.positive_int("num_particles", num_particles)

    def elbo(self) -> ImportanceWeightedELBO:
        """The K-particle importance-weighted bound, per example, scaled for minibatches."""
        return ImportanceWeightedELBO(self.num_particles)

    def elbo_estimate(self, x: torch.Tensor) -> torch.Tensor:
        """L_K(x_i) = log (1/K) Σ_k w_ik per example, the bound of ``elbo()`` at the same K
        draws z_ik ~ q(z | x_i) (the particles vectorized in front, as it draws them)."""
        return log_mean_weight(self.log_weight(x, (self.num_particles,)))
