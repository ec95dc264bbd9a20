"""What probgen's layer costs: ``pg.mcmc`` against the raw library's MCMC on every program of
the corpus (``tests/programs``), and the fixed cost of the layer on the coin.

Run by hand from the repository root::

    .venv/bin/python benchmarks/overhead.py                       # corpus and coin, ~30 min
    .venv/bin/python benchmarks/overhead.py --only scan_ar2,coin  # some programs
    .venv/bin/python benchmarks/overhead.py --help                # rounds, warm-up, draws

Corpus: every NUTS case of the corpus that has a raw run (``compare="draws"``), run by
``corpus.run_probgen`` (``pg.mcmc``) and ``corpus.run_raw`` (Pyro's or NumPyro's ``MCMC``
as their documentation writes it) with the same seed, one chain, ``--warmup`` and
``--draws`` (300 each by default: the corpus test's 60 and 40 are too short to time, see
the note on fixed costs below). Each timed call is the whole call, a fresh ``MCMC`` object
each time, so both sides trace and compile their sampling loop (NumPyro compiles it again
for every new ``MCMC``) and both pay it. One untimed round warms up the process (imports,
JAX start-up); then ``--rounds`` rounds (at least 5), the two calls back to back, the order
alternating per round. The table gives each side's median seconds with the spread (min–max), the
median of the per-round ratios probgen / raw (target ≤ 1.05), and probgen's own layer
measured directly: the median seconds of each ``pg.mcmc`` call spent outside the library's
``MCMC.run`` ("layer s"), and 1 + layer / raw, the ratio that layer alone makes. The
runs vary by ±15 % from round to round on this machine, which the whole-call ratio
carries and the layer's figure does not.

Coin: the fixed cost of the layer on the smallest program (θ ~ Beta(1, 1), 7 heads in 10),
as the sum of the medians of the parts that probgen adds: the detection of the library
(one partial run), the program's trace and data checks (``Program.sites``,
``check_data``), and the later ``to_arviz()`` (with the pointwise log-likelihood) and
``check()`` (target: ≤ 0.3 s). Beside it, t(``pg.mcmc``) − t(raw ``MCMC``), 1 chain ×
(``--coin-warmup`` + ``--coin-draws``), whose median blurs the first two parts in the noise
of the sampling.

On the corpus, probgen's part is the trace that reads the program's sites and checks its
data (``probgen.tracing``): one eager run of a Pyro program, one staged (uncompiled) trace
of a NumPyro program, about 0.01–0.05 s in all, and the conversion of the draws.
probgen's persistent XLA cache is off here (``PROBGEN_JAX_CACHE=0``): in one process it
would serve the raw side's compilations too. torch and XLA run on one thread.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from machine import add_rounds, describe_machine, interleave, load, pin_threads, spread, timed

pin_threads()  # before jax is imported: XLA reads its flags once
# the layer's cost with compilation counted on both sides: probgen's persistent XLA cache
# (probgen.jax_cache) would also serve raw NumPyro's compilations in this one process
os.environ["PROBGEN_JAX_CACHE"] = "0"

import jax  # noqa: E402
import numpyro  # noqa: E402
import pyro  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "programs"))

import corpus  # noqa: E402
from test_corpus import CASES  # noqa: E402

import probgen as pg  # noqa: E402
from probgen.models import registry  # noqa: E402
from probgen.programs import detect_backend, prepare  # noqa: E402

RATIO_TARGET = 1.05
FIXED_TARGET = 0.3


def interleaved(ours: Callable, theirs: Callable, rounds: int) -> tuple[list, list]:
    """The seconds of ``rounds`` rounds of both calls, after an untimed round, the order
    alternating."""
    runs = interleave({"ours": timed(ours), "theirs": timed(theirs)}, rounds, warmup=True)
    return [s for s, _ in runs["ours"]], [s for s, _ in runs["theirs"]]


@contextlib.contextmanager
def library_time() -> Iterator[list[float]]:
    """The seconds spent inside the libraries' ``MCMC.run`` during the block: the rest of a
    ``pg.mcmc`` call is probgen's own layer."""
    spent: list[float] = []
    originals = {cls: cls.run for cls in (numpyro.infer.MCMC, pyro.infer.MCMC)}

    def timed(original):
        def run(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                spent.append(time.perf_counter() - start)

        return run

    for cls, original in originals.items():
        cls.run = timed(original)
    try:
        yield spent
    finally:
        for cls, original in originals.items():
            cls.run = original


def corpus_table(args: argparse.Namespace) -> list[str]:
    corpus.WARMUP, corpus.DRAWS = args.warmup, args.draws
    cases = [c for c in CASES if c.method == "mcmc" and c.compare == "draws"]
    if args.only:
        cases = [c for c in cases if c.name in args.only]
    print(
        f"corpus: {len(cases)} programs, 1 chain × ({args.warmup} warm-up + {args.draws} "
        f"draws), {args.rounds} rounds; seconds: median (min–max)"
    )
    print(
        f"  {'program':<30} {'pg.mcmc':>22} {'raw MCMC':>22} {'ratio':>6} "
        f"{'layer s':>7} {'1+layer/raw':>11}"
    )
    failed = []
    for case in cases:
        with library_time() as inside:

            def ours(case=case) -> tuple[float, float]:
                """pg.mcmc's seconds, and those outside the library's MCMC.run (its layer)."""
                before = len(inside)
                seconds, _ = timed(lambda: corpus.run_probgen(case))()
                return seconds, seconds - sum(inside[before:])

            runs = interleave(
                {"ours": ours, "theirs": timed(lambda case=case: corpus.run_raw(case))},
                args.rounds,
                warmup=True,
            )
        jax.clear_caches()  # every call compiles afresh: without this, memory runs out
        ours, own = [s for s, _ in runs["ours"]], [layer for _, layer in runs["ours"]]
        theirs = [s for s, _ in runs["theirs"]]
        ratio = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
        layer = statistics.median(own)
        layer_ratio = 1 + layer / statistics.median(theirs)
        flag = "" if ratio <= RATIO_TARGET else "  > target"
        if flag:
            failed.append(case.id)
        print(
            f"  {case.id:<30} {spread(ours):>22} {spread(theirs):>22} {ratio:6.3f} "
            f"{layer:7.3f} {layer_ratio:11.3f}{flag}",
            flush=True,
        )
    return failed


def coin_table(args: argparse.Namespace) -> list[str]:
    entry = registry.get("coin")
    data = entry.data()
    n, k = data["n"], data["k"]
    settings = dict(warmup=args.coin_warmup, draws=args.coin_draws)
    print(
        f"\ncoin: fixed cost of probgen's layer, 1 chain × ({settings['warmup']} + "
        f"{settings['draws']}), {args.rounds} rounds; seconds: median (min–max)"
    )
    failed = []
    for backend in ("numpyro", "pyro"):
        model = entry.program(backend)

        def ours(model=model):
            return pg.mcmc(model, n, k=k, chains=1, seed=0, progress=False, **settings)

        def theirs(model=model, backend=backend):
            if backend == "numpyro":
                mcmc = numpyro.infer.MCMC(
                    numpyro.infer.NUTS(model),
                    num_warmup=settings["warmup"],
                    num_samples=settings["draws"],
                    progress_bar=False,
                )
                mcmc.run(jax.random.PRNGKey(0), n, k=k)
            else:
                pyro.set_rng_seed(0)
                mcmc = pyro.infer.MCMC(
                    pyro.infer.NUTS(model),
                    warmup_steps=settings["warmup"],
                    num_samples=settings["draws"],
                    disable_progbar=True,
                )
                mcmc.run(n, k=torch.tensor(k))
            return mcmc.get_samples()

        a, b = interleaved(ours, theirs, args.rounds)
        fixed = [x - y for x, y in zip(a, b, strict=True)]
        print(f"  {backend}: pg.mcmc {spread(a)}, raw {spread(b)}; pg.mcmc − raw {spread(fixed)}")
        posterior = ours()

        def to_arviz(posterior=posterior):
            posterior._idata = None  # built once and kept: build it afresh each time
            return posterior.to_arviz()

        inside = {  # inside pg.mcmc: pg.mcmc − raw above is their sum, blurred by noise
            "detection": lambda model=model: detect_backend(model, (n,), {"k": k}),
            "trace and data checks": lambda model=model: prepare(
                model, (n,), {"k": k}
            ).check_data(),
        }
        after = {"to_arviz() with log-likelihood": to_arviz, "check()": posterior.check}
        cost = 0.0
        for name, part in (inside | after).items():
            part()
            times = [timed(part)()[0] for _ in range(args.rounds)]
            cost += statistics.median(times)
            print(f"    {name:<34} {spread(times, 3)}")
        flag = "" if cost <= FIXED_TARGET else "  > target"
        if flag:
            failed.append(f"coin-{backend}")
        print(f"    fixed cost (the four parts): {cost:.3f} s (target ≤ {FIXED_TARGET}){flag}")
    return failed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_rounds(parser)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--coin-warmup", type=int, default=200)
    parser.add_argument("--coin-draws", type=int, default=200)
    parser.add_argument(
        "--only", type=lambda s: set(s.split(",")), help="comma-separated pattern names"
    )
    args = parser.parse_args(argv)
    print(describe_machine(pg, pyro, numpyro, jax, torch))
    failed = []
    if not args.only or args.only - {"coin"}:
        failed += corpus_table(args)
    if not args.only or "coin" in args.only:
        failed += coin_table(args)
    print(f"\nover target: {', '.join(failed)}" if failed else "\nevery figure within target")
    print(f"{load()} at the end")


if __name__ == "__main__":
    main()
