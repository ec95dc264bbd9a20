"""The flow transforms against exact references, in float64.

Every transform: x = T⁻¹(T(x)) to 1e-5, and log|det ∂T/∂x| against the slogdet of the
autograd Jacobian (``torch.autograd.functional.jacobian``) on at most 16 values, to 1e-4,
with random, non-identity parameters. Then the pieces with their own laws: the squeeze's
index formula, ActNorm's moments after its data-dependent initialisation, the LU form of
the 1×1 convolution, and the i-ResNet block's log-det series, Hutchinson estimator and
fixed-point inverse.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from pyro.distributions.transforms import GeneralizedChannelPermute
from torch.autograd.functional import jacobian

from probgen.errors import ArgumentError, DataError
from probgen.models.flows import (
    ActNorm,
    AdditiveCoupling,
    ChannelSplit,
    DiagonalScaling,
    InvertibleResidual,
    MaskedAffineCoupling,
    Squeeze,
    channel_mask,
    checkerboard_mask,
)
from probgen.models.flows.log_det import exact_log_det, series_log_det

pytestmark = pytest.mark.usefixtures("float64")


def perturb(module: torch.nn.Module, scale: float, seed: int = 0) -> None:
    """Add N(0, scale²) noise to every parameter, so that no layer is the identity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g))


def assert_inverse(t, x: torch.Tensor) -> None:
    """T⁻¹(T(x)) = x; the clone keeps the transform from answering from its cache."""
    back = t.inv(t(x).clone())
    torch.testing.assert_close(back, x, atol=1e-5, rtol=0)


def autograd_log_det(t, x: torch.Tensor) -> torch.Tensor:
    """log|det| of the Jacobian of T at the single example x (batch 1), flattened."""
    J = jacobian(lambda v: t(v.reshape(x.shape)).reshape(-1), x.reshape(-1))
    sign, logabsdet = torch.linalg.slogdet(J)
    assert sign != 0
    return logabsdet


def assert_log_det(t, x: torch.Tensor, volume_preserving: bool = False) -> None:
    """The transform's log|det| at x equals the autograd one (and is not 0 unless the
    transform preserves volume, so that a wrong formula cannot pass by being 0)."""
    assert x.numel() <= 16
    analytic = t.log_abs_det_jacobian(x, t(x)).sum()
    reference = autograd_log_det(t, x)
    assert abs(analytic.item() - reference.item()) < 1e-4
    if not volume_preserving:
        assert abs(reference.item()) > 1e-3


# --- couplings and NICE's scaling ---------------------------------------------------------


def test_additive_coupling_inverse_and_unit_jacobian():
    torch.manual_seed(0)
    mask = (torch.arange(6) % 2 == 0).double()
    t = AdditiveCoupling(mask, [16])
    x = torch.randn(1, 6)
    assert_inverse(t, torch.randn(5, 6))
    assert_log_det(t, x, volume_preserving=True)
    J = jacobian(lambda v: t(v), x[0])
    assert (J - torch.eye(6)).abs().max() > 1e-2  # the coupling does move the odd values
    torch.testing.assert_close(t(x)[:, mask.bool()], x[:, mask.bool()], atol=0, rtol=0)


def test_diagonal_scaling():
    t = DiagonalScaling((2, 3))
    perturb(t, 0.5)
    x = torch.randn(1, 2, 3)
    assert_inverse(t, torch.randn(4, 2, 3))
    assert_log_det(t, x)
    torch.testing.assert_close(t(x), x * t.log_scale.exp())


@pytest.mark.parametrize(
    ("mask", "shape"), [(checkerboard_mask, (1, 4, 4)), (channel_mask, (4, 2, 2))]
)
def test_masked_affine_coupling(mask, shape):
    torch.manual_seed(0)
    t = MaskedAffineCoupling(mask(shape, 1), hidden=8)
    torch.testing.assert_close(t(torch.ones(shape)), torch.ones(shape))  # zero-initialised
    perturb(t, 0.3)
    assert_inverse(t, torch.randn(3, *shape))
    assert_log_det(t, torch.randn(1, *shape))
    x = torch.randn(2, *shape)
    kept = t.mask.bool().expand_as(x)
    torch.testing.assert_close(t(x)[kept], x[kept], atol=0, rtol=0)


