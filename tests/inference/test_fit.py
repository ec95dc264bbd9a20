"""pg.fit: the minibatch training loop of zoo models, its checkpoints and its errors.

References: the closed-form Gaussian MLE (sample mean, biased sd); a hand computation of
probabilistic PCA's ELBO at the same draw and its closed-form expectation; a textbook
PyTorch loop (torch.optim.Adam, clip_grad_norm_) on the same batches; an uninterrupted run
for resume; the set of examples for the epoch permutation.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro import poutine
from pyro.poutine.util import is_validation_enabled
from scipy import stats
from torch import nn

import probgen as pg
from probgen.datasets import Dataset
from probgen.errors import ArgumentError, DataError, ModelError, TrainingError
from probgen.inference import checkpoint
from probgen.inference.batches import epoch_order
from probgen.inference.fit import Optimizers
from probgen.inference.objectives import ELBO, Group, MaximumLikelihood
from probgen.models.base import GenerativeModel, data_plate


class Gaussian(GenerativeModel):
    """x ~ N(μ, diag(σ²)) with σ = exp(log σ): the MLE is the sample mean and biased sd."""

    default_objective = "mle"
    event_shape = (2,)

    def __init__(self):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(2))
        self.log_scale = nn.Parameter(torch.zeros(2))

    def log_prob(self, x):
        return dist.Normal(self.loc, self.log_scale.exp()).to_event(1).log_prob(x)


class PPCA(GenerativeModel):
    """Probabilistic PCA with one latent: z ~ N(0, 1), x | z ~ N(b + z·w, σ²I); the guide
    q(z | x) = N(a·x + c, s²) has the form of the exact posterior."""

    default_objective = "elbo"
    event_shape = (3,)

    def __init__(self, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w, self.b, self.a = (nn.Parameter(torch.randn(3, generator=g)) for _ in range(3))
        scalars = (nn.Parameter(0.3 * torch.randn((), generator=g)) for _ in range(3))
        self.log_sigma, self.c, self.log_s = scalars

    def model(self, x, size=None):
        with data_plate(x, size):
            z = pyro.sample("z", dist.Normal(x.new_zeros(len(x)), 1.0))
            loc = self.b + z[:, None] * self.w
            pyro.sample("x", dist.Normal(loc, self.log_sigma.exp()).to_event(1), obs=x)

    def guide(self, x, size=None):
        with data_plate(x, size):
            pyro.sample("z", dist.Normal(x @ self.a + self.c, self.log_s.exp()))

    def exact_elbo(self, x):
        """Σ_i E_q[log p(x_i, z_i) − log q(z_i)] in closed form (Gaussian expectations)."""
        m, s2 = (x @ self.a + self.c).detach().numpy(), math.exp(2 * self.log_s.item())
        w, b = self.w.detach().numpy(), self.b.detach().numpy()
        sigma2 = math.exp(2 * self.log_sigma.item())
        # E_q‖x − b − z·w‖² = ‖x − b − m·w‖² + s²‖w‖²
        residual = x.numpy() - b - m[:, None] * w
        likelihood = -0.5 * (
            3 * np.log(2 * np.pi * sigma2) + ((residual**2).sum(1) + s2 * w @ w) / sigma2
        )
        prior = -0.5 * (np.log(2 * np.pi) + m**2 + s2)
        entropy = 0.5 * np.log(2 * np.pi * np.e * s2)
        return float((likelihood + prior + entropy).sum())


class Recorder(GenerativeModel):
    """Minimises the mean of (x − θ)²; records every batch and whether Pyro validates and the
    module trains. With ``fail_at`` = (k, what) its k-th loss is NaN (``"loss"``), finite
    with an infinite gradient (``"gradient"``), or made by a distribution with a NaN
    parameter (``"parameter"``)."""

    default_objective = "loss"
    event_shape = ()

    def __init__(self, fail_at: tuple[int, str] | None = None):
        super().__init__()
        self.theta = nn.Parameter(torch.zeros(()))
        self.batches: list[torch.Tensor] = []
        self.modes: list[tuple[bool, bool]] = []
        self.fail_at = fail_at

    def loss(self, x):
        self.batches.append(x.detach().clone())
        self.modes.append((is_validation_enabled(), self.training))
        loss = ((x - self.theta) ** 2).mean()
        if self.fail_at and len(self.batches) == self.fail_at[0]:
            if self.fail_at[1] == "loss":
                return loss * math.nan
            if self.fail_at[1] == "parameter":  # Pyro's validation raises on the NaN
                return -dist.Normal(self.theta * math.nan, 1.0).log_prob(x).mean()
            # √(θ − θ) is 0 with an infinite derivative
            return loss + torch.sqrt(self.theta - self.theta.detach())
        return loss


def ppca_data(n: int = 50) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    z = torch.randn(n, 1, generator=g)
    return torch.tensor([1.0, -2.0, 0.5]) * z + 0.3 * torch.randn(n, 3, generator=g) + 1


def params(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


# --- objectives ---------------------------------------------------------------------------


def test_mle_converges_to_the_sample_mean_and_biased_sd(float64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 2, generator=g) * torch.tensor([0.5, 2.0]) + torch.tensor([1.0, -3.0])
    model = Gaussian()
    run = pg.fit(model, x, steps=600, batch_size=40, lr=0.1, progress=False)
    torch.testing.assert_close(model.loc.detach(), x.mean(0), rtol=0, atol=1e-10)
    sd = x.std(0, correction=0)
    torch.testing.assert_close(model.log_scale.exp().detach(), sd, rtol=0, atol=1e-10)
    exact_nll = -stats.norm.logpdf(x, x.mean(0), sd).sum(1).mean()
    assert run.losses[-1] == pytest.approx(exact_nll, rel=1e-12)


def test_svi_minibatch_loss_is_n_over_b_times_the_batch_elbo(float64):
    """At one draw z ~ q, the loss of a batch of B with size=N is −(N/B)·Σ_i ELBO_i / N,
    the batch's ELBO estimate scaled to the data set, per example."""
    model, x = PPCA(), ppca_data()
    n, batch = len(x), x[:16]
    pyro.set_rng_seed(5)
    z = poutine.trace(model.guide).get_trace(batch, size=n).nodes["z"]["value"].detach()
    pyro.set_rng_seed(5)
    loss = ELBO().losses(model, n)["loss"](batch).item()
    w, b, a = (p.detach().numpy() for p in (model.w, model.b, model.a))
    sigma, s = model.log_sigma.exp().item(), model.log_s.exp().item()
    xb, zb = batch.numpy(), z.numpy()
    elbo_i = (
        stats.norm.logpdf(xb, b + zb[:, None] * w, sigma).sum(1)
        + stats.norm.logpdf(zb)
        - stats.norm.logpdf(zb, xb @ a + model.c.item(), s)
    )
    assert loss == pytest.approx(-(n / 16) * elbo_i.sum() / n, rel=1e-12)


