"""The Langevin kernel of Pyro programs (MALA, ULA; ``langevin_kernels`` describes both
libraries' kernels, ``langevin_numpyro`` is the NumPyro twin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from pyro.infer.mcmc.adaptation import WarmupAdapter
from pyro.ops.integrator import potential_grad

from probgen.inference.flat_pyro import PyroFlatKernel
from probgen.inference.langevin import LangevinState
from probgen.inference.langevin_kernels import INITIAL_STEP_SIZE, step_torch


class PyroLangevin(PyroFlatKernel):
    """A Pyro kernel of MALA (``metropolize``) or ULA on the model's unconstrained latents.

    After each ``sample``, ``info`` holds the transition's ``accept_prob`` and ``step_size``.
    """

    def __init__(
        self,
        model: Callable,
        *,
        step_size: float | None,
        metropolize: bool,
        adapt_mass: bool,
        target_accept: float = 0.574,
        **options: Any,
    ):
        super().__init__(model, **options)  # init_strategy, max_plate_nesting, jit_compile
        self._step_size = step_size
        self._metropolize = metropolize
        self._target_accept = target_accept
        self._adapter = WarmupAdapter(
            INITIAL_STEP_SIZE if step_size is None else step_size,
            adapt_step_size=step_size is None,
            target_accept_prob=target_accept,
            adapt_mass_matrix=adapt_mass,
        )

    def setup(self, warmup_steps, *args, **kwargs):
        params, self._potential_fn, _ = self._initialize(args, kwargs)
        self._names = self.ravel.names
        self._warmup_steps, self._t = warmup_steps, 0
        flat = self._flatten(params)
        self._adapter.configure(
            warmup_steps,
            mass_matrix_shape={self._names: (flat.shape[-1],)},
            find_reasonable_step_size_fn=self._find_step_size,
            options={"dtype": flat.dtype, "device": flat.device},
        )
        if self._adapter.adapt_step_size:
            self._adapter.reset_step_size_adaptation(params)
        self._state = LangevinState(flat, *self._logdensity_and_grad(flat))
        self._last = params

    def _flatten(self, z: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.ravel.flatten(z).unsqueeze(0)  # step_torch runs a batch of chains

    def _unflatten(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.ravel.unflatten(flat[0])

    def _logdensity_and_grad(self, flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """log p̃ and its gradient with respect to the one flat leaf that the sites view.

        Pyro's ``potential_grad`` turns the errors in its exception registry (a singular
        Cholesky factor) into a NaN potential, a proposal that is then rejected."""
        with torch.enable_grad():
            grads, potential = potential_grad(
                lambda z: self._potential_fn(self._unflatten(z["flat"])), {"flat": flat.detach()}
            )
        return -potential.reshape(1), -grads["flat"]

    @property
    def _inverse_mass(self) -> torch.Tensor | float:
        if not self._adapter.adapt_mass_matrix:
            return 1.0  # M = I: the transition skips the elementwise products
        return self._adapter.mass_matrix_adapter.inverse_mass_matrix[self._names]

    def _find_step_size(self, z: dict[str, torch.Tensor]) -> float:
        """Double or halve η until one proposal's α crosses the target (Hoffman & Gelman)."""
        flat = self._flatten(z)
        state = LangevinState(flat, *self._logdensity_and_grad(flat))
        seed = int(torch.randint(2**31, ()))

        def above(eta: float) -> bool:
            noise = torch.Generator(device=flat.device).manual_seed(seed)
            step = step_torch(
                state, self._logdensity_and_grad, eta, self._inverse_mass, True, noise
            )
            return bool(step[1] > self._target_accept)

        eta = self._adapter.step_size
        direction = above(eta)
        factor = 2.0 if direction else 0.5
        for _ in range(40):
            if above(eta) != direction:
                break
            eta *= factor
        return eta

    def _start(self, params: dict[str, torch.Tensor]) -> LangevinState:
        """The state at ``params``: the kept one when the driver hands back the last draw."""
        if params is not self._last:
            flat = self._flatten(params)
            self._state = LangevinState(flat, *self._logdensity_and_grad(flat))
        return self._state

    def _finish(self, state: LangevinState, accept_prob, step_size) -> dict[str, torch.Tensor]:
        self._state, self._t = state, self._t + 1
        self._last = self._unflatten(state.position)
        self.info = {"accept_prob": float(accept_prob[0]), "step_size": float(step_size)}
        return self._last

    def sample(self, params):
        step_size = self._adapter.step_size
        state, accept_prob = step_torch(
            self._start(params),
            self._logdensity_and_grad,
            step_size,
            self._inverse_mass,
            self._metropolize,
        )
        z = self._finish(state, accept_prob, step_size)
        if self._t <= self._warmup_steps:
            self._adapter.step(self._t - 1, z, accept_prob[0])
        return z

    def logging(self):
        return self.info  # Pyro's driver turns it into JSON for the progress bar
