"""The training loop of the torch zoo models (``pg.fit``): minibatch Adam on a backend's loss.

Every step draws a minibatch x of B of the N training examples and takes one Adam step on
a per-example loss (``objective``): the negative ELBO / N for ``"svi"``, the mean negative
log-likelihood for ``"mle"``, the model's own ``loss`` for ``"objective"``. Adam works on
``model.parameters()`` directly, fused into one kernel where the device allows it; Pyro's
param store and ``SVI`` wrapper are not involved, and the model's ``PyroModule``
parameters are kept local to it (``module_local_params``).

The batch order is a pure function of (seed, step): epoch e shuffles the data with a
generator seeded from (seed, e) and step t takes batch t mod ⌈N/B⌉ of epoch t div ⌈N/B⌉
(the last batch of an epoch holds the remaining N mod B examples), so every example is
seen once per epoch. A checkpoint stores the parameters, Adam's state, the losses and
torch's RNG state, so a resumed run repeats an uninterrupted one bit for bit. All of it
is checked in tests/inference/test_fit.py.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyro
import torch
from tqdm.auto import trange

from probgen.datasets.base import Dataset
from probgen.errors import (
    ArgumentError,
    DataError,
    ModelError,
    TrainingError,
    invalid_parameter,
)
from probgen.inference import checkpoint as _checkpoint
from probgen.inference.traced import TracedLoss
from probgen.models.base import BACKENDS, GenerativeModel
from probgen.results import Run

CHECKPOINT_FORMAT = 1
# what each backend calls on the model
_NEEDS = {"svi": ("model", "guide"), "mle": ("log_prob",), "objective": ("loss",)}


def objective(model: GenerativeModel, backend: str, size: int) -> Callable[..., torch.Tensor]:
    """The per-example loss of a minibatch x (B examples of a data set of N = ``size``),
    called with x, or with x and its labels y for a ``conditional`` model.

    - ``"svi"``: −ELBO/N, where ELBO = E_q[log p(x, z) − log q(z | x)] is estimated by
      ``model.elbo()`` on ``model.model(x, size=N)`` and ``model.guide(x, size=N)``, whose
      ``data_plate`` scales the minibatch's terms by N/B (an unbiased estimate of the
      whole data set's ELBO). Checked against a hand computation of the same draw in
      tests/inference/test_fit.py.
    - ``"mle"``: −(1/B) Σ_i log p(x_i) with ``model.log_prob``.
    - ``"objective"``: ``model.loss(x)``.
    """
    if backend == "svi":
        elbo = model.elbo()
        return lambda *x: elbo.differentiable_loss(model.model, model.guide, *x, size=size) / size
    if backend == "mle":
        return lambda *x: -model.log_prob(*x).mean()
    return model.loss


def check_backend(model: GenerativeModel, backend: str | None) -> str:
    """``backend``, or the model's default, checked to be known and implemented."""
    backend = model.backend if backend is None else backend
    if backend not in BACKENDS:
        raise ArgumentError(f"backend must be one of {BACKENDS}, got {backend!r}")
    missing = [name for name in _NEEDS[backend] if not callable(getattr(model, name, None))]
    if missing:
        raise ModelError(
            f"backend={backend!r} needs {type(model).__name__}.{missing[0]}(), which it "
            f"lacks: implement it or pick another backend (its default is {model.backend!r})"
        )
    return backend


def training_data(
    model: GenerativeModel,
    data: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | Dataset,
    device: str,
) -> tuple[torch.Tensor, ...]:
    """The training tensors of ``data`` on ``device``: (x,), or (x, y) for a ``conditional``
    model. ``data`` is x (N, *event_shape), the pair (x, y) of examples and labels (N,), or
    a ``Dataset`` (its ``train`` and ``train_labels``). Floating values take the model's
    dtype; shapes and values are checked."""
    if isinstance(data, Dataset):
        data = (data.train, data.train_labels) if model.conditional else data.train
    name = type(model).__name__
    if model.conditional:
        if not (isinstance(data, tuple | list) and len(data) == 2):
            raise ArgumentError(
                f"{name} is conditional: pass data=(x, y), the examples and their labels, or "
                "a Dataset with train_labels"
            )
        x, y = data
        x = _examples(model, x, device)
        if not isinstance(y, torch.Tensor) or y.shape != x.shape[:1]:
            raise DataError(
                f"labels y must be a tensor of shape ({len(x)},), one per example; got "
                f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}"
            )
        return x, y.to(device)
    if isinstance(data, tuple | list):
        raise ArgumentError(f"{name} takes no labels: pass data=x, a tensor, or a Dataset")
    return (_examples(model, data, device),)


