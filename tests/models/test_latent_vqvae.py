"""The VQ-VAE (models/latent/vqvae.py, quantizer.py, code_prior.py).

The quantizer against brute-force nearest neighbour; each loss term against its
definition and, through ``.grad``, against the parameters it may move; the straight-through
gradient against the decoder's gradient at the chosen codes; the Markov code prior
against exhaustive enumeration and the count formula of its fit.
"""

import itertools
import math

import pyro
import pytest
import torch

from probgen.errors import ArgumentError, DataError
from probgen.models.latent import VQVAE
from probgen.models.latent.code_prior import MarkovCodePrior
from probgen.models.latent.quantizer import VectorQuantizer

SHAPE = (1, 3, 4)


@pytest.fixture
def data(float64):
    g = torch.Generator().manual_seed(0)
    return torch.rand(10, *SHAPE, generator=g)


def model(seed=0, **kwargs):
    torch.manual_seed(seed)
    vq = VQVAE(SHAPE, latent_dim=3, hidden=16, num_codes=6, positions=2, **kwargs)
    with torch.no_grad():  # codes at the scale of the encoder's outputs, all in use
        vq.quantizer.codebook.normal_(0, 0.3)
    return vq


def test_quantizer_is_brute_force_nearest_neighbour(float64):
    torch.manual_seed(1)
    quantizer = VectorQuantizer(7, 4)
    with torch.no_grad():
        quantizer.codebook.normal_()
    z = torch.randn(5, 3, 4)
    out = quantizer(z)
    for index in itertools.product(range(5), range(3)):
        distances = [((z[index] - e) ** 2).sum().item() for e in quantizer.codebook]
        best = min(range(7), key=distances.__getitem__)
        assert out.indices[index].item() == best
        torch.testing.assert_close(out.codes[index], quantizer.codebook[best], atol=0, rtol=0)
    # the straight-through value is the chosen code
    torch.testing.assert_close(out.straight_through, out.codes, atol=1e-15, rtol=0)


def test_loss_terms_follow_their_definitions(data):
    vq = model(beta=0.4)
    terms = vq.loss_terms(data)
    z_e = vq.encoder(data)
    codes = torch.stack(
        [
            torch.stack(
                [min(vq.quantizer.codebook, key=lambda e: ((v - e) ** 2).sum()) for v in row]
            )
            for row in z_e
        ]
    )
    reconstruction = ((data - vq.decoder(codes)) ** 2).sum((1, 2, 3)).mean()
    distance = ((z_e - codes) ** 2).sum((1, 2)).mean()
    torch.testing.assert_close(terms["reconstruction"], reconstruction)
    torch.testing.assert_close(terms["codebook"], distance)
    torch.testing.assert_close(terms["commitment"], 0.4 * distance)
    torch.testing.assert_close(vq.loss(data), reconstruction + 1.4 * distance)


def reached(vq, term, data):
    """Which parameter groups get a nonzero gradient from the loss term ``term``."""
    vq.zero_grad(set_to_none=True)
    vq.loss_terms(data)[term].backward()
    groups = {"encoder": vq.encoder, "decoder": vq.decoder, "codebook": vq.quantizer}
    return {
        name: any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in m.parameters())
        for name, m in groups.items()
    }


@pytest.mark.parametrize(
    "term, reaches",
    [
        ("reconstruction", {"encoder", "decoder"}),
        ("codebook", {"codebook"}),
        ("commitment", {"encoder"}),
    ],
)
def test_each_loss_term_moves_only_its_parameters(data, term, reaches):
    vq = model()
    found = reached(vq, term, data)
    assert found == {name: name in reaches for name in ("encoder", "decoder", "codebook")}
    for name in {"encoder", "decoder", "codebook"} - reaches:  # exactly no gradient
        module = {"encoder": vq.encoder, "decoder": vq.decoder, "codebook": vq.quantizer}[name]
        assert all(p.grad is None for p in module.parameters())


def test_straight_through_passes_the_decoder_gradient_to_the_encoder(data):
    vq = model()
    z_e = vq.encoder(data).detach().requires_grad_()
    quantized = vq.quantizer(z_e)
    ((data - vq.decoder(quantized.straight_through)) ** 2).sum().backward()
    codes = quantized.codes.detach().requires_grad_()
    ((data - vq.decoder(codes)) ** 2).sum().backward()
    # equal up to the rounding of z_e + (e − z_e) to e
    torch.testing.assert_close(z_e.grad, codes.grad, atol=1e-12, rtol=0)


