"""The training loop of the torch zoo models (``pg.fit``): minibatch steps of an objective.

The objective (``inference/objectives``) says which parameter groups it optimises and
how one step updates them; this loop owns what every objective shares. It draws the
minibatch of each step (``batches.py``: a pure function of (seed, step)), gives the
objective an ``update(group, loss)`` that backpropagates into that group's parameters
only, clips the gradient, stops the run when the loss or the gradient is not finite
(before the step is taken) and steps the group's optimizer and schedule. After the first
epoch it runs the objective's direct losses (``direct.py``) in place of losses that run
Pyro programs, and with ``jit_compile`` replays them as traced graphs (``traced.py``).
Adam, fused into one kernel where the device allows it, is the default optimizer; Pyro's
param store and ``SVI`` wrapper are not involved, and the model's ``PyroModule``
parameters are kept local to it (``module_local_params``).

A checkpoint stores the parameters, every optimizer and schedule, the objective's state,
the history and torch's RNG state, so a resumed run repeats an uninterrupted one bit for
bit. All of it is checked in tests/inference/test_fit.py.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyro
import torch
from tqdm.auto import tqdm, trange

from probgen.datasets.base import Dataset
from probgen.errors import ArgumentError, ModelError, TrainingError, invalid_parameter
from probgen.inference import checkpoint as _checkpoint
from probgen.inference.batches import Batches
from probgen.inference.direct import checked
from probgen.inference.objectives import Group, Objective
from probgen.inference.traced import TracedLoss
from probgen.models.base import GenerativeModel
from probgen.results import Run

CHECKPOINT_FORMAT = 2


class NonFinite(Exception):
    """An update met a loss or a gradient norm that is not finite."""

    def __init__(self, loss: float, norm: float):
        super().__init__(loss, norm)
        self.loss, self.norm = loss, norm


class Optimizers:
    """One optimizer, and optionally a learning-rate schedule, per parameter group.

    ``update`` is the objectives' ``Update``: g = ∇loss with respect to the group's
    parameters, clipped to g·min(1, c/‖g‖₂) when ``clip_norm`` = c, then one step.
    """

    def __init__(self, groups: dict[str, Group], lr: float, clip_norm: float | None):
        for name, group in groups.items():
            if not group.params:
                what = "the model" if len(groups) == 1 else f"parameter group {name!r}"
                raise ModelError(f"{what} has no trainable parameters: there is nothing to fit")
        self.params = {name: list(group.params) for name, group in groups.items()}
        self.optimizers = {
            name: g.optimizer(self.params[name], lr if g.lr is None else g.lr)
            for name, g in groups.items()
        }
        # the groups that follow pg.fit's lr, on start and on resume
        self._fit_lr = [n for n, g in groups.items() if g.lr is None and g.schedule is None]
        self.schedules = {
            name: g.schedule(self.optimizers[name])
            for name, g in groups.items()
            if g.schedule is not None
        }
        self._clip_norm = clip_norm
        # with several groups, a backward fills only its own group's gradients; one group
        # takes the plain backward, which skips autograd's pruning pass (~30 µs a step on
        # the digits VAE, benchmarks/svi_vae.py)
        self._inputs = {
            name: params if len(groups) > 1 else None for name, params in self.params.items()
        }

    def update(self, group: str, loss: torch.Tensor) -> float:
        """One step of ``group``'s optimizer on ∇loss; returns the loss. Raises
        ``NonFinite`` (the step not taken) when the loss or the gradient is not finite."""
        if loss.dim() != 0:
            raise ModelError(f"the {group!r} loss must be a scalar, got shape {loss.shape}")
        params, optimizer = self.params[group], self.optimizers[group]
        for param in params:  # zero_grad(set_to_none=True) without its profiler record
            param.grad = None  # (~20 µs a step on the digits VAE)
        loss.backward(inputs=self._inputs[group])
        norms = _gradient_norms(params, self._clip_norm)
        value, *norms = torch.stack([loss.detach(), *norms]).tolist()  # the update's one sync
        norm = math.hypot(*norms)
        if not (math.isfinite(value) and math.isfinite(norm)):
            raise NonFinite(value, norm)
        optimizer.step()
        if group in self.schedules:
            self.schedules[group].step()
        return value

    def set_lr(self, lr: float) -> None:
        """Set the learning rate of every group that has neither its own rate nor a
        schedule (a resumed run takes the rate of the call that resumes it)."""
        for name in self._fit_lr:
            for group in self.optimizers[name].param_groups:
                group["lr"] = lr

    def state_dict(self) -> dict:
        return {
            "optimizers": {k: v.state_dict() for k, v in self.optimizers.items()},
            "schedules": {k: v.state_dict() for k, v in self.schedules.items()},
        }

    def load_state_dict(self, state: dict) -> None:
        for kind, parts in (("optimizers", self.optimizers), ("schedules", self.schedules)):
            if set(state[kind]) != set(parts):
                raise ValueError(f"{kind} {sorted(state[kind])}, expected {sorted(parts)}")
            for name, part in parts.items():
                part.load_state_dict(state[kind][name])


def train(
    model: GenerativeModel,
    data: tuple[torch.Tensor, ...],
    *,
    objective: Objective,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    clip_norm: float | None,
    checkpoint: str | os.PathLike | None,
    checkpoint_every: int | None,
    resume: str | os.PathLike | None,
    progress: bool,
    jit_compile: bool,
    dequantize: Dataset | None,
) -> Run:
    """Run ``steps`` steps of ``objective`` on minibatches of ``data``; see the module.

    Pyro's validation (argument, support and shape checks), when enabled, runs during the
    first epoch, in which every example passes through the program once; later epochs skip
    its cost, and the loop's own check stops the run with ``TrainingError`` as soon as a
    loss or a gradient is not finite. Those later epochs run the objective's direct losses,
    where it has them, in place of the losses that run the programs, once they have matched
    them on the first batch (``direct.py``); ``jit_compile`` runs them on the losses traced
    by the PyTorch JIT (``traced.py``). ``dequantize``: see ``Batches``.
    """
    if checkpoint is not None:  # before training, so a bad path costs no work
        _checkpoint.check_writable(checkpoint)
    batches = Batches(data, batch_size, seed, dequantize)
    optimizers = Optimizers(objective.groups(model), lr, clip_norm)
    history = {name: np.empty(steps) for name in objective.names}
    config = {
        "seed": seed,
        "batch_size": batches.batch,
        "size": batches.size,
        "objective": objective.name,
        "dequantize": dequantize is not None,
    }
    device = data[0].device
    pyro.set_rng_seed(seed)
    start = 0
    if resume is not None:
        start = _restore(resume, model, objective, optimizers, history, config, steps, device)
    optimizers.set_lr(lr)
    losses = objective.losses(model, batches.size)
    switch = max(start, batches.per_epoch)  # the first step after the first epoch
    saved: Path | None = None
    with _training(model, start, steps, progress) as (stack, bar):
        direct = objective.direct_losses(model, batches.size) if switch < steps else {}
        if direct:
            direct = checked(model, objective, losses, direct, batches(start))
        for step in bar:
            if step == switch:  # Pyro validates the first epoch only
                stack.enter_context(pyro.validation_enabled(False))
                losses = losses | direct
                if jit_compile:
                    losses = {name: TracedLoss(model, loss) for name, loss in losses.items()}
            try:
                values = objective.step(model, losses, batches(step), step, optimizers.update)
            except NonFinite as bad:
                raise _diverged(bad.loss, bad.norm, step, steps, saved) from None
            except ValueError as exc:  # Pyro's validation found a NaN distribution parameter
                if not invalid_parameter(exc):
                    raise
                raise _diverged(math.nan, math.nan, step, steps, saved) from exc
            for name, value in values.items():
                history[name][step] = value
            if progress:
                bar.set_postfix_str(f"loss {values[objective.names[0]]:.4g}", refresh=False)
            done = step + 1
            if checkpoint is not None and (
                done == steps or (checkpoint_every is not None and done % checkpoint_every == 0)
            ):
                state = _state(model, objective, optimizers, history, done, config, device)
                saved = _checkpoint.save(checkpoint, state)
    main, *others = objective.names
    metrics = {"epoch_loss": batches.epoch_means(history[main])}
    metrics |= {name: history[name].tolist() for name in others}
    return Run(history[main], metrics, [] if saved is None else [saved])


@contextlib.contextmanager
def _training(
    model: GenerativeModel, start: int, steps: int, progress: bool
) -> Iterator[tuple[contextlib.ExitStack, tqdm]]:
    """The steps' progress bar, with the model in training mode (dropout, batch norm) and
    its Pyro parameters local to it; the model's mode is restored on leaving."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(pyro.settings.context(module_local_params=True))
        stack.callback(model.train, model.training)
        model.train()
        bar = stack.enter_context(
            trange(start, steps, initial=start, total=steps, disable=not progress, desc="fit")
        )
        yield stack, bar


