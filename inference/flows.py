"""Normalizing-flow guides, and NeuTra: MCMC on a posterior warped by a fitted flow.

A flow guide pushes u ~ N(0, I) through an invertible map T onto the vector z of the
program's unconstrained latent values, z = T(u), so that

    log q(z) = log N(u; 0, I) − log |det ∂T/∂u|,   u = T⁻¹(z).

Pyro's ``AutoNormalizingFlow`` and NumPyro's ``AutoIAFNormal`` and ``AutoBNAFNormal`` make
a guide over all latent sites from T; this module chooses T. With d latent values, hidden
layers of width h = max(2d, 16) (with each library's activation) and the order of z
reversed between layers:

- ``"iaf"``: 2 inverse autoregressive affine layers, z_i = μ_i(u_<i) + σ_i(u_<i) u_i
  (Kingma et al., 2016), each by a network of two hidden layers of width h;
- ``"realnvp"``: 4 affine coupling layers (Dinh et al., 2017): the first ⌊d/2⌋ values pass
  unchanged and z_B = u_B ⊙ exp(s(u_A)) + t(u_A) moves the rest, s, t networks as above;
- ``"nsf"``: 2 autoregressive spline layers (Durkan et al., 2019): z_i is a monotone
  rational-quadratic spline of u_i with 8 bins on [−5, 5] (identity outside), its knots
  set by a network of u_<i (Pyro draws each layer's order of the values at random);
- ``"bnaf"``: 1 block neural autoregressive layer (De Cao et al., 2019) with hidden
  factors [8, 8], the libraries' default.

NumPyro's autoguides have no coupling or spline flows, so NumPyro programs take "iaf" and
"bnaf" only.

NeuTra (Hoffman et al., 2019) fits such a guide by SVI and then runs MCMC on the pulled-back
density of u,

    p̃(u) = p(x, z(T(u))) |det ∂z/∂ζ| |det ∂T/∂u|,

ζ = T(u) being the unconstrained values and z(ζ) their map to each site's support. Where
q ≈ p, p̃ ≈ N(0, I), whose geometry suits any fixed step size; draws u map back to
z = z(T(u)). Any fit keeps the chain exact: T changes only the geometry the sampler sees.
The libraries' own ``NeuTraReparam`` does the rewriting. Tests:
tests/inference/test_flow_guides.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro.infer.autoguide as numpyro_guides
import numpyro.infer.reparam
import pyro.distributions.transforms as pyro_transforms
import pyro.infer.autoguide as pyro_guides
import pyro.infer.reparam
import pyro.poutine
import torch
from pyro.nn import AutoRegressiveNN

from probgen.errors import ArgumentError, ModelError
from probgen.inference.mala import MALA
from probgen.inference.mcmc import NUTS
from probgen.inference.mh import RandomWalk
from probgen.inference.ula import ULA
from probgen.programs import Program, as_numpy, to_backend
from probgen.results import Posterior, VIResult

FLOWS = ("iaf", "realnvp", "nsf", "bnaf")
NUMPYRO_FLOWS = ("iaf", "bnaf")
LAYERS = {"iaf": 2, "realnvp": 4, "nsf": 2, "bnaf": 1}
SPLINE_BOUND = 5.0
BNAF_HIDDEN_FACTORS = (8, 8)

# samplers that move the whole unconstrained latent vector, so they run unchanged on u;
# Gibbs and the independence sampler address the program's own sites by name, and SGLD
# the minibatches of a subsampled program, none of which the warped program has
WARPABLE = (NUTS, MALA, ULA, RandomWalk)

_PYRO_LAYERS = {
    "iaf": lambda dim, hidden: pyro_transforms.AffineAutoregressive(
        AutoRegressiveNN(dim, hidden, permutation=torch.arange(dim))
    ),
    "realnvp": lambda dim, hidden: pyro_transforms.affine_coupling(dim, hidden_dims=hidden),
    # the autoregressive splines start near the identity and fit in a few hundred steps
    # where spline coupling layers stall far from it
    "nsf": lambda dim, hidden: pyro_transforms.spline_autoregressive(
        dim, hidden_dims=hidden, bound=SPLINE_BOUND
    ),
    "bnaf": lambda dim, hidden: pyro_transforms.block_autoregressive(
        dim, hidden_factors=list(BNAF_HIDDEN_FACTORS)
    ),
}


def hidden_width(size: int) -> int:
    """The width h = max(2d, 16) of the flows' hidden layers for d latent values."""
    return max(2 * size, 16)


