"""Minimum bulk ESS per second of NUTS on eight schools (non-centred): probgen vs NumPyro.

Run by hand from the repository root::

    .venv/bin/python benchmarks/mcmc_eight_schools.py            # full run, several minutes
    .venv/bin/python benchmarks/mcmc_eight_schools.py --no-pyro  # the NumPyro comparison only
    .venv/bin/python benchmarks/mcmc_eight_schools.py --profile  # where pg.mcmc spends time

It times three sampling calls, each with the same data and seed:

1. ``pg.mcmc`` on the NumPyro program (``numpyro_model``), 4 chains × (1000 warm-up +
   1000 draws), progress off;
2. NumPyro's own ``MCMC(NUTS(model), ..., chain_method="sequential", progress_bar=False)``
   with the same settings, a fresh ``MCMC`` object per call as ``pg.mcmc`` builds one;
3. ``pg.mcmc`` on the Pyro program (``pyro_model``), 1 chain × (1000 + 1000) by default.

The figure is min ESS/s: the smallest ``az.ess(method="bulk")`` over every scalar
component of the posterior (mu, tau, theta_tilde[j], theta[j]), divided by the wall-clock
seconds of the whole sampling call, warm-up and JAX compilation included.

NumPyro is timed in three regimes, and probgen and NumPyro always in the same one:

* cold: the first call in a fresh Python process (imports excluded; JAX start-up, tracing
  and XLA compilation included), one process per call, the variants alternating;
* warm: later calls in one process, the two variants interleaved (order alternating per
  round) after an untimed warm-up round. Both still compile: NumPyro traces and compiles
  its sampling loop again for each new ``MCMC`` object (and, with ``progress_bar=False``,
  once per chain), so a "warm JIT cache" exists only through JAX's persistent cache:
* warm + XLA cache: as warm, but with JAX's persistent compilation cache switched on (in a
  temporary folder), so repeated XLA compilations are read back from disk; this is the
  closest both variants get to excluding compilation.

Each regime has ``--repeats`` rounds of one probgen and one NumPyro call, run back to back.
The results table gives the best (fastest) and the median run. The final table gives the
ratio probgen / NumPyro of min ESS/s as the median of the per-round ratios (pairs of calls
made at nearly the same time, so slow drifts of the machine's load cancel), and beside it
the ratio of the two best runs. The target is a ratio ≥ 0.95: probgen's layer should add
no cost. The load average is printed too, as other processes inflate and scatter timings.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import multiprocessing
import os
import pstats
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import arviz as az
import jax
import numpy as np
import numpyro
import pyro
import torch
from machine import describe_machine
from numpyro.infer import MCMC, NUTS

import probgen as pg
from probgen.models.bayes import eight_schools_noncentered as eight_schools

TARGET_RATIO = 0.95
# A run: wall-clock seconds, min bulk ESS, and a digest of the draws (to check that the
# two NumPyro variants drew the very same numbers)
Run = dict[str, Any]


# ---------------------------------------------------------------------------------------
# The timed calls: each returns a Run


def min_bulk_ess(samples: dict[str, np.ndarray]) -> float:
    """The smallest bulk ESS over all scalar components of draws shaped (chains, draws, ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ess = az.ess(az.convert_to_dataset(samples), method="bulk")
    return float(min(np.min(ess[name].values) for name in ess.data_vars))


def _digest(samples: dict[str, np.ndarray]) -> str:
    h = hashlib.sha1()
    for name in sorted(samples):
        h.update(name.encode())
        h.update(np.ascontiguousarray(samples[name], dtype=np.float32).tobytes())
    return h.hexdigest()[:12]


def _run(seconds: float, samples: dict[str, np.ndarray]) -> Run:
    return {"seconds": seconds, "ess": min_bulk_ess(samples), "digest": _digest(samples)}


def time_probgen(model: Callable, settings: dict[str, int]) -> Run:
    """One ``pg.mcmc`` call on ``model`` (the Pyro or the NumPyro program), timed whole."""
    data = eight_schools.data()
    start = time.perf_counter()
    posterior = pg.mcmc(
        model, **data, sampler="nuts", chains=settings["chains"], warmup=settings["warmup"],
        draws=settings["draws"], seed=settings["seed"], progress=False,
    )
    seconds = time.perf_counter() - start  # pg.mcmc returns numpy arrays: nothing pending
    return _run(seconds, posterior.samples)


def time_numpyro(settings: dict[str, int]) -> Run:
    """NumPyro's ``MCMC`` called directly: build, run, fetch the draws as numpy arrays."""
    data = eight_schools.data()
    start = time.perf_counter()
    mcmc = MCMC(
        NUTS(eight_schools.numpyro_model),
        num_warmup=settings["warmup"],
        num_samples=settings["draws"],
        num_chains=settings["chains"],
        chain_method="sequential",
        progress_bar=False,
    )
    mcmc.run(jax.random.PRNGKey(settings["seed"]), **data)
    draws = jax.device_get(mcmc.get_samples(group_by_chain=True))
    samples = {k: np.asarray(v) for k, v in draws.items()}
    seconds = time.perf_counter() - start
    return _run(seconds, samples)


NUMPYRO_VARIANTS: dict[str, Callable[[dict[str, int]], Run]] = {
    "probgen": lambda settings: time_probgen(eight_schools.numpyro_model, settings),
    "numpyro": time_numpyro,
}


# ---------------------------------------------------------------------------------------
# Workers: each runs in a fresh process (spawned), so that "cold" means cold


def _enable_compile_cache(folder: str) -> None:
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def cold_worker(variant: str, settings: dict[str, int]) -> Run:
    """The first sampling call of a fresh process."""
    return NUMPYRO_VARIANTS[variant](settings)


def cold_rounds(settings: dict[str, int], repeats: int) -> dict[str, list[Run]]:
    """``repeats`` rounds of first calls, each in its own fresh process, order alternating."""
    runs: dict[str, list[Run]] = {name: [] for name in NUMPYRO_VARIANTS}
    for round_ in range(1, repeats + 1):
        names = list(NUMPYRO_VARIANTS)
        for name in names if round_ % 2 == 0 else names[::-1]:
            runs[name].append(in_fresh_process(cold_worker, name, settings))
            label = f"round {round_}/{repeats}"
            print(f"    {label:<12} {name:<8} {runs[name][-1]['seconds']:7.2f} s", flush=True)
    return runs


def interleaved_worker(
    settings: dict[str, int], repeats: int, cache_dir: str | None
) -> dict[str, list[Run]]:
    """An untimed warm-up round, then ``repeats`` rounds, the variants' order alternating."""
    if cache_dir is not None:
        _enable_compile_cache(cache_dir)
    runs: dict[str, list[Run]] = {name: [] for name in NUMPYRO_VARIANTS}
    for round_ in range(repeats + 1):
        names = list(NUMPYRO_VARIANTS)
        for name in names if round_ % 2 == 1 else names[::-1]:
            run = NUMPYRO_VARIANTS[name](settings)
            label = "warm-up" if round_ == 0 else f"round {round_}/{repeats}"
            print(f"    {label:<12} {name:<8} {run['seconds']:7.2f} s", flush=True)
            if round_ > 0:
                runs[name].append(run)
    return runs


def pyro_worker(settings: dict[str, int], repeats: int) -> list[Run]:
    """``repeats`` calls of ``pg.mcmc`` on the Pyro program; the first one is cold."""
    runs = []
    for i in range(repeats):
        runs.append(time_probgen(eight_schools.pyro_model, settings))
        print(f"    run {i + 1}/{repeats}     pyro     {runs[-1]['seconds']:7.2f} s", flush=True)
    return runs


def profile_worker(settings: dict[str, int]) -> None:
    """Profile a cold and a warm ``pg.mcmc`` call; print where time goes besides MCMC.run."""
    data = eight_schools.data()
    for label in ("cold (first call in process)", "warm (second call)"):
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        pg.mcmc(
            eight_schools.numpyro_model, **data, chains=settings["chains"],
            warmup=settings["warmup"], draws=settings["draws"], seed=settings["seed"],
            progress=False,
        )
        profiler.disable()
        total = time.perf_counter() - start
        stats = pstats.Stats(profiler).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
        inside = [
            ct for (file, _, name), (_, _, _, ct, _) in stats.items()
            if name == "run" and file.endswith(os.path.join("numpyro", "infer", "mcmc.py"))
        ]
        run_s = max(inside, default=0.0)
        print(f"\n  {label}: pg.mcmc {total:.3f} s (under cProfile), "
              f"numpyro MCMC.run {run_s:.3f} s, everything else {1e3 * (total - run_s):.1f} ms")
        print("  probgen functions (cumulative ms, calls), slowest first:")
        ours = [
            (ct, nc, file, line, name) for (file, line, name), (_, nc, _, ct, _) in stats.items()
            if f"{os.sep}probgen{os.sep}" in file or f"{os.sep}inference{os.sep}" in file
        ]
        for ct, nc, file, line, name in sorted(ours, reverse=True)[:12]:
            where = f"{os.path.basename(os.path.dirname(file))}/{os.path.basename(file)}:{line}"
            print(f"    {1e3 * ct:10.1f} ms  {nc:5d}×  {name}  ({where})")


def in_fresh_process(fn: Callable, *args: Any) -> Any:
    """Call ``fn(*args)`` in a newly spawned Python process and return its result."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(fn, *args).result()


# ---------------------------------------------------------------------------------------
# Reporting


def ess_per_s(run: Run) -> float:
    return run["ess"] / run["seconds"]


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r["seconds"])


def describe(runs: list[Run]) -> str:
    """Columns: ESS/s of the best run and median ESS/s; seconds likewise; the best run's ESS."""
    fastest = best(runs)
    median_rate = median_s = "-"
    if len(runs) > 1:
        median_rate = f"{statistics.median(ess_per_s(r) for r in runs):.1f}"
        median_s = f"{statistics.median(r['seconds'] for r in runs):.2f}"
    return (f"{ess_per_s(fastest):8.1f}  {median_rate:>8}  {fastest['seconds']:8.2f}  "
            f"{median_s:>8}  {fastest['ess']:7.0f}")


def print_header(args: argparse.Namespace) -> None:
    print(__doc__.split("\n\n")[0])
    print(describe_machine(numpyro, jax, pyro, torch, az))
    print(f"NumPyro runs: {args.chains} chains × ({args.warmup} warm-up + {args.draws} draws), "
          f"seed {args.seed}, {args.repeats} timed repeats per regime")
    if not args.no_pyro:
        print(f"Pyro runs:    {args.pyro_chains} chain(s) × ({args.pyro_warmup} warm-up + "
              f"{args.pyro_draws} draws), {args.pyro_repeats} run(s)")
    print("ESS/s = min over all scalar components of az.ess(method='bulk'), divided by the "
          "wall-clock\nseconds of the whole sampling call (warm-up, tracing and JAX compilation "
          "included).\n")


def ratio_line(regime: str, ours: list[Run], theirs: list[Run]) -> str:
    """probgen / NumPyro: median of the per-round ratios, and the ratio of the best runs."""
    per_round = [ess_per_s(a) / ess_per_s(b) for a, b in zip(ours, theirs, strict=True)]
    paired = statistics.median(per_round)
    of_best = ess_per_s(best(ours)) / ess_per_s(best(theirs))
    verdict = "ok" if paired >= TARGET_RATIO else f"BELOW {TARGET_RATIO}"
    rounds = " ".join(f"{r:.3f}" for r in per_round)
    return (f"  {regime:<22} {paired:7.3f}  {of_best:11.3f}   {verdict:<11} {rounds}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chains", type=int, default=4, help="NumPyro chains (default 4)")
    parser.add_argument("--warmup", type=int, default=1000, help="NumPyro warm-up steps")
    parser.add_argument("--draws", type=int, default=1000, help="NumPyro draws per chain")
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed interleaved rounds per NumPyro regime (default 5)")
    parser.add_argument("--pyro-chains", type=int, default=1, help="Pyro chains (default 1)")
    parser.add_argument("--pyro-warmup", type=int, default=1000, help="Pyro warm-up steps")
    parser.add_argument("--pyro-draws", type=int, default=1000, help="Pyro draws per chain")
    parser.add_argument("--pyro-repeats", type=int, default=2,
                        help="Pyro runs; the first is cold (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-pyro", action="store_true", help="skip the (slow) Pyro runs")
    parser.add_argument("--profile", action="store_true",
                        help="only profile pg.mcmc on the NumPyro program, cold and warm")
    args = parser.parse_args(argv)
    if min(args.repeats, args.pyro_repeats) < 1:
        parser.error("--repeats and --pyro-repeats must be at least 1")

    settings = {"chains": args.chains, "warmup": args.warmup, "draws": args.draws,
                "seed": args.seed}
    if args.profile:
        print("Profiling pg.mcmc(numpyro_model, ...) in a fresh process:")
        in_fresh_process(profile_worker, settings)
        return
    print_header(args)

    regimes = run_numpyro_regimes(settings, args.repeats)
    pyro_runs = []
    if not args.no_pyro:
        pyro_settings = {"chains": args.pyro_chains, "warmup": args.pyro_warmup,
                         "draws": args.pyro_draws, "seed": args.seed}
        print("Pyro, pg.mcmc (one fresh process; Pyro compiles nothing):")
        pyro_runs = in_fresh_process(pyro_worker, pyro_settings, args.pyro_repeats)
    report(regimes, pyro_runs)


def run_numpyro_regimes(settings: dict[str, int], repeats: int) -> dict[str, dict]:
    """Time probgen and NumPyro cold, warm, and warm with the persistent XLA cache."""
    print("NumPyro, cold (each call the first of its own fresh process):")
    cold = cold_rounds(settings, repeats)
    print("NumPyro, warm (one process, interleaved):")
    warm = in_fresh_process(interleaved_worker, settings, repeats, None)
    print("NumPyro, warm + XLA cache (one process, interleaved, persistent compilation cache):")
    with tempfile.TemporaryDirectory(prefix="jax-cache-") as cache_dir:
        cached = in_fresh_process(interleaved_worker, settings, repeats, cache_dir)
    return {"cold": cold, "warm": warm, "warm + XLA cache": cached}


def report(regimes: dict[str, dict], pyro_runs: list[Run]) -> None:
    """The results table, the identical-draws check and the probgen / NumPyro ratios."""
    print("\nResults (best = fastest run; median over the timed runs):")
    print(f"  {'call':<26} {'regime':<18} {'ESS/s':>8}  {'median':>8}  {'seconds':>8}  "
          f"{'median':>8}  {'min ESS':>7}")
    rows = [("pg.mcmc, NumPyro program", "probgen"), ("NumPyro MCMC directly", "numpyro")]
    for regime, results in regimes.items():
        for label, name in rows:
            print(f"  {label:<26} {regime:<18} {describe(results[name])}")
    if pyro_runs:
        print(f"  {'pg.mcmc, Pyro program':<26} {'cold (1st run)':<18} "
              f"{describe(pyro_runs[:1])}")
        if len(pyro_runs) > 1:
            print(f"  {'pg.mcmc, Pyro program':<26} {'warm (later runs)':<18} "
                  f"{describe(pyro_runs[1:])}")
    digests = {r["digest"] for results in regimes.values() for runs in results.values()
               for r in runs}
    same = "yes" if len(digests) == 1 else f"NO ({len(digests)} different digests)"
    print(f"  probgen and NumPyro drew identical numbers in every NumPyro run: {same}")

    print(f"\nprobgen / NumPyro, min ESS/s (target ≥ {TARGET_RATIO}; verdict on the median of "
          "per-round ratios)")
    print(f"  {'regime':<22} {'median':>7}  {'best / best':>11}   {'verdict':<11} per round")
    for regime, results in regimes.items():
        print(ratio_line(regime, results["probgen"], results["numpyro"]))
    print("  Both variants include JAX compilation in 'cold' and 'warm' (NumPyro compiles its "
          "loop\n  anew for every MCMC object); in 'warm + XLA cache' both read their XLA "
          "executables\n  from the persistent cache, so compilation is (mostly) left out.")

if __name__ == "__main__":
    sys.exit(main())