def _gradient_norms(params: list[torch.Tensor], clip_norm: float | None) -> list[torch.Tensor]:
    """Norms whose root sum of squares is ‖g‖₂ over all gradients: with ``clip_norm`` = c,
    ‖g‖₂ itself, after clipping g ← g·min(1, c/‖g‖); else each gradient's ‖g_k‖₂, in one
    fused operation (``get_total_norm`` adds a grouping pass and two more operations to it,
    which take ~20 µs of a step of the digits VAE)."""
    if clip_norm is not None:
        return [torch.nn.utils.clip_grad_norm_(params, clip_norm)]
    grads = [p.grad for p in params if p.grad is not None]
    return list(torch._foreach_norm(grads)) if grads else []


def _state(model, objective, optimizers, history, step, config, device) -> dict:
    main, *others = objective.names
    state = {
        "format": CHECKPOINT_FORMAT,
        "step": step,
        **config,
        "model": model.state_dict(),
        **optimizers.state_dict(),
        "objective_state": objective.state_dict(),
        "losses": torch.from_numpy(history[main][:step].copy()),
        "metrics": {name: torch.from_numpy(history[name][:step].copy()) for name in others},
        "rng": torch.get_rng_state(),
    }
    if device.type == "cuda":
        state["cuda_rng"] = torch.cuda.get_rng_state(device)
    return state


