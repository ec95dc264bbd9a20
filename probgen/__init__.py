"""probgen: probabilistic programming for generative models on Pyro and NumPyro."""

from probgen.api import fit, mcmc, svi
from probgen.errors import ArgumentError, DataError, ModelError, ProbgenError, TrainingError
from probgen.results import Posterior, Run, VIResult

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