def test_markov_prior_sums_to_one_and_fits_the_count_formula(float64):
    torch.manual_seed(2)
    K, T, a = 3, 3, 0.5
    prior = MarkovCodePrior(K, T)
    every = torch.tensor(list(itertools.product(range(K), repeat=T)))
    torch.testing.assert_close(prior.log_prob(every), torch.full((K**T,), -T * math.log(K)))
    codes = torch.randint(0, K, (40, T))
    codes[:, 1] = (codes[:, 0] + (torch.rand(40) < 0.8)) % K  # a real dependence
    prior.fit(codes, smoothing=a)
    assert abs(prior.log_prob(every).exp().sum().item() - 1) < 1e-12
    for c in every.tolist():  # p(c) = π(c₁) Π_t P_t(c_t | c_{t−1}) from explicit counts
        first = sum(row[0] == c[0] for row in codes.tolist())
        p = (first + a) / (len(codes) + K * a)
        for t in range(1, T):
            pair = sum(row[t - 1] == c[t - 1] and row[t] == c[t] for row in codes.tolist())
            start = sum(row[t - 1] == c[t - 1] for row in codes.tolist())
            p *= (pair + a) / (start + K * a)
        assert abs(prior.log_prob(torch.tensor([c])).item() - math.log(p)) < 1e-12


def test_markov_prior_draws_follow_its_probabilities(float64):
    torch.manual_seed(3)
    K, T, n = 3, 2, 60_000
    prior = MarkovCodePrior(K, T)
    prior.fit(torch.tensor([[0, 1], [0, 1], [0, 2], [1, 1], [2, 0]]), smoothing=0.3)
    draws = prior.sample(n)
    assert draws.shape == (n, T)
    every = torch.tensor(list(itertools.product(range(K), repeat=T)))
    p = prior.log_prob(every).exp()
    counts = (draws.unsqueeze(1) == every).all(-1).sum(0).to(p.dtype)
    assert torch.all((counts / n - p).abs() < 4 * (p * (1 - p) / n).sqrt())


def test_fit_prior_uses_the_training_codes_and_sampling_decodes_them(data):
    vq = model()
    vq.fit_prior(data, smoothing=0.2)
    reference = MarkovCodePrior(6, 2)
    reference.fit(vq.encode(data), smoothing=0.2)
    torch.testing.assert_close(vq.prior.log_initial, reference.log_initial)
    torch.testing.assert_close(vq.prior.log_transition, reference.log_transition)
    pyro.set_rng_seed(0)
    samples = vq.sample(5)
    pyro.set_rng_seed(0)
    codes = reference.sample(5)
    assert samples.shape == (5, *SHAPE)
    torch.testing.assert_close(samples, vq.decoder(vq.quantizer.codebook[codes]))


def test_adam_steps_reduce_the_loss(data):
    vq = model(seed=4)
    before = vq.loss(data).item()
    optimizer = torch.optim.Adam(vq.parameters(), lr=0.01)
    for _ in range(40):
        optimizer.zero_grad()
        vq.loss(data).backward()
        optimizer.step()
    assert vq.loss(data).item() < 0.5 * before
    assert vq.default_objective == "loss" and not hasattr(vq, "log_likelihood")


def test_bad_input_raises_probgen_errors(data):
    with pytest.raises(ArgumentError, match="num_codes"):
        VQVAE(SHAPE, num_codes=0)
    with pytest.raises(ArgumentError, match="beta"):
        VQVAE(SHAPE, beta=-0.25)
    vq = model()
    with pytest.raises(DataError, match="shape"):
        vq.loss(torch.zeros(3, 12))
    with pytest.raises(DataError, match="codes must lie in 0..5"):
        vq.decode(torch.tensor([[0, 6]]))
    with pytest.raises(DataError, match=r"\(n, 2\)"):
        vq.decode(torch.tensor([0, 1]))
    with pytest.raises(ArgumentError, match="smoothing"):
        vq.fit_prior(data, smoothing=0.0)
    with pytest.raises(DataError, match="NaN"):
        vq.fit_prior(torch.full((2, *SHAPE), math.inf))
