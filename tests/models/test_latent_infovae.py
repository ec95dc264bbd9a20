"""The MMD estimator (models/latent/mmd.py) and InfoVAE (models/latent/infovae.py).

MMD²_u against a brute-force double loop over its definition; its mean over repeats
against 0 for one distribution and against the closed-form MMD² of two Gaussians under
the Gaussian kernel, where for u = a − b ~ N(m, C)

    E exp(−‖u‖²/s) = det(I + 2C/s)^(−1/2) exp(−½ mᵀ (C + (s/2) I)⁻¹ m).

The analytic KL(q(z | x) ‖ N(0, I)) of InfoVAE against Monte Carlo.
"""

import math

import pyro
import pytest
import torch

from probgen.errors import ArgumentError, DataError
from probgen.models.latent import InfoVAE
from probgen.models.latent.mmd import mmd2_unbiased

SHAPE = (12,)


def brute_force_mmd2(x, y, kernel, s):
    def k(a, b):
        squared = sum((a[t].item() - b[t].item()) ** 2 for t in range(len(a)))
        return math.exp(-squared / s) if kernel == "gaussian" else s / (s + squared)

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


@pytest.mark.parametrize("kernel, bandwidth", [("gaussian", None), ("imq", None), ("imq", 0.7)])
def test_u_statistic_equals_brute_force_double_loop(float64, kernel, bandwidth):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(7, 3, generator=g), 0.5 + torch.randn(5, 3, generator=g)
    s = bandwidth or (3.0 if kernel == "gaussian" else 6.0)  # the documented defaults
    expected = brute_force_mmd2(x, y, kernel, s)
    assert abs(mmd2_unbiased(x, y, kernel, bandwidth).item() - expected) < 1e-12


def expected_gaussian_kernel(m, C, s):
    dim = len(m)
    det = torch.linalg.det(torch.eye(dim) + 2 * C / s)
    quad = m @ torch.linalg.solve(C + s / 2 * torch.eye(dim), m)
    return (det ** (-0.5) * torch.exp(-0.5 * quad)).item()


@pytest.mark.parametrize("shift, spread", [(0.0, 1.0), (0.8, 1.5)])
def test_mean_of_u_statistic_equals_population_mmd2(float64, shift, spread):
    torch.manual_seed(1)
    dim, s, repeats = 2, 2.0, 3000
    mean_p, cov_p = torch.zeros(dim), torch.eye(dim)
    mean_q, cov_q = torch.full((dim,), shift), spread**2 * torch.eye(dim)
    exact = (
        expected_gaussian_kernel(torch.zeros(dim), 2 * cov_p, s)
        + expected_gaussian_kernel(torch.zeros(dim), 2 * cov_q, s)
        - 2 * expected_gaussian_kernel(mean_p - mean_q, cov_p + cov_q, s)
    )
    x = torch.randn(repeats, 10, dim)
    y = mean_q + spread * torch.randn(repeats, 12, dim)
    values = torch.stack([mmd2_unbiased(a, b, "gaussian", s) for a, b in zip(x, y, strict=True)])
    se = values.std() / math.sqrt(repeats)
    assert abs(values.mean().item() - exact) < 4 * se
    if shift == 0.0:
        assert exact == pytest.approx(0.0, abs=1e-15)  # the same distribution
    else:
        assert exact > 20 * se  # a real difference, detected


def test_imq_u_statistic_is_unbiased_for_one_distribution(float64):
    torch.manual_seed(2)
    x, y = torch.randn(2, 3000, 8, 3)
    values = torch.stack([mmd2_unbiased(a, b, "imq") for a, b in zip(x, y, strict=True)])
    assert abs(values.mean()) < 4 * values.std() / math.sqrt(len(values))


