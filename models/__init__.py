"""The zoo: Bayesian classics (``registry``), the VAE family (``latent``) and flows (``flows``).

The deep models are ``GenerativeModel``s that ``pg.fit`` trains (``models/base.py``).
"""

from probgen.models.flows import IAF, MAF, NICE, NSF, Glow, IResNet, RealNVP, VectorRealNVP
from probgen.models.latent import (
    IWAE,
    VAE,
    VQVAE,
    BetaVAE,
    ConditionalVAE,
    HierarchicalVAE,
    InfoVAE,
)

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
