"""Normalizing-flow guides, and NeuTra: MCMC on a posterior warped by a fitted flow.

A flow guide pushes u ~ N(0, I) through an invertible map T onto the vector z of the
program's unconstrained latent values, z = T(u), so that

    log q(z) = log N(u; 0, I) − log |det ∂T/∂u|,   u = T⁻¹(z).

Pyro's ``AutoNormalizingFlow`` and NumPyro's ``AutoIAFNormal`` and ``AutoBNAFNormal`` make
a guide over all latent sites from T; this module chooses T. With d latent values, hidden
layers of width h = max(2d, 16) (with each library's activation) and the order of z
reversed between layers:

- ``"iaf"``: 3 inverse autoregressive affine layers, z_i = μ_i(u_<i) + σ_i(u_<i) u_i
  (Kingma et al., 2016), each by a network of two hidden layers of width h, with
  log σ_i clipped to [−8, 8] (the libraries' default is [−5, 3]);
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
The libraries' own ``NeuTraReparam`` does the rewriting.

Where T's scales miss the posterior's, p̃ is as hard as p there and NUTS diverges.
Neal's funnel, v ~ N(0, 3²), x_i | v ~ N(0, e^v), shows it: its exact T is one IAF layer,
v = 3u₀, x_i = e^{v/2} u_i, so log σ_i = v/2 is linear in u₀. The default clip log σ ≤ 3
stops T's scale at v = 6 (2 sd), past which NeuTra's chains got stuck, diverging; hence the
wider clip. A third layer, which sees z in the first one's order, cuts the fitted −ELBO from
≈ 0.03 to ≈ 0.01 nats. ``NeuTra`` says why its fit takes the budget it takes. Tests:
tests/inference/test_flow_guides.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from probgen import lazy
from probgen.checks import at_least
from probgen.errors import ArgumentError, ModelError
from probgen.inference.guide_names import FLOWS, NUMPYRO_FLOWS
from probgen.inference.mala import MALA
from probgen.inference.mcmc import NUTS
from probgen.inference.mh import RandomWalk
from probgen.inference.ula import ULA
from probgen.programs import Program, as_numpy, to_backend
from probgen.results import Posterior, VIResult

flows_numpyro = lazy.load("probgen.inference.flows_numpyro", globals())
jnp = lazy.load("jax.numpy", globals())
numpyro = lazy.load("numpyro", globals())
numpyro_guides = lazy.load("numpyro.infer.autoguide", globals())
numpyro_reparam = lazy.load("numpyro.infer.reparam", globals())
pyro = lazy.load("pyro", globals())
pyro_guides = lazy.load("pyro.infer.autoguide", globals())
pyro_nn = lazy.load("pyro.nn", globals())
pyro_reparam = lazy.load("pyro.infer.reparam", globals())
pyro_transforms = lazy.load("pyro.distributions.transforms", globals())
torch = lazy.load("torch", globals())

LAYERS = {"iaf": 3, "realnvp": 4, "nsf": 2, "bnaf": 1}
# each IAF layer's bounds on log σ_i: one layer reaches the funnel's e^{v/2} for |v| ≤ 16
IAF_LOG_SCALE_CLIP = (-8.0, 8.0)
SPLINE_BOUND = 5.0
# NeuTra's fit, (steps, particles), when not given: Pyro evaluates particles one by one
DEFAULT_BUDGET = {"numpyro": (8000, 64), "pyro": (2000, 8)}
BNAF_HIDDEN_FACTORS = (8, 8)

# samplers that move the whole unconstrained latent vector, so they run unchanged on u;
# Gibbs and the independence sampler address the program's own sites by name, and SGLD
# the minibatches of a subsampled program, none of which the warped program has
WARPABLE = (NUTS, MALA, ULA, RandomWalk)

_PYRO_LAYERS = {
    "iaf": lambda dim, hidden: pyro_transforms.AffineAutoregressive(
        pyro_nn.AutoRegressiveNN(dim, hidden, permutation=torch.arange(dim)),
        log_scale_min_clip=IAF_LOG_SCALE_CLIP[0],
        log_scale_max_clip=IAF_LOG_SCALE_CLIP[1],
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
        return flows_numpyro.AutoIAF(
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
    does: Adam on the Trace ELBO, the rate decaying geometrically to lr · lr_decay. The
    guide's parameters stay fixed while the sampler runs. ``pg.mcmc(..., reparam="neutra")``
    means ``reparam=NeuTra()``.

    The budget decides the tails of T, which the ELBO's draws from q seldom reach. On Neal's
    funnel 2000 steps of 8 particles leave −ELBO ≈ 0.2 nats and T's scales off by a factor
    of 2–5 where |v| > 5, where the warped chain diverges more often than plain NUTS; the
    NumPyro default, 8000 steps of 64 particles, reaches ≈ 0.01 nats in seconds, the
    particles run as one batch. Pyro runs them one after another (≈ 5 ms each a step on the
    funnel), so its default budget (``steps=None``, ``particles=None``: ``DEFAULT_BUDGET``)
    is 2000 steps of 8 particles, about 1.5 minutes there; ask for more where the tails
    matter. Checked on Neal's funnel in test_flow_guides.py: fewer divergences than plain
    NUTS, the exact marginal of v and a far higher ESS.
    """

    guide: str = "iaf"
    steps: int | None = None
    lr: float = 1e-2
    lr_decay: float = 0.01
    particles: int | None = None
    name = "neutra"

    def __post_init__(self):
        if self.guide not in FLOWS:
            raise ArgumentError(f"NeuTra's guide must be one of {FLOWS}, got {self.guide!r}")
        for field, value in (("steps", self.steps), ("particles", self.particles)):
            if value is not None:
                at_least(f"NeuTra's {field}", value, 1)
        if not self.lr > 0:
            raise ArgumentError(f"NeuTra's lr must be positive, got {self.lr}")
        if not 0 < self.lr_decay <= 1:
            raise ArgumentError(f"NeuTra's lr_decay must lie in (0, 1], got {self.lr_decay}")

    def budget(self, backend: str) -> tuple[int, int]:
        """(steps, particles) of the fit: the given ones, else ``DEFAULT_BUDGET[backend]``."""
        steps, particles = DEFAULT_BUDGET[backend]
        return self.steps or steps, self.particles or particles

    def warp(self, fitted: VIResult) -> Warped:
        """The program of ``fitted`` rewritten to sample u, with the fitted guide's T."""
        program = fitted.program
        if program.backend == "pyro":
            fitted.guide.requires_grad_(False)  # T stays as fitted while the sampler runs
            reparam = pyro_reparam.NeuTraReparam(fitted.guide)
            latent = set(program.site_names("latent"))
            model = pyro.poutine.reparam(
                program.model, config=lambda site: reparam if site["name"] in latent else None
            )
        else:
            reparam = numpyro_reparam.NeuTraReparam(fitted.guide, fitted.state)
            model = reparam.reparam(program.model)
        # the warped program's one latent site is u: the original init does not apply to it
        warped = program.rebind(model, init=None)
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
            k: as_numpy(values[k]).reshape((chains, draws, *sites[k].shape))
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
