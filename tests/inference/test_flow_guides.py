"""Flow guides and NeuTra (inference/flows.py) against closed forms.

The banana p(x1, x2) = N(x1; 0, 1) N(x2; b(x1² − 1), σ²) is written as a product of
conditionals, so its normaliser is Z = 1: every ELBO is at most log Z = 0, and −ELBO is
KL(q ‖ p) itself. The best mean-field Gaussian has a closed form (``best_mean_field_elbo``),
which a flow must beat. Neal's funnel, v ~ N(0, 3²), x_i | v ~ N(0, e^v) for i = 1..9
(d = 10 latent values; e^v is the variance), has the exact marginal v ~ N(0, 3²).
"""

import math

import jax
import numpy as np
import numpyro
import numpyro.distributions as ndist
import numpyro.infer
import pyro
import pyro.distributions as dist
import pyro.infer
import pytest
import torch
from scipy import stats

import probgen as pg
from probgen.inference.flows import NeuTra
from probgen.inference.svi import make_guide
from probgen.inference.svi import run as svi_run
from probgen.models import registry
from probgen.programs import prepare

B, SIGMA = 0.7, 0.35  # the banana: x2 | x1 ~ N(B(x1² − 1), SIGMA²)


def banana(backend):
    if backend == "pyro":

        def model():
            x1 = pyro.sample("x1", dist.Normal(0.0, 1.0))
            pyro.sample("x2", dist.Normal(B * (x1**2 - 1), SIGMA))

    else:

        def model():
            x1 = numpyro.sample("x1", ndist.Normal(0.0, 1.0))
            numpyro.sample("x2", ndist.Normal(B * (x1**2 - 1), SIGMA))

    return model


def best_mean_field_elbo(b: float, sigma: float) -> float:
    """max ELBO over q = N(m1, s1²) N(m2, s2²) on the banana, in closed form.

    With E[x1²] = m1² + s1² and Var(x1²) = 2s1⁴ + 4m1²s1², the ELBO is maximised by
    m2 = b(m1² + s1² − 1), s2 = σ and m1 = 0, leaving f(s1) = −s1²/2 − c s1⁴ + log s1 + 1/2,
    c = b²/σ², whose maximum is at s1² = u, 4cu² + u − 1 = 0.
    """
    c = (b / sigma) ** 2
    u = (-1 + math.sqrt(1 + 16 * c)) / (8 * c)
    return -u / 2 - c * u**2 + math.log(u) / 2 + 0.5


BEST_MEAN_FIELD = best_mean_field_elbo(B, SIGMA)  # −0.56 nats


def elbo_estimate(vi, particles=2000, batches=10):
    """The fitted guide's ELBO by the library's estimator: mean and standard error over
    ``batches`` independent estimates of ``particles`` particles each."""
    program = vi.program
    if program.backend == "pyro":
        loss = pyro.infer.Trace_ELBO(
            num_particles=particles, vectorize_particles=True, max_plate_nesting=0
        )
        with pyro.get_param_store().scope(vi.state), torch.no_grad():
            pyro.set_rng_seed(1)
            values = [-loss.loss(program.model, vi.guide) for _ in range(batches)]
    else:
        loss = numpyro.infer.Trace_ELBO(num_particles=particles)
        estimate = jax.jit(lambda key: loss.loss(key, vi.state, program.model, vi.guide))
        values = [-float(estimate(jax.random.PRNGKey(i))) for i in range(batches)]
    return float(np.mean(values)), float(np.std(values, ddof=1) / math.sqrt(batches))


def fit_flow(backend, guide, steps, lr, particles):
    """Fit the flow guide ``guide`` to the banana with ``particles`` particles per step.

    NumPyro goes through pg.svi. Pyro's Trace_ELBO in pg.svi runs its particles one after
    another, which costs a Pyro flow seconds per hundred steps: the Pyro guides (from
    probgen's make_guide) are fitted with Pyro's vectorized particles instead.
    """
    options = dict(steps=steps, lr=lr, lr_decay=0.1, seed=0)
    if backend == "numpyro":
        return pg.svi(banana(backend), guide=guide, particles=particles, progress=False, **options)
    program = prepare(banana(backend), (), {})
    flow = make_guide(program, guide)
    loss = pyro.infer.Trace_ELBO(
        num_particles=particles, vectorize_particles=True, max_plate_nesting=0
    )
    return svi_run(program, flow, loss, progress=False, **options)


# fitting settings per flow
FLOW_SETTINGS = {
    ("pyro", "iaf"): dict(steps=400, lr=0.02, particles=8),
    ("pyro", "realnvp"): dict(steps=300, lr=0.02, particles=8),
    ("pyro", "nsf"): dict(steps=400, lr=0.01, particles=8),
    ("pyro", "bnaf"): dict(steps=800, lr=0.02, particles=8),
    ("numpyro", "iaf"): dict(steps=600, lr=0.02, particles=8),
    ("numpyro", "bnaf"): dict(steps=600, lr=0.02, particles=8),
}
# a flow must beat the best mean-field ELBO by this much: twenty times the estimates'
# standard errors (≤ 0.005 nats), and a sixth of the mean-field gap of 0.56 nats, so
# only a guide that couples x2 to x1 reaches it
MARGIN = 0.1


