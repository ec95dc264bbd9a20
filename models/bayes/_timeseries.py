"""Array code shared by the Pyro and NumPyro twins of the time-series models.

Both functions use only indexing and arithmetic (plus the few namespace functions named
``xp``), so the same lines run on torch tensors and on jax arrays.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from probgen.errors import DataError


def ar_mean(alpha: Any, beta: Any, y: Any, K: int, T: int) -> Any:
    """The AR(K) conditional means α + Σ_{k=1..K} β_k y_{t−k}, for t = K+1..T (length T−K)."""
    _check_series(y, T)
    if not 0 < K < T:
        raise DataError(f"the lag order K must satisfy 0 < K < T={T}, got K={K}")
    # y[K-1-k : T-1-k] holds y_{t-(k+1)} for t = K+1..T (0-based slices of the 1-based maths).
    return alpha + sum(beta[k] * y[K - 1 - k : T - 1 - k] for k in range(K))


def garch_sigma(xp: ModuleType, y: Any, T: int, mu: Any, alpha0: Any, alpha1: Any,
                beta1: Any, sigma1: Any) -> Any:
    """GARCH(1,1) volatilities: σ_1 = sigma1, σ_t² = α₀ + α₁ (y_{t−1} − μ)² + β₁ σ_{t−1}².

    ``xp`` is ``torch`` or ``jax.numpy``. The recursion is unrolled into
    σ_t² = β₁^{t−1} σ_1² + Σ_{s<t} β₁^{t−1−s} (α₀ + α₁ (y_s − μ)²), a lower-triangular
    matrix product: one vectorised step instead of a T-step loop, which keeps Pyro's
    autograd graph small and needs no ``lax.scan`` in NumPyro.
    """
    _check_series(y, T)
    steps = np.arange(T - 1)
    lag = steps[:, None] - steps[None, :]
    # β₁^lag below the diagonal, 0 above; the exponent is clipped at 0 so no β₁^(−k) overflows.
    weights = beta1 ** xp.asarray(np.maximum(lag, 0)) * xp.asarray(lag >= 0)
    shocks = alpha0 + alpha1 * (y[:-1] - mu) ** 2
    variance = weights @ shocks + beta1 ** xp.asarray(steps + 1) * sigma1**2
    return xp.concatenate([xp.ones(1) * sigma1, xp.sqrt(variance)])


def _check_series(y: Any, T: int) -> None:
    # The series is both the response and the lagged covariate, so it cannot be left out.
    if y is None or tuple(y.shape) != (T,):
        got = "None" if y is None else f"shape {tuple(y.shape)}"
        raise DataError(f"y must be the observed series, of shape (T,) = ({T},); got {got}")
