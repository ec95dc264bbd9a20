"""The invertible residual block of i-ResNet (Behrmann et al., 2019).

y = F(x) = x + g(x) is invertible when Lip(g) < 1: the inverse is the fixed point of
x ↦ y − g(x), a contraction, so the iteration x_{k+1} = y − g(x_k) from x_0 = y
converges geometrically, ‖x_{k+1} − x_k‖ ≤ Lip(g) ‖x_k − x_{k−1}‖. g is an MLP whose
linear layers are spectrally normalised (power iteration, torch's ``spectral_norm``)
and scaled by c < 1, with 1-Lipschitz activations, so Lip(g) ≤ c^(layers). The
log-determinant log det(I + J_g) comes from ``log_det.py``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from pyro.distributions import constraints
from pyro.distributions.torch_transform import TransformModule
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from probgen import checks
from probgen.errors import ArgumentError
from probgen.models.flows.log_det import PROBES, exact_log_det, series_log_det

LOG_DETS = ("exact", "series", "hutchinson")


class LipSwish(nn.Module):
    """LipSwish(x) = x·sigmoid(x) / 1.1 (Chen et al., 2019): Lip(swish) ≈ 1.0998 < 1.1.

    Tests: tests/models/test_flows_transforms.py (a 16-D block with it, against the
    autograd Jacobian).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.silu(x) / 1.1


ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"lipswish": LipSwish, "elu": nn.ELU}


class Scaled(nn.Module):
    """The parametrisation W ↦ c·W (applied after the spectral normalisation)."""

    def __init__(self, coeff: float):
        super().__init__()
        self.coeff = coeff

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return self.coeff * weight


def contractive_linear(
    in_features: int, out_features: int, coeff: float, power_iterations: int
) -> nn.Linear:
    """A linear layer with weight c·W/σ̂(W), σ̂ the power-iteration estimate of ‖W‖₂."""
    layer = spectral_norm(nn.Linear(in_features, out_features), n_power_iterations=power_iterations)
    parametrize.register_parametrization(layer, "weight", Scaled(coeff))
    return layer


class InvertibleResidual(TransformModule):
    """y = x + g(x) on vectors of ``dim`` values, g = Lin ∘ (act ∘ Lin)^depth with every
    linear layer scaled to spectral norm ``coeff`` < 1.

    Inverse: x_{k+1} = y − g(x_k) from x_0 = y until max_i ‖x_{k+1} − x_k‖ ≤ ``tol``
    or ``max_iter`` steps; ``last_inverse_errors`` keeps those distances (a warning
    reports a run that stops above ``tol``). log|det ∂y/∂x| = log det(I + J_g), by
    ``log_det``: ``"exact"`` (slogdet of the full Jacobian), ``"series"`` (the power
    series to ``terms`` terms with exact traces) or ``"hutchinson"`` (the series with
    Hutchinson traces, one ``probe`` vector per example: cheap, for training).

    Tests: tests/models/test_flows_transforms.py (exact log-det against the autograd
    Jacobian; series against exact; Hutchinson's mean against the series; geometric
    convergence of the inverse at a rate ≤ ``lipschitz_bound()``).
    """

    domain = constraints.real_vector
    codomain = constraints.real_vector
    bijective = True

    def __init__(
        self,
        dim: int,
        hidden: int = 64,
        depth: int = 2,
        coeff: float = 0.9,
        activation: str = "lipswish",
        log_det: str = "hutchinson",
        terms: int = 8,
        probe: str = "rademacher",
        power_iterations: int = 5,
        tol: float = 1e-6,
        max_iter: int = 200,
    ):
        super().__init__(cache_size=1)
        counts = dict(dim=dim, hidden=hidden, depth=depth, terms=terms, max_iter=max_iter)
        for name, value in {**counts, "power_iterations": power_iterations}.items():
            checks.positive_int(name, value)
        checks.positive_float("tol", tol)
        if not 0 < coeff < 1:
            raise ArgumentError(f"coeff must lie in (0, 1) so that Lip(g) < 1, got {coeff!r}")
        if activation not in ACTIVATIONS:
            raise ArgumentError(
                f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}"
            )
        if probe not in PROBES:
            raise ArgumentError(f"probe must be one of {PROBES}, got {probe!r}")
        self.log_det = log_det
        self.terms, self.probe, self.tol, self.max_iter = terms, probe, tol, max_iter
        sizes = [dim, *[hidden] * depth, dim]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            if i:
                layers.append(ACTIVATIONS[activation]())
            layers.append(contractive_linear(a, b, coeff, power_iterations))
        self.g = nn.Sequential(*layers)
        self.last_inverse_errors: list[float] = []

    @property
    def log_det(self) -> str:
        """How log det(I + J_g) is computed: ``"exact"``, ``"series"`` or ``"hutchinson"``."""
        return self._log_det

    @log_det.setter
    def log_det(self, value: str) -> None:
        if value not in LOG_DETS:
            raise ArgumentError(f"log_det must be one of {LOG_DETS}, got {value!r}")
        self._log_det = value

    def lipschitz_bound(self) -> float:
        """Π_l ‖W_l‖₂ of the effective weights: a bound on Lip(g) (activations are 1-Lipschitz)."""
        with torch.no_grad():
            norms = [
                torch.linalg.matrix_norm(m.weight, ord=2).item()
                for m in self.g
                if isinstance(m, nn.Linear)
            ]
        return math.prod(norms)

    def fixed_point_inverse(self, y: torch.Tensor) -> tuple[torch.Tensor, list[float]]:
        """x with x + g(x) = y by x_{k+1} = y − g(x_k), and the distances max_i ‖x_{k+1} − x_k‖."""
        x, errors = y, []
        for _ in range(self.max_iter):
            step = y - self.g(x)
            errors.append(torch.linalg.vector_norm(step - x, dim=-1).max().item())
            x = step
            if errors[-1] <= self.tol:
                break
        else:
            warnings.warn(
                f"the fixed-point inverse stopped after max_iter={self.max_iter} steps at a "
                f"change of {errors[-1]:.2e} > tol={self.tol:.1e}; raise max_iter or lower coeff",
                stacklevel=2,
            )
        return x, errors

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.g(x)

    def _inverse(self, y: torch.Tensor) -> torch.Tensor:
        x, self.last_inverse_errors = self.fixed_point_inverse(y)
        return x

    def log_abs_det_jacobian(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        create_graph = torch.is_grad_enabled()
        with torch.enable_grad():
            x = x if x.requires_grad else x.detach().requires_grad_()
            gx = self.g(x)
            if self.log_det == "exact":
                return exact_log_det(gx, x, create_graph)
            trace = "exact" if self.log_det == "series" else "hutchinson"
            return series_log_det(gx, x, self.terms, trace, self.probe, create_graph)
