"""Results: ``Posterior`` (draws of any sampler or guide) and ``Run`` (a training history)."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd

from probgen import predictive as _predictive
from probgen.diagnostics.convergence import check as _check
from probgen.errors import ArgumentError
from probgen.files import atomic_write
from probgen.programs import Program


class Posterior:
    """Draws from a posterior, shaped (chains, draws, ...), and their sample statistics.

    The one result class of every sampler and guide. Diagnostics go through ArviZ:
    ``to_arviz()`` returns ``InferenceData`` with the groups ``posterior``,
    ``sample_stats``, ``log_likelihood`` (pointwise, for LOO) and ``observed_data``.
    """

    def __init__(
        self,
        samples: dict[str, np.ndarray],
        sample_stats: dict[str, np.ndarray] | None = None,
        program: Program | None = None,
        attrs: dict[str, Any] | None = None,
    ):
        self.samples = {k: np.asarray(v) for k, v in samples.items()}
        self.sample_stats = {k: np.asarray(v) for k, v in (sample_stats or {}).items()}
        self.program = program
        self.attrs = dict(attrs or {})
        self._idata: az.InferenceData | None = None

    @property
    def chains(self) -> int:
        return next(iter(self.samples.values())).shape[0]

    @property
    def draws(self) -> int:
        return next(iter(self.samples.values())).shape[1]

    def __repr__(self) -> str:
        sites = ", ".join(self.samples)
        return f"Posterior({self.chains} chains × {self.draws} draws: {sites})"

    def flat(self) -> dict[str, np.ndarray]:
        """The draws with chains concatenated: ``{site: array (chains·draws, ...)}``."""
        return {k: v.reshape((-1, *v.shape[2:])) for k, v in self.samples.items()}

    def to_arviz(self) -> az.InferenceData:
        """ArviZ ``InferenceData``: posterior, sample_stats, log_likelihood, observed_data."""
        if self._idata is None:
            groups: dict[str, Any] = {"posterior": self.samples, "attrs": self.attrs}
            if self.sample_stats:
                groups["sample_stats"] = self.sample_stats
            if self.program is not None:
                groups["observed_data"] = self.program.observed_data()
                groups["log_likelihood"] = self._log_likelihood()
            self._idata = az.from_dict(**{k: v for k, v in groups.items() if v})
        return self._idata

    def summary(self, **kwargs: Any) -> pd.DataFrame:
        """ArviZ's summary table: mean, sd, hdi, mcse, ess_bulk, ess_tail, r_hat."""
        return az.summary(self._draws_only(), **kwargs)

    def check(self) -> list[str]:
        """Convergence problems: R̂ > 1.01, ESS < 100 per chain, divergences, E-BFMI < 0.3.

        An empty list means that none was found. See ``probgen.diagnostics.check``.
        """
        return _check(self._draws_only())

    def predictive(self, n: int | None = None, seed: int = 0) -> dict[str, np.ndarray]:
        """Posterior-predictive draws of the observed sites, ``{site: array (n, ...)}``.

        For each of ``n`` posterior draws θ_i (all of them by default, else a random
        subset) it samples y_rep,i ~ p(y | θ_i) from the program's likelihood.
        """
        program = self._need_program("predictive")
        flat = self.flat()
        total = self.chains * self.draws
        n = total if n is None else int(n)
        if n < 1:
            raise ArgumentError(f"n must be at least 1, got {n}")
        rng = np.random.default_rng(seed)
        index = rng.choice(total, size=n, replace=n > total)
        draws = {k: flat[k][index] for k in program.site_names("latent") if k in flat}
        return _predictive.site_values(
            program, draws, program.site_names("observed"), seed=seed, uncondition=True
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write the ``InferenceData`` to a netCDF file, atomically (temp file + rename)."""
        with atomic_write(path) as tmp:
            self.to_arviz().to_netcdf(tmp, engine="h5netcdf")
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike, program: Program | None = None) -> Posterior:
        """Read a posterior written by ``save``. Pass ``program`` to draw predictions."""
        idata = az.from_netcdf(path, engine="h5netcdf")
        samples = {k: v.values for k, v in idata.posterior.data_vars.items()}
        stats = {}
        if hasattr(idata, "sample_stats"):
            stats = {k: v.values for k, v in idata.sample_stats.data_vars.items()}
        posterior = cls(samples, stats, program, attrs=dict(idata.attrs))
        posterior._idata = idata
        return posterior

    def _draws_only(self) -> az.InferenceData:
        if self._idata is not None:
            return self._idata
        groups = {"posterior": self.samples, "sample_stats": self.sample_stats or None}
        return az.from_dict(**{k: v for k, v in groups.items() if v is not None})

    def _log_likelihood(self) -> dict[str, np.ndarray] | None:
        program = self.program
        if program.enumerated or program.subsampled:
            why = "sums discrete sites out" if program.enumerated else "subsamples its data"
            warnings.warn(
                f"the log_likelihood group is left out: the program {why}, and pointwise "
                "likelihoods of such programs are not computed",
                stacklevel=3,
            )
            return None
        latent = {k: v for k, v in self.flat().items() if k in program.site_names("latent")}
        pointwise = _predictive.log_likelihood(program, latent)
        return {k: v.reshape((self.chains, self.draws, *v.shape[1:])) for k, v in pointwise.items()}

    def _need_program(self, what: str) -> Program:
        if self.program is None:
            raise ArgumentError(
                f"{what}() needs the program: this Posterior was loaded from a file; "
                "use Posterior.load(path, program=probgen.programs.prepare(model, args, kwargs))"
            )
        return self.program


@dataclass
class Run:
    """A training history: the loss per step, named metrics and checkpoint paths."""

    losses: np.ndarray
    metrics: dict[str, list[float]] = field(default_factory=dict)
    checkpoints: list[Path] = field(default_factory=list)


@dataclass
class VIResult(Run):
    """A fitted variational guide: its loss history, parameters and posterior draws."""

    program: Program | None = None
    guide: Any = None
    params: dict[str, np.ndarray] = field(default_factory=dict)
    state: Any = field(default=None, repr=False)

    def posterior(self, draws: int = 1000, seed: int = 0) -> Posterior:
        """A ``Posterior`` of ``draws`` independent draws z ~ q(z), as one chain."""
        if draws < 1:
            raise ArgumentError(f"draws must be at least 1, got {draws}")
        samples = _predictive.guide_draws(self.program, self.guide, self.state, draws, seed)
        samples = {k: v[None] for k, v in samples.items()}
        return Posterior(samples, None, self.program, attrs={"sampler": "svi"})
