"""What every probgen kernel on a program's unconstrained latents shares, once per library.

The MH, Langevin and SGLD kernels all run on one flat vector x of the program's latent
sites mapped to the unconstrained space, with the potential U(x) = −log p̃(x) that the
libraries' ``initialize_model`` builds (the log joint plus the log-Jacobians of the
transforms). These bases do that set-up and the plumbing that the libraries' MCMC
drivers expect; the subclasses write only their transition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpyro.infer.mcmc
import numpyro.infer.util
import pyro.infer.mcmc.mcmc_kernel
import pyro.infer.mcmc.util
import torch

from probgen.inference.ravel import Ravel


class NumPyroFlatKernel(numpyro.infer.mcmc.MCMCKernel):
    """A NumPyro kernel whose state holds the unconstrained latents as ``z``.

    ``sample_stats`` maps state fields to the ArviZ names that ``pg.mcmc`` records.
    """

    sample_stats: dict[str, str] = {"accept_prob": "acceptance_rate", "step_size": "step_size"}

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
        return z, potential_gen(*model_args, **(model_kwargs or {})), trace


class PyroFlatKernel(pyro.infer.mcmc.mcmc_kernel.MCMCKernel):
    """A Pyro kernel on the unconstrained latents, as ``{site: tensor}`` and flattened.

    ``jit_compile`` traces the potential once with the PyTorch JIT (Pyro's own option),
    which removes the cost of re-running the program's Python at every evaluation; it
    suits programs whose control flow does not depend on the latent values. After each
    draw, ``stats`` holds the transition's statistics under their ArviZ names.
    """

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
        self.stats: dict[str, float] = {}
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
