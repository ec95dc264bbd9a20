"""Results: ``Posterior`` (draws of any sampler or guide) and ``Run`` (a training history)."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from probgen import lazy
from probgen.errors import ArgumentError, ModelError
from probgen.files import atomic_write

if TYPE_CHECKING:
    import pandas as pd

    from probgen.programs import Program

# ArviZ (with pandas and xarray) is imported when a result is converted
az = lazy.load("arviz", globals())
_convergence = lazy.load("probgen.diagnostics.convergence", globals())
_discrete = lazy.load("probgen.discrete", globals())
_marginal = lazy.load("probgen.marginal", globals())
_predictive = lazy.load("probgen.predictive", globals())
_subsample = lazy.load("probgen.subsample", globals())


class Posterior:
    """Draws from a posterior, shaped (chains, draws, ...), and their sample statistics.

    The one result class of every sampler and guide. Diagnostics go through ArviZ:
    ``to_arviz()`` returns ``InferenceData`` with the groups ``posterior``,
    ``sample_stats``, ``log_likelihood`` (pointwise, for LOO) and ``observed_data``.
    ``discrete()`` draws the discrete sites that the program sums out.
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
        self._discrete: dict[str, np.ndarray] = {}

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
        """ArviZ ``InferenceData``: posterior, sample_stats, log_likelihood, observed_data.

        For a program that sums discrete sites out, the posterior group also holds their
        draws (``discrete()``), and the log_likelihood group the likelihood with them
        summed out, per observation or per sequence as its attribute ``unit`` says (see
        ``probgen.marginal``).
        """
        if self._idata is None:
            groups: dict[str, Any] = {"posterior": self.samples, "attrs": self.attrs}
            if self.sample_stats:
                groups["sample_stats"] = self.sample_stats
            unit = None
            if self.program is not None:
                groups["observed_data"] = self.program.observed_data()
                groups["log_likelihood"], unit = self._log_likelihood()
                groups["posterior"] = {**self.samples, **self._discrete_or_none()}
            self._idata = az.from_dict(**{k: v for k, v in groups.items() if v})
            if unit is not None and hasattr(self._idata, "log_likelihood"):
                self._idata.log_likelihood.attrs["unit"] = unit
        return self._idata

    def discrete(self, sites: list[str] | None = None, seed: int = 0) -> dict[str, np.ndarray]:
        """Draws of the discrete sites that the program sums out, ``{site: (chains, draws, ...)}``.

        For each draw θ of the continuous latents, one draw z ~ p(z | x, θ) by the
        libraries' ``infer_discrete`` (temperature 1), so (z, θ) are draws of the joint
        posterior; ``sites`` picks some of the enumerated sites (all by default). They
        are kept apart from ``samples``, which hold what the sampler or guide drew (and
        which ``summary()`` and ``check()`` judge), and are drawn once, on first use;
        ``to_arviz()`` puts them in the posterior group. Sites already in ``samples`` (a
        Gibbs sampler's, or a saved posterior's) are returned as they are. See
        ``probgen.discrete``.
        """
        program = self._need_program("discrete")
        wanted = _discrete.select(program, sites)
        # a sampler that drew them (Gibbs), or a saved posterior, already holds them
        held = {k: self.samples[k] for k in wanted if k in self.samples}
        missing = [k for k in wanted if k not in held and k not in self._discrete]
        if missing:
            names = program.site_names("latent")
            latent = {k: v for k, v in self.flat().items() if k in names}
            with program.scope():
                new = _discrete.draws(program, latent, missing, seed)
            shape = (self.chains, self.draws)
            self._discrete.update({k: v.reshape(shape + v.shape[1:]) for k, v in new.items()})
        return {k: held[k] if k in held else self._discrete[k] for k in wanted}

    def summary(self, **kwargs: Any) -> pd.DataFrame:
        """ArviZ's summary table: mean, sd, hdi, mcse, ess_bulk, ess_tail, r_hat."""
        return az.summary(self._draws_only(), **kwargs)

    def check(self) -> list[str]:
        """Convergence problems: R̂ > 1.01, ESS < 100 per chain, divergences, E-BFMI < 0.3.

        An empty list means that none was found. R̂ compares chains: a one-chain posterior
        (``VIResult.posterior``) is checked without it, quietly. See
        ``probgen.diagnostics.check``.
        """
        return _convergence.check(self._draws_only())

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
        with program.scope():
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
        """Read a posterior written by ``save``. Pass ``program`` to draw predictions.

        ``ArgumentError``, naming the path, when the file is missing or is not a posterior
        file (empty, truncated, not netCDF, or without a ``posterior`` group).
        """
        idata = _read_netcdf(Path(path))
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

    def _discrete_or_none(self) -> dict[str, np.ndarray]:
        try:
            return self.discrete()
        except ModelError as exc:
            warnings.warn(
                f"the discrete sites are left out of the posterior group: {exc}", stacklevel=3
            )
            return {}

    def _log_likelihood(self) -> tuple[dict[str, np.ndarray] | None, str | None]:
        """The pointwise log-likelihood and its unit ("observation", or "sequence" for
        dependent observations that are summed over together)."""
        program = self.program
        if program.subsampled:
            warnings.warn(
                "the log_likelihood group is left out: the program subsamples its data, "
                "and pointwise likelihoods of such programs are not computed",
                stacklevel=3,
            )
            return None, None
        latent = {k: v for k, v in self.flat().items() if k in program.site_names("latent")}
        unit = "observation"
        with program.scope():
            if any(k not in latent for k in _discrete.enumerated_sites(program)):
                pointwise, unit = _marginal.log_likelihood(program, latent)
            else:
                pointwise = _predictive.log_likelihood(program, latent)
        shape = (self.chains, self.draws)
        return {k: v.reshape(shape + v.shape[1:]) for k, v in pointwise.items()}, unit

    def _need_program(self, what: str) -> Program:
        if self.program is None:
            raise ArgumentError(
                f"{what}() needs the program: this Posterior was loaded from a file; "
                "use Posterior.load(path, program=probgen.programs.prepare(model, args, kwargs))"
            )
        return self.program


