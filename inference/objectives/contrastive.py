"""Contrastive divergence: maximum likelihood for energy models, with sampled negatives.

A model with free energy F(v), p(v) = exp(−F(v)) / Z, has the log-likelihood gradient

    −∇ log p(v) = ∇F(v) − E_{p}[∇F(v′)],

whose second (negative) phase is an expectation under the model, intractable through Z.
CD-k (Hinton, 2002) estimates it with ṽ_j, the end of k steps of block Gibbs sampling
(``inference/block_gibbs.py``: h ~ p(h | v), then v ~ p(v | h)) started at the data, and
minimises the surrogate

    L = (1/B) Σ_i F(v_i) − (1/C) Σ_j F(ṽ_j),    ṽ held fixed (no gradient through the chain),

on a minibatch v_1..v_B, so that ∇L = (1/B) Σ_i ∇F(v_i) − (1/C) Σ_j ∇F(ṽ_j). For data of
law q and the k-step transition matrix T of the chain, E[∇L] = E_q[∇F] − E_{qTᵏ}[∇F]
exactly, which tends to the log-likelihood gradient E_q[∇F] − E_p[∇F] as k grows (qTᵏ → p).
The value of L is the free-energy gap between data and negatives, not a log-likelihood.

Persistent CD (PCD, Tieleman 2008) does not restart the chains at the data: each step runs
k Gibbs steps on from the previous step's negatives, so the chains follow the slowly
changing model and approach p(v) rather than qTᵏ. The C chains start at the first
minibatch (C = B, ``pg.fit``'s batch size); all C advance at every step, and the negative
phase averages over all C whatever the minibatch's size (an epoch's last batch may be
smaller), so every step's estimate has the same number of negatives. The chains are the
objective's state: a checkpoint stores them, and a resumed run repeats the uninterrupted one
bit for bit.

The draws come from torch's global RNG, which ``pg.fit`` seeds and checkpoints. Checked in
tests/inference/test_objectives.py against exhaustive enumeration of a tiny RBM (E[∇L]
over many chains, and its k → ∞ limit, the exact log-likelihood gradient), a hand-written
CD loop, and the resume of a PCD run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from probgen.checks import at_least
from probgen.errors import ArgumentError, ModelError
from probgen.inference.block_gibbs import block_gibbs
from probgen.inference.objectives.base import Loss, Objective, Update


@dataclass
class ContrastiveDivergence(Objective):
    """CD-k, or persistent CD-k with ``persistent=True``; see the module docstring.

    The model provides ``free_energy(v)`` (F, one value per example: shape (B,)) and the
    block-Gibbs layer samplers ``sample_h_given_v(v, generator)`` and
    ``sample_v_given_h(h, generator)`` (``inference/block_gibbs.py``), which are called with
    ``generator=None``: torch's global RNG. ``pg.fit``'s ``Run.losses`` holds the surrogate
    L of each step.
    """

    k: int = 1
    persistent: bool = False
    name: ClassVar[str] = "cd"
    needs: ClassVar[tuple[str, ...]] = ("free_energy", "sample_h_given_v", "sample_v_given_h")
    _chains: torch.Tensor | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.k = at_least("k", self.k, 1)
        if not isinstance(self.persistent, bool):
            raise ArgumentError(f"persistent must be True or False, got {self.persistent!r}")

    def check(self, model: nn.Module) -> None:
        """Raise ``ModelError`` unless ``model`` has F and the samplers, and takes no labels."""
        super().check(model)
        if getattr(model, "conditional", False):
            raise ModelError(
                f"objective {self.name!r} trains unconditional models, and "
                f"{type(model).__name__} is conditional (it takes labels y)"
            )

    def losses(self, model: nn.Module, size: int) -> dict[str, Loss]:
        """L(v, ṽ) = mean F(v) − mean F(ṽ), of the batch v and the negatives ṽ that ``step``
        draws (the draws stay outside the loss: a traced loss replays no Python)."""

        def energy(v: torch.Tensor) -> torch.Tensor:
            f = model.free_energy(v)
            if f.shape != v.shape[:1]:
                raise ModelError(
                    f"{type(model).__name__}.free_energy must give one value per example, "
                    f"shape ({len(v)},), got {tuple(f.shape)}"
                )
            return f

        def loss(v: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
            return energy(v).mean() - energy(negatives).mean()

        return {"loss": loss}

    def negatives(self, model: nn.Module, v: torch.Tensor) -> torch.Tensor:
        """ṽ: k block-Gibbs steps of ``model`` from the batch ``v`` (CD), or from the
        persistent chains (PCD; from ``v`` at the first step), which then hold ṽ."""
        start = v if not self.persistent or self._chains is None else self._chains.to(v)
        negatives, _ = block_gibbs(model.sample_v_given_h, model.sample_h_given_v, start, self.k)
        if self.persistent:
            self._chains = negatives
        return negatives

    def step(
        self,
        model: nn.Module,
        losses: dict[str, Loss],
        batch: tuple[torch.Tensor, ...],
        step: int,
        update: Update,
    ) -> dict[str, float]:
        """Draw the negatives, then one update of the model on ∇L."""
        v = batch[0]
        return {"loss": update("model", losses["loss"](v, self.negatives(model, v)))}

    def state_dict(self) -> dict[str, Any]:
        """The persistent chains (C, *event_shape), once drawn; nothing for CD."""
        return {"chains": self._chains} if self.persistent and self._chains is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the persistent chains; a CD checkpoint has none, and PCD needs them."""
        if not self.persistent:
            super().load_state_dict(state)
            return
        if set(state) != {"chains"} or not isinstance(state["chains"], torch.Tensor):
            raise ValueError(
                f"persistent CD needs its chains in the objective state, got {sorted(state)}"
            )
        self._chains = state["chains"]
