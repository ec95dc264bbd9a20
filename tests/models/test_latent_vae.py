"""VAE, β-VAE, conditional and hierarchical VAE (models/latent): the β-VAE's exact ELBO
decomposition, the decoder likelihoods against their formulas, draws of new data, a few
training steps and the errors for bad input.

The exact checks against closed-form log p(x) are in test_latent_gaussian.py.
"""

import math

import pyro
import pytest
import torch
import torch.nn.functional as F
from pyro import poutine

from probgen.errors import ArgumentError, DataError
from probgen.models.latent import VAE, BetaVAE, ConditionalVAE, HierarchicalVAE, InfoVAE
from probgen.models.latent.likelihoods import make_likelihood

SHAPE = (1, 3, 4)


@pytest.fixture
def binary(float64):
    g = torch.Generator().manual_seed(0)
    return (torch.rand(10, *SHAPE, generator=g) < 0.3).to(torch.float64)


def elbo_loss(model, x, size=None, seed=0):
    pyro.set_rng_seed(seed)
    return pyro.infer.Trace_ELBO().differentiable_loss(model.model, model.guide, x, size=size)


# --- the β-VAE ------------------------------------------------------------------------


def test_beta_one_is_the_vae(binary):
    torch.manual_seed(0)
    vae = VAE(SHAPE, latent_dim=3, hidden=16)
    beta = BetaVAE(SHAPE, latent_dim=3, hidden=16, beta=1.0)
    beta.load_state_dict(vae.state_dict())
    assert abs(elbo_loss(beta, binary, 40).item() - elbo_loss(vae, binary, 40).item()) < 1e-10


def test_beta_scales_exactly_the_kl_terms_of_trace_elbo(binary):
    torch.manual_seed(1)
    vae = VAE(SHAPE, latent_dim=3, hidden=16)
    beta = BetaVAE(SHAPE, latent_dim=3, hidden=16, beta=3.5)
    beta.load_state_dict(vae.state_dict())
    size, scale = 40, 40 / len(binary)
    # the draws z_i of the guide at the same seed, and the three log densities at them
    pyro.set_rng_seed(0)
    z = poutine.trace(vae.guide).get_trace(binary, size).nodes["z"]["value"]
    log_q = vae.posterior(binary).log_prob(z)
    log_prior = vae.prior().log_prob(z)
    log_lik = vae.likelihood(vae.decoder(z)).log_prob(binary)
    # Trace_ELBO loss = −(N/B) Σ_i [log p(x_i | z_i) + β (log p(z_i) − log q(z_i | x_i))]
    for model, b in [(vae, 1.0), (beta, 3.5)]:
        expected = -scale * (log_lik + b * (log_prior - log_q)).sum()
        assert abs(elbo_loss(model, binary, size).item() - expected.item()) < 1e-9
    shift = elbo_loss(beta, binary, size) - elbo_loss(vae, binary, size)
    assert abs(shift.item() - 2.5 * scale * (log_q - log_prior).sum().item()) < 1e-9


# --- decoder likelihoods --------------------------------------------------------------


def test_likelihoods_equal_their_formulas(float64):
    g = torch.Generator().manual_seed(2)
    theta = torch.randn(2, 5, *SHAPE, generator=g)  # (particles, batch, *event)
    x = (torch.rand(5, *SHAPE, generator=g) < 0.5).to(theta.dtype)
    bernoulli = make_likelihood("bernoulli", SHAPE, None, None)
    expected = (x * F.logsigmoid(theta) + (1 - x) * F.logsigmoid(-theta)).sum((-3, -2, -1))
    torch.testing.assert_close(bernoulli(theta).log_prob(x), expected)
    torch.testing.assert_close(bernoulli.mean(theta), torch.sigmoid(theta))

    gaussian = make_likelihood("gaussian", SHAPE, 0.7, None)
    z = (x - theta) / 0.7
    expected = (-0.5 * z**2 - math.log(0.7) - 0.5 * math.log(2 * math.pi)).sum((-3, -2, -1))
    torch.testing.assert_close(gaussian(theta).log_prob(x), expected)
    learned = make_likelihood("gaussian", SHAPE, None, None)
    assert [name for name, _ in learned.named_parameters()] == ["log_scale"]

    levels = 4
    logits = torch.randn(5, *SHAPE, levels, generator=g)
    values = torch.randint(0, levels, (5, *SHAPE), generator=g)
    categorical = make_likelihood("categorical", SHAPE, None, levels)
    log_softmax = logits.log_softmax(-1)
    expected = torch.zeros(5)
    for i, j, k, m in torch.cartesian_prod(*(torch.arange(s) for s in values.shape)):
        expected[i] += log_softmax[i, j, k, m, values[i, j, k, m]]
    torch.testing.assert_close(categorical(logits).log_prob(values.to(logits.dtype)), expected)
    mean = sum(k * log_softmax[..., k].exp() for k in range(levels))
    torch.testing.assert_close(categorical.mean(logits), mean)


