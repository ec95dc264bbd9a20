"""The shared accept/reject step (inference/metropolis.py) against its exact law.

Given log α, the step keeps the proposal with probability min(1, e^{log α}) per chain,
never for a NaN log α; JAX and torch agree on α and on what a decision does to a state.
"""

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import torch

from probgen.inference.metropolis import accept_jax, accept_torch

LOG_ALPHA = [math.log(0.1), math.log(0.5), 0.0, 2.0, -math.inf, math.nan]
EXACT = np.array([0.1, 0.5, 1.0, 1.0, 0.0, 0.0])
N = 20_000


class State(NamedTuple):
    position: object
    logdensity: object


def test_accept_jax_keeps_the_proposal_with_probability_alpha():
    log_alpha = jnp.tile(jnp.asarray(LOG_ALPHA), (N, 1))  # N draws of each of six chains
    proposal = State(jnp.ones((N, 6, 3)), jnp.ones((N, 6)))
    current = State(jnp.zeros((N, 6, 3)), jnp.zeros((N, 6)))
    new, alpha, accepted = accept_jax(jax.random.PRNGKey(0), log_alpha, proposal, current)
    np.testing.assert_allclose(alpha[0], EXACT, rtol=1e-6)
    rate = np.asarray(accepted).mean(0)
    assert np.all(np.abs(rate - EXACT) <= 4 * np.sqrt(EXACT * (1 - EXACT) / N) + 1e-12)
    # each chain's decision moves every field of its state, all its entries together
    np.testing.assert_array_equal(new.position, np.repeat(np.asarray(accepted)[..., None], 3, -1))
    np.testing.assert_array_equal(new.logdensity, accepted)


def test_accept_torch_keeps_the_proposal_with_probability_alpha():
    log_alpha = torch.tensor(LOG_ALPHA, dtype=torch.float64).repeat(N, 1)
    proposal = State(torch.ones(N, 6, 3, dtype=torch.float64), torch.ones(N, 6))
    current = State(torch.zeros(N, 6, 3, dtype=torch.float64), torch.zeros(N, 6))
    g = torch.Generator().manual_seed(0)
    new, alpha, accepted = accept_torch(log_alpha, proposal, current, generator=g)
    np.testing.assert_allclose(alpha[0].numpy(), EXACT, rtol=1e-12)
    rate = accepted.double().mean(0).numpy()
    assert np.all(np.abs(rate - EXACT) <= 4 * np.sqrt(EXACT * (1 - EXACT) / N) + 1e-12)
    assert torch.equal(new.position, accepted[..., None].expand(-1, -1, 3).double())
    assert torch.equal(new.logdensity, accepted.float())
    assert type(new) is State