def test_svi_epoch_mean_loss_estimates_the_exact_elbo(float64):
    """Averaged over draws, the size-weighted losses of one epoch's batches (16, 16, 16, 2)
    give the closed-form −ELBO/N of the whole data set."""
    model, x = PPCA(seed=3), ppca_data()
    loss_of, n = ELBO().losses(model, len(x))["loss"], len(x)
    order = epoch_order(0, 0, n, x.device)
    batches = [order[i : i + 16] for i in range(0, n, 16)]
    pyro.set_rng_seed(0)
    with torch.no_grad():
        draws = [sum(len(i) * loss_of(x[i]).item() for i in batches) / n for _ in range(400)]
    error, exact = np.std(draws) / np.sqrt(len(draws)), -model.exact_elbo(x) / n
    assert abs(np.mean(draws) - exact) < 4 * error
    assert error < 0.005 * exact  # sharp: a lost N/B factor or entropy term is far outside


def test_fit_equals_a_textbook_torch_loop_with_clipping(float64):
    """The same batches, Adam and clip_grad_norm_ written by hand give the same parameters
    (fit's fused Adam rounds differently from the per-tensor loop: 1e-12, not bit equality)."""
    g = torch.Generator().manual_seed(2)
    x = torch.randn(30, 2, generator=g) * 3 + 5
    model = Gaussian()
    run = pg.fit(model, x, steps=25, batch_size=8, lr=0.05, clip_norm=0.5, seed=4, progress=False)
    hand = Gaussian()
    optimizer = torch.optim.Adam(hand.parameters(), lr=0.05)
    losses = []
    for step in range(25):
        epoch, j = divmod(step, 4)
        index = epoch_order(4, epoch, 30, x.device)[8 * j : 8 * j + 8]
        loss = -hand.log_prob(x[index]).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(hand.parameters(), 0.5)
        optimizer.step()
        losses.append(loss.item())
    np.testing.assert_allclose(run.losses, losses, rtol=1e-12)
    for key, value in params(hand).items():
        torch.testing.assert_close(params(model)[key], value, rtol=1e-12, atol=0)


