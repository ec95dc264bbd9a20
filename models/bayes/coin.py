"""Beta–Binomial coin: θ ~ Beta(a, b); k ~ Binomial(n, θ).

The posterior is Beta(a + k, b + n − k).
"""

from __future__ import annotations

from typing import Any

from probgen import lazy
from probgen.models.registry import BayesModel, register

ndist = lazy.load("numpyro.distributions", globals())
numpyro = lazy.load("numpyro", globals())
pdist = lazy.load("pyro.distributions", globals())
pyro = lazy.load("pyro", globals())

FLIPS = "HHHHHHHTTT"


def pyro_model(n: int, k: Any = None, a: Any = 1.0, b: Any = 1.0) -> None:
    """θ ~ Beta(a, b); k ~ Binomial(n, θ)  (Pyro)."""
    theta = pyro.sample("theta", pdist.Beta(a, b))
    pyro.sample("k", pdist.Binomial(n, theta), obs=k)


def numpyro_model(n: int, k: Any = None, a: Any = 1.0, b: Any = 1.0) -> None:
    """θ ~ Beta(a, b); k ~ Binomial(n, θ)  (NumPyro)."""
    theta = numpyro.sample("theta", ndist.Beta(a, b))
    numpyro.sample("k", ndist.Binomial(n, theta), obs=k)


def data() -> dict[str, Any]:
    """Ten flips "HHHHHHHTTT": n = 10 tosses, k = 7 heads."""
    return {"n": len(FLIPS), "k": float(FLIPS.count("H"))}


register(
    BayesModel(
        name="coin",
        description="Beta–Binomial coin: θ ~ Beta(1, 1); k ~ Binomial(n, θ)",
        pyro=pyro_model,
        numpyro=numpyro_model,
        data=data,
    )
)
