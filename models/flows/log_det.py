"""log det(I + J_g) of a residual block, exactly or by the power series (Behrmann et al., 2019).

For y = x + g(x) with Lip(g) < 1, every eigenvalue of J_g lies in the unit disc and

    log det(I + J_g) = tr log(I + J_g) = Σ_{k≥1} (−1)^{k+1} tr(J_g^k) / k,

truncated here at n terms (the remainder is at most D·L^{n+1} / ((n + 1)(1 − L)) for
L = Lip(g)). Each trace is either exact, from the full Jacobian, or Hutchinson's
estimate tr(A) ≈ vᵀAv with E[vvᵀ] = I (v Rademacher or Gaussian), where vᵀJ^k is k
vector-Jacobian products by autograd: no Jacobian is formed, and one probe v serves
every power. All functions take g(x) computed from x with its graph, batched over the
leading axes of vectors x (..., D), one independent example per row.
"""

from __future__ import annotations

from typing import Literal

import torch

from probgen.errors import ArgumentError

PROBES = ("rademacher", "gaussian")


def batch_jacobian(gx: torch.Tensor, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    """J[..., i, j] = ∂g_i/∂x_j of each example, shape (..., D, D), by D batched VJPs.

    Tests: tests/models/test_flows_transforms.py (through ``exact_log_det``).
    """
    dim = gx.shape[-1]
    eye = torch.eye(dim, dtype=gx.dtype, device=gx.device)
    basis = eye.reshape(dim, *([1] * (gx.dim() - 1)), dim).expand(dim, *gx.shape)
    (rows,) = torch.autograd.grad(
        gx, x, basis, create_graph=create_graph, retain_graph=True, is_grads_batched=True
    )
    return rows.movedim(0, -2)


def exact_log_det(gx: torch.Tensor, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    """log|det(I + J_g(x))| per example from the full Jacobian (for small D and tests).

    Tests: tests/models/test_flows_transforms.py (against the slogdet of
    ``torch.autograd.functional.jacobian`` of x ↦ x + g(x)).
    """
    jacobian = batch_jacobian(gx, x, create_graph)
    eye = torch.eye(gx.shape[-1], dtype=gx.dtype, device=gx.device)
    return torch.linalg.slogdet(eye + jacobian).logabsdet


def probe_vectors(x: torch.Tensor, probe: str) -> torch.Tensor:
    """v shaped like x with E[v vᵀ] = I: ±1 with equal odds (Rademacher) or N(0, I)."""
    if probe == "gaussian":
        return torch.randn_like(x)
    return torch.randint_like(x, 2) * 2 - 1


def series_log_det(
    gx: torch.Tensor,
    x: torch.Tensor,
    terms: int,
    trace: Literal["exact", "hutchinson"] = "hutchinson",
    probe: str = "rademacher",
    create_graph: bool = False,
) -> torch.Tensor:
    """Σ_{k=1}^{terms} (−1)^{k+1} tr(J_g^k) / k per example, with exact or Hutchinson traces.

    With ``trace="hutchinson"`` one probe v per example gives the unbiased estimate
    Σ_k (−1)^{k+1} (vᵀJ^k v) / k of the truncated series (its expectation over v is the
    ``trace="exact"`` value).

    Tests: tests/models/test_flows_transforms.py (exact traces against ``exact_log_det``
    within the remainder bound; the Hutchinson mean over 100 000 probes against the
    exact-trace series within 4 Monte Carlo standard errors).
    """
    if trace not in ("exact", "hutchinson"):
        raise ArgumentError(f"trace must be 'exact' or 'hutchinson', got {trace!r}")
    if probe not in PROBES:
        raise ArgumentError(f"probe must be one of {PROBES}, got {probe!r}")
    total = gx.new_zeros(gx.shape[:-1])
    if trace == "exact":
        jacobian = batch_jacobian(gx, x, create_graph)
        power = jacobian
        for k in range(1, terms + 1):
            total = total + (-1) ** (k + 1) * power.diagonal(dim1=-2, dim2=-1).sum(-1) / k
            power = power @ jacobian
        return total
    v = probe_vectors(x, probe)
    w = v
    for k in range(1, terms + 1):
        (w,) = torch.autograd.grad(gx, x, w, create_graph=create_graph, retain_graph=True)
        total = total + (-1) ** (k + 1) * (w * v).sum(-1) / k
    return total
