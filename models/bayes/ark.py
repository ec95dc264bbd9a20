"""AR(K) autoregression, as posteriordb's ``arK-arK``.

α ~ N(0, 10); β_k ~ N(0, 10); σ ~ HalfCauchy(2.5);
y_t ~ N(α + Σ_{k=1..K} β_k y_{t−k}, σ) for t = K+1..T.

The likelihood conditions on the first K values, as the Stan model does, so the series y
is required: it is both the response and the lagged covariate.
"""

from __future__ import annotations

from typing import Any

from probgen import lazy
from probgen.datasets import posteriordb
from probgen.models.bayes._timeseries import ar_mean
from probgen.models.registry import BayesModel, register

ndist = lazy.load("numpyro.distributions", globals())
numpyro = lazy.load("numpyro", globals())
pdist = lazy.load("pyro.distributions", globals())
pyro = lazy.load("pyro", globals())

POSTERIORDB = "arK-arK"


def pyro_model(K: int, T: int, y: Any) -> None:
    """α, β_k ~ N(0, 10); σ ~ HalfCauchy(2.5); y_t ~ N(α + Σ_k β_k y_{t−k}, σ), t > K  (Pyro)."""
    alpha = pyro.sample("alpha", pdist.Normal(0.0, 10.0))
    beta = pyro.sample("beta", pdist.Normal(0.0, 10.0).expand([K]).to_event(1))
    sigma = pyro.sample("sigma", pdist.HalfCauchy(2.5))
    mean = ar_mean(alpha, beta, y, K, T)
    with pyro.plate("time", T - K):
        pyro.sample("y", pdist.Normal(mean, sigma), obs=y[K:])


def numpyro_model(K: int, T: int, y: Any) -> None:
    """α, β_k ~ N(0, 10); σ ~ HalfCauchy(2.5); y_t ~ N(α + Σ_k β_k y_{t−k}, σ), t > K  (NumPyro)."""
    alpha = numpyro.sample("alpha", ndist.Normal(0.0, 10.0))
    beta = numpyro.sample("beta", ndist.Normal(0.0, 10.0).expand([K]).to_event(1))
    sigma = numpyro.sample("sigma", ndist.HalfCauchy(2.5))
    mean = ar_mean(alpha, beta, y, K, T)
    with numpyro.plate("time", T - K):
        numpyro.sample("y", ndist.Normal(mean, sigma), obs=y[K:])


def data() -> dict[str, Any]:
    """posteriordb's arK data (K = 5, T = 200), read from the shared posteriordb folder."""
    return posteriordb.load(POSTERIORDB)


register(
    BayesModel(
        name="ark",
        description=f"AR(K): y_t ~ N(α + Σ_k β_k y_(t−k), σ) (posteriordb {POSTERIORDB})",
        pyro=pyro_model,
        numpyro=numpyro_model,
        data=data,
    )
)