def test_masks_alternate_and_cover_the_image():
    for mask in (checkerboard_mask, channel_mask):
        b0, b1 = mask((4, 2, 2), 0), mask((4, 2, 2), 1)
        torch.testing.assert_close(b0 + b1, torch.ones(4, 2, 2))
        assert b0.sum() == 8
    assert checkerboard_mask((1, 2, 2), 0).flatten().tolist() == [1, 0, 0, 1]


# --- the multiscale pieces ----------------------------------------------------------------


def test_squeeze_index_formula_and_inverse():
    x = torch.randn(3, 2, 4, 6)
    y = Squeeze()(x)
    assert y.shape == (3, 8, 2, 3)
    for c in range(2):
        for i in range(2):
            for j in range(2):
                torch.testing.assert_close(
                    y[:, 4 * c + 2 * i + j], x[:, c, i::2, j::2], atol=0, rtol=0
                )
    assert_inverse(Squeeze(), x)
    assert_log_det(Squeeze(), torch.randn(1, 1, 4, 4), volume_preserving=True)
    assert Squeeze().forward_shape((3, 2, 4, 6)) == (3, 8, 2, 3)
    assert Squeeze().inverse_shape((3, 8, 2, 3)) == (3, 2, 4, 6)


def test_channel_split_applies_inner_to_first_channels_only():
    torch.manual_seed(0)
    inner = MaskedAffineCoupling(checkerboard_mask((2, 2, 2), 0), hidden=8)
    perturb(inner, 0.3)
    t = ChannelSplit(inner, 2)
    x = torch.randn(3, 4, 2, 2)
    y = t(x)
    torch.testing.assert_close(y[:, :2], inner(x[:, :2].clone()))
    torch.testing.assert_close(y[:, 2:], x[:, 2:], atol=0, rtol=0)
    assert_inverse(t, x)
    assert_log_det(t, torch.randn(1, 4, 2, 2))


# --- ActNorm --------------------------------------------------------------------------------


def test_actnorm_data_dependent_init_gives_zero_mean_unit_sd():
    torch.manual_seed(0)
    t = ActNorm(3)
    assert not t.initialized
    scales = torch.tensor([0.5, 2.0, 7.0]).reshape(3, 1, 1)
    y = torch.randn(16, 3, 5, 5) * scales + torch.tensor([1.0, -2.0, 3.0]).reshape(3, 1, 1)
    x = t.inv(y)  # data → base: the direction in which log_prob meets the data
    assert t.initialized
    torch.testing.assert_close(x.mean((0, 2, 3)), torch.zeros(3), atol=1e-12, rtol=0)
    torch.testing.assert_close(x.std((0, 2, 3), correction=0), torch.ones(3), atol=1e-12, rtol=0)


def test_actnorm_initialisation_survives_state_dict_round_trip():
    torch.manual_seed(0)
    t = ActNorm(3)
    t.inv(torch.randn(8, 3, 2, 2) * 4 + 1)
    state = t.state_dict()
    assert bool(state["initialized"])
    fresh = ActNorm(3)
    fresh.load_state_dict(state)
    assert fresh.initialized
    y = torch.randn(5, 3, 2, 2)
    torch.testing.assert_close(fresh.inv(y), t.inv(y.clone()))  # no second initialisation


@pytest.mark.parametrize(("shape", "event_dim"), [((4, 2, 2), 3), ((5,), 1)])
def test_actnorm_inverse_and_log_det(shape, event_dim):
    torch.manual_seed(0)
    t = ActNorm(shape[0], event_dim)
    t.inv(torch.randn(8, *shape) * 3)
    perturb(t, 0.3)
    assert_inverse(t, torch.randn(3, *shape))
    assert_log_det(t, torch.randn(1, *shape))


def test_actnorm_needs_two_values_per_channel():
    with pytest.raises(DataError, match="at least 2"):
        ActNorm(5, event_dim=1).inv(torch.randn(1, 5))


# --- the invertible 1×1 convolution (Pyro's GeneralizedChannelPermute) -----------------


