"""JAX's persistent compilation cache, in probgen's cache folder.

NumPyro compiles its sampling loop afresh for every ``MCMC`` object, so every run of a
program pays the XLA compilation again, in every process. With the cache on, XLA's
executables are kept on disk under a key of the compiled program (its HLO, shapes,
constants, JAX and XLA versions and flags), and a later run of the same program with the
same data shapes loads them instead of compiling: the same executable, so the same draws.

probgen turns the cache on when it binds its first NumPyro program, in
``$PROBGEN_CACHE_DIR`` or else ``$XDG_CACHE_HOME/probgen/jax`` (``~/.cache/probgen/jax``),
for compilations of at least ``MIN_COMPILE_SECONDS``. ``PROBGEN_JAX_CACHE=0`` leaves it
off, and a cache folder the user has set for JAX (``jax_compilation_cache_dir``) is kept
as the user set it.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
from jax.experimental.compilation_cache import compilation_cache

# XLA compilations shorter than this are not stored: a small jitted helper costs less
# to compile than to look up
MIN_COMPILE_SECONDS = 0.1


def folder() -> Path:
    """Where probgen keeps the cache: ``$PROBGEN_CACHE_DIR``, else the user's cache home."""
    if explicit := os.environ.get("PROBGEN_CACHE_DIR"):
        return Path(explicit)
    home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(home) / "probgen" / "jax"


def enable() -> None:
    """Turn JAX's persistent compilation cache on in ``folder()``, unless
    ``PROBGEN_JAX_CACHE=0``, or the user has chosen a cache folder, or ``folder()`` cannot
    be made (the runs then compile as they would without probgen)."""
    if os.environ.get("PROBGEN_JAX_CACHE", "1") == "0":
        return
    if jax.config.jax_compilation_cache_dir:  # the user's own choice
        return
    path = folder()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    # JAX decides at its first compilation whether a cache is used: ask it again
    compilation_cache.reset_cache()
