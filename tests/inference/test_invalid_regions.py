"""A proposal that gives the program an invalid parameter is a rejected proposal.

The program: x ~ N(0, 1), 0.5 ~ N(x, 0.3 − 0.1|x|), whose likelihood's scale is invalid
for |x| ≥ 3. From x = 2 its score is about −150, so MALA's first trial step (η = 0.1) and
wide MH proposals land beyond |x| = 3, where the libraries' validation raises ValueError.
Each kernel must treat those points as log p = −∞ and still sample the exact posterior,
p(x) ∝ N(x; 0, 1) N(0.5; x, 0.3 − 0.1|x|) on |x| < 3, whose mean comes from quadrature.
"""

import arviz as az
import jax
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as dist
import pytest
from scipy import integrate, stats

import probgen as pg
from probgen.datasets import posteriordb
from probgen.inference.independence import Independence
from probgen.inference.mh import RandomWalk
from probgen.inference.ula import ULA


def pyro_boundary(y):
    x = pyro.sample("x", dist.Normal(0.0, 1.0))
    pyro.sample("y", dist.Normal(x, 0.3 - 0.1 * x.abs()), obs=y)


def numpyro_boundary(y):
    x = numpyro.sample("x", ndist.Normal(0.0, 1.0))
    numpyro.sample("y", ndist.Normal(x, 0.3 - 0.1 * jax.numpy.abs(x)), obs=y)


def _density(x):
    return stats.norm.pdf(x) * stats.norm.pdf(0.5, x, 0.3 - 0.1 * abs(x))


EXACT_MEAN = (
    integrate.quad(lambda x: x * _density(x), -3, 3)[0] / integrate.quad(_density, -3, 3)[0]
)
MODELS = {"pyro": pyro_boundary, "numpyro": numpyro_boundary}
PROPOSALS = {"pyro": dist.Normal(0.5, 1.0), "numpyro": ndist.Normal(0.5, 1.0)}


def _assert_exact_mean(post):
    draws = post.samples["x"]
    mcse = float(az.mcse(draws, method="mean"))
    assert abs(draws.mean() - EXACT_MEAN) < 4 * mcse, (draws.mean(), EXACT_MEAN, mcse)


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
@pytest.mark.parametrize("sampler", ["mala", "mh", "independence"])
def test_proposals_beyond_the_boundary_are_rejected(backend, sampler):
    kernel = {
        "mala": "mala",  # the step-size search starts at η = 0.1 from x = 2
        "mh": RandomWalk(scale=1.5),
        "independence": Independence(proposal={"x": PROPOSALS[backend]}),
    }[sampler]
    post = pg.mcmc(
        MODELS[backend], 0.5, sampler=kernel, init={"x": 2.0}, chains=1, warmup=300,
        draws=1500, seed=0, progress=False,
    )  # fmt: skip
    assert np.all(np.abs(post.samples["x"]) < 3)
    _assert_exact_mean(post)


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_ula_keeps_its_state_where_a_step_leaves_the_region(backend):
    post = pg.mcmc(
        MODELS[backend], 0.5, sampler=ULA(step_size=0.05), init={"x": 2.0}, chains=1,
        warmup=20, draws=200, seed=0, progress=False,
    )  # fmt: skip
    rates = post.sample_stats["acceptance_rate"]
    assert np.all(np.isfinite(post.samples["x"])) and np.all(np.abs(post.samples["x"]) < 3)
    assert set(np.unique(rates)) <= {0.0, 1.0} and rates.min() == 0.0  # some steps rejected


HMM = "hmm_example-hmm_example"


@pytest.mark.skipif(posteriordb.root() is None, reason="../shared/reference/posteriordb not found")
def test_mala_on_hmm_example_in_float64_matches_the_reference():
    """posteriordb's hmm_example (positive-ordered means, float64): MALA's step-size search
    used to stop on NumPyro's "Normal distribution got invalid loc parameter". Each reference
    mean must lie within 4 Monte Carlo standard errors of MALA's."""

    def hmm(N, K, y):
        theta1 = numpyro.sample("theta1", ndist.Dirichlet(jax.numpy.ones(K)))
        theta2 = numpyro.sample("theta2", ndist.Dirichlet(jax.numpy.ones(K)))
        positive_ordered = ndist.constraints.positive_ordered_vector
        mu = numpyro.sample("mu", ndist.ImproperUniform(positive_ordered, (), (K,)))
        numpyro.factor(
            "mu_prior",
            ndist.Normal(3.0, 1.0).log_prob(mu[0]) + ndist.Normal(10.0, 1.0).log_prob(mu[1]),
        )
        log_theta = jax.numpy.log(jax.numpy.stack([theta1, theta2]))
        emission = ndist.Normal(mu, 1.0).log_prob(y[:, None])

        def forward(gamma, e):
            return jax.nn.logsumexp(gamma[:, None] + log_theta, axis=0) + e, None

        gamma, _ = jax.lax.scan(forward, emission[0], emission[1:])
        numpyro.factor("y", jax.nn.logsumexp(gamma))

    post = pg.mcmc(
        hmm, **posteriordb.load(HMM), sampler="mala", precision="float64", chains=2,
        warmup=1000, draws=3000, seed=0, progress=False,
    )  # fmt: skip
    mu = post.samples["mu"]
    assert mu.dtype == np.float64 and np.all((0 < mu[..., 0]) & (mu[..., 0] < mu[..., 1]))
    bad = []
    for param, ref in posteriordb.reference(HMM).items():
        site, _, index = param.partition("[")
        draws = post.samples[site][..., int(index[:-1]) - 1]
        mcse = float(az.mcse(draws, method="mean"))
        if abs(draws.mean() - ref["mean"]) > 4 * mcse:
            bad.append(f"{param}: {draws.mean():.4g} vs {ref['mean']:.4g} (mcse {mcse:.2g})")
    assert not bad, "\n".join(bad)
