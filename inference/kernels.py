"""The kernel protocol, and what every probgen kernel on unconstrained latents shares.

``Kernel`` is what ``pg.mcmc`` needs of a library kernel beyond its library's
``MCMCKernel`` interface: the per-draw statistics it publishes, declared the same way in
both libraries (see ``Kernel``). Every kernel that a probgen sampler builds follows it:
probgen's own kernels here and in the sampler modules, and the libraries' NUTS/HMC, whose
tables ``mcmc.py`` declares.

The MH, Langevin and SGLD kernels all run on one flat vector x of the program's latent
sites mapped to the unconstrained space, with the potential U(x) = −log p̃(x) that the
libraries' ``initialize_model`` builds (the log joint plus the log-Jacobians of the
transforms). The bases below do that set-up and the plumbing that the libraries' MCMC
drivers expect; the subclasses write only their transition. Their potentials run with the
libraries' argument validation off (NumPyro's here, ``tolerant_potential``; Pyro's ``MCMC``
turns its own off): a proposal that leaves the support or gives a distribution an invalid
parameter has U = +∞ or NaN, which every kernel's accept step rejects, rather than raising
the library's ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpyro
import numpyro.infer.mcmc
import numpyro.infer.util
import pyro.infer.mcmc.mcmc_kernel
import pyro.infer.mcmc.util
import torch

from probgen.inference.ravel import Ravel


@runtime_checkable
class Kernel(Protocol):
    """A Pyro or NumPyro MCMC kernel that declares the statistics it publishes per draw.

    ``sample_stats`` maps each ArviZ ``sample_stats`` name that ``pg.mcmc`` records
    (``"acceptance_rate"``, ``"step_size"``, ``"diverging"``, ...) to where its value
    comes from:

    - a NumPyro kernel: a field of its state, dotted for nested ones
      (``"adapt_state.step_size"``), as ``numpyro.infer.MCMC.run(extra_fields=...)`` takes
      them;
    - a Pyro kernel: a key of ``info``, the mapping that the kernel sets after each
      ``sample(params)`` to describe that transition (``PyroKernel``).
    """

    sample_stats: Mapping[str, str]


@runtime_checkable
class PyroKernel(Kernel, Protocol):
    """A Pyro kernel of the protocol: ``info`` describes the last transition."""

    info: Mapping[str, Any]


def tolerant_potential(potential_fn: Callable) -> Callable:
    """A NumPyro ``potential_fn`` (U = −log p̃) evaluated with NumPyro's validation off.

    Validated, a distribution built from an invalid parameter (an ordered vector that
    overflowed to inf, a negative scale) raises ``ValueError`` wherever JAX does not trace,
    as in MALA's step-size search; unvalidated, its log density is −∞ or NaN there, so U is
    +∞ or NaN and the proposal is rejected (``metropolis.py``), in warm-up as in sampling.
    Pyro's ``MCMC`` driver already runs every kernel with validation off.
    """

    def potential(*args: Any, **kwargs: Any) -> Any:
        with numpyro.validation_enabled(False):
            return potential_fn(*args, **kwargs)

    return potential


# what a Metropolis-type transition publishes, under the same field names in both libraries
METROPOLIS_STATS: Mapping[str, str] = {"acceptance_rate": "accept_prob", "step_size": "step_size"}


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
