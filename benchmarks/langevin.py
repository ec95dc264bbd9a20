"""MALA throughput: probgen's Langevin kernels against BlackJAX and a hand-written torch loop.

The target is a d-dimensional Gaussian N(0, Σ) with Σ_ij = ρ^|i−j| (d = 100, ρ = 0.9 by
default), one chain, a fixed step size η and no adaptation on either side.

JAX: probgen's ``NumPyroLangevin`` kernel (what ``MALA(step_size=η)`` builds for a NumPyro
program) driven directly, its ``sample`` inside one ``jax.lax.scan`` compiled once, against
``blackjax.mala`` in the same kind of scan. Both start at the same point from the same key
and split it the same way, so they run the very same chain up to rounding. Compilation is
left out: each compiled scan runs once untimed, then ``--repeats`` times timed (calls
interleaved, ``block_until_ready``). The end-to-end ``pg.mcmc`` call, compilation included,
is printed for reference.

Torch, measured the same way: probgen's ``PyroLangevin`` kernel (what
``MALA(step_size=η, jit_compile=True)`` builds for a Pyro program) set up and driven directly,
its ``sample`` in a for-loop that keeps every draw (the headline), against a plain for-loop
of MALA with autograd gradients. Beside them: the same kernel without ``jit_compile``, the
functional ``langevin(x0, ..., potential_fn=U, metropolize=True)``, and the end-to-end
``pg.mcmc(pyro_model, sampler=MALA(η, jit_compile=True), warmup=0, chains=1)``, whose extra
cost over the kernel is Pyro's MCMC driver (its hook and per-draw logging). Every side
computes log p with the same distribution object.

Prints steps/s, min bulk ESS/s (``az.ess`` over the d coordinates), mean acceptance
probability and the ratios probgen / peer (targets: JAX ≥ 0.8, torch ≥ 0.7).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable

import arviz as az
import blackjax
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
import pyro.infer.autoguide
import torch
from machine import describe_machine
from numpyro.infer import init_to_value

import probgen as pg
from probgen.inference.energy_samplers import langevin
from probgen.inference.langevin_kernels import NumPyroLangevin, PyroLangevin
from probgen.inference.mala import MALA

JAX_TARGET = 0.8
TORCH_TARGET = 0.7


# ---------------------------------------------------------------------------------------
# The target, once per library


def covariance(dims: int, rho: float) -> np.ndarray:
    """Σ_ij = ρ^|i−j| (an AR(1) correlation matrix)."""
    index = np.arange(dims)
    return rho ** np.abs(index[:, None] - index[None, :])


def min_bulk_ess(draws: np.ndarray) -> float:
    """The smallest bulk ESS over the coordinates of one chain's draws, shaped (steps, d)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ess = az.ess(az.convert_to_dataset({"x": np.asarray(draws)[None]}), method="bulk")
    return float(np.min(ess["x"].values))


def best_seconds(times: list[float]) -> tuple[float, float]:
    return min(times), statistics.median(times)


# ---------------------------------------------------------------------------------------
# 1. JAX: probgen's NumPyro kernel against BlackJAX


