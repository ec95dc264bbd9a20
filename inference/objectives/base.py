"""What ``pg.fit`` optimises: the objective protocol.

An objective names what it trains and how, and ``pg.fit`` (``inference/fit.py``) owns
what every objective shares: batches, seeds, progress, the NaN guard, the JIT, gradient
clipping, checkpoints and resume. An objective declares

- ``groups(model)``: the parameter groups it optimises, ``{name: Group}``, each with its
  own optimizer, learning rate and schedule (one group, ``"model"``, by default);
- ``losses(model, size)``: its losses, ``{name: loss(*tensors)}`` (``size`` = N, the number
  of training examples), called on the minibatch and on any tensors that ``step`` passes
  besides. ``pg.fit(jit_compile=True)`` replays each loss as a traced graph after the
  first epoch (``traced.py``): torch's random draws inside it are drawn afresh at each
  call (a GAN's noise), but Python is not re-run, so what a step reads from state kept
  across steps (CD's persistent chains) is drawn in ``step`` and passed in as a tensor;
- ``direct_losses(model, size)``: optionally, some of those losses (by name) computed
  without running Pyro programs (``direct.py``), which ``pg.fit`` checks against them at
  start-up, on the same draws, and uses in their place after the first epoch. An
  objective that has them takes ``direct=False`` to go without;
- ``step(model, losses, batch, step, update)``: one training step. ``update(group, loss)``
  takes one optimizer step of ``group`` on ∇loss (after the NaN guard and clipping) and
  returns the loss as a float; ``step`` decides which groups step, in which order, and
  returns the step's named values (``names``, the first of which is the run's
  ``losses``). When an update fails the guard, the run stops with the step's earlier
  updates taken and that one not;
- ``state_dict()`` / ``load_state_dict(state)``: state that lives across steps (a
  persistent chain, a replay buffer), saved in every checkpoint. Tensors and numbers only:
  checkpoints are read with ``weights_only=True``.

``Objective`` is the base class with those defaults: a one-loss objective writes only
``losses``, returning ``{"loss": ...}``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import torch
from torch import nn

from probgen.errors import ModelError

Loss = Callable[..., torch.Tensor]
OptimizerFactory = Callable[[list[torch.Tensor], float], torch.optim.Optimizer]
ScheduleFactory = Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler]


class Update(Protocol):
    """``update(group, loss)``: one optimizer step of ``group`` on ∇loss; returns the loss."""

    def __call__(self, group: str, loss: torch.Tensor) -> float: ...


def adam(params: list[torch.Tensor], lr: float, **options: Any) -> torch.optim.Adam:
    """Adam with learning rate ``lr`` and ``options`` (``betas``, ...), fused into one
    kernel where the device has it."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True, **options)
    except RuntimeError:
        return torch.optim.Adam(params, lr=lr, **options)


@dataclass(frozen=True)
class Group:
    """Parameters stepped together by one optimizer.

    ``optimizer(params, lr)`` builds it, with the group's own ``lr`` or, when that is None,
    ``pg.fit``'s (which a resumed run replaces by the resuming call's). ``schedule(optimizer)``,
    when given, builds a ``torch.optim.lr_scheduler`` stepped after every update, whose
    state a checkpoint keeps.
    """

    params: tuple[torch.Tensor, ...]
    optimizer: OptimizerFactory = adam
    schedule: ScheduleFactory | None = None
    lr: float | None = None

    @classmethod
    def of(cls, modules: nn.Module | Iterable[nn.Module], **options: Any) -> Group:
        """The trainable parameters of ``modules``, as one group."""
        modules = [modules] if isinstance(modules, nn.Module) else list(modules)
        params = (p for m in modules for p in m.parameters() if p.requires_grad)
        return cls(tuple(dict.fromkeys(params)), **options)


class Objective(ABC):
    """Base of the objectives of ``pg.fit``; see the module docstring for the protocol.

    ``needs`` names the model's methods that the objective calls; ``check`` refuses a
    model without them.
    """

    name: ClassVar[str]
    names: ClassVar[tuple[str, ...]] = ("loss",)
    needs: ClassVar[tuple[str, ...]] = ()

    def check(self, model: nn.Module) -> None:
        """Raise ``ModelError`` unless ``model`` has what this objective calls."""
        missing = [name for name in self.needs if not callable(getattr(model, name, None))]
        if missing:
            raise ModelError(
                f"objective {self.name!r} needs {type(model).__name__}.{missing[0]}(), which "
                "it lacks: implement it or pick another objective (its default is "
                f"{getattr(model, 'default_objective', None)!r})"
            )

    def groups(self, model: nn.Module) -> dict[str, Group]:
        """All trainable parameters of ``model`` as one group, ``"model"``."""
        return {"model": Group.of(model)}

    @abstractmethod
    def losses(self, model: nn.Module, size: int) -> dict[str, Loss]:
        """The objective's losses, ``{name: loss(*batch)}``, for a data set of ``size``."""

    def direct_losses(self, model: nn.Module, size: int) -> dict[str, Loss]:
        """Direct computations of some of ``losses``, by name: none by default."""
        return {}

    def step(
        self,
        model: nn.Module,
        losses: dict[str, Loss],
        batch: tuple[torch.Tensor, ...],
        step: int,
        update: Update,
    ) -> dict[str, float]:
        """One update of the one group on the one loss."""
        (loss,) = losses.values()
        return {self.names[0]: update("model", loss(*batch))}

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned: nothing, for a stateless objective."""
        if state:
            raise ValueError(f"objective {self.name!r} keeps no state, but got {sorted(state)}")