@pytest.mark.parametrize(("backend", "guide"), list(FLOW_SETTINGS))
def test_flow_guide_beats_the_best_mean_field_gaussian(backend, guide):
    vi = fit_flow(backend, guide, **FLOW_SETTINGS[backend, guide])
    elbo, se = elbo_estimate(vi)
    assert elbo <= 4 * se  # ELBO ≤ log Z = 0
    assert elbo > BEST_MEAN_FIELD + MARGIN
    # Pinsker: |q(A) − p(A)| ≤ TV(q, p) ≤ √(KL/2), KL = −ELBO, for the event
    # A = {|x2 − b(x1² − 1)| < σ}, p(A) = 2Φ(1) − 1; checks vi.posterior's draws
    draws = vi.posterior(2000, seed=1).samples
    x1, x2 = draws["x1"].ravel(), draws["x2"].ravel()
    q_a = np.mean(np.abs(x2 - B * (x1**2 - 1)) < SIGMA)
    p_a = 2 * stats.norm.cdf(1.0) - 1
    bound = math.sqrt((-elbo + 4 * se) / 2) + 4 * math.sqrt(p_a * (1 - p_a) / x1.size)
    assert abs(q_a - p_a) < bound


@pytest.mark.parametrize("guide", ["iaf", "realnvp", "nsf", "bnaf"])
def test_pg_svi_fits_pyro_flow_guides(guide):
    """The user's path, briefly: the bound holds and the draws have the sites' shapes."""
    vi = pg.svi(banana("pyro"), guide=guide, steps=30, lr=0.01, seed=0, progress=False)
    assert np.isfinite(vi.losses).all()
    elbo, se = elbo_estimate(vi)
    assert elbo <= 4 * se
    draws = vi.posterior(5).samples
    assert {k: v.shape for k, v in draws.items()} == {"x1": (1, 5), "x2": (1, 5)}


def test_normal_guide_reaches_the_best_mean_field_elbo(backend):
    """No mean-field Gaussian beats the closed form, and the fitted one reaches it."""
    vi = pg.svi(
        banana(backend), guide="normal", steps=2000, lr=0.05, lr_decay=0.01, seed=0,
        progress=False,
    )  # fmt: skip
    elbo, se = elbo_estimate(vi)
    assert elbo <= BEST_MEAN_FIELD + 4 * se
    assert elbo > BEST_MEAN_FIELD - 0.03  # about five standard errors


def funnel():
    """Neal's funnel: v ~ N(0, 3²); x_i | v ~ N(0, e^v), i = 1..9 (sd e^{v/2})."""
    v = numpyro.sample("v", ndist.Normal(0.0, 3.0))
    numpyro.sample("x", ndist.Normal(0.0, jax.numpy.exp(v / 2)).expand([9]).to_event(1))


def test_neutra_nuts_diverges_less_than_plain_nuts_on_the_funnel():
    """With the same settings and seed, NeuTra NUTS has fewer divergent transitions than
    plain NUTS, and its draws of v have the exact marginal N(0, 3²) with a far higher ESS.

    NumPyro only: Pyro's NUTS takes seconds per hundred funnel draws, and Pyro runs the
    default fit's particles one after another. Four chains of 500 draws, as plain NUTS
    diverges only when a chain enters the neck. Over seeds 0–5, divergences: plain 9, 5, 7,
    5, 43, 4; NeuTra 3, 0, 0, 0, 0, 1. ESS of v: plain 10–81, NeuTra 3000–3700.
    """
    settings = dict(chains=4, warmup=300, draws=500, seed=0, progress=False)
    plain = pg.mcmc(funnel, **settings)
    post = pg.mcmc(funnel, reparam="neutra", **settings)
    assert post.sample_stats["diverging"].sum() < plain.sample_stats["diverging"].sum()
    row = post.summary(round_to="none").loc["v"]
    assert abs(row["mean"]) < 4 * row["mcse_mean"]
    assert abs(row["sd"] - 3.0) < 0.15 * 3.0
    assert row["ess_bulk"] > 10 * plain.summary(round_to="none").loc["v", "ess_bulk"]
    # −ELBO = KL(q ‖ p) here, as log Z = 0; the default fit reached 0.009–0.015 on seeds 0–5
    assert post.attrs["neutra_loss"] < 0.05


# Pyro's NUTS and SVI take milliseconds a step: its runs are short
NEUTRA_SETTINGS = {
    "pyro": dict(chains=1, warmup=50, draws=50),
    "numpyro": dict(chains=2, warmup=100, draws=100),
}


