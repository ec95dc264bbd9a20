"""Test NLL of the deep zoo models on digits with one training budget, against zuko's flows.

Trains VAE, IWAE, RealNVP, Glow, MAF and VectorRealNVP with ``pg.fit`` (same steps, batch
and Adam learning rate; seeded), and beside them zuko's MAF and RealNVP with the matching
architecture and the same budget, batches, data and optimizer (pg.fit's Adam, fused into
one kernel: ``objectives.base.adam``), and prints each model's test NLL and training time.

Every model trains once per seed (``--seeds``, 5 by default): a seed is a round, in which
every model trains once, the order reversed every other round, so that each probgen flow
and its zuko peer, next to each other in the order, train back to back and swap order
from one round to the next; an untimed round of two steps per model goes first. The
training seconds (model construction and the whole training call; not the scoring) are
the median (min–max) over the seeds, as is the ratio of a probgen flow's seconds to its
peer's in the same round.

Data: ``digits(levels=17)``, the 8×8 digits whose pixels take the 17 values c = 0..16,
stored as x = c/17. Every model gets a density on the same space, the dequantized images
y = (c + u)/17, u ~ U[0, 1)^64, in [0, 1)^64:

- flows train on ``--train-draws`` (R) dequantizations of the training images
  (``Dataset.dequantized(train, seed=r)``, r < R, stacked into R × 1,500 examples), so
  that, as with fresh noise in every batch, no draw of u is seen twice in the default
  budget (one fixed draw lets the flows fit the noise: their test NLL then rises after
  ~300 steps); they are scored exactly on ``--draws`` other dequantizations of the test
  images (the mean over draws estimates E_u[−log p(y)]);
  all apply the logit pre-processing u = logit(α + (1 − 2α)y), α = ``--logit-alpha``,
  inside the density (``logit_alpha`` of probgen's flows; the same transforms put in
  front of zuko's);
- the VAE family models the counts c with a categorical decoder (17 logits per pixel),
  i.e. a probability P(c); as a density on [0, 1)^64 it is the piecewise-constant
  p(y) = 17^64 P(c) on the bins of c, so its NLL of any dequantization of c is
  −log P(c) − 64 log 17. −log P(c) is the IWAE estimate −``log_likelihood(c,
  particles=K)`` (a stochastic upper bound that tightens as K grows).

So all rows share the same units: the NLL in nats per example of the density on
[0, 1)^64, −log P(c) = NLL + 64 log 17 in nats (for flows, the dequantization bound on
the discrete NLL; Theis et al., 2016) and bits/dim = ``Dataset.bits_per_dim(NLL)`` =
(NLL + 64 log 17) / (64 log 2). Lower is better.

The verdicts compare probgen's flow with zuko's of the same architecture (MAF with MAF,
VectorRealNVP with RealNVP) on the same test images and draws: the mean over the seeds of
the paired difference of test NLL (each seed's mean over the test images) ± twice its
standard error over the seeds, which includes the training noise (≈ 1 nat here, more
than the test images' share), and the min–max over the seeds; the target is a difference
≤ 0 (probgen no worse than the peer).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

from machine import (
    add_rounds,
    describe_machine,
    interleave,
    load,
    pin_threads,
    ratios,
    spread,
)

pin_threads()  # before torch is imported (--threads then sets torch's own)

import pyro  # noqa: E402
import torch  # noqa: E402
import zuko  # noqa: E402
from torch.distributions.transforms import ComposeTransform  # noqa: E402

import probgen as pg  # noqa: E402
from probgen.datasets import Dataset, digits  # noqa: E402
from probgen.inference.batches import epoch_order  # noqa: E402
from probgen.inference.objectives.base import adam  # noqa: E402
from probgen.models import IWAE, MAF, VAE, Glow, RealNVP, VectorRealNVP  # noqa: E402
from probgen.models.flows.logit import logit_preprocessing  # noqa: E402

MODELS = ("vae", "iwae", "realnvp", "glow", "maf", "vrealnvp")
PEERS = {"maf": "zuko-maf", "vrealnvp": "zuko-realnvp"}  # probgen flow → its zuko match
LATENT = ("vae", "iwae")


def build(name: str, args: argparse.Namespace, seed: int, shape: tuple[int, ...], levels: int):
    """probgen's model ``name``, initialised from ``seed``, and a one-line description."""
    torch.manual_seed(seed)
    alpha, hidden, layers = args.logit_alpha, args.hidden, args.layers
    if name == "vae":
        model = VAE(shape, likelihood="categorical", levels=levels)
        return model, f"VAE, d = 8, MLPs 64-256-16 / 8-256-{64 * levels}, categorical"
    if name == "iwae":
        model = IWAE(shape, likelihood="categorical", levels=levels, num_particles=args.iwae_k)
        return model, f"IWAE (K = {args.iwae_k}), as VAE"
    if name == "realnvp":
        return RealNVP(shape, logit_alpha=alpha), "RealNVP, 2 scales, conv nets of 32 channels"
    if name == "glow":
        return Glow(shape, logit_alpha=alpha), "Glow, 2 levels × 4 steps, conv nets of 32"
    if name == "maf":
        model = MAF(shape, hidden=hidden, layers=layers, logit_alpha=alpha)
        return model, f"MAF, {layers} MADE layers of 2 × {hidden} (Pyro)"
    model = VectorRealNVP(shape, hidden=hidden, layers=layers, logit_alpha=alpha)
    return model, f"VectorRealNVP, {layers} couplings, MLPs of 2 × {hidden} (Pyro)"


