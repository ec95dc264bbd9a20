"""A guide that subsamples a plate the model does not (the amortised LDA pattern, with
``batch_size`` as a keyword): its posterior replays the guide, with the fitted arguments,
over the full data in minibatches, and its predictive is the model's on those draws."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as dist
import pytest
import torch
from numpyro.distributions import constraints as nconstraints
from pyro.distributions import constraints as pconstraints

import probgen as pg

N, BATCH = 22, 8  # 22 rows: minibatches 0–7, 8–15 and the last eight, 14–21
Y = np.random.default_rng(5).normal(size=(N, 3)) + np.array([0.5, -0.5, 1.0])


def pyro_model(y, batch_size=None):
    mu = pyro.sample("mu", dist.Normal(0.0, 5.0).expand([3]).to_event(1))
    with pyro.plate("rows", len(y)) as index:
        z = pyro.sample("z", dist.Normal(0.0, 1.0))
        pyro.sample("y", dist.Normal(mu + z[:, None], 1.0).to_event(1), obs=y[index])


def pyro_guide(y, batch_size=None):
    loc = pyro.param("mu_loc", torch.zeros(3))
    pyro.sample("mu", dist.Normal(loc, 0.1).to_event(1))
    weight = pyro.param("weight", torch.zeros(3))
    scale = pyro.param("z_scale", torch.tensor(1.0), constraint=pconstraints.positive)
    with pyro.plate("rows", len(y), subsample_size=batch_size) as index:
        pyro.sample("z", dist.Normal(y[index] @ weight, scale))


def numpyro_model(y, batch_size=None):
    mu = numpyro.sample("mu", ndist.Normal(0.0, 5.0).expand([3]).to_event(1))
    with numpyro.plate("rows", len(y)) as index:
        z = numpyro.sample("z", ndist.Normal(0.0, 1.0))
        numpyro.sample("y", ndist.Normal(mu + z[:, None], 1.0).to_event(1), obs=y[index])


def numpyro_guide(y, batch_size=None):
    loc = numpyro.param("mu_loc", jnp.zeros(3))
    numpyro.sample("mu", ndist.Normal(loc, 0.1).to_event(1))
    weight = numpyro.param("weight", jnp.zeros(3))
    scale = numpyro.param("z_scale", 1.0, constraint=nconstraints.positive)
    with numpyro.plate("rows", len(y), subsample_size=batch_size) as index:
        numpyro.sample("z", ndist.Normal(y[index] @ weight, scale))


PROGRAMS = {"pyro": (pyro_model, pyro_guide), "numpyro": (numpyro_model, numpyro_guide)}


@pytest.fixture
def fitted(backend):
    model, guide = PROGRAMS[backend]
    return pg.svi(model, Y, batch_size=BATCH, guide=guide, steps=40, lr=0.05, seed=0,
                  progress=False)


def _fitted_params(vi):
    params = vi.params
    return {k: np.asarray(params[k], float) for k in ("mu_loc", "weight", "z_scale")}


def test_posterior_covers_every_row_with_the_guide_distribution(fitted):
    """z_j ~ N(y_j · weight, scale) for every row j, μ ~ N(mu_loc, 0.1): the standardized
    draws are N(0, 1) (mean within 4 standard errors, variance within 4 of its own)."""
    draws = 300
    post = fitted.posterior(draws=draws, seed=1)
    assert post.samples["z"].shape == (1, draws, N)
    assert post.attrs["replay"].endswith(f"over the full data, plate 'rows' of {N} in "
                                         f"minibatches of {BATCH}")
    params = _fitted_params(fitted)
    u = (post.samples["z"][0] - Y @ params["weight"]) / params["z_scale"]
    v = (post.samples["mu"][0] - params["mu_loc"]) / 0.1
    for standard in (u, v):
        n = standard.size
        assert abs(standard.mean()) < 4 / np.sqrt(n)
        assert abs(standard.var() - 1) < 4 * np.sqrt(2 / n)
    # each row's draws are independent across rows and of μ: one draw of μ per posterior
    # draw, held over the minibatches
    assert abs(np.corrcoef(u[:, 0], u[:, -1])[0, 1]) < 4 / np.sqrt(draws)


def test_predictive_is_the_model_replayed_on_the_draws(fitted):
    """post.predictive() draws y_rep ~ N(μ + z_j, 1) for every row j at each posterior
    draw, in the order that probgen picks the draws (a seeded permutation): the residuals
    y_rep − μ − z_j are N(0, 1); the log-likelihood covers every row."""
    draws = 200
    post = fitted.posterior(draws=draws, seed=2)
    y_rep = post.predictive(seed=3)["y"]
    order = np.random.default_rng(3).choice(draws, size=draws, replace=False)
    mu, z = post.samples["mu"][0][order], post.samples["z"][0][order]
    residual = y_rep - mu[:, None, :] - z[:, :, None]
    assert y_rep.shape == (draws, N, 3)
    n = residual.size
    assert abs(residual.mean()) < 4 / np.sqrt(n)
    assert abs(residual.var() - 1) < 4 * np.sqrt(2 / n)
    assert post.to_arviz().log_likelihood["y"].shape == (1, draws, N)
