"""MH for a Pyro program: the kernel that ``mh.RandomWalk`` and ``independence.py`` build
(``mh.py`` holds the step it takes; ``mh_numpyro`` is the NumPyro twin)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch

from probgen.inference.flat_pyro import PyroFlatKernel
from probgen.inference.mh import MakeProposal, MHState, adapt_log_scale, step_torch


class PyroMH(PyroFlatKernel):
    """MH for a Pyro program on its unconstrained space, as ``NumPyroMH``.

    ``make_proposal(sites, unravel)`` returns ``propose(x, σ)`` (torch's global RNG,
    which ``pyro.set_rng_seed`` seeds) and ``log_ratio(x, y)`` or None. After each
    ``sample()``, ``info`` holds the transition's ``accept_prob`` and σ as ``step_size``.
    """

    def __init__(
        self,
        model: Callable,
        make_proposal: MakeProposal,
        max_plate_nesting: int,
        *,
        scale: float | None = None,
        target_accept: float | None = None,
        sample_stats: Mapping[str, str] | None = None,
        **options: Any,
    ):
        # options: init_strategy, jit_compile
        super().__init__(model, max_plate_nesting=max_plate_nesting, **options)
        self._make_proposal = make_proposal
        self._scale = scale
        self._target = target_accept
        if sample_stats is not None:
            self.sample_stats = sample_stats

    def setup(self, warmup_steps, *args, **kwargs):
        params, potential_fn, trace = self._initialize(args, kwargs)
        ravel = self.ravel
        sites = {k: trace.nodes[k]["fn"] for k in ravel.names}
        self._propose, self._log_ratio = self._make_proposal(sites, ravel.unflatten)
        self._unravel = ravel.unflatten
        self._logdensity = lambda x: -potential_fn(ravel.unflatten(x))
        self._last = None
        self._start(params)
        size = self._state.position.numel()
        self._log_scale = math.log(self._scale or 2.38 / math.sqrt(max(size, 1)))
        self._warmup = warmup_steps
        self._t = 0

    def _start(self, params: dict[str, torch.Tensor]) -> MHState:
        """The state at ``params``: the kept one when the driver hands back the last draw."""
        if params is not self._last:
            with torch.no_grad():
                flat = self.ravel.flatten(params)
                self._state = MHState(flat, self._logdensity(flat))
            self._last = params
        return self._state

    def sample(self, params):
        scale = math.exp(self._log_scale)
        with torch.no_grad():
            self._state, info = step_torch(
                self._start(params),
                self._logdensity,
                lambda x: self._propose(x, scale),
                self._log_ratio,
            )
        accept_prob = float(info.accept_prob)
        if self._target is not None and self._t < self._warmup:
            self._log_scale = adapt_log_scale(self._log_scale, accept_prob, self._t, self._target)
        self._t += 1
        self.info = {"accept_prob": accept_prob, "step_size": scale}
        self._last = self._unravel(self._state.position)
        return self._last

    def logging(self):
        return {"acc. prob": f"{self.info['accept_prob']:.2f}"}
