"""Posterior draws of summed-out discrete sites (Posterior.discrete) and the pointwise
log-likelihood with them summed out, against closed forms and enumeration of all paths."""

import itertools

import arviz as az
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as dist
import pytest
import torch
from numpyro.contrib.control_flow import scan
from numpyro.contrib.funsor import markov
from scipy import stats
from scipy.special import logsumexp

import probgen as pg
from probgen.errors import ArgumentError
from probgen.programs import prepare

Y = np.array([-1.0, 0.2, 1.5])  # a mixture's data and an HMM's three observations


def pyro_mixture(y):
    w = pyro.sample("w", dist.Beta(2.0, 2.0))
    with pyro.plate("data", len(y)):
        z = pyro.sample("z", dist.Bernoulli(w), infer={"enumerate": "parallel"})
        pyro.sample("y", dist.Normal(2.0 * z - 1.0, 1.0), obs=y)


def numpyro_mixture(y):
    w = numpyro.sample("w", ndist.Beta(2.0, 2.0))
    with numpyro.plate("data", len(y)):
        z = numpyro.sample("z", ndist.Bernoulli(w), infer={"enumerate": "parallel"})
        numpyro.sample("y", ndist.Normal(2.0 * z - 1.0, 1.0), obs=y)


def pyro_hmm(y):
    stay = pyro.sample("stay", dist.Beta(2.0, 2.0))
    transition = torch.stack([torch.stack([stay, 1 - stay]), torch.stack([1 - stay, stay])])
    z = 0
    for t in pyro.markov(range(len(y))):
        z = pyro.sample(f"z_{t}", dist.Categorical(transition[z]), infer={"enumerate": "parallel"})
        pyro.sample(f"y_{t}", dist.Normal(2.0 * z - 1.0, 1.0), obs=y[t])


def numpyro_hmm(y):
    stay = numpyro.sample("stay", ndist.Beta(2.0, 2.0))
    transition = jnp.stack([jnp.stack([stay, 1 - stay]), jnp.stack([1 - stay, stay])])
    z = 0
    for t in markov(range(len(y))):
        z = numpyro.sample(
            f"z_{t}", ndist.Categorical(transition[z]), infer={"enumerate": "parallel"}
        )
        numpyro.sample(f"y_{t}", ndist.Normal(2.0 * z - 1.0, 1.0), obs=y[t])


def numpyro_scan_hmm(y):
    stay = numpyro.sample("stay", ndist.Beta(2.0, 2.0))
    transition = jnp.stack([jnp.stack([stay, 1 - stay]), jnp.stack([1 - stay, stay])])

    def step(z, y_t):
        z = numpyro.sample("z", ndist.Categorical(transition[z]), infer={"enumerate": "parallel"})
        numpyro.sample("y", ndist.Normal(2.0 * z - 1.0, 1.0), obs=y_t)
        return z, None

    scan(step, 0, y)


MIXTURES = {"pyro": pyro_mixture, "numpyro": numpyro_mixture}
HMMS = {"pyro": pyro_hmm, "numpyro": numpyro_hmm}


def _posterior(model, values):
    """A Posterior of fixed draws {site: (chains, draws)} of ``model`` on Y."""
    return pg.Posterior(values, program=prepare(model, (Y,), {}))


def _mixture_joint(w):
    """log w_k + log N(y_i | 2k − 1, 1) for k = 0, 1: shape (..., N, 2)."""
    w = np.asarray(w, float)[..., None, None]
    locs = np.array([-1.0, 1.0])
    return np.log(np.concatenate([1 - w, w], -1)) + stats.norm.logpdf(Y[:, None], locs, 1.0)


def _path_log_joints(stay):
    """log p(z_{0:2}, y | stay) of every state path z, by brute force, and the paths."""
    transition = np.log(np.array([[stay, 1 - stay], [1 - stay, stay]]))
    paths = list(itertools.product([0, 1], repeat=len(Y)))
    joints = []
    for path in paths:
        previous, total = 0, 0.0
        for t, z in enumerate(path):
            total += transition[previous, z] + stats.norm.logpdf(Y[t], 2 * z - 1, 1.0)
            previous = z
        joints.append(total)
    return np.array(joints), paths


