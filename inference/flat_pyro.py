"""The base of probgen's Pyro kernels on a flat vector of unconstrained latents
(``kernels`` describes the family; ``flat_numpyro`` is the NumPyro twin)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pyro.infer.mcmc.mcmc_kernel
import pyro.infer.mcmc.util
import torch

from probgen.inference.kernels import METROPOLIS_STATS
from probgen.inference.ravel import Ravel


class PyroFlatKernel(pyro.infer.mcmc.mcmc_kernel.MCMCKernel):
    """A Pyro kernel on the unconstrained latents, as ``{site: tensor}`` and flattened.

    ``jit_compile`` traces the potential once with the PyTorch JIT (Pyro's own option),
    which removes the cost of re-running the program's Python at every evaluation; it
    suits programs whose control flow does not depend on the latent values. After each
    ``sample``, ``info`` describes the transition (``PyroKernel``); a subclass resumes from
    the ``params`` that the driver passes in, which are its last draw unless the driver
    says otherwise.
    """

    sample_stats: Mapping[str, str] = METROPOLIS_STATS

    def __init__(
        self,
        model: Callable,
        *,
        init_strategy: Callable,
        max_plate_nesting: int | None = None,
        jit_compile: bool = False,
    ):
        self.model = model
        self.transforms = None
        self.info: dict[str, Any] = {}
        self._init_strategy = init_strategy
        self._max_plate_nesting = max_plate_nesting
        self._jit_compile = jit_compile
        self._initial_params = None

    @property
    def initial_params(self) -> dict[str, torch.Tensor]:
        return self._initial_params

    @initial_params.setter
    def initial_params(self, params: dict[str, torch.Tensor]) -> None:
        self._initial_params = params

    def _initialize(self, args, kwargs) -> tuple[dict[str, torch.Tensor], Callable, Any]:
        """The starting latents, the potential U and the model's trace; sets ``ravel``."""
        params, potential_fn, self.transforms, trace = pyro.infer.mcmc.util.initialize_model(
            self.model,
            args,
            kwargs,
            max_plate_nesting=self._max_plate_nesting,
            init_strategy=self._init_strategy,
            initial_params=self._initial_params,
            jit_compile=self._jit_compile,
            skip_jit_warnings=True,
        )
        self._initial_params = params
        self.ravel = Ravel.like(params)
        return params, potential_fn, trace

    def diagnostics(self):
        return {}
