"""Eight schools, non-centred, as posteriordb's ``eight_schools-eight_schools_noncentered``.

θ̃_j ~ N(0, 1); μ ~ N(0, 5); τ ~ HalfCauchy(5); θ_j = μ + τ θ̃_j; y_j ~ N(θ_j, σ_j).
"""

from __future__ import annotations

from typing import Any

from probgen import lazy
from probgen.models.bayes import _datasets
from probgen.models.registry import BayesModel, register

ndist = lazy.load("numpyro.distributions", globals())
numpyro = lazy.load("numpyro", globals())
pdist = lazy.load("pyro.distributions", globals())
pyro = lazy.load("pyro", globals())

POSTERIORDB = "eight_schools-eight_schools_noncentered"


def pyro_model(J: int, sigma: Any, y: Any = None) -> None:
    """θ̃_j ~ N(0, 1); μ ~ N(0, 5); τ ~ HalfCauchy(5); θ = μ + τ θ̃; y_j ~ N(θ_j, σ_j)  (Pyro)."""
    theta_tilde = pyro.sample("theta_tilde", pdist.Normal(0.0, 1.0).expand([J]).to_event(1))
    mu = pyro.sample("mu", pdist.Normal(0.0, 5.0))
    tau = pyro.sample("tau", pdist.HalfCauchy(5.0))
    theta = pyro.deterministic("theta", mu + tau * theta_tilde, event_dim=1)
    with pyro.plate("schools", J):
        pyro.sample("y", pdist.Normal(theta, sigma), obs=y)


def numpyro_model(J: int, sigma: Any, y: Any = None) -> None:
    """θ̃_j ~ N(0, 1); μ ~ N(0, 5); τ ~ HalfCauchy(5); θ = μ + τ θ̃; y_j ~ N(θ_j, σ_j)  (NumPyro)."""
    theta_tilde = numpyro.sample("theta_tilde", ndist.Normal(0.0, 1.0).expand([J]).to_event(1))
    mu = numpyro.sample("mu", ndist.Normal(0.0, 5.0))
    tau = numpyro.sample("tau", ndist.HalfCauchy(5.0))
    theta = numpyro.deterministic("theta", mu + tau * theta_tilde)
    with numpyro.plate("schools", J):
        numpyro.sample("y", ndist.Normal(theta, sigma), obs=y)


def data() -> dict[str, Any]:
    """The eight-schools data (J, y, sigma), shipped in code; equal to posteriordb's data.json."""
    return _datasets.eight_schools()


register(
    BayesModel(
        name="eight_schools_noncentered",
        description=f"eight schools, non-centred: θ = μ + τθ̃; y_j ~ N(θ_j, σ_j) "
        f"(posteriordb {POSTERIORDB})",
        pyro=pyro_model,
        numpyro=numpyro_model,
        data=data,
    )
)
