"""Kid's IQ score on mother's IQ, as posteriordb's ``kidiq-kidscore_momiq``.

kid_score_n ~ N(β₁ + β₂ mom_iq_n, σ); flat prior on β; σ ~ HalfCauchy(2.5).
"""

from __future__ import annotations

from typing import Any

from probgen import lazy
from probgen.datasets import posteriordb
from probgen.models.registry import BayesModel, register

ndist = lazy.load("numpyro.distributions", globals())
numpyro = lazy.load("numpyro", globals())
pdist = lazy.load("pyro.distributions", globals())
pyro = lazy.load("pyro", globals())

POSTERIORDB = "kidiq-kidscore_momiq"


def pyro_model(
    N: int,
    mom_iq: Any,
    kid_score: Any = None,
    mom_hs: Any = None,
    mom_hs_new: Any = None,
    mom_iq_new: Any = None,
) -> None:
    """β flat; σ ~ HalfCauchy(2.5); kid_score_n ~ N(β₁ + β₂ mom_iq_n, σ)  (Pyro).

    ``mom_hs``, ``mom_hs_new`` and ``mom_iq_new`` are accepted and unused: posteriordb's
    kidiq data set carries them for the other kidiq models.
    """
    beta = pyro.sample("beta", pdist.ImproperUniform(pdist.constraints.real, (), (2,)))
    sigma = pyro.sample("sigma", pdist.HalfCauchy(2.5))
    with pyro.plate("data", N):
        pyro.sample("kid_score", pdist.Normal(beta[0] + beta[1] * mom_iq, sigma), obs=kid_score)


def numpyro_model(
    N: int,
    mom_iq: Any,
    kid_score: Any = None,
    mom_hs: Any = None,
    mom_hs_new: Any = None,
    mom_iq_new: Any = None,
) -> None:
    """β flat; σ ~ HalfCauchy(2.5); kid_score_n ~ N(β₁ + β₂ mom_iq_n, σ)  (NumPyro).

    ``mom_hs``, ``mom_hs_new`` and ``mom_iq_new`` are accepted and unused: posteriordb's
    kidiq data set carries them for the other kidiq models.
    """
    beta = numpyro.sample("beta", ndist.ImproperUniform(ndist.constraints.real, (), (2,)))
    sigma = numpyro.sample("sigma", ndist.HalfCauchy(2.5))
    with numpyro.plate("data", N):
        numpyro.sample("kid_score", ndist.Normal(beta[0] + beta[1] * mom_iq, sigma), obs=kid_score)


def data() -> dict[str, Any]:
    """posteriordb's kidiq data (N = 434), read from the shared posteriordb folder."""
    return posteriordb.load(POSTERIORDB)


register(
    BayesModel(
        name="kidscore_momiq",
        description=f"kid_score ~ N(β₁ + β₂ mom_iq, σ), flat β (posteriordb {POSTERIORDB})",
        pyro=pyro_model,
        numpyro=numpyro_model,
        data=data,
    )
)
