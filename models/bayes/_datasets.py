"""Data sets that several zoo modules share: shipped in code or simulated from a fixed seed."""

from __future__ import annotations

import numpy as np


def linear_regression(n: int = 50, noise: float = 1.0, seed: int = 0) -> dict[str, np.ndarray]:
    """X ~ N(0, I) of shape (n, 5); y = Xβ + noise·ε with β = (1, −2, 0.5, 0, 3), ε ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    beta = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    X = rng.standard_normal((n, beta.size))
    return {"X": X, "y": X @ beta + noise * rng.standard_normal(n)}


def eight_schools() -> dict[str, object]:
    """Rubin's (1981) SAT-coaching study: J = 8 schools, effect estimates y and standard errors.

    Identical to posteriordb's ``eight_schools`` data.json; shipped here so the models run
    without the shared folder.
    """
    return {
        "J": 8,
        "y": np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]),
        "sigma": np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]),
    }
