"""The IWAE objective (models/latent/importance_weighted.py, models/latent/iwae.py) against Pyro.

On a full batch (no subsampling) the per-example bound Σ_i log (1/K) Σ_k w_ik is what
Pyro's ``RenyiELBO(alpha=0)`` computes: same seed, same value and gradients. With K = 1 it
is Trace_ELBO's estimate. Under subsampling it is the full-batch bound times N/B.
"""

import pyro
import pytest
import torch

from probgen.errors import ModelError
from probgen.models.latent import IWAE, VAE, BetaVAE
from probgen.models.latent.importance_weighted import ImportanceWeightedELBO


@pytest.fixture
def data(float64):
    g = torch.Generator().manual_seed(0)
    return (torch.rand(6, 3, 4, generator=g) < 0.4).to(torch.float64)


def loss_and_grads(elbo, model, *args, seed=0, **kwargs):
    """The differentiable loss of ``elbo`` at ``seed`` and the gradients of the parameters."""
    model.zero_grad()
    pyro.set_rng_seed(seed)
    loss = elbo.differentiable_loss(model.model, model.guide, *args, **kwargs)
    loss.backward()
    return loss.item(), [p.grad.clone() for p in model.parameters()]


def test_bound_equals_renyi_elbo_alpha_zero_on_a_full_batch(data):
    torch.manual_seed(1)
    model = IWAE((3, 4), latent_dim=2, hidden=8, num_particles=7)
    loss, grads = loss_and_grads(model.elbo(), model, data)
    renyi = pyro.infer.RenyiELBO(
        alpha=0, num_particles=7, vectorize_particles=True, max_plate_nesting=1
    )

    def registered(program):  # RenyiELBO backpropagates only when it sees param sites
        def run(*args):
            pyro.module("iwae", model)
            return program(*args)

        return run

    model.zero_grad()
    pyro.set_rng_seed(0)
    try:
        renyi_loss = renyi.loss_and_grads(registered(model.model), registered(model.guide), data)
    finally:
        pyro.clear_param_store()
    assert abs(loss - renyi_loss) < 1e-10
    for grad, p in zip(grads, model.parameters(), strict=True):
        torch.testing.assert_close(grad, p.grad, atol=1e-10, rtol=0)


def test_one_particle_equals_trace_elbo(data):
    torch.manual_seed(2)
    model = IWAE((3, 4), latent_dim=2, hidden=8, num_particles=1)
    loss, grads = loss_and_grads(model.elbo(), model, data, size=20)
    trace_loss, trace_grads = loss_and_grads(pyro.infer.Trace_ELBO(), model, data, size=20)
    assert abs(loss - trace_loss) < 1e-10
    for grad, trace_grad in zip(grads, trace_grads, strict=True):
        torch.testing.assert_close(grad, trace_grad, atol=1e-10, rtol=0)


def test_minibatch_scales_the_bound_not_the_weights(data):
    torch.manual_seed(3)
    model = IWAE((3, 4), latent_dim=2, hidden=8, num_particles=5)
    full, _ = loss_and_grads(model.elbo(), model, data)
    scaled, _ = loss_and_grads(model.elbo(), model, data, size=60)
    assert abs(scaled - 10 * full) < 1e-9
    pyro.set_rng_seed(0)
    bound = model.elbo().bound(model.model, model.guide, data, size=60)
    assert abs(-bound.sum().item() - full) < 1e-10


def test_bound_rejects_a_scaled_site(data):
    torch.manual_seed(4)
    model = BetaVAE((3, 4), latent_dim=2, hidden=8, beta=2.0)
    with pytest.raises(ModelError, match="one scale"):
        ImportanceWeightedELBO(3).differentiable_loss(model.model, model.guide, data)
    # the log-likelihood scores the unscaled densities, so β does not matter there
    vae = VAE((3, 4), latent_dim=2, hidden=8)
    vae.load_state_dict(model.state_dict())
    pyro.set_rng_seed(0)
    expected = vae.log_likelihood(data, particles=9)
    pyro.set_rng_seed(0)
    torch.testing.assert_close(model.log_likelihood(data, particles=9), expected)


def test_adam_steps_on_the_bound_reduce_the_loss(data):
    torch.manual_seed(5)
    model = IWAE((3, 4), latent_dim=2, hidden=16, num_particles=5)
    elbo = model.elbo()
    x = data.repeat(10, 1, 1)

    def loss():
        pyro.set_rng_seed(0)
        return elbo.loss(model.model, model.guide, x, size=600)

    before = loss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(40):
        optimizer.zero_grad()
        elbo.differentiable_loss(model.model, model.guide, x, size=600).backward()
        optimizer.step()
    assert loss() < 0.9 * before
