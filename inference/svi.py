"""Stochastic variational inference on both backends with the libraries' ELBOs and guides.

SVI maximises ELBO(φ) = E_q[log p(x, z) − log q_φ(z)] by Adam on a Monte Carlo
estimate of its gradient. The Rényi bound (Li & Turner, 2016) with α = 0 and K particles
is the importance-weighted bound of Burda et al. (2016),
L_K = E[log (1/K) Σ_k p(x, z_k) / q(z_k)].
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from tqdm.auto import trange

from probgen import lazy
from probgen.discrete import enumerated_sites
from probgen.errors import ArgumentError, ModelError, TrainingError, invalid_parameter
from probgen.inference.guide_names import AUTOGUIDES, FLOWS
from probgen.programs import Program, as_numpy
from probgen.results import VIResult

# the flows import both libraries: only a flow guide needs them
flows = lazy.load("probgen.inference.flows", globals())
jax = lazy.load("jax", globals())
numpyro = lazy.load("numpyro", globals())
numpyro_guides = lazy.load("numpyro.infer.autoguide", globals())
pyro = lazy.load("pyro", globals())
pyro_guides = lazy.load("pyro.infer.autoguide", globals())
pyro_optim = lazy.load("pyro.optim", globals())
torch = lazy.load("torch", globals())

GUIDES = (*AUTOGUIDES, *FLOWS)
ELBOS = ("trace", "meanfield", "renyi")


def make_guide(program: Program, guide: str | Callable) -> Callable:
    """The library's autoguide called ``guide``, or the user's guide function as is.

    The flow guides (``FLOWS``: "iaf", "realnvp", "nsf", "bnaf") come from ``flows.py``.
    An autoguide of a program that sums discrete sites out sees the program with those
    sites hidden (``poutine.block`` / ``handlers.block``, as in Pyro's Gaussian-mixture
    tutorial): q covers the continuous sites only, and ``TraceEnum_ELBO`` sums the
    hidden ones out of the model.
    """
    if callable(guide):
        return guide
    if guide not in GUIDES:
        raise ArgumentError(f"guide must be one of {GUIDES} or a guide function, got {guide!r}")
    if discrete := program.discrete_latents():
        raise ModelError(
            f"site {discrete[0]!r} is a discrete latent variable, which the {guide!r} "
            "autoguide cannot fit: sum it out with infer={'enumerate': 'parallel'} or "
            "pass a guide function"
        )
    if hidden := enumerated_sites(program):
        if guide == "laplace":  # its Hessian would be of one random draw of the hidden sites
            raise ArgumentError(
                f"guide='laplace' cannot sum out the enumerated sites {hidden}: use "
                "guide='delta' for the MAP, or 'normal' or 'mvn'"
            )
        block = pyro.poutine.block if program.backend == "pyro" else numpyro.handlers.block
        blocked = block(program.model, hide=hidden)
        program = program.rebind(blocked)
    if guide in FLOWS:
        size = sum(math.prod(program.sites()[k].shape) for k in program.site_names("latent"))
        if size < 2:
            raise ArgumentError(
                f"guide={guide!r} needs at least 2 latent dimensions and {program.name} has "
                f"{size}: use guide='normal', which is exact for one dimension's Gaussian"
            )
        return flows.flow_guide(program, guide, size)
    library = pyro_guides if program.backend == "pyro" else numpyro_guides
    return getattr(library, AUTOGUIDES[guide])(program.model)


def make_elbo(program: Program, elbo: str, particles: int, alpha: float):
    """The library's ELBO: Trace, TraceMeanField or Rényi (α, K particles).

    A program that sums discrete sites out by enumeration gets the enumerating
    ``TraceEnum_ELBO`` in place of ``"trace"`` (with the program's plate nesting on
    Pyro), which computes E_q[log Σ_z p(x, z, θ) − log q(θ)]; the other ELBOs cannot
    sum sites out and are refused for such programs.
    """
    if elbo not in ELBOS:
        raise ArgumentError(f"elbo must be one of {ELBOS}, got {elbo!r}")
    library = pyro.infer if program.backend == "pyro" else numpyro.infer
    if program.enumerated:
        if elbo != "trace":
            raise ArgumentError(
                f"elbo={elbo!r} cannot sum out the enumerated sites "
                f"{enumerated_sites(program)}: use elbo='trace' (TraceEnum_ELBO)"
            )
        if program.backend == "pyro":
            nesting = program.max_plate_nesting
            return library.TraceEnum_ELBO(num_particles=particles, max_plate_nesting=nesting)
        return library.TraceEnum_ELBO(num_particles=particles)
    if elbo == "renyi":
        if alpha == 1:
            raise ArgumentError("alpha=1 is the standard ELBO: use elbo='trace'")
        return library.RenyiELBO(alpha=alpha, num_particles=particles)
    if elbo == "meanfield":
        return library.TraceMeanField_ELBO(num_particles=particles)
    return library.Trace_ELBO(num_particles=particles)


def run(
    program: Program,
    guide: Callable,
    elbo: Any,
    *,
    steps: int,
    lr: float,
    lr_decay: float = 1.0,
    seed: int,
    progress: bool,
    laplace: bool = False,
) -> VIResult:
    """Fit ``guide`` to ``program`` by ``steps`` Adam steps on the negative ELBO.

    The learning rate decays geometrically, lr_t = lr · lr_decay^(t/steps), so that the
    last step takes lr · lr_decay.

    With ``laplace`` the fitted MAP guide is replaced by its Laplace approximation,
    N(ẑ, H⁻¹) in the unconstrained space, H the Hessian of −log p(x, z) at the MAP ẑ.
    """
    fit = _run_pyro if program.backend == "pyro" else _run_numpyro
    gamma = lr_decay ** (1.0 / steps)
    return fit(program, guide, elbo, steps, lr, gamma, seed, progress, laplace)


def _run_pyro(program, guide, elbo, steps, lr, gamma, seed, progress, laplace):
    store = pyro.get_param_store()
    optimizer = pyro_optim.ExponentialLR(
        {"optimizer": torch.optim.Adam, "optim_args": {"lr": lr}, "gamma": gamma}
    )
    with store.scope() as state, program.torch_device():
        pyro.set_rng_seed(seed)
        svi = pyro.infer.SVI(program.model, guide, optimizer, loss=elbo)
        losses = np.empty(steps)
        for step in trange(steps, disable=not progress, desc="SVI"):
            try:
                losses[step] = svi.step(*program.args, **program.kwargs)
            except ValueError as exc:  # a NaN parameter of a distribution, found by validation
                if not invalid_parameter(exc):
                    raise
                _diverged("a distribution's parameter became invalid (NaN)", step, steps, exc)
            if not math.isfinite(losses[step]):
                _diverged(f"the loss became {losses[step]}", step, steps)
            optimizer.step()
        if laplace:
            guide = guide.laplace_approximation(*program.args, **program.kwargs)
        params = {k: as_numpy(v) for k, v in store.items()}
    if isinstance(guide, torch.nn.Module):  # the Laplace guide keeps its moments as buffers
        params.update({k: as_numpy(v) for k, v in guide.named_buffers()})
    return VIResult(
        losses,
        program=program,
        guide=guide,
        params=params,
        state=state,
        summed_out=enumerated_sites(program),
    )


def _run_numpyro(program, guide, elbo, steps, lr, gamma, seed, progress, laplace):
    optimizer = numpyro.optim.Adam(lambda t: lr * gamma**t)
    svi = numpyro.infer.SVI(program.model, guide, optimizer, loss=elbo)
    result = svi.run(
        jax.random.PRNGKey(seed), steps, *program.args, progress_bar=progress, **program.kwargs
    )
    losses = np.asarray(result.losses)
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        _diverged(f"the loss became {losses[bad[0]]}", int(bad[0]), steps)
    # a flow guide's parameters are nested: keep the pytree, as numpy arrays
    params = jax.tree_util.tree_map(np.asarray, result.params)
    return VIResult(
        losses,
        program=program,
        guide=guide,
        params=params,
        state=result.params,
        summed_out=enumerated_sites(program),
    )


def _diverged(what: str, step: int, steps: int, cause: Exception | None = None):
    raise TrainingError(
        f"{what} at step {step + 1} of {steps}: lower lr, check the model's support and "
        "initial values, or try a simpler guide"
    ) from cause
