"""Gibbs sampling against exact references: closed-form correlation, enumeration, NUTS."""

import itertools
import warnings

import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
import pytest
import torch

import probgen as pg
from probgen.errors import ArgumentError
from probgen.inference.block_gibbs import block_gibbs
from probgen.inference.discrete_conditional import DiscreteConditionals
from probgen.inference.gibbs import Gibbs

RHO = 0.9
SCALE = (1 - RHO**2) ** 0.5
LIBS = {"pyro": (pyro, pdist), "numpyro": (numpyro, ndist)}


def _tv(states: np.ndarray, exact: np.ndarray) -> float:
    """Total-variation distance between the empirical law of integer ``states`` and ``exact``."""
    empirical = np.bincount(states, minlength=exact.size) / states.size
    return 0.5 * np.abs(empirical - exact).sum()


def _bits_to_int(bits: np.ndarray) -> np.ndarray:
    return bits.astype(int) @ (2 ** np.arange(bits.shape[-1])[::-1])


# --- 1. user conditionals: bivariate normal ------------------------------------------------


def test_conditionals_bivariate_normal_correlation(backend):
    lib, dist = LIBS[backend]

    def model():  # z1 ~ N(0, 1), z2 | z1 ~ N(ρ z1, 1 − ρ²): a standard normal pair, corr ρ
        z1 = lib.sample("z1", dist.Normal(0.0, 1.0))
        lib.sample("z2", dist.Normal(RHO * z1, SCALE))

    conditionals = {
        "z1": lambda v: dist.Normal(RHO * v["z2"], SCALE),
        "z2": lambda v: dist.Normal(RHO * v["z1"], SCALE),
    }
    # a sweep's autocorrelation is ρ² = 0.81: 20 000 draws hold about 2 000 effective ones,
    # and the correlation's standard error is then about 0.19 / √2000 ≈ 0.004
    post = pg.mcmc(
        model,
        sampler=Gibbs(conditionals),
        chains=2,
        warmup=100,
        draws=10_000,
        seed=0,
        progress=False,
    )
    z1, z2 = post.samples["z1"].ravel(), post.samples["z2"].ravel()
    assert post.samples["z1"].shape == (2, 10_000)
    assert abs(np.corrcoef(z1, z2)[0, 1] - RHO) < 0.02
    assert abs(z1.var() - 1.0) < 0.05


def test_conditionals_must_name_latent_sites():
    def model():
        pyro.sample("z", pdist.Normal(0.0, 1.0))

    with pytest.raises(ArgumentError, match="not latent sites"):
        pg.mcmc(model, sampler=Gibbs({"w": None}), chains=1, warmup=1, draws=1, progress=False)


# --- 2. discrete sites: Ising chain ----------------------------------------------------------


def _ising_exact(n: int, coupling: float, field: float) -> np.ndarray:
    """p(s) ∝ exp(h Σ s_i + J Σ s_i s_{i+1}) over s ∈ {−1, 1}ⁿ, in binary order."""
    spins = 2 * np.array(list(itertools.product([0, 1], repeat=n))) - 1
    energy = field * spins.sum(1) + coupling * (spins[:, 1:] * spins[:, :-1]).sum(1)
    p = np.exp(energy - energy.max())
    return p / p.sum()


def _ising(lib, dist):
    def ising(n, coupling, field):
        spins = [2 * lib.sample(f"s{i}", dist.Bernoulli(0.5)) - 1 for i in range(n)]
        for i in range(n):
            lib.factor(f"field{i}", field * spins[i])
        for i in range(n - 1):
            lib.factor(f"pair{i}", coupling * spins[i] * spins[i + 1])

    return ising


def _ising_vector(n, coupling, field):
    """The same chain as one site of n spins, which Pyro's Gibbs updates element by element."""
    s = 2 * pyro.sample("s", pdist.Bernoulli(0.5).expand([n]).to_event(1)) - 1
    pyro.factor("energy", field * s.sum(-1) + coupling * (s[..., 1:] * s[..., :-1]).sum(-1))


