"""What every benchmark shares: one thread for torch and XLA, the line about the machine
its timings come from, and interleaved rounds with their median and spread."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TypeVar

T = TypeVar("T")

# fewer rounds give no spread worth the name (issue 12)
MIN_ROUNDS = 5
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def pin_threads() -> None:
    """Run torch and XLA on one thread, in this process and in every process it starts.

    On a shared 2-core machine, more threads than free cores slow both libraries down
    many times and scatter the timings. XLA reads ``XLA_FLAGS`` once, when JAX starts:
    call this before anything imports jax. torch reads ``OMP_NUM_THREADS`` at import.
    """
    if "jax" in sys.modules:
        raise RuntimeError("pin_threads() must run before jax is imported")
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
    if XLA_ONE_THREAD not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {XLA_ONE_THREAD}".strip()
    if torch := sys.modules.get("torch"):
        torch.set_num_threads(1)


def load() -> str:
    """'load average 0.8, 1.0, 1.1': other processes raise it, inflating and scattering
    timings."""
    return "load average " + ", ".join(f"{v:.1f}" for v in os.getloadavg())


def describe_machine(*libraries: ModuleType) -> str:
    """'python 3.11.7, torch 2.13.0, …; 2 CPUs, torch 1 thread, XLA 1 thread, load average
    0.8, 1.0, 1.1': the versions of ``libraries``, the CPUs, the threads and the load."""
    versions = "".join(f", {lib.__name__} {lib.__version__}" for lib in libraries)
    threads = []
    if torch := sys.modules.get("torch"):
        threads.append(f"torch {torch.get_num_threads()} thread(s)")
    if XLA_ONE_THREAD in os.environ.get("XLA_FLAGS", ""):
        threads.append("XLA 1 thread")
    return (
        f"python {platform.python_version()}{versions}; {os.cpu_count()} CPUs, "
        f"{', '.join([*threads, load()])}"
    )


def add_rounds(
    parser: argparse.ArgumentParser,
    *names: str,
    default: int = MIN_ROUNDS,
    note: str = "timed rounds",
) -> None:
    """The option ``names`` (default ``--rounds``, alias ``--repeats``): a count of rounds,
    at least ``MIN_ROUNDS``."""

    def rounds(text: str) -> int:
        if int(text) < MIN_ROUNDS:
            raise argparse.ArgumentTypeError(f"at least {MIN_ROUNDS}, got {text}")
        return int(text)

    parser.add_argument(
        *(names or ("--rounds", "--repeats")),
        type=rounds,
        default=default,
        help=f"{note}, at least {MIN_ROUNDS} (default {default})",
    )


def interleave(
    calls: Mapping[str, Callable[[], T]],
    rounds: int,
    *,
    warmup: bool = False,
    report: Callable[[str, str, T], None] | None = None,
) -> dict[str, list[T]]:
    """Each call once per round, ``rounds`` rounds, after one untimed round if ``warmup``;
    each call's results, round by round. The order is reversed every other round, so that
    every pair of calls swaps order from one round to the next, and a drift of the load
    falls on both sides of each pair. ``report(round label, name, result)`` after each call.
    """
    names = list(calls)
    results: dict[str, list[T]] = {name: [] for name in names}
    for r in range(-1 if warmup else 0, rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            result = calls[name]()
            if r >= 0:
                results[name].append(result)
            if report:
                report("warm-up" if r < 0 else f"round {r + 1}/{rounds}", name, result)
    return results


def timed(call: Callable[[], T]) -> Callable[[], tuple[float, T]]:
    """``call``, returning its wall-clock seconds beside its result."""

    def run() -> tuple[float, T]:
        start = time.perf_counter()
        result = call()
        return time.perf_counter() - start, result

    return run


def spread(values: list[float], digits: int = 2) -> str:
    """'1.23 (1.10–1.40)': the median and, in brackets, the min–max."""
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}–{max(values):.{digits}f})"
    )


def ratios(ours: list[float], theirs: list[float]) -> list[float]:
    """Per round, ours / theirs: the two calls of a round ran back to back, under nearly
    the same load."""
    return [a / b for a, b in zip(ours, theirs, strict=True)]


def verdict(value: float, target: float, *, at_least: bool) -> str:
    """'ok', or how ``value`` misses ``target`` (a floor when ``at_least``, else a ceiling)."""
    if (value >= target) if at_least else (value <= target):
        return "ok"
    return f"BELOW {target}" if at_least else f"ABOVE {target}"
