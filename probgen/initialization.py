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
import numpyro.infer.initialization as numpyro_init
import pyro.infer.autoguide.initialization as pyro_init
import torch
from numpyro.handlers import seed, substitute
from pyro.infer.autoguide.initialization import InitMessenger
from torch.distributions import transform_to

from probgen.errors import ArgumentError

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
                f"init names {unknown}, which are not latent sites; the latent sites are "
                f"{latent}"
            )
        strategy = lib.init_to_value(values={k: _array(backend, v) for k, v in init.items()})
    elif init in STRATEGIES:
        strategy = getattr(lib, f"init_to_{init}")
    else:
        raise ArgumentError(
            f"init must be a dict of site values or one of {STRATEGIES}, got {init!r}"
        )
    return _improper_safe(strategy) if backend == "pyro" else strategy


class _Checked(Exception):
    """Stops the checking run once every site of ``init`` has been reached."""


def check_init(program: Any, init: dict[str, Any]) -> None:
    """Raise ``ArgumentError`` naming the first site of ``init`` that is not a latent site
    of ``program`` (a ``programs.Program``, which imports this module), or whose value
    lies outside its distribution's support.

    The program runs once, eagerly, up to the last site that ``init`` names, with ``init``'s
    values and the uniform init elsewhere, so that a support that depends on another
    site's value is read at ``init``'s point; torch's random state is restored after it.
    """
    strategy = init_strategy(program.backend, init, program.site_names("latent"))
    left = set(init)

    def checked(site: dict) -> Any:
        value = strategy(site)
        name = site["name"]
        if site["type"] == "sample" and name in left:
            support = site["fn"].support
            if not bool(support.check(value).all()):
                raise ArgumentError(
                    f"init value {init[name]!r} of site {name!r} lies outside the site's "
                    f"support, {support}: pass a value inside it, or leave {name!r} out of init"
                )
            left.discard(name)
            if not left:
                raise _Checked
        return value

    try:
        if program.backend == "pyro":
            with torch.random.fork_rng(), InitMessenger(checked):
                program.model(*program.args, **program.kwargs)
        else:
            with substitute(substitute_fn=checked), seed(rng_seed=0):
                program.model(*program.args, **program.kwargs)
    except _Checked:
        pass


def _improper_safe(strategy: Callable) -> Callable:
    def init(site: dict) -> torch.Tensor:
        fn = site["fn"]
        if fn.support.is_discrete:  # no unconstrained space: any value in the support
            return fn.sample()
        try:
            return strategy(site)
        except NotImplementedError:  # an improper prior cannot be sampled
            return transform_to(fn.support)(torch.rand(fn.shape()) * 4 - 2)

    return init


def _array(backend: str, value: Any) -> Any:
    if backend == "pyro":
        return torch.as_tensor(np.asarray(value), dtype=torch.get_default_dtype())
    return np.asarray(value)
