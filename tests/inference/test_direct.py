"""The direct ELBO (inference/direct.py, the VAE family's ``elbo_estimate``) against the
programs that it stands for.

Reference: the model's own bound on its ``model`` and ``guide``, Pyro's ``Trace_ELBO``
(IWAE: ``ImportanceWeightedELBO``), which pg.fit ran at every step before. In float64, from
the same seed, on a minibatch of B < N examples, the direct loss equals the programs' loss
to 1e-12 in value and gradient, for every likelihood, for an encoder that is not Gaussian,
and for each model of the family. A whole pg.fit run that switches to the direct loss after
its first epoch takes the same steps as one that runs the programs throughout
(``ELBO(direct=False)``), and its resume repeats it bit for bit. A model whose direct form
no longer states its programs, in value or in gradient only, is refused before the first
step; a loss that is not finite at the start still stops the first step.
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import probgen as pg
from probgen.errors import ModelError, TrainingError
from probgen.inference.objectives import ELBO
from probgen.models import registry
from probgen.models.latent import IWAE, VAE, BetaVAE, ConditionalVAE, HierarchicalVAE

SHAPE, N, B = (1, 3, 4), 40, 16


class LaplaceEncoder(nn.Module):
    """q(z | x) = Laplace(μ(x), b(x)), a reparameterizable encoder that is not Gaussian."""

    def __init__(self):
        super().__init__()
        self.net = nn.Linear(12, 4)

    def forward(self, x):
        loc, raw = self.net(x.flatten(1)).chunk(2, dim=-1)
        return dist.Laplace(loc, F.softplus(raw)).to_event(1)


MODELS = {
    "vae": lambda: VAE(SHAPE, 2, 8),
    "gaussian": lambda: VAE(SHAPE, 2, 8, likelihood="gaussian"),
    "categorical": lambda: VAE(SHAPE, 2, 8, likelihood="categorical", levels=3),
    "laplace_encoder": lambda: VAE(SHAPE, 2, 8, encoder=LaplaceEncoder()),
    "beta": lambda: BetaVAE(SHAPE, 2, 8, beta=3.5),
    "iwae": lambda: IWAE(SHAPE, 2, 8, num_particles=5),
    "conditional": lambda: ConditionalVAE(SHAPE, 3, 2, 8),
    "hierarchical": lambda: HierarchicalVAE(SHAPE, (3, 2, 2), 8),
}


def batch_for(name: str, model) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    if name == "gaussian":
        x = torch.randn(B, *SHAPE, generator=g)
    elif name == "categorical":
        x = torch.randint(0, 3, (B, *SHAPE), generator=g).to(torch.float64)
    else:
        x = (torch.rand(B, *SHAPE, generator=g) < 0.4).to(torch.float64)
    return (x, torch.arange(B) % 3) if model.conditional else (x,)


def value_and_gradient(loss, model, batch, seed=0):
    pyro.set_rng_seed(seed)
    value = loss(*batch)
    grads = torch.autograd.grad(value, list(model.parameters()))
    return value.item(), torch.cat([g.flatten() for g in grads])


@pytest.mark.parametrize("name", MODELS)
def test_the_direct_loss_is_the_programs_loss_on_the_same_draws(float64, name):
    torch.manual_seed(1)
    model = MODELS[name]()
    batch = batch_for(name, model)
    programs = ELBO().losses(model, N)["loss"]
    direct = ELBO().direct_losses(model, N)["loss"]
    values = []
    for seed in (0, 1):
        expected, expected_grad = value_and_gradient(programs, model, batch, seed)
        actual, actual_grad = value_and_gradient(direct, model, batch, seed)
        assert actual == pytest.approx(expected, rel=1e-12)
        torch.testing.assert_close(actual_grad, expected_grad, rtol=1e-10, atol=1e-12)
        values.append(actual)
    assert values[0] != pytest.approx(values[1], rel=1e-6)  # the agreement is draw by draw


def test_an_explicit_bound_or_direct_false_runs_the_programs():
    model = VAE(SHAPE, 2, 8)
    assert ELBO().direct_losses(model, N).keys() == {"loss"}
    assert ELBO(direct=False).direct_losses(model, N) == {}
    assert ELBO(bound=pyro.infer.Trace_ELBO()).direct_losses(model, N) == {}


ELBO_MODELS = [e for e in registry.entries(registry.DeepModel) if e.default_objective == "elbo"]
EXAMPLES, BATCH, EPOCHS = 100, 32, 3


def _fit(entry, data, objective=None, **options):
    torch.manual_seed(0)
    model = entry.build(data)
    train = data.train[:EXAMPLES]
    if model.conditional:
        train = (train, data.train_labels[:EXAMPLES])
    fit = {"steps": EPOCHS * -(-EXAMPLES // BATCH), "batch_size": BATCH, "progress": False}
    run = pg.fit(model, train, objective=objective, **(fit | options))
    return run, model.state_dict()


@pytest.mark.parametrize("entry", ELBO_MODELS, ids=[e.name for e in ELBO_MODELS])
def test_a_run_on_the_direct_loss_takes_the_steps_of_the_programs(float64, entry):
    data = entry.data(entry.datasets[0])
    run, state = _fit(entry, data)
    reference, reference_state = _fit(entry, data, ELBO(direct=False))
    torch.testing.assert_close(
        torch.as_tensor(run.losses), torch.as_tensor(reference.losses), rtol=1e-9, atol=0
    )
    for key, value in reference_state.items():
        torch.testing.assert_close(state[key], value, rtol=1e-9, atol=1e-12)


def test_a_resumed_run_repeats_the_uninterrupted_one_bit_for_bit(tmp_path):
    """Resumed in the first epoch (programs, then the check and the switch) and after it
    (the direct loss from the start): the check draws nothing from the run's generator."""
    entry = registry.get("vae")
    data = entry.data("digits")
    whole, state = _fit(entry, data)
    for stop in (2, 6):
        path = tmp_path / f"part{stop}.pt"
        _fit(entry, data, steps=stop, checkpoint=path)
        resumed, resumed_state = _fit(entry, data, resume=path)
        assert torch.equal(torch.as_tensor(resumed.losses), torch.as_tensor(whole.losses))
        assert all(torch.equal(resumed_state[k], v) for k, v in state.items())


