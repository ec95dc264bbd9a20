"""What a zoo model of torch networks is, and how ``pg.fit`` sees it.

A deep zoo model is a ``PyroModule`` that bundles a Pyro program with its networks. It
names the objective it is fitted by in ``default_objective`` (an objective name of
``probgen.inference.objectives``), and ``pg.fit`` (``inference/fit.py``) does the
fitting; a model never trains itself, and imports nothing from ``inference``:

- ``"elbo"``: latent-variable models. ``pg.fit`` minimises the negative ELBO of
  ``model(x, size)`` and ``guide(x, size)`` with the model's bound ``elbo()`` (a Pyro
  ELBO: the VAE family's ``Trace_ELBO``, IWAE's importance-weighted bound).
- ``"mle"``: models with an exact density, such as flows. ``pg.fit`` minimises the mean
  negative log-likelihood −(1/B) Σ_i log p(x_i) of ``log_prob``.
- ``"loss"``: models fitted by a loss that is neither, such as VQ-VAE's; ``pg.fit``
  minimises ``loss(x)``.

``size`` is the number of examples in the whole data set, so that a minibatch of B
examples is scaled by N/B inside the program's ``data_plate``. A ``conditional`` model
takes the class labels y of its examples after x (``model(x, y, size)``, ``loss(x, y)``).
"""

from __future__ import annotations

from typing import ClassVar

import pyro
import torch
from pyro.nn import PyroModule


def data_plate(x: torch.Tensor, size: int | None = None) -> pyro.plate:
    """The plate over the examples of the minibatch ``x`` of a data set of ``size``.

    Every term inside it is scaled by N/B (N = ``size``, B = ``len(x)``), which makes the
    minibatch log density an unbiased estimate of the full one.
    """
    batch = x.shape[0]
    if size is None or size == batch:
        return pyro.plate("data", batch, dim=-1)
    return pyro.plate("data", size, subsample=torch.arange(batch, device=x.device), dim=-1)


class GenerativeModel(PyroModule):
    """Base class of the torch zoo models; see the module docstring.

    Subclasses set ``default_objective`` and ``event_shape`` and implement what that
    objective needs (``model``/``guide``, ``log_prob`` or ``loss``) plus ``sample(n)`` and
    ``log_likelihood(x)`` (nats per example).
    """

    default_objective: ClassVar[str] = "elbo"
    # whether the programs and losses take class labels y after x: model(x, y, size)
    conditional: ClassVar[bool] = False
    event_shape: tuple[int, ...]

    @property
    def device(self) -> torch.device:
        """The device of the model's parameters (the CPU when it has none)."""
        return next((p.device for p in self.parameters()), torch.device("cpu"))
