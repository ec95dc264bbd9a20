"""MCMC on both backends: the libraries' own drivers, kernels and initialisation.

``run`` drives any kernel with Pyro's ``MCMC`` or NumPyro's ``MCMC`` and returns a
``Posterior``; ``nuts`` builds the libraries' NUTS/HMC kernels. Pyro chains run one
after another in this process: Pyro's multi-process chains need picklable programs and a
spare core per chain, and gain nothing on a laptop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np
import numpyro.infer
import pyro
import pyro.infer
import torch

from probgen import predictive
from probgen.initialization import init_strategy
from probgen.programs import Program, as_numpy
from probgen.results import Posterior

# NumPyro state fields recorded per draw, and their ArviZ sample_stats names
_NUMPYRO_STATS = {
    "diverging": "diverging",
    "energy": "energy",
    "num_steps": "n_steps",
    "adapt_state.step_size": "step_size",
    "accept_prob": "acceptance_rate",
}


def nuts(
    program: Program,
    sampler: str,
    *,
    dense_mass: bool,
    target_accept: float,
    init: str | dict[str, Any] | None,
) -> Callable[[], Any]:
    """A factory of the library's NUTS or HMC kernel for ``program``.

    Both adapt the step size by dual averaging towards ``target_accept`` and a diagonal
    (or, with ``dense_mass``, dense) mass matrix during warm-up.
    """
    strategy = init_strategy(program.backend, init, program.site_names("latent"))
    options = {"target_accept_prob": target_accept, "init_strategy": strategy}
    if program.backend == "pyro":
        cls = pyro.infer.NUTS if sampler == "nuts" else pyro.infer.HMC
        # a known nesting spares Pyro a forward run, which improper priors cannot take
        nesting = program.max_plate_nesting
        return lambda: cls(
            program.model, full_mass=dense_mass, max_plate_nesting=nesting, **options
        )
    cls = numpyro.infer.NUTS if sampler == "nuts" else numpyro.infer.HMC
    return lambda: cls(program.model, dense_mass=dense_mass, **options)


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
    mcmc = numpyro.infer.MCMC(
        make_kernel(),
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
            extra_fields=tuple(_NUMPYRO_STATS),
            **program.kwargs,
        )
    samples = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    fields = mcmc.get_extra_fields(group_by_chain=True)
    stats = {_NUMPYRO_STATS[k]: np.asarray(v) for k, v in fields.items() if k in _NUMPYRO_STATS}
    if "n_steps" in stats:
        stats["tree_depth"] = np.floor(np.log2(np.maximum(stats["n_steps"], 1))).astype(int) + 1
    return samples, stats


class _PyroStats:
    """An MCMC hook recording, per draw, what Pyro's kernels expose publicly."""

    def __init__(self):
        self.diverging: list[bool] = []
        self.step_size: list[float] = []
        self._divergences = 0

    def __call__(self, kernel, params, stage: str, i: int) -> None:
        if not stage.startswith("Sample"):
            return
        divergences = len(kernel.diagnostics().get("divergences", ()))
        self.diverging.append(divergences > self._divergences)
        self._divergences = divergences
        self.step_size.append(float(kernel.step_size))


def _run_pyro(program, make_kernel, chains, warmup, draws, seed, progress):
    pyro.set_rng_seed(seed)
    per_chain, stats = [], []
    for _ in range(chains):
        record = _PyroStats()
        mcmc = pyro.infer.MCMC(
            make_kernel(),
            num_samples=draws,
            warmup_steps=warmup,
            num_chains=1,
            disable_progbar=not progress,
            hook_fn=record,
        )
        with torch.device(program.device):
            mcmc.run(*program.args, **program.kwargs)
        per_chain.append({k: as_numpy(v) for k, v in mcmc.get_samples().items()})
        stats.append({"diverging": record.diverging, "step_size": record.step_size})
    samples = {k: np.stack([c[k] for c in per_chain]) for k in per_chain[0]}
    deterministic = program.site_names("deterministic")
    if deterministic:
        flat = {k: v.reshape((-1, *v.shape[2:])) for k, v in samples.items()}
        values = predictive.site_values(program, flat, deterministic, seed=seed)
        samples.update({k: v.reshape((chains, draws, *v.shape[1:])) for k, v in values.items()})
    return samples, {k: np.array([s[k] for s in stats]) for k in stats[0]}


def _jax_device(device: str):
    if device == "cpu":
        return jax.devices("cpu")[0]
    index = int(device.split(":")[1]) if ":" in device else 0
    return jax.devices("gpu")[index]
