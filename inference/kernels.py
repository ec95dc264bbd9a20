"""The kernel protocol, and what every probgen kernel on unconstrained latents shares.

``Kernel`` is what ``pg.mcmc`` needs of a library kernel beyond its library's
``MCMCKernel`` interface: the per-draw statistics it publishes, declared the same way in
both libraries (see ``Kernel``). Every kernel that a probgen sampler builds follows it:
probgen's own kernels here and in the sampler modules, and the libraries' NUTS/HMC, whose
tables ``mcmc.py`` declares.

The MH, Langevin and SGLD kernels all run on one flat vector x of the program's latent
sites mapped to the unconstrained space, with the potential U(x) = −log p̃(x) that the
libraries' ``initialize_model`` builds (the log joint plus the log-Jacobians of the
transforms). Their bases (``flat_numpyro.NumPyroFlatKernel``, ``flat_pyro.PyroFlatKernel``)
do that set-up and the plumbing that the libraries' MCMC drivers expect; the subclasses
write only their transition. Their potentials run with the
libraries' argument validation off (NumPyro's here, ``tolerant_potential``; Pyro's ``MCMC``
turns its own off): a proposal that leaves the support or gives a distribution an invalid
parameter has U = +∞ or NaN, which every kernel's accept step rejects, rather than raising
the library's ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from probgen import lazy

numpyro = lazy.load("numpyro", globals())


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
