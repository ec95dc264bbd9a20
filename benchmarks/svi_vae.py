"""Time per training step of the digits VAE: pg.fit, a hand-written PyTorch loop, Pyro's SVI.

The model is ``VAE((1, 8, 8))`` with its defaults on binarized digits (1,500 training
images, 12 minibatches of 128 per epoch): z ~ N(0, I_8), x | z ~ Bernoulli(logits =
decoder(z)), q(z | x) = N(μ(x), diag σ²(x)), encoder MLP 64-256-16 (μ and softplus⁻¹ σ),
decoder MLP 8-256-64. Every variant minimises the same per-example loss with the same
estimator, Pyro's ``Trace_ELBO`` (one reparameterised draw z = μ + σ ε per example, no
analytic KL):

    loss = −(1/B) Σ_i [log p(x_i | z_i) + log p(z_i) − log q(z_i | x_i)],

with the same optimizer on every side, pg.fit's Adam fused into one kernel
(``objectives.base.adam``: ``torch.optim.Adam(..., fused=True)``), at the same learning
rate, from the same initial weights, batch 128:

1. ``pg.fit(vae, x, steps=S, batch_size=128, progress=False, jit_compile=True)`` (the
   headline: after the first epoch, the loss is a graph traced by the PyTorch JIT);
   beside it the same without ``jit_compile`` (Pyro's ``Trace_ELBO`` in Python each step);
2. a hand-written PyTorch loop: two ``nn.Sequential`` MLPs, the loss above written out,
   that fused Adam, a fresh ``randperm`` each epoch, ``loss.item()`` each step;
3. Pyro's ``SVI(model, guide, pyro.optim.Adam({"fused": True, ...}), Trace_ELBO())`` on the same
   ``PyroModule``: ``model`` and ``guide`` call ``pyro.module("vae", vae)`` and then
   ``vae.model`` / ``vae.guide`` (the VAE's networks are plain ``nn.Module``s, which
   Pyro's param store sees only through ``pyro.module``: ``SVI(vae.model, vae.guide, ...)``
   alone would train nothing). ``svi.step(x, size=N)`` returns N times the loss above;
   Adam is invariant to that scale up to its ε. Run once with Pyro's validation on
   (Pyro's default) and once with it off.

Each timed run is a whole training call of S steps from fresh weights: its start-up is
included but spread over S steps (model construction is not). Before timing, every
variant runs once untimed (two epochs) so that one-off costs of the process (imports,
first-call allocations) are left out. Then ``--rounds`` rounds run the variants back to
back, the order reversed every other round. torch runs on one thread (``--threads``).
Printed: ms/step, median (min–max) over the rounds, the mean loss of the last epoch (all
variants should agree to within the noise of different random draws), and the ratios
pg.fit / hand loop, with and without ``jit_compile``, the median (min–max) of the
per-round ratios (targets, issue 12: ≤ 1.1 with ``jit_compile``, ≤ 1.3 without).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections.abc import Callable

from machine import (
    add_rounds,
    describe_machine,
    interleave,
    load,
    pin_threads,
    ratios,
    spread,
    timed,
    verdict,
)

pin_threads()  # before torch is imported (--threads then sets torch's own)

import numpy as np  # noqa: E402
import pyro  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from pyro.infer import SVI, Trace_ELBO  # noqa: E402
from torch import nn  # noqa: E402

import probgen as pg  # noqa: E402
from probgen.datasets import digits  # noqa: E402
from probgen.inference.objectives.base import adam  # noqa: E402
from probgen.models import VAE  # noqa: E402

TARGETS = {"pg.fit-jit": 1.1, "pg.fit": 1.3}  # pg.fit / hand loop (issue 12)
LABELS = {
    "pg.fit-jit": "pg.fit(..., jit_compile=True)",
    "pg.fit": "pg.fit(vae, x, steps=S, batch_size=B)",
    "hand": "hand-written PyTorch loop",
    "svi": "Pyro SVI + Trace_ELBO, validation on",
    "svi-novalid": "Pyro SVI + Trace_ELBO, validation off",
}


def hand_networks(vae: VAE) -> tuple[nn.Sequential, nn.Sequential]:
    """Encoder D-h-2d and decoder d-h-D as plain MLPs, holding a copy of ``vae``'s weights."""
    d, width = vae.latent_dim, vae.decoder.layers[0].out_features
    dims = math.prod(vae.event_shape)
    encoder = nn.Sequential(nn.Linear(dims, width), nn.ReLU(), nn.Linear(width, 2 * d))
    decoder = nn.Sequential(nn.Linear(d, width), nn.ReLU(), nn.Linear(width, dims))
    hand = [*encoder.parameters(), *decoder.parameters()]
    source = list(vae.parameters())
    if [p.shape for p in hand] != [p.shape for p in source]:
        sys.exit("the hand-written networks do not match VAE's: check the architecture")
    with torch.no_grad():
        for mine, theirs in zip(hand, source, strict=True):
            mine.copy_(theirs)
    return encoder, decoder


