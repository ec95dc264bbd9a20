"""MCMC on both backends: the libraries' own drivers, kernels and initialisation.

``run`` drives any kernel with Pyro's ``MCMC`` or NumPyro's ``MCMC`` (``mcmc_pyro``,
``mcmc_numpyro``: each imports its own library only) and returns a ``Posterior``;
``NUTS`` and ``HMC`` build the libraries' own kernels. A sampler is a small frozen
dataclass of its settings with ``name`` and ``kernel(program, init)``, which returns a
factory of fresh library kernels (one per chain). Every such kernel declares the
statistics it publishes per draw (``kernels.Kernel``), which ``run`` records under their
ArviZ names; the libraries' NUTS and HMC get their tables in the driver modules. Pyro
chains run one after another in this process: Pyro's multi-process chains need picklable
programs and a spare core per chain, and gain nothing on a laptop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from probgen import lazy
from probgen.errors import ArgumentError
from probgen.initialization import init_strategy
from probgen.results import Posterior

if TYPE_CHECKING:
    from probgen.programs import Program

mcmc_numpyro = lazy.load("probgen.inference.mcmc_numpyro", globals())
mcmc_pyro = lazy.load("probgen.inference.mcmc_pyro", globals())


@dataclass(frozen=True)
class NUTS:
    """The No-U-Turn sampler of the program's library (Hoffman & Gelman, 2014).

    Warm-up adapts the step size by dual averaging towards ``target_accept`` and a
    diagonal (``dense_mass``: dense) inverse mass matrix from the warm-up draws.
    """

    target_accept: float = 0.8
    dense_mass: bool = False
    name = "nuts"

    def kernel(self, program: Program, init: str | dict[str, Any] | None) -> Callable[[], Any]:
        """A factory of fresh library kernels for ``program``, one per chain."""
        strategy = init_strategy(program.backend, init, program.site_names("latent"))
        options = {"target_accept_prob": self.target_accept, "init_strategy": strategy}
        hmc = self.name == "hmc"
        if program.backend == "pyro":
            cls = mcmc_pyro.PyroHMC if hmc else mcmc_pyro.PyroNUTS
            # Pyro finds the nesting by one prior draw of the program, as raw Pyro does, so
            # that the draws match its draws; improper priors cannot be drawn: say it
            nesting = None if program.proper else program.max_plate_nesting
            return lambda: cls(
                program.model, full_mass=self.dense_mass, max_plate_nesting=nesting, **options
            )
        cls = mcmc_numpyro.NumPyroHMC if hmc else mcmc_numpyro.NumPyroNUTS
        return lambda: cls(program.model, dense_mass=self.dense_mass, **options)


@dataclass(frozen=True)
class HMC(NUTS):
    """Hamiltonian Monte Carlo with the library's default trajectory length, adapted as NUTS."""

    name = "hmc"


def run(
    program: Program,
    make_kernel: Callable[[], Any],
    *,
    chains: int,
    warmup: int,
    draws: int,
    seed: int,
    progress: bool,
    sampler: str,
) -> Posterior:
    """Draw ``chains`` × ``draws`` samples after ``warmup`` steps with the library's MCMC."""
    driver = (mcmc_pyro if program.backend == "pyro" else mcmc_numpyro).run
    samples, stats = driver(program, make_kernel, chains, warmup, draws, seed, progress)
    attrs = {"sampler": sampler, "backend": program.backend, "warmup": warmup}
    return Posterior(samples, stats, program, attrs=attrs)


def declared(kernel: Any, protocol: type) -> Any:
    """``kernel``, after checking that it declares its statistics (``kernels.Kernel``)."""
    if not isinstance(kernel, protocol):
        raise ArgumentError(
            f"the sampler built a {type(kernel).__name__}, which does not declare the "
            "statistics it publishes: give its kernels a sample_stats table (and, for Pyro, "
            "an info mapping), as probgen.inference.kernels.Kernel describes"
        )
    return kernel


# the library kernels, from the module of their library
__getattr__, __dir__ = lazy.attributes(
    __name__,
    {
        "NUMPYRO_HMC_STATS": "probgen.inference.mcmc_numpyro",
        "NumPyroHMC": "probgen.inference.mcmc_numpyro",
        "NumPyroNUTS": "probgen.inference.mcmc_numpyro",
        "PYRO_HMC_STATS": "probgen.inference.mcmc_pyro",
        "PyroHMC": "probgen.inference.mcmc_pyro",
        "PyroNUTS": "probgen.inference.mcmc_pyro",
    },
)
