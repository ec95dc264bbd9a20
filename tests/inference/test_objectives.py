"""The objectives with several parameter groups or state: Adversarial and ContrastiveDivergence.

References: Goodfellow et al. (2014), Proposition 1 (the optimal discriminator's logit is
log p_d − log p_g, a closed-form quadratic for two Gaussians) and Theorem 1 (its loss is
2 log 2 − 2 JSD, integrated by scipy); Newton's method on the same empirical discriminator
loss; the non-saturating generator gradient by the chain rule; hand-written PyTorch loops
(two Adams for the GAN, CD/PCD with one Adam) on the same batches and draws; exhaustive
enumeration of a tiny RBM for the expected CD-k gradient, E_q[∇F] − E_{qTᵏ}[∇F], and the
exact log-likelihood gradient; an uninterrupted run for resume.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import integrate, special, stats
from torch import nn

import probgen as pg
from probgen.errors import ArgumentError, ModelError
from probgen.inference import checkpoint
from probgen.inference.batches import epoch_order
from probgen.inference.fit import Optimizers
from probgen.inference.objectives import OBJECTIVES, Adversarial, ContrastiveDivergence
from probgen.models.base import GenerativeModel


def params(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


# --- GAN models ---------------------------------------------------------------------------


class Affine(nn.Module):
    """G(z) = a z + b: maps N(0, 1) to N(b, a²)."""

    def __init__(self, a: float, b: float):
        super().__init__()
        self.a, self.b = nn.Parameter(torch.tensor(a)), nn.Parameter(torch.tensor(b))

    def forward(self, z):
        return self.a * z + self.b


class Quadratic(nn.Module):
    """D(x) = w₀ + w₁x + w₂x², a family that holds the log-ratio of two Gaussians."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(3))

    def forward(self, x):
        return self.w[0] + self.w[1] * x + self.w[2] * x**2


def midpoints(n: int) -> torch.Tensor:
    """z_i = Φ⁻¹((i − ½)/n), i = 1..n: a deterministic n-point quadrature of N(0, 1)."""
    return torch.special.ndtri((torch.arange(n) + 0.5) / n)


class GaussianGAN(GenerativeModel):
    """A 1-D GAN whose fakes G(z_i) = a z_i + b sit on the quantile grid of N(b, a²), so that
    its losses are deterministic quadratures of the population ones."""

    default_objective = "adversarial"
    event_shape = ()

    def __init__(self, a: float, b: float):
        super().__init__()
        self.generator, self.discriminator = Affine(a, b), Quadratic()

    def generate(self, n):
        return self.generator(midpoints(n))


class TinyGAN(GenerativeModel):
    """A 2-D GAN of two small networks, with fakes G(z), z ~ N(0, I) from torch's RNG."""

    default_objective = "adversarial"
    event_shape = (2,)

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.generator = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
        self.discriminator = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(0.5 * torch.randn(p.shape, generator=g))

    def generate(self, n):
        return self.generator(torch.randn(n, 2))


# --- Adversarial ----------------------------------------------------------------------------

MU, SD, A, B = 1.0, 0.8, 1.0, 0.0  # p_d = N(1, 0.8²), p_g = N(0, 1)


def optimal_logit() -> np.ndarray:
    """(w₀, w₁, w₂) of D*(x) = log N(x; μ, s²) − log N(x; b, a²) (Proposition 1)."""
    return np.array(
        [
            B**2 / (2 * A**2) - MU**2 / (2 * SD**2) + math.log(A / SD),
            MU / SD**2 - B / A**2,
            1 / (2 * A**2) - 1 / (2 * SD**2),
        ]
    )