def jax_benchmark(args: argparse.Namespace, sigma: np.ndarray) -> None:
    target = ndist.MultivariateNormal(
        jnp.zeros(args.dims), scale_tril=jnp.asarray(np.linalg.cholesky(sigma))
    )

    def numpyro_model():
        numpyro.sample("x", target)

    x0 = jnp.asarray(np.random.default_rng(args.seed).standard_normal(args.dims) * 0.1)
    eta, steps = args.step_size, args.steps

    # probgen: what MALA(step_size=η).kernel(...) builds, its init and sample driven directly
    kernel = NumPyroLangevin(
        numpyro_model, step_size=eta, metropolize=True, adapt_mass=False,
        init_strategy=init_to_value(values={"x": x0}),
    )  # fmt: skip
    state0 = kernel.init(jax.random.PRNGKey(args.seed), 0, {"x": x0}, (), {})

    @jax.jit
    def run_probgen(state):
        def body(s, _):
            s = kernel.sample(s, (), {})
            return s, (s.z["x"], s.accept_prob)

        return jax.lax.scan(body, state, None, length=steps)[1]

    # BlackJAX: the same log density, start and key chain (split, use the second half)
    mala = blackjax.mala(target.log_prob, eta)
    bj_state0 = mala.init(x0)

    @jax.jit
    def run_blackjax(state, rng_key):
        def body(carry, _):
            s, key = carry
            key, step_key = jax.random.split(key)
            s, info = mala.step(step_key, s)
            return (s, key), (s.position, info.acceptance_rate)

        return jax.lax.scan(body, (state, rng_key), None, length=steps)[1]

    calls: dict[str, Callable] = {
        "probgen": lambda: run_probgen(state0),
        "blackjax": lambda: run_blackjax(bj_state0, state0.rng_key),
    }
    results, times = {}, {name: [] for name in calls}
    for name, call in calls.items():  # compile and warm up, untimed
        results[name] = jax.block_until_ready(call())
    for round_ in range(args.repeats):
        names = list(calls) if round_ % 2 == 0 else list(calls)[::-1]
        for name in names:
            start = time.perf_counter()
            jax.block_until_ready(calls[name]())
            times[name].append(time.perf_counter() - start)

    print(f"\n1. JAX: {steps} steps of one chain, η = {eta}, compilation excluded "
          f"(best / median of {args.repeats})")
    print(f"  {'sampler':<44} {'steps/s':>9} {'median':>9} {'min ESS':>8} {'ESS/s':>9} "
          f"{'accept':>7}")
    rates = {}
    for name, label in (("probgen", "probgen NumPyroLangevin (MALA kernel), scan"),
                        ("blackjax", f"blackjax {blackjax.__version__} mala, scan")):
        draws, accept = (np.asarray(a) for a in results[name])
        fastest, median = best_seconds(times[name])
        ess = min_bulk_ess(draws)
        rates[name] = (steps / fastest, ess / fastest)
        print(f"  {label:<44} {steps / fastest:9.0f} {steps / median:9.0f} {ess:8.0f} "
              f"{ess / fastest:9.0f} {accept.mean():7.3f}")
    same = np.abs(np.asarray(results["probgen"][0]) - np.asarray(results["blackjax"][0]))
    print(f"  same chain: max |probgen − blackjax| over all draws = {same.max():.2e}")

    # end to end, for reference: pg.mcmc compiles NumPyro's loop anew on every call
    start = time.perf_counter()
    posterior = pg.mcmc(numpyro_model, sampler=MALA(step_size=eta), chains=1, warmup=0,
                        draws=steps, seed=args.seed, init={"x": np.asarray(x0)},
                        progress=False)  # fmt: skip
    seconds = time.perf_counter() - start
    ess = min_bulk_ess(posterior.samples["x"][0])
    print(f"  {'pg.mcmc(numpyro_model, MALA(η)), whole call':<44} {steps / seconds:9.0f} "
          f"{'-':>9} {ess:8.0f} {ess / seconds:9.0f} "
          f"{posterior.sample_stats['acceptance_rate'].mean():7.3f}   (compilation included)")

    ratio_steps = rates["probgen"][0] / rates["blackjax"][0]
    ratio_ess = rates["probgen"][1] / rates["blackjax"][1]
    verdict = "ok" if ratio_steps >= JAX_TARGET else f"BELOW {JAX_TARGET}"
    print(f"  probgen / BlackJAX: steps/s {ratio_steps:.3f} ({verdict}), "
          f"min ESS/s {ratio_ess:.3f}")


# ---------------------------------------------------------------------------------------
# 2. torch: probgen's Pyro kernel and functional API against a hand-written loop


def hand_mala(log_prob: Callable, x0: torch.Tensor, steps: int, eta: float):
    """Plain MALA: a for-loop with autograd gradients. Returns the draws and mean α."""

    def value_and_grad(x):
        x = x.detach().requires_grad_(True)
        logp = log_prob(x)
        (grad,) = torch.autograd.grad(logp, x)
        return logp.detach(), grad

    x = x0.clone()
    logp, grad = value_and_grad(x)
    draws = torch.empty(steps, x.shape[0], dtype=x.dtype)
    total = 0.0
    for i in range(steps):
        y = x + eta * grad + (2 * eta) ** 0.5 * torch.randn_like(x)
        logp_y, grad_y = value_and_grad(y)
        with torch.no_grad():
            forward = ((y - x - eta * grad) ** 2).sum() / (4 * eta)
            backward = ((x - y - eta * grad_y) ** 2).sum() / (4 * eta)
            alpha = torch.exp(torch.clamp(logp_y - logp - backward + forward, max=0.0))
            total += float(alpha)
            if torch.rand(()) < alpha:
                x, logp, grad = y, logp_y, grad_y
            draws[i] = x
    return draws.numpy(), total / steps


