"""The VAE family in the zoo, each on binarized digits (Bernoulli pixels).

``probgen fit NAME --data digits`` builds one and trains it with its default objective;
the grid it shows holds the decoders' means E[x | z] of new draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from probgen import lazy
from probgen.models.registry import deep_model

if TYPE_CHECKING:
    from probgen.datasets.base import Dataset

# imported when a model is built or trained: registering the family needs neither
images = lazy.load("probgen.datasets.images", globals())
torch = lazy.load("torch", globals())


def binary_digits(name: str) -> Dataset:
    """Digits binarized at half intensity; ``name`` is "digits", the entries' one data set."""
    return images.digits(binarize=True)


def _means(model) -> torch.Tensor:
    return model.sample(64, mean=True)


DIGITS = {"data": binary_digits, "datasets": ("digits",)}
deep_model(
    "vae",
    "VAE: Gaussian encoder, Bernoulli decoder (MLPs)",
    "probgen.models.latent.VAE",
    "elbo",
    preview=_means,
    **DIGITS,
)
deep_model(
    "beta_vae",
    "β-VAE, β = 4: the KL term scaled",
    "probgen.models.latent.BetaVAE",
    "elbo",
    preview=_means,
    **DIGITS,
)
deep_model(
    "iwae",
    "IWAE: the importance-weighted bound, K = 5",
    "probgen.models.latent.IWAE",
    "elbo",
    preview=_means,
    **DIGITS,
)
deep_model(
    "cvae",
    "conditional VAE of a digit given its class",
    "probgen.models.latent.ConditionalVAE",
    "elbo",
    preview=lambda model: model.sample(100, torch.arange(100) % 10, mean=True),  # column = class
    num_classes=10,
    **DIGITS,
)
deep_model(
    "hierarchical_vae",
    "Markovian hierarchical VAE, 2 latent levels",
    "probgen.models.latent.HierarchicalVAE",
    "elbo",
    preview=_means,
    latent_dim=(8, 4),
    **DIGITS,
)
deep_model(
    "infovae",
    "InfoVAE / MMD-VAE",
    "probgen.models.latent.InfoVAE",
    "loss",
    preview=_means,
    **DIGITS,
)
deep_model(
    "vqvae",
    "VQ-VAE: nearest-neighbour codebook",
    "probgen.models.latent.VQVAE",
    "loss",
    after_fit=lambda model, dataset: model.fit_prior(dataset.train),  # the prior over codes
    **DIGITS,
)
