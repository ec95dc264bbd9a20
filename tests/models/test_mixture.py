"""The enumerated gaussian_mixture equals the hand-written mixture density.

Reference: scipy. With the assignments z summed out, the log joint is
log Dir(w; 1) + log K! + Σ_k log N(μ_k; 0, 10) + Σ_k log LogNormal(σ_k; 0, 1)
+ Σ_n log Σ_k w_k N(y_n; μ_k, σ_k), on both backends.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from probgen.models import registry

PARAMS = [
    {"w": [0.4, 0.6], "mu": [-2.0, 2.5], "sigma": [0.8, 1.2]},
    {"w": [0.9, 0.1], "mu": [0.3, 0.4], "sigma": [3.0, 0.05]},
    {"w": [0.2, 0.5, 0.3], "mu": [-4.0, 0.0, 4.0], "sigma": [1.0, 2.0, 0.5]},
]


def scipy_log_joint(y: np.ndarray, w: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> float:
    K = w.size
    prior = (
        stats.dirichlet.logpdf(w, np.ones(K))
        + math.lgamma(K + 1)  # μ is the order statistic of K i.i.d. N(0, 10) draws
        + stats.norm.logpdf(mu, 0.0, 10.0).sum()
        + stats.lognorm.logpdf(sigma, s=1.0).sum()
    )
    components = np.log(w) + stats.norm.logpdf(y[:, None], mu, sigma)
    return prior + special.logsumexp(components, axis=1).sum()


@pytest.mark.parametrize("values", PARAMS, ids=["data-like", "lopsided", "three"])
def test_enumerated_log_joint_matches_scipy(values, log_joints):
    entry = registry.get("gaussian_mixture")
    params = {name: np.array(value) for name, value in values.items()}
    data = {**entry.data(), "K": params["w"].size}
    pyro_lp, numpyro_lp = log_joints(entry, data, params, nesting=1)
    expected = scipy_log_joint(data["y"], **params)
    np.testing.assert_allclose(pyro_lp, expected, rtol=1e-9, atol=1e-5)
    np.testing.assert_allclose(numpyro_lp, expected, rtol=1e-9, atol=1e-5)