def _examples(model: GenerativeModel, data, device: str) -> torch.Tensor:
    """``data`` as the examples tensor (N, *event_shape) on ``device``, checked."""
    if not isinstance(data, torch.Tensor):
        raise ArgumentError(
            f"data must be a tensor (N, *event_shape) or a probgen Dataset, got "
            f"{type(data).__name__}: convert it with torch.as_tensor"
        )
    if getattr(model, "event_shape", None) is None:
        raise ModelError(f"{type(model).__name__} sets no event_shape, the shape of one example")
    event_shape = tuple(model.event_shape)
    if data.dim() < 1 or tuple(data.shape[1:]) != event_shape or len(data) == 0:
        raise DataError(
            f"data has shape {tuple(data.shape)}, and {type(model).__name__} takes examples of "
            f"event_shape {event_shape}: pass a non-empty tensor of shape (N, *{event_shape})"
        )
    if data.is_floating_point():
        bad = int(data.numel() - torch.isfinite(data).sum())
        if bad:
            raise DataError(f"data has {bad} NaN or inf value(s): drop or impute them first")
        dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), data.dtype)
        return data.to(device=device, dtype=dtype)
    return data.to(device)


def quantized(data: object) -> Dataset:
    """``data`` checked to be a quantized ``Dataset`` (``levels`` = k, values c/k), the data
    that ``pg.fit(dequantize=True)`` dequantizes afresh each epoch."""
    if not isinstance(data, Dataset) or data.levels is None:
        got = f"{data.name!r} without levels" if isinstance(data, Dataset) else type(data).__name__
        raise ArgumentError(
            "dequantize=True needs a quantized Dataset, loaded with levels=k (e.g. "
            f"digits(levels=17)), got {got}"
        )
    counts = data.train * data.levels
    if (counts - counts.round()).abs().max() > 1e-3:
        raise DataError(
            f"{data.name!r} is already dequantized (its values are not c/{data.levels}): load "
            "it without dequantize=True, and pg.fit(dequantize=True) draws fresh noise per epoch"
        )
    return data


def epoch_order(seed: int, epoch: int, size: int, device: torch.device) -> torch.Tensor:
    """The permutation of the ``size`` examples that epoch ``epoch`` visits, from a
    ``torch.Generator`` seeded with a hash of (seed, epoch)."""
    generator = torch.Generator().manual_seed(_epoch_key(seed, epoch))
    return torch.randperm(size, generator=generator).to(device)


def _epoch_key(seed: int, *stream: int) -> int:
    return int(np.random.SeedSequence([seed, *stream]).generate_state(1, np.uint64)[0])


