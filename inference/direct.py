"""An objective's direct losses: tensor computations that ``pg.fit`` runs after the first
epoch in place of losses that run Pyro programs, once each has matched its loss.

The ``"elbo"`` objective evaluates the model and guide with a Pyro ELBO: a trace of each
program, a message through the effect handlers at every site, a distribution object per
site, and the log densities scaled and summed from the traces. On the digits VAE that
machinery is half of a step, and the backward pass through its log densities takes a
third longer than through the same estimate written out (profiles of the runs of
benchmarks/svi_vae.py). A model whose programs have a fixed structure states that
estimate as tensor operations (the VAE family's ``elbo_estimate``), which the objective
turns into its loss (``direct_losses``).

A second statement of the programs can drift from them (a subclass that changes
``model`` but not ``elbo_estimate``), so the programs remain the definition: before the
first step, ``checked`` evaluates each direct loss and the loss it replaces on the run's
first batch, from the same state of torch's generator, and raises ``ModelError`` unless
the values agree to ``RTOL`` and the gradients g (direct) and g' (programs) satisfy
‖g − g'‖₂ ≤ RTOL (‖g'‖₂ + 1). The first epoch still runs the programs, where Pyro
validates them on every example.
"""

from __future__ import annotations

import math

import pyro
import torch
from torch import nn

from probgen.errors import ModelError
from probgen.inference.objectives import Objective
from probgen.inference.objectives.base import Loss
from probgen.inference.same_draws import RTOL, undone


def checked(
    model: nn.Module,
    objective: Objective,
    losses: dict[str, Loss],
    direct: dict[str, Loss],
    batch: tuple[torch.Tensor, ...],
) -> dict[str, Loss]:
    """``direct`` once each of its losses has matched ``losses``' of its name on ``batch``,
    without a mark on the RNG or the buffers; empty when the programs' loss is not finite
    there (the run's first step stops it with ``TrainingError``)."""
    params = [p for p in model.parameters() if p.requires_grad]
    buffers, device = list(model.buffers()), batch[0].device
    for name, loss in direct.items():
        # the first step validates and reports invalid parameters, as without this check
        with pyro.validation_enabled(False), undone(buffers, device):
            expected, expected_grad = _value_and_gradient(losses[name], batch, params)
        if not math.isfinite(expected):
            return {}
        with undone(buffers, device):
            try:
                actual, actual_grad = _value_and_gradient(loss, batch, params)
            except Exception as exc:  # the programs ran: the direct form does not fit them
                why = " ".join(str(exc).split()) or type(exc).__name__
                raise _refused(model, objective, name, f"fails ({why})") from exc
        gap = torch.linalg.vector_norm(actual_grad - expected_grad).item()
        scale = torch.linalg.vector_norm(expected_grad).item()
        if not math.isclose(actual, expected, rel_tol=RTOL, abs_tol=RTOL):
            what = f"gives {actual:.6g} where its programs give {expected:.6g}"
            raise _refused(model, objective, name, what)
        if not gap <= RTOL * (scale + 1):
            what = f"has a gradient {gap:.3g} away from its programs' (of norm {scale:.3g})"
            raise _refused(model, objective, name, what)
    return direct


def _value_and_gradient(
    loss: Loss, batch: tuple[torch.Tensor, ...], params: list[torch.Tensor]
) -> tuple[float, torch.Tensor]:
    """loss(*batch) and its gradient with respect to ``params``, flattened into one vector
    (zeros for a parameter that the loss does not use)."""
    value = loss(*batch)
    grads = torch.autograd.grad(value, params, allow_unused=True)
    flat = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)]
    return value.item(), torch.cat([g.flatten() for g in flat])


def _refused(model: nn.Module, objective: Objective, name: str, what: str) -> ModelError:
    return ModelError(
        f"objective {objective.name!r}: on the first batch, from the same draws, "
        f"{type(model).__name__}'s direct loss {name!r} {what}: the direct form no longer "
        "states the programs (a subclass that changes its programs must change their direct "
        f"form, such as elbo_estimate, to match). Fit it with "
        f"objective={type(objective).__name__}(direct=False), which runs the programs at "
        "every step"
    )
