"""Sampler names, as ``pg.mcmc(..., sampler=NAME)`` takes them, and their defaults.

Each sampler's module is imported when the sampler is first looked up (``SAMPLERS[name]``
or ``from probgen.inference.samplers import MALA``), so that naming the samplers, as the
command line's ``--help`` does, imports neither library.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, fields
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from probgen import lazy
from probgen.errors import ArgumentError

if TYPE_CHECKING:
    from probgen.inference.kernels import Kernel
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


class _Classes(Mapping[str, type]):
    """Sampler classes by name, each imported from its module on first lookup."""

    def __init__(self, paths: dict[str, str]):
        self.paths = paths  # name: "module.Class"

    def __getitem__(self, name: str) -> type:
        module, _, cls = self.paths[name].rpartition(".")
        return getattr(importlib.import_module(module), cls)

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)


SAMPLERS: Mapping[str, type] = _Classes(
    {
        "nuts": "probgen.inference.mcmc.NUTS",
        "hmc": "probgen.inference.mcmc.HMC",
        "mh": "probgen.inference.mh.RandomWalk",
        "independence": "probgen.inference.independence.Independence",
        "ula": "probgen.inference.ula.ULA",
        "mala": "probgen.inference.mala.MALA",
        "sgld": "probgen.inference.sgld.SGLD",
        "gibbs": "probgen.inference.gibbs.Gibbs",
    }
)

# ``from probgen.inference.samplers import MALA``: each class, from its module
__getattr__, __dir__ = lazy.attributes(
    __name__,
    {cls: module for module, _, cls in (p.rpartition(".") for p in SAMPLERS.paths.values())},
)


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
