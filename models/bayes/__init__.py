"""The Bayesian zoo: each model as a Pyro and a NumPyro program with its data set.

Importing this package registers every model in ``probgen.models.registry``. Each module
holds ``pyro_model``, ``numpyro_model`` and ``data()``; the posteriordb-backed ones also
name their posterior in ``POSTERIORDB``.
"""

from probgen.models.bayes import (
    ark,
    arma11,
    coin,
    eight_schools_centered,
    eight_schools_noncentered,
    garch11,
    gaussian_mixture,
    kidscore_momiq,
    lasso,
    logistic,
    low_dim_gauss_mix,
    ridge,
    sblrc_blr,
)

__all__ = [
    "ark",
    "arma11",
    "coin",
    "eight_schools_centered",
    "eight_schools_noncentered",
    "garch11",
    "gaussian_mixture",
    "kidscore_momiq",
    "lasso",
    "logistic",
    "low_dim_gauss_mix",
    "ridge",
    "sblrc_blr",
]
