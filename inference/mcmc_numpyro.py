"""NumPyro's MCMC driver and its NUTS and HMC, publishing their per-draw statistics
(``probgen.inference.mcmc`` dispatches here for a NumPyro program)."""

from __future__ import annotations

from collections.abc import Mapping

import jax
import numpy as np
import numpyro.infer

from probgen.inference.kernels import Kernel
from probgen.inference.mcmc import declared

# fields of NumPyro's HMCState recorded per draw, by ArviZ name
NUMPYRO_HMC_STATS: Mapping[str, str] = {
    "diverging": "diverging",
    "energy": "energy",
    "n_steps": "num_steps",
    "step_size": "adapt_state.step_size",
    "acceptance_rate": "accept_prob",
}


class NumPyroNUTS(numpyro.infer.NUTS):
    """NumPyro's NUTS, declaring the state fields it publishes."""

    sample_stats = NUMPYRO_HMC_STATS


class NumPyroHMC(numpyro.infer.HMC):
    """NumPyro's HMC, declaring the state fields it publishes."""

    sample_stats = NUMPYRO_HMC_STATS


def run(program, make_kernel, chains, warmup, draws, seed, progress):
    kernel = declared(make_kernel(), Kernel)
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


def _jax_device(device: str):
    if device == "cpu":
        return jax.devices("cpu")[0]
    index = int(device.split(":")[1]) if ":" in device else 0
    return jax.devices("gpu")[index]
