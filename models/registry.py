"""The zoo's registry: every model that ``probgen list`` shows, by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from probgen.errors import ArgumentError


@dataclass(frozen=True)
class BayesModel:
    """One Bayesian zoo model, written twice: as a Pyro and as a NumPyro program.

    Both programs take the same keyword arguments; ``data()`` returns the built-in data
    set as those keyword arguments (numpy arrays and Python scalars), so that
    ``pg.mcmc(entry.numpyro, **entry.data())`` fits the model.
    """

    name: str
    description: str
    pyro: Callable[..., Any]
    numpyro: Callable[..., Any]
    data: Callable[[], dict[str, Any]]
    backend: str = "nuts"

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
    ``backend`` is the model's fitting backend for ``pg.fit`` ("svi", "mle", "objective").
    """

    name: str
    description: str
    build: Callable[[Any], Any]
    data: Callable[[str], Any]
    datasets: tuple[str, ...]
    backend: str


_ZOO: dict[str, BayesModel | DeepModel] = {}


def register(entry: BayesModel | DeepModel) -> BayesModel | DeepModel:
    """Add ``entry`` to the zoo under ``entry.name``."""
    if entry.name in _ZOO:
        raise ValueError(f"zoo model {entry.name!r} is registered twice")
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
    import probgen.models.bayes  # noqa: F401  (registers the Bayesian zoo)
    import probgen.models.deep  # noqa: F401  (registers the VAE family and the flows)
