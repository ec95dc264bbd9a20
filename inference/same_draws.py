"""Running a loss and a stand-in for it on the same random draws (``traced.py``,
``direct.py``): each stand-in is checked against the loss it replaces by evaluating both
from one state of torch's generator.

``undone`` is a block whose random draws and buffer updates (batch-norm statistics) are
undone on leaving it, so that what runs next draws the same numbers from the same state;
``RTOL`` is the tolerance between two computations of one loss.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

# relative tolerance between two computations of a loss from the same draws: float32 sums
# taken in another order differ by ~1e-6
RTOL = 1e-4


@contextlib.contextmanager
def undone(buffers: list[torch.Tensor], device: torch.device) -> Iterator[None]:
    """A block whose random draws on ``device`` and whose updates of ``buffers`` are undone
    on leaving it."""
    saved = [(b, b.clone()) for b in buffers]
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        yield
    with torch.no_grad():
        for buffer, value in saved:
            buffer.copy_(value)
