"""Atomic writes: a file is replaced whole or not at all.

``atomic_write(path)`` hands out a temporary file in the target's folder; when the block
ends without error the file is flushed to disk and renamed over the target (``os.replace``
is atomic on POSIX and Windows), so a crash leaves the old file or the new one, never half
of one. On an error the temporary file is removed and the target is untouched.
``writable_folder`` checks, before long work starts, that its results can be written.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from probgen.errors import ArgumentError


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """The temporary path to write; renamed onto ``path`` when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as file:  # on disk before the rename makes it visible
            os.fsync(file.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private to the owner
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def writable_folder(folder: str | os.PathLike, name: str) -> Path:
    """Create ``folder`` (and its parents) if needed and write a scratch file in it, so that
    a long fit fails at once, not after its work; ``ArgumentError`` naming the argument
    ``name`` when that cannot be done. Returns the folder."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, scratch = tempfile.mkstemp(dir=folder, prefix=".probgen-write-test.", suffix=".tmp")
        os.close(fd)
        os.remove(scratch)
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise ArgumentError(
            f"{name}: cannot create or write in the folder {folder} ({why}); "
            "pass a folder that you can write"
        ) from exc
    return folder