@pytest.mark.parametrize(
    "backend, field, draws",
    # 10 spins (1 024 states), J = 1. NumPyro: h = 0.3, 60 000 sweeps; the expected TV of
    # 60 000 independent draws is ≈ 0.4 Σ √p / √N ≈ 0.013, and a 200 000-sweep run gave 0.007.
    # Pyro re-runs the program for every spin (≈ 1.5 ms a sweep), so h = 1 concentrates p
    # (Σ √p = 2.3 instead of 7.8): 8 000 sweeps, expected TV ≈ 0.01 (10 000 gave 0.007).
    [("numpyro", 0.3, 60_000), ("pyro", 1.0, 8_000)],
)
def test_discrete_gibbs_ising_chain_matches_enumeration(backend, field, draws):
    n, coupling = 10, 1.0
    model = _ising(*LIBS[backend]) if backend == "numpyro" else _ising_vector
    post = pg.mcmc(
        model,
        n,
        coupling,
        field,
        sampler=Gibbs(),
        chains=1,
        warmup=100,
        draws=draws,
        seed=0,
        progress=False,
    )
    if backend == "numpyro":
        bits = np.stack([post.samples[f"s{i}"].ravel() for i in range(n)], axis=1)
    else:
        bits = post.samples["s"].reshape(-1, n)
    assert _tv(_bits_to_int(bits), _ising_exact(n, coupling, field)) < 0.02


def test_discrete_gibbs_plate_site_matches_enumeration():
    """A Categorical site in a plate, coupled through a factor: each element in turn."""
    weights = torch.tensor([0.2, 0.3, 0.5])

    def model():
        with pyro.plate("n", 2):
            z = pyro.sample("z", pdist.Categorical(weights))
        pyro.factor("tie", 1.5 * (z[0] == z[1]).float())

    w = weights.numpy()
    exact = np.outer(w, w) * np.exp(1.5 * np.eye(3))
    # z[0] == z[1] picks elements, not the values' batch: Gibbs falls back to one run per value
    with pytest.warns(UserWarning, match="does not broadcast over the values of site 'z'"):
        post = pg.mcmc(
            model, sampler=Gibbs(), chains=1, warmup=50, draws=3_000, seed=1, progress=False
        )
    z = post.samples["z"].reshape(-1, 2).astype(int)
    assert _tv(z[:, 0] * 3 + z[:, 1], (exact / exact.sum()).ravel()) < 0.03


# --- 3. block Gibbs: restricted Boltzmann machine ------------------------------------------


def test_block_gibbs_rbm_matches_enumeration():
    """E(v, h) = −vᵀWh − bᵀv − cᵀh on 6 visible and 3 hidden binary units."""
    g = torch.Generator().manual_seed(0)
    weights = torch.randn(6, 3, generator=g)
    b, c = torch.randn(6, generator=g), torch.randn(3, generator=g)
    states = torch.tensor(list(itertools.product([0.0, 1.0], repeat=9)))
    v, h = states[:, :6], states[:, 6:]
    energy = -((v @ weights) * h).sum(1) - v @ b - h @ c
    exact = torch.softmax(-energy, 0).numpy()

    def h_given_v(v, gen):
        return torch.bernoulli(torch.sigmoid(v @ weights + c), generator=gen)

    def v_given_h(h, gen):
        return torch.bernoulli(torch.sigmoid(h @ weights.T + b), generator=gen)

    # 400 000 independent chains: the expected TV is ≈ 0.4 Σ √p / √N ≈ 0.01
    v0 = torch.bernoulli(torch.full((400_000, 6), 0.5), generator=g)
    v, h = block_gibbs(v_given_h, h_given_v, v0, steps=50, generator=g)
    assert v.shape == (400_000, 6) and h.shape == (400_000, 3)
    joint = torch.cat([v, h], dim=1).numpy()
    assert _tv(_bits_to_int(joint), exact) < 0.02