class ScheduledSGD(MaximumLikelihood):
    """Maximum likelihood by SGD whose learning rate halves every 5 steps: a group with its
    own optimizer and schedule."""

    def groups(self, model):
        return {
            "model": Group.of(
                model,
                optimizer=lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
                schedule=lambda optimizer: torch.optim.lr_scheduler.StepLR(optimizer, 5, 0.5),
            )
        }


def test_a_groups_optimizer_and_schedule_equal_a_textbook_loop_and_resume(float64, tmp_path):
    """SGD with momentum and a StepLR schedule, written by hand on the same batches, takes
    the same steps bit for bit; a run resumed at step 7 (mid-schedule) repeats them too."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(30, 2, generator=g) * 2 - 1
    options = {"batch_size": 8, "lr": 0.05, "seed": 1, "progress": False}
    model = Gaussian()
    run = pg.fit(model, x, steps=12, objective=ScheduledSGD(), **options)
    hand = Gaussian()
    optimizer = torch.optim.SGD(hand.parameters(), lr=0.05, momentum=0.9)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, 5, 0.5)
    losses = []
    for step in range(12):
        epoch, j = divmod(step, 4)
        index = epoch_order(1, epoch, 30, x.device)[8 * j : 8 * j + 8]
        loss = -hand.log_prob(x[index]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    np.testing.assert_array_equal(run.losses, losses)
    assert all(torch.equal(params(model)[k], v) for k, v in params(hand).items())
    path = tmp_path / "part.pt"
    pg.fit(Gaussian(), x, steps=7, objective=ScheduledSGD(), checkpoint=path, **options)
    resumed_model = Gaussian()
    resumed = pg.fit(resumed_model, x, steps=12, objective=ScheduledSGD(), resume=path, **options)
    np.testing.assert_array_equal(resumed.losses, losses)
    assert all(torch.equal(params(resumed_model)[k], v) for k, v in params(hand).items())


def test_a_group_with_its_own_rate_keeps_it_when_a_run_resumes_at_another():
    """pg.fit's lr reaches only the groups without their own rate or schedule, on start and
    on the resume that sets it again (Optimizers.set_lr)."""
    own, follows = nn.Linear(2, 1), nn.Linear(2, 1)
    groups = {"own": Group.of(own, lr=0.01), "follows": Group.of(follows)}
    optimizers = Optimizers(groups, lr=0.1, clip_norm=None)
    rates = lambda: {k: o.param_groups[0]["lr"] for k, o in optimizers.optimizers.items()}  # noqa: E731
    assert rates() == {"own": 0.01, "follows": 0.1}
    optimizers.set_lr(0.5)
    assert rates() == {"own": 0.01, "follows": 0.5}


def test_objective_names_and_objects_select_the_loss():
    """The names, their older aliases and the objects pick the same objective; an object
    is checked against the model it is given."""
    x = ppca_data()
    runs = [
        pg.fit(PPCA(), x, steps=3, batch_size=16, objective=name, progress=False).losses
        for name in (None, "elbo", "svi", ELBO())
    ]
    assert all(np.array_equal(runs[0], other) for other in runs[1:])
    with pytest.raises(ModelError, match="objective 'mle' needs PPCA.log_prob"):
        pg.fit(PPCA(), x, steps=1, objective=MaximumLikelihood(), progress=False)
    with pytest.raises(ArgumentError, match="objective must be a name or"):
        pg.fit(PPCA(), x, steps=1, objective=ELBO, progress=False)


def test_each_epoch_visits_every_example_once():
    n, x = 10, torch.arange(10, dtype=torch.float32)  # three epochs of batches 4, 4, 2
    options = {"steps": 9, "batch_size": 4, "seed": 3, "progress": False}
    model = Recorder()
    run = pg.fit(model, x, **options)
    assert [len(b) for b in model.batches] == [4, 4, 2] * 3
    epochs = [torch.cat(model.batches[3 * e : 3 * e + 3]).long() for e in range(3)]
    for e, seen in enumerate(epochs):
        assert sorted(seen.tolist()) == list(range(n))
        assert torch.equal(seen, epoch_order(3, e, n, seen.device))
    assert not torch.equal(epochs[0], epochs[1])
    # the epoch metric is the size-weighted mean of its batches' mean losses
    expected = [(run.losses[3 * e : 3 * e + 3] @ np.array([4, 4, 2])) / n for e in range(3)]
    np.testing.assert_allclose(run.metrics["epoch_loss"], expected, rtol=1e-12)
    again = Recorder()
    pg.fit(again, x, **options)
    assert all(torch.equal(a, b) for a, b in zip(model.batches, again.batches, strict=True))


def test_pyro_validates_the_first_epoch_in_training_mode():
    model = Recorder().eval()
    with pyro.validation_enabled(True):
        pg.fit(model, torch.arange(10.0), steps=7, batch_size=4, progress=False)
        assert is_validation_enabled()
    assert model.modes == [(True, True)] * 3 + [(False, True)] * 4
    assert not model.training


def test_dataset_input_trains_on_its_train_split():
    x = ppca_data(40).float()
    data = Dataset("ppca", x[:30], x[30:], (3,))
    a, b = PPCA(), PPCA()
    run_a = pg.fit(a, data, steps=5, batch_size=8, progress=False)
    run_b = pg.fit(b, x[:30], steps=5, batch_size=8, progress=False)
    np.testing.assert_array_equal(run_a.losses, run_b.losses)


# --- checkpoints and resume ---------------------------------------------------------------


def test_resume_repeats_the_uninterrupted_run_bit_for_bit(tmp_path):
    """SVI draws z from torch's RNG at every step, so this also checks its restoration."""
    x = ppca_data()  # 50 examples: batches of 16, 16, 16, 2
    options = {"batch_size": 16, "lr": 0.02, "seed": 7, "clip_norm": 5.0, "progress": False}
    whole = PPCA()
    full = pg.fit(
        whole, x, steps=20, checkpoint=tmp_path / "full.pt", checkpoint_every=7, **options
    )
    assert full.checkpoints == [tmp_path / "full.pt"]
    first = pg.fit(PPCA(), x, steps=7, checkpoint=tmp_path / "part.pt", **options)
    np.testing.assert_array_equal(first.losses, full.losses[:7])
    resumed_model = PPCA(seed=99)  # another start: everything comes from the checkpoint
    resumed = pg.fit(resumed_model, x, steps=20, resume=tmp_path / "part.pt", **options)
    np.testing.assert_array_equal(resumed.losses, full.losses)
    for key, value in params(whole).items():
        assert torch.equal(params(resumed_model)[key], value), key
    assert resumed.metrics == full.metrics
    saved = checkpoint.load(tmp_path / "full.pt")
    assert saved["step"] == 20 and np.array_equal(saved["losses"].numpy(), full.losses)


