"""The adversarial objective of generative adversarial networks (Goodfellow et al., 2014).

A GAN pairs a generator G, which maps noise z ~ N(0, I) to fakes x̃ = G(z), with a
discriminator D, which maps an example to a logit D(x) (σ(D(x)) is the probability that x
is real). ``Adversarial`` trains both, each with its own optimizer, in the order of
Goodfellow et al.'s Algorithm 1. On a minibatch x_1..x_B of the data, each step takes

(a) k = ``discriminator_steps`` updates of D, each on fresh fakes x̃_i = G(z_i) of B
    draws z_i ~ N(0, I), held fixed (no gradient reaches G), minimising

        L_D = −(1/B) Σ_i log σ(D(x_i)) − (1/B) Σ_i log(1 − σ(D(x̃_i)))
            = (1/B) Σ_i softplus(−D(x_i)) + (1/B) Σ_i softplus(D(x̃_i)),

    the cross-entropy of telling real from fake (written with softplus(t) = log(1 + eᵗ),
    which is exact and does not overflow); the k updates share the step's minibatch x;
(b) then one update of G on B fresh draws, with the D just updated, minimising the
    non-saturating loss

        L_G = −(1/B) Σ_i log σ(D(G(z_i))) = (1/B) Σ_i softplus(−D(G(z_i))),

    whose gradient does not vanish while D rejects the fakes (Goodfellow et al., §3),
    unlike that of the minimax generator loss (1/B) Σ_i log(1 − σ(D(G(z_i)))).

For a fixed G with density p_g, L_D's population version E_{p_d}[softplus(−D)] +
E_{p_g}[softplus(D)] is minimised pointwise by the logit D*(x) = log p_d(x) − log p_g(x)
(Goodfellow et al., Proposition 1), where it equals 2 log 2 − 2 JSD(p_d ‖ p_g). Checked in
tests/inference/test_objectives.py: the discriminator that ``pg.fit`` trains against a
frozen Gaussian generator reaches the closed-form quadratic log-ratio of two Gaussians and
that minimum value; the gradient of the generator's first update is the non-saturating
one at the updated D; and a run equals a hand-written two-optimizer PyTorch loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from probgen.checks import at_least, non_negative_float
from probgen.errors import ArgumentError, ModelError
from probgen.inference.objectives.base import Group, Loss, Objective, Update, adam


@dataclass
class Adversarial(Objective):
    """The GAN objective: k discriminator updates on L_D, then one generator update on the
    non-saturating L_G; see the module docstring for the equations.

    The model has two submodules, ``generator`` and ``discriminator`` (a network mapping a
    batch (B, *event_shape) to one logit per example, shape (B,) or (B, 1)), and a method
    ``generate(n)`` that returns n fakes G(z), z ~ N(0, I), differentiable in G's
    parameters (drawn from torch's global RNG, which ``pg.fit`` seeds and checkpoints).

    Each group has its own Adam with ``betas`` (β₁ = 0.5 as in DCGAN, Radford et al.
    2016, is a common choice for GANs; torch's default is (0.9, 0.999)). Its learning rate
    is ``pg.fit``'s ``lr`` unless ``discriminator_lr`` or ``generator_lr`` is given; a
    rate of 0 freezes that group (its loss is still computed and reported). A group with its
    own rate keeps it on resume, while the others take the rate of the call that resumes.

    ``pg.fit``'s ``Run.losses`` holds the mean of the step's k discriminator losses and
    ``Run.metrics["generator"]`` the generator's loss; each is the value before its update.
    """

    discriminator_steps: int = 1
    discriminator_lr: float | None = None
    generator_lr: float | None = None
    betas: tuple[float, float] = (0.9, 0.999)
    name: ClassVar[str] = "adversarial"
    names: ClassVar[tuple[str, ...]] = ("discriminator", "generator")
    needs: ClassVar[tuple[str, ...]] = ("generate",)
    modules: ClassVar[tuple[str, ...]] = ("generator", "discriminator")

    def __post_init__(self) -> None:
        self.discriminator_steps = at_least("discriminator_steps", self.discriminator_steps, 1)
        for what in ("discriminator_lr", "generator_lr"):
            if getattr(self, what) is not None:
                setattr(self, what, non_negative_float(what, getattr(self, what)))
        betas = self.betas
        if not (
            isinstance(betas, tuple | list)
            and len(betas) == 2
            and all(isinstance(b, int | float) and 0 <= b < 1 for b in betas)
        ):
            raise ArgumentError(f"betas must be two numbers in [0, 1), got {betas!r}")
        self.betas = (float(betas[0]), float(betas[1]))

    def check(self, model: nn.Module) -> None:
        """Raise ``ModelError`` unless ``model`` has ``generate`` and the two submodules, and
        takes no labels."""
        for part in self.modules:
            if not isinstance(getattr(model, part, None), nn.Module):
                raise ModelError(
                    f"objective {self.name!r} needs {type(model).__name__}.{part}, a submodule "
                    "(nn.Module), which it lacks: a GAN holds a generator and a discriminator "
                    "(mapping a batch of examples to one logit each)"
                )
        super().check(model)
        if getattr(model, "conditional", False):
            raise ModelError(
                f"objective {self.name!r} trains unconditional GANs, and "
                f"{type(model).__name__} is conditional (it takes labels y)"
            )

    def groups(self, model: nn.Module) -> dict[str, Group]:
        """The discriminator's and the generator's trainable parameters, each with its Adam;
        they must not share a parameter, which both updates would then move."""
        groups = {
            part: Group.of(
                getattr(model, part),
                optimizer=partial(adam, betas=self.betas),
                lr=getattr(self, f"{part}_lr"),
            )
            for part in ("discriminator", "generator")
        }
        shared = set(groups["discriminator"].params) & set(groups["generator"].params)
        if shared:
            raise ModelError(
                f"{type(model).__name__}'s generator and discriminator share {len(shared)} "
                "parameter(s): give each network its own, as each is updated on its own loss"
            )
        return groups

    def losses(self, model: nn.Module, size: int) -> dict[str, Loss]:
        """L_D(x) on fresh detached fakes, and L_G(x) on fresh fakes (x gives only B)."""

        def logits(x: torch.Tensor) -> torch.Tensor:
            out = model.discriminator(x)
            if out.shape not in ((len(x),), (len(x), 1)):
                raise ModelError(
                    f"{type(model).__name__}.discriminator must give one logit per example, "
                    f"shape ({len(x)},) or ({len(x)}, 1), got {tuple(out.shape)}"
                )
            return out.reshape(len(x))

        def discriminator(*batch: torch.Tensor) -> torch.Tensor:
            x = batch[0]
            fake = model.generate(len(x)).detach()
            return F.softplus(-logits(x)).mean() + F.softplus(logits(fake)).mean()

        def generator(*batch: torch.Tensor) -> torch.Tensor:
            return F.softplus(-logits(model.generate(len(batch[0])))).mean()

        return {"discriminator": discriminator, "generator": generator}

    def step(
        self,
        model: nn.Module,
        losses: dict[str, Loss],
        batch: tuple[torch.Tensor, ...],
        step: int,
        update: Update,
    ) -> dict[str, float]:
        """k updates of the discriminator on the batch, then one of the generator."""
        k = self.discriminator_steps
        d = sum(update("discriminator", losses["discriminator"](*batch)) for _ in range(k))
        g = update("generator", losses["generator"](*batch))
        return {"discriminator": d / k, "generator": g}

