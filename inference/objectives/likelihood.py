"""The objectives of models with a likelihood or a bound on it, and of a model's own loss.

Each is one loss per example of a minibatch x of B of the N training examples (or of the
pair (x, y) of examples and labels for a ``conditional`` model):

- ``ELBO``: −ELBO/N, ELBO = Σ_i E_q[log p(x_i, z_i) − log q(z_i | x_i)], estimated by
  the model's bound (``model.elbo()``, a Pyro ELBO, where the model has one, else Pyro's
  ``Trace_ELBO``) on ``model.model(x, size=N)`` and ``model.guide(x, size=N)``, whose
  ``data_plate`` scales the minibatch's terms by N/B (an unbiased estimate of the whole
  data set's ELBO). Checked against a hand computation of the same draw, and its epoch
  mean against the closed form, in tests/inference/test_fit.py. Its direct loss,
  −(1/B) Σ_i L̂(x_i) with the model's ``elbo_estimate`` (the same estimate from the same
  draws, computed without tracing the programs: (N/B)/N = 1/B), replaces it after the
  first epoch where the model has one (``inference/direct.py``; tests/inference/
  test_direct.py).
- ``MaximumLikelihood``: −(1/B) Σ_i log p(x_i) with ``model.log_prob``; checked against
  the closed-form Gaussian MLE.
- ``ModelLoss``: ``model.loss(x)``, for models fitted by a loss that is neither (VQ-VAE,
  InfoVAE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pyro.infer
from torch import nn

from probgen.inference.objectives.base import Loss, Objective


@dataclass
class ELBO(Objective):
    """Minimise −ELBO/N; ``bound`` (a Pyro ELBO) overrides the model's own. ``direct``:
    after the first epoch, compute the model's own bound with its ``elbo_estimate``, where
    it has one, rather than from the programs."""

    bound: pyro.infer.ELBO | None = None
    direct: bool = True
    name: ClassVar[str] = "elbo"
    needs: ClassVar[tuple[str, ...]] = ("model", "guide")

    def losses(self, model: nn.Module, size: int) -> dict[str, Loss]:
        bound = self.bound
        if bound is None:  # the model's own bound, where it declares one
            own = getattr(model, "elbo", None)
            bound = own() if callable(own) else pyro.infer.Trace_ELBO()

        def loss(*batch):
            return bound.differentiable_loss(model.model, model.guide, *batch, size=size) / size

        return {"loss": loss}

    def direct_losses(self, model: nn.Module, size: int) -> dict[str, Loss]:
        estimate = getattr(model, "elbo_estimate", None)
        if not self.direct or self.bound is not None or not callable(estimate):
            return {}
        return {"loss": lambda *batch: -estimate(*batch).mean()}


@dataclass
class MaximumLikelihood(Objective):
    """Minimise the mean negative log-likelihood −(1/B) Σ_i log p(x_i)."""

    name: ClassVar[str] = "mle"
    needs: ClassVar[tuple[str, ...]] = ("log_prob",)

    def losses(self, model: nn.Module, size: int) -> dict[str, Loss]:
        return {"loss": lambda *batch: -model.log_prob(*batch).mean()}


@dataclass
class ModelLoss(Objective):
    """Minimise the model's own ``loss(x)``."""

    name: ClassVar[str] = "loss"
    needs: ClassVar[tuple[str, ...]] = ("loss",)

    def losses(self, model: nn.Module, size: int) -> dict[str, Loss]:
        return {"loss": model.loss}
