"""The base of probgen's NumPyro kernels on a flat vector of unconstrained latents
(``kernels`` describes the family; ``flat_pyro`` is the Pyro twin)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpyro.infer.mcmc
import numpyro.infer.util

from probgen.inference.kernels import METROPOLIS_STATS, tolerant_potential


class NumPyroFlatKernel(numpyro.infer.mcmc.MCMCKernel):
    """A NumPyro kernel whose state holds the unconstrained latents as ``z``.

    Its state has the fields that ``sample_stats`` names (``Kernel``), which NumPyro's
    ``MCMC`` collects by default (``default_fields``).
    """

    sample_stats: Mapping[str, str] = METROPOLIS_STATS

    def __init__(self, model: Callable, *, init_strategy: Callable):
        self._model = model
        self._init_strategy = init_strategy
        self._postprocess_fn = None

    @property
    def model(self) -> Callable:
        return self._model

    @property
    def sample_field(self) -> str:
        return "z"

    @property
    def default_fields(self) -> tuple[str, ...]:
        return (self.sample_field, *self.sample_stats.values())

    def postprocess_fn(self, args, kwargs):
        return self._postprocess_fn(*args, **(kwargs or {}))

    def _initialize(
        self, rng_key, init_params, model_args, model_kwargs, *, validate_grad: bool = True
    ) -> tuple[dict[str, Any], Callable, dict]:
        """The starting latents ``z``, the potential U(z) and the model's trace."""
        info, potential_gen, self._postprocess_fn, trace = numpyro.infer.util.initialize_model(
            rng_key,
            self._model,
            init_strategy=self._init_strategy,
            dynamic_args=True,
            model_args=model_args,
            model_kwargs=model_kwargs,
            validate_grad=validate_grad,
        )
        z = info.z if init_params is None else init_params
        potential_fn = potential_gen(*model_args, **(model_kwargs or {}))
        return z, tolerant_potential(potential_fn), trace