def test_mmd_rejects_bad_input():
    with pytest.raises(ArgumentError, match="kernel"):
        mmd2_unbiased(torch.zeros(3, 2), torch.zeros(3, 2), "laplace")
    with pytest.raises(DataError, match="m, n ≥ 2"):
        mmd2_unbiased(torch.zeros(1, 2), torch.zeros(3, 2))
    with pytest.raises(DataError, match="m, n ≥ 2"):
        mmd2_unbiased(torch.zeros(3, 2), torch.zeros(3, 4))
    with pytest.raises(ArgumentError, match="bandwidth"):
        mmd2_unbiased(torch.zeros(3, 2), torch.zeros(3, 2), bandwidth=0.0)


# --- InfoVAE --------------------------------------------------------------------------


@pytest.fixture
def binary(float64):
    g = torch.Generator().manual_seed(3)
    return (torch.rand(16, *SHAPE, generator=g) < 0.3).to(torch.float64)


def test_analytic_kl_equals_monte_carlo(binary):
    torch.manual_seed(4)
    model = InfoVAE(SHAPE, 3, 16)
    q = model.posterior(binary[:4])
    draws = 50_000
    z = q.sample((draws,))
    log_ratio = q.log_prob(z) - model.prior().log_prob(z)
    se = log_ratio.std(0) / math.sqrt(draws)
    kl = torch.distributions.kl_divergence(q, model.prior())
    assert torch.all((log_ratio.mean(0) - kl).abs() < 4 * se)
    loc, scale = q.base_dist.loc, q.base_dist.scale
    closed_form = 0.5 * (scale**2 + loc**2 - 1 - 2 * scale.log()).sum(-1)
    torch.testing.assert_close(kl, closed_form, atol=1e-12, rtol=0)


def test_loss_terms_follow_their_definitions(binary):
    torch.manual_seed(5)
    model = InfoVAE(SHAPE, 3, 16, mmd_weight=7.0, kl_weight=0.25, kernel="imq")
    pyro.set_rng_seed(0)
    terms = model.loss_terms(binary)
    pyro.set_rng_seed(0)
    loss = model.loss(binary)
    # the same draws, by hand: z ~ q(z | x) reparameterized, then B prior draws
    pyro.set_rng_seed(0)
    q = model.posterior(binary)
    loc, scale = q.base_dist.loc, q.base_dist.scale
    z = loc + scale * torch.randn(loc.shape)
    prior_draws = torch.randn(len(binary), 3)
    p = torch.sigmoid(model.decoder(z))
    log_lik = (binary * p.log() + (1 - binary) * (1 - p).log()).sum(-1)
    kl = 0.5 * (scale**2 + loc**2 - 1 - 2 * scale.log()).sum(-1)
    torch.testing.assert_close(terms["reconstruction"], -log_lik.mean())
    torch.testing.assert_close(terms["kl"], kl.mean())
    torch.testing.assert_close(terms["mmd"], mmd2_unbiased(z, prior_draws, "imq"))
    expected = -log_lik.mean() + 0.25 * kl.mean() + 7.0 * terms["mmd"]
    torch.testing.assert_close(loss, expected)
    assert model.default_objective == "loss"


def test_adam_steps_on_the_loss_reduce_it(binary):
    torch.manual_seed(6)
    model = InfoVAE(SHAPE, 2, 32, mmd_weight=10.0)
    x = binary.repeat(4, 1)

    def loss():
        pyro.set_rng_seed(0)
        return sum(model.loss(x).item() for _ in range(10)) / 10

    before = loss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(40):
        optimizer.zero_grad()
        model.loss(x).backward()
        optimizer.step()
    assert loss() < 0.85 * before
    assert model.log_likelihood(x[:3], particles=50).shape == (3,)


def test_infovae_rejects_bad_arguments():
    with pytest.raises(ArgumentError, match="kernel"):
        InfoVAE(SHAPE, kernel="laplace")
    with pytest.raises(ArgumentError, match="mmd_weight"):
        InfoVAE(SHAPE, mmd_weight=-1.0)
    with pytest.raises(DataError, match="shape"):
        InfoVAE(SHAPE).loss(torch.zeros(4, 3))
