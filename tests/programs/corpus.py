"""The corpus of ordinary Pyro and NumPyro programs that probgen must run as the libraries do.

Each module of this folder is named after the pattern its programs exercise and defines
``CASES``, a list of ``Case``. ``test_corpus.py`` runs every case twice with the same seed
and settings: through probgen (``pg.mcmc`` or ``pg.svi``) and through the raw library, the
way the library's documentation writes it (``run_raw``). The reference is the raw run:

- ``"draws"``: the same draws, bit for bit (MCMC), or the same losses (SVI);
- ``"moments"``: where the raw library has no such run (a sampler it lacks), the posterior
  mean of each site in ``exact`` within 4 Monte Carlo standard errors of probgen's draws.

Data are given in the form the library takes (torch tensors of the default dtype for Pyro,
jax or numpy arrays for NumPyro), so that probgen's conversion leaves them as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np
import numpyro
import numpyro.infer
import numpyro.optim
import pyro
import pyro.infer
import pyro.optim
import torch

import probgen as pg

WARMUP, DRAWS, SEED = 60, 40, 3
STEPS, LR = 30, 0.02


@dataclass
class Case:
    """One program on one library, run by ``method`` ("mcmc" or "svi") with ``options``.

    ``guide`` (SVI) is a name that both probgen and the raw run build as the library's
    autoguide (``"normal"``: ``AutoNormal``), or a guide function. ``pyro_options`` are
    the raw Pyro ``NUTS`` options a user of that program passes (``max_plate_nesting``
    where Pyro's docs pass it). ``exact``: posterior means, for ``compare="moments"``.
    """

    name: str
    backend: str
    model: Callable
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    method: str = "mcmc"
    guide: str | Callable = "normal"
    options: dict[str, Any] = field(default_factory=dict)
    raw_options: dict[str, Any] = field(default_factory=dict)
    compare: str = "draws"
    exact: dict[str, float] = field(default_factory=dict)
    enumerated: bool = False  # SVI: the raw run takes TraceEnum_ELBO, as probgen does
    before: Callable[[], Any] | None = None  # restores what a run changes (a net's weights)

    @property
    def id(self) -> str:
        return f"{self.name}-{self.backend}"


def run_probgen(case: Case) -> dict[str, np.ndarray]:
    """probgen's run: the draws {site: (draws, ...)} of one chain, or {"loss": losses}."""
    if case.before is not None:
        case.before()
    if case.method == "svi":
        vi = pg.svi(
            case.model,
            *case.args,
            guide=case.guide,
            steps=STEPS,
            lr=LR,
            seed=SEED,
            progress=False,
            **case.options,
            **case.kwargs,
        )
        return {"loss": np.asarray(vi.losses)}
    options = {"chains": 1, "warmup": WARMUP, "draws": DRAWS} | case.options
    post = pg.mcmc(case.model, *case.args, seed=SEED, progress=False, **options, **case.kwargs)
    return {k: v[0] for k, v in post.samples.items()}


def run_raw(case: Case) -> dict[str, np.ndarray]:
    """The raw library's run with the same seed and settings, as its docs write it."""
    if case.before is not None:
        case.before()
    if case.method == "svi":
        return {"loss": _svi_pyro(case) if case.backend == "pyro" else _svi_numpyro(case)}
    options = {"warmup": WARMUP, "draws": DRAWS} | case.options
    if case.backend == "pyro":
        pyro.set_rng_seed(SEED)
        kernel = pyro.infer.NUTS(case.model, **case.raw_options)
        mcmc = pyro.infer.MCMC(
            kernel,
            warmup_steps=options["warmup"],
            num_samples=options["draws"],
            disable_progbar=True,
        )
        mcmc.run(*case.args, **case.kwargs)
        return {k: v.detach().numpy() for k, v in mcmc.get_samples().items()}
    kernel = numpyro.infer.NUTS(case.model, **case.raw_options)
    mcmc = numpyro.infer.MCMC(
        kernel, num_warmup=options["warmup"], num_samples=options["draws"], progress_bar=False
    )
    mcmc.run(jax.random.PRNGKey(SEED), *case.args, **case.kwargs)
    return {k: np.asarray(v) for k, v in mcmc.get_samples().items()}


def _svi_pyro(case: Case) -> np.ndarray:
    pyro.clear_param_store()
    pyro.set_rng_seed(SEED)
    guide = case.guide
    if isinstance(guide, str):
        guide = getattr(pyro.infer.autoguide, _AUTOGUIDES[guide])(case.model)
    loss = pyro.infer.TraceEnum_ELBO if case.enumerated else pyro.infer.Trace_ELBO
    elbo = loss(**case.raw_options)
    svi = pyro.infer.SVI(case.model, guide, pyro.optim.Adam({"lr": LR}), loss=elbo)
    losses = [svi.step(*case.args, **case.kwargs) for _ in range(STEPS)]
    pyro.clear_param_store()
    return np.asarray(losses)


def _svi_numpyro(case: Case) -> np.ndarray:
    guide = case.guide
    if isinstance(guide, str):
        guide = getattr(numpyro.infer.autoguide, _AUTOGUIDES[guide])(case.model)
    elbo = (numpyro.infer.TraceEnum_ELBO if case.enumerated else numpyro.infer.Trace_ELBO)(
        **case.raw_options
    )
    svi = numpyro.infer.SVI(case.model, guide, numpyro.optim.Adam(LR), loss=elbo)
    result = svi.run(jax.random.PRNGKey(SEED), STEPS, *case.args, progress_bar=False, **case.kwargs)
    return np.asarray(result.losses)


_AUTOGUIDES = {"normal": "AutoNormal", "delta": "AutoDelta"}


def tensor(values: Any) -> torch.Tensor:
    """Data for a Pyro program: a tensor of torch's default dtype."""
    return torch.as_tensor(np.asarray(values), dtype=torch.get_default_dtype())
