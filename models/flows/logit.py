"""The logit pre-processing of image flows (Dinh et al., 2017, RealNVP §4.1).

Pixels x ∈ [0, 1] are mapped to the real line by u = logit(α + (1 − 2α)x) before the
flow, with a small α (0.05) that keeps the logit away from ±∞ at 0 and 1. Its
log-Jacobian, Σ_d [log(1 − 2α) − log s_d − log(1 − s_d)] with s = α + (1 − 2α)x, is part of
log p(x), so the density stays the density of x on [0, 1]^D.
"""

from __future__ import annotations

from torch.distributions.transforms import AffineTransform, SigmoidTransform, Transform

from probgen.errors import ArgumentError


def logit_preprocessing(alpha: float) -> list[Transform]:
    """The inverse of x ↦ logit(α + (1 − 2α)x) as transforms base → data:
    s = sigmoid(u), then x = (s − α) / (1 − 2α).

    Tests: tests/models/test_flows_models.py (log p(x) of the image flows, which include
    it, against the autograd Jacobian).
    """
    if not isinstance(alpha, int | float) or not 0 <= alpha < 0.5:
        raise ArgumentError(f"logit_alpha must be a number in [0, 0.5), got {alpha!r}")
    width = 1 - 2 * alpha
    return [SigmoidTransform(), AffineTransform(-alpha / width, 1 / width)]