def test_neutra_posterior_holds_the_program_sites(backend):
    """Draws come back as the original sites, in their supports, bound to the program:
    the log_likelihood group is log N(y_j; θ_j, σ_j) of those draws."""
    entry = registry.get("eight_schools_centered")
    data = entry.data()
    settings = NEUTRA_SETTINGS[backend]
    post = pg.mcmc(
        entry.program(backend), **data, reparam=NeuTra(steps=200, particles=1), seed=0,
        progress=False, **settings,
    )  # fmt: skip
    shape = (settings["chains"], settings["draws"])
    assert {k: v.shape for k, v in post.samples.items()} == {
        "mu": shape,
        "tau": shape,
        "theta": (*shape, data["J"]),
    }
    assert (post.samples["tau"] > 0).all()
    idata = post.to_arviz()
    exact = stats.norm.logpdf(data["y"], post.samples["theta"], data["sigma"])
    np.testing.assert_allclose(idata.log_likelihood["y"].values, exact, rtol=1e-4)
    assert idata.attrs["reparam"] == "neutra" and math.isfinite(idata.attrs["neutra_loss"])
    assert post.predictive(7)["y"].shape == (7, data["J"])


def test_coupling_flows_are_pyro_only():
    for guide in ("realnvp", "nsf"):
        with pytest.raises(pg.ArgumentError, match="NumPyro programs take the flow guides"):
            pg.svi(banana("numpyro"), guide=guide, progress=False)
    with pytest.raises(pg.ArgumentError, match="NumPyro programs take the flow guides"):
        pg.mcmc(funnel, reparam=NeuTra(guide="realnvp"), progress=False)


def test_flow_guides_need_two_latent_dimensions(coin):
    with pytest.raises(pg.ArgumentError, match="guide='realnvp' needs at least 2 latent"):
        pg.svi(coin, 10, k=7.0, guide="realnvp", progress=False)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (dict(reparam="noncentered"), "reparam must be None, 'neutra' or a NeuTra"),
        (dict(reparam="neutra", sampler="gibbs"), "sampler 'gibbs' works on the program"),
        (dict(reparam="neutra", init={"v": 0.0}), "init as a dict"),
    ],
)
def test_bad_reparam_options(options, match):
    with pytest.raises(pg.ArgumentError, match=match):
        pg.mcmc(funnel, progress=False, **options)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (dict(guide="normal"), "NeuTra's guide must be one of"),
        (dict(steps=0), "NeuTra's steps must be an integer"),
        (dict(particles=1.5), "NeuTra's particles must be an integer"),
        (dict(lr=0.0), "NeuTra's lr must be positive"),
        (dict(lr_decay=2.0), "NeuTra's lr_decay must lie in"),
    ],
)
def test_bad_neutra_settings(options, match):
    with pytest.raises(pg.ArgumentError, match=match):
        NeuTra(**options)


def test_neutra_rejects_a_discrete_latent():
    """Summed out or not, a discrete site has no place in the warped continuous space."""
    entry = registry.get("gaussian_mixture")
    with pytest.raises(pg.ModelError, match="NeuTra warps the continuous latent space"):
        pg.mcmc(entry.numpyro, **entry.data(), reparam="neutra", progress=False)


def gaussian(backend):
    """x1 ~ N(3, 2²); x2 | x1 ~ N(−x1, 1): means (3, −3), sds (2, √5), far from N(0, I)."""
    if backend == "pyro":

        def model():
            x1 = pyro.sample("x1", dist.Normal(3.0, 2.0))
            pyro.sample("x2", dist.Normal(-x1, 1.0))

    else:

        def model():
            x1 = numpyro.sample("x1", ndist.Normal(3.0, 2.0))
            numpyro.sample("x2", ndist.Normal(-x1, 1.0))

    return model


# Pyro's NUTS takes milliseconds a step: one short chain
GAUSSIAN_SETTINGS = {
    "pyro": dict(chains=1, warmup=200, draws=400),
    "numpyro": dict(chains=2, warmup=300, draws=500),
}


def test_neutra_draws_map_back_to_the_program_sites(backend):
    """The draws of u mapped back by T have the program's moments, not u's (≈ N(0, I)):
    means within 4 MCSE, sds within 15 %."""
    post = pg.mcmc(
        gaussian(backend), reparam=NeuTra(steps=500, particles=1, lr=0.02), seed=0,
        progress=False, **GAUSSIAN_SETTINGS[backend],
    )  # fmt: skip
    table = post.summary(round_to="none")
    for site, mean, sd in [("x1", 3.0, 2.0), ("x2", -3.0, math.sqrt(5.0))]:
        row = table.loc[site]
        assert abs(row["mean"] - mean) < 4 * row["mcse_mean"]
        assert abs(row["sd"] - sd) < 0.15 * sd
