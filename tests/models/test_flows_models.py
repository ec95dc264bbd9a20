"""The flow models against exact references, in float64.

For each model: log p(x) against the change of variables computed from the autograd
Jacobian of T⁻¹ (data → base) on 16-value images, x = T(T⁻¹(x)), densities of the 2-D
flows that integrate to 1 on a grid, the model inside Pyro programs, and a few Adam
steps on −log p that lower the exact negative log-likelihood. VectorRealNVP against its
peer, zuko's RealNVP, with the same weights. Then bits per dimension against the discrete
entropy of a piecewise-constant density, and the error messages.
"""

import pyro
import pytest
import torch
from pyro import poutine
from torch.autograd.functional import jacobian

from probgen.errors import ArgumentError, DataError
from probgen.models.flows import (
    IAF,
    MAF,
    NICE,
    NSF,
    FlowModel,
    Glow,
    IResNet,
    RealNVP,
    VectorRealNVP,
)

pytestmark = pytest.mark.usefixtures("float64")

IMAGE = (1, 4, 4)


def perturb(module: torch.nn.Module, scale: float) -> None:
    """Add N(0, scale²) noise to every parameter, so that no layer is the identity."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g))


def image_batch(n: int, seed: int = 0) -> torch.Tensor:
    """n images in [0, 1] of shape IMAGE: a smooth blob plus noise."""
    g = torch.Generator().manual_seed(seed)
    return (0.5 + 0.15 * torch.randn(n, *IMAGE, generator=g)).clamp(0.02, 0.98)


def glow(shape):
    model = Glow(shape, hidden=8, levels=2, steps=2)
    model.log_prob(image_batch(16, seed=5))  # ActNorm's data-dependent initialisation
    perturb(model, 0.1)
    return model


def with_noise(model: FlowModel, scale: float = 0.1) -> FlowModel:
    perturb(model, scale)
    return model


# name → a model of event_shape (random, non-identity parameters)
MODELS = {
    "nice": lambda shape: with_noise(NICE(shape, hidden=16, depth=1), 0.3),
    "realnvp": lambda shape: with_noise(RealNVP(shape, hidden=8, scales=2)),
    "glow": glow,
    "vector_realnvp": lambda shape: with_noise(VectorRealNVP(shape, hidden=16, layers=4), 0.2),
    "maf": lambda shape: with_noise(MAF(shape, hidden=16, layers=3), 0.1),
    "iaf": lambda shape: with_noise(IAF(shape, hidden=16, layers=3), 0.1),
    "nsf_coupling": lambda shape: NSF(shape, hidden=16, layers=2, bins=6),
    "nsf_autoregressive": lambda shape: NSF(shape, hidden=16, layers=2, kind="autoregressive"),
    "iresnet": lambda shape: IResNet(shape, hidden=16, blocks=2, log_det="exact").eval(),
}
VECTOR_MODELS = [name for name in MODELS if name not in ("realnvp", "glow")]


def make(name: str, shape=IMAGE) -> FlowModel:
    torch.manual_seed(0)
    return MODELS[name](shape)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_log_prob_is_change_of_variables_with_autograd_jacobian(name):
    model = make(name)
    T = model.transform()
    x = image_batch(1, seed=3)
    z = T.inv(x)
    torch.testing.assert_close(T(z.clone()), x, atol=1e-5, rtol=0)  # T(T⁻¹(x)) = x
    J = jacobian(lambda v: T.inv(v.reshape(x.shape)).reshape(-1), x.reshape(-1))
    _, log_det_inverse = torch.linalg.slogdet(J)  # log|det ∂T⁻¹/∂x|, 16 × 16
    assert abs(log_det_inverse) > 1e-3
    expected = model.base_distribution().log_prob(z.detach()) + log_det_inverse
    assert abs(model.log_prob(x).item() - expected.item()) < 1e-4
    analytic = T.log_abs_det_jacobian(z, T(z)).sum()  # log|det ∂T/∂z| = −log|det ∂T⁻¹/∂x|
    assert abs(analytic.item() + log_det_inverse.item()) < 1e-4


# the box [−8, 8]² cut in 400 × 400 cells of side 0.04, each scored at its midpoint
GRID_HALF_WIDTH, GRID_CELLS = 8.0, 400


@pytest.mark.parametrize("name", VECTOR_MODELS)
def test_2d_density_integrates_to_one(name):
    model = make(name, (2,))
    side = 2 * GRID_HALF_WIDTH / GRID_CELLS
    centres = -GRID_HALF_WIDTH + side * (torch.arange(GRID_CELLS) + 0.5)
    grid = torch.cartesian_prod(centres, centres)
    mass = model.log_likelihood(grid).exp().sum().item() * side**2
    assert abs(mass - 1) < 0.01


@pytest.mark.parametrize("name", sorted(MODELS))
def test_flow_inside_pyro_programs(name):
    model = make(name)
    x = image_batch(4, seed=7)

    def program(data):
        pyro.sample("x", model.distribution(), obs=data)

    trace = poutine.trace(program).get_trace(x)
    expected = model.log_prob(x)
    torch.testing.assert_close(trace.nodes["x"]["fn"].log_prob(x), expected)
    scaled = poutine.trace(model.model).get_trace(x, size=12)  # N/B = 3
    torch.testing.assert_close(scaled.log_prob_sum(), 3 * expected.sum())
    torch.testing.assert_close(model.log_likelihood(x), expected.detach())
    draws = model.sample(5)
    assert draws.shape == (5, *IMAGE) and torch.isfinite(draws).all()
    assert not draws.requires_grad


@pytest.mark.parametrize("name", sorted(MODELS))
def test_adam_steps_lower_the_negative_log_likelihood(name):
    model = make(name)
    if name == "iresnet":  # train with the Hutchinson series, score exactly
        for block in model.blocks:
            block.log_det = "hutchinson"
        model.train()
    x = image_batch(64, seed=11)
    before = -model.log_likelihood(x).mean().item()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(15):
        optimizer.zero_grad()
        loss = -model.log_prob(x).mean()
        loss.backward()
        optimizer.step()
    after = -model.log_likelihood(x).mean().item()
    assert after < before - 0.1, (before, after)


def test_iresnet_log_likelihood_is_exact_whatever_the_training_estimator():
    torch.manual_seed(0)
    model = IResNet((2,), hidden=16, blocks=2, log_det="hutchinson", terms=3).eval()
    x = torch.randn(5, 2)
    exact = model.log_likelihood(x)
    assert [b.log_det for b in model.blocks] == ["hutchinson"] * 2  # restored
    with model.exact_log_det():
        torch.testing.assert_close(model.log_prob(x), exact)
    torch.manual_seed(1)
    noisy = model.log_prob(x)
    assert (noisy - exact).abs().max() > 1e-8  # the estimator really is stochastic


def test_glow_actnorm_initialisation_is_in_the_state_dict():
    model = make("glow")
    state = model.state_dict()
    flags = [k for k in state if k.endswith("initialized")]
    assert len(flags) == 4 and all(bool(state[k]) for k in flags)
    torch.manual_seed(9)
    fresh = Glow(IMAGE, hidden=8, levels=2, steps=2)
    fresh.load_state_dict(state)
    x = image_batch(3, seed=2)
    torch.testing.assert_close(fresh.log_prob(x), model.log_prob(x))


def test_iaf_scores_its_own_draws_from_the_cache_and_others_by_inversion():
    model = make("iaf", (2,))
    d = model.distribution()
    x = d.sample((6,))
    cached = d.log_prob(x)
    torch.testing.assert_close(cached, model.log_prob(x.clone()))


def test_vector_realnvp_is_zuko_realnvp_with_the_same_weights():
    zuko = pytest.importorskip("zuko", reason="zuko, the peer, is a bench extra: pip install zuko")
    dim, hidden, layers = 5, 16, 4  # odd D: the couplings move 2 and 3 values in turn
    torch.manual_seed(0)
    model = with_noise(VectorRealNVP((dim,), hidden=hidden, layers=layers), 0.1)
    peer = zuko.flows.RealNVP(dim, transforms=layers, hidden_features=(hidden, hidden))
    position = model.interleave  # the coordinate at each place of the vector a coupling sees
    pairs_of_layers = zip(model.couplings, peer.transform.transforms, strict=True)
    for k, (coupling, lazy) in enumerate(pairs_of_layers):
        if k:
            position = position[model.flip]
        held, moved = position[: coupling.split_dim], position[coupling.split_dim :]
        # zuko's hypernet reads x[mask] and writes (shift, log-scale) pairs for x[~mask],
        # both in increasing order of the coordinates
        assert held.sort().values.tolist() == lazy.mask.nonzero().flatten().tolist()
        ours = list(coupling.nn.layers)
        theirs = [m for m in lazy.hyper if isinstance(m, zuko.nn.Linear)]
        with torch.no_grad():
            for mine, peer_layer in zip(ours[:-1], theirs[:-1], strict=True):
                peer_layer.weight.copy_(mine.weight)
                peer_layer.bias.copy_(mine.bias)
            theirs[0].weight.copy_(ours[0].weight[:, held.argsort()])
            order = moved.argsort()
            for name in ("weight", "bias"):  # Pyro's rows: all shifts, then all log-scales
                shift, log_scale = getattr(ours[-1], name).chunk(2)
                pairs = torch.stack([shift[order], log_scale[order]], 1)
                getattr(theirs[-1], name).copy_(pairs.flatten(0, 1))
    x = 2 * torch.randn(7, dim, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(model.log_prob(x), peer().log_prob(x), atol=1e-10, rtol=0)
    z = torch.randn(7, dim, generator=torch.Generator().manual_seed(5))
    zuko_z = z[:, position.argsort()]  # our base values come in the order the last coupling saw
    torch.testing.assert_close(
        model.transform()(z), peer().transform.inv(zuko_z), atol=1e-10, rtol=0
    )


# --- errors -----------------------------------------------------------------------------------


def test_bad_data_raise_data_errors():
    model = make("realnvp")
    with pytest.raises(DataError, match="shape"):
        model.log_prob(torch.rand(3, 1, 4, 5))
    with pytest.raises(DataError, match="NaN"):
        model.log_prob(torch.full((2, *IMAGE), float("nan")))
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        model.log_prob(torch.rand(2, *IMAGE) + 1)
    with pytest.raises(DataError, match="float32"):
        model.log_prob(torch.rand(2, *IMAGE, dtype=torch.float32))


def test_bad_arguments_raise_argument_errors():
    with pytest.raises(ArgumentError, match="n must be"):
        make("maf", (2,)).sample(0)
    with pytest.raises(ArgumentError, match="divisible by 4"):
        RealNVP((1, 6, 6), scales=3)
    with pytest.raises(ArgumentError, match="divisible by 4"):
        Glow((1, 6, 6), levels=2)
    with pytest.raises(ArgumentError, match="images"):
        RealNVP((64,))
    with pytest.raises(ArgumentError, match="hidden"):
        MAF((1, 8, 8), hidden=32)
    with pytest.raises(ArgumentError, match="2 or more"):
        NICE((1,))
    with pytest.raises(ArgumentError, match="event_shape must hold 2 or more"):
        VectorRealNVP((1,))
    with pytest.raises(ArgumentError, match="kind"):
        NSF((2,), kind="linear")
    with pytest.raises(ArgumentError, match="coeff"):
        IResNet((2,), coeff=1.5)
    with pytest.raises(ArgumentError, match="logit_alpha"):
        RealNVP(logit_alpha=0.7)
    with pytest.raises(ArgumentError, match="event_shape"):
        NICE((2, 0))
