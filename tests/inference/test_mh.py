"""Metropolis–Hastings (inference/mh.py, inference/independence.py) against exact references.

The pure step: detailed balance π_i T_ij = π_j T_ji on a five-state chain, in JAX and in
torch. The kernels: the coin's exact Beta(8, 4) posterior on both backends.
"""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as ndist
import pyro.distributions as pdist
import pytest
import torch
from scipy import stats

import probgen as pg
from probgen.errors import ArgumentError
from probgen.inference import mh
from probgen.inference.independence import Independence
from probgen.inference.mh import RandomWalk

EXACT = stats.beta(8, 4)  # the coin's posterior: k = 7 heads in n = 10 tosses, flat prior
PI = np.arange(1.0, 6.0) / 15.0  # the five-state target π ∝ [1, 2, 3, 4, 5]


def _flows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Empirical flows F_ij = P(x_t = i, x_{t+1} = j) from pairs of successive states."""
    counts = np.zeros((5, 5))
    np.add.at(counts, (x, y), 1.0)
    return counts / counts.sum()


def _assert_detailed_balance(x: np.ndarray, y: np.ndarray) -> None:
    flows = _flows(x, y)
    np.testing.assert_allclose(flows, flows.T, atol=0.005)  # π_i T_ij = π_j T_ji
    np.testing.assert_allclose(flows.sum(1), PI, atol=0.01)  # visit frequencies


@pytest.mark.parametrize("forward", [0.5, 0.8])
def test_step_jax_detailed_balance_on_five_states(forward):
    """±1 mod 5 moves, symmetric (0.5) or not (0.8 forward, with its Hastings ratio)."""
    log_pi = jnp.log(jnp.asarray(PI))
    log_g = {1: np.log(forward), 4: np.log(1 - forward)}  # g(y | x) by (y − x) mod 5

    def propose(key, x):
        return jnp.where(jax.random.uniform(key) < forward, x + 1, x - 1) % 5

    def log_ratio(x, y):  # log g(x | y) − log g(y | x)
        return jnp.where((y - x) % 5 == 1, log_g[4] - log_g[1], log_g[1] - log_g[4])

    def transition(state, key):
        new, _ = mh.step_jax(key, state, lambda x: log_pi[x], propose, log_ratio)
        return new, new.position

    key_init, key_run = jax.random.split(jax.random.PRNGKey(0))
    x0 = jax.random.categorical(key_init, log_pi)  # start in stationarity
    _, xs = jax.lax.scan(transition, mh.MHState(x0, log_pi[x0]), jax.random.split(key_run, 100_000))
    xs = np.concatenate([[int(x0)], np.asarray(xs)])
    _assert_detailed_balance(xs[:-1], xs[1:])


def test_step_torch_detailed_balance_on_five_states():
    """10⁵ transitions: 1000 independent chains, each started from π, 100 steps."""
    torch.manual_seed(0)
    log_pi = torch.log(torch.as_tensor(PI))
    x = torch.multinomial(torch.as_tensor(PI), 1000, replacement=True)
    state = mh.MHState(x, log_pi[x])
    pairs = []
    for _ in range(100):
        new, _ = mh.step_torch(
            state,
            lambda x: log_pi[x],
            lambda x: (x + 2 * torch.randint(0, 2, x.shape) - 1) % 5,
        )
        pairs.append((state.position.numpy(), new.position.numpy()))
        state = new
    _assert_detailed_balance(*(np.concatenate(p) for p in zip(*pairs, strict=True)))


# Pyro's kernels step in Python: one chain; NumPyro compiles each chain, so few of them
RW_SETTINGS = {
    "pyro": dict(chains=1, warmup=1000, draws=3000),
    "numpyro": dict(chains=2, warmup=1000, draws=3000),
}


def _assert_matches_exact(post) -> None:
    row = post.summary(round_to="none").loc["theta"]
    assert abs(row["mean"] - EXACT.mean()) < 4 * row["mcse_mean"]
    assert abs(row["sd"] - EXACT.std()) < 0.1 * EXACT.std()


def test_random_walk_coin_matches_beta_8_4(coin, backend):
    post = pg.mcmc(
        coin, 10, k=7.0, sampler=RandomWalk(), seed=1, progress=False, **RW_SETTINGS[backend]
    )
    _assert_matches_exact(post)
    sample_stats = post.to_arviz().sample_stats
    # after warm-up the scale is frozen, and the acceptance rate is the target's
    assert abs(float(sample_stats["acceptance_rate"].mean()) - 0.234) < 0.05
    scale = sample_stats["step_size"].values
    assert np.all(scale == scale[:, :1])


def test_random_walk_fixed_scale_is_kept(coin):
    post = pg.mcmc(
        coin,
        10,
        k=7.0,
        sampler=RandomWalk(scale=0.5),
        chains=1,
        warmup=50,
        draws=50,
        progress=False,
    )
    np.testing.assert_allclose(post.to_arviz().sample_stats["step_size"].values, 0.5, rtol=1e-6)


def _proposal(backend: str, a: float, b: float):
    return (pdist if backend == "pyro" else ndist).Beta(a, b)


def test_independence_coin_matches_beta_8_4(coin, backend):
    """q = Beta(2, 3) (mean 0.4) is skewed away from Beta(8, 4); the Hastings ratio fixes it."""
    sampler = Independence({"theta": _proposal(backend, 2.0, 3.0)})
    post = pg.mcmc(
        coin, 10, k=7.0, sampler=sampler, chains=1, warmup=200, draws=4000, seed=1, progress=False
    )
    _assert_matches_exact(post)


def test_independence_without_hastings_ratio_samples_p_times_q():
    """Dropping q from α makes p̃ · q stationary: Beta(8, 4) · Beta(2, 3) ∝ Beta(9, 6).

    With the ratio the chain's mean is 2/3; without it, 9/15 = 0.6 (measured: 0.664 and
    0.601 with these seeds).
    """
    p, q = ndist.Beta(8.0, 4.0), ndist.Beta(2.0, 3.0)

    def chain(log_ratio):
        def transition(state, key):
            new, _ = mh.step_jax(key, state, p.log_prob, lambda k, x: q.sample(k), log_ratio)
            return new, new.position

        init = mh.MHState(jnp.asarray(0.5), p.log_prob(0.5))
        keys = jax.random.split(jax.random.PRNGKey(2), 40_000)
        return float(jax.lax.scan(transition, init, keys)[1].mean())

    right = chain(lambda x, y: q.log_prob(x) - q.log_prob(y))
    wrong = chain(None)
    assert abs(right - EXACT.mean()) < 0.01
    assert abs(wrong - 0.6) < 0.01


def test_independence_errors(coin, backend):
    def sample(proposal):
        return pg.mcmc(
            coin,
            10,
            k=7.0,
            sampler=Independence(proposal),
            chains=1,
            warmup=5,
            draws=5,
            progress=False,
        )

    with pytest.raises(ArgumentError, match="'theta' has no proposal"):
        sample({})
    with pytest.raises(ArgumentError, match=r"\['phi'\].*not latent"):
        sample({"theta": _proposal(backend, 2.0, 3.0), "phi": _proposal(backend, 1.0, 1.0)})
    with pytest.raises(ArgumentError, match="'theta' has support"):
        sample({"theta": (pdist if backend == "pyro" else ndist).Gamma(2.0, 1.0)})
    other = ndist if backend == "pyro" else pdist
    with pytest.raises(ArgumentError, match="must be a"):
        sample({"theta": other.Beta(2.0, 3.0)})
    # unit_interval and interval(0, 1) are the same support
    sample({"theta": (pdist if backend == "pyro" else ndist).Uniform(0.0, 1.0)})