def test_mixture_assignments_follow_the_exact_responsibilities(backend):
    """z_i ~ p(z_i = 1 | y_i, w) = w N(y_i | 1, 1) / Σ_k w_k N(y_i | μ_k, 1) at w = 0.3."""
    post = _posterior(MIXTURES[backend], {"w": np.full((2, 500), 0.3)})
    z = post.discrete()["z"]
    assert z.shape == (2, 500, len(Y))
    joint = _mixture_joint(0.3)
    exact = np.exp(joint[:, 1] - logsumexp(joint, axis=1))
    se = np.sqrt(exact * (1 - exact) / z[..., 0].size)
    assert np.all(np.abs(z.mean(axis=(0, 1)) - exact) < 4 * se)


def test_hmm_state_paths_follow_enumeration_of_all_paths(backend):
    """The frequency of each of the 8 paths against p(z | y) ∝ p(z, y) enumerated."""
    post = _posterior(HMMS[backend], {"stay": np.full((1, 800), 0.8)})
    draws = post.discrete()
    assert list(draws) == ["z_0", "z_1", "z_2"]
    sampled = np.stack([draws[f"z_{t}"].ravel() for t in range(3)], axis=1)
    joints, paths = _path_log_joints(0.8)
    exact = np.exp(joints - logsumexp(joints))
    n = len(sampled)
    for path, p in zip(paths, exact, strict=True):
        frequency = np.mean(np.all(sampled == path, axis=1))
        assert abs(frequency - p) < 4 * np.sqrt(p * (1 - p) / n) + 1e-12, path


def test_discrete_draws_after_mcmc_and_svi_are_in_the_arviz_posterior(backend):
    model = MIXTURES[backend]
    post = pg.mcmc(model, Y, chains=2, warmup=30, draws=20, seed=0, progress=False)
    idata = post.to_arviz()
    assert idata.posterior["z"].shape == (2, 20, len(Y))
    np.testing.assert_array_equal(idata.posterior["z"].values, post.discrete()["z"])
    vi = pg.svi(model, Y, guide="normal", steps=5, seed=0, progress=False)
    assert vi.posterior(draws=30).discrete(["z"])["z"].shape == (1, 30, len(Y))
    with pytest.raises(ArgumentError, match="'w'"):
        post.discrete(["w"])


def test_mixture_pointwise_log_likelihood_is_the_log_sum_exp_over_components(backend, float64):
    """log p(y_i | w) = log Σ_k w_k N(y_i | μ_k, 1), per observation; LOO and WAIC run."""
    w = np.random.default_rng(0).beta(2.0, 2.0, size=(2, 50))
    idata = _posterior(MIXTURES[backend], {"w": w}).to_arviz()
    exact = logsumexp(_mixture_joint(w), axis=-1)  # (chains, draws, N)
    np.testing.assert_allclose(idata.log_likelihood["y"].values, exact, rtol=1e-6)
    assert idata.log_likelihood.attrs["unit"] == "observation"
    # WAIC: Σ_i log mean_s p(y_i | θ_s) − var_s log p(y_i | θ_s)
    flat = exact.reshape(-1, len(Y))
    waic = np.sum(logsumexp(flat, axis=0) - np.log(len(flat)) - flat.var(axis=0))
    np.testing.assert_allclose(az.waic(idata).elpd_waic, waic, rtol=1e-6)
    assert np.isfinite(az.loo(idata).elpd_loo)


@pytest.mark.parametrize("program", ["pyro", "numpyro", "numpyro-scan"])
def test_hmm_log_likelihood_is_per_sequence_by_enumeration_of_all_paths(program, float64):
    """log p(y_{0:2} | stay) = log Σ_z p(z, y | stay), one value per sequence."""
    model = {**HMMS, "numpyro-scan": numpyro_scan_hmm}[program]
    stay = np.random.default_rng(1).beta(2.0, 2.0, size=(2, 10))
    if program == "numpyro-scan":  # NumPyro's infer_discrete cannot draw a scanned chain
        with pytest.warns(UserWarning, match="contrib.funsor.markov"):
            idata = _posterior(model, {"stay": stay}).to_arviz()
    else:
        idata = _posterior(model, {"stay": stay}).to_arviz()
    [name] = idata.log_likelihood.data_vars
    exact = np.vectorize(lambda s: logsumexp(_path_log_joints(s)[0]))(stay)
    np.testing.assert_allclose(idata.log_likelihood[name].values, exact, rtol=1e-6)
    assert idata.log_likelihood.attrs["unit"] == "sequence"
    assert np.isfinite(az.waic(idata).elpd_waic)


