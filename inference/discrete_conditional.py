"""Exact Gibbs updates of a discrete site of a Pyro program, by enumerating its support.

For a site z with finite support {v_1, …, v_K}, the full conditional of one element z[j]
is

    p(z[j] = v_k | z_−j, x) ∝ p(x, z[j] = v_k, z_−j) = exp(w_k),

so the update evaluates the log joint w_k for every v_k and draws
z[j] ~ Categorical(softmax(w)). Two things make it cheap:

- **All K values in one run of the program.** As in Pyro's parallel enumeration, the K
  candidate values of z are stacked on a new batch dimension to the left of every plate
  (dim −(nesting + 1)), and the program broadcasts over it. Each site's log-probability
  is summed over its plate dimensions, which leaves one log joint per value. A program
  that does not broadcast (the check at ``prepare`` compares one update against the
  value-by-value computation) is evaluated once per value instead, with a warning.
- **All elements of a plate at once.** Where Pyro's ``get_dependencies`` finds that the
  elements of z along a plate are conditionally independent given everything else
  (z is not its own posterior dependency in that plate), the elements along that plate
  dimension are drawn together: their log joints are the plate's per-element terms.
  The other dimensions (event dimensions, batch dimensions outside any plate, coupled
  plates) are visited element by element in row-major order.

tests/inference/test_gibbs.py checks the draws against exhaustive enumeration.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from pyro import poutine
from pyro.infer.inspect import get_dependencies
from pyro.poutine.util import site_is_subsample

from probgen.errors import ArgumentError


@dataclass(frozen=True)
class DiscreteSite:
    """How one discrete site is updated: its support, which batch dimensions are drawn
    together (conditionally independent plates), and whether the program broadcasts."""

    name: str
    support: torch.Tensor
    batch_ndim: int
    parallel: tuple[bool, ...]
    vectorized: bool = True

    @property
    def kept_dims(self) -> list[int]:
        """The (negative) batch dimensions whose elements are drawn together."""
        return [d - self.batch_ndim for d in range(self.batch_ndim) if self.parallel[d]]

    def positions(self, shape: torch.Size):
        """Index tuples over the dimensions visited one at a time (slices for parallel)."""
        ranges = [
            [slice(None)] if d < self.batch_ndim and self.parallel[d] else range(n)
            for d, n in enumerate(shape)
        ]
        return itertools.product(*ranges)


class DiscreteConditionals:
    """Gibbs updates of the discrete sites of ``model(*args, **kwargs)``; see the module doc.

    ``trace`` is a trace of the program (its latent values are where the scan starts);
    ``initialized`` is the program under the chain's init strategy, which Pyro's dependency
    analysis runs (improper priors cannot be sampled).
    """

    def __init__(self, model: Callable, initialized: Callable, args: tuple, kwargs: dict, trace):
        self._model, self._args, self._kwargs = model, args, kwargs
        sites = [
            s for s in trace.nodes.values() if s["type"] == "sample" and not site_is_subsample(s)
        ]
        # the enumeration dimension sits left of every batch dimension of every site
        self._nesting = max(len(s["fn"].batch_shape) for s in sites)
        self._trace = trace
        self._posterior = get_dependencies(initialized, args, kwargs)["posterior_dependencies"]

    def prepare(self, name: str, values: dict[str, torch.Tensor]) -> DiscreteSite:
        """The update plan of site ``name``, checked on the current ``values``."""
        node = self._trace.nodes[name]
        fn = base = node["fn"]
        while isinstance(base, torch.distributions.Independent):  # same support per element
            base = base.base_dist
        if not base.has_enumerate_support:
            raise ArgumentError(
                f"discrete site {name!r} has no finite support to enumerate; give its full "
                "conditional in Gibbs(conditionals=...)"
            )
        batch_ndim = len(fn.batch_shape)
        coupled = self._posterior.get(name, {}).get(name, set())
        parallel = [False] * batch_ndim
        for frame in node["cond_indep_stack"]:
            if frame.vectorized and frame.dim is not None and frame.name not in coupled:
                parallel[batch_ndim + frame.dim] = True
        support = base.enumerate_support(expand=False).reshape(-1)
        site = DiscreteSite(name, support, batch_ndim, tuple(parallel))
        sequential = dataclasses.replace(site, vectorized=False)
        index = next(site.positions(values[name].shape))
        try:
            agree = torch.allclose(
                self._log_weights(site, values, index),
                self._log_weights(sequential, values, index),
                rtol=1e-5,
                atol=1e-5,
            )
        except (RuntimeError, ValueError, IndexError):
            agree = False
        if agree:
            return site
        warnings.warn(
            f"the program does not broadcast over the values of site {name!r} (as Pyro's "
            "parallel enumeration needs), so Gibbs evaluates it once per value: slower",
            stacklevel=2,
        )
        return sequential

    @torch.no_grad()
    def update(self, site: DiscreteSite, values: dict[str, torch.Tensor]) -> torch.Tensor:
        """A draw of the whole site from its full conditional, element by element."""
        current = values[site.name].clone()
        values = {**values, site.name: current}
        for index in site.positions(current.shape):
            log_w = self._log_weights(site, values, index)
            # Gumbel-max: argmax_k (w_k + G_k), G_k ~ Gumbel(0, 1), is k with prob. softmax(w)_k
            gumbel = -torch.log(-torch.log(torch.rand_like(log_w)))
            current[index] = site.support[torch.argmax(log_w + gumbel, dim=0)]
        return current

    @torch.no_grad()
    def _log_weights(self, site: DiscreteSite, values, index: tuple) -> torch.Tensor:
        """w[k, …] = log p(x, z[index] = v_k, z_−index), shaped (K, *z[index].shape)."""
        current = values[site.name]
        k = len(site.support)
        if site.vectorized:
            candidate = current.expand(k, *current.shape).clone()
            selected = candidate[(slice(None), *index)]
            candidate[(slice(None), *index)] = site.support.reshape(
                k, *[1] * (selected.dim() - 1)
            ).expand_as(selected)
            pad = [1] * (self._nesting - site.batch_ndim)
            candidate = candidate.reshape(k, *pad, *current.shape)
            log_w = self._log_joint(site, {**values, site.name: candidate})
        else:
            rows = []
            for v in site.support:
                candidate = current.clone()
                candidate[index] = v
                rows.append(self._log_joint(site, {**values, site.name: candidate}))
            log_w = torch.cat(rows)
        return log_w.expand(k, *current[index].shape)

    def _log_joint(self, site: DiscreteSite, values) -> torch.Tensor:
        """Σ_sites log p, summed over every plate dimension but the ones drawn together:
        shaped (K or 1, sizes of those dimensions)."""
        conditioned = poutine.condition(self._model, data=values)
        trace = poutine.trace(conditioned).get_trace(*self._args, **self._kwargs)
        trace.compute_log_prob()
        keep = site.kept_dims
        summed = [d for d in range(-self._nesting, 0) if d not in keep]
        total = 0.0
        for node in trace.nodes.values():
            if node["type"] == "sample" and not site_is_subsample(node):
                lp = node["log_prob"]
                lp = lp.reshape((1,) * (self._nesting + 1 - lp.dim()) + lp.shape)
                total = total + (lp.sum(summed, keepdim=True) if summed else lp)
        return total.reshape(total.shape[0], *[total.shape[d] for d in keep])