def _read_netcdf(path: Path) -> az.InferenceData:
    """The ``InferenceData`` in ``path``; ``ArgumentError`` unless it holds a posterior."""
    if not path.is_file():
        raise ArgumentError(f"posterior file {path} does not exist")
    try:
        idata = az.from_netcdf(path, engine="h5netcdf")
    except (OSError, ValueError) as exc:  # h5py's "truncated file", "signature not found"
        raise ArgumentError(
            f"{path} is not a probgen posterior file: it cannot be read as netCDF ({exc}); "
            "pass a file written by Posterior.save"
        ) from exc
    if "posterior" not in idata.groups():
        raise ArgumentError(
            f"{path} is not a probgen posterior file: it has no posterior group; "
            "pass a file written by Posterior.save"
        )
    return idata


@dataclass
class Run:
    """A training history: the loss per step, named metrics and checkpoint paths."""

    losses: np.ndarray
    metrics: dict[str, list[float]] = field(default_factory=dict)
    checkpoints: list[Path] = field(default_factory=list)


@dataclass
class VIResult(Run):
    """A fitted variational guide: its loss history, parameters and posterior draws.

    ``summed_out`` names the discrete sites that the program sums out by enumeration:
    an autoguide does not see them (they are blocked), and the ELBO is TraceEnum_ELBO's
    E_q[log Σ_z p(x, z, θ) − log q(θ)]; ``posterior().discrete()`` draws them.
    """

    program: Program | None = None
    guide: Any = None
    params: dict[str, np.ndarray] = field(default_factory=dict)
    state: Any = field(default=None, repr=False)
    summed_out: list[str] = field(default_factory=list)  # enumerated sites, hidden from q

    def posterior(self, draws: int = 1000, seed: int = 0) -> Posterior:
        """A ``Posterior`` of ``draws`` independent draws z ~ q(z), as one chain.

        A guide that subsamples a plate that the model does not (an amortised guide with
        ``plate(..., subsample_size=batch_size)``) is replayed with the arguments it was
        fitted with over the full data, in minibatches of its own size, the global sites
        drawn once per draw: every row gets its local draws, and the predictive and the
        log-likelihood take the full data (``probgen.subsample``). ``attrs["replay"]`` of
        the result says which of the two it was.
        """
        if draws < 1:
            raise ArgumentError(f"draws must be at least 1, got {draws}")
        with self.program.scope():
            samples = _predictive.guide_draws(self.program, self.guide, self.state, draws, seed)
            plates = _subsample.guide_plates(self.program, self.guide, self.state)
        samples = {k: v[None] for k, v in samples.items()}
        attrs = {"sampler": "svi", "replay": _subsample.replay(plates)}
        return Posterior(samples, None, self.program, attrs=attrs)
