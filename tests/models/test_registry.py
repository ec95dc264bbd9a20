"""The zoo's registry names each deep model's class by its path, so that listing the zoo
imports no library; each entry's objective must be its class's own.

Reference: the classes themselves, imported.
"""

from __future__ import annotations

import pytest

from probgen.models import registry

DEEP = registry.entries(registry.DeepModel)


def test_the_zoo_has_deep_models():
    assert {"vae", "maf", "realnvp"} <= {entry.name for entry in DEEP}


@pytest.mark.parametrize("entry", DEEP, ids=lambda entry: entry.name)
def test_a_deep_entry_names_its_class_and_that_class_objective(entry):
    cls = entry.model_class()
    assert entry.model.endswith(f".{cls.__name__}")
    assert entry.default_objective == cls.default_objective
