"""Loader for posteriordb-format posteriors: ``<root>/<posterior>/{data,reference}.json``.

The project does not ship posteriordb; it lives beside the repository in
``../shared/reference/posteriordb`` (or wherever ``$PROBGEN_POSTERIORDB`` points).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from probgen.datasets.base import shared_folder
from probgen.errors import DataError

ENV_VAR = "PROBGEN_POSTERIORDB"


def root() -> Path | None:
    """The posteriordb folder, or None when it cannot be found.

    ``$PROBGEN_POSTERIORDB`` wins when set; otherwise it is ``reference/posteriordb`` of
    the shared folder (``shared_folder``: ``../shared`` beside a checkout, or
    ``$PROBGEN_SHARED``).
    """
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env).expanduser()
        return path if path.is_dir() else None
    return shared_folder(Path("reference", "posteriordb"))


def load(posterior: str, root: str | Path | None = None) -> dict[str, Any]:
    """The data of ``posterior`` (e.g. ``"kidiq-kidscore_momiq"``) as keyword arguments.

    Lists become numpy float64 arrays (nested lists become matrices); scalar ints such as
    the sizes N, K, J, T stay Python ints and scalar floats stay Python floats.
    """
    raw = _read(posterior, "data.json", root)
    return {
        key: np.asarray(value, dtype=np.float64) if isinstance(value, list) else value
        for key, value in raw.items()
    }


def reference(posterior: str, root: str | Path | None = None) -> dict[str, dict[str, float]]:
    """The reference summary of ``posterior``: ``{param: {mean, sd, q05, q50, q95}}``.

    Parameter names are Stan's, 1-based: ``beta[1]``, ``theta[8]``.
    """
    raw = _read(posterior, "reference.json", root)
    if "summary" not in raw:
        raise DataError(f"posteriordb {posterior!r}: reference.json has no 'summary' entry")
    return raw["summary"]


def _read(posterior: str, filename: str, base: str | Path | None) -> dict[str, Any]:
    base = Path(base) if base is not None else root()
    if base is None:
        env = os.environ.get(ENV_VAR)
        where = (
            f"${ENV_VAR}={env!r} is not a folder"
            if env
            else "no shared/reference/posteriordb above the working directory or the package"
        )
        raise DataError(
            f"posteriordb folder not found: {where}; set ${ENV_VAR} to the folder that holds "
            "the <data>-<model>/ posteriors (../shared/reference/posteriordb beside the repo)"
        )
    path = base / posterior / filename
    if not path.is_file():
        known = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
        raise DataError(
            f"posteriordb posterior {posterior!r}: no {filename} in {base / posterior}; "
            f"posteriors in {base}: {', '.join(known) or 'none'}"
        )
    with path.open() as f:
        return json.load(f)
