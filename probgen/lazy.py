"""Modules imported on first use, so that a user pays only for the libraries a call needs.

probgen serves Pyro and NumPyro programs from the same modules. torch and JAX each take
a second or more to import, and ArviZ (with pandas and matplotlib) about as long, so a
module binds such a library with ``load``::

    jax = lazy.load("jax", globals())

The name is bound to a stand-in module. Its first attribute access imports the library,
and then puts the real module in the stand-in's place in the namespace it was bound in,
so later lookups are plain global lookups that cost nothing more. Code that only asks
whether a value belongs to a library calls ``loaded`` instead: a torch tensor cannot exist
before torch has been imported, so that question never needs the import. A package that
re-exports names of its modules does so with ``attributes`` (PEP 562).
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import Any


class _Deferred(types.ModuleType):
    """A stand-in for the module ``__name__``, replaced in ``namespace`` on first use."""

    def __init__(self, name: str, namespace: dict[str, Any]):
        super().__init__(name)
        self._namespace = namespace

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__name__)
        for key, value in list(self._namespace.items()):
            if value is self:
                self._namespace[key] = module
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<module {self.__name__!r}, imported on first use>"


def load(name: str, namespace: dict[str, Any]) -> types.ModuleType:
    """The module ``name``: itself where it is imported already, else a stand-in that
    imports it on first attribute access and then replaces itself in ``namespace`` (the
    caller's ``globals()``)."""
    module = sys.modules.get(name)
    return module if module is not None else _Deferred(name, namespace)


def loaded(name: str) -> types.ModuleType | None:
    """The module ``name`` if something has imported it already, else None."""
    return sys.modules.get(name)


def attributes(
    package: str, sources: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` (PEP 562) of ``package``, which exports
    each name of ``sources`` from the module that ``sources[name]`` names, imported on the
    name's first lookup::

        __getattr__, __dir__ = lazy.attributes(__name__, {"fit": "probgen.api"})
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        if name not in sources:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(sources[name]), name)
        namespace[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(sources))

    return __getattr__, __dir__
