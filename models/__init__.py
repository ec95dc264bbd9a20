"""The zoo: Bayesian classics (``registry``), the VAE family (``latent``) and flows (``flows``).

The deep models are ``GenerativeModel``s that ``pg.fit`` trains (``models/base.py``).
"""

from __future__ import annotations

from probgen import lazy

# imported on first lookup: the Bayesian zoo and the registry need no torch
_SOURCES = {
    "BetaVAE": "probgen.models.latent",
    "ConditionalVAE": "probgen.models.latent",
    "Glow": "probgen.models.flows",
    "HierarchicalVAE": "probgen.models.latent",
    "IAF": "probgen.models.flows",
    "IResNet": "probgen.models.flows",
    "IWAE": "probgen.models.latent",
    "InfoVAE": "probgen.models.latent",
    "MAF": "probgen.models.flows",
    "NICE": "probgen.models.flows",
    "NSF": "probgen.models.flows",
    "RealNVP": "probgen.models.flows",
    "VAE": "probgen.models.latent",
    "VQVAE": "probgen.models.latent",
    "VectorRealNVP": "probgen.models.flows",
}

__all__ = [
    "IAF",
    "IWAE",
    "MAF",
    "NICE",
    "NSF",
    "VAE",
    "VQVAE",
    "BetaVAE",
    "ConditionalVAE",
    "Glow",
    "HierarchicalVAE",
    "IResNet",
    "InfoVAE",
    "RealNVP",
    "VectorRealNVP",
]

__getattr__, __dir__ = lazy.attributes(__name__, _SOURCES)
