"""Checkpoint files: written atomically, read without running code from them.

``save`` writes a plain dict of tensors, numbers and strings with ``torch.save`` to a
temporary file in the target's folder, flushes it to disk and renames it over the target
(``os.replace`` is atomic on POSIX and Windows), so a crash leaves either the old file or
the new one, never half of one. ``load`` reads with ``weights_only=True``, torch's
unpickler that builds tensors and plain containers only and refuses anything else.
Checked in tests/inference/test_fit.py.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import torch

from probgen.errors import ArgumentError
from probgen.files import atomic_write, writable_folder


def save(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically (``probgen.files.atomic_write``)."""
    with atomic_write(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def check_writable(path: str | os.PathLike, name: str = "checkpoint") -> None:
    """``ArgumentError`` naming ``name`` unless ``save(path, ...)`` can write: ``path`` is
    not a folder, and its folder exists or can be created, and takes new files."""
    path = Path(path)
    label = f"{name}={str(path)!r}"
    if path.is_dir():
        raise ArgumentError(f"{label} is a folder: pass the path of a file to write")
    writable_folder(path.parent, label)


def load(path: str | os.PathLike) -> dict[str, Any]:
    """The dict saved in ``path``, onto the CPU; ``ArgumentError`` if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ArgumentError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as exc:
        raise ArgumentError(
            f"checkpoint {path} cannot be read as a weights-only torch file ({exc}); "
            "pass a file written by pg.fit(checkpoint=...)"
        ) from exc
    if not isinstance(state, dict):
        raise ArgumentError(f"checkpoint {path} holds a {type(state).__name__}, not a dict")
    return state
