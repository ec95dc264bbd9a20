"""The deep zoo in the registry: the VAE family and the flows, each with the data it fits.

``probgen list`` shows them with their ``pg.fit`` backend; ``probgen fit NAME --data D``
builds one for the data set D and trains it. The VAE family models binarized digits
(Bernoulli pixels); the flows model digits quantized to their 17 grey levels, which
``pg.fit(..., dequantize=True)`` dequantizes with fresh uniform noise every epoch (a
density on [0, 1)^64, reported in bits/dim), and the vector flows also the 2-D toys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from probgen.datasets import toys
from probgen.datasets.base import Dataset
from probgen.datasets.images import digits
from probgen.errors import ArgumentError
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
from probgen.models.registry import DeepModel, register

TOYS = ("moons", "circles", "eight_gaussians", "checkerboard", "swiss_roll")
DIGIT_LEVELS = 17  # the 8×8 digits' pixels take the values 0, …, 16


def binary_digits(name: str) -> Dataset:
    """Digits binarized at half intensity (the VAE family's Bernoulli pixels); ``name`` is
    "digits", the one data set of their entries."""
    return digits(binarize=True)


def flow_data(name: str) -> Dataset:
    """Digits at their 17 levels (quantized: ``pg.fit(dequantize=True)`` adds the noise);
    or a 2-D toy."""
    if name == "digits":
        return digits(levels=DIGIT_LEVELS)
    return getattr(toys, name)()


def _entry(
    name: str,
    description: str,
    cls: type,
    data: Callable[[str], Dataset],
    datasets: tuple[str, ...],
    **options: Any,
) -> None:
    def load(dataset: str) -> Dataset:
        if dataset not in datasets:
            raise ArgumentError(f"data must be one of {datasets} for this model, got {dataset!r}")
        return data(dataset)

    register(
        DeepModel(
            name=name,
            description=description,
            build=lambda dataset: cls(dataset.event_shape, **options),
            data=load,
            datasets=datasets,
            backend=cls.backend,
        )
    )


_entry("vae", "VAE: Gaussian encoder, Bernoulli decoder (MLPs)", VAE, binary_digits, ("digits",))
_entry("beta_vae", "β-VAE, β = 4: the KL term scaled", BetaVAE, binary_digits, ("digits",))
_entry("iwae", "IWAE: the importance-weighted bound, K = 5", IWAE, binary_digits, ("digits",))
_entry(
    "cvae",
    "conditional VAE of a digit given its class",
    ConditionalVAE,
    binary_digits,
    ("digits",),
    num_classes=10,
)
_entry(
    "hierarchical_vae",
    "Markovian hierarchical VAE, 2 latent levels",
    HierarchicalVAE,
    binary_digits,
    ("digits",),
    latent_dim=(8, 4),
)
_entry("infovae", "InfoVAE / MMD-VAE", InfoVAE, binary_digits, ("digits",))
_entry("vqvae", "VQ-VAE: nearest-neighbour codebook", VQVAE, binary_digits, ("digits",))
_entry("nice", "NICE: additive couplings and a scaling", NICE, flow_data, ("digits",))
_entry("realnvp", "RealNVP: multiscale affine couplings", RealNVP, flow_data, ("digits",))
_entry("glow", "Glow: ActNorm, 1×1 convolutions, couplings", Glow, flow_data, ("digits",))
_entry("maf", "MAF on MADE", MAF, flow_data, (*TOYS, "digits"))
_entry("iaf", "IAF on MADE (slow density, fast sampling)", IAF, flow_data, TOYS)
_entry("nsf", "neural spline flow (couplings)", NSF, flow_data, TOYS)
_entry("realnvp_2d", "RealNVP for vectors (affine couplings)", VectorRealNVP, flow_data, TOYS)
_entry("iresnet", "invertible residual network", IResNet, flow_data, TOYS)
