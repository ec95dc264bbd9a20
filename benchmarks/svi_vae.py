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
first-call allocations) are left out. Then ``--repeats`` rounds run the variants back to
back, the order alternating. Printed: ms/step (best and median), the mean loss of the
last epoch (all variants should agree to within the noise of different random draws),
and the ratios pg.fit / hand loop, with and without ``jit_compile`` (target ≤ 1.3).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import pyro
import torch
import torch.nn.functional as F
from machine import describe_machine
from pyro.infer import SVI, Trace_ELBO
from torch import nn

import probgen as pg
from probgen.datasets import digits
from probgen.inference.objectives.base import adam
from probgen.models import VAE

TARGET = 1.3
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
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (default 5)")
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
    if min(args.steps, args.repeats, args.batch_size, args.threads) < 1:
        parser.error("--steps, --repeats, --batch-size and --threads must be at least 1")
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
    start = time.perf_counter()
    run_fit(1)
    startup = time.perf_counter() - start

    times: dict[str, list[float]] = {name: [] for name in calls}
    last: dict[str, float] = {}
    for round_ in range(args.repeats):
        names = list(calls) if round_ % 2 == 0 else list(calls)[::-1]
        for name in names:
            torch.manual_seed(args.seed + round_)
            start = time.perf_counter()
            losses = calls[name](args.steps)
            times[name].append(time.perf_counter() - start)
            last[name] = float(np.mean(losses[-per_epoch:]))

    print(
        f"\nbinarized digits, N = {size}, B = {batch} ({per_epoch} steps per epoch), "
        f"S = {args.steps} steps per run, Adam lr {args.lr}; best / median of "
        f"{args.repeats} rounds"
    )
    print(f"  {'variant':<42} {'ms/step':>8} {'median':>8} {'last-epoch loss':>16}")
    for name in calls:
        fastest, median = min(times[name]), statistics.median(times[name])
        print(
            f"  {LABELS[name]:<42} {1e3 * fastest / args.steps:8.3f} "
            f"{1e3 * median / args.steps:8.3f} {last[name]:16.3f}"
        )
    print(f"  pg.fit(steps=1), the start-up a run spreads over its S steps: {1e3 * startup:.1f} ms")
    print(
        f"  Pyro validation is {'on' if pyro.infer.util.is_validation_enabled() else 'off'} "
        f"by default here; pg.fit validates during its first epoch ({per_epoch} steps) only"
    )

    print()
    for name in ("pg.fit-jit", "pg.fit"):
        per_round = [f / h for f, h in zip(times[name], times["hand"], strict=True)]
        ratio = statistics.median(per_round)
        verdict = "ok" if ratio <= TARGET else f"ABOVE {TARGET}"
        print(
            f"  {LABELS[name]} / hand loop: {ratio:.3f} (median of the rounds; {verdict}), "
            f"best runs {min(times[name]) / min(times['hand']):.3f}, rounds "
            + ", ".join(f"{r:.3f}" for r in per_round)
        )
    for name in ("svi", "svi-novalid"):
        if name in calls:
            rounds = [s / h for s, h in zip(times[name], times["hand"], strict=True)]
            print(f"  {LABELS[name]} / hand loop: {statistics.median(rounds):.3f} (median)")


if __name__ == "__main__":
    sys.exit(main())
