"""Data sets as fixed train/test splits of tensors: images, 2-D toys, posteriordb data."""

from probgen.datasets.base import Dataset, shared_folder
from probgen.datasets.images import digits, mnist, read_idx
from probgen.datasets.toys import checkerboard, circles, eight_gaussians, moons, swiss_roll

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
