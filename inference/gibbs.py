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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from probgen import lazy
from probgen.errors import ArgumentError
from probgen.initialization import init_strategy
from probgen.programs import Program

gibbs_numpyro = lazy.load("probgen.inference.gibbs_numpyro", globals())
gibbs_pyro = lazy.load("probgen.inference.gibbs_pyro", globals())
mcmc_numpyro = lazy.load("probgen.inference.mcmc_numpyro", globals())
mcmc_pyro = lazy.load("probgen.inference.mcmc_pyro", globals())

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
            cls = mcmc_pyro.PyroHMC if hmc else mcmc_pyro.PyroNUTS
            nesting = program.max_plate_nesting

            def continuous(model):
                return cls(
                    model,
                    target_accept_prob=self.target_accept,
                    init_strategy=strategy,
                    max_plate_nesting=nesting,
                )

            return lambda: gibbs_pyro.PyroGibbs(
                program.model, blocks, conditionals, continuous, strategy
            )
        cls = mcmc_numpyro.NumPyroHMC if hmc else mcmc_numpyro.NumPyroNUTS
        continuous = partial(cls, target_accept_prob=self.target_accept, init_strategy=strategy)
        return lambda: gibbs_numpyro.numpyro_gibbs(program.model, blocks, conditionals, continuous)


# the library kernels, from the module of their library
__getattr__, __dir__ = lazy.attributes(__name__, {"PyroGibbs": "probgen.inference.gibbs_pyro"})