def test_inv_conv_lu_log_det_is_hw_times_slogdet_of_w():
    torch.manual_seed(0)
    t = GeneralizedChannelPermute(channels=4)
    perturb(t, 0.3)
    weight = t.permutation @ t.L @ t.U  # W = P L U, diag(U) = s
    x = torch.randn(2, 4, 3, 5)
    torch.testing.assert_close(t(x), F.conv2d(x, weight[:, :, None, None]))
    _, logabsdet = torch.linalg.slogdet(weight)
    assert abs(logabsdet) > 1e-2
    torch.testing.assert_close(t.log_abs_det_jacobian(x, t(x)), (15 * logabsdet).expand(2))
    assert_inverse(t, x)
    assert_log_det(t, torch.randn(1, 4, 2, 2))


# --- the i-ResNet block ---------------------------------------------------------------------


def residual_block(dim: int, activation: str = "elu", **options) -> InvertibleResidual:
    """A block with one hidden layer: its Jacobian is far from 0 (Lip(g) up to 0.81)."""
    torch.manual_seed(0)
    return InvertibleResidual(dim, hidden=16, depth=1, activation=activation, **options).eval()


@pytest.mark.parametrize(("dim", "activation"), [(2, "elu"), (16, "lipswish")])
def test_residual_block_exact_log_det_and_inverse(dim, activation):
    t = residual_block(dim, activation, log_det="exact")
    assert t.lipschitz_bound() < 1
    assert_inverse(t, torch.randn(4, dim))
    assert_log_det(t, torch.randn(1, dim))


def test_residual_series_log_det_matches_exact():
    t = residual_block(2)
    lip = t.lipschitz_bound()
    x = torch.randn(6, 2, requires_grad=True)
    gx = t.g(x)
    exact = exact_log_det(gx, x)
    for terms in (5, 60):
        series = series_log_det(gx, x, terms, trace="exact")
        remainder = 2 * lip ** (terms + 1) / ((terms + 1) * (1 - lip))  # D Σ_{k>n} L^k / k
        assert (series - exact).abs().max() <= remainder + 1e-12
    assert (series_log_det(gx, x, 1, trace="exact") - exact).abs().max() > 1e-3


@pytest.mark.parametrize("probe", ["rademacher", "gaussian"])
def test_hutchinson_estimate_is_unbiased(probe):
    t = residual_block(2)
    torch.manual_seed(1)
    x0, terms, probes = torch.randn(2), 6, 100_000
    x = x0.expand(probes, 2).clone().requires_grad_()
    estimates = series_log_det(t.g(x), x, terms, trace="hutchinson", probe=probe)
    one = x0[None].clone().requires_grad_()
    expected = series_log_det(t.g(one), one, terms, trace="exact")[0]
    error = estimates.std() / math.sqrt(probes)  # Monte Carlo standard error of the mean
    assert error > 1e-6  # the probes are random
    assert abs(estimates.mean() - expected) < 4 * error


def test_fixed_point_inverse_converges_geometrically():
    t = residual_block(16, tol=1e-13)
    lip = t.lipschitz_bound()
    x = torch.randn(8, 16)
    x_back, errors = t.fixed_point_inverse(t(x))
    torch.testing.assert_close(x_back, x, atol=1e-11, rtol=0)
    assert errors[-1] <= 1e-13 and len(errors) > 5
    ratios = [b / a for a, b in zip(errors, errors[1:], strict=False) if a > 1e-10]
    assert len(ratios) > 5
    assert max(ratios) <= lip + 1e-9


def test_fixed_point_inverse_warns_when_it_stops_early():
    t = residual_block(2, max_iter=2)
    with pytest.warns(UserWarning, match="max_iter=2"):
        _, errors = t.fixed_point_inverse(torch.randn(3, 2) * 5)
    assert len(errors) == 2 and errors[-1] > t.tol


def test_residual_block_rejects_bad_options():
    with pytest.raises(ArgumentError, match="coeff"):
        InvertibleResidual(2, coeff=1.0)
    with pytest.raises(ArgumentError, match="log_det"):
        InvertibleResidual(2, log_det="approximate")
    with pytest.raises(ArgumentError, match="activation"):
        InvertibleResidual(2, activation="relu")
    with pytest.raises(ArgumentError, match="trace"):
        x = torch.randn(1, 2, requires_grad=True)
        series_log_det(x * 2, x, 3, trace="stochastic")
