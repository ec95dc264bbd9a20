"""Two-dimensional toy densities for flows, diffusion and GANs: moons, circles, eight
Gaussians, a checkerboard and a swiss roll.

Each loader draws ``n`` training and ``test_size`` test points in one go from a generator
seeded with ``seed`` and returns the first ``n`` as ``train``: event_shape (2,), float32.
``noise`` is the standard deviation of Gaussian noise added to each coordinate. Moons and
circles come from scikit-learn, with their class labels. tests/datasets/test_toys.py checks
them against scikit-learn on the same seed and the others' noise-free geometry exactly.
"""

from __future__ import annotations

import numpy as np
import torch

from probgen.datasets.base import Dataset
from probgen.errors import ArgumentError

# the lower-left corners of the 8 black unit squares of a 4×4 board on [−2, 2)²
_BLACK_SQUARES = np.array([(i - 2, j - 2) for i in range(4) for j in range(4) if (i + j) % 2 == 0])


def moons(n: int = 2000, noise: float = 0.05, seed: int = 0, test_size: int = 500) -> Dataset:
    """Two interleaving half circles: ``sklearn.datasets.make_moons`` with labels 0/1."""
    from sklearn.datasets import make_moons  # here: scikit-learn takes a second to import

    _check(n, noise, test_size)
    x, y = make_moons(n + test_size, noise=noise, random_state=seed)
    return _split("moons", x, n, y)


def circles(
    n: int = 2000, noise: float = 0.05, seed: int = 0, test_size: int = 500, factor: float = 0.5
) -> Dataset:
    """A circle inside a circle of ``factor`` times its radius: ``make_circles``, labels 0/1."""
    from sklearn.datasets import make_circles  # here: scikit-learn takes a second to import

    _check(n, noise, test_size)
    x, y = make_circles(n + test_size, noise=noise, factor=factor, random_state=seed)
    return _split("circles", x, n, y)


def eight_gaussians(
    n: int = 2000, noise: float = 0.1, seed: int = 0, test_size: int = 500, radius: float = 2.0
) -> Dataset:
    """An equal mixture of N(c_j, noise²·I), c_j = radius·(cos(πj/4), sin(πj/4)), j = 0..7.

    Labels are the components j.
    """
    _check(n, noise, test_size)
    rng = np.random.default_rng(seed)
    j = rng.integers(8, size=n + test_size)
    angle = np.pi * j / 4
    centres = radius * np.stack([np.cos(angle), np.sin(angle)], axis=-1)
    return _split("eight_gaussians", centres + noise * rng.standard_normal(centres.shape), n, j)


def checkerboard(n: int = 2000, noise: float = 0.0, seed: int = 0, test_size: int = 500) -> Dataset:
    """Uniform on the 8 black squares of a 4×4 board of unit squares on [−2, 2)².

    A square [a, a + 1) × [b, b + 1) is black when a + b is even.
    """
    _check(n, noise, test_size)
    rng = np.random.default_rng(seed)
    corners = _BLACK_SQUARES[rng.integers(len(_BLACK_SQUARES), size=n + test_size)]
    points = (corners + rng.random(corners.shape)).astype(np.float32)
    # rounding to float32 must not carry a point onto the next square's edge
    edges = np.nextafter((corners + 1).astype(np.float32), np.float32(-np.inf))
    points = np.minimum(points, edges) + noise * rng.standard_normal(corners.shape)
    return _split("checkerboard", points, n)


def swiss_roll(n: int = 2000, noise: float = 0.1, seed: int = 0, test_size: int = 500) -> Dataset:
    """The spiral (t·cos t, t·sin t) / 5 for t ~ U[1.5π, 4.5π): scikit-learn's swiss roll
    seen from above, scaled into about [−3, 3]²."""
    _check(n, noise, test_size)
    rng = np.random.default_rng(seed)
    t = 1.5 * np.pi * (1 + 2 * rng.random(n + test_size))
    spiral = np.stack([t * np.cos(t), t * np.sin(t)], axis=-1) / 5
    return _split("swiss_roll", spiral + noise * rng.standard_normal(spiral.shape), n)


def _split(name: str, points: np.ndarray, n: int, labels: np.ndarray | None = None) -> Dataset:
    x = torch.as_tensor(points, dtype=torch.float32)
    y = None if labels is None else torch.as_tensor(labels, dtype=torch.int64)
    return Dataset(
        name=name,
        train=x[:n],
        test=x[n:],
        event_shape=(2,),
        train_labels=None if y is None else y[:n],
        test_labels=None if y is None else y[n:],
    )


def _check(n: int, noise: float, test_size: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ArgumentError(f"n (the number of training points) must be an integer ≥ 1, got {n!r}")
    if isinstance(test_size, bool) or not isinstance(test_size, int) or test_size < 0:
        raise ArgumentError(f"test_size must be an integer ≥ 0, got {test_size!r}")
    if not noise >= 0:
        raise ArgumentError(f"noise (a standard deviation) must be ≥ 0, got {noise!r}")