def zuko_flow(
    name: str, args: argparse.Namespace, seed: int, dims: int
) -> tuple[zuko.flows.Flow, str]:
    """zuko's flow of the same architecture, with probgen's logit pre-processing in front,
    initialised from ``seed``."""
    torch.manual_seed(seed)
    width = (args.hidden, args.hidden)
    if name == "zuko-maf":
        randperm = not args.zuko_alternating  # Pyro's MADE draws a random order per layer
        peer = zuko.flows.MAF(
            dims, transforms=args.layers, hidden_features=width, randperm=randperm
        )
        orders = "random" if randperm else "alternating"
        label = f"zuko MAF, {args.layers} MADE layers of 2 × {args.hidden}, {orders} orders"
    elif args.zuko_halves:  # the two halves of the features take turns (a split ablation)
        index = torch.arange(dims)
        couplings = [
            zuko.flows.GeneralCouplingTransform(
                dims, mask=(index < dims // 2) == (k % 2 == 0), hidden_features=width
            )
            for k in range(args.layers)
        ]
        base = zuko.flows.UnconditionalDistribution(
            zuko.distributions.DiagNormal, torch.zeros(dims), torch.ones(dims), buffer=True
        )
        peer = zuko.flows.Flow(couplings, base)
        label = f"zuko RealNVP, {args.layers} couplings, MLPs of 2 × {args.hidden}, halves"
    else:  # zuko's default masks: odd and even features take turns
        peer = zuko.flows.RealNVP(dims, transforms=args.layers, hidden_features=width)
        label = f"zuko RealNVP, {args.layers} couplings, MLPs of 2 × {args.hidden}, odd/even"
    # zuko's flows map data → base: y ↦ logit(α + (1 − 2α)y) first
    to_logit = zuko.flows.UnconditionalTransform(
        lambda: ComposeTransform(logit_preprocessing(args.logit_alpha)).inv
    )
    return zuko.flows.Flow([to_logit, peer.transform], peer.base), label


def train_zuko(flow: zuko.flows.Flow, y: torch.Tensor, args: argparse.Namespace, seed: int):
    """pg.fit's Adam on −(1/B) Σ log p(y_i), on the batches of pg.fit with ``seed`` (its
    epoch orders)."""
    optimizer = adam(list(flow.parameters()), lr=args.lr)  # pg.fit's own, fused
    size, batch = len(y), min(args.batch_size, len(y))
    per_epoch = -(-size // batch)
    for step in range(args.steps):
        epoch, j = divmod(step, per_epoch)
        if j == 0:
            order = epoch_order(seed, epoch, size, y.device)
        loss = -flow().log_prob(y[order[j * batch : (j + 1) * batch]]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


@torch.no_grad()
def flow_nll(log_prob, data: Dataset, args: argparse.Namespace) -> torch.Tensor:
    """Per test example, −log p(y) averaged over ``--draws`` dequantizations y of it."""
    draws = [data.dequantized(data.test, seed=10_000 + r) for r in range(args.draws)]
    return -torch.stack([log_prob(y) for y in draws]).mean(0)


def train_and_score(
    name: str, seed: int, args: argparse.Namespace, data: Dataset, y_train: torch.Tensor
) -> tuple[str, int, float, torch.Tensor]:
    """Train model ``name`` from ``seed``; its label, parameter count, training seconds and
    test NLL per example (nats, of the density on [0, 1)^D)."""
    levels, dims = data.levels, data.dimension
    start = time.perf_counter()
    if name in PEERS.values():
        flow, label = zuko_flow(name, args, seed, dims)
        train_zuko(flow, y_train.flatten(1), args, seed)
        seconds = time.perf_counter() - start
        nll = flow_nll(lambda y: flow().log_prob(y.flatten(1)), data, args)
        return label, sum(p.numel() for p in flow.parameters()), seconds, nll
    model, label = build(name, args, seed, data.event_shape, levels)
    x = torch.round(data.train * levels) if name in LATENT else y_train
    pg.fit(
        model,
        x,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=seed,
        progress=False,
    )
    seconds = time.perf_counter() - start
    if name in LATENT:
        log_p = model.log_likelihood(torch.round(data.test * levels), particles=args.particles)
        nll = -log_p - dims * math.log(levels)  # the piecewise-constant density
    else:
        nll = flow_nll(model.log_likelihood, data, args)
    return label, sum(p.numel() for p in model.parameters()), seconds, nll


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--steps", type=int, default=1000, help="Adam steps for every model (default 1000)")
    add("--batch-size", type=int, default=128, help="minibatch (default 128)")
    add("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    add(
        "--hidden",
        type=int,
        default=128,
        help="hidden width of MAF, VectorRealNVP and their zuko peers (default 128)",
    )
    add(
        "--layers",
        type=int,
        default=5,
        help="layers of MAF, VectorRealNVP and their zuko peers (default 5)",
    )
    add(
        "--logit-alpha",
        type=float,
        default=0.05,
        help="α of every flow's logit pre-processing (default 0.05)",
    )
    add("--iwae-k", type=int, default=5, help="IWAE training particles (default 5)")
    add(
        "--particles",
        type=int,
        default=1000,
        help="K of the test IWAE estimate of VAE and IWAE (default 1000)",
    )
    add(
        "--train-draws",
        type=int,
        default=100,
        help="dequantizations of the training images for the flows (default 100: 150,000 "
        "examples, more than the 1000 × 128 of the default budget)",
    )
    add("--draws", type=int, default=4, help="test dequantizations for the flows (default 4)")
    add(
        "--models",
        default=",".join(MODELS),
        help=f"comma-separated subset of {','.join(MODELS)} (default all)",
    )
    add(
        "--zuko-alternating",
        action="store_true",
        help="zuko's own alternating orders in its MAF (default: random orders, as Pyro's "
        "MADE in probgen's MAF)",
    )
    add(
        "--zuko-halves",
        action="store_true",
        help="zuko's couplings split the features into their first and second halves, to "
        "measure what the split is worth (default: zuko's odd/even masks, as probgen's "
        "VectorRealNVP)",
    )
    add("--no-peer", action="store_true", help="skip the zuko flows")
    add_rounds(
        parser, "--seeds", note="rounds: every model trains from seeds seed, …, seed + n − 1"
    )
    add(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: on a busy 2-core machine, more threads than free "
        "cores slow torch down many times)",
    )
    add("--seed", type=int, default=0, help="the data split, and the first training seed")
    args = parser.parse_args(argv)
    names = [n for n in args.models.split(",") if n]
    if not names or set(names) - set(MODELS):
        parser.error(f"--models takes names from {','.join(MODELS)}, got {args.models!r}")
    counts = "steps batch_size hidden layers iwae_k particles train_draws draws threads"
    if bad := [f"--{c.replace('_', '-')}" for c in counts.split() if getattr(args, c) < 1]:
        parser.error(f"{', '.join(bad)} must be at least 1")
    if not args.lr > 0 or not 0 <= args.logit_alpha < 0.5:
        parser.error("--lr must be positive and --logit-alpha in [0, 0.5)")
    torch.set_num_threads(args.threads)

    print(__doc__.split("\n\n")[0])
    print(describe_machine(torch, pyro, zuko, pg))
    data = digits(levels=17, seed=args.seed)
    dims, log_levels = data.dimension, math.log(data.levels)
    y_train = torch.cat([data.dequantized(data.train, seed=r) for r in range(args.train_draws)])
    seeds = range(args.seed, args.seed + args.seeds)
    print(
        f"digits, 17 levels: {len(data.train)} train / {len(data.test)} test images of "
        f"{dims} pixels; {args.steps} steps of batch {args.batch_size} "
        f"({args.steps * args.batch_size / len(data.train):.0f} passes over the images), "
        f"Adam lr {args.lr} (pg.fit's, fused, on both sides), training seeds "
        f"{', '.join(map(str, seeds))}\n"
        f"flows: logit α = {args.logit_alpha}, {args.train_draws} train and {args.draws} "
        f"test dequantizations; VAE and IWAE: test IWAE estimate with K = {args.particles}"
    )

    runs = []
    for name in names:  # each probgen flow just before its peer: back to back in every round
        runs.append(name)
        if name in PEERS and not args.no_peer:
            runs.append(PEERS[name])
    # an untimed round of two steps each leaves the process's one-off costs (first calls,
    # lazy imports) out of the timed rounds
    brief = argparse.Namespace(**{**vars(args), "steps": 2, "draws": 1, "particles": 1})
    for name in runs:
        train_and_score(name, args.seed, brief, data, y_train)
    # a seed is a round: each model's k-th call trains from the k-th seed
    next_seed = {name: iter(seeds) for name in runs}

    def train(name: str) -> tuple[int, str, int, float, torch.Tensor]:
        seed = next(next_seed[name])
        return seed, *train_and_score(name, seed, args, data, y_train)

    def report(label: str, name: str, result: tuple) -> None:
        seed, _, _, took, score = result
        print(
            f"  {label}, seed {seed}: {name} trained in {took:.1f} s, test NLL "
            f"{float(score.mean()):.2f}",
            flush=True,
        )

    results = interleave(
        {name: lambda name=name: train(name) for name in runs}, args.seeds, report=report
    )
    labels = {name: rs[0][1] for name, rs in results.items()}
    params = {name: rs[0][2] for name, rs in results.items()}
    seconds = {name: [r[3] for r in rs] for name, rs in results.items()}
    nll = {name: [r[4] for r in rs] for name, rs in results.items()}  # per seed, per image

    print(
        f"\n  {'model':<56} {'params':>7} {'fit s':>17} {'NLL nats':>9} {'(min–max)':>17} "
        f"{'−log P(c)':>10} {'bits/dim':>9}"
    )
    for name in runs:
        per_seed = [float(score.mean()) for score in nll[name]]
        mean = statistics.mean(per_seed)
        print(
            f"  {labels[name]:<56} {params[name]:7d} {spread(seconds[name], 1):>17} "
            f"{mean:9.2f} {f'({min(per_seed):.2f}–{max(per_seed):.2f})':>17} "
            f"{mean + dims * log_levels:10.2f} {data.bits_per_dim(mean):9.4f}"
        )
    print(
        f"  fit s: median (min–max) over the {args.seeds} seeds; NLL nats: of the density on "
        "[0, 1)^64,\n  test mean, mean over the seeds (min–max over the seeds); −log P(c) = "
        "NLL + 64 log 17; VAE and IWAE: IWAE estimates"
    )

    for name, peer in PEERS.items():
        if name in nll and peer in nll:
            verdict(labels[name], labels[peer], nll[name], nll[peer], dims)
            per_round = ratios(seconds[name], seconds[peer])
            print(f"    fit seconds, probgen / zuko per seed: {spread(per_round)}")
    print(f"\n{load()} at the end")


def verdict(label, peer_label, nll, peer_nll, dims: int) -> None:
    """Print the mean over the seeds of the paired difference probgen − peer of test NLL,
    ± twice its standard error over the seeds (the training noise included), each seed's
    difference, and whether it meets the target (≤ 0)."""
    per_seed = [float((a - b).mean()) for a, b in zip(nll, peer_nll, strict=True)]
    mean = statistics.mean(per_seed)
    err = 2 * statistics.stdev(per_seed) / math.sqrt(len(per_seed))
    over = f"{len(per_seed)} seeds: " + ", ".join(f"{d:+.2f}" for d in per_seed)
    if mean <= 0:
        result = "ok"
    elif mean <= err:
        result = "worse, but within 2 SE"
    else:
        result = "WORSE"
    print(
        f"\n  {label}\n  − {peer_label}:\n    NLL {mean:+.2f} ± {err:.2f} nats "
        f"({mean / (dims * math.log(2)):+.4f} bits/dim; 2 SE over {over}; min–max "
        f"{min(per_seed):+.2f}–{max(per_seed):+.2f}): {result} (target ≤ 0)"
    )


if __name__ == "__main__":
    sys.exit(main())