@pytest.mark.parametrize(
    "what, match", [("loss", "loss became nan"), ("gradient", "gradient norm became inf")]
)
def test_non_finite_step_stops_and_keeps_the_last_good_checkpoint(tmp_path, what, match):
    x = torch.linspace(-1, 1, 12)
    path = tmp_path / "run.pt"
    options = {"batch_size": 4, "lr": 0.1, "progress": False}
    failing = Recorder(fail_at=(8, what))
    with pytest.raises(TrainingError, match=f"{match} at step 8 of 20.*{path.name}"):
        pg.fit(failing, x, steps=20, checkpoint=path, checkpoint_every=3, **options)
    clean = Recorder()
    pg.fit(clean, x, steps=7, **options)
    assert torch.equal(failing.theta.detach(), clean.theta.detach())  # step 8 was not taken
    saved = checkpoint.load(path)
    assert saved["step"] == 6 and saved["losses"].isfinite().all()
    six = Recorder()
    run = pg.fit(six, x, steps=6, **options)
    assert torch.equal(saved["model"]["theta"], six.theta.detach())
    assert np.array_equal(saved["losses"].numpy(), run.losses)
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]  # no temporary file left


def test_nan_distribution_parameter_in_the_first_epoch_is_a_training_error():
    """In the first epoch Pyro validates, and raises on the NaN parameter before any loss."""
    x = torch.linspace(-1, 1, 12)
    with pytest.raises(TrainingError, match="loss became nan at step 2 of 20") as caught:
        pg.fit(Recorder(fail_at=(2, "parameter")), x, steps=20, batch_size=4, progress=False)
    assert isinstance(caught.value.__cause__, ValueError)  # validation's, not a NaN loss


