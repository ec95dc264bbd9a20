"""The ``probgen`` command line, run in-process through ``probgen.cli.main``.

``fit coin`` is checked against the exact posterior: k = 7 heads in n = 10 tosses under
a flat prior give θ | k ~ Beta(8, 4), whose mean is 2/3.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import runpy
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from probgen import plots
from probgen.cli import main
from probgen.models import VQVAE, registry

COIN_MEAN = 2 / 3
SMALL = ["--chains", "2", "--warmup", "200", "--draws", "200", "--progress", "off"]


@pytest.fixture(scope="module")
def coin_fit(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """``probgen fit coin`` with small settings: (output folder, exit status, stdout)."""
    out = tmp_path_factory.mktemp("coin")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = main(["fit", "coin", "--seed", "0", "--out", str(out), *SMALL])
    return out, status, stdout.getvalue()


def test_list_shows_every_zoo_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["name", "method", "description"]
    entries = registry.entries()
    assert [row.split()[:2] for row in rows] == [[e.name, e.fitted_by] for e in entries]
    assert all(row.endswith(e.description) for row, e in zip(rows, entries, strict=True))


def test_fit_writes_posterior_summary_and_trace(coin_fit: tuple[Path, int, str]) -> None:
    out, status, stdout = coin_fit
    assert status == 0
    for name in ("posterior.nc", "summary.csv", "trace.png"):
        assert (out / name).stat().st_size > 0, name
    summary = pd.read_csv(out / "summary.csv", index_col=0)
    assert abs(summary.loc["theta", "mean"] - COIN_MEAN) < 0.03
    assert "ess_bulk" in stdout and "r_hat" in stdout
    assert "checks (R̂, ESS, divergences, E-BFMI):" in stdout


def test_diagnose_reports_checks_and_writes_rank_plot(
    coin_fit: tuple[Path, int, str], capsys: pytest.CaptureFixture[str]
) -> None:
    out, _, fit_stdout = coin_fit
    assert main(["diagnose", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert (out / "rank.png").stat().st_size > 0
    assert stdout.startswith("coin: Posterior(2 chains × 200 draws: theta)")
    # the saved posterior gives back the checks of the fit, line for line
    assert _checks(stdout) == _checks(fit_stdout)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "no_such_model", "--out", "{tmp}"], "no zoo model named 'no_such_model'"),
        (["diagnose", "{tmp}"], "no posterior.nc in"),
        (["fit", "kidscore_momiq", "--out", "{tmp}"], "posteriordb folder not found"),
        (["fit", "coin", "--chains", "0", "--out", "{tmp}"], "chains must be"),
        (["fit", "coin", "--steps", "5", "--out", "{tmp}"], "--steps: --data and --steps train"),
        (["fit", "vae", "--data", "moons", "--out", "{tmp}"], "data must be one of ('digits',)"),
    ],
    ids=["unknown-model", "missing-posterior", "absent-data", "bad-option", "bayes-steps", "data"],
)
def test_errors_print_one_line_and_exit_2(
    argv: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROBGEN_POSTERIORDB", str(tmp_path / "absent"))
    assert main([arg.format(tmp=tmp_path) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"probgen: error: {message}")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_malformed_command_line_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "coin", "--sampler", "nope", "--out", "x"])
    assert exit_.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["probgen", "diagnose", "/nonexistent/run"])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_module("probgen", run_name="__main__")
    assert exit_.value.code == 2
    assert capsys.readouterr().err.startswith("probgen: error: no posterior.nc in /nonexistent")


def _checks(stdout: str) -> list[str]:
    """The checks heading and its problem lines from a command's output."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("checks"))
    return [lines[start]] + [line for line in lines[start + 1 :] if line.startswith("  - ")]


