"""Initial values for inference: the libraries' init strategies, named the same way.

Pyro's strategies draw a sample to learn a site's shape, which an improper prior
(``ImproperUniform``) cannot give, and fail on discrete sites; probgen's Pyro strategies
fall back to a uniform point in (−2, 2) of the unconstrained space for the first, and to
a prior draw for the second, as NumPyro's already do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from probgen import lazy
from probgen.errors import ArgumentError

numpyro_init = lazy.load("numpyro.infer.initialization", globals())
numpyro_transforms = lazy.load("numpyro.distributions.transforms", globals())
pyro_init = lazy.load("pyro.infer.autoguide.initialization", globals())
torch = lazy.load("torch", globals())

STRATEGIES = ("uniform", "median", "mean", "sample")


def init_strategy(
    backend: str, init: str | dict[str, Any] | None = None, latent: list[str] | None = None
) -> Callable:
    """The init strategy for ``init``: a name from ``STRATEGIES`` or ``{site: value}``.

    Values in a dict are constrained (they lie in each site's support); sites that it
    does not name start uniformly in (−2, 2) of the unconstrained space.
    """
    lib = pyro_init if backend == "pyro" else numpyro_init
    if init is None:
        init = "uniform"
    if isinstance(init, dict):
        unknown = sorted(set(init) - set(latent or ()))
        if latent is not None and unknown:
            raise ArgumentError(
                f"init names {unknown}, which are not latent sites; the latent sites are {latent}"
            )
        strategy = lib.init_to_value(values={k: _array(backend, v) for k, v in init.items()})
    elif init in STRATEGIES:
        strategy = getattr(lib, f"init_to_{init}")
    else:
        raise ArgumentError(
            f"init must be a dict of site values or one of {STRATEGIES}, got {init!r}"
        )
    return _improper_safe(strategy) if backend == "pyro" else strategy


def check_init(program: Any, init: dict[str, Any]) -> None:
    """Raise ``ArgumentError`` naming the first site of ``init`` that is not a latent site
    of ``program`` (a ``programs.Program``, which imports this module), or whose value
    lies outside its distribution's support or on its edge, where the map to the
    unconstrained space that the samplers run on (the library's ``biject_to``) is infinite.

    The program's trace (``Program.sites``) ran at ``init``'s point, so a support that
    depends on another site's value is read there.
    """
    init_strategy(program.backend, init, program.site_names("latent"))  # names latent sites
    supports = program.supports(list(init))
    for name, given in init.items():
        support = supports[name]
        if not _inside(program.backend, support, _array(program.backend, given)):
            raise ArgumentError(
                f"init value {given!r} of site {name!r} lies outside the site's support, "
                f"{support}, or on its edge: pass a value inside it, or leave {name!r} "
                "out of init"
            )


def _inside(backend: str, support: Any, value: Any) -> bool:
    if not bool(support.check(value).all()):
        return False
    if support.is_discrete:  # no unconstrained space
        return True
    if backend == "pyro":
        return bool(torch.isfinite(torch.distributions.biject_to(support).inv(value)).all())
    return bool(np.isfinite(numpyro_transforms.biject_to(support).inv(value)).all())


def _improper_safe(strategy: Callable) -> Callable:
    def init(site: dict) -> torch.Tensor:
        fn = site["fn"]
        if fn.support.is_discrete:  # no unconstrained space: any value in the support
            return fn.sample()
        try:
            return strategy(site)
        except NotImplementedError:  # an improper prior cannot be sampled
            return torch.distributions.transform_to(fn.support)(torch.rand(fn.shape()) * 4 - 2)

    return init


def _array(backend: str, value: Any) -> Any:
    if backend == "pyro":
        return torch.as_tensor(np.asarray(value), dtype=torch.get_default_dtype())
    return np.asarray(value)
