"""Pointwise log-likelihood of programs that sum discrete sites out by enumeration.

At each draw θ of the continuous latents the enumerated sites z are summed out:

- **per observation** (``unit = "observation"``), where the observations are independent
  given θ: the enumerated sites all lie in the same plates P, which every observed site
  lies in too, and each has its own enumeration dimension (no ``markov`` chain). For each
  element j of P, log p(y_j | θ) = log Σ_{z_j} p(z_j | θ) p(y_j | z_j, θ), a log-sum-exp
  over the enumerated values of the site log-probabilities traced under the library's
  ``enum``, those of observed sites first summed over their plates outside P (a mixture:
  one value per data point; a mixture of documents: one per document);
- **per sequence** (``unit = "sequence"``) otherwise (an HMM's chain, a global discrete
  site): the observations are dependent, and the unit is an element s of the plates that
  every observed and enumerated site lies in (a plate of sequences), or the whole data
  set where there is none: log p(y_s | θ) = log p(y_s, θ) − log p(θ), with
  log p(y_s, θ) = log Σ_z p(y_s, z, θ) from the library's enumerating ELBO (Pyro's
  ``TraceEnum_ELBO`` with an empty guide) or ``numpyro.contrib.funsor.log_density``,
  the observed sites masked to s (the other sequences' states then sum to one).

Checked against the closed forms in tests/core/test_discrete_posterior.py (mixtures:
log-sum-exp over components; HMMs: brute-force enumeration of all state paths).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from probgen import lazy
from probgen.errors import ModelError
from probgen.programs import Program, as_numpy, is_tensor, to_backend

jax = lazy.load("jax", globals())
jnp = lazy.load("jax.numpy", globals())
numpyro = lazy.load("numpyro", globals())
numpyro_funsor = lazy.load("numpyro.contrib.funsor", globals())
numpyro_handlers = lazy.load("probgen.numpyro_handlers", globals())
pyro = lazy.load("pyro", globals())
pyro_handlers = lazy.load("probgen.pyro_handlers", globals())
torch = lazy.load("torch", globals())

Unit = Literal["observation", "sequence"]


def log_likelihood(
    program: Program, latent: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], Unit]:
    """The pointwise log-likelihood at each draw θ_i in ``latent`` ``{site: (n, ...)}``,
    with the enumerated sites summed out, and its unit ("observation" or "sequence").

    Returns ``{name: array (n, ...)}``: the observed site's name (``"joint"`` for the
    joint of several observed sites) and the shape of the unit's plates (per
    observation: the enumerated sites' plates; per sequence: the sequences' plates, or
    none, one value per draw, for one sequence).
    """
    observed = program.site_names("observed")
    if not observed:
        return {}, "observation"
    name = observed[0] if len(observed) == 1 else "joint"
    first = {k: v[0] for k, v in latent.items()}
    nodes = _enum_trace(program, first)
    shared = _shared_plates(nodes, observed)
    enumerated = [k for k, s in program.sites().items() if s.enumerated and k not in latent]
    plates = _plates(nodes[enumerated[0]])
    dims = [-np.ndim(nodes[k]["value"]) for k in enumerated]
    independent = (
        bool(plates)
        and plates.items() <= shared.items()
        and len(set(dims)) == len(dims)
        and all(_plates(nodes[k]) == plates for k in enumerated)
    )
    if independent:
        values = _per_observation(program, latent, observed + enumerated, plates)
        return {name: values}, "observation"
    for k in enumerated:  # the sequences: plates of every observed and enumerated site
        shared = {p: d for p, d in _plates(nodes[k]).items() if p in shared}
    sizes = {f.name: f.size for node in nodes.values() for f in node.get("cond_indep_stack", ())}
    masks = _one_hot_masks({d: sizes[p] for p, d in shared.items()}, program.max_plate_nesting)
    values = _per_sequence(program, latent, observed, masks)
    shape = tuple(sizes[p] for p, _ in sorted(shared.items(), key=lambda item: item[1]))
    return {name: values.reshape((len(values), *shape))}, "sequence"


def _plates(node) -> dict[str, int]:
    return {f.name: f.dim for f in node["cond_indep_stack"] if f.dim is not None}


def _shared_plates(nodes, observed: list[str]) -> dict[str, int]:
    shared = _plates(nodes[observed[0]])
    for k in observed[1:]:
        shared = {p: d for p, d in _plates(nodes[k]).items() if p in shared}
    return shared


def _first_dim(program: Program) -> int:
    return -program.max_plate_nesting - 1


def _enum_trace(program: Program, values: dict[str, np.ndarray]):
    """One trace of the program at ``values`` with the enumerated sites enumerated."""
    if program.backend == "pyro":
        model = pyro.poutine.condition(program.model, to_backend(values, "pyro", program.device))
        model = pyro.poutine.enum(model, first_available_dim=_first_dim(program))
        with torch.no_grad():
            return pyro.poutine.trace(model).get_trace(*program.args, **program.kwargs).nodes
    values = {k: jnp.asarray(v) for k, v in values.items()}
    model = numpyro.handlers.substitute(program.model, data=values)
    model = numpyro_funsor.enum(model, first_available_dim=_first_dim(program))
    model = numpyro.handlers.seed(model, 0)
    return numpyro.handlers.trace(model).get_trace(*program.args, **program.kwargs)


def _per_observation(program, latent, sites, plates) -> np.ndarray:
    """log Σ_z Π_sites p(site | ...) over the enumerated dims, per element of ``plates``."""
    nesting = program.max_plate_nesting
    keep = sorted(plates.values())  # dims of the shared plates, e.g. [-2, -1]

    def contract(nodes, lib):
        total = 0.0
        for k in sites:
            term = nodes[k]["fn"].log_prob(nodes[k]["value"])
            term = lib.reshape(term, (1,) * (nesting - term.ndim) + tuple(term.shape))
            inner = [d for d in range(-nesting, 0) if d not in keep and term.shape[d] > 1]
            total = total + (term.sum(axis=tuple(inner), keepdims=True) if inner else term)
        enum = tuple(range(total.ndim - nesting))
        total = _logsumexp(total, enum, lib)
        return total.reshape(tuple(total.shape[d] for d in keep))

    if program.backend == "pyro":
        samples = to_backend(latent, "pyro", program.device)
        n = len(next(iter(samples.values())))
        rows = [
            as_numpy(contract(_enum_trace(program, {k: v[i] for k, v in samples.items()}), torch))
            for i in range(n)
        ]
        return np.stack(rows)
    return np.asarray(jax.vmap(lambda values: contract(_enum_trace(program, values), jnp))(latent))


def _logsumexp(x, axes, lib):
    if not axes:
        return x
    if lib is torch:
        return torch.logsumexp(x, dim=axes)
    return jax.scipy.special.logsumexp(x, axis=axes)


def _one_hot_masks(plates: dict[int, int], nesting: int) -> np.ndarray:
    """One boolean mask per element of the sequence ``plates`` {dim: size}, shape
    (elements, *batch): true at that element, broadcast over the other plates."""
    shape = [1] * nesting
    for dim, size in plates.items():
        shape[dim] = size
    shape = shape[nesting + min(plates, default=0) :]  # no leading dims of size one
    count = int(np.prod(shape))
    return np.eye(count, dtype=bool).reshape((count, *shape))


def _per_sequence(program, latent, observed, masks) -> np.ndarray:
    """log p(y_s | θ) = log p(y_s, θ) − log p(θ) for each sequence s, its mask in
    ``masks``: the observed sites are masked to that sequence, the enumerated sites
    summed out (unmasked: the other sequences' states sum to 1)."""
    names = list(latent)
    if program.backend == "pyro":
        samples = to_backend(latent, "pyro", program.device)
        n = len(next(iter(samples.values())))
        elbo = pyro.infer.TraceEnum_ELBO(max_plate_nesting=program.max_plate_nesting)
        out = np.empty((n, len(masks)))
        with torch.no_grad():
            for i, s in np.ndindex(out.shape):
                values = {k: v[i] for k, v in samples.items()}
                model = pyro.poutine.condition(program.model, values)
                model = pyro_handlers.MaskSites(observed, torch.as_tensor(masks[s]))(model)
                joint = -elbo.loss(model, _empty_guide, *program.args, **program.kwargs)
                out[i, s] = joint - _prior(_enum_trace(program, values), names)
        return out

    def one(values, mask):
        model = numpyro_handlers.MaskSites(observed, mask)(program.model)
        model = numpyro_funsor.enum(
            numpyro.handlers.seed(model, 0), first_available_dim=_first_dim(program)
        )
        joint, trace = numpyro_funsor.log_density(model, program.args, program.kwargs, values)
        return joint - _prior(trace, names)

    per_mask = jax.vmap(one, in_axes=(None, 0))
    return np.asarray(jax.vmap(per_mask, in_axes=(0, None))(latent, jnp.asarray(masks)))


def _prior(nodes, names: list[str]):
    """log p(θ): the log-densities of the continuous sites ``names``, which must not
    depend on an enumerated site."""
    total = 0.0
    for k in names:
        term = nodes[k]["fn"].log_prob(nodes[k]["value"])
        if term.ndim > np.ndim(nodes[k]["value"]) - nodes[k]["fn"].event_dim:
            raise ModelError(
                f"site {k!r} depends on a discrete site that is summed out, so its "
                "likelihood cannot be separated from the prior: leave the log_likelihood "
                "group out or make the discrete site a plain latent"
            )
        total = total + term.sum()
    return float(total) if is_tensor(total) else total


def _empty_guide(*args, **kwargs):
    """A guide with no sites: every latent of the model is conditioned or enumerated."""