def test_checkpoint_save_is_atomic_and_load_runs_no_code(tmp_path):
    path = tmp_path / "c.pt"
    checkpoint.save(path, {"x": torch.ones(2)})
    with pytest.raises(AttributeError, match="pickle"):  # the write fails midway
        checkpoint.save(path, {"x": torch.zeros(2), "f": lambda: 0})
    assert torch.equal(checkpoint.load(path)["x"], torch.ones(2))
    assert os.listdir(tmp_path) == ["c.pt"]
    torch.save({"obj": Recorder}, tmp_path / "code.pt")  # a pickled class: code to import
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    torch.save([1, 2], tmp_path / "list.pt")
    for name, match in [
        ("code.pt", "weights-only"),
        ("junk.pt", "weights-only"),
        ("list.pt", "list"),
        ("none.pt", "does not exist"),
    ]:
        with pytest.raises(ArgumentError, match=match):
            checkpoint.load(tmp_path / name)


def test_resume_rejects_a_missing_or_incompatible_checkpoint(tmp_path):
    x = ppca_data()
    path = tmp_path / "run.pt"
    pg.fit(PPCA(), x, steps=3, batch_size=16, checkpoint=path, progress=False)
    with pytest.raises(ArgumentError, match="batch_size=16 \\(now 8\\)"):
        pg.fit(PPCA(), x, steps=5, batch_size=8, resume=path, progress=False)
    with pytest.raises(ArgumentError, match="size=50 \\(now 40\\)"):
        pg.fit(PPCA(), x[:40], steps=5, batch_size=16, resume=path, progress=False)
    with pytest.raises(ArgumentError, match="more than steps=2"):
        pg.fit(PPCA(), x, steps=2, batch_size=16, resume=path, progress=False)

    class Extra(PPCA):
        def __init__(self):
            super().__init__()
            self.extra = nn.Parameter(torch.zeros(1))

    with pytest.raises(ArgumentError, match="does not fit Extra.*extra"):
        pg.fit(Extra(), x, steps=5, batch_size=16, resume=path, progress=False)
    with pytest.raises(ArgumentError, match="does not exist"):
        pg.fit(PPCA(), x, steps=5, batch_size=16, resume=tmp_path / "none.pt", progress=False)
    checkpoint.save(tmp_path / "other.pt", {"x": torch.ones(1)})
    with pytest.raises(ArgumentError, match="not a checkpoint written by pg.fit"):
        pg.fit(PPCA(), x, steps=5, resume=tmp_path / "other.pt", progress=False)


# --- argument errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, error, match",
    [
        ({"steps": 0}, ArgumentError, "steps"),
        ({"batch_size": 0}, ArgumentError, "batch_size"),
        ({"lr": 0.0}, ArgumentError, "lr"),
        ({"seed": -1}, ArgumentError, "seed"),
        ({"clip_norm": -1.0}, ArgumentError, "clip_norm"),
        ({"checkpoint_every": 5}, ArgumentError, "checkpoint=PATH"),
        ({"objective": "gan"}, ArgumentError, "objective must be one of"),
        ({"objective": "mle"}, ModelError, "PPCA.log_prob"),
        ({"device": "tpu"}, ArgumentError, "device"),
        ({"model": lambda x: x}, ArgumentError, "GenerativeModel"),
        ({"data": ppca_data()[:, :2]}, DataError, "event_shape \\(3,\\)"),
        ({"data": ppca_data().numpy()}, ArgumentError, "torch.as_tensor"),
        ({"data": torch.full((4, 3), math.inf)}, DataError, "12 NaN or inf"),
    ],
)
def test_bad_arguments_raise(change, error, match):
    arguments = {"model": PPCA(), "data": ppca_data(), "steps": 3, "progress": False}
    with pytest.raises(error, match=match):
        pg.fit(**(arguments | change))


