"""What importing probgen costs, against importing the libraries it builds on.

Run by hand from the repository root::

    .venv/bin/python benchmarks/import_time.py               # 7 rounds
    .venv/bin/python benchmarks/import_time.py --rounds 11

Each figure is one fresh interpreter (``python -c``), timed inside it from just before the
import to just after, so that the interpreter's own start-up is left out on every side:

- ``import probgen``: the package alone (its entry points load on first use);
- ``probgen.mcmc``: ``import probgen`` and the lookup of ``pg.mcmc``, which loads the API
  layer: what a user's first call pays before any sampling;
- ``import pyro``, ``import numpyro`` and both: what a Pyro user, a NumPyro user and a user
  of both pay for their library alone;
- ``probgen --help``: the whole command (``python -m probgen --help``), start-up included,
  as a user waits for it.

Rounds are interleaved: every round runs each statement once, in an order that rotates
from round to round. It prints the median and the spread (min–max) of each, the ratios of
probgen's figures to the libraries' (targets: ``import probgen`` and ``probgen.mcmc`` for a
Pyro user ≤ 1.1 × ``import pyro``; ``probgen --help`` ≤ 1 s), and which of torch, JAX,
Pyro, NumPyro, ArviZ, matplotlib and pandas each probgen statement leaves loaded.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import jax
import numpyro
import pyro
from machine import describe_machine

import probgen as pg

HEAVY = ("torch", "jax", "pyro", "numpyro", "arviz", "matplotlib", "pandas")
TIMED = {
    "import probgen": "import probgen",
    "probgen.mcmc": "import probgen; probgen.mcmc",
    "import pyro": "import pyro",
    "import numpyro": "import numpyro",
    "import pyro, numpyro": "import pyro, numpyro",
}
PYRO_TARGET = 1.1
HELP_TARGET = 1.0


def timed_import(statement: str) -> tuple[float, list[str]]:
    """Seconds that ``statement`` takes in a fresh interpreter, and the heavy libraries it
    leaves in ``sys.modules``."""
    code = (
        "import json, sys, time\n"
        "start = time.perf_counter()\n"
        f"{statement}\n"
        "seconds = time.perf_counter() - start\n"
        f"print(json.dumps([seconds, [m for m in {HEAVY!r} if m in sys.modules]]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    seconds, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    return seconds, loaded


def timed_help() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "probgen", "--help"], capture_output=True, check=True)
    return time.perf_counter() - start


def spread(times: list[float]) -> str:
    return f"{statistics.median(times):6.2f} ({min(times):.2f}–{max(times):.2f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    print(describe_machine(pg, pyro, numpyro, jax))
    names = [*TIMED, "probgen --help"]
    times: dict[str, list[float]] = {name: [] for name in names}
    loaded: dict[str, list[str]] = {}
    for r in range(args.rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            if name == "probgen --help":
                times[name].append(timed_help())
            else:
                seconds, loaded[name] = timed_import(TIMED[name])
                times[name].append(seconds)
    print(f"{args.rounds} interleaved rounds, fresh interpreters; seconds: median (min–max)")
    for name in names:
        modules = f"  loads {', '.join(loaded[name]) or 'none of them'}" if name in loaded else ""
        print(f"  {name:<22} {spread(times[name])}{modules}")
    median = {name: statistics.median(t) for name, t in times.items()}
    print("ratios (of the medians):")
    for ours in ("import probgen", "probgen.mcmc"):
        for theirs in ("import pyro", "import numpyro", "import pyro, numpyro"):
            ratio = median[ours] / median[theirs]
            flag = "  > target" if theirs == "import pyro" and ratio > PYRO_TARGET else ""
            print(f"  {ours} / {theirs:<22} {ratio:6.2f}{flag}")
    flag = "  > target" if median["probgen --help"] > HELP_TARGET else ""
    print(f"  probgen --help: {median['probgen --help']:.2f} s (target ≤ {HELP_TARGET}){flag}")


if __name__ == "__main__":
    main()