def newton_discriminator(x: np.ndarray, fake: np.ndarray) -> np.ndarray:
    """The minimiser of (1/n) Σ softplus(−D(x_i)) + (1/n) Σ softplus(D(x̃_i)) over w, a
    logistic regression on features (1, x, x²), by Newton's method."""
    real, fakes = (np.stack([np.ones_like(t), t, t**2], 1) for t in (x, fake))
    w = np.zeros(3)
    for _ in range(30):
        sr, sf = special.expit(-real @ w), special.expit(fakes @ w)
        gradient = -(sr[:, None] * real).mean(0) + (sf[:, None] * fakes).mean(0)
        hessian = np.einsum("n,ni,nj->ij", sr * (1 - sr), real, real) / len(x)
        hessian += np.einsum("n,ni,nj->ij", sf * (1 - sf), fakes, fakes) / len(fake)
        w = w - np.linalg.solve(hessian, gradient)
    assert np.abs(gradient).max() < 1e-14
    return w


def test_discriminator_reaches_the_log_density_ratio(float64):
    """Against the frozen generator N(0, 1) (generator_lr=0), pg.fit trains D to the
    minimiser of the empirical L_D (Newton's), which is within the quadrature error of the
    closed-form D* = log p_d − log p_g, and its loss to 2 log 2 − 2 JSD(p_d ‖ p_g).

    Data and fakes are the n-point quantile grids of N(μ, s²) and N(b, a²), so L_D is the
    midpoint rule in probability of the population loss, with an error of order 1/n (from
    the outermost cells, where softplus(−D) grows like x²): about 1.3/n on the minimiser for
    these Gaussians, hence the tolerance 2/n = 0.002, while a wrong sign, term or weight in
    L_D moves w by 0.1 or more."""
    n = 1000
    x = MU + SD * midpoints(n)
    model = GaussianGAN(A, B)
    objective = Adversarial(generator_lr=0.0)
    run = pg.fit(model, x, objective=objective, steps=600, batch_size=n, lr=0.1, progress=False)
    w = model.discriminator.w.detach().numpy()
    exact = newton_discriminator(x.numpy(), (A * midpoints(n) + B).numpy())
    np.testing.assert_allclose(w, exact, rtol=0, atol=1e-9)
    np.testing.assert_allclose(w, optimal_logit(), rtol=0, atol=2 / n)
    assert (model.generator.a.item(), model.generator.b.item()) == (A, B)  # frozen exactly
    # Theorem 1: min L_D = 2 log 2 − 2 JSD(p_d ‖ p_g), the JSD integrated numerically
    p, q = stats.norm(MU, SD), stats.norm(B, A)

    def half_kl_to_mixture(t, this, other):
        log_mixture = np.logaddexp(this.logpdf(t), other.logpdf(t)) - math.log(2)
        return 0.5 * this.pdf(t) * (this.logpdf(t) - log_mixture)

    jsd = sum(
        integrate.quad(half_kl_to_mixture, -30, 30, args=args, epsabs=1e-13)[0]
        for args in ((p, q), (q, p))
    )
    assert run.losses[-1] == pytest.approx(2 * math.log(2) - 2 * jsd, abs=2 / n)
    assert len(run.metrics["generator"]) == 600


