"""probgen: probabilistic programming for generative models on Pyro and NumPyro.

The entry points and result classes are imported on first use (PEP 562): importing
``probgen``, or any module of its core, loads neither the API layer nor the samplers and
models behind it, which keeps the packages' imports one-way (tests/core/test_layers.py).
"""

from __future__ import annotations

from probgen import lazy
from probgen.errors import ArgumentError, DataError, ModelError, ProbgenError, TrainingError

_LAZY = {
    "fit": "probgen.api",
    "mcmc": "probgen.api",
    "svi": "probgen.api",
    "Posterior": "probgen.results",
    "Run": "probgen.results",
    "VIResult": "probgen.results",
}

__all__ = [
    "ArgumentError",
    "DataError",
    "ModelError",
    "Posterior",
    "ProbgenError",
    "Run",
    "TrainingError",
    "VIResult",
    "fit",
    "mcmc",
    "svi",
]
__version__ = "0.1.0"


__getattr__, __dir__ = lazy.attributes(__name__, _LAZY)
