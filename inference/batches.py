"""What ``pg.fit`` trains on: the checked training tensors and their minibatches.

The batch order is a pure function of (seed, step): epoch e shuffles the data with a
generator seeded from (seed, e) and step t takes batch t mod ⌈N/B⌉ of epoch t div ⌈N/B⌉
(the last batch of an epoch holds the remaining N mod B examples), so every example is
seen once per epoch, and a resumed run sees the batches an uninterrupted one would.
Checked in tests/inference/test_fit.py.
"""

from __future__ import annotations

import numpy as np
import torch

from probgen.datasets.base import Dataset
from probgen.errors import ArgumentError, DataError, ModelError
from probgen.models.base import GenerativeModel


class Batches:
    """The minibatches of ``data`` (tensors with the examples along dim 0), by step.

    With ``dequantize``, the quantized data set that ``data`` came from, epoch e trains on
    its examples plus fresh noise U[0, 1/k) drawn with a seed of (seed, e, 1).
    """

    def __init__(
        self,
        data: tuple[torch.Tensor, ...],
        batch_size: int,
        seed: int,
        dequantize: Dataset | None,
    ):
        self.size = len(data[0])
        self.batch = min(batch_size, self.size)
        self.per_epoch = -(-self.size // self.batch)
        self._data, self._seed, self._dequantize = data, seed, dequantize
        self._epoch: int | None = None

    def __call__(self, step: int) -> tuple[torch.Tensor, ...]:
        """The minibatch of ``step``."""
        epoch, j = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            self._order, self._tensors = self._epoch_data(epoch)
            self._epoch = epoch
        index = self._order[j * self.batch : (j + 1) * self.batch]
        # the rows tensor[index], without advanced indexing's set-up (half the time)
        return tuple(tensor.index_select(0, index) for tensor in self._tensors)

    def _epoch_data(self, epoch: int) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """The order of the examples in ``epoch``, and the tensors it trains on."""
        data = self._data
        order = epoch_order(self._seed, epoch, self.size, data[0].device)
        if self._dequantize is None:
            return order, data
        x = self._dequantize.dequantized(data[0], seed=_epoch_key(self._seed, epoch, 1))
        return order, (x, *data[1:])

    def epoch_means(self, losses: np.ndarray) -> list[float]:
        """The mean loss of each complete epoch: each batch's loss is a per-example mean,
        so weighting by the batch sizes B_b gives the epoch's."""
        epochs = len(losses) // self.per_epoch
        sizes = np.full(self.per_epoch, self.batch)
        sizes[-1] = self.size - self.batch * (self.per_epoch - 1)
        per_batch = losses[: epochs * self.per_epoch].reshape(epochs, self.per_epoch)
        return (per_batch @ sizes / self.size).tolist()


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


