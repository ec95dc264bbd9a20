"""The ``Dataset`` type that every loader returns, and where the shared data live.

A data set is a fixed train/test split of float32 CPU tensors shaped (N, *event_shape), with
optional labels. Quantized images carry their number of levels k, which fixes the
convention that turns a continuous density into bits per dimension (see ``Dataset``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from probgen import lazy
from probgen.errors import ArgumentError

torch = lazy.load("torch", globals())

SHARED_ENV_VAR = "PROBGEN_SHARED"


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split: ``train`` (N, *event_shape) and ``test`` (M, *event_shape).

    ``levels = k`` marks quantized data x = c/k, c ∈ {0, …, k−1}. Adding uniform noise
    u ~ U[0, 1/k)^D (``dequantized``) gives a continuous y = x + u in [0, 1)^D, and for any
    density p on [0, 1)^D the discrete model P(c) = ∫_cell p(y) dy satisfies
    −log P(c) ≤ E_u[−log p(x + u)] + D·log k (Jensen). So a continuous NLL of dequantized
    data, in nats per example, bounds the discrete one in bits per dimension as
    bpd = (NLL + D·log k) / (D·log 2). ``binary`` marks {0, 1} data, whose NLL is already
    discrete: bpd = NLL / (D·log 2). Checked in tests/datasets/test_images.py.
    """

    name: str
    train: torch.Tensor
    test: torch.Tensor
    event_shape: tuple[int, ...]
    train_labels: torch.Tensor | None = None
    test_labels: torch.Tensor | None = None
    levels: int | None = None
    binary: bool = False

    @property
    def dimension(self) -> int:
        """D, the number of values in one example: the product of ``event_shape``."""
        return math.prod(self.event_shape)

    def bits_per_dim(self, nll: float) -> float:
        """Bits per dimension of an NLL in nats per example; see the class docstring."""
        d = self.dimension
        if self.binary:
            return nll / (d * math.log(2))
        if self.levels is None:
            raise ArgumentError(
                f"{self.name} holds continuous values, for which bits/dim is undefined: load "
                "it with levels=k (or binarize=True) to get quantized data"
            )
        return (nll + d * math.log(self.levels)) / (d * math.log(2))

    def dequantized(self, x: torch.Tensor, seed: int = 0) -> torch.Tensor:
        """x + u with u ~ U[0, 1/k) drawn from a generator seeded with ``seed``.

        The sum is kept below 1: rounding (k−1)/k + u to float32 can give 1.0 exactly,
        where a logit or a density on [0, 1) is infinite.
        """
        if self.levels is None:
            raise ArgumentError(
                f"{self.name} is not quantized: dequantization needs data loaded with levels=k"
            )
        generator = torch.Generator(device=x.device).manual_seed(seed)
        noise = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        one = torch.ones((), dtype=x.dtype, device=x.device)
        return torch.clamp_max(x + noise / self.levels, torch.nextafter(one, 0 * one))


def shared_folder(relative: str | Path) -> Path | None:
    """``shared/<relative>`` beside the repository, or None when it cannot be found.

    ``$PROBGEN_SHARED`` (the ``shared`` folder itself) wins when set; otherwise every
    ancestor of the working directory and of this package is searched, which finds
    ``../shared`` beside a checkout wherever the code runs from.
    """
    env = os.environ.get(SHARED_ENV_VAR)
    if env:
        path = Path(env).expanduser() / relative
        return path if path.exists() else None
    for start in (Path.cwd().resolve(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            if (folder / "shared" / relative).exists():
                return folder / "shared" / relative
    return None