@pytest.mark.parametrize("model, data", [("vae", "digits"), ("maf", "moons")])
def test_fit_deep_model_writes_checkpoint_metrics_and_samples(
    model: str, data: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["fit", model, "--data", data, "--out", str(tmp_path), "--progress", "off"]
    assert main([*argv, "--steps", "20"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["model"] == model and metrics["steps"] == 20
    assert math.isfinite(metrics["test_nll_nats"])
    assert (tmp_path / "samples.png").stat().st_size > 0
    first = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert first["step"] == 20
    # --resume continues the checkpoint to the new number of steps (past the first epoch:
    # --jit replays the traced loss there)
    assert main([*argv, "--steps", "30", "--resume", "--jit"]) == 0
    resumed = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert resumed["step"] == 30
    assert torch.equal(resumed["losses"][:20], first["losses"])
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    "model, grid, nll",
    [("vqvae", ((64, 1, 8, 8), 8), False), ("cvae", ((100, 1, 8, 8), 10), True),
     ("nice", ((64, 1, 8, 8), 8), True)],
)  # fmt: skip
def test_fit_deep_model_finishes_and_draws_as_its_entry_says(
    model: str, grid: tuple, nll: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VQ-VAE fits its code prior on the training images after training (its entry's
    ``after_fit``); the conditional VAE's grid holds 10 draws of each class (its
    ``preview``), the others 64 draws; a model without a likelihood reports none."""
    calls = []
    sample_grid = plots.sample_grid
    fit_prior = VQVAE.fit_prior

    def record_grid(images, nrow):
        calls.append((tuple(images.shape), nrow))
        return sample_grid(images, nrow=nrow)

    def record_prior(self, x):
        calls.append(("fit_prior", tuple(x.shape)))
        return fit_prior(self, x)

    monkeypatch.setattr(plots, "sample_grid", record_grid)
    monkeypatch.setattr(VQVAE, "fit_prior", record_prior)
    argv = ["fit", model, "--data", "digits", "--out", str(tmp_path), "--progress", "off"]
    assert main([*argv, "--steps", "3"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["objective"] == registry.get(model).default_objective
    assert ("test_nll_nats" in metrics) == nll
    prior = [("fit_prior", (1500, 1, 8, 8))] if model == "vqvae" else []
    assert calls == [*prior, grid]
    assert (tmp_path / "samples.png").stat().st_size > 0


def _not_called(*args, **kwargs):
    raise AssertionError("the command should have stopped before sampling or training")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "vae", "--steps", "0"], "--steps must be an integer ≥ 1, got 0"),
        (["fit", "vae", "--sampler", "nuts"], "--sampler: --sampler picks an MCMC sampler"),
        (["fit", "vae", "--chains", "2", "--backend", "pyro"], "--backend, --chains: --sampler"),
        (["fit", "coin", "--overwrite"], "--overwrite: --data and --steps train deep models"),
        (["fit", "coin", "--lr", "0.1", "--jit"], "--lr, --jit: --data and --steps train"),
        (["fit", "coin", "--out", "/proc/nope"], "--out: cannot create or write"),
        (["fit", "maf", "--out", "{tmp}/file/run"], "--out: cannot create or write"),
    ],
    ids=[
        "deep-steps-0", "deep-sampler", "deep-chains", "bayes-overwrite", "bayes-lr",
        "bayes-out-proc", "deep-out-file",
    ],  # fmt: skip
)
def test_bad_deep_flags_and_unwritable_out_stop_before_any_work(
    argv: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Root writes any permission-protected folder, so the unwritable folders are /proc's
    and one under a file."""
    from probgen import cli

    monkeypatch.setattr(cli, "mcmc", _not_called)
    monkeypatch.setattr(cli, "train", _not_called)
    (tmp_path / "file").write_text("kept")
    if "--out" not in argv:
        argv = [*argv, "--out", "{tmp}/run"]
    assert main([arg.format(tmp=tmp_path) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"probgen: error: {message}")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing created
    assert (tmp_path / "file").read_text() == "kept"


def test_deep_rerun_needs_resume_or_overwrite_and_diagnose_reports_the_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["fit", "maf", "--data", "moons", "--out", str(tmp_path), "--progress", "off"]
    assert main([*argv, "--steps", "3"]) == 0
    saved = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    capsys.readouterr()
    assert main([*argv, "--steps", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"probgen: error: --out {tmp_path} already holds a training run")
    assert "--resume" in err and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == saved  # untouched
    # --overwrite starts afresh: 2 steps, where resuming 3 would be refused
    assert main([*argv, "--steps", "2", "--overwrite"]) == 0
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["step"] == 2
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    capsys.readouterr()

    assert main(["diagnose", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    title, rest = out.split("\n", 1)
    assert title == f"maf: training run in {tmp_path}"
    report = json.loads(rest[: rest.index("\n}") + 2])
    assert report["steps"] == 2 and report["objective"] == "mle"
    assert report["final_loss"] == pytest.approx(float(state["losses"].mean()))
    assert report["test_nll_nats"] == metrics["test_nll_nats"]
    assert (tmp_path / "loss.png").stat().st_size > 0
    assert f"samples in {tmp_path / 'samples.png'}" in out
    assert "stopped early" not in out
    # a checkpoint ahead of metrics.json: the last fit did not finish
    (tmp_path / "metrics.json").write_text(json.dumps(metrics | {"steps": 1}))
    assert main(["diagnose", str(tmp_path)]) == 0
    assert "metrics.json is from step 1, checkpoint.pt from step 2" in capsys.readouterr().out
    (tmp_path / "metrics.json").unlink()  # a first fit stopped between two checkpoints
    assert main(["diagnose", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "metrics.json is missing, checkpoint.pt from step 2" in out
    assert out.startswith(f"training run in {tmp_path}\n")


def test_figures_and_summary_are_written_atomically(
    coin_fit: tuple[Path, int, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matplotlib.figure import Figure

    from probgen import cli

    out, _, _ = coin_fit
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary
    path = tmp_path / "trace.png"
    path.write_bytes(b"the old figure")

    def fail_midway(self, fname, **kwargs):
        Path(fname).write_bytes(b"half a figure")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", fail_midway)
    with pytest.raises(RuntimeError, match="disk full"):
        cli._save_figure(plots.loss_curve([3.0, 2.0, 1.0]), path)
    assert path.read_bytes() == b"the old figure"
    assert [p.name for p in tmp_path.iterdir()] == ["trace.png"]


def test_one_chain_report_says_that_r_hat_needs_two_chains(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import numpy as np

    from probgen import cli
    from probgen.results import Posterior

    draws = np.random.default_rng(0).normal(size=(1, 400))
    cli._report(Posterior({"theta": draws}), "one chain")
    assert cli.CHECKS_ONE_CHAIN + ": no problems found" in capsys.readouterr().out
