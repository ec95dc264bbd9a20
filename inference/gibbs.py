"""Systematic-scan Gibbs sampling of Pyro and NumPyro programs, and HMC-within-Gibbs.

One sweep visits the program's latent sites in program order and draws each from its full
conditional p(z_i | z_−i, x) ∝ p(x, z):

- a discrete site with finite support (``fn.has_enumerate_support``) exactly, element by
  element: for each value v of the support, log w_v = log p(x, z_i = v, z_−i), then
  z_i ~ Categorical(softmax(w)). On Pyro the elements of a run of consecutive discrete
  sites are visited in program order, all values of one element in one run of the program
  and the elements along a conditionally independent plate at once
  (``discrete_conditional.py``); NumPyro's ``DiscreteGibbs`` visits them in a fresh
  random order each sweep (a random-permutation scan, as exact and, on a 10-spin chain,
  about six times faster than one block per site);
- a site named in ``conditionals`` from the user's closed-form conditional
  ``conditionals[site](values) -> distribution``, where ``values`` holds the current values
  of all other latent sites;
- the remaining (continuous) sites jointly, by one NUTS (or HMC) transition on the program
  conditioned on every other site: HMC-within-Gibbs. This block sits where its first site
  does in program order; its step size and mass matrix adapt during warm-up, across sweeps.

Every update leaves p(z | x) invariant, so the sweep does too. NumPyro programs run on
NumPyro's composable ``numpyro.infer.gibbs.Gibbs`` with one block per site
(``DiscreteGibbs``, a conditional block, and ``NUTS`` for the rest); Pyro, which has no
Gibbs kernel, runs on ``PyroGibbs`` below. Tests check them against closed-form
correlations, exhaustive enumeration and NUTS on the enumerated program.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpyro.infer
import torch
from numpyro.infer.gibbs import CustomGibbs, DiscreteGibbs
from pyro import poutine
from pyro.infer.autoguide.initialization import InitMessenger
from pyro.infer.mcmc.mcmc_kernel import MCMCKernel

from probgen.errors import ArgumentError
from probgen.inference.discrete_conditional import DiscreteConditionals, DiscreteSite
from probgen.inference.mcmc import PYRO_HMC_STATS, NumPyroHMC, NumPyroNUTS, PyroHMC, PyroNUTS
from probgen.initialization import init_strategy
from probgen.programs import Program

# a block of the scan: ("discrete" | "conditional" | "continuous", site names)
Block = tuple[str, tuple[str, ...]]
# what NumPyro's continuous block publishes that Gibbs records; not its energy, that of a
# conditional, to which E-BFMI does not apply (Pyro's publishes only the first two)
GIBBS_STATS = ("diverging", "step_size", "acceptance_rate")


@dataclass(frozen=True)
class Gibbs:
    """Systematic-scan Gibbs sampler; see the module docstring for the updates.

    ``conditionals`` maps site names to functions ``values -> distribution`` (of the
    program's library) giving the exact full conditional of the site given the current
    ``values`` of all other latent sites. ``continuous`` ("nuts" or "hmc") updates the
    sites that are neither discrete nor given a conditional, adapting towards
    ``target_accept`` during warm-up.
    """

    conditionals: Mapping[str, Callable[[dict[str, Any]], Any]] | None = field(
        default=None, hash=False
    )
    continuous: str = "nuts"
    target_accept: float = 0.8
    name = "gibbs"

    def __post_init__(self):
        if self.continuous not in ("nuts", "hmc"):
            raise ArgumentError(f"continuous must be 'nuts' or 'hmc', got {self.continuous!r}")

    def blocks(self, program: Program) -> list[Block]:
        """The scan over ``program``'s latent sites, in program order.

        A block holds one conditional site, a run of consecutive discrete sites, or all the
        continuous sites (placed where the first of them is).
        """
        conditionals = dict(self.conditionals or {})
        latent = [s for s in program.sites().values() if s.kind == "latent" and not s.enumerated]
        unknown = sorted(set(conditionals) - {s.name for s in latent})
        if unknown:
            raise ArgumentError(
                f"conditionals name {unknown}, which are not latent sites; the latent sites "
                f"are {[s.name for s in latent]}"
            )
        kinds = [
            "conditional" if s.name in conditionals else "discrete" if s.discrete else "continuous"
            for s in latent
        ]
        continuous = tuple(
            s.name for s, kind in zip(latent, kinds, strict=True) if kind == "continuous"
        )
        blocks: list[Block] = []
        for site, kind in zip(latent, kinds, strict=True):
            if kind == "discrete" and blocks and blocks[-1][0] == "discrete":
                blocks[-1] = ("discrete", (*blocks[-1][1], site.name))
            elif kind != "continuous":
                blocks.append((kind, (site.name,)))
            elif site.name == continuous[0]:
                blocks.append((kind, continuous))
        return blocks

    def kernel(self, program: Program, init: str | dict[str, Any] | None) -> Callable[[], Any]:
        """A factory of fresh library kernels for ``program``, one per chain."""
        blocks = self.blocks(program)
        strategy = init_strategy(program.backend, init, program.site_names("latent"))
        conditionals = dict(self.conditionals or {})
        hmc = self.continuous == "hmc"
        if program.backend == "pyro":
            cls = PyroHMC if hmc else PyroNUTS
            nesting = program.max_plate_nesting

            def continuous(model):
                return cls(
                    model,
                    target_accept_prob=self.target_accept,
                    init_strategy=strategy,
                    max_plate_nesting=nesting,
                )

            return lambda: PyroGibbs(program.model, blocks, conditionals, continuous, strategy)
        cls = NumPyroHMC if hmc else NumPyroNUTS
        continuous = partial(cls, target_accept_prob=self.target_accept, init_strategy=strategy)
        return lambda: _numpyro_gibbs(program.model, blocks, conditionals, continuous)


# --- NumPyro: numpyro.infer.gibbs.Gibbs with one block per site ----------------------------


class _NumPyroGibbs(numpyro.infer.gibbs.Gibbs):
    """NumPyro's composite Gibbs kernel, declaring its statistics (``kernels.Kernel``)."""

    def __init__(self, parts: list, sample_stats: dict[str, str]):
        super().__init__(parts)
        self.sample_stats = sample_stats


def _numpyro_gibbs(model, blocks: list[Block], conditionals, continuous) -> _NumPyroGibbs:
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


# --- Pyro ----------------------------------------------------------------------------------


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
