"""The VAE family against exact linear-Gaussian references (models/latent).

With p(z) = N(0, I) and a linear-Gaussian decoder p(x | z) = N(Wz + b, σ²I) (probabilistic
PCA), log p(x) = log N(x; b, WWᵀ + σ²I) exactly, the posterior is
N(M⁻¹Wᵀ(x − b), σ²M⁻¹) with M = WᵀW + σ²I, and for a Gaussian guide q = N(m, diag v)

    ELBO = log N(x; Wm + b, σ²I) − tr(W diag(v) Wᵀ)/(2σ²) − KL(q ‖ N(0, I))
    log p(x) − ELBO = KL(q ‖ p(z | x)).

W has orthogonal columns, so M and the exact posterior are diagonal and the models' own
Gaussian networks (with no hidden layer) express both the decoder and the exact posterior.
Chains of linear-Gaussian levels (hierarchical VAE) and a label-shifted decoder
(conditional VAE) keep log p(x) in closed form.
"""

import math

import pyro
import pytest
import torch
from pyro.poutine.util import prune_subsample_sites
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from probgen.models.latent import VAE, ConditionalVAE, HierarchicalVAE
from probgen.models.latent.importance_weighted import ImportanceWeightedELBO
from probgen.models.latent.networks import MLP, GaussianMLP

D, d, SIGMA = 5, 2, 0.5


def linear_gaussian(A, a, scale, context=None):
    """The Gaussian network u ↦ N(Au + a [+ C onehot], diag scale²), from ``GaussianMLP``."""
    C = torch.zeros(A.shape[0], 0) if context is None else context
    net = GaussianMLP((A.shape[1],), (), A.shape[0], C.shape[1])
    weight = torch.cat([torch.cat([A, C], 1), torch.zeros(A.shape[0], A.shape[1] + C.shape[1])])
    with torch.no_grad():
        net.net.layers[0].weight.copy_(weight)
        net.net.layers[0].bias.copy_(torch.cat([a, scale.expm1().log()]))  # softplus⁻¹
    return net


def linear(W, b, context=None):
    """The decoder z ↦ Wz + b [+ C onehot], from ``MLP``."""
    C = torch.zeros(W.shape[0], 0) if context is None else context
    net = MLP((W.shape[1],), (), (W.shape[0],), C.shape[1])
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.cat([W, C], 1))
        net.layers[0].bias.copy_(b)
    return net


class PPCA:
    """A PPCA model with orthogonal-column W, its data, exact posterior and evidence."""

    def __init__(self, seed=0, n=8):
        g = torch.Generator().manual_seed(seed)
        Q, _ = torch.linalg.qr(torch.randn(D, d, generator=g))
        self.W = Q * torch.tensor([2.0, 1.0])
        self.b = torch.randn(D, generator=g)
        self.marginal = MultivariateNormal(self.b, self.W @ self.W.T + SIGMA**2 * torch.eye(D))
        self.x = self.marginal.sample((n,))
        M = torch.diagonal(self.W.T @ self.W) + SIGMA**2
        self.A = self.W.T / M[:, None]  # posterior mean M⁻¹Wᵀ(x − b) = Ax − Ab
        self.post_scale = SIGMA / M.sqrt()
        self.generator = g

    def vae(self, A=None, a=None, scale=None):
        """The VAE with this decoder and the guide N(Ax + a, diag scale²); the exact
        posterior by default."""
        A = self.A if A is None else A
        a = -self.A @ self.b if a is None else a
        scale = self.post_scale if scale is None else scale
        return VAE(
            (D,),
            d,
            likelihood="gaussian",
            scale=SIGMA,
            encoder=linear_gaussian(A, a, scale),
            decoder=linear(self.W, self.b),
        )

    def arbitrary_vae(self):
        """A guide away from the exact posterior: tilted, shifted and twice as wide."""
        A = self.A + 0.09 * torch.randn(d, D, generator=self.generator)
        return self.vae(A, -self.A @ self.b + 0.5, 2.0 * self.post_scale)

    def analytic_elbo(self, vae):
        """The closed-form ELBO of each example under the VAE's guide (module docstring)."""
        q = vae.posterior(self.x).base_dist
        m, v = q.loc, q.scale**2
        fit = Normal(m @ self.W.T + self.b, SIGMA).log_prob(self.x).sum(-1)
        trace = (self.W**2 @ v.T).sum(0) / (2 * SIGMA**2)
        kl = 0.5 * (v + m**2 - 1 - v.log()).sum(-1)
        return fit - trace - kl

    def exact_posterior(self):
        mean = (self.x - self.b) @ self.A.T
        return MultivariateNormal(mean, torch.diag(self.post_scale**2))


@pytest.fixture
def ppca(float64):
    pyro.set_rng_seed(0)
    return PPCA()


