"""The flows in the zoo, on digits quantized to their 17 grey levels or on the 2-D toys.

``pg.fit(..., dequantize=True)`` dequantizes the digits with fresh uniform noise every
epoch (a density on [0, 1)^64, reported in bits/dim); the vector flows also model the
2-D toys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from probgen import lazy
from probgen.models.registry import deep_model

if TYPE_CHECKING:
    from probgen.datasets.base import Dataset

# imported when a model is built or trained: registering the family needs neither
images = lazy.load("probgen.datasets.images", globals())
toys = lazy.load("probgen.datasets.toys", globals())

TOYS = ("moons", "circles", "eight_gaussians", "checkerboard", "swiss_roll")
DIGIT_LEVELS = 17  # the 8×8 digits' pixels take the values 0, …, 16


def flow_data(name: str) -> Dataset:
    """Digits at their 17 levels (quantized: ``pg.fit(dequantize=True)`` adds the noise);
    or a 2-D toy."""
    if name == "digits":
        return images.digits(levels=DIGIT_LEVELS)
    return getattr(toys, name)()


deep_model(
    "nice",
    "NICE: additive couplings and a scaling",
    "probgen.models.flows.NICE",
    "mle",
    flow_data,
    ("digits",),
)
deep_model(
    "realnvp",
    "RealNVP: multiscale affine couplings",
    "probgen.models.flows.RealNVP",
    "mle",
    flow_data,
    ("digits",),
)
deep_model(
    "glow",
    "Glow: ActNorm, 1×1 convolutions, couplings",
    "probgen.models.flows.Glow",
    "mle",
    flow_data,
    ("digits",),
)
deep_model("maf", "MAF on MADE", "probgen.models.flows.MAF", "mle", flow_data, (*TOYS, "digits"))
deep_model(
    "iaf",
    "IAF on MADE (slow density, fast sampling)",
    "probgen.models.flows.IAF",
    "mle",
    flow_data,
    TOYS,
)
deep_model(
    "nsf", "neural spline flow (couplings)", "probgen.models.flows.NSF", "mle", flow_data, TOYS
)
deep_model(
    "realnvp_2d",
    "RealNVP for vectors (affine couplings)",
    "probgen.models.flows.VectorRealNVP",
    "mle",
    flow_data,
    TOYS,
)
deep_model(
    "iresnet", "invertible residual network", "probgen.models.flows.IResNet", "mle", flow_data, TOYS
)
