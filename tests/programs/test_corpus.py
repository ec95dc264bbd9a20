"""Every corpus program runs under probgen as under its own library (see ``corpus.py``).

Reference: the raw library's run of the same program with the same seed and settings:
the same draws bit for bit (NUTS on both libraries), the same SVI losses, or, for a
sampler the library lacks, the exact posterior mean within 4 Monte Carlo standard errors.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import arviz as az
import numpy as np
import pytest
from corpus import Case, run_probgen, run_raw

HERE = Path(__file__).parent


def cases() -> list[Case]:
    """The ``CASES`` of every pattern module of this folder."""
    found = []
    for path in sorted(HERE.glob("*.py")):
        if path.stem in ("corpus", "test_corpus", "conftest"):
            continue
        spec = importlib.util.spec_from_file_location(f"corpus_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found += [case for case in module.CASES if case.name == path.stem]
        assert all(case.name == path.stem for case in module.CASES), path.stem
    return found


CASES = cases()


def test_the_corpus_covers_at_least_20_patterns():
    assert len({case.name for case in CASES}) >= 20


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_probgen_runs_the_program_as_its_library_does(case: Case):
    ours = run_probgen(case)
    if case.compare == "moments":
        for site, mean in case.exact.items():
            draws = ours[site].reshape(len(ours[site]), -1)
            means = np.broadcast_to(mean, draws.shape[1:])
            for j in range(draws.shape[1]):
                mcse = float(az.mcse(draws[None, :, j], method="mean"))
                assert abs(draws[:, j].mean() - means[j]) < 4 * mcse, (site, j)
        return
    theirs = run_raw(case)
    assert set(theirs) <= set(ours), sorted(set(theirs) - set(ours))
    for site, value in theirs.items():
        np.testing.assert_array_equal(ours[site], value, err_msg=site)
