"""The ``probgen`` command line: ``list``, ``fit`` and ``diagnose`` for the zoo.

::

    probgen list                                     # the zoo: name, method, description
    probgen fit coin --out runs/coin                 # posterior.nc, summary.csv, trace.png
    probgen fit vae --data digits --steps 5000 --out runs/vae  # checkpoint.pt, metrics.json,
                                                               # samples.png
    probgen diagnose runs/coin                       # summary, checks and rank.png of a saved fit
    probgen diagnose runs/vae                        # losses, metrics and loss.png of a training

Exit status: 0 when the command ran, 2 when it could not run as asked (an unknown model,
a folder with neither ``posterior.nc`` nor ``checkpoint.pt``, a zoo model whose data are
absent, a bad option value, a flag of the other kind of model (``--chains`` for a deep
model, ``--lr`` for a Bayesian one), an ``--out`` folder that cannot be written, checked
before any sampling or training, or that holds a training run that neither ``--resume`` nor
``--overwrite`` allows to replace). Those errors print one line, ``probgen: error: ...``, on
stderr and no traceback; argparse reports malformed command lines the same way.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from probgen import lazy
from probgen.api import fit as train
from probgen.api import mcmc
from probgen.checks import at_least
from probgen.errors import ArgumentError, ProbgenError
from probgen.files import atomic_write, writable_folder
from probgen.inference.samplers import SAMPLERS
from probgen.models import registry
from probgen.programs import PRECISIONS

if TYPE_CHECKING:
    from probgen.results import Posterior

# each command imports what it runs: `probgen --help` and `probgen list` load no library
_checkpoint = lazy.load("probgen.inference.checkpoint", globals())
az = lazy.load("arviz", globals())
matplotlib = lazy.load("matplotlib", globals())
plots = lazy.load("probgen.plots", globals())
plt = lazy.load("matplotlib.pyplot", globals())
results = lazy.load("probgen.results", globals())

CHECKPOINT_FILE = "checkpoint.pt"
METRICS_FILE = "metrics.json"
SAMPLES_FILE = "samples.png"
POSTERIOR_FILE = "posterior.nc"
SUMMARY_FILE = "summary.csv"
TRACE_FILE = "trace.png"
RANK_FILE = "rank.png"
LOSS_FILE = "loss.png"
# each kind of model's own flags and their defaults; the parser's default is None (a
# switch's False), so that a flag given to the other kind is refused, not ignored
BAYES_FLAGS: dict[str, Any] = {
    "sampler": None, "backend": "numpyro", "chains": 4, "warmup": 1000, "draws": 1000,
    "precision": "float32",
}  # fmt: skip
DEEP_FLAGS: dict[str, Any] = {
    "data": None, "steps": 5000, "batch_size": 128, "lr": 1e-3, "resume": False,
    "overwrite": False, "jit": False,
}  # fmt: skip
CHECKS = "checks (R̂, ESS, divergences, E-BFMI)"
CHECKS_ONE_CHAIN = "checks (ESS, divergences, E-BFMI; R̂ compares chains: it needs 2 or more)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (ProbgenError, OSError) as error:
        print(f"probgen: error: {error}", file=sys.stderr)
        return 2


def list_models(args: argparse.Namespace) -> int:
    """``probgen list``: one line per zoo model — its name, the method that ``probgen fit``
    fits it with (a Bayesian model's default sampler, a deep model's default objective)
    and its description."""
    entries = registry.entries()
    rows = [("name", "method", "description")]
    rows += [(e.name, e.fitted_by, e.description) for e in entries]
    name_width = max(len(r[0]) for r in rows)
    method_width = max(len(r[1]) for r in rows)
    for name, method, description in rows:
        print(f"{name:<{name_width}}  {method:<{method_width}}  {description}")
    return 0


def fit(args: argparse.Namespace) -> int:
    """``probgen fit MODEL --out DIR``: MCMC on the model's built-in data.

    Writes ``DIR/posterior.nc`` (ArviZ netCDF), ``DIR/summary.csv`` (the ArviZ summary at
    full precision) and ``DIR/trace.png``; prints the summary and the convergence checks.
    A deep model is trained instead (``fit_deep``).
    """
    matplotlib.use("Agg")  # files only: no window, no display needed
    entry = registry.get(args.model)
    if isinstance(entry, registry.DeepModel):
        return fit_deep(args, entry)
    if given := _given(args, DEEP_FLAGS):
        raise ArgumentError(
            f"{', '.join(given)}: --data and --steps train deep models (--batch-size, --lr, "
            f"--jit, --resume, --overwrite too); {entry.name} is a Bayesian model, fitted by "
            "MCMC on its own data (--sampler, --chains, --warmup, --draws)"
        )
    _defaults(args, BAYES_FLAGS)
    out = writable_folder(args.out, "--out")  # before the sampling that it would lose
    sampler = args.sampler or entry.default_sampler
    posterior = mcmc(
        entry.program(args.backend),
        **entry.data(),
        sampler=sampler,
        chains=args.chains,
        warmup=args.warmup,
        draws=args.draws,
        seed=args.seed,
        progress=args.progress == "on",
        backend=args.backend,
        precision=args.precision,
    )
    posterior.attrs["model"] = entry.name  # recorded in posterior.nc with sampler, backend
    posterior.save(out / POSTERIOR_FILE)
    with atomic_write(out / SUMMARY_FILE) as tmp:
        posterior.summary(round_to="none").to_csv(tmp)
    _save_figure(az.plot_trace(posterior.to_arviz(), compact=True), out / TRACE_FILE)
    _report(posterior, f"{entry.name}: {posterior!r}, {sampler} on {args.backend}")
    print(f"wrote {out / POSTERIOR_FILE}, {SUMMARY_FILE}, {TRACE_FILE}")
    return 0


def fit_deep(args: argparse.Namespace, entry: registry.DeepModel) -> int:
    """``probgen fit MODEL --data D --steps S --out DIR``: ``pg.fit`` on a built-in data set.

    Quantized images (the flows' digits) are dequantized afresh every epoch. Writes
    ``DIR/checkpoint.pt`` (the ``pg.fit`` checkpoint: ``--resume`` continues it),
    ``DIR/metrics.json`` (the losses per epoch and, where the model has a likelihood, the
    test negative log-likelihood in nats per example and bits/dim) and ``DIR/samples.png``
    (a grid of new images, or a 2-D model's density with its draws).

    A folder that already holds ``checkpoint.pt`` is continued with ``--resume``, trained
    afresh over with ``--overwrite``, and otherwise refused before anything is written.
    """
    if given := _given(args, BAYES_FLAGS):
        raise ArgumentError(
            f"{', '.join(given)}: --sampler picks an MCMC sampler for Bayesian models "
            f"(--backend, --chains, --warmup, --draws, --precision too); {entry.name} is a "
            f"deep model, trained by pg.fit on its {entry.default_objective} objective "
            "(--data, --steps, --batch-size, --lr)"
        )
    _defaults(args, DEEP_FLAGS)
    steps = at_least("--steps", args.steps, 1)
    dataset = entry.data(entry.datasets[0] if args.data is None else args.data)
    out = Path(args.out)
    checkpoint = out / CHECKPOINT_FILE
    if checkpoint.exists() and not (args.resume or args.overwrite):
        raise ArgumentError(
            f"--out {out} already holds a training run ({CHECKPOINT_FILE}): pass --resume "
            "to continue it, --overwrite to train afresh over it, or another --out"
        )
    writable_folder(out, "--out")  # before the training that it would lose
    model = entry.build(dataset)
    run = train(
        model,
        dataset,
        steps=steps,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        progress=args.progress == "on",
        checkpoint=checkpoint,
        checkpoint_every=1000,
        resume=checkpoint if args.resume else None,
        jit_compile=args.jit,
        dequantize=dataset.levels is not None,  # flows on digits: fresh noise every epoch
    )
    model.eval()
    if entry.after_fit is not None:
        entry.after_fit(model, dataset)
    metrics = {
        "model": entry.name,
        "data": dataset.name,
        "objective": entry.default_objective,
        "steps": len(run.losses),
        "final_loss": _final(run.losses),
        "epoch_loss": run.metrics["epoch_loss"],
        **_test_likelihood(model, dataset),
    }
    _write_json(out / METRICS_FILE, metrics)
    _save_figure(_draw_samples(entry, model, dataset), out / SAMPLES_FILE)
    print(json.dumps({k: v for k, v in metrics.items() if k != "epoch_loss"}, indent=1))
    print(f"wrote {checkpoint}, {METRICS_FILE}, {SAMPLES_FILE}")
    return 0


def _given(args: argparse.Namespace, flags: dict[str, Any]) -> list[str]:
    """The command-line flags among ``flags`` that the user gave (their parser default is
    None, or False for a switch)."""
    return [f"--{k.replace('_', '-')}" for k in flags if getattr(args, k) not in (None, False)]


def _defaults(args: argparse.Namespace, flags: dict[str, Any]) -> None:
    """Fill the flags that the user left out with their defaults."""
    for key, default in flags.items():
        if getattr(args, key) is None:
            setattr(args, key, default)


def _final(losses: np.ndarray) -> float:
    """The final loss of a training: the mean of its last 100 steps."""
    return float(np.mean(losses[-100:]))


def _test_likelihood(model, dataset) -> dict[str, float]:
    """The test set's mean −log p(x) in nats per example, and in bits/dim where defined."""
    if not hasattr(model, "log_likelihood"):
        return {}
    x = dataset.dequantized(dataset.test) if dataset.levels else dataset.test
    inputs = (x, dataset.test_labels) if model.conditional else (x,)
    nll = -float(model.log_likelihood(*inputs).mean())
    metrics = {"test_nll_nats": nll}
    if dataset.levels or dataset.binary:
        metrics["test_bits_per_dim"] = dataset.bits_per_dim(nll)
    return metrics


def _draw_samples(entry: registry.DeepModel, model, dataset) -> plt.Axes:
    """A 2-D toy model's density with 500 of its draws; else a square grid of the entry's
    ``preview`` images (64 new draws clipped to [0, 1] when it names none)."""
    if len(dataset.event_shape) == 1:
        low, high = dataset.train.min(0).values, dataset.train.max(0).values
        pad = 0.1 * (high - low)
        bounds = [float(low[0] - pad[0]), float(high[0] + pad[0])]
        bounds += [float(low[1] - pad[1]), float(high[1] + pad[1])]
        return plots.density_2d(model.log_prob, bounds, samples=model.sample(500))
    images = model.sample(64).clamp(0, 1) if entry.preview is None else entry.preview(model)
    return plots.sample_grid(images, nrow=math.isqrt(len(images)))


def _write_json(path: Path, content: dict) -> None:
    """Write ``content`` as JSON, atomically: never a partial file."""
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(content, indent=1))


def diagnose(args: argparse.Namespace) -> int:
    """``probgen diagnose DIR``: the summary, checks and ``DIR/rank.png`` of a saved fit.

    The exit status is 0 even when the checks find problems: the command did its job,
    which is to report them (one line each, under the checks heading). A non-zero status
    is kept for a diagnosis that could not run, so scripts can tell the two apart.
    """
    matplotlib.use("Agg")  # files only: no window, no display needed
    folder = Path(args.dir)
    path = folder / POSTERIOR_FILE
    if not path.is_file():
        if (folder / CHECKPOINT_FILE).is_file():
            return diagnose_deep(folder)
        raise ArgumentError(
            f"no {POSTERIOR_FILE} in {folder}, nor the {CHECKPOINT_FILE} of a deep model's "
            f"training: run `probgen fit MODEL --out {folder}` first"
        )
    posterior = results.Posterior.load(path)
    idata = posterior.to_arviz()
    _report(posterior, f"{idata.attrs.get('model', path)}: {posterior!r}")
    _save_figure(az.plot_rank(idata), folder / RANK_FILE)
    print(f"wrote {folder / RANK_FILE}")
    return 0


def diagnose_deep(folder: Path) -> int:
    """``probgen diagnose DIR`` of a deep model's training: the final losses from
    ``DIR/checkpoint.pt`` (read weights-only), the test metrics from ``DIR/metrics.json``,
    a fresh ``DIR/loss.png`` (``plots.loss_curve``) and where the samples are. A checkpoint
    ahead of ``metrics.json`` means that the last fit stopped before its end."""
    state = _checkpoint.load(folder / CHECKPOINT_FILE)
    if not {"step", "objective", "losses", "metrics"} <= set(state):
        raise ArgumentError(f"{folder / CHECKPOINT_FILE} is not a checkpoint of probgen fit")
    metrics = _read_json(folder / METRICS_FILE)
    losses = state["losses"].numpy()
    report = {k: v for k, v in metrics.items() if k != "epoch_loss"}
    report |= {"objective": state["objective"], "steps": state["step"]}
    report |= {"final_loss": _final(losses)}
    report |= {f"final_{k}": _final(v.numpy()) for k, v in state["metrics"].items()}
    name = f"{report['model']}: " if "model" in report else ""
    print(f"{name}training run in {folder}")
    print(json.dumps(report, indent=1))
    if metrics.get("steps") != state["step"]:
        when = f"is from step {metrics['steps']}" if "steps" in metrics else "is missing"
        print(
            f"note: {METRICS_FILE} {when}, {CHECKPOINT_FILE} from step {state['step']}: "
            "the last fit stopped early; rerun it with --resume"
        )
    _save_figure(plots.loss_curve(losses), folder / LOSS_FILE)
    samples = folder / SAMPLES_FILE
    print(f"wrote {folder / LOSS_FILE}" + (f"; samples in {samples}" if samples.is_file() else ""))
    return 0


def _read_json(path: Path) -> dict:
    """The JSON object in ``path``, or {} when there is no such file."""
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ArgumentError(f"{path} is not JSON ({exc}): rerun probgen fit") from exc


def _report(posterior: Posterior, title: str) -> None:
    """Print a title, the summary table and the convergence problems, one per line."""
    print(title)
    print(posterior.summary().to_string())
    problems = posterior.check()
    checks = CHECKS if posterior.chains > 1 else CHECKS_ONE_CHAIN
    if not problems:
        print(f"{checks}: no problems found")
        return
    print(f"{checks}: {len(problems)} problem(s) found")
    for problem in problems:
        print(f"  - {problem}")


def _save_figure(axes: np.ndarray | plt.Axes, path: Path) -> None:
    """Save the figure drawn on ``axes`` to ``path``, atomically, then close it."""
    figure = np.ravel(axes)[0].get_figure()
    try:
        if figure.get_layout_engine() is None:
            figure.tight_layout()  # keep the subplot titles clear of the tick labels
        with atomic_write(path) as tmp:  # the temporary name has no extension to go by
            figure.savefig(tmp, format=path.suffix[1:], dpi=100, bbox_inches="tight")
    finally:
        plt.close(figure)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="probgen", description="Fit and check the models of the probgen zoo."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="the zoo: name, method, description")
    listing.set_defaults(run=list_models)

    fitting = commands.add_parser(
        "fit", help="sample a Bayesian model's posterior, or train a deep model"
    )
    fitting.add_argument("model", help="a zoo model name (see `probgen list`)")
    fitting.add_argument(
        "--sampler", choices=SAMPLERS, help="an MCMC sampler (default: the model's own, nuts)"
    )
    fitting.add_argument(
        "--backend",
        choices=("numpyro", "pyro"),
        help="which twin of the model to run (default numpyro: compiled, much faster)",
    )
    fitting.add_argument("--chains", type=int, help="chains (default 4)")
    fitting.add_argument("--warmup", type=int, help="warm-up steps per chain (default 1000)")
    fitting.add_argument("--draws", type=int, help="kept draws per chain (default 1000)")
    fitting.add_argument("--seed", type=int, default=0)
    fitting.add_argument("--progress", choices=("on", "off"), default="on")
    fitting.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="float64 samples in double precision, for stiff posteriors (default float32)",
    )
    fitting.add_argument("--out", required=True, help="folder for the results")
    deep = fitting.add_argument_group("deep models (pg.fit)")
    deep.add_argument("--data", help="a built-in data set (default: the model's first)")
    deep.add_argument("--steps", type=int, help="training steps (default 5000)")
    deep.add_argument("--batch-size", type=int, help="default 128")
    deep.add_argument("--lr", type=float, help="Adam's learning rate (default 1e-3)")
    again = deep.add_mutually_exclusive_group()
    again.add_argument(
        "--resume", action="store_true", help="continue from DIR/checkpoint.pt to --steps"
    )
    again.add_argument(
        "--overwrite",
        action="store_true",
        help="train afresh over the run in DIR (refused without --resume or --overwrite)",
    )
    deep.add_argument(
        "--jit", action="store_true", help="trace the loss with the PyTorch JIT (jit_compile)"
    )
    fitting.set_defaults(run=fit)

    checking = commands.add_parser("diagnose", help="summary, checks and rank plot of a fit")
    checking.add_argument("dir", help="a folder written by `probgen fit`")
    checking.set_defaults(run=diagnose)
    return parser
