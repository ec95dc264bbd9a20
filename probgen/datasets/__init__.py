"""Data sets as fixed train/test splits of tensors: images, 2-D toys, posteriordb data.

Each name is imported from its module on first lookup: the posteriordb data of the
Bayesian zoo need no torch.
"""

from __future__ import annotations

from probgen import lazy

_SOURCES = {
    "Dataset": "probgen.datasets.base",
    "shared_folder": "probgen.datasets.base",
    "digits": "probgen.datasets.images",
    "mnist": "probgen.datasets.images",
    "read_idx": "probgen.datasets.images",
    "checkerboard": "probgen.datasets.toys",
    "circles": "probgen.datasets.toys",
    "eight_gaussians": "probgen.datasets.toys",
    "moons": "probgen.datasets.toys",
    "swiss_roll": "probgen.datasets.toys",
}

__all__ = [
    "Dataset",
    "checkerboard",
    "circles",
    "digits",
    "eight_gaussians",
    "mnist",
    "moons",
    "read_idx",
    "shared_folder",
    "swiss_roll",
]

__getattr__, __dir__ = lazy.attributes(__name__, _SOURCES)