def test_block_gibbs_needs_a_step():
    with pytest.raises(ArgumentError, match="steps"):
        block_gibbs(lambda h, g: h, lambda v, g: v, torch.zeros(1, 2), steps=0)


# --- 4. HMC-within-Gibbs: Gaussian mixture with explicit assignments -----------------------

X = np.concatenate(
    [np.random.default_rng(0).normal(-2.0, 1.0, 15), np.random.default_rng(1).normal(2.0, 1.0, 15)]
)


def _mixture(lib, dist, enumerate_z: bool):
    """μ_k ~ N(∓2, ½²), z_n ~ Cat(½, ½), x_n ~ N(μ_{z_n}, 1).

    The priors and a start at μ = (−2, 2) keep both samplers in the same labelling.
    """
    infer = {"enumerate": "parallel"} if enumerate_z else {}
    array = torch.tensor if lib is pyro else np.array

    def mixture(x):
        mu = lib.sample("mu", dist.Normal(array([-2.0, 2.0]), 0.5).to_event(1))
        with lib.plate("data", len(x)):
            z = lib.sample("z", dist.Categorical(array([0.5, 0.5])), infer=infer)
            lib.sample("x", dist.Normal(mu[z], 1.0), obs=x)

    return mixture


MIXTURE = dict(warmup=300, init={"mu": [-2.0, 2.0]}, progress=False)


@pytest.fixture(scope="module")
def enumerated_nuts():
    """The reference: NUTS on the program with the assignments summed out."""
    lib, dist = LIBS["numpyro"]
    return pg.mcmc(_mixture(lib, dist, True), X, seed=1, chains=2, draws=1_000, **MIXTURE)


# Pyro's NUTS is slower: one chain; its 30 assignments are drawn together (one plate)
@pytest.mark.parametrize("backend, chains", [("numpyro", 2), ("pyro", 1)])
def test_hmc_within_gibbs_mixture_matches_enumerated_nuts(backend, chains, enumerated_nuts):
    lib, dist = LIBS[backend]
    model = _mixture(lib, dist, False)
    gibbs = pg.mcmc(model, X, sampler=Gibbs(), seed=0, chains=chains, draws=1_000, **MIXTURE)
    a = gibbs.summary(round_to="none", var_names=["mu"])
    b = enumerated_nuts.summary(round_to="none")
    gap = np.abs(a["mean"].to_numpy() - b["mean"].to_numpy())
    assert np.all(gap < 4 * np.hypot(a["mcse_mean"].to_numpy(), b["mcse_mean"].to_numpy()))
    assert np.all(np.abs(a["sd"].to_numpy() / b["sd"].to_numpy() - 1) < 0.15)
    assert gibbs.samples["z"].shape == (chains, 1_000, 30)


def test_pyro_discrete_plan_draws_only_independent_plate_elements_together():
    """get_dependencies decides: mixture assignments are independent given μ, tied ones not."""
    weights = torch.tensor([0.2, 0.3, 0.5])

    def tied():
        with pyro.plate("n", 2):
            z = pyro.sample("z", pdist.Categorical(weights))
        pyro.factor("tie", 1.5 * (z[0] == z[1]).float())

    plans = {}
    for name, model, args in [
        ("mixture", _mixture(pyro, pdist, False), (torch.tensor(X),)),
        ("tied", tied, ()),
    ]:
        trace = pyro.poutine.trace(model).get_trace(*args)
        values = {k: s["value"] for k, s in trace.nodes.items() if k == "mu" or k == "z"}
        conditionals = DiscreteConditionals(model, model, args, {}, trace)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plans[name] = conditionals.prepare("z", values)
    assert plans["mixture"].parallel == (True,) and plans["mixture"].vectorized
    assert plans["tied"].parallel == (False,) and not plans["tied"].vectorized
