"""Sampler names, as ``pg.mcmc(..., sampler=NAME)`` takes them, and their defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any, Protocol, runtime_checkable

from probgen.errors import ArgumentError
from probgen.inference.gibbs import Gibbs
from probgen.inference.independence import Independence
from probgen.inference.kernels import Kernel
from probgen.inference.mala import MALA
from probgen.inference.mcmc import HMC, NUTS
from probgen.inference.mh import RandomWalk
from probgen.inference.sgld import SGLD
from probgen.inference.ula import ULA
from probgen.programs import Program


@runtime_checkable
class Sampler(Protocol):
    """What ``pg.mcmc`` needs of a sampler: a name and a factory of library kernels.

    ``kernel(program, init)`` returns a function that builds a fresh kernel of the
    program's library (one per chain), which declares the statistics it publishes per
    draw: ``kernel.sample_stats`` maps ArviZ names to state fields (NumPyro) or keys of
    the ``info`` it sets after each ``sample`` (Pyro); see ``kernels.Kernel``.
    """

    name: str

    def kernel(
        self, program: Program, init: str | dict[str, Any] | None
    ) -> Callable[[], Kernel]: ...


SAMPLERS: dict[str, type] = {
    "nuts": NUTS,
    "hmc": HMC,
    "mh": RandomWalk,
    "independence": Independence,
    "ula": ULA,
    "mala": MALA,
    "sgld": SGLD,
    "gibbs": Gibbs,
}


def resolve(sampler: str | Sampler, **settings: Any) -> Sampler:
    """The sampler called ``sampler`` with ``settings`` (those left None keep its default).

    A sampler object passes through as it is; ``settings`` then must all be None.
    """
    settings = {k: v for k, v in settings.items() if v is not None}
    if not isinstance(sampler, str):
        if not isinstance(sampler, Sampler):
            raise ArgumentError(f"sampler must be a name or a sampler object, got {sampler!r}")
        if settings:
            raise ArgumentError(
                f"{sorted(settings)} apply to samplers given by name; set them on {sampler!r}"
            )
        return sampler
    if sampler not in SAMPLERS:
        raise ArgumentError(f"sampler must be one of {tuple(SAMPLERS)}, got {sampler!r}")
    cls = SAMPLERS[sampler]
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise ArgumentError(f"sampler {sampler!r} takes no {unknown}")
    required = [k for k, f in known.items() if f.default is MISSING and k not in settings]
    if required:
        example = ", ".join(f"{k}=..." for k in required)
        raise ArgumentError(
            f"sampler {sampler!r} needs {required}: pass sampler={cls.__name__}({example}) "
            f"(from probgen.inference.samplers import {cls.__name__})"
        )
    return cls(**settings)
