"""SGLD's kernel for Pyro programs (``sgld.py`` gives the method; ``sgld_numpyro`` is the
NumPyro twin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyro.poutine
import torch
from pyro.infer.autoguide.initialization import InitMessenger
from pyro.poutine.util import site_is_subsample

from probgen.inference.langevin import LangevinState
from probgen.inference.langevin_kernels import step_torch
from probgen.inference.langevin_pyro import PyroLangevin

if TYPE_CHECKING:
    from probgen.inference.sgld import SGLD


class PyroSGLD(PyroLangevin):
    """A Pyro kernel of SGLD: the unadjusted ``step_torch``; the potential re-runs the model,
    so every gradient sees a fresh subsample drawn from torch's RNG.

    After each ``sample``, ``info`` holds ``accept_prob`` (1) and ``step_size`` (η_t).
    """

    def __init__(
        self,
        model: Callable,
        sampler: SGLD,
        **options: Any,
    ):
        # options: init_strategy, max_plate_nesting
        super().__init__(
            model, step_size=sampler.step_size, metropolize=False, adapt_mass=False, **options
        )
        self._sampler = sampler

    def setup(self, warmup_steps, *args, **kwargs):
        """MALA's setup, with the potential swapped for the minibatch one.

        Pyro's ``initialize_model`` refuses subsample plates, so it runs on the model with
        the subsample sites fixed (conditioned) to one draw; only its starting point and
        transforms are kept.
        """
        # under the init strategy, as elsewhere: improper priors cannot be sampled
        initialized = InitMessenger(self._init_strategy)(self.model)
        trace = pyro.poutine.trace(initialized).get_trace(*args, **kwargs)
        fixed = {k: s["value"] for k, s in trace.nodes.items() if site_is_subsample(s)}
        model, self.model = self.model, pyro.poutine.condition(self.model, fixed)
        try:
            super().setup(warmup_steps, *args, **kwargs)
        finally:
            self.model = model
        self._potential_fn = self._minibatch_potential(args, kwargs)
        self._state = LangevinState(
            self._state.position, *self._logdensity_and_grad(self._state.position)
        )

    def _minibatch_potential(self, args: tuple, kwargs: dict) -> Callable:
        """The potential on unconstrained latents z, re-running the model (fresh subsample):

        U(z) = −log p̂(T⁻¹(z)) − Σ_sites log |det ∂T⁻¹(z)/∂z|, T = ``self.transforms``
        (constrained → unconstrained), as in Pyro's own potential, with the plate's N/B.
        """

        def potential(params: dict[str, torch.Tensor]) -> torch.Tensor:
            constrained = {k: self.transforms[k].inv(v) for k, v in params.items()}
            model = pyro.poutine.condition(self.model, constrained)
            log_joint = pyro.poutine.trace(model).get_trace(*args, **kwargs).log_prob_sum()
            for k, t in self.transforms.items():
                log_joint = log_joint - t.log_abs_det_jacobian(constrained[k], params[k]).sum()
            return -log_joint

        return potential

    def sample(self, params):
        step_size = self._sampler.step_size_at(self._t)
        state, accept_prob = step_torch(
            self._start(params), self._logdensity_and_grad, step_size, 1.0, metropolize=False
        )
        return self._finish(state, accept_prob, step_size)