def test_generator_gradient_is_the_non_saturating_one_at_the_updated_discriminator(
    float64, tmp_path
):
    """One step from D₀ = 0; the gradients, read from Adam's first moments in the checkpoint
    (m₁ = (1 − β₁) g, exact for β₁ = ½), are the chain rule's:

        ∇_w L_D = −(1/n) Σ σ(−D₀(x_i)) φ(x_i) + (1/n) Σ σ(D₀(x̃_i)) φ(x̃_i),  φ = (1, x, x²),
        ∂L_G/∂(a, b) = −(1/n) Σ σ(−D₁(x̃_i)) D₁′(x̃_i) (z_i, 1),

    with D₁ the discriminator after its update (at D₀ = 0 the generator's gradient is 0)."""
    n = 200
    x = MU + SD * midpoints(n)
    model = GaussianGAN(A, B)
    objective = Adversarial(discriminator_lr=0.05, generator_lr=0.01, betas=(0.5, 0.999))
    path = tmp_path / "one.pt"
    pg.fit(model, x, objective=objective, steps=1, batch_size=n, checkpoint=path, progress=False)
    state = checkpoint.load(path)
    moments = {
        name: [2 * s["exp_avg"] for s in state["optimizers"][name]["state"].values()]
        for name in ("discriminator", "generator")
    }
    z = midpoints(n).numpy()
    fake, real = A * z + B, x.numpy()
    features = lambda t: np.stack([np.ones_like(t), t, t**2], 1)  # noqa: E731
    gradient_d = (0.5 * features(fake)).mean(0) - (0.5 * features(real)).mean(0)  # σ(0) = ½
    np.testing.assert_allclose(moments["discriminator"][0].numpy(), gradient_d, atol=1e-15)
    w1 = state["model"]["discriminator.w"].numpy()
    # Adam's first step, ≈ −lr·sign(g), moves w₁ and w₂ (g₀ = 0: as many fakes as examples)
    assert w1[0] == 0 and np.abs(w1[1:]).min() > 0.04
    slope = w1[1] + 2 * w1[2] * fake
    weight = special.expit(-(features(fake) @ w1)) * slope
    expected = [-(weight * z).mean(), -weight.mean()]  # (∂/∂a, ∂/∂b)
    actual = [m.item() for m in moments["generator"]]
    np.testing.assert_allclose(actual, expected, rtol=1e-12)
    assert min(abs(e) for e in expected) > 0.01  # far from the 0 of a stale D₀
    # each group keeps its own rate, not pg.fit's
    lrs = [state["optimizers"][k]["param_groups"][0]["lr"] for k in ("discriminator", "generator")]
    assert lrs == [0.05, 0.01]


