"""Normalizing flows: NICE, RealNVP, Glow, MAF/IAF, neural spline flows and i-ResNet.

Each flow is a Pyro ``TransformedDistribution`` of N(0, I) (``flow.distribution()``)
and a zoo model fitted by maximum likelihood (``default_objective = "mle"``); see ``model.py``.
The transforms that Pyro lacks live beside the models: masked couplings, NICE's
scaling, ActNorm, the multiscale squeeze and split, and the invertible residual block.
"""

from __future__ import annotations

from probgen import lazy

# each name is imported from its module on first lookup: the zoo registers the family
# without torch
_SOURCES = {
    "ActNorm": "probgen.models.flows.actnorm",
    "IAF": "probgen.models.flows.autoregressive",
    "MAF": "probgen.models.flows.autoregressive",
    "AdditiveCoupling": "probgen.models.flows.coupling",
    "MaskedAffineCoupling": "probgen.models.flows.coupling",
    "channel_mask": "probgen.models.flows.coupling",
    "checkerboard_mask": "probgen.models.flows.coupling",
    "Glow": "probgen.models.flows.glow",
    "IResNet": "probgen.models.flows.iresnet",
    "FlowModel": "probgen.models.flows.model",
    "ChannelSplit": "probgen.models.flows.multiscale",
    "Squeeze": "probgen.models.flows.multiscale",
    "NICE": "probgen.models.flows.nice",
    "NSF": "probgen.models.flows.nsf",
    "RealNVP": "probgen.models.flows.realnvp",
    "VectorRealNVP": "probgen.models.flows.realnvp",
    "InvertibleResidual": "probgen.models.flows.residual",
    "DiagonalScaling": "probgen.models.flows.scaling",
}

__all__ = [
    "IAF",
    "MAF",
    "NICE",
    "NSF",
    "ActNorm",
    "AdditiveCoupling",
    "ChannelSplit",
    "DiagonalScaling",
    "FlowModel",
    "Glow",
    "IResNet",
    "InvertibleResidual",
    "MaskedAffineCoupling",
    "RealNVP",
    "Squeeze",
    "VectorRealNVP",
    "channel_mask",
    "checkerboard_mask",
]

__getattr__, __dir__ = lazy.attributes(__name__, _SOURCES)
