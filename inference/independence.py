"""Independence Metropolis–Hastings: proposals from a fixed, user-given distribution.

The user gives ``proposal = {site: q_site}``, a distribution of the program's library
over each latent site's constrained value θ. A proposal θ* ~ q ignores the current
state, and is accepted with probability

    α(θ, θ*) = min(1, p̃(θ*) q(θ) / (p̃(θ) q(θ*))),

the Hastings ratio of an asymmetric proposal (Tierney, 1994); q = Π_site q_site.

Change of variables: the kernel runs on the unconstrained space u, θ = T(u) with
T = biject_to(support), where the target density is p̃_u(u) = p̃(T(u)) |det J_T(u)| (the
libraries' potential energy is −log p̃_u). The proposal's density on u is likewise
q_u(u) = q(T(u)) |det J_T(u)|, and the kernel evaluates both densities there:

    p̃_u(u*) q_u(u) / (p̃_u(u) q_u(u*)) = p̃(θ*) q(θ) / (p̃(θ) q(θ*)),

since the Jacobians cancel; the chain is exactly the constrained-space one above.
Ignoring q (a symmetric-proposal acceptance) would instead sample ∝ p̃ · q; the tests
check both against closed forms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from probgen import lazy
from probgen.errors import ArgumentError
from probgen.initialization import init_strategy
from probgen.programs import Program, as_numpy

jax = lazy.load("jax", globals())
jax_flatten = lazy.load("jax.flatten_util", globals())
jnp = lazy.load("jax.numpy", globals())
mh_numpyro = lazy.load("probgen.inference.mh_numpyro", globals())
mh_pyro = lazy.load("probgen.inference.mh_pyro", globals())
numpyro = lazy.load("numpyro", globals())
torch = lazy.load("torch", globals())


@dataclass(frozen=True)
class Independence:
    """Independence MH with ``proposal = {site: distribution over its constrained value}``.

    α(θ, θ*) = min(1, p̃(θ*) q(θ) / (p̃(θ) q(θ*))), θ* ~ q (see the module doc). Every
    latent site needs a proposal with the site's support and shape. Works best when q
    is heavier-tailed than the posterior. ``jit_compile`` (Pyro programs) compiles the
    potential with the PyTorch JIT.
    """

    proposal: Mapping[str, Any]
    jit_compile: bool = False
    name = "independence"

    def kernel(self, program: Program, init: str | dict[str, Any] | None) -> Callable[[], Any]:
        """A factory of fresh library kernels for ``program``, one per chain."""
        latent = program.site_names("latent")
        self._check_sites(program.backend, latent)
        strategy = init_strategy(program.backend, init, latent)
        # σ is unused: only the acceptance probability is recorded
        options = dict(init_strategy=strategy, sample_stats={"acceptance_rate": "accept_prob"})
        if program.backend == "pyro":
            nesting, jit = program.max_plate_nesting, self.jit_compile
            return lambda: mh_pyro.PyroMH(
                program.model, self._torch, nesting, jit_compile=jit, **options
            )
        return lambda: mh_numpyro.NumPyroMH(program.model, self._jax, **options)

    def _check_sites(self, backend: str, latent: list[str]) -> None:
        if missing := [s for s in latent if s not in self.proposal]:
            raise ArgumentError(
                f"latent site {missing[0]!r} has no proposal; Independence needs a "
                f"distribution for every latent site {latent}"
            )
        if unknown := sorted(set(self.proposal) - set(latent)):
            raise ArgumentError(
                f"proposal names {unknown}, which are not latent sites; the latent sites "
                f"are {latent}"
            )
        if backend == "pyro":
            cls, kind = torch.distributions.Distribution, "a torch/Pyro distribution"
        else:
            cls, kind = numpyro.distributions.Distribution, "a NumPyro distribution"
        for site, q in self.proposal.items():
            if not isinstance(q, cls):
                raise ArgumentError(
                    f"the proposal for site {site!r} must be {kind} for this {backend} "
                    f"program, got {type(q).__name__}"
                )

    def _matched(self, sites: dict[str, Any]) -> dict[str, Any]:
        """Each site's proposal, expanded to the site's shape, after checking its support."""
        out = {}
        for site, fn in sites.items():
            q = self.proposal[site]
            if not _same_support(q.support, fn.support):
                raise ArgumentError(
                    f"the proposal for site {site!r} has support {q.support}, but the site "
                    f"has support {fn.support}: give a proposal on the site's support"
                )
            shape = tuple(fn.batch_shape + fn.event_shape)
            if tuple(q.batch_shape + q.event_shape) != shape:
                try:
                    q = q.expand(shape[: len(shape) - len(q.event_shape)])
                except (ValueError, RuntimeError) as exc:
                    raise ArgumentError(
                        f"the proposal for site {site!r} has shape "
                        f"{tuple(q.batch_shape + q.event_shape)}, the site {shape}"
                    ) from exc
            out[site] = q
        return out

    def _jax(self, sites: dict[str, Any], unravel: Callable):
        qs = self._matched(sites)
        to_u = {k: numpyro.distributions.biject_to(fn.support) for k, fn in sites.items()}

        def propose(key, x, scale):
            keys = dict(zip(qs, jax.random.split(key, len(qs)), strict=True))
            u = {k: to_u[k].inv(qs[k].sample(keys[k])) for k in qs}
            return jax_flatten.ravel_pytree(u)[0].astype(x.dtype)

        def log_q(x):  # log q_u(u) = log q(T(u)) + log |det J_T(u)|
            u = unravel(x)
            total = jnp.zeros(())
            for k, q in qs.items():
                theta = to_u[k](u[k])
                total += q.log_prob(theta).sum() + to_u[k].log_abs_det_jacobian(u[k], theta).sum()
            return total

        return propose, lambda x, y: log_q(x) - log_q(y)

    def _torch(self, sites: dict[str, Any], unravel: Callable):
        qs = self._matched(sites)
        to_u = {k: torch.distributions.biject_to(fn.support) for k, fn in sites.items()}
        names = sorted(qs)  # the order of PyroMH's flat position

        def propose(x, scale):
            u = [to_u[k].inv(qs[k].sample()).reshape(-1) for k in names]
            return torch.cat(u).to(x.dtype)

        def log_q(x):
            u = unravel(x)
            total = torch.zeros(())
            for k, q in qs.items():
                theta = to_u[k](u[k])
                total += q.log_prob(theta).sum() + to_u[k].log_abs_det_jacobian(u[k], theta).sum()
            return total

        return propose, lambda x, y: log_q(x) - log_q(y)


def _same_support(a, b) -> bool:
    """Whether two constraints (torch or NumPyro) describe the same set.

    Compared by kind (discrete or not, which bounds it has) and by bound values, so that
    ``unit_interval`` matches ``interval(0, 1)``; independent wrappers are looked through.
    """
    a, b = _base(a), _base(b)
    if a is b:
        return True
    bounds = ("lower_bound", "upper_bound")
    if a.is_discrete != b.is_discrete or [hasattr(a, x) for x in bounds] != [
        hasattr(b, x) for x in bounds
    ]:
        return False
    present = [x for x in bounds if hasattr(a, x)]
    if not present:
        return type(a).__name__ == type(b).__name__
    return all(np.allclose(as_numpy(getattr(a, x)), as_numpy(getattr(b, x))) for x in present)


def _base(constraint):
    while hasattr(constraint, "base_constraint"):
        constraint = constraint.base_constraint
    return constraint
