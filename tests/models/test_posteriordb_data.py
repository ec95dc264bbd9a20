"""The posteriordb loader returns data.json as keyword arguments and reference.json's summary.

Reference: the JSON files themselves (written here, or the shared posteriordb folder).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from probgen.datasets import posteriordb
from probgen.errors import DataError
from probgen.models.bayes import _datasets

DATA = {"N": 3, "K": 2, "sigma1": 0.5, "y": [1, 2.5, -3], "X": [[1, 0], [0, 1], [2, 3]]}
SUMMARY = {"beta[1]": {"mean": 1.0, "sd": 0.5, "q05": 0.2, "q50": 1.0, "q95": 1.8}}


@pytest.fixture
def fake_root(tmp_path):
    folder = tmp_path / "toy-model"
    folder.mkdir()
    (folder / "data.json").write_text(json.dumps(DATA))
    (folder / "reference.json").write_text(
        json.dumps({"posterior": "toy-model", "summary": SUMMARY})
    )
    return tmp_path


def shared_root():
    root = posteriordb.root()
    if root is None:
        pytest.skip("../shared/reference/posteriordb not found: set PROBGEN_POSTERIORDB")
    return root


def test_load_converts_lists_to_float64_and_keeps_scalars(fake_root):
    data = posteriordb.load("toy-model", root=fake_root)
    assert data.keys() == DATA.keys()
    assert type(data["N"]) is int and type(data["K"]) is int and type(data["sigma1"]) is float
    for key in ("y", "X"):
        assert data[key].dtype == np.float64
        np.testing.assert_array_equal(data[key], np.array(DATA[key], dtype=float))
    assert data["X"].shape == (3, 2)


def test_reference_is_the_summary(fake_root):
    assert posteriordb.reference("toy-model", root=str(fake_root)) == SUMMARY


def test_missing_posterior_names_the_folder(fake_root):
    with pytest.raises(DataError, match=r"no-such.*toy-model"):
        posteriordb.load("no-such", root=fake_root)


def test_environment_variable_sets_the_root(fake_root, monkeypatch):
    monkeypatch.setenv(posteriordb.ENV_VAR, str(fake_root))
    assert posteriordb.root() == fake_root
    assert posteriordb.load("toy-model")["N"] == 3
    monkeypatch.setenv(posteriordb.ENV_VAR, str(fake_root / "absent"))
    assert posteriordb.root() is None
    with pytest.raises(DataError, match=posteriordb.ENV_VAR):
        posteriordb.load("toy-model")


def test_shared_posteriors_round_trip():
    root = shared_root()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        raw = json.loads((folder / "data.json").read_text())
        data = posteriordb.load(folder.name)
        assert data.keys() == raw.keys(), folder.name
        for key, value in raw.items():
            if isinstance(value, list):
                np.testing.assert_array_equal(data[key], np.asarray(value, dtype=np.float64))
            else:
                assert data[key] == value and type(data[key]) is type(value)
        # the summary names every element of every parameter in "dimensions", 1-based
        summary = posteriordb.reference(folder.name)
        dimensions = json.loads((folder / "reference.json").read_text())["dimensions"]
        names = [
            name if size == 1 and name in summary else f"{name}[{i}]"
            for name, size in dimensions.items()
            for i in range(1, size + 1)
        ]
        assert sorted(summary) == sorted(names), folder.name
        assert all(re.fullmatch(r"\w+(\[\d+\])?", key) for key in names)


def test_shipped_eight_schools_is_posteriordb_data():
    shared_root()
    expected = posteriordb.load("eight_schools-eight_schools_noncentered")
    shipped = _datasets.eight_schools()
    assert shipped["J"] == expected["J"]
    for key in ("y", "sigma"):
        np.testing.assert_array_equal(shipped[key], expected[key])
