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
- ``pyro + probgen.mcmc`` and ``numpyro + probgen.mcmc``: a Pyro user's and a NumPyro
  user's imports with probgen's, against their library's alone;
- ``probgen --help``: the whole command (``python -m probgen --help``), start-up included,
  as a user waits for it.

Rounds are interleaved: every round runs each statement once, the order reversed every
other round (``--rounds``, at least 5, default 7). It prints the median and the spread
(min–max) of each; the ratios of a Pyro user's and a NumPyro user's imports with probgen's
to their library's alone in the same round, median (min–max), against the target ≤ 1.1;
``probgen --help`` against ≤ 1 s; and which of torch, JAX, Pyro, NumPyro, ArviZ, matplotlib
and pandas each statement leaves loaded. Threads are not pinned: nothing computes, and a
user's import runs without the variables that pin them.
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
from machine import add_rounds, describe_machine, interleave, load, ratios, spread, verdict

import probgen as pg

HEAVY = ("torch", "jax", "pyro", "numpyro", "arviz", "matplotlib", "pandas")
TIMED = {
    "import probgen": "import probgen",
    "probgen.mcmc": "import probgen; probgen.mcmc",
    "import pyro": "import pyro",
    "import numpyro": "import numpyro",
    "import pyro, numpyro": "import pyro, numpyro",
    "pyro + probgen.mcmc": "import pyro, probgen; probgen.mcmc",
    "numpyro + probgen.mcmc": "import numpyro, probgen; probgen.mcmc",
}
# each user's imports with probgen's, against the library's alone (target ≤ 1.1)
USERS = {"pyro + probgen.mcmc": "import pyro", "numpyro + probgen.mcmc": "import numpyro"}
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
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    return seconds, loaded


def timed_help() -> tuple[float, None]:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "probgen", "--help"], capture_output=True, check=True)
    return time.perf_counter() - start, None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_rounds(parser, default=7)
    args = parser.parse_args(argv)
    print(describe_machine(pg, pyro, numpyro, jax))
    calls = {name: lambda s=statement: timed_import(s) for name, statement in TIMED.items()}
    runs = interleave(calls | {"probgen --help": timed_help}, args.rounds)
    times = {name: [seconds for seconds, _ in rs] for name, rs in runs.items()}
    print(f"{args.rounds} interleaved rounds, fresh interpreters; seconds: median (min–max)")
    for name, rs in runs.items():
        loaded = rs[-1][1]
        modules = f"  loads {', '.join(loaded) or 'none of them'}" if loaded is not None else ""
        print(f"  {name:<22} {spread(times[name]):>18}{modules}")
    print("ratios per round, median (min–max):")
    for ours, theirs in USERS.items():
        per_round = ratios(times[ours], times[theirs])
        judged = verdict(statistics.median(per_round), PYRO_TARGET, at_least=False)
        print(f"  {ours} / {theirs:<16} {spread(per_round):>18}  target ≤ {PYRO_TARGET}: {judged}")
    help_s = statistics.median(times["probgen --help"])
    judged = verdict(help_s, HELP_TARGET, at_least=False)
    print(f"  probgen --help: {help_s:.2f} s (target ≤ {HELP_TARGET} s: {judged})")
    print(f"{load()} at the end")


if __name__ == "__main__":
    main()
