"""The VAE family: latent-variable models with amortised inference networks.

``VAE``, ``BetaVAE``, ``IWAE``, ``ConditionalVAE`` and ``HierarchicalVAE`` are fitted by
SVI on their ELBO (``elbo()``); ``InfoVAE`` and ``VQVAE`` by their own loss (``loss(x)``).
All draw new data with ``sample(n)``; all but the VQ-VAE estimate log p(x) per example
by importance sampling (``log_likelihood``).
"""

from __future__ import annotations

from probgen import lazy

# each name is imported from its module on first lookup: the zoo registers the family
# without torch
_SOURCES = {
    "BetaVAE": "probgen.models.latent.beta_vae",
    "ConditionalVAE": "probgen.models.latent.conditional",
    "HierarchicalVAE": "probgen.models.latent.hierarchical",
    "InfoVAE": "probgen.models.latent.infovae",
    "IWAE": "probgen.models.latent.iwae",
    "VAE": "probgen.models.latent.vae",
    "VQVAE": "probgen.models.latent.vqvae",
}

__all__ = [
    "VAE",
    "VQVAE",
    "BetaVAE",
    "ConditionalVAE",
    "HierarchicalVAE",
    "IWAE",
    "InfoVAE",
]

__getattr__, __dir__ = lazy.attributes(__name__, _SOURCES)
