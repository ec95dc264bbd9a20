"""The flows in the zoo, on digits quantized to their 17 grey levels or on the 2-D toys.

``pg.fit(..., dequantize=True)`` dequantizes the digits with fresh uniform noise every
epoch (a density on [0, 1)^64, reported in bits/dim); the vector flows also model the
2-D toys.
"""

from __future__ import annotations

from probgen.datasets import toys
from probgen.datasets.base import Dataset
from probgen.datasets.images import digits
from probgen.models.flows import IAF, MAF, NICE, NSF, Glow, IResNet, RealNVP, VectorRealNVP
from probgen.models.registry import deep_model

TOYS = ("moons", "circles", "eight_gaussians", "checkerboard", "swiss_roll")
DIGIT_LEVELS = 17  # the 8×8 digits' pixels take the values 0, …, 16


def flow_data(name: str) -> Dataset:
    """Digits at their 17 levels (quantized: ``pg.fit(dequantize=True)`` adds the noise);
    or a 2-D toy."""
    if name == "digits":
        return digits(levels=DIGIT_LEVELS)
    return getattr(toys, name)()


deep_model("nice", "NICE: additive couplings and a scaling", NICE, flow_data, ("digits",))
deep_model("realnvp", "RealNVP: multiscale affine couplings", RealNVP, flow_data, ("digits",))
deep_model("glow", "Glow: ActNorm, 1×1 convolutions, couplings", Glow, flow_data, ("digits",))
deep_model("maf", "MAF on MADE", MAF, flow_data, (*TOYS, "digits"))
deep_model("iaf", "IAF on MADE (slow density, fast sampling)", IAF, flow_data, TOYS)
deep_model("nsf", "neural spline flow (couplings)", NSF, flow_data, TOYS)
deep_model("realnvp_2d", "RealNVP for vectors (affine couplings)", VectorRealNVP, flow_data, TOYS)
deep_model("iresnet", "invertible residual network", IResNet, flow_data, TOYS)
