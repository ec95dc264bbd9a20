"""Normalizing flows: NICE, RealNVP, Glow, MAF/IAF, neural spline flows and i-ResNet.

Each flow is a Pyro ``TransformedDistribution`` of N(0, I) (``flow.distribution()``)
and a zoo model fitted by maximum likelihood (``default_objective = "mle"``); see ``model.py``.
The transforms that Pyro lacks live beside the models: masked couplings, NICE's
scaling, ActNorm, the multiscale squeeze and split, and the invertible residual block.
"""

from probgen.models.flows.actnorm import ActNorm
from probgen.models.flows.autoregressive import IAF, MAF
from probgen.models.flows.coupling import (
    AdditiveCoupling,
    MaskedAffineCoupling,
    channel_mask,
    checkerboard_mask,
)
from probgen.models.flows.glow import Glow
from probgen.models.flows.iresnet import IResNet
from probgen.models.flows.model import FlowModel
from probgen.models.flows.multiscale import ChannelSplit, Squeeze
from probgen.models.flows.nice import NICE
from probgen.models.flows.nsf import NSF
from probgen.models.flows.realnvp import RealNVP, VectorRealNVP
from probgen.models.flows.residual import InvertibleResidual
from probgen.models.flows.scaling import DiagonalScaling

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
