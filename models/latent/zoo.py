"""The VAE family in the zoo, each on binarized digits (Bernoulli pixels).

``probgen fit NAME --data digits`` builds one and trains it with its default objective;
the grid it shows holds the decoders' means E[x | z] of new draws.
"""

from __future__ import annotations

import torch

from probgen.datasets.base import Dataset
from probgen.datasets.images import digits
from probgen.models.latent import (
    IWAE,
    VAE,
    VQVAE,
    BetaVAE,
    ConditionalVAE,
    HierarchicalVAE,
    InfoVAE,
)
from probgen.models.registry import deep_model


def binary_digits(name: str) -> Dataset:
    """Digits binarized at half intensity; ``name`` is "digits", the entries' one data set."""
    return digits(binarize=True)


def _means(model) -> torch.Tensor:
    return model.sample(64, mean=True)


DIGITS = {"data": binary_digits, "datasets": ("digits",)}
deep_model("vae", "VAE: Gaussian encoder, Bernoulli decoder (MLPs)", VAE, preview=_means, **DIGITS)
deep_model("beta_vae", "β-VAE, β = 4: the KL term scaled", BetaVAE, preview=_means, **DIGITS)
deep_model("iwae", "IWAE: the importance-weighted bound, K = 5", IWAE, preview=_means, **DIGITS)
deep_model(
    "cvae",
    "conditional VAE of a digit given its class",
    ConditionalVAE,
    preview=lambda model: model.sample(100, torch.arange(100) % 10, mean=True),  # column = class
    num_classes=10,
    **DIGITS,
)
deep_model(
    "hierarchical_vae",
    "Markovian hierarchical VAE, 2 latent levels",
    HierarchicalVAE,
    preview=_means,
    latent_dim=(8, 4),
    **DIGITS,
)
deep_model("infovae", "InfoVAE / MMD-VAE", InfoVAE, preview=_means, **DIGITS)
deep_model(
    "vqvae",
    "VQ-VAE: nearest-neighbour codebook",
    VQVAE,
    after_fit=lambda model, dataset: model.fit_prior(dataset.train),  # the prior over codes
    **DIGITS,
)
