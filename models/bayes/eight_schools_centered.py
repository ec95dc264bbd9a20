"""Eight schools, centred: μ ~ N(0, 5); τ ~ HalfCauchy(5); θ_j ~ N(μ, τ); y_j ~ N(θ_j, σ_j).

The centred form has a funnel between τ and θ that NUTS reports as divergences; the
non-centred twin (``eight_schools_noncentered``) is the same posterior without the funnel.
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


def pyro_model(J: int, sigma: Any, y: Any = None) -> None:
    """μ ~ N(0, 5); τ ~ HalfCauchy(5); θ_j ~ N(μ, τ); y_j ~ N(θ_j, σ_j)  (Pyro)."""
    mu = pyro.sample("mu", pdist.Normal(0.0, 5.0))
    tau = pyro.sample("tau", pdist.HalfCauchy(5.0))
    theta = pyro.sample("theta", pdist.Normal(mu, tau).expand([J]).to_event(1))
    with pyro.plate("schools", J):
        pyro.sample("y", pdist.Normal(theta, sigma), obs=y)


def numpyro_model(J: int, sigma: Any, y: Any = None) -> None:
    """μ ~ N(0, 5); τ ~ HalfCauchy(5); θ_j ~ N(μ, τ); y_j ~ N(θ_j, σ_j)  (NumPyro)."""
    mu = numpyro.sample("mu", ndist.Normal(0.0, 5.0))
    tau = numpyro.sample("tau", ndist.HalfCauchy(5.0))
    theta = numpyro.sample("theta", ndist.Normal(mu, tau).expand([J]).to_event(1))
    with numpyro.plate("schools", J):
        numpyro.sample("y", ndist.Normal(theta, sigma), obs=y)


def data() -> dict[str, Any]:
    """The classic eight-schools data: J = 8, y = (28, 8, −3, 7, −1, 1, 18, 12), σ = (15, …, 18)."""
    return _datasets.eight_schools()


register(
    BayesModel(
        name="eight_schools_centered",
        description="eight schools, centred: θ_j ~ N(μ, τ); y_j ~ N(θ_j, σ_j)",
        pyro=pyro_model,
        numpyro=numpyro_model,
        data=data,
    )
)
