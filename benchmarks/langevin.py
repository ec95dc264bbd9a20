"""MALA throughput: pg.mcmc and probgen's Langevin kernels against BlackJAX and a hand-written
torch loop.

The target is a d-dimensional Gaussian N(0, Σ) with Σ_ij = ρ^|i−j| (d = 100, ρ = 0.9 by
default), one chain, a fixed step size η and no adaptation anywhere. Every side computes
log p with the same distribution object, in float64, on one thread (torch and XLA).

JAX: probgen's ``NumPyroLangevin`` kernel (what ``MALA(step_size=η)`` builds for a NumPyro
program) driven directly, its ``init`` and then its ``sample`` in one ``jax.lax.scan``
under ``jax.jit``, against ``blackjax.mala`` in the same kind of scan, and the whole
``pg.mcmc(numpyro_model, sampler=MALA(η), warmup=0, chains=1)`` call. Every row includes
its own tracing and XLA compilation: each timed call builds a new scan function, which
JAX traces and compiles afresh, as NumPyro's ``MCMC`` (inside ``pg.mcmc``) does for each
call, and probgen's persistent XLA cache is off. The kernel and BlackJAX start at the same
point from the same key and split it the same way: they run the very same chain.

Torch: probgen's ``PyroLangevin`` kernel (what ``MALA(step_size=η)`` builds for a Pyro
program), with and without ``jit_compile``, set up and driven directly (``setup``, then
``sample`` in a for-loop that keeps every draw), the same kernels under
``pg.mcmc(pyro_model, sampler=MALA(η, ...), warmup=0, chains=1)``, the functional
``langevin(x0, ..., potential_fn=U, metropolize=True)``, and a plain for-loop of MALA with
autograd gradients. Every row includes its own set-up (the JIT's trace).

One untimed round leaves out the process's one-off costs (imports, first calls); then
``--rounds`` rounds of every row, interleaved, the order reversed every other round. It
prints the seconds per call, median (min–max), steps/s and min bulk ESS/s of the median
call (``az.ess`` over the d coordinates), the mean acceptance probability, and the ratios
of steps/s, the median of the per-round ratios with their min–max. Targets: probgen's
kernel / BlackJAX ≥ 0.8 and kernel / hand loop ≥ 0.7 (the speed of the kernels), and
pg.mcmc / the same kernel driven directly ≥ 0.9 (issue 12: what pg.mcmc's driver costs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import warnings
from collections.abc import Callable

from machine import (
    add_rounds,
    describe_machine,
    interleave,
    load,
    pin_threads,
    ratios,
    spread,
    timed,
    verdict,
)

pin_threads()  # before jax is imported: XLA reads its flags once
# compilation counted in every row: probgen's persistent XLA cache (on for NumPyro
# programs) would let pg.mcmc, and every scan compiled after it, load what they compile
os.environ["PROBGEN_JAX_CACHE"] = "0"

import arviz as az  # noqa: E402
import blackjax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import numpyro  # noqa: E402
import numpyro.distributions as ndist  # noqa: E402
import pyro  # noqa: E402
import pyro.distributions as pdist  # noqa: E402
import pyro.infer.autoguide  # noqa: E402
import torch  # noqa: E402
from numpyro.infer import init_to_value  # noqa: E402

import probgen as pg  # noqa: E402
from probgen.inference.energy_samplers import langevin  # noqa: E402
from probgen.inference.langevin_kernels import NumPyroLangevin, PyroLangevin  # noqa: E402
from probgen.inference.mala import MALA  # noqa: E402

KERNEL_TARGETS = {"jax": 0.8, "torch": 0.7}  # probgen's kernel / the peer, steps/s
DRIVER_TARGET = 0.9  # pg.mcmc / the same kernel driven directly (issue 12)


# ---------------------------------------------------------------------------------------
# Shared by both tables


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


def run_rows(
    calls: dict[str, Callable[[], tuple[np.ndarray | None, float]]], rounds: int
) -> tuple[dict[str, list[float]], dict[str, tuple[np.ndarray | None, float]]]:
    """Time every call (returning its draws and mean acceptance) interleaved, after one
    untimed round; the seconds per round, and each call's last draws and acceptance (its
    chain is the same every round: only the last is kept, to spare memory)."""
    last: dict[str, tuple[np.ndarray | None, float]] = {}

    def keep(name: str) -> Callable[[], None]:
        def call() -> None:
            last[name] = calls[name]()

        return call

    times = interleave({name: timed(keep(name)) for name in calls}, rounds, warmup=True)
    return {name: [s for s, _ in runs] for name, runs in times.items()}, last


def print_rows(
    labels: dict[str, str],
    steps: int,
    times: dict[str, list[float]],
    last: dict[str, tuple[np.ndarray | None, float]],
) -> None:
    print(
        f"  {'sampler':<48} {'s per call':>18} {'steps/s':>8} {'min ESS':>8} {'ESS/s':>8} "
        f"{'accept':>7}"
    )
    for name, label in labels.items():
        draws, accept = last[name]
        median = statistics.median(times[name])
        ess = min_bulk_ess(draws) if draws is not None else None
        ess_cols = f"{ess:8.0f} {ess / median:8.0f}" if ess is not None else f"{'-':>8} {'-':>8}"
        print(
            f"  {label:<48} {spread(times[name], 3):>18} {steps / median:8.0f} {ess_cols} "
            f"{accept:7.3f}"
        )


def print_ratio(label: str, ours: list[float], theirs: list[float], target: float) -> None:
    """Steps/s ours / theirs per round (= theirs' seconds / ours'), median and min–max."""
    per_round = ratios(theirs, ours)
    median = statistics.median(per_round)
    print(
        f"  {label}: {spread(per_round, 3)}, target ≥ {target}: "
        f"{verdict(median, target, at_least=True)}"
    )


def print_same_chain(label: str, a: np.ndarray, b: np.ndarray) -> None:
    diff = np.abs(np.asarray(a) - np.asarray(b)).max() if np.shape(a) == np.shape(b) else np.inf
    print(f"  same chain: max |{label}| over all draws = {diff:.2e}")


# ---------------------------------------------------------------------------------------
# 1. JAX: probgen's NumPyro kernel and pg.mcmc against BlackJAX, compilation in every row


def jax_benchmark(args: argparse.Namespace, sigma: np.ndarray) -> None:
    target = ndist.MultivariateNormal(
        jnp.zeros(args.dims), scale_tril=jnp.asarray(np.linalg.cholesky(sigma))
    )

    def numpyro_model():
        numpyro.sample("x", target)

    x0 = jnp.asarray(np.random.default_rng(args.seed).standard_normal(args.dims) * 0.1)
    eta, steps, key = args.step_size, args.steps, jax.random.PRNGKey(args.seed)

    def scan(step: Callable, state) -> tuple[np.ndarray, float]:
        """``steps`` steps of ``step(state) -> (state, (draw, accept))`` in a scan that is
        new on every call, so that JAX traces and compiles it as NumPyro does its loop."""

        def run(state):
            return jax.lax.scan(lambda s, _: step(s), state, None, length=steps)[1]

        draws, accept = jax.block_until_ready(jax.jit(run)(state))
        return np.asarray(draws), float(np.mean(accept))

    def make_kernel() -> NumPyroLangevin:  # what MALA(step_size=η) builds, as pg.mcmc would
        return NumPyroLangevin(
            numpyro_model,
            step_size=eta,
            metropolize=True,
            adapt_mass=False,
            init_strategy=init_to_value(values={"x": x0}),
        )

    def run_kernel():
        kernel = make_kernel()
        state = kernel.init(key, 0, {"x": x0}, (), {})

        def step(s):
            s = kernel.sample(s, (), {})
            return s, (s.z["x"], s.accept_prob)

        return scan(step, state)

    # BlackJAX starts from the key that the kernel's init leaves, and splits it the same way
    bj_key = make_kernel().init(key, 0, {"x": x0}, (), {}).rng_key

    def run_blackjax():
        mala = blackjax.mala(target.log_prob, eta)

        def step(carry):
            s, k = carry
            k, step_key = jax.random.split(k)
            s, info = mala.step(step_key, s)
            return (s, k), (s.position, info.acceptance_rate)

        return scan(step, (mala.init(x0), bj_key))

    def run_pgmcmc():
        posterior = pg.mcmc(
            numpyro_model,
            sampler=MALA(step_size=eta, adapt_mass=False),
            chains=1,
            warmup=0,
            draws=steps,
            seed=args.seed,
            init={"x": np.asarray(x0)},
            precision="float64",
            progress=False,
        )
        accept = float(posterior.sample_stats["acceptance_rate"].mean())
        return posterior.samples["x"][0], accept

    labels = {
        "kernel": "probgen NumPyroLangevin (MALA kernel), scan",
        "blackjax": f"blackjax {blackjax.__version__} mala, scan",
        "pg.mcmc": "pg.mcmc(numpyro_model, MALA(η)), whole call",
    }
    calls = {"kernel": run_kernel, "blackjax": run_blackjax, "pg.mcmc": run_pgmcmc}
    times, last = run_rows(calls, args.rounds)

    print(
        f"\n1. JAX: {steps} steps of one chain, η = {eta}; every call includes its tracing "
        f"and XLA compilation;\n   median (min–max) of {args.rounds} interleaved rounds "
        "after an untimed one"
    )
    print_rows(labels, steps, times, last)
    print_same_chain("probgen kernel − blackjax", last["kernel"][0], last["blackjax"][0])
    print_same_chain("pg.mcmc − probgen kernel", last["pg.mcmc"][0], last["kernel"][0])
    print("  steps/s ratios, median (min–max) of the rounds:")
    print_ratio(
        "probgen kernel / BlackJAX", times["kernel"], times["blackjax"], KERNEL_TARGETS["jax"]
    )
    print_ratio(
        "pg.mcmc / probgen kernel driven directly", times["pg.mcmc"], times["kernel"], DRIVER_TARGET
    )


# ---------------------------------------------------------------------------------------
# 2. torch: probgen's Pyro kernel, pg.mcmc and the functional API against a hand loop


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
        # seeded and built as pg.mcmc builds it (the nesting given, not found by a prior
        # draw that would use up random numbers): the two run the same chain
        pyro.set_rng_seed(args.seed)
        kernel = PyroLangevin(
            pyro_model,
            step_size=eta,
            metropolize=True,
            adapt_mass=False,
            init_strategy=pyro.infer.autoguide.init_to_value(values={"x": x0}),
            jit_compile=jit_compile,
            max_plate_nesting=0,
        )
        kernel.setup(0)
        params, total = kernel.initial_params, 0.0
        draws = torch.empty(steps, args.dims, dtype=x0.dtype)
        for i in range(steps):
            params = kernel.sample(params)
            draws[i] = params["x"]
            total += kernel.info["accept_prob"]
        return draws.numpy(), total / steps

    def run_pgmcmc(jit_compile: bool):
        sampler = MALA(step_size=eta, adapt_mass=False, jit_compile=jit_compile)
        posterior = pg.mcmc(
            pyro_model,
            sampler=sampler,
            chains=1,
            warmup=0,
            draws=steps,
            seed=args.seed,
            init={"x": x0},
            precision="float64",
            progress=False,
        )
        accept = float(posterior.sample_stats["acceptance_rate"].mean())
        return posterior.samples["x"][0], accept

    def run_functional():
        torch.manual_seed(args.seed)
        result = langevin(
            x0[None], steps, eta, potential_fn=lambda x: -target.log_prob(x), metropolize=True
        )
        return None, float(result.acceptance_rate.mean())

    def run_hand():
        torch.manual_seed(args.seed)
        return hand_mala(target.log_prob, x0, steps, eta)

    labels = {
        "kernel jit": "PyroLangevin MALA(η, jit_compile=True), loop",
        "pg.mcmc jit": "pg.mcmc(MALA(η, jit_compile=True)), whole call",
        "kernel": "PyroLangevin MALA(η), loop",
        "pg.mcmc": "pg.mcmc(MALA(η)), whole call",
        "functional": "probgen langevin(metropolize=True)",
        "hand": "hand-written torch MALA loop",
    }
    calls = {
        "kernel jit": lambda: run_kernel(True),
        "pg.mcmc jit": lambda: run_pgmcmc(True),
        "kernel": lambda: run_kernel(False),
        "pg.mcmc": lambda: run_pgmcmc(False),
        "functional": run_functional,
        "hand": run_hand,
    }
    times, last = run_rows(calls, args.rounds)

    print(
        f"\n2. torch: {steps} steps of one chain, η = {eta}, float64; every call includes "
        f"its set-up (the JIT's trace);\n   median (min–max) of {args.rounds} interleaved "
        "rounds after an untimed one"
    )
    print_rows(labels, steps, times, last)
    for name in ("pg.mcmc jit", "pg.mcmc"):
        kernel = name.replace("pg.mcmc", "kernel")
        print_same_chain(f"{name} − {kernel}", last[name][0], last[kernel][0])
    print("  steps/s ratios, median (min–max) of the rounds:")
    for name in ("pg.mcmc jit", "pg.mcmc"):
        kernel = name.replace("pg.mcmc", "kernel")
        print_ratio(
            f"{labels[name]} / the kernel driven directly",
            times[name],
            times[kernel],
            DRIVER_TARGET,
        )
    for name in ("kernel jit", "kernel", "functional"):
        print_ratio(
            f"{labels[name]} / hand loop", times[name], times["hand"], KERNEL_TARGETS["torch"]
        )
    print(
        "  The functional and the hand loop draw other random numbers than the kernel, so "
        "their\n  acceptance rates agree with its only statistically."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dims", type=int, default=100, help="dimension d (default 100)")
    parser.add_argument("--rho", type=float, default=0.9, help="Σ_ij = ρ^|i−j| (default 0.9)")
    parser.add_argument(
        "--step-size",
        type=float,
        default=0.023,
        help="fixed MALA step size η (default 0.023: acceptance ≈ 0.57 at d = 100, ρ = 0.9)",
    )
    parser.add_argument("--steps", type=int, default=100_000, help="JAX steps (default 100000)")
    parser.add_argument("--torch-steps", type=int, default=5000, help="torch steps (default 5000)")
    add_rounds(parser)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-torch", action="store_true", help="skip the torch part")
    parser.add_argument("--no-jax", action="store_true", help="skip the JAX part")
    args = parser.parse_args(argv)
    if min(args.steps, args.torch_steps, args.dims) < 1:
        parser.error("--steps, --torch-steps and --dims must be at least 1")

    jax.config.update("jax_enable_x64", True)  # both sides in float64, as torch's
    print(__doc__.split("\n\n")[0])
    print(describe_machine(jax, numpyro, blackjax, pyro, torch, az))
    print(f"target N(0, Σ), Σ_ij = {args.rho}^|i−j|, d = {args.dims}; seed {args.seed}")
    sigma = covariance(args.dims, args.rho)
    if not args.no_jax:
        jax_benchmark(args, sigma)
    if not args.no_torch:
        torch_benchmark(args, sigma)
    print(f"\n{load()} at the end")


if __name__ == "__main__":
    sys.exit(main())
