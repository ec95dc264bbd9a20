"""Convergence checks on MCMC draws, computed by ArviZ.

The thresholds follow Vehtari et al. (2021), "Rank-normalization, folding, and
localization: an improved R-hat": rank-normalized split R-hat below 1.01, bulk and tail
ESS of at least 100 per chain; and Betancourt (2016) for E-BFMI below 0.3.
"""

from __future__ import annotations

import arviz as az
import numpy as np

RHAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100
EBFMI_MIN = 0.3


def check(idata: az.InferenceData) -> list[str]:
    """List the convergence problems in ``idata``; an empty list means none were found.

    - R̂ (rank-normalized split R-hat) > 1.01 for any scalar component; it compares
      chains, so it is left out for one chain (a guide's draws), the rest still apply;
    - bulk or tail ESS < 100 · chains for any scalar component;
    - any divergent transition (``sample_stats.diverging``);
    - E-BFMI = Σ(E_t − E_{t−1})² / Σ(E_t − Ē)² < 0.3 in any chain (needs ``energy``).
    """
    posterior = idata.posterior
    chains = posterior.sizes["chain"]
    problems = []
    # R̂ of one chain: ArviZ logs "Shape validation failed" and returns NaN
    rhat = _worst(az.rhat(posterior, method="rank"), max) if chains > 1 else []
    for name, value in rhat:
        if value > RHAT_MAX:
            problems.append(
                f"r_hat of {name} is {value:.3f} > {RHAT_MAX}: the chains disagree; "
                "run longer chains or reparameterize"
            )
    minimum = ESS_PER_CHAIN_MIN * chains
    for method in ("bulk", "tail"):
        for name, value in _worst(az.ess(posterior, method=method), min):
            if value < minimum:
                problems.append(
                    f"{method} ESS of {name} is {value:.0f} < {minimum} "
                    f"({ESS_PER_CHAIN_MIN} per chain): draw more samples"
                )
    stats = getattr(idata, "sample_stats", None)
    if stats is not None and "diverging" in stats:
        divergences = int(stats["diverging"].sum())
        if divergences:
            problems.append(
                f"{divergences} divergent transition(s) after warm-up: raise target_accept "
                "or reparameterize (e.g. non-centered)"
            )
    if stats is not None and "energy" in stats:
        for chain, value in enumerate(np.atleast_1d(az.bfmi(idata))):
            if value < EBFMI_MIN:
                problems.append(
                    f"E-BFMI of chain {chain} is {value:.2f} < {EBFMI_MIN}: the momentum "
                    "resampling explores the energy poorly; reparameterize"
                )
    return problems


def _worst(dataset, pick) -> list[tuple[str, float]]:
    """The worst finite value of each variable, with the name of its component."""
    out = []
    for name, array in dataset.data_vars.items():
        values = np.asarray(array.values, dtype=float)
        finite = np.isfinite(values)
        if not finite.any():
            continue  # constant draws (a point estimate): the statistic is undefined
        flat = np.where(finite, values, np.nan).ravel()
        index = int(np.nanargmax(flat) if pick is max else np.nanargmin(flat))
        position = ", ".join(str(i) for i in np.unravel_index(index, values.shape))
        label = f"{name}[{position}]" if values.ndim else name
        out.append((label, float(flat[index])))
    return out
