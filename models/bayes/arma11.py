"""ARMA(1,1) with a residual likelihood, as posteriordb's ``arma-arma11``.

ν_1 = μ + φμ; ν_t = μ + φ y_{t−1} + θ ε_{t−1}; ε_t = y_t − ν_t ~ N(0, σ);
μ ~ N(0, 10), φ ~ N(0, 2), θ ~ N(0, 2), σ ~ HalfCauchy(2.5).

The observed site is the residual ε, computed from the latents (``obs=ε(μ, φ, θ)``): the
map y ↦ ε is triangular with a unit diagonal, so the density of ε is that of y. Where
|θ| > 1 the recursion grows without bound, and a sampler's start there gives non-finite
residuals, which are not data (``Program.check_data`` leaves them to the sampler).
"""

from __future__ import annotations

from typing import Any

from probgen import lazy
from probgen.datasets import posteriordb
from probgen.models.bayes._timeseries import check_series
from probgen.models.registry import BayesModel, register

jax = lazy.load("jax", globals())
jnp = lazy.load("jax.numpy", globals())
ndist = lazy.load("numpyro.distributions", globals())
numpyro = lazy.load("numpyro", globals())
pdist = lazy.load("pyro.distributions", globals())
pyro = lazy.load("pyro", globals())
torch = lazy.load("torch", globals())

POSTERIORDB = "arma-arma11"


def pyro_model(T: int, y: Any) -> None:
    """μ ~ N(0, 10), φ, θ ~ N(0, 2), σ ~ HalfCauchy(2.5); ε_t = y_t − μ − φ y_{t−1} − θ ε_{t−1}
    ~ N(0, σ)  (Pyro)."""
    check_series(y, T)
    mu = pyro.sample("mu", pdist.Normal(0.0, 10.0))
    phi = pyro.sample("phi", pdist.Normal(0.0, 2.0))
    theta = pyro.sample("theta", pdist.Normal(0.0, 2.0))
    sigma = pyro.sample("sigma", pdist.HalfCauchy(2.5))
    # ε_t + θ ε_{t−1} = r_t: one bidiagonal solve, much faster under autograd than T steps
    r = torch.cat([(y[0] - mu - phi * mu).reshape(1), y[1:] - mu - phi * y[:-1]])
    lower = torch.eye(T, dtype=y.dtype) + theta * torch.diag(torch.ones(T - 1, dtype=y.dtype), -1)
    err = torch.linalg.solve_triangular(lower, r[:, None], upper=False)[:, 0]
    with pyro.plate("time", T):
        pyro.sample("err", pdist.Normal(0.0, sigma), obs=err)


def numpyro_model(T: int, y: Any) -> None:
    """μ ~ N(0, 10), φ, θ ~ N(0, 2), σ ~ HalfCauchy(2.5); ε_t = y_t − μ − φ y_{t−1} − θ ε_{t−1}
    ~ N(0, σ)  (NumPyro)."""
    check_series(y, T)
    mu = numpyro.sample("mu", ndist.Normal(0.0, 10.0))
    phi = numpyro.sample("phi", ndist.Normal(0.0, 2.0))
    theta = numpyro.sample("theta", ndist.Normal(0.0, 2.0))
    sigma = numpyro.sample("sigma", ndist.HalfCauchy(2.5))

    def step(err_prev, lagged):
        y_t, y_prev = lagged
        err = y_t - (mu + phi * y_prev + theta * err_prev)
        return err, err

    first = y[0] - (mu + phi * mu)
    _, rest = jax.lax.scan(step, first, (y[1:], y[:-1]))
    with numpyro.plate("time", T):
        numpyro.sample("err", ndist.Normal(0.0, sigma), obs=jnp.concatenate([first[None], rest]))


def data() -> dict[str, Any]:
    """posteriordb's arma11 data (T = 200), read from the shared posteriordb folder."""
    return posteriordb.load(POSTERIORDB)


register(
    BayesModel(
        name="arma11",
        description=f"ARMA(1,1): ε_t = y_t − μ − φy_(t−1) − θε_(t−1) ~ N(0, σ), a residual "
        f"likelihood (posteriordb {POSTERIORDB})",
        pyro=pyro_model,
        numpyro=numpyro_model,
        data=data,
    )
)
