"""Argument and data checks shared by the API, the samplers and the zoo models.

Each check raises a probgen error that names the argument and says what to pass
instead, so that a wrong shape fails at the model's boundary rather than deep inside a
network or a Pyro trace.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

from probgen import lazy
from probgen.errors import ArgumentError, DataError

torch = lazy.load("torch", globals())

# the largest count or seed: JAX indexes and seeds with 32-bit integers by default
LARGEST = 2**31 - 1


def at_least(name: str, value: int, minimum: int) -> int:
    """``value`` as an int in [``minimum``, 2³¹ − 1] (a Python or NumPy integer, not a
    bool), or an ``ArgumentError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ArgumentError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
    if value > LARGEST:
        raise ArgumentError(f"{name} must be at most 2**31 - 1 = {LARGEST}, got {value!r}")
    return int(value)


def positive_int(name: str, value: int) -> int:
    """``value`` as an int ≥ 1, or an ``ArgumentError`` naming ``name``."""
    return at_least(name, value, 1)


def _real(value: object) -> bool:
    # a bool is an int to Python, and a string compares with nothing: neither is a number
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def number(name: str, value: float) -> float:
    """``value`` as a finite float (a Python or NumPy real, not a bool or a string), or an
    ``ArgumentError`` naming ``name``."""
    if not _real(value):
        raise ArgumentError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def positive_float(name: str, value: float) -> float:
    """``value`` as a finite float > 0, or an ``ArgumentError`` naming ``name``."""
    if not _real(value) or value <= 0:
        raise ArgumentError(f"{name} must be positive (a finite number), got {value!r}")
    return float(value)


def non_negative_float(name: str, value: float) -> float:
    """``value`` as a finite float ≥ 0, or an ``ArgumentError`` naming ``name``."""
    if not _real(value) or value < 0:
        raise ArgumentError(f"{name} must be a finite number ≥ 0, got {value!r}")
    return float(value)


def fraction(name: str, value: float, *, one: bool = False) -> float:
    """``value`` as a float in (0, 1), or in (0, 1] with ``one``, or an ``ArgumentError``."""
    if not _real(value) or not (0 < value < 1 or (one and value == 1)):
        raise ArgumentError(f"{name} must lie in (0, 1{']' if one else ')'}, got {value!r}")
    return float(value)


def shape(name: str, value: int | Sequence[int], empty: bool = False) -> tuple[int, ...]:
    """A shape as a tuple of positive ints (non-empty unless ``empty``); an int n means (n,)."""
    sizes = (value,) if isinstance(value, int) else tuple(value)
    if (not sizes and not empty) or not all(
        isinstance(s, int) and not isinstance(s, bool) for s in sizes
    ):
        raise ArgumentError(f"{name} must be an int or a tuple of ints, got {value!r}")
    for s in sizes:
        positive_int(f"each size in {name}", s)
    return sizes


def batch(x: torch.Tensor, event_shape: tuple[int, ...], name: str = "x") -> None:
    """Check that ``x`` is a tensor of shape (B, *event_shape) with B ≥ 1."""
    if not isinstance(x, torch.Tensor):
        raise DataError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if tuple(x.shape[1:]) != event_shape or x.dim() == 0 or x.shape[0] == 0:
        raise DataError(
            f"{name} must have shape (batch, {', '.join(map(str, event_shape))}) to match the "
            f"model's event_shape {event_shape}; got {tuple(x.shape)}"
        )


def finite(x: torch.Tensor, name: str = "x") -> None:
    """Check that ``x`` holds no NaN or infinite value."""
    if not torch.isfinite(x).all():
        raise DataError(f"{name} contains NaN or infinite values; remove or impute them first")
