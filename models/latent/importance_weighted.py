"""The importance-weighted bound (IWAE) per example, as a Pyro ELBO.

For an example x with K draws z_k ~ q(z | x), the log importance weights are
log w_k = log p(x, z_k) − log q(z_k | x), and

    L_K(x) = log (1/K) Σ_k w_k  ≤  log p(x)

(Burda et al., 2016). L_1 is the ELBO; L_K grows with K (in expectation) and tends to
log p(x). The bound of a data set is Σ_i L_K(x_i), estimated from a minibatch of B of N
examples by (N/B) Σ_{i ∈ batch} L_K(x_i).

Pyro's ``RenyiELBO(alpha=0)`` computes L_K too, but it has no ``differentiable_loss``
(which ``pg.fit`` calls) and it puts the minibatch scale N/B inside the log-mean-exp,
log (1/K) Σ_k w_k^(N/B), which is another objective when N ≠ B. This class keeps the
weights unscaled and scales L_K; with N = B it equals ``RenyiELBO(alpha=0)`` exactly
(tests/models/test_latent_iwae.py).
"""

from __future__ import annotations

import math
from typing import Any

import pyro.infer
import torch
from pyro.infer.enum import get_importance_trace
from pyro.infer.util import torch_item

from probgen import checks
from probgen.errors import ModelError


def log_mean_weight(log_w: torch.Tensor) -> torch.Tensor:
    """log (1/K) Σ_k w_k over the first dim of log w (K, B), stably via logsumexp."""
    return log_w.logsumexp(0) - math.log(len(log_w))


class ImportanceWeightedELBO(pyro.infer.ELBO):
    """The IWAE bound Σ_i L_K(x_i), L_K(x) = log (1/K) Σ_k p(x, z_k) / q(z_k | x).

    The model and guide must keep every sample site inside one data plate at dim −1
    (the examples), and the guide's sites must be reparameterizable. The K particles are
    vectorized in a plate at dim −(max_plate_nesting + 1).
    """

    def __init__(self, num_particles: int = 5, max_plate_nesting: int = 1):
        super().__init__(
            num_particles=checks.positive_int("num_particles", num_particles),
            max_plate_nesting=max_plate_nesting,
            vectorize_particles=True,
        )

    def _get_trace(self, model, guide, args, kwargs):
        return get_importance_trace("flat", self.max_plate_nesting, model, guide, args, kwargs)

    def log_weights(
        self, model, guide, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, set[float]]:
        """log w, shaped (K, B), from unscaled densities; and the set of the sites' scales."""
        ((model_trace, guide_trace),) = self._get_traces(model, guide, args, kwargs)
        log_w, scales = 0.0, set()
        for trace, sign in ((model_trace, 1), (guide_trace, -1)):
            for site in trace.nodes.values():
                if site["type"] != "sample":
                    continue
                if sign < 0 and not site["fn"].has_rsample:
                    raise ModelError(
                        f"guide site {site['name']!r} is not reparameterizable; the "
                        "importance-weighted bound needs rsample (use Trace_ELBO instead)"
                    )
                log_w = log_w + sign * site["unscaled_log_prob"]
                scales.add(float(site["scale"]))
        return torch.atleast_2d(log_w), scales

    def bound(self, model, guide, *args: Any, **kwargs: Any) -> torch.Tensor:
        """L_K(x_i) for each example of the batch, shaped (B,)."""
        log_w, _ = self.log_weights(model, guide, *args, **kwargs)
        return log_mean_weight(log_w)

    def differentiable_loss(self, model, guide, *args: Any, **kwargs: Any) -> torch.Tensor:
        """−(N/B) Σ_i L_K(x_i); its gradient is the IWAE gradient Σ_k w̃_k ∇ log w_k."""
        log_w, scales = self.log_weights(model, guide, *args, **kwargs)
        if len(scales) != 1:
            raise ModelError(
                "the importance-weighted bound needs all sample sites under one scale (one "
                f"data plate, no poutine.scale); found scales {sorted(scales)}"
            )
        return -scales.pop() * log_mean_weight(log_w).sum()

    def loss(self, model, guide, *args: Any, **kwargs: Any) -> float:
        """The negative bound as a float."""
        with torch.no_grad():
            return torch_item(self.differentiable_loss(model, guide, *args, **kwargs))

    def loss_and_grads(self, model, guide, *args: Any, **kwargs: Any) -> float:
        """The negative bound as a float; its gradient is accumulated into ``.grad``."""
        loss = self.differentiable_loss(model, guide, *args, **kwargs)
        loss.backward(retain_graph=self.retain_graph)
        return torch_item(loss)