class TwiceTheKL(VAE):
    """A VAE whose ``weigh_latent`` doubles the latent terms that its programs leave as
    they are: its direct form gives another value."""

    def weigh_latent(self, log_ratio):
        return 2 * log_ratio


class FrozenKL(VAE):
    """The latent terms with their gradient cut: the same value, another gradient."""

    def weigh_latent(self, log_ratio):
        return log_ratio.detach()


@pytest.mark.parametrize(
    "cls, match", [(TwiceTheKL, "gives .* where its programs give"), (FrozenKL, "has a gradient")]
)
def test_a_direct_form_that_differs_from_the_programs_is_refused_before_training(cls, match):
    x = (torch.rand(40, *SHAPE, generator=torch.Generator().manual_seed(0)) < 0.4).float()
    torch.manual_seed(0)
    model = cls(SHAPE, 2, 8)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    refused = f"{cls.__name__}'s direct loss 'loss' {match}.*direct=False"
    with pytest.raises(ModelError, match=refused):
        pg.fit(model, x, steps=5, batch_size=16, progress=False)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())
    run = pg.fit(model, x, steps=5, batch_size=16, objective=ELBO(direct=False), progress=False)
    assert torch.isfinite(torch.as_tensor(run.losses)).all()


def test_a_loss_that_is_not_finite_at_the_start_still_stops_the_first_step():
    x = (torch.rand(40, *SHAPE, generator=torch.Generator().manual_seed(0)) < 0.4).float()
    model = VAE(SHAPE, 2, 8)
    with torch.no_grad():
        model.decoder.layers[0].bias.fill_(float("nan"))
    for validate in (True, False):
        with pyro.validation_enabled(validate):
            with pytest.raises(TrainingError, match="loss became nan at step 1 of 5"):
                pg.fit(model, x, steps=5, batch_size=16, progress=False)