def test_conditional_model_trains_on_examples_and_labels():
    """A ConditionalVAE gets (x, y) minibatches whose labels belong to their examples."""
    from probgen.models import ConditionalVAE

    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (40,), generator=g)
    x = (torch.rand(40, 4, generator=g) < 0.2 + 0.3 * y[:, None]).float()
    cvae = ConditionalVAE((4,), num_classes=3, latent_dim=2, hidden=8)
    seen = []
    model = cvae.model

    def spy(x, y, size=None):
        seen.append((x.clone(), y.clone()))
        return model(x, y, size)

    cvae.model = spy
    run = pg.fit(cvae, (x, y), steps=3, batch_size=16, progress=False)
    assert np.isfinite(run.losses).all() and len(seen) == 3
    for xb, yb in seen:  # each example arrives with its own label
        rows = (xb[:, None, :] == x[None]).all(-1) & (yb[:, None] == y[None])
        assert rows.any(1).all()
    with pytest.raises(pg.ArgumentError, match="conditional: pass data=\\(x, y\\)"):
        pg.fit(cvae, x, steps=1, progress=False)
    with pytest.raises(pg.DataError, match="labels y must be a tensor of shape \\(40,\\)"):
        pg.fit(cvae, (x, y[:10]), steps=1, progress=False)


# --- dequantization -------------------------------------------------------------------------


def quantized(levels: int = 5) -> Dataset:
    """25 scalar examples c/k, k = 5 levels (each level 5 times)."""
    x = (torch.arange(25) % levels).float() / levels
    return Dataset("levels", train=x, test=x, event_shape=(), levels=levels)


def test_dequantize_draws_fresh_noise_in_each_examples_bin_every_epoch(tmp_path):
    data = quantized()
    model = Recorder()
    pg.fit(model, data, steps=3, batch_size=25, seed=3, progress=False, dequantize=True)
    for epoch, batch in enumerate(model.batches):
        source = data.train[epoch_order(3, epoch, 25, torch.device("cpu"))]
        # each value lies in its example's bin [c/k, (c + 1)/k), whatever the noise
        assert torch.equal(torch.floor(batch * 5), torch.round(source * 5))
        assert (batch > source).all() and (batch - source < 1 / 5).all()
    first, second = (b.sort().values for b in model.batches[:2])
    assert not torch.allclose(first, second)  # another draw of u in the next epoch
    again = Recorder()
    pg.fit(again, data, steps=3, batch_size=25, seed=3, progress=False, dequantize=True)
    assert all(torch.equal(a, b) for a, b in zip(model.batches, again.batches, strict=True))
    # a resumed run draws the noise of its epochs again
    part = Recorder()
    options = {"batch_size": 25, "seed": 3, "progress": False, "dequantize": True}
    pg.fit(part, data, steps=2, checkpoint=tmp_path / "part.pt", **options)
    resumed = Recorder()
    pg.fit(resumed, data, steps=3, resume=tmp_path / "part.pt", **options)
    assert torch.equal(resumed.batches[0], model.batches[2])


def test_dequantize_needs_quantized_data(tmp_path):
    data = quantized()
    fit = {"steps": 1, "progress": False, "dequantize": True}
    with pytest.raises(ArgumentError, match="dequantize=True needs a quantized Dataset"):
        pg.fit(Recorder(), data.train, **fit)
    plain = Dataset("plain", train=data.train, test=data.test, event_shape=())
    with pytest.raises(ArgumentError, match="'plain' without levels"):
        pg.fit(Recorder(), plain, **fit)
    noisy = Dataset("noisy", data.dequantized(data.train), data.test, (), levels=5)
    with pytest.raises(DataError, match="already dequantized"):
        pg.fit(Recorder(), noisy, **fit)
    pg.fit(Recorder(), data, steps=1, checkpoint=tmp_path / "c.pt", progress=False)
    with pytest.raises(ArgumentError, match="dequantize=False \\(now True\\)"):
        pg.fit(Recorder(), data, **(fit | {"steps": 2, "resume": tmp_path / "c.pt"}))


def test_an_unwritable_checkpoint_path_is_refused_before_training(tmp_path):
    """Root can write any permission-protected folder: a file standing where a folder
    should be, a folder where the file should be and /proc are unwritable for anyone."""
    data = quantized().train
    (tmp_path / "file").write_text("kept")
    (tmp_path / "folder").mkdir()
    for path in (tmp_path / "file" / "c.pt", tmp_path / "folder", "/proc/nope/c.pt"):
        model = Recorder()
        with pytest.raises(ArgumentError, match=f"checkpoint='{path}'"):
            pg.fit(model, data, steps=3, checkpoint=path, progress=False)
        assert model.batches == []  # refused before the first step
    assert (tmp_path / "file").read_text() == "kept"
    assert os.listdir(tmp_path / "folder") == []
