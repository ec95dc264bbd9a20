"""Gibbs for Pyro programs: a systematic-scan kernel driven by ``pyro.infer.MCMC``
(``gibbs.py`` gives the method; ``gibbs_numpyro`` is the NumPyro twin)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from pyro import poutine
from pyro.infer.autoguide.initialization import InitMessenger
from pyro.infer.mcmc.mcmc_kernel import MCMCKernel

from probgen.inference.discrete_conditional import DiscreteConditionals, DiscreteSite
from probgen.inference.gibbs import Block
from probgen.inference.mcmc_pyro import PYRO_HMC_STATS


class PyroGibbs(MCMCKernel):
    """Systematic-scan Gibbs kernel for Pyro programs, driven by ``pyro.infer.MCMC``.

    Its parameters are the constrained values of all latent sites (``transforms`` is
    empty). The continuous block is a Pyro NUTS/HMC kernel built once on the program
    conditioned on a dict that each sweep refills with the other sites' current values;
    its cached potential is cleared before each of its transitions, and its warm-up
    adaptation runs over the first ``warmup`` sweeps. After each sweep, ``info`` is that
    block's (``PyroNUTS``): whether its transition diverged, and its step size.
    """

    def __init__(
        self,
        model: Callable,
        blocks: list[Block],
        conditionals: Mapping[str, Callable],
        continuous: Callable[[Callable], Any],
        init: Callable,
    ):
        self.model = model
        self.transforms: dict = {}
        continuous_block = any(kind == "continuous" for kind, _ in blocks)
        self.sample_stats = PYRO_HMC_STATS if continuous_block else {}
        self.info: dict[str, Any] = {}
        self._blocks = blocks
        self._conditionals = conditionals
        self._fixed: dict[str, torch.Tensor] = {}  # read by the conditioned program
        self._continuous = continuous
        self._init = init
        self._nuts = None
        self._discrete: dict[str, DiscreteSite] = {}
        self._values: dict[str, torch.Tensor] = {}

    def setup(self, warmup_steps: int, *args, **kwargs) -> None:
        initialized = InitMessenger(self._init)(self.model)
        with torch.no_grad():
            trace = poutine.trace(initialized).get_trace(*args, **kwargs)
        latent = [name for _, names in self._blocks for name in names]
        self._values = {name: trace.nodes[name]["value"].detach() for name in latent}
        if any(kind == "discrete" for kind, _ in self._blocks):
            self._conditionals_of = DiscreteConditionals(
                self.model, initialized, args, kwargs, trace
            )
        for kind, names in self._blocks:
            if kind == "discrete":
                for name in names:
                    self._discrete[name] = self._conditionals_of.prepare(name, self._values)
            elif kind == "continuous":
                self._fixed.update({k: v for k, v in self._values.items() if k not in names})
                self._nuts = self._continuous(poutine.condition(self.model, data=self._fixed))
                self._nuts.setup(warmup_steps, *args, **kwargs)
                start = self._nuts.initial_params
                self._values.update({k: self._nuts.transforms[k].inv(start[k]) for k in names})

    @property
    def initial_params(self) -> dict[str, torch.Tensor]:
        return self._values

    @initial_params.setter
    def initial_params(self, params: dict[str, torch.Tensor]) -> None:
        self._values = dict(params)

    def sample(self, params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        values = dict(params)
        for kind, names in self._blocks:
            if kind == "discrete":
                for name in names:
                    values[name] = self._conditionals_of.update(self._discrete[name], values)
            elif kind == "conditional":
                others = {k: v for k, v in values.items() if k != names[0]}
                with torch.no_grad():
                    values[names[0]] = self._conditionals[names[0]](others).sample()
            else:
                values.update(self._update_continuous(names, values))
        return values

    def _update_continuous(self, names, values: dict[str, torch.Tensor]) -> dict:
        """One NUTS transition of the continuous sites given all the others."""
        nuts = self._nuts
        self._fixed.update({k: v for k, v in values.items() if k not in names})
        nuts.clear_cache()  # its cached potential belongs to the old conditioning values
        z = nuts.sample({k: nuts.transforms[k](values[k]) for k in names})
        self.info = nuts.info
        return {k: nuts.transforms[k].inv(z[k]).detach() for k in names}

    def logging(self):
        return self._nuts.logging() if self._nuts is not None else {}

    def diagnostics(self):
        return self._nuts.diagnostics() if self._nuts is not None else {}