# --- new data -------------------------------------------------------------------------

SAMPLERS = {
    "vae": lambda: VAE(SHAPE, 3, 16),
    "beta": lambda: BetaVAE(SHAPE, 3, 16, beta=2.0),
    "hierarchical": lambda: HierarchicalVAE(SHAPE, 3, 16, depth=3),
    "infovae": lambda: InfoVAE(SHAPE, 3, 16),
    "conditional": lambda: ConditionalVAE(SHAPE, 3, 3, 16),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_bernoulli_samples_are_draws_and_means_are_probabilities(float64, name):
    torch.manual_seed(3)
    model = SAMPLERS[name]()
    labels = (torch.tensor(1),) if name == "conditional" else ()
    n = 4000
    draws, means = model.sample(n, *labels), model.sample(n, *labels, mean=True)
    assert draws.shape == means.shape == (n, *SHAPE)
    assert set(draws.unique().tolist()) == {0.0, 1.0}
    assert torch.all((means > 0) & (means < 1))
    # both estimate E[x]: the draws are Bernoulli draws around the means
    se = draws.std(0) / math.sqrt(n)
    assert torch.all((draws.mean(0) - means.mean(0)).abs() < 4 * se + 1e-3)


def test_sample_means_are_the_decoder_means_at_prior_draws(float64):
    torch.manual_seed(4)
    vae = VAE(SHAPE, 3, 16)
    pyro.set_rng_seed(0)
    means = vae.sample(5, mean=True)
    pyro.set_rng_seed(0)
    z = torch.randn(5, 3)
    torch.testing.assert_close(means, torch.sigmoid(vae.decoder(z)))


def test_gaussian_and_categorical_samples(float64):
    torch.manual_seed(5)
    gaussian = VAE((6,), 2, 8, likelihood="gaussian", scale=0.1)
    assert gaussian.sample(7).shape == (7, 6) and torch.isfinite(gaussian.sample(7)).all()
    categorical = VAE(SHAPE, 2, 8, likelihood="categorical", levels=5)
    draws, means = categorical.sample(500), categorical.sample(500, mean=True)
    assert draws.shape == means.shape == (500, *SHAPE)
    assert set(draws.unique().tolist()) == {0.0, 1.0, 2.0, 3.0, 4.0}
    assert torch.all((means >= 0) & (means <= 4))


def test_conditional_samples_take_one_label_or_one_per_draw(float64):
    torch.manual_seed(6)
    model = ConditionalVAE(SHAPE, 3, 2, 8)
    assert model.sample(3, torch.tensor([0, 2, 1])).shape == (3, *SHAPE)
    pyro.set_rng_seed(0)
    one = model.sample(3, 2, mean=True)
    pyro.set_rng_seed(0)
    torch.testing.assert_close(model.sample(3, torch.tensor([2, 2, 2]), mean=True), one)


# --- training -------------------------------------------------------------------------

TRAINED = {
    "vae": lambda: VAE(SHAPE, 2, 32),
    "beta": lambda: BetaVAE(SHAPE, 2, 32, beta=2.0),
    "hierarchical": lambda: HierarchicalVAE(SHAPE, 2, 32),
    "conditional": lambda: ConditionalVAE(SHAPE, 2, 2, 32),
}


@pytest.mark.parametrize("name", TRAINED)
def test_adam_steps_on_the_elbo_reduce_the_loss(binary, name):
    torch.manual_seed(7)
    model = TRAINED[name]()
    x = binary.repeat(6, 1, 1, 1)
    args = (x, torch.arange(len(x)) % 2) if name == "conditional" else (x,)
    elbo = pyro.infer.Trace_ELBO(num_particles=20, vectorize_particles=True, max_plate_nesting=1)

    def loss():
        pyro.set_rng_seed(0)
        return elbo.loss(model.model, model.guide, *args, size=600)

    before = loss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(40):
        optimizer.zero_grad()
        model.elbo().differentiable_loss(model.model, model.guide, *args, size=600).backward()
        optimizer.step()
    assert loss() < 0.85 * before


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"event_shape": ()}, "event_shape"),
        ({"event_shape": (3, 0)}, "event_shape"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"hidden": -1}, "hidden"),
        ({"likelihood": "poisson"}, "likelihood"),
        ({"likelihood": "categorical"}, "levels"),
        ({"likelihood": "categorical", "levels": 1}, "levels"),
        ({"likelihood": "bernoulli", "scale": 0.5}, "scale"),
        ({"likelihood": "gaussian", "scale": -1.0}, "scale"),
        ({"likelihood": "gaussian", "levels": 3}, "levels"),
    ],
)
def test_bad_arguments_raise_argument_errors(kwargs, match):
    with pytest.raises(ArgumentError, match=match):
        VAE(**{"event_shape": SHAPE, **kwargs})


