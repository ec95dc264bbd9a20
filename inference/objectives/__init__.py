"""What ``pg.fit`` optimises, as objects; see ``base.py`` for the protocol.

``OBJECTIVES`` maps the names that ``pg.fit(objective=NAME)`` and a model's
``default_objective`` take to the objective classes, built with their defaults.
"""

from __future__ import annotations

from torch import nn

from probgen.errors import ArgumentError
from probgen.inference.objectives.adversarial import Adversarial
from probgen.inference.objectives.base import Group, Objective, Update, adam
from probgen.inference.objectives.contrastive import ContrastiveDivergence
from probgen.inference.objectives.likelihood import ELBO, MaximumLikelihood, ModelLoss

OBJECTIVES: dict[str, type[Objective]] = {
    cls.name: cls
    for cls in (ELBO, MaximumLikelihood, ModelLoss, Adversarial, ContrastiveDivergence)
}
# the names these objectives had before they were objects
ALIASES = {"svi": "elbo", "objective": "loss"}


def resolve(objective: str | Objective | None, model: nn.Module) -> Objective:
    """``objective`` as an object checked against ``model``: a name from ``OBJECTIVES``
    builds that class with its defaults, an ``Objective`` passes through, and None takes
    the model's ``default_objective``."""
    if objective is None:
        objective = model.default_objective
    if isinstance(objective, str):
        name = ALIASES.get(objective, objective)
        if name not in OBJECTIVES:
            raise ArgumentError(
                f"objective must be one of {tuple(OBJECTIVES)} or an Objective, got {objective!r}"
            )
        objective = OBJECTIVES[name]()
    elif not isinstance(objective, Objective):
        raise ArgumentError(
            "objective must be a name or a probgen.inference.objectives.Objective, got "
            f"{type(objective).__name__}"
        )
    objective.check(model)
    return objective


__all__ = [
    "ALIASES",
    "Adversarial",
    "ContrastiveDivergence",
    "ELBO",
    "OBJECTIVES",
    "Group",
    "MaximumLikelihood",
    "ModelLoss",
    "Objective",
    "Update",
    "adam",
    "resolve",
]
