"""The zoo's registry: every model that ``probgen list`` shows, by name.

Each model family registers its own entries when its module is imported, and names that
module as an entry point of the group ``probgen.zoo`` (pyproject.toml); the registry
imports every module of the group on first use, so a new family, in probgen or in a
package of its own, needs no change here. An entry says what the command line can do
with its model: the sampler or objective it is fitted by, the data it takes, what to do
after training and which draws to show. Registering imports no array library: a deep
model's class is named by its path and imported when a model is built, so that ``probgen
list`` runs without torch or JAX.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from probgen.errors import ArgumentError

GROUP = "probgen.zoo"


@dataclass(frozen=True)
class BayesModel:
    """One Bayesian zoo model, written twice: as a Pyro and as a NumPyro program.

    Both programs take the same keyword arguments; ``data()`` returns the built-in data
    set as those keyword arguments (numpy arrays and Python scalars), so that
    ``pg.mcmc(entry.numpyro, **entry.data())`` fits the model with ``default_sampler``.
    """

    name: str
    description: str
    pyro: Callable[..., Any]
    numpyro: Callable[..., Any]
    data: Callable[[], dict[str, Any]]
    default_sampler: str = "nuts"

    @property
    def fitted_by(self) -> str:
        """What ``probgen fit`` fits it with: its default sampler."""
        return self.default_sampler

    def program(self, backend: str = "numpyro") -> Callable[..., Any]:
        """The program for ``backend`` (``"pyro"`` or ``"numpyro"``)."""
        if backend not in ("pyro", "numpyro"):
            raise ArgumentError(f"backend must be 'pyro' or 'numpyro', got {backend!r}")
        return getattr(self, backend)


@dataclass(frozen=True)
class DeepModel:
    """One deep zoo model: ``build(dataset)`` makes a fresh ``GenerativeModel`` for a data
    set, and ``data(name)`` loads the data set ``name`` (one of ``datasets``, the first is
    the default) in the form the model takes (binarized or quantized digits, 2-D toys).

    ``model`` is the path of its class ("package.module.Class"), imported by
    ``model_class()``; ``default_objective`` is the class's ``pg.fit`` objective, which the
    listing shows without the import (tests/models/test_registry.py checks that the two
    agree); ``after_fit(model,
    dataset)`` finishes a trained model (VQ-VAE fits its prior over codes); ``preview(model)``
    returns the images that ``probgen fit`` shows in a square grid.
    """

    name: str
    description: str
    model: str
    build: Callable[[Any], Any]
    data: Callable[[str], Any]
    datasets: tuple[str, ...]
    default_objective: str
    after_fit: Callable[[Any, Any], None] | None = None
    preview: Callable[[Any], Any] | None = None

    @property
    def fitted_by(self) -> str:
        """What ``probgen fit`` fits it with: its default objective."""
        return self.default_objective

    def model_class(self) -> type:
        """The model's class, imported from its module."""
        module, _, cls = self.model.rpartition(".")
        return getattr(importlib.import_module(module), cls)


def deep_model(
    name: str,
    description: str,
    model: str,
    objective: str,
    data: Callable[[str], Any],
    datasets: tuple[str, ...],
    *,
    after_fit: Callable[[Any, Any], None] | None = None,
    preview: Callable[[Any], Any] | None = None,
    **options: Any,
) -> DeepModel:
    """Register the model ``Class(dataset.event_shape, **options)``, ``model`` naming the
    class ("package.module.Class") and ``objective`` its ``default_objective``, on
    ``datasets``, loaded by ``data(name)``; ``name`` and ``description`` as ``probgen list``
    shows them."""

    def load(dataset: str) -> Any:
        if dataset not in datasets:
            raise ArgumentError(f"data must be one of {datasets} for this model, got {dataset!r}")
        return data(dataset)

    def build(dataset: Any) -> Any:
        return entry.model_class()(dataset.event_shape, **options)

    entry = DeepModel(
        name=name,
        description=description,
        model=model,
        build=build,
        data=load,
        datasets=datasets,
        default_objective=objective,
        after_fit=after_fit,
        preview=preview,
    )
    return register(entry)


_ZOO: dict[str, BayesModel | DeepModel] = {}
_LOADED: list[str] = []


def register(entry: BayesModel | DeepModel) -> BayesModel | DeepModel:
    """Add ``entry`` to the zoo under ``entry.name``."""
    if entry.name in _ZOO:
        raise ArgumentError(f"zoo model {entry.name!r} is registered twice")
    _ZOO[entry.name] = entry
    return entry


def get(name: str) -> BayesModel | DeepModel:
    """The zoo entry called ``name``; the error lists the known names."""
    _load()
    try:
        return _ZOO[name]
    except KeyError:
        known = ", ".join(sorted(_ZOO))
        raise ArgumentError(f"no zoo model named {name!r}; known models: {known}") from None


def entries(kind: type | None = None) -> list[BayesModel | DeepModel]:
    """All zoo entries sorted by name; only those of ``kind`` (``BayesModel`` or
    ``DeepModel``) when given."""
    _load()
    return [_ZOO[k] for k in sorted(_ZOO) if kind is None or isinstance(_ZOO[k], kind)]


def _load() -> None:
    """Import every family named in the ``probgen.zoo`` entry points, once."""
    if _LOADED:
        return
    for point in importlib.metadata.entry_points(group=GROUP):
        point.load()
        _LOADED.append(point.name)
    if not _LOADED:
        raise ArgumentError(
            f"no zoo family is registered under the entry points {GROUP!r}: install probgen "
            "(pip install -e .) so that its metadata lists them"
        )