def flow_guide(program: Program, name: str, size: int) -> Any:
    """The flow guide ``name`` (one of ``FLOWS``) of ``program``, which has ``size`` latent
    values; see the module docstring for each flow. Checked in test_flow_guides.py: each
    beats the best mean-field Gaussian's ELBO on a banana and stays below log p(x).
    """
    width = hidden_width(size)
    if program.backend == "pyro":
        return pyro_guides.AutoNormalizingFlow(program.model, _PyroFlow(name, width))
    if name == "iaf":
        return numpyro_guides.AutoIAFNormal(
            program.model, num_flows=LAYERS["iaf"], hidden_dims=[width, width]
        )
    if name == "bnaf":
        return numpyro_guides.AutoBNAFNormal(
            program.model, num_flows=LAYERS["bnaf"], hidden_factors=list(BNAF_HIDDEN_FACTORS)
        )
    raise ArgumentError(
        f"guide={name!r} needs {'spline' if name == 'nsf' else 'affine coupling'} layers, "
        f"which NumPyro's autoguides do not have: NumPyro programs take the flow guides "
        f"{NUMPYRO_FLOWS} ('iaf' = AutoIAFNormal, 'bnaf' = AutoBNAFNormal), or write the "
        "program in Pyro"
    )


@dataclass(frozen=True)
class _PyroFlow:
    """The transform T of a Pyro flow guide: ``LAYERS[name]`` layers, z reversed between.

    ``AutoNormalizingFlow`` calls it with the dimension of z once it has traced the model.
    """

    name: str
    width: int

    def __call__(self, dim: int) -> pyro_transforms.ComposeTransformModule:
        make = _PYRO_LAYERS[self.name]
        reverse = pyro_transforms.Permute(torch.arange(dim - 1, -1, -1))
        parts = [make(dim, [self.width, self.width])]
        for _ in range(LAYERS[self.name] - 1):
            parts += [reverse, make(dim, [self.width, self.width])]
        return pyro_transforms.ComposeTransformModule(parts)