def test_trace_elbo_equals_closed_form_and_bounds_log_evidence(ppca):
    vae = ppca.arbitrary_vae()
    exact = ppca.analytic_elbo(vae)
    K = 20_000
    log_w, _ = ImportanceWeightedELBO(K).log_weights(vae.model, vae.guide, ppca.x)
    se = log_w.std(0) / math.sqrt(K)
    assert torch.all((log_w.mean(0) - exact).abs() < 4 * se)
    elbo = pyro.infer.Trace_ELBO(num_particles=K, vectorize_particles=True, max_plate_nesting=1)
    total = -elbo.loss(vae.model, vae.guide, ppca.x)
    assert abs(total - exact.sum().item()) < 4 * log_w.sum(1).std().item() / math.sqrt(K)
    # the gap is the KL to the exact posterior, and it is positive for this guide
    q = vae.posterior(ppca.x).base_dist
    guide = MultivariateNormal(q.loc, torch.diag_embed(q.scale**2))
    gap = ppca.marginal.log_prob(ppca.x) - exact
    torch.testing.assert_close(gap, kl_divergence(guide, ppca.exact_posterior()))
    assert torch.all(gap > 0.05)


def test_exact_posterior_guide_closes_the_gap(ppca):
    vae = ppca.vae()
    log_p = ppca.marginal.log_prob(ppca.x)
    # every importance weight is p(x): log p(x, z) − log q(z | x) = log p(x) for all z
    log_w, _ = ImportanceWeightedELBO(100).log_weights(vae.model, vae.guide, ppca.x)
    torch.testing.assert_close(log_w, log_p.expand(100, -1), atol=1e-10, rtol=0)
    torch.testing.assert_close(ppca.analytic_elbo(vae), log_p, atol=1e-10, rtol=0)
    loss = pyro.infer.Trace_ELBO().loss(vae.model, vae.guide, ppca.x)
    assert abs(-loss - log_p.sum().item()) < 1e-9


def assert_moments(draws, mean, cov):
    """Sample mean and covariance within 4 standard errors of ``mean`` and ``cov``."""
    n, var = len(draws), torch.diagonal(cov)
    assert torch.all((draws.mean(0) - mean).abs() < 4 * (var / n).sqrt())
    se = ((cov**2 + torch.outer(var, var)) / n).sqrt()  # of a Gaussian sample covariance
    assert torch.all((torch.cov(draws.T) - cov).abs() < 4 * se)


def test_samples_follow_the_marginal_and_means_the_decoder(ppca):
    vae = ppca.vae()
    assert_moments(vae.sample(20_000), ppca.b, ppca.marginal.covariance_matrix)
    assert_moments(vae.sample(20_000, mean=True), ppca.b, ppca.W @ ppca.W.T)


def test_iwae_log_likelihood_increases_with_particles_to_log_evidence(ppca):
    vae = ppca.arbitrary_vae()
    log_p = ppca.marginal.log_prob(ppca.x)
    means, errors = [], []
    for K, repeats in [(1, 400), (10, 400), (100, 400), (5000, 20)]:
        gaps = torch.stack([vae.log_likelihood(ppca.x, particles=K) for _ in range(repeats)])
        gaps = (gaps - log_p).mean(1)  # per repeat, averaged over the examples
        means.append(gaps.mean().item())
        errors.append(gaps.std().item() / math.sqrt(repeats))
    # K = 1 is the ELBO
    assert abs(means[0] - (ppca.analytic_elbo(vae) - log_p).mean().item()) < 4 * errors[0]
    for k in range(3):  # strictly better in expectation, beyond Monte Carlo error
        assert means[k + 1] - means[k] > 4 * math.hypot(errors[k], errors[k + 1])
    # within 0.02 nats per example of the exact log p(x) at K = 5000 (its standard error
    # here is about 0.004, the bias at K = 100 about 0.04)
    assert abs(means[-1]) < 0.02
    assert means[0] < -1  # far from it at K = 1: the convergence is real


def posterior(mean, cov, F, f, R):
    """u | v for u ~ N(mean, cov), v | u ~ N(Fu + f, R): N(Gv + g, P) with
    P = (cov⁻¹ + FᵀR⁻¹F)⁻¹; returns G, g and the standard deviations √diag P."""
    P = torch.linalg.inv(torch.linalg.inv(cov) + F.T @ torch.linalg.solve(R, F))
    G = P @ F.T @ torch.linalg.inv(R)
    return G, P @ torch.linalg.solve(cov, mean) - G @ f, torch.diagonal(P).sqrt()


def sample_sites(program, *args):
    """{name: is observed} of the sample sites of one run of ``program``, plates left out."""
    trace = prune_subsample_sites(pyro.poutine.trace(program).get_trace(*args))
    return {n: s["is_observed"] for n, s in trace.nodes.items() if s["type"] == "sample"}


