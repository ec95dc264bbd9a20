"""Shared tools for the zoo tests: parameter draws, log joints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pyro
import pyro.distributions as pdist
import pytest
from numpyro.contrib import funsor as numpyro_funsor
from numpyro.infer.initialization import init_to_uniform
from numpyro.infer.util import log_density
from pyro import poutine
from pyro.poutine.util import site_is_subsample

from probgen.models.registry import BayesModel
from probgen.programs import to_backend


@pytest.fixture
def draw_params(float64: None) -> Callable[..., tuple[dict[str, Any], int | None]]:
    return _draw_params


@pytest.fixture
def log_joints(float64: None) -> Callable[..., tuple[float, float]]:
    return _log_joints


@pytest.fixture
def site_shapes(float64: None) -> Callable[..., tuple[dict, dict]]:
    return _site_shapes


def _draw_params(
    entry: BayesModel, data: dict[str, Any], seed: int
) -> tuple[dict[str, Any], int | None]:
    """A draw of the continuous latent sites from the NumPyro prior, and the plate nesting
    to enumerate under (None when the model has no enumerated site).

    Flat (ImproperUniform) sites cannot be sampled: they get a uniform point in (−2, 2) of
    the unconstrained space instead, as NumPyro's NUTS initialisation does.
    """

    def flat_to_uniform(site: dict[str, Any]) -> Any:
        flat = isinstance(site.get("fn"), ndist.ImproperUniform)
        return init_to_uniform(site) if flat else None

    model = numpyro.handlers.substitute(
        numpyro.handlers.seed(entry.numpyro, seed), substitute_fn=flat_to_uniform
    )
    trace = numpyro.handlers.trace(model).get_trace(**data)
    sites = [s for s in trace.values() if s["type"] == "sample" and not s["is_observed"]]
    params = {s["name"]: s["value"] for s in sites if not s["fn"].support.is_discrete}
    enumerated = any(s["infer"].get("enumerate") == "parallel" for s in sites)
    nesting = max(len(s["cond_indep_stack"]) for s in trace.values() if s["type"] == "sample")
    return params, nesting if enumerated else None


def _log_joints(
    entry: BayesModel, data: dict[str, Any], params: dict[str, Any], nesting: int | None
) -> tuple[float, float]:
    """log p(params, data) from the Pyro and from the NumPyro program, with the enumerated
    discrete sites summed out when ``nesting`` (the model's max plate nesting) is given."""
    pyro_data, pyro_params = _to_pyro(data), _to_pyro(params)
    if nesting is None:
        numpyro_lp, _ = log_density(entry.numpyro, (), data, params)
        trace = poutine.trace(poutine.condition(entry.pyro, pyro_params)).get_trace(**pyro_data)
        pyro_lp = trace.log_prob_sum()
    else:
        model = numpyro_funsor.enum(entry.numpyro, first_available_dim=-nesting - 1)
        numpyro_lp, _ = numpyro_funsor.log_density(model, (), data, params)

        def guide(**_: Any) -> None:  # point mass at the parameters: ELBO = log joint
            for name, value in pyro_params.items():
                pyro.sample(name, pdist.Delta(value, event_dim=value.dim()))

        elbo = pyro.infer.TraceEnum_ELBO(max_plate_nesting=nesting)
        pyro_lp = -elbo.loss(entry.pyro, guide, **pyro_data)
    return float(pyro_lp), float(numpyro_lp)


def _site_shapes(
    entry: BayesModel, data: dict[str, Any], params: dict[str, Any]
) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """{site: value shape} of the sample, factor and deterministic sites of each twin, run
    at ``params`` (discrete latent sites are drawn)."""
    pyro_data, pyro_params = _to_pyro(data), _to_pyro(params)
    pyro_trace = poutine.trace(poutine.condition(entry.pyro, pyro_params)).get_trace(**pyro_data)
    model = numpyro.handlers.substitute(numpyro.handlers.seed(entry.numpyro, 0), data=params)
    numpyro_trace = numpyro.handlers.trace(model).get_trace(**data)
    return (
        {
            n: tuple(s["value"].shape)
            for n, s in pyro_trace.nodes.items()
            if s["type"] == "sample" and not site_is_subsample(s)  # Pyro traces plates too
        },
        {
            n: tuple(np.shape(s["value"]))
            for n, s in numpyro_trace.items()
            if s["type"] in ("sample", "deterministic")
        },
    )


def _to_pyro(values: dict[str, Any]) -> dict[str, Any]:
    # probgen's own conversion of a Pyro program's arguments (floats to the default dtype);
    # jax arrays are copied first because torch warns about their read-only buffers
    return {
        k: to_backend(np.array(v) if isinstance(v, jax.Array) else v, "pyro")
        for k, v in values.items()
    }
