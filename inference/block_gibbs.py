"""Block Gibbs sampling of bipartite energy models, as a functional torch sampler.

For a bipartite model p(v, h) ∝ exp(−E(v, h)) whose conditionals factorise, such as a
restricted Boltzmann machine with E(v, h) = −vᵀWh − bᵀv − cᵀh, where

    p(h_j = 1 | v) = σ(c_j + Σ_i W_ij v_i),    p(v_i = 1 | h) = σ(b_i + Σ_j W_ij h_j),

one step draws the whole hidden layer and then the whole visible layer:

    h_t ~ p(h | v_{t−1}),    v_t ~ p(v | h_t).

Both updates leave p(v, h) invariant, and (v_t, h_t) is a draw from p(v, h) once the chain
has mixed. The test checks the joint of many parallel chains against exhaustive
enumeration of a small RBM.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from probgen.errors import ArgumentError

# a conditional sampler: (conditioning layer, generator) -> a draw of the other layer
LayerSampler = Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]


def block_gibbs(
    sample_v_given_h: LayerSampler,
    sample_h_given_v: LayerSampler,
    v0: torch.Tensor,
    steps: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``steps`` block-Gibbs steps from ``v0`` and return the final ``(v, h)``.

    ``v0`` holds a batch of chains (batch, ...) that run in parallel; each sampler maps a
    batch of one layer and ``generator`` to a batch of the other, for example
    ``lambda v, g: torch.bernoulli(torch.sigmoid(v @ W + c), generator=g)``.
    """
    if steps < 1:
        raise ArgumentError(f"steps must be at least 1, got {steps}")
    v = v0
    with torch.no_grad():
        for _ in range(steps):
            h = sample_h_given_v(v, generator)
            v = sample_v_given_h(h, generator)
    return v, h
