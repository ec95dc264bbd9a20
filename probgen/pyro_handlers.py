"""The effect handlers that probgen adds to Pyro (``pyro.poutine`` messengers).

Their NumPyro twins are in ``probgen.numpyro_handlers``; each file imports its own
library only, so a program's run loads no other (``probgen.lazy``).
"""

from __future__ import annotations

import torch
from pyro.poutine.messenger import Messenger

from probgen.programs import FirstSample


class Probe(Messenger):
    """Stops the program at its first sample statement (``programs.detect_backend``)."""

    def _pyro_sample(self, msg):
        raise FirstSample("pyro")


class Watch(Messenger):
    """Makes each continuous latent value an autograd leaf, so that a value computed from
    one carries a gradient, and keeps the name of the last sample site run."""

    last: str | None = None

    def _pyro_post_sample(self, msg):
        value = msg["value"]
        if not msg["is_observed"] and torch.is_tensor(value) and value.is_floating_point():
            msg["value"] = value.detach().requires_grad_()
        self.last = msg["name"]


class MaskSites(Messenger):
    """``poutine.mask`` for the named sites only."""

    def __init__(self, sites: list[str], mask: torch.Tensor):
        super().__init__()
        self.sites, self.mask = set(sites), mask

    def _pyro_sample(self, msg):
        if msg["name"] in self.sites:
            msg["mask"] = self.mask if msg["mask"] is None else msg["mask"] & self.mask