def hand_loop(vae: VAE, x: torch.Tensor, steps: int, batch: int, lr: float, seed: int):
    """The single-sample ELBO loop written out in PyTorch; returns the per-step losses."""
    encoder, decoder = hand_networks(vae)
    optimizer = adam([*encoder.parameters(), *decoder.parameters()], lr=lr)  # pg.fit's own
    generator = torch.Generator().manual_seed(seed)
    x = x.flatten(1)
    per_epoch = -(-len(x) // batch)
    losses = []
    for step in range(steps):
        j = step % per_epoch
        if j == 0:
            order = torch.randperm(len(x), generator=generator)
        xb = x[order[j * batch : (j + 1) * batch]]
        loc, raw_scale = encoder(xb).chunk(2, dim=-1)
        scale = F.softplus(raw_scale)
        eps = torch.randn_like(loc)
        z = loc + scale * eps
        log_px = -F.binary_cross_entropy_with_logits(decoder(z), xb, reduction="none").sum(-1)
        # log p(z) − log q(z | x): the ½ log 2π terms cancel
        log_ratio = (0.5 * eps**2 - 0.5 * z**2 + scale.log()).sum(-1)
        loss = -(log_px + log_ratio).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def svi_loop(vae: VAE, x: torch.Tensor, steps: int, batch: int, lr: float, seed: int):
    """Pyro's SVI on the VAE's own model and guide; returns the per-example losses."""

    # the networks are plain nn.Modules, which Pyro's param store sees only through
    # pyro.module (the idiom of Pyro's VAE tutorial); without it SVI would train nothing
    def model(xb, size):
        pyro.module("vae", vae)
        vae.model(xb, size)

    def guide(xb, size):
        pyro.module("vae", vae)
        vae.guide(xb, size)

    pyro.clear_param_store()  # the fresh VAE's weights, not the last run's
    svi = SVI(model, guide, pyro.optim.Adam({"lr": lr, "fused": True}), Trace_ELBO())
    generator = torch.Generator().manual_seed(seed)
    size, per_epoch = len(x), -(-len(x) // batch)
    losses = []
    for step in range(steps):
        j = step % per_epoch
        if j == 0:
            order = torch.randperm(size, generator=generator)
        losses.append(svi.step(x[order[j * batch : (j + 1) * batch]], size=size) / size)
    return losses


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000, help="steps S per run (default 2000)")
    add_rounds(parser)
    parser.add_argument("--batch-size", type=int, default=128, help="minibatch B (default 128)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (1e-3)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: the CI machine has 2 cores)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-svi", action="store_true", help="skip the Pyro SVI rows")
    args = parser.parse_args(argv)
    if min(args.steps, args.batch_size, args.threads) < 1:
        parser.error("--steps, --batch-size and --threads must be at least 1")
    if not args.lr > 0:
        parser.error("--lr must be positive")

    torch.set_num_threads(args.threads)
    print(__doc__.split("\n\n")[0])
    print(describe_machine(torch, pyro, pg))

    x = digits(binarize=True, seed=args.seed).train
    size, batch = len(x), min(args.batch_size, len(x))
    per_epoch = -(-size // batch)
    torch.manual_seed(args.seed)
    initial = VAE(x.shape[1:]).state_dict()

    def fresh() -> VAE:
        vae = VAE(x.shape[1:])
        vae.load_state_dict(initial)
        return vae

    def run_fit(steps: int, jit_compile: bool = False) -> list[float]:
        run = pg.fit(
            fresh(), x, steps=steps, batch_size=batch, lr=args.lr, seed=args.seed,
            progress=False, jit_compile=jit_compile,
        )  # fmt: skip
        return run.losses.tolist()

    def run_svi_novalid(steps: int) -> list[float]:
        with pyro.validation_enabled(False):
            return svi_loop(fresh(), x, steps, batch, args.lr, args.seed)

    calls: dict[str, Callable[[int], list[float]]] = {
        "pg.fit-jit": lambda steps: run_fit(steps, jit_compile=True),
        "pg.fit": run_fit,
        "hand": lambda steps: hand_loop(fresh(), x, steps, batch, args.lr, args.seed),
    }
    if not args.no_svi:
        calls["svi"] = lambda steps: svi_loop(fresh(), x, steps, batch, args.lr, args.seed)
        calls["svi-novalid"] = run_svi_novalid

    for call in calls.values():  # one-off costs of the process, untimed
        call(2 * per_epoch)
    startup, _ = timed(lambda: run_fit(1))()

    def seeded(call: Callable[[int], list[float]]) -> Callable[[], list[float]]:
        def run() -> list[float]:
            torch.manual_seed(args.seed)  # the same draws for a variant in every round
            return call(args.steps)

        return timed(run)

    runs = interleave({name: seeded(call) for name, call in calls.items()}, args.rounds)
    times = {name: [seconds for seconds, _ in rs] for name, rs in runs.items()}
    last = {name: float(np.mean(rs[-1][1][-per_epoch:])) for name, rs in runs.items()}

    print(
        f"\nbinarized digits, N = {size}, B = {batch} ({per_epoch} steps per epoch), "
        f"S = {args.steps} steps per run, Adam lr {args.lr}; median (min–max) of "
        f"{args.rounds} rounds"
    )
    print(f"  {'variant':<42} {'ms/step':>22} {'last-epoch loss':>16}")
    for name in calls:
        per_step = [1e3 * t / args.steps for t in times[name]]
        print(f"  {LABELS[name]:<42} {spread(per_step, 3):>22} {last[name]:16.3f}")
    print(f"  pg.fit(steps=1), the start-up a run spreads over its S steps: {1e3 * startup:.1f} ms")
    print(
        f"  Pyro validation is {'on' if pyro.infer.util.is_validation_enabled() else 'off'} "
        f"by default here; pg.fit validates during its first epoch ({per_epoch} steps) only"
    )

    print("\n  per-round ratios to the hand loop, median (min–max):")
    for name in calls:
        if name == "hand":
            continue
        per_round = ratios(times[name], times["hand"])
        judged = ""
        if target := TARGETS.get(name):
            judged = verdict(statistics.median(per_round), target, at_least=False)
            judged = f", target ≤ {target}: {judged}"
        print(f"  {LABELS[name]} / hand loop: {spread(per_round, 3)}{judged}")
    print(f"\n{load()} at the end")


if __name__ == "__main__":
    sys.exit(main())