def test_log_likelihood_is_per_document_when_words_share_a_document_topic(backend, float64):
    """z_d in plate docs, words y_dj in plates docs × words: the unit is the document,
    log p(y_d | w) = log Σ_k w_k Π_j N(y_dj | μ_k, 1)."""
    words = np.random.default_rng(2).normal(size=(4, 3))

    def pyro_documents(y):
        w = pyro.sample("w", dist.Beta(2.0, 2.0))
        with pyro.plate("docs", 4, dim=-2):
            z = pyro.sample("z", dist.Bernoulli(w), infer={"enumerate": "parallel"})
            with pyro.plate("words", 3, dim=-1):
                pyro.sample("y", dist.Normal(2.0 * z - 1.0, 1.0), obs=y)

    def numpyro_documents(y):
        w = numpyro.sample("w", ndist.Beta(2.0, 2.0))
        with numpyro.plate("docs", 4, dim=-2):
            z = numpyro.sample("z", ndist.Bernoulli(w), infer={"enumerate": "parallel"})
            with numpyro.plate("words", 3, dim=-1):
                numpyro.sample("y", ndist.Normal(2.0 * z - 1.0, 1.0), obs=y)

    model = pyro_documents if backend == "pyro" else numpyro_documents
    w = np.array([[0.3, 0.8]])
    post = pg.Posterior({"w": w}, program=prepare(model, (words,), {}))
    idata = post.to_arviz()
    per_component = [stats.norm.logpdf(words, loc, 1.0).sum(axis=1) for loc in (-1.0, 1.0)]
    exact = np.logaddexp(np.log(1 - w[..., None]) + per_component[0],
                         np.log(w[..., None]) + per_component[1])
    np.testing.assert_allclose(idata.log_likelihood["y"].values, exact, rtol=1e-6)
    assert idata.log_likelihood.attrs["unit"] == "observation"


def test_hmm_log_likelihood_is_per_sequence_in_a_plate_of_sequences(backend, float64):
    """Two independent sequences in a plate: one value per sequence,
    log p(y_s | stay) = log Σ_z p(z, y_s | stay), by enumeration of each one's paths."""
    sequences = np.array([Y, Y[::-1] * 0.5])  # (2 sequences, 3 steps)

    def pyro_sequences(y):
        stay = pyro.sample("stay", dist.Beta(2.0, 2.0))
        transition = torch.stack([torch.stack([stay, 1 - stay]), torch.stack([1 - stay, stay])])
        with pyro.plate("sequences", len(y), dim=-1):
            z = 0
            for t in pyro.markov(range(y.shape[1])):
                z = pyro.sample(
                    f"z_{t}", dist.Categorical(transition[z]), infer={"enumerate": "parallel"}
                )
                pyro.sample(f"y_{t}", dist.Normal(2.0 * z - 1.0, 1.0), obs=y[:, t])

    def numpyro_sequences(y):
        stay = numpyro.sample("stay", ndist.Beta(2.0, 2.0))
        transition = jnp.stack([jnp.stack([stay, 1 - stay]), jnp.stack([1 - stay, stay])])
        with numpyro.plate("sequences", len(y), dim=-1):
            z = 0
            for t in markov(range(y.shape[1])):
                z = numpyro.sample(
                    f"z_{t}", ndist.Categorical(transition[z]), infer={"enumerate": "parallel"}
                )
                numpyro.sample(f"y_{t}", ndist.Normal(2.0 * z - 1.0, 1.0), obs=y[:, t])

    model = pyro_sequences if backend == "pyro" else numpyro_sequences
    stay = np.array([[0.3, 0.8, 0.6]])
    post = pg.Posterior({"stay": stay}, program=prepare(model, (sequences,), {}))
    ll = post.to_arviz().log_likelihood
    assert ll.attrs["unit"] == "sequence"
    exact = np.zeros((1, 3, 2))
    for i, s in enumerate(stay[0]):
        for j, y in enumerate(sequences):
            transition = np.log(np.array([[s, 1 - s], [1 - s, s]]))
            joints = []
            for path in itertools.product([0, 1], repeat=3):
                steps = zip((0, *path[:-1]), path, y, strict=True)
                joints.append(sum(transition[a, b] + stats.norm.logpdf(v, 2 * b - 1, 1.0)
                                  for a, b, v in steps))
            exact[0, i, j] = logsumexp(joints)
    np.testing.assert_allclose(ll["joint"].values, exact, rtol=1e-6)
