"""Atomic writes: a file is replaced whole or not at all.

``atomic_write(path)`` hands out a temporary file in the target's folder; when the block
ends without error the file is flushed to disk and renamed over the target (``os.replace``
is atomic on POSIX and Windows), so a crash leaves the old file or the new one, never half
of one. On an error the temporary file is removed and the target is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


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