@dataclass(frozen=True)
class NeuTra:
    """NeuTra MCMC: fit the flow guide ``guide`` q = T₊N(0, I), then sample p̃(u).

    p̃(u) = p(x, T(u)) |det ∂T/∂u| (see the module docstring). The guide is fitted as
    ``pg.svi(..., guide=guide, steps=steps, lr=lr, lr_decay=lr_decay, particles=particles)``
    does: Adam on the Trace ELBO, the rate decaying geometrically to lr · lr_decay. Several
    particles and the decay matter: on Neal's funnel one particle at a constant rate leaves
    the ELBO near −1 nat and the warped chain about as hard as the original; eight
    particles and the decay reach about −0.3. The guide's parameters stay fixed while the sampler
    runs. ``pg.mcmc(..., reparam="neutra")`` means ``reparam=NeuTra()``. Checked on Neal's
    funnel in test_flow_guides.py: the exact marginal of v, with a higher ESS than plain
    NUTS.
    """

    guide: str = "iaf"
    steps: int = 2000
    lr: float = 1e-2
    lr_decay: float = 0.01
    particles: int = 8
    name = "neutra"

    def __post_init__(self):
        if self.guide not in FLOWS:
            raise ArgumentError(f"NeuTra's guide must be one of {FLOWS}, got {self.guide!r}")
        for field, value in (("steps", self.steps), ("particles", self.particles)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ArgumentError(f"NeuTra's {field} must be an integer ≥ 1, got {value!r}")
        if not self.lr > 0:
            raise ArgumentError(f"NeuTra's lr must be positive, got {self.lr}")
        if not 0 < self.lr_decay <= 1:
            raise ArgumentError(f"NeuTra's lr_decay must lie in (0, 1], got {self.lr_decay}")

    def warp(self, fitted: VIResult) -> Warped:
        """The program of ``fitted`` rewritten to sample u, with the fitted guide's T."""
        program = fitted.program
        if program.backend == "pyro":
            fitted.guide.requires_grad_(False)  # T stays as fitted while the sampler runs
            reparam = pyro.infer.reparam.NeuTraReparam(fitted.guide)
            latent = set(program.site_names("latent"))
            model = pyro.poutine.reparam(
                program.model, config=lambda site: reparam if site["name"] in latent else None
            )
        else:
            reparam = numpyro.infer.reparam.NeuTraReparam(fitted.guide, fitted.state)
            model = reparam.reparam(program.model)
        warped = Program(model, program.args, program.kwargs, program.backend, program.device)
        # one step's loss is a noisy estimate: average the last hundred
        loss = float(np.mean(fitted.losses[-100:]))
        attrs = {"reparam": self.name, "neutra_guide": self.guide, "neutra_loss": loss}
        return Warped(warped, program, reparam, attrs)


@dataclass(frozen=True)
class Warped:
    """A program rewritten by NeuTra (``program``: its one latent site is u) and the way
    back to the ``original`` program's sites, through the library's ``reparam``."""

    program: Program
    original: Program
    reparam: Any
    attrs: dict[str, Any]

    def posterior(self, warped: Posterior) -> Posterior:
        """The draws of u mapped to the original latent sites, z = z(T(u)), as a
        ``Posterior`` of the original program; ``attrs`` record the guide's final loss."""
        (site,) = self.program.site_names("latent")
        u = warped.samples[site]
        chains, draws = u.shape[:2]
        if self.original.backend == "pyro":
            # Pyro's unpacking broadcasts batch dims against the plates: keep them left
            nesting = self.original.max_plate_nesting
            u = u.reshape((-1, *[1] * nesting, u.shape[-1]))
            u = to_backend(u, "pyro", self.original.device)
            with torch.no_grad():
                values = self.reparam.transform_sample(u)
        else:
            values = self.reparam.transform_sample(jnp.asarray(u))
        sites = self.original.sites()
        samples = {
            k: as_numpy(values[k]).reshape((chains, draws, *sites[k].value.shape))
            for k in self.original.site_names("latent")
        }
        deterministic = self.original.site_names("deterministic")
        samples.update({k: v for k, v in warped.samples.items() if k in deterministic})
        attrs = {**warped.attrs, **self.attrs}
        return Posterior(samples, warped.sample_stats, self.original, attrs=attrs)


def neutra(
    reparam: str | NeuTra | None, program: Program, sampler: Any, init: Any
) -> NeuTra | None:
    """The NeuTra settings that ``pg.mcmc``'s ``reparam`` asks for (None: no reparam).

    Raises ``ArgumentError`` for an unknown ``reparam``, a sampler that does not move the
    whole latent vector, or an ``init`` dict (it names sites that the sampler no longer
    sees), and ``ModelError`` for a program with a discrete latent site.
    """
    if reparam is None:
        return None
    if reparam == "neutra":
        reparam = NeuTra()
    if not isinstance(reparam, NeuTra):
        raise ArgumentError(
            f"reparam must be None, 'neutra' or a NeuTra(guide=..., steps=..., lr=...) "
            f"(from probgen.inference.flows import NeuTra), got {reparam!r}"
        )
    if not isinstance(sampler, WARPABLE):
        raise ArgumentError(
            f"reparam='neutra' runs the sampler on the warped vector u; sampler "
            f"{sampler.name!r} works on the program's own sites or minibatches: use "
            "'nuts', 'hmc', 'mala', 'ula' or 'mh', or leave reparam=None"
        )
    if isinstance(init, dict):
        raise ArgumentError(
            "init as a dict sets the program's own sites, which reparam='neutra' replaces "
            "by u = T⁻¹(z): pass init='uniform', 'median', 'mean' or 'sample' (of u)"
        )
    discrete = [s.name for s in program.sites().values() if s.kind == "latent" and s.discrete]
    if discrete:
        raise ModelError(
            f"site {discrete[0]!r} is a discrete latent variable, and NeuTra warps the "
            "continuous latent space only: sample the program without reparam"
        )
    return reparam