@pytest.mark.parametrize("depth", [2, 3])
def test_hierarchical_elbo_below_log_evidence_and_iwae_converges(float64, depth):
    pyro.set_rng_seed(depth)
    g = torch.Generator().manual_seed(depth)
    dims = (3, 2, 2)[:depth]
    # generative levels z_l | z_{l+1} ~ N(A_l z_{l+1} + a_l, diag s_l²), x | z₁ ~ N(Wz₁ + b, σ²I)
    levels = [
        (
            torch.randn(lo, hi, generator=g),
            torch.randn(lo, generator=g),
            0.5 + torch.rand(lo, generator=g),
        )
        for lo, hi in zip(dims[:-1], dims[1:], strict=True)
    ]
    W, b = torch.randn(D, dims[0], generator=g), torch.randn(D, generator=g)
    marginals = [(torch.zeros(dims[-1]), torch.eye(dims[-1]))]  # of z_L, …, z₁
    for A, a, scale in reversed(levels):
        mean, cov = marginals[-1]
        marginals.append((A @ mean + a, A @ cov @ A.T + torch.diag(scale**2)))
    mean, cov = marginals[-1]
    marginal = MultivariateNormal(W @ mean + b, W @ cov @ W.T + SIGMA**2 * torch.eye(D))
    x = marginal.sample((6,))
    # guide: the exact conditionals p(z₁ | x), p(z_{l+1} | z_l) with their marginal
    # variances, which the diagonal Gaussian networks express
    children = [(W, b, SIGMA**2 * torch.eye(D))]
    children += [(A, a, torch.diag(scale**2)) for A, a, scale in levels]
    encoders = [
        linear_gaussian(*posterior(*prior, *child))
        for prior, child in zip(reversed(marginals), children, strict=True)
    ]
    vae = HierarchicalVAE(
        (D,),
        dims,
        likelihood="gaussian",
        scale=SIGMA,
        encoders=encoders,
        conditionals=[linear_gaussian(*level) for level in levels],
        decoder=linear(W, b),
    )
    latent = {f"z{level}": False for level in range(1, depth + 1)}
    assert sample_sites(vae.model, x) == {**latent, "x": True}
    assert sample_sites(vae.guide, x) == latent
    log_p = marginal.log_prob(x)
    K = 20_000
    log_w, _ = ImportanceWeightedELBO(K).log_weights(vae.model, vae.guide, x)
    elbo, se = log_w.mean(0), log_w.std(0) / math.sqrt(K)
    assert torch.all(elbo + 4 * se < log_p)  # the ELBO is below log p(x), beyond MC error
    iwae = torch.stack([vae.log_likelihood(x, particles=K) for _ in range(4)]).mean(0)
    assert torch.all(iwae > elbo + 0.1)  # the gap is 0.35 to 0.6 nats here
    torch.testing.assert_close(iwae, log_p, atol=0.03, rtol=0)  # observed error < 0.01
    # ancestral draws follow the marginal of x
    assert_moments(vae.sample(20_000), marginal.mean, marginal.covariance_matrix)


def test_conditional_vae_exact_posterior_gives_log_p_x_given_y(float64):
    pyro.set_rng_seed(0)
    ppca, classes = PPCA(seed=1, n=6), 3
    U = 2 * torch.randn(D, classes, generator=ppca.generator)  # the label shifts the mean
    y = torch.tensor([0, 1, 2, 2, 1, 0])
    x = ppca.x + U[:, y].T
    vae = ConditionalVAE(
        (D,),
        classes,
        d,
        likelihood="gaussian",
        scale=SIGMA,
        encoder=linear_gaussian(ppca.A, -ppca.A @ ppca.b, ppca.post_scale, -ppca.A @ U),
        decoder=linear(ppca.W, ppca.b, U),
    )
    # the guide is the exact posterior for any label: the estimate is exact for each, and
    # the labels matter
    cov = ppca.marginal.covariance_matrix
    evidence = {}
    for shift in (0, 1):
        labels = (y + shift) % classes
        evidence[shift] = MultivariateNormal(ppca.b + U[:, labels].T, cov).log_prob(x)
        estimate = vae.log_likelihood(x, labels, particles=10)
        torch.testing.assert_close(estimate, evidence[shift], atol=1e-10, rtol=0)
    assert torch.all(evidence[1] < evidence[0] - 1)
    loss = pyro.infer.Trace_ELBO().loss(vae.model, vae.guide, x, y)
    assert abs(-loss - evidence[0].sum().item()) < 1e-9
    # draws of a class follow log p(x | y)'s Gaussian
    assert_moments(vae.sample(20_000, 2), ppca.b + U[:, 2], cov)
