"""A dict of named torch tensors as one flat vector and back: torch's ``ravel_pytree``.

Pyro's MCMC hands kernels the unconstrained latents as ``{site: tensor}``; the samplers'
pure steps work on one flat position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Ravel:
    """The layout of a dict of tensors: names in sorted order, and their shapes."""

    names: tuple[str, ...]
    shapes: tuple[torch.Size, ...]

    @classmethod
    def like(cls, tensors: dict[str, torch.Tensor]) -> Ravel:
        names = tuple(sorted(tensors))
        return cls(names, tuple(tensors[k].shape for k in names))

    def flatten(self, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        """The tensors, detached, concatenated into one vector."""
        return torch.cat([tensors[k].detach().reshape(-1) for k in self.names])

    def unflatten(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """The inverse of ``flatten``."""
        if len(self.names) == 1:  # one site: a view, no split
            return {self.names[0]: flat.reshape(self.shapes[0])}
        parts = flat.split([math.prod(s) for s in self.shapes])
        return {k: p.reshape(s) for k, p, s in zip(self.names, parts, self.shapes, strict=True)}
