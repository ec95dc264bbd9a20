"""The VAE family: latent-variable models with amortised inference networks.

``VAE``, ``BetaVAE``, ``IWAE``, ``ConditionalVAE`` and ``HierarchicalVAE`` are fitted by
SVI on their ELBO (``elbo()``); ``InfoVAE`` and ``VQVAE`` by their own loss (``loss(x)``).
All draw new data with ``sample(n)``; all but the VQ-VAE estimate log p(x) per example
by importance sampling (``log_likelihood``).
"""

from probgen.models.latent.beta_vae import BetaVAE
from probgen.models.latent.conditional import ConditionalVAE
from probgen.models.latent.hierarchical import HierarchicalVAE
from probgen.models.latent.infovae import InfoVAE
from probgen.models.latent.iwae import IWAE
from probgen.models.latent.vae import VAE
from probgen.models.latent.vqvae import VQVAE

__all__ = [
    "VAE",
    "VQVAE",
    "BetaVAE",
    "ConditionalVAE",
    "HierarchicalVAE",
    "IWAE",
    "InfoVAE",
]