def hand_gan_loop(x, steps, batch, seed, k, lrs, betas):
    """Algorithm 1 of Goodfellow et al. with two torch.optim.Adam: k discriminator steps on
    the step's batch (fresh noise each), then one generator step on fresh noise."""
    model = TinyGAN()
    adam_d = torch.optim.Adam(model.discriminator.parameters(), lr=lrs[0], betas=betas)
    adam_g = torch.optim.Adam(model.generator.parameters(), lr=lrs[1], betas=betas)
    per_epoch = -(-len(x) // batch)
    torch.manual_seed(seed)
    d_losses, g_losses = [], []
    for step in range(steps):
        epoch, j = divmod(step, per_epoch)
        real = x[epoch_order(seed, epoch, len(x), x.device)[batch * j : batch * (j + 1)]]
        d_values = []
        for _ in range(k):
            fake = model.generator(torch.randn(len(real), 2)).detach()
            d = model.discriminator
            loss = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
            adam_d.zero_grad()
            loss.backward()
            adam_d.step()
            d_values.append(loss.item())
        fake = model.generator(torch.randn(len(real), 2))
        loss = F.softplus(-model.discriminator(fake)).mean()
        adam_g.zero_grad()
        loss.backward()
        adam_g.step()
        d_losses.append(sum(d_values) / k)
        g_losses.append(loss.item())
    return model, np.array(d_losses), np.array(g_losses)


def test_adversarial_fit_equals_a_hand_written_two_optimizer_loop(float64, tmp_path):
    """Two Adams (β = (0.5, 0.999), own and pg.fit's rates), k = 2, batches 8, 8, 8, 6:
    pg.fit, with and without the JIT (which traces after the first epoch), and a resumed
    run, equal the hand loop (fit's fused Adam rounds differently: 1e-12, not bit equality)."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(30, 2, generator=g) * torch.tensor([1.0, 0.5]) + 2
    options = {"steps": 10, "batch_size": 8, "lr": 0.02, "seed": 5, "progress": False}
    hand, d_losses, g_losses = hand_gan_loop(x, 10, 8, 5, 2, (0.01, 0.02), (0.5, 0.999))
    objective = {"discriminator_steps": 2, "discriminator_lr": 0.01, "betas": (0.5, 0.999)}
    path = tmp_path / "part.pt"
    runs = {}
    for how, extra in [("plain", {}), ("jit", {"jit_compile": True})]:
        model = TinyGAN()
        run = pg.fit(model, x, objective=Adversarial(**objective), **options, **extra)
        np.testing.assert_allclose(run.losses, d_losses, rtol=1e-12)
        np.testing.assert_allclose(run.metrics["generator"], g_losses, rtol=1e-12)
        for key, value in params(hand).items():
            torch.testing.assert_close(params(model)[key], value, rtol=1e-12, atol=0)
        runs[how] = (model, run)
    model, run = runs["plain"]
    first = options | {"steps": 6, "checkpoint": path}
    pg.fit(TinyGAN(), x, objective=Adversarial(**objective), **first)
    resumed_model = TinyGAN()
    resumed = pg.fit(resumed_model, x, objective=Adversarial(**objective), resume=path, **options)
    np.testing.assert_array_equal(resumed.losses, run.losses)
    assert resumed.metrics == run.metrics
    for key, value in params(model).items():
        assert torch.equal(params(resumed_model)[key], value), key


def test_each_update_moves_only_its_own_group(float64):
    """Within a step: k discriminator updates leave G's parameters as they were, bit for
    bit, and the generator's update leaves D's."""
    model = TinyGAN()
    objective = Adversarial(discriminator_steps=2)
    optimizers = Optimizers(objective.groups(model), lr=0.1, clip_norm=None)
    seen = []

    def update(group, loss):
        before = {part: params(getattr(model, part)) for part in objective.modules}
        value = optimizers.update(group, loss)
        after = {part: params(getattr(model, part)) for part in objective.modules}
        seen.append((group, before, after))
        return value

    x = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    objective.step(model, objective.losses(model, 16), (x,), 0, update)
    assert [group for group, *_ in seen] == ["discriminator", "discriminator", "generator"]
    for group, before, after in seen:
        other = "generator" if group == "discriminator" else "discriminator"
        assert all(torch.equal(before[other][k], after[other][k]) for k in before[other])
        assert all(not torch.equal(before[group][k], after[group][k]) for k in before[group])


# --- contrastive divergence ---------------------------------------------------------------


class RBM(GenerativeModel):
    """An RBM of binary units, E(v, h) = −vᵀWh − bᵀv − cᵀh, so F(v) = −bᵀv −
    Σ_j softplus(c_j + (vᵀW)_j); tiny (3 visible, 2 hidden units) unless told."""

    default_objective = "cd"

    def __init__(self, visible: int = 3, hidden: int = 2, seed: int = 0, scale: float = 1.5):
        super().__init__()
        self.event_shape = (visible,)
        g = torch.Generator().manual_seed(seed)
        self.W = nn.Parameter(scale * torch.randn(visible, hidden, generator=g))
        self.b = nn.Parameter(torch.randn(visible, generator=g))
        self.c = nn.Parameter(torch.randn(hidden, generator=g))

    def free_energy(self, v):
        return -v @ self.b - F.softplus(self.c + v @ self.W).sum(-1)

    def sample_h_given_v(self, v, generator=None):
        return torch.bernoulli(torch.sigmoid(self.c + v @ self.W), generator=generator)

    def sample_v_given_h(self, h, generator=None):
        return torch.bernoulli(torch.sigmoid(self.b + h @ self.W.T), generator=generator)


class Enumerated:
    """The tiny RBM by enumeration of its 8 visible and 4 hidden states: p(v) ∝ exp(−F(v)),
    the block-Gibbs transition T(v, v′) = Σ_h p(h | v) p(v′ | h), and ∇F(v) in closed form
    (∂F/∂W_ij = −v_i s_j, ∂F/∂b = −v, ∂F/∂c = −s, s = σ(c + vᵀW)), in the order of
    the model's parameters (W, b, c)."""

    def __init__(self, rbm: RBM):
        w, b, c = (p.detach().numpy() for p in (rbm.W, rbm.b, rbm.c))
        self.states = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
        hidden = np.array(list(itertools.product([0.0, 1.0], repeat=2)))
        v = self.states

        def bernoulli(prob, x):
            return np.prod(np.where(x == 1, prob, 1 - prob), -1)

        h_given_v = bernoulli(special.expit(c + v @ w)[:, None], hidden[None])
        v_given_h = bernoulli(special.expit(b + hidden @ w.T)[:, None], v[None])
        self.transition = h_given_v @ v_given_h
        energy = -v @ b - np.logaddexp(0, c + v @ w).sum(1)
        self.p = np.exp(-energy - special.logsumexp(-energy))
        s = special.expit(c + v @ w)
        self.grad = np.concatenate([-(v[:, :, None] * s[:, None]).reshape(8, 6), -v, -s], 1)

    def index(self, v: torch.Tensor) -> np.ndarray:
        return (v.numpy() @ np.array([4, 2, 1])).astype(int)

    def cd_gradient(self, q: np.ndarray, k: int) -> np.ndarray:
        """E[∇L] = E_q[∇F] − E_{qTᵏ}[∇F]."""
        return q @ self.grad - q @ np.linalg.matrix_power(self.transition, k) @ self.grad

    def likelihood_gradient(self, q: np.ndarray) -> np.ndarray:
        """−∇ E_q[log p(v)] = E_q[∇F] − E_p[∇F]."""
        return q @ self.grad - self.p @ self.grad

    def standard_error(self, data: np.ndarray, k: int, copies: int) -> np.ndarray:
        """The sd of ∇L's negative phase, the mean of ∇F over ``copies`` independent chains
        from each data state v_i, of laws Tᵏ(v_i, ·)."""
        tk = np.linalg.matrix_power(self.transition, k)[data]
        variance = (tk @ self.grad**2 - (tk @ self.grad) ** 2).sum(0)
        return np.sqrt(variance / copies) / len(data)


def data_vectors() -> torch.Tensor:
    """Five visible vectors, the data q (three distinct states, one of them twice)."""
    return torch.tensor([[1.0, 0, 1], [1, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1]])


def cd_estimate(rbm: RBM, objective: ContrastiveDivergence, v: torch.Tensor) -> np.ndarray:
    """∇L of one step of ``objective`` on the batch ``v``, by autograd, without updating."""
    gradients = []

    def update(group, loss):
        gradient = torch.autograd.grad(loss, list(rbm.parameters()))
        gradients.append(torch.cat([g.flatten() for g in gradient]))
        return loss.item()

    objective.step(rbm, objective.losses(rbm, len(v)), (v,), 0, update)
    return gradients[0].numpy()


@pytest.mark.parametrize("k", [1, 3])
def test_cd_gradient_is_its_enumerated_expectation(float64, k):
    """Over 40,000 chains from each of 5 data vectors, ∇L is within 4.5 standard errors
    (exact, by enumeration) of E_q[∇F] − E_{qTᵏ}[∇F] in every coordinate, while CD-(k+1)'s
    expectation is more than 10 of them away: the estimate is CD-k's, not a neighbour's."""
    rbm, copies = RBM(), 40_000
    exact = Enumerated(rbm)
    data = exact.index(data_vectors())
    q = np.bincount(data, minlength=8) / len(data)
    torch.manual_seed(0)
    estimate = cd_estimate(rbm, ContrastiveDivergence(k=k), data_vectors().repeat(copies, 1))
    error = exact.standard_error(data, k, copies)
    assert np.all(np.abs(estimate - exact.cd_gradient(q, k)) < 4.5 * error)
    assert np.max(np.abs(exact.cd_gradient(q, k + 1) - exact.cd_gradient(q, k)) / error) > 10


def test_cd_gradient_tends_to_the_likelihood_gradient_as_k_grows(float64):
    """qTᵏ → p(v), the enumerated model (T's chain has p as its stationary law), so
    E[∇L] → E_q[∇F] − E_p[∇F] geometrically; CD-30's estimate from 200,000 chains is within
    4.5 standard errors of the exact log-likelihood gradient."""
    rbm, copies = RBM(), 40_000
    exact = Enumerated(rbm)
    data = exact.index(data_vectors())
    q = np.bincount(data, minlength=8) / len(data)
    np.testing.assert_allclose(exact.p @ exact.transition, exact.p, rtol=1e-12)
    gaps = [
        np.abs(exact.cd_gradient(q, k) - exact.likelihood_gradient(q)).max()
        for k in (1, 2, 5, 10, 30)
    ]
    assert all(a > b for a, b in zip(gaps, gaps[1:], strict=False)) and gaps[0] > 0.05
    assert gaps[-1] < 1e-8
    torch.manual_seed(1)
    estimate = cd_estimate(rbm, ContrastiveDivergence(k=30), data_vectors().repeat(copies, 1))
    error = exact.standard_error(data, 30, copies)
    assert np.all(np.abs(estimate - exact.likelihood_gradient(q)) < 4.5 * error)


def rbm_data(n: int = 30, visible: int = 12) -> torch.Tensor:
    g = torch.Generator().manual_seed(4)
    return torch.bernoulli(torch.linspace(0.2, 0.8, visible).expand(n, visible), generator=g)


def mid_rbm(seed: int = 1) -> RBM:
    """12 visible and 6 hidden units: chains from different starts that share the draws
    (common uniforms) do not meet within a few steps, as those of the tiny RBM can, so a
    wrong chain start shows in the run."""
    return RBM(12, 6, seed=seed, scale=0.5)


def hand_cd_loop(x, steps, batch, seed, k, lr, persistent):
    """CD-k (or PCD-k: the chains, started at the first batch, run on) with torch.optim.Adam."""
    rbm = mid_rbm()
    adam = torch.optim.Adam(rbm.parameters(), lr=lr)
    per_epoch = -(-len(x) // batch)
    torch.manual_seed(seed)
    chains, losses = None, []
    for step in range(steps):
        epoch, j = divmod(step, per_epoch)
        v = x[epoch_order(seed, epoch, len(x), x.device)[batch * j : batch * (j + 1)]]
        negative = v if chains is None or not persistent else chains
        with torch.no_grad():
            for _ in range(k):
                h = torch.bernoulli(torch.sigmoid(rbm.c + negative @ rbm.W))
                negative = torch.bernoulli(torch.sigmoid(rbm.b + h @ rbm.W.T))
        chains = negative
        loss = rbm.free_energy(v).mean() - rbm.free_energy(negative).mean()
        adam.zero_grad()
        loss.backward()
        adam.step()
        losses.append(loss.item())
    return rbm, np.array(losses)


@pytest.mark.parametrize("persistent", [False, True])
def test_cd_fit_equals_a_hand_written_loop(float64, persistent):
    """CD-2 and PCD-2 with batches 8, 8, 8, 6 (the 8 persistent chains all run, and all
    enter the negative phase, at the step of 6), with and without the JIT, equal the hand
    loop (fused Adam's rounding: 1e-12)."""
    x = rbm_data()
    options = {"steps": 10, "batch_size": 8, "lr": 0.05, "seed": 2, "progress": False}
    hand, losses = hand_cd_loop(x, 10, 8, 2, 2, 0.05, persistent)
    for extra in ({}, {"jit_compile": True}):
        rbm = mid_rbm()
        objective = ContrastiveDivergence(k=2, persistent=persistent)
        run = pg.fit(rbm, x, objective=objective, **options, **extra)
        np.testing.assert_allclose(run.losses, losses, rtol=1e-12)
        for key, value in params(hand).items():
            torch.testing.assert_close(params(rbm)[key], value, rtol=1e-12, atol=0)
        assert objective.state_dict().keys() == ({"chains"} if persistent else set())


def test_pcd_resume_repeats_the_uninterrupted_run_bit_for_bit(float64, tmp_path):
    """The persistent chains travel in the checkpoint: a resumed PCD run (a new objective
    and model) gives the uninterrupted run's losses and parameters exactly."""
    x = rbm_data(50)  # batches 16, 16, 16, 2
    options = {"batch_size": 16, "lr": 0.05, "seed": 7, "progress": False}
    whole, objective = mid_rbm(), ContrastiveDivergence(k=3, persistent=True)
    full = pg.fit(whole, x, objective=objective, steps=12, **options)
    part = ContrastiveDivergence(k=3, persistent=True)
    path = tmp_path / "part.pt"
    pg.fit(mid_rbm(), x, objective=part, steps=5, checkpoint=path, **options)
    assert torch.equal(
        checkpoint.load(path)["objective_state"]["chains"], part.state_dict()["chains"]
    )
    resumed_rbm, resumed_objective = mid_rbm(seed=9), ContrastiveDivergence(k=3, persistent=True)
    resumed = pg.fit(resumed_rbm, x, objective=resumed_objective, steps=12, resume=path, **options)
    np.testing.assert_array_equal(resumed.losses, full.losses)
    for key, value in params(whole).items():
        assert torch.equal(params(resumed_rbm)[key], value), key
    assert torch.equal(resumed_objective.state_dict()["chains"], objective.state_dict()["chains"])
    # CD would drop the chains of a PCD checkpoint, and a CD checkpoint has none for PCD
    with pytest.raises(ArgumentError, match="does not fit RBM.*keeps no state.*chains"):
        pg.fit(mid_rbm(), x, objective=ContrastiveDivergence(k=3), steps=12, resume=path, **options)
    cd = tmp_path / "cd.pt"
    pg.fit(mid_rbm(), x, objective="cd", steps=1, checkpoint=cd, **options)
    with pytest.raises(ArgumentError, match="does not fit RBM.*needs its chains"):
        pg.fit(
            mid_rbm(),
            x,
            objective=ContrastiveDivergence(persistent=True),
            steps=2,
            resume=cd,
            **options,
        )


# --- registry and bad input ---------------------------------------------------------------


class NoDiscriminator(GenerativeModel):
    event_shape = (2,)

    def __init__(self):
        super().__init__()
        self.generator = nn.Linear(2, 2)

    def generate(self, n):
        return self.generator(torch.randn(n, 2))


class NoGenerate(TinyGAN):
    generate = None


class NoFreeEnergy(RBM):
    free_energy = None


def test_objectives_are_registered_by_name():
    """A name builds the objective with its defaults: CD-1, and one discriminator step with
    pg.fit's rate and torch's betas; the runs equal those of the objects, bit for bit."""
    assert OBJECTIVES["adversarial"] is Adversarial and OBJECTIVES["cd"] is ContrastiveDivergence
    options = {"steps": 3, "batch_size": 8, "progress": False}
    for make, data, name, objective in [
        (mid_rbm, rbm_data(), "cd", ContrastiveDivergence(k=1)),
        (TinyGAN, torch.randn(20, 2), "adversarial", Adversarial(betas=(0.9, 0.999))),
    ]:
        by_name = pg.fit(make(), data, objective=name, **options)
        by_object = pg.fit(make(), data, objective=objective, **options)
        np.testing.assert_array_equal(by_name.losses, by_object.losses)
        assert by_name.metrics == by_object.metrics


@pytest.mark.parametrize(
    "model, objective, match",
    [
        (NoDiscriminator(), "adversarial", "NoDiscriminator.discriminator, a submodule"),
        (NoGenerate(), Adversarial(), "NoGenerate.generate\\(\\)"),
        (NoFreeEnergy(), "cd", "NoFreeEnergy.free_energy\\(\\)"),
        (RBM(), "adversarial", "RBM.generator, a submodule"),
    ],
)
def test_a_model_without_what_the_objective_calls_is_refused(model, objective, match):
    with pytest.raises(ModelError, match=match):
        pg.fit(
            model, torch.zeros(4, *model.event_shape), objective=objective, steps=1, progress=False
        )


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: ContrastiveDivergence(k=0), "k must be an integer ≥ 1, got 0"),
        (lambda: ContrastiveDivergence(k=1.5), "k must be"),
        (lambda: ContrastiveDivergence(persistent="yes"), "persistent"),
        (lambda: Adversarial(discriminator_steps=0), "discriminator_steps"),
        (lambda: Adversarial(generator_lr=-1.0), "generator_lr"),
        (lambda: Adversarial(betas=(0.5, 1.0)), "betas"),
    ],
)
def test_bad_options_raise(build, match):
    with pytest.raises(ArgumentError, match=match):
        build()
