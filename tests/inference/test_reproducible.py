"""pg.mcmc's NUTS draws are the raw library's draws with the same seed and settings.

"Same settings" for Pyro: one chain, ``pyro.set_rng_seed(seed)`` then
``pyro.infer.MCMC(pyro.infer.NUTS(model), warmup_steps=W, num_samples=D).run(*args)``, that
is NUTS's defaults (target_accept_prob 0.8, diagonal mass, init_to_uniform, step size 1,
max tree depth 10) and Pyro's own guess of the plate nesting; for NumPyro, the same with
``MCMC(NUTS(model), ...).run(jax.random.PRNGKey(seed), ...)``. probgen's own traces of the
program leave the global random state untouched.
"""

import jax
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as dist
import pytest
import torch

import probgen as pg

X = torch.linspace(0.0, 1.0, 12)
Y = 2.0 * X + 0.3 * torch.sin(7.0 * X)


def coin(n, k=None):
    theta = pyro.sample("theta", dist.Beta(1.0, 1.0))
    pyro.sample("k", dist.Binomial(n, theta), obs=k)


def regression(x, y):
    slope = pyro.sample("slope", dist.Normal(0.0, 1.0))
    noise = pyro.sample("noise", dist.HalfNormal(1.0))
    with pyro.plate("data", len(x)):
        pyro.sample("y", dist.Normal(slope * x, noise), obs=y)


@pytest.mark.parametrize(
    "model, args", [(coin, (10, torch.tensor(7.0))), (regression, (X, Y))], ids=["coin", "plate"]
)
def test_pyro_nuts_draws_are_raw_pyro_draws(model, args):
    pyro.set_rng_seed(3)
    raw = pyro.infer.MCMC(
        pyro.infer.NUTS(model), warmup_steps=40, num_samples=30, disable_progbar=True
    )
    raw.run(*args)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    post = pg.mcmc(model, *args, chains=1, warmup=40, draws=30, seed=3, progress=False)
    for site, draws in raw.get_samples().items():
        np.testing.assert_array_equal(post.samples[site][0], draws.numpy(), err_msg=site)
    assert torch.equal(torch.get_rng_state(), before), "pg.mcmc changed torch's global RNG"


def test_numpyro_nuts_draws_are_raw_numpyro_draws():
    def numpyro_coin(n, k=None):
        theta = numpyro.sample("theta", ndist.Beta(1.0, 1.0))
        numpyro.sample("k", ndist.Binomial(n, theta), obs=k)

    raw = numpyro.infer.MCMC(
        numpyro.infer.NUTS(numpyro_coin), num_warmup=40, num_samples=30, progress_bar=False
    )
    raw.run(jax.random.PRNGKey(3), 10, k=7.0)
    post = pg.mcmc(numpyro_coin, 10, k=7.0, chains=1, warmup=40, draws=30, seed=3, progress=False)
    np.testing.assert_array_equal(post.samples["theta"][0], np.asarray(raw.get_samples()["theta"]))


def test_program_traces_leave_the_global_rng_alone():
    from probgen.programs import prepare

    torch.manual_seed(0)
    before = torch.get_rng_state()
    program = prepare(regression, (X, Y), {})
    program.sites()
    program.check_data()
    assert torch.equal(torch.get_rng_state(), before)


def test_calls_on_a_result_leave_the_global_rng_alone():
    """pg.mcmc, the predictive, the log-likelihood and a guide's draws are seeded by their
    own seed= and put the caller's torch stream back as they found it."""
    torch.manual_seed(0)
    before = torch.get_rng_state()
    post = pg.mcmc(regression, X, Y, chains=1, warmup=10, draws=10, progress=False)
    post.predictive(seed=1)
    post.to_arviz()
    vi = pg.svi(regression, X, Y, steps=2, progress=False)
    state = torch.get_rng_state()  # pg.svi seeds its training like a hand-written loop
    vi.posterior(draws=5)
    assert torch.equal(torch.get_rng_state(), state)
    torch.set_rng_state(before)
    pg.mcmc(regression, X, Y, chains=1, warmup=10, draws=10, progress=False).predictive()
    assert torch.equal(torch.get_rng_state(), before)
