"""Gibbs for NumPyro programs: ``numpyro.infer.gibbs.Gibbs`` with one block per site (``gibbs.py``
gives the method; ``gibbs_pyro`` is the Pyro twin)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import partial

import numpyro.infer
from numpyro.infer.gibbs import CustomGibbs, DiscreteGibbs

from probgen.inference.gibbs import GIBBS_STATS, Block


class _NumPyroGibbs(numpyro.infer.gibbs.Gibbs):
    """NumPyro's composite Gibbs kernel, declaring its statistics (``kernels.Kernel``)."""

    def __init__(self, parts: list, sample_stats: dict[str, str]):
        super().__init__(parts)
        self.sample_stats = sample_stats


def numpyro_gibbs(model, blocks: list[Block], conditionals, continuous) -> _NumPyroGibbs:
    """The composite kernel; its statistics are the continuous block's, in its state."""
    parts, stats = [], {}
    for i, (kind, names) in enumerate(blocks):
        if kind == "discrete":
            parts.append((DiscreteGibbs(model), names))
        elif kind == "conditional":
            parts.append((_Conditional(model, names[0], conditionals[names[0]]), names))
        else:
            block = continuous(model)
            parts.append((block, None))
            stats = {k: f"block_states.{i}.{block.sample_stats[k]}" for k in GIBBS_STATS}
    return _NumPyroGibbs(parts, stats)


def _draw(site: str, conditional: Callable, *, rng_key, gibbs_sites, hmc_sites) -> dict:
    return {site: conditional(dict(hmc_sites)).sample(rng_key)}


class _Conditional(CustomGibbs):
    """A block drawing one site from the user's full conditional ``conditional(values)``.

    NumPyro's ``CustomGibbs`` holds no model; this one carries the program's so that a
    composite made only of conditional blocks is accepted.
    """

    def __init__(self, model: Callable, site: str, conditional: Callable):
        super().__init__(partial(_draw, site, conditional))
        self.model = model

    def wrap_model(self, wrapper: Callable) -> _Conditional:
        kernel = copy.copy(self)
        kernel.model = wrapper(self.model)
        return kernel
