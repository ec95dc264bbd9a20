"""Autoguides on programs with enumerated discrete sites: the sites are hidden from the
guide and summed out by TraceEnum_ELBO, as in Pyro's Gaussian-mixture tutorial."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import numpyro.handlers
import numpyro.infer
import numpyro.infer.autoguide
import numpyro.optim
import pyro
import pyro.distributions as dist
import pyro.infer
import pyro.infer.autoguide
import pyro.optim
import pyro.poutine
import pytest
import torch
from scipy import stats
from scipy.special import logsumexp

import probgen as pg
from probgen.errors import ArgumentError
from probgen.inference import svi as _svi
from probgen.programs import prepare

_rng = np.random.default_rng(4)
Y = np.concatenate([_rng.normal(-2.0, 0.7, 10), _rng.normal(2.0, 0.7, 10)])
STEPS, LR, SEED = 30, 0.02, 3


def pyro_mixture(y):
    weights = pyro.sample("weights", dist.Dirichlet(torch.ones(2)))
    locs = pyro.sample("locs", dist.Normal(0.0, 3.0).expand([2]).to_event(1))
    with pyro.plate("data", len(y)):
        z = pyro.sample("z", dist.Categorical(weights), infer={"enumerate": "parallel"})
        pyro.sample("y", dist.Normal(locs[z], 0.7), obs=y)


def numpyro_mixture(y):
    weights = numpyro.sample("weights", ndist.Dirichlet(jnp.ones(2)))
    locs = numpyro.sample("locs", ndist.Normal(0.0, 3.0).expand([2]).to_event(1))
    with numpyro.plate("data", len(y)):
        z = numpyro.sample("z", ndist.Categorical(weights), infer={"enumerate": "parallel"})
        numpyro.sample("y", ndist.Normal(locs[z], 0.7), obs=y)


MIXTURES = {"pyro": pyro_mixture, "numpyro": numpyro_mixture}


def _raw_losses(backend):
    """The libraries' documented recipe: AutoNormal of the blocked model, TraceEnum_ELBO."""
    model = MIXTURES[backend]
    if backend == "pyro":
        pyro.clear_param_store()
        pyro.set_rng_seed(SEED)
        guide = pyro.infer.autoguide.AutoNormal(pyro.poutine.block(model, hide=["z"]))
        elbo = pyro.infer.TraceEnum_ELBO(max_plate_nesting=1)
        svi = pyro.infer.SVI(model, guide, pyro.optim.Adam({"lr": LR}), loss=elbo)
        y = torch.as_tensor(Y, dtype=torch.get_default_dtype())
        return np.array([svi.step(y) for _ in range(STEPS)])
    guide = numpyro.infer.autoguide.AutoNormal(numpyro.handlers.block(model, hide=["z"]))
    svi = numpyro.infer.SVI(
        model, guide, numpyro.optim.Adam(LR), loss=numpyro.infer.TraceEnum_ELBO()
    )
    result = svi.run(jax.random.PRNGKey(SEED), STEPS, jnp.asarray(Y), progress_bar=False)
    return np.asarray(result.losses)


def test_autoguide_trains_with_the_enumerating_elbo_and_reports_the_hidden_sites(backend):
    """pg.svi's losses are those of the raw library's blocked AutoNormal + TraceEnum_ELBO."""
    vi = pg.svi(MIXTURES[backend], Y, guide="normal", steps=STEPS, lr=LR, seed=SEED,
                progress=False)
    assert vi.summed_out == ["z"]
    np.testing.assert_allclose(vi.losses, _raw_losses(backend), rtol=1e-6)
    post = vi.posterior(draws=20)
    assert set(post.samples) == {"weights", "locs"}  # z is summed out, not drawn from q


def test_delta_guide_loss_is_the_closed_form_marginal(backend, float64):
    """With a MAP guide, −ELBO = −log p(y, w, μ) with z summed out:
    −[log Dir(w) + Σ_k log N(μ_k | 0, 3) + Σ_i log Σ_k w_k N(y_i | μ_k, 0.7)]."""
    vi = pg.svi(MIXTURES[backend], Y, guide="delta", steps=20, lr=LR, seed=SEED,
                progress=False)
    draw = {k: v[0, 0].astype(float) for k, v in vi.posterior(draws=1).samples.items()}
    w, mu = draw["weights"], draw["locs"]
    exact = -(
        stats.dirichlet.logpdf(w, [1.0, 1.0])
        + stats.norm.logpdf(mu, 0.0, 3.0).sum()
        + logsumexp(np.log(w) + stats.norm.logpdf(Y[:, None], mu, 0.7), axis=1).sum()
    )
    program = vi.program
    elbo = _svi.make_elbo(program, "trace", 1, 0.0)
    if backend == "pyro":
        with pyro.get_param_store().scope(vi.state):
            loss = elbo.loss(program.model, vi.guide, *program.args)
    else:
        loss = elbo.loss(jax.random.PRNGKey(0), vi.state, program.model, vi.guide, *program.args)
    np.testing.assert_allclose(float(loss), exact, rtol=1e-9)


def test_elbos_and_guides_that_cannot_sum_out_are_refused(backend):
    program = prepare(MIXTURES[backend], (Y,), {})
    with pytest.raises(ArgumentError, match="'z'"):
        _svi.make_elbo(program, "renyi", 2, 0.0)
    with pytest.raises(ArgumentError, match="laplace.*'z'"):
        _svi.make_guide(program, "laplace")