def train(
    model: GenerativeModel,
    data: tuple[torch.Tensor, ...],
    *,
    backend: str,
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
    """Run ``steps`` Adam steps of ``objective`` on minibatches of ``data``; see the module.

    Pyro's validation (argument, support and shape checks), when enabled, runs during the
    first epoch, in which every example passes through the program once; later epochs skip
    its cost, and the loop's own check stops the run with ``TrainingError`` as soon as the
    loss or the gradient is not finite, before the step is taken. ``jit_compile`` runs those
    later epochs on the loss traced by the PyTorch JIT (``traced.py``). With ``dequantize``,
    the quantized data set of ``data``, epoch e trains on its examples plus fresh noise
    U[0, 1/k) drawn with a seed of (seed, e, 1): a flow never sees one draw twice, and a
    resumed run draws the same noise.
    """
    size, device = len(data[0]), data[0].device
    batch = min(batch_size, size)
    per_epoch = -(-size // batch)
    loss_of = objective(model, backend, size)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = _adam(params, lr)
    config = {
        "seed": seed,
        "batch_size": batch,
        "size": size,
        "backend": backend,
        "dequantize": dequantize is not None,
    }
    losses = np.empty(steps)
    pyro.set_rng_seed(seed)
    start = 0
    if resume is not None:
        start = _restore(resume, model, optimizer, losses, config, steps, device)
    for group in optimizer.param_groups:  # a resumed run takes this call's learning rate
        group["lr"] = lr
    saved: Path | None = None
    with contextlib.ExitStack() as stack:
        stack.enter_context(pyro.settings.context(module_local_params=True))
        stack.callback(model.train, model.training)  # dropout, batch norm: training mode
        model.train()
        bar = stack.enter_context(
            trange(start, steps, initial=start, total=steps, disable=not progress, desc="fit")
        )

        def epoch_data(epoch: int) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
            """The order of the examples in ``epoch``, and the data it trains on."""
            order = epoch_order(seed, epoch, size, device)
            if dequantize is None:
                return order, data
            x = dequantize.dequantized(data[0], seed=_epoch_key(seed, epoch, 1))
            return order, (x, *data[1:])

        order, tensors = epoch_data(start // per_epoch)
        for step in bar:
            epoch, j = divmod(step, per_epoch)
            if j == 0 and step > start:
                order, tensors = epoch_data(epoch)
            if step == max(start, per_epoch):  # Pyro validates the first epoch only
                stack.enter_context(pyro.validation_enabled(False))
                if jit_compile:
                    loss_of = TracedLoss(model, loss_of)
            index = order[j * batch : (j + 1) * batch]
            try:
                loss = loss_of(*(tensor[index] for tensor in tensors))
            except ValueError as exc:  # Pyro's validation found a NaN distribution parameter
                if not invalid_parameter(exc):
                    raise
                raise _diverged(math.nan, math.nan, step, steps, saved) from exc
            if step == start and loss.dim() != 0:
                raise ModelError(f"the {backend} loss must be a scalar, got shape {loss.shape}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norm = _gradient_norm(params, clip_norm)
            value, norm = torch.stack([loss.detach(), norm]).tolist()  # the step's one sync
            if not (math.isfinite(value) and math.isfinite(norm)):
                raise _diverged(value, norm, step, steps, saved)
            optimizer.step()
            losses[step] = value
            if progress:
                bar.set_postfix_str(f"loss {value:.4g}", refresh=False)
            done = step + 1
            if checkpoint is not None and (
                done == steps or (checkpoint_every is not None and done % checkpoint_every == 0)
            ):
                state = _state(model, optimizer, losses[:done], done, config, device)
                saved = _checkpoint.save(checkpoint, state)
    epochs = steps // per_epoch
    sizes = np.full(per_epoch, batch)
    sizes[-1] = size - batch * (per_epoch - 1)
    # each batch's loss is a per-example mean: weighting by B_b gives the epoch's mean
    epoch_loss = losses[: epochs * per_epoch].reshape(epochs, per_epoch) @ sizes / size
    return Run(losses, {"epoch_loss": epoch_loss.tolist()}, [] if saved is None else [saved])


def _adam(params: list[torch.Tensor], lr: float) -> torch.optim.Adam:
    if not params:
        raise ModelError("the model has no trainable parameters: there is nothing to fit")
    try:  # one fused kernel for all parameters, where the device has it
        return torch.optim.Adam(params, lr=lr, fused=True)
    except RuntimeError:
        return torch.optim.Adam(params, lr=lr)


def _gradient_norm(params: list[torch.Tensor], clip_norm: float | None) -> torch.Tensor:
    """‖g‖₂ over all gradients, after clipping g ← g·min(1, c/‖g‖) when ``clip_norm`` = c."""
    if clip_norm is not None:
        return torch.nn.utils.clip_grad_norm_(params, clip_norm)
    return torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None])


def _state(model, optimizer, losses, step, config, device) -> dict:
    state = {
        "format": CHECKPOINT_FORMAT,
        "step": step,
        **config,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "losses": torch.from_numpy(losses.copy()),
        "rng": torch.get_rng_state(),
    }
    if device.type == "cuda":
        state["cuda_rng"] = torch.cuda.get_rng_state(device)
    return state


def _restore(path, model, optimizer, losses, config, steps, device) -> int:
    """Load a checkpoint into the model, the optimizer, ``losses`` and torch's RNG; return
    the number of steps it had done."""
    state = _checkpoint.load(path)
    keys = ("format", "step", *config, "model", "optimizer", "losses", "rng")
    if any(key not in state for key in keys) or state["format"] != CHECKPOINT_FORMAT:
        raise ArgumentError(f"resume={str(path)!r} is not a checkpoint written by pg.fit")
    changed = [f"{k}={state[k]!r} (now {v!r})" for k, v in config.items() if state[k] != v]
    if changed:
        raise ArgumentError(
            f"resume={str(path)!r} was written with {', '.join(changed)}: resume with the "
            "same seed, batch_size, data, backend and dequantize, or start a new run"
        )
    if state["step"] > steps:
        raise ArgumentError(
            f"resume={str(path)!r} has done {state['step']} steps, more than steps={steps}"
        )
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as exc:
        why = " ".join(str(exc).split())  # torch's message spans lines
        raise ArgumentError(
            f"resume={str(path)!r} does not fit {type(model).__name__}: {why}"
        ) from exc
    losses[: state["step"]] = state["losses"].numpy()
    torch.set_rng_state(state["rng"])
    if "cuda_rng" in state and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"], device)
    return state["step"]


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