def torch_benchmark(args: argparse.Namespace, sigma: np.ndarray) -> None:
    target = pdist.MultivariateNormal(
        torch.zeros(args.dims, dtype=torch.float64),
        scale_tril=torch.as_tensor(np.linalg.cholesky(sigma)),
    )

    def pyro_model():
        pyro.sample("x", target)

    x0 = torch.as_tensor(np.random.default_rng(args.seed).standard_normal(args.dims) * 0.1)
    eta, steps = args.step_size, args.torch_steps

    def run_kernel(jit_compile: bool):
        kernel = PyroLangevin(
            pyro_model, step_size=eta, metropolize=True, adapt_mass=False,
            init_strategy=pyro.infer.autoguide.init_to_value(values={"x": x0}),
            jit_compile=jit_compile,
        )  # fmt: skip
        kernel.setup(0)
        params, total = kernel.initial_params, 0.0
        draws = torch.empty(steps, args.dims, dtype=x0.dtype)
        for i in range(steps):
            params = kernel.sample(params)
            draws[i] = params["x"]
            total += kernel.info["accept_prob"]
        return draws.numpy(), total / steps

    def run_pgmcmc():
        posterior = pg.mcmc(pyro_model, sampler=MALA(step_size=eta, jit_compile=True),
                            chains=1, warmup=0, draws=steps, seed=args.seed, init={"x": x0},
                            progress=False)  # fmt: skip
        return posterior.samples["x"][0], posterior.sample_stats["acceptance_rate"].mean()

    def run_functional():
        result = langevin(x0[None], steps, eta, potential_fn=lambda x: -target.log_prob(x),
                          metropolize=True)
        return None, float(result.acceptance_rate.mean())

    def run_hand():
        return hand_mala(target.log_prob, x0, steps, eta)

    calls = {
        "kernel jit": lambda: run_kernel(True),
        "kernel": lambda: run_kernel(False),
        "functional": run_functional,
        "pg.mcmc jit": run_pgmcmc,
        "hand": run_hand,
    }
    out, times = {}, {name: [] for name in calls}
    for round_ in range(args.repeats):
        names = list(calls) if round_ % 2 == 0 else list(calls)[::-1]
        for name in names:
            torch.manual_seed(args.seed + round_)
            start = time.perf_counter()
            out[name] = calls[name]()
            times[name].append(time.perf_counter() - start)

    print(f"\n2. torch: {steps} steps of one chain, η = {eta}, float64, "
          f"{torch.get_num_threads()} torch threads (best / median of {args.repeats})")
    print(f"  {'sampler':<44} {'steps/s':>9} {'median':>9} {'µs/step':>8} {'min ESS':>8} "
          f"{'accept':>7}")
    labels = {"kernel jit": "PyroLangevin MALA(η, jit_compile=True), loop",
              "kernel": "PyroLangevin MALA(η), loop",
              "functional": "probgen langevin(metropolize=True)",
              "pg.mcmc jit": "pg.mcmc(MALA(η, jit_compile=True)), whole",
              "hand": "hand-written torch MALA loop"}
    rates = {}
    for name, label in labels.items():
        draws, accept = out[name]
        fastest, median = best_seconds(times[name])
        rates[name] = steps / fastest
        ess = f"{min_bulk_ess(draws):8.0f}" if draws is not None else f"{'-':>8}"
        print(f"  {label:<44} {steps / fastest:9.0f} {steps / median:9.0f} "
              f"{1e6 * fastest / steps:8.1f} {ess} {accept:7.3f}")
    for name in ("kernel jit", "kernel", "functional", "pg.mcmc jit"):
        ratio = rates[name] / rates["hand"]
        verdict = "ok" if ratio >= TORCH_TARGET else f"BELOW {TORCH_TARGET}"
        if name == "kernel jit":
            verdict += ", the headline"
        elif name == "pg.mcmc jit":
            verdict = "for reference: Pyro's MCMC driver included"
        print(f"  probgen {name} / hand loop: steps/s {ratio:.3f} ({verdict})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dims", type=int, default=100, help="dimension d (default 100)")
    parser.add_argument("--rho", type=float, default=0.9, help="Σ_ij = ρ^|i−j| (default 0.9)")
    parser.add_argument("--step-size", type=float, default=0.023,
                        help="fixed MALA step size η (default 0.023: acceptance ≈ 0.57 at "
                             "d = 100, ρ = 0.9)")
    parser.add_argument("--steps", type=int, default=100_000, help="JAX steps (default 100000)")
    parser.add_argument("--torch-steps", type=int, default=5000,
                        help="torch steps (default 5000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-torch", action="store_true", help="skip the torch part")
    parser.add_argument("--no-jax", action="store_true", help="skip the JAX part")
    args = parser.parse_args(argv)
    if min(args.repeats, args.steps, args.torch_steps, args.dims) < 1:
        parser.error("--repeats, --steps, --torch-steps and --dims must be at least 1")

    jax.config.update("jax_enable_x64", True)  # both sides in float64, as torch's
    print(__doc__.split("\n\n")[0])
    print(describe_machine(jax, numpyro, blackjax, pyro, torch, az))
    print(f"target N(0, Σ), Σ_ij = {args.rho}^|i−j|, d = {args.dims}; seed {args.seed}")
    sigma = covariance(args.dims, args.rho)
    if not args.no_jax:
        jax_benchmark(args, sigma)
    if not args.no_torch:
        torch_benchmark(args, sigma)


if __name__ == "__main__":
    sys.exit(main())
