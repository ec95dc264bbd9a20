"""Array code shared by the Pyro and NumPyro twins of the time-series models.

It uses only indexing and arithmetic, so the same lines run on torch tensors and jax arrays.
"""

from __future__ import annotations

from typing import Any

from probgen.errors import DataError


def ar_mean(alpha: Any, beta: Any, y: Any, K: int, T: int) -> Any:
    """The AR(K) conditional means α + Σ_{k=1..K} β_k y_{t−k}, for t = K+1..T (length T−K)."""
    check_series(y, T)
    if not 0 < K < T:
        raise DataError(f"the lag order K must satisfy 0 < K < T={T}, got K={K}")
    # y[K-1-k : T-1-k] holds y_{t-(k+1)} for t = K+1..T (0-based slices of the 1-based maths).
    return alpha + sum(beta[k] * y[K - 1 - k : T - 1 - k] for k in range(K))


def check_series(y: Any, T: int) -> None:
    """Raise DataError unless y is a series of shape (T,): the time-series models need it
    as the lagged covariate too, so it cannot be left out."""
    if y is None or tuple(y.shape) != (T,):
        got = "None" if y is None else f"shape {tuple(y.shape)}"
        raise DataError(f"y must be the observed series, of shape (T,) = ({T},); got {got}")