def test_bad_model_arguments_raise_argument_errors():
    with pytest.raises(ArgumentError, match="beta"):
        BetaVAE(SHAPE, beta=0.0)
    with pytest.raises(ArgumentError, match="≥ 2 latent levels"):
        HierarchicalVAE(SHAPE, depth=1)
    with pytest.raises(ArgumentError, match="depth"):
        HierarchicalVAE(SHAPE, latent_dim=(3, 2), depth=3)
    with pytest.raises(ArgumentError, match="encoders"):
        HierarchicalVAE(SHAPE, latent_dim=(3, 2), encoders=[torch.nn.Identity()])
    with pytest.raises(ArgumentError, match="num_classes"):
        ConditionalVAE(SHAPE, 0)
    vae = VAE(SHAPE, 2, 8)
    with pytest.raises(ArgumentError, match="n must"):
        vae.sample(0)
    with pytest.raises(ArgumentError, match="particles"):
        vae.log_likelihood(torch.zeros(2, *SHAPE), particles=0)


def test_bad_data_raise_data_errors():
    vae = VAE(SHAPE, 2, 8)
    with pytest.raises(DataError, match=r"shape \(batch, 1, 3, 4\)"):
        pyro.infer.Trace_ELBO().loss(vae.model, vae.guide, torch.zeros(5, 12))
    with pytest.raises(DataError, match="torch.Tensor"):
        vae.log_likelihood([[0.0]])
    with pytest.raises(DataError, match="NaN"):
        vae.log_likelihood(torch.full((2, *SHAPE), math.nan))
    with pytest.raises(DataError, match="binarize"):
        vae.check_data(torch.full((2, *SHAPE), 0.5))
    categorical = VAE(SHAPE, 2, 8, likelihood="categorical", levels=4)
    categorical.check_data(torch.full((2, *SHAPE), 3.0))
    for bad in (2.5, 4.0, -1.0):
        with pytest.raises(DataError, match="integers 0..levels"):
            categorical.log_likelihood(torch.full((2, *SHAPE), bad))
    model = ConditionalVAE(SHAPE, 3, 2, 8)
    x = torch.zeros(2, *SHAPE)
    with pytest.raises(DataError, match="class labels in 0..2"):
        model.log_likelihood(x, torch.tensor([0, 3]))
    with pytest.raises(DataError, match="integer tensor of 2 class labels"):
        pyro.infer.Trace_ELBO().loss(model.model, model.guide, x, torch.tensor([0.0, 1.0]))
    with pytest.raises(DataError, match="integer tensor of 4 class labels"):
        model.sample(4, torch.tensor([0, 1]))