def _restore(path, model, objective, optimizers, history, config, steps, device) -> int:
    """Load a checkpoint into the model, the objective, the optimizers, ``history`` and
    torch's RNG; return the number of steps it had done."""
    state = _checkpoint.load(path)
    keys = ("format", "step", *config, "model", "optimizers", "schedules", "objective_state")
    keys += ("losses", "metrics", "rng")
    if any(key not in state for key in keys) or state["format"] != CHECKPOINT_FORMAT:
        raise ArgumentError(f"resume={str(path)!r} is not a checkpoint written by pg.fit")
    changed = [f"{k}={state[k]!r} (now {v!r})" for k, v in config.items() if state[k] != v]
    if changed:
        raise ArgumentError(
            f"resume={str(path)!r} was written with {', '.join(changed)}: resume with the "
            "same seed, batch_size, data, objective and dequantize, or start a new run"
        )
    if state["step"] > steps:
        raise ArgumentError(
            f"resume={str(path)!r} has done {state['step']} steps, more than steps={steps}"
        )
    try:
        model.load_state_dict(state["model"])
        optimizers.load_state_dict(state)
        objective.load_state_dict(state["objective_state"])
    except (RuntimeError, ValueError, KeyError) as exc:
        why = " ".join(str(exc).split())  # torch's message spans lines
        raise ArgumentError(
            f"resume={str(path)!r} does not fit {type(model).__name__}: {why}"
        ) from exc
    main, *others = objective.names
    done = state["step"]
    history[main][:done] = state["losses"].numpy()
    for name in others:
        history[name][:done] = state["metrics"][name].numpy()
    torch.set_rng_state(state["rng"])
    if "cuda_rng" in state and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"], device)
    return done


def _diverged(value, norm, step, steps, saved) -> TrainingError:
    what = (
        f"the loss became {value}"
        if not math.isfinite(value)
        else f"the gradient norm became {norm}"
    )
    kept = f"; the last good checkpoint ({saved}) is untouched" if saved is not None else ""
    return TrainingError(
        f"{what} at step {step + 1} of {steps}, and the step was not taken{kept}: lower lr, "
        "set clip_norm, or check the model's initial values and support"
    )
