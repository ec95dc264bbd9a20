"""Pyro's MCMC driver and its NUTS and HMC, publishing their per-draw statistics
(``probgen.inference.mcmc`` dispatches here for a Pyro program)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pyro
import pyro.infer

from probgen import predictive
from probgen.inference.kernels import PyroKernel
from probgen.inference.mcmc import declared
from probgen.programs import as_numpy, rng_guard

# keys of the Pyro kernels' ``info`` (``_PyroHMCInfo``), by ArviZ name
PYRO_HMC_STATS: Mapping[str, str] = {"diverging": "diverging", "step_size": "step_size"}


class _PyroHMCInfo:
    """Pyro's HMC or NUTS (the class this is mixed into), publishing ``info`` per draw.

    ``info["diverging"]`` says whether this draw's trajectory diverged. Pyro's public
    record of that is ``diagnostics()["divergences"]``, the indices (counted from the end
    of warm-up) of the draws that diverged; warm-up divergences are not recorded, and
    ``diagnostics()`` divides by the number of draws after warm-up, so it is asked only
    once there is one. ``info["step_size"]`` is the step size ε of the draw.
    """

    sample_stats = PYRO_HMC_STATS
    info: Mapping[str, Any] = {}  # replaced after each draw, never changed in place

    def setup(self, warmup_steps: int, *args, **kwargs) -> None:
        super().setup(warmup_steps, *args, **kwargs)
        self._warmup_draws, self._draws = warmup_steps, 0

    def sample(self, params: dict) -> dict:
        params = super().sample(params)
        draw = self._draws - self._warmup_draws  # the index Pyro records a divergence at
        self._draws += 1
        divergences = self.diagnostics()["divergences"] if draw >= 0 else []
        self.info = {
            "diverging": bool(divergences) and divergences[-1] == draw,
            "step_size": float(self.step_size),
        }
        return params


class PyroNUTS(_PyroHMCInfo, pyro.infer.NUTS):
    """Pyro's NUTS, publishing each draw's divergence and step size as ``info``."""


class PyroHMC(_PyroHMCInfo, pyro.infer.HMC):
    """Pyro's HMC, publishing each draw's divergence and step size as ``info``."""


class _PyroStats:
    """An MCMC hook recording, after each draw, the statistics that the kernel declares:
    ``{name: kernel.info[source] for name, source in kernel.sample_stats.items()}``."""

    def __init__(self):
        self.rows: list[dict[str, Any]] = []

    def __call__(self, kernel: PyroKernel, params, stage: str, i: int) -> None:
        if stage.startswith("Sample"):
            info = kernel.info
            self.rows.append({name: info[source] for name, source in kernel.sample_stats.items()})

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.array([row[k] for row in self.rows]) for k in self.rows[0]}


def run(program, make_kernel, chains, warmup, draws, seed, progress):
    with rng_guard():  # seeded for this run only: the user's stream is put back after
        pyro.set_rng_seed(seed)
        return _pyro_chains(program, make_kernel, chains, warmup, draws, seed, progress)


def _pyro_chains(program, make_kernel, chains, warmup, draws, seed, progress):
    """The chains one after another, each a ``pyro.infer.MCMC`` run on the global RNG: with
    one chain, the run that ``pyro.set_rng_seed(seed); MCMC(kernel, ...).run(...)`` makes."""
    per_chain, stats = [], []
    for _ in range(chains):
        record = _PyroStats()
        mcmc = pyro.infer.MCMC(
            declared(make_kernel(), PyroKernel),
            num_samples=draws,
            warmup_steps=warmup,
            num_chains=1,
            disable_progbar=not progress,
            hook_fn=record,
        )
        with program.torch_device(), _quiet_pyro_mcmc(not progress):
            mcmc.run(*program.args, **program.kwargs)
        per_chain.append({k: as_numpy(v) for k, v in mcmc.get_samples().items()})
        stats.append(record.arrays())
    samples = {k: np.stack([c[k] for c in per_chain]) for k in per_chain[0]}
    deterministic = program.site_names("deterministic")
    if deterministic:
        flat = {k: v.reshape((-1, *v.shape[2:])) for k, v in samples.items()}
        values = predictive.site_values(program, flat, deterministic, seed=seed)
        samples.update({k: v.reshape((chains, draws, *v.shape[1:])) for k, v in values.items()})
    return samples, {k: np.stack([s[k] for s in stats]) for k in stats[0]}


@contextlib.contextmanager
def _quiet_pyro_mcmc(quiet: bool) -> Iterator[None]:
    """Without a progress bar, skip the per-draw diagnostics that Pyro's MCMC logs.

    Pyro logs them at INFO on ``pyro.infer.mcmc`` for the progress bar alone; raising that
    logger's level to WARNING while sampling saves their formatting on every draw.
    """
    logger = logging.getLogger("pyro.infer.mcmc")
    level = logger.level
    if quiet:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
