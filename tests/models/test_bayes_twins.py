"""Each zoo model's Pyro and NumPyro programs are the same model.

Reference: the two libraries' own log densities. At parameters drawn from the prior, the
Pyro log joint (``log_prob_sum`` of a conditioned trace, or minus TraceEnum_ELBO's loss
under a point-mass guide when discrete sites are enumerated) must equal NumPyro's
(``log_density``, or its funsor version) in float64.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from probgen.datasets import posteriordb
from probgen.errors import DataError
from probgen.models import registry

ENTRIES = registry.entries(registry.BayesModel)


def _data(entry: registry.BayesModel) -> dict:
    try:
        return entry.data()
    except DataError as error:
        pytest.skip(f"../shared/reference/posteriordb not found: {error}")


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_twins_have_the_same_log_joint(entry, seed, draw_params, log_joints):
    data = _data(entry)
    params, nesting = draw_params(entry, data, seed)
    pyro_lp, numpyro_lp = log_joints(entry, data, params, nesting)
    assert np.isfinite(numpyro_lp)
    np.testing.assert_allclose(pyro_lp, numpyro_lp, rtol=1e-9, atol=1e-5)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_twins_have_the_same_sites(entry, draw_params, site_shapes):
    data = _data(entry)
    params, _ = draw_params(entry, data, 0)
    pyro_sites, numpyro_sites = site_shapes(entry, data, params)
    assert pyro_sites == numpyro_sites


POSTERIORDB_MODULES = [
    module
    for module in (inspect.getmodule(e.numpyro) for e in ENTRIES)
    if hasattr(module, "POSTERIORDB")
]


@pytest.mark.parametrize(
    "module", POSTERIORDB_MODULES, ids=[m.__name__.rsplit(".", 1)[-1] for m in POSTERIORDB_MODULES]
)
def test_posteriordb_twins_take_the_data_json_keys_and_name_the_reference_sites(
    module, draw_params, site_shapes
):
    """Both programs accept exactly posteriordb's data.json keys, and every reference
    parameter (``beta[2]``) is an element of a site of that name and size."""
    if posteriordb.root() is None:
        pytest.skip("../shared/reference/posteriordb not found: set PROBGEN_POSTERIORDB")
    data = posteriordb.load(module.POSTERIORDB)
    for program in (module.pyro_model, module.numpyro_model):
        assert set(inspect.signature(program).parameters) == set(data)
    entry = next(e for e in ENTRIES if e.numpyro is module.numpyro_model)
    params, _ = draw_params(entry, data, 0)
    _, shapes = site_shapes(entry, data, params)
    indices: dict[str, list[int]] = {}
    for key in posteriordb.reference(module.POSTERIORDB):
        name, index = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", key).groups()
        indices.setdefault(name, []).append(int(index) if index else 0)
    for name, found in indices.items():
        scalar = found == [0]
        assert shapes[name] == (() if scalar else (len(found),)), name
        assert scalar or sorted(found) == list(range(1, len(found) + 1)), name
