"""MCMC on both backends: the libraries' own drivers, kernels and initialisation.

``run`` drives any kernel with Pyro's ``MCMC`` or NumPyro's ``MCMC`` and returns a
``Posterior``; ``NUTS`` and ``HMC`` build the libraries' own kernels. A sampler is a small
frozen dataclass of its settings with ``name`` and ``kernel(program, init)``, which returns
a factory of fresh library kernels (one per chain). Every such kernel declares the
statistics it publishes per draw (``kernels.Kernel``), which ``run`` records under their
ArviZ names; the libraries' NUTS and HMC get their tables here. Pyro chains run one
after another in this process: Pyro's multi-process chains need picklable programs and a
spare core per chain, and gain nothing on a laptop.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
import numpyro.infer
import pyro
import pyro.infer

from probgen import predictive
from probgen.errors import ArgumentError
from probgen.inference.kernels import Kernel, PyroKernel
from probgen.initialization import init_strategy
from probgen.programs import Program, as_numpy, rng_guard
from probgen.results import Posterior

# --- the libraries' NUTS and HMC, with the statistics they publish (kernels.Kernel) -------

# fields of NumPyro's HMCState recorded per draw, by ArviZ name
NUMPYRO_HMC_STATS: Mapping[str, str] = {
    "diverging": "diverging",
    "energy": "energy",
    "n_steps": "num_steps",
    "step_size": "adapt_state.step_size",
    "acceptance_rate": "accept_prob",
}
# keys of the Pyro kernels' ``info`` (``_PyroHMCInfo``), by ArviZ name
PYRO_HMC_STATS: Mapping[str, str] = {"diverging": "diverging", "step_size": "step_size"}


class NumPyroNUTS(numpyro.infer.NUTS):
    """NumPyro's NUTS, declaring the state fields it publishes."""

    sample_stats = NUMPYRO_HMC_STATS


class NumPyroHMC(numpyro.infer.HMC):
    """NumPyro's HMC, declaring the state fields it publishes."""

    sample_stats = NUMPYRO_HMC_STATS


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


# --- the samplers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NUTS:
    """The No-U-Turn sampler of the program's library (Hoffman & Gelman, 2014).

    Warm-up adapts the step size by dual averaging towards ``target_accept`` and a
    diagonal (``dense_mass``: dense) inverse mass matrix from the warm-up draws.
    """

    target_accept: float = 0.8
    dense_mass: bool = False
    name = "nuts"

    def kernel(self, program: Program, init: str | dict[str, Any] | None) -> Callable[[], Any]:
        """A factory of fresh library kernels for ``program``, one per chain."""
        strategy = init_strategy(program.backend, init, program.site_names("latent"))
        options = {"target_accept_prob": self.target_accept, "init_strategy": strategy}
        hmc = self.name == "hmc"
        if program.backend == "pyro":
            cls = PyroHMC if hmc else PyroNUTS
            # Pyro finds the nesting by one prior draw of the program, as raw Pyro does, so
            # that the draws match its draws; improper priors cannot be drawn: say it
            nesting = None if program.proper else program.max_plate_nesting
            return lambda: cls(
                program.model, full_mass=self.dense_mass, max_plate_nesting=nesting, **options
            )
        cls = NumPyroHMC if hmc else NumPyroNUTS
        return lambda: cls(program.model, dense_mass=self.dense_mass, **options)


@dataclass(frozen=True)
class HMC(NUTS):
    """Hamiltonian Monte Carlo with the library's default trajectory length, adapted as NUTS."""

    name = "hmc"


def run(
    program: Program,
    make_kernel: Callable[[], Any],
    *,
    chains: int,
    warmup: int,
    draws: int,
    seed: int,
    progress: bool,
    sampler: str,
) -> Posterior:
    """Draw ``chains`` × ``draws`` samples after ``warmup`` steps with the library's MCMC."""
    driver = _run_pyro if program.backend == "pyro" else _run_numpyro
    samples, stats = driver(program, make_kernel, chains, warmup, draws, seed, progress)
    attrs = {"sampler": sampler, "backend": program.backend, "warmup": warmup}
    return Posterior(samples, stats, program, attrs=attrs)


def _run_numpyro(program, make_kernel, chains, warmup, draws, seed, progress):
    kernel = _declared(make_kernel(), Kernel)
    sources = kernel.sample_stats
    mcmc = numpyro.infer.MCMC(
        kernel,
        num_warmup=warmup,
        num_samples=draws,
        num_chains=chains,
        chain_method="sequential",
        progress_bar=progress,
    )
    with jax.default_device(_jax_device(program.device)):
        mcmc.run(
            jax.random.PRNGKey(seed),
            *program.args,
            extra_fields=tuple(sources.values()),
            **program.kwargs,
        )
    samples = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    fields = mcmc.get_extra_fields(group_by_chain=True)
    stats = {name: np.asarray(fields[source]) for name, source in sources.items()}
    if "n_steps" in stats:
        stats["tree_depth"] = np.floor(np.log2(np.maximum(stats["n_steps"], 1))).astype(int) + 1
    return samples, stats


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


def _declared(kernel: Any, protocol: type) -> Any:
    """``kernel``, after checking that it declares its statistics (``kernels.Kernel``)."""
    if not isinstance(kernel, protocol):
        raise ArgumentError(
            f"the sampler built a {type(kernel).__name__}, which does not declare the "
            "statistics it publishes: give its kernels a sample_stats table (and, for Pyro, "
            "an info mapping), as probgen.inference.kernels.Kernel describes"
        )
    return kernel


def _run_pyro(program, make_kernel, chains, warmup, draws, seed, progress):
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
            _declared(make_kernel(), PyroKernel),
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


def _jax_device(device: str):
    if device == "cpu":
        return jax.devices("cpu")[0]
    index = int(device.split(":")[1]) if ":" in device else 0
    return jax.devices("gpu")[index]
