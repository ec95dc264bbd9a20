"""The effect handlers that probgen adds to NumPyro (``numpyro.primitives`` messengers).

Their Pyro twins are in ``probgen.pyro_handlers``; each file imports its own library only,
so a program's run loads no other (``probgen.lazy``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from numpyro.primitives import Messenger

from probgen.programs import FirstSample


class Probe(Messenger):
    """Stops the program at its first sample statement (``programs.detect_backend``)."""

    def process_message(self, msg):
        if msg["type"] == "sample":
            raise FirstSample("numpyro")


class Watch(Messenger):
    """Adds 0·x to each continuous latent value, x being the input of a ``jax.jvp``, so that
    a value computed from one is a JVP tracer, and keeps the name of the last sample site."""

    def __init__(self, x: jax.Array):
        super().__init__()
        self.x, self.last = x, None

    def postprocess_message(self, msg):
        if msg["type"] != "sample":
            return
        value = msg["value"]
        if not msg["is_observed"] and jnp.issubdtype(jnp.result_type(value), jnp.floating):
            msg["value"] = value + (0 * self.x).astype(jnp.result_type(value))
        self.last = msg["name"]


class MaskSites(Messenger):
    """``handlers.mask`` for the named sites only."""

    def __init__(self, sites: list[str], mask):
        super().__init__()
        self.sites, self.mask = set(sites), mask

    def process_message(self, msg):
        if msg["type"] == "sample" and msg["name"] in self.sites:
            msg["fn"] = msg["fn"].mask(self.mask)
