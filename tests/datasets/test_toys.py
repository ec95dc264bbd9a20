"""2-D toys: scikit-learn's moons and circles on the same seed, and exact geometric facts of
the generated ones (noise-free points on the centres, in the black squares, on the spiral).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import make_circles, make_moons

from probgen.datasets import checkerboard, circles, eight_gaussians, moons, swiss_roll
from probgen.errors import ArgumentError

TOYS = [moons, circles, eight_gaussians, checkerboard, swiss_roll]
GENERATED = [eight_gaussians, checkerboard, swiss_roll]


@pytest.mark.parametrize(
    "toy, peer, options",
    [(moons, make_moons, {}), (circles, make_circles, {"factor": 0.5})],
)
def test_sklearn_toys_equal_the_peer_on_the_same_seed(toy, peer, options):
    data = toy(n=150, noise=0.1, seed=7, test_size=30)
    x, y = peer(180, noise=0.1, random_state=7, **options)
    np.testing.assert_array_equal(data.train, x[:150].astype(np.float32))
    np.testing.assert_array_equal(data.test, x[150:].astype(np.float32))
    np.testing.assert_array_equal(data.train_labels, y[:150])
    np.testing.assert_array_equal(data.test_labels, y[150:])


@pytest.mark.parametrize("toy", TOYS)
def test_shapes_and_determinism(toy):
    data = toy(n=100, seed=3, test_size=20)
    assert data.train.shape == (100, 2) and data.test.shape == (20, 2)
    assert data.event_shape == (2,) and data.train.dtype == torch.float32
    assert torch.equal(data.train, toy(n=100, seed=3, test_size=20).train)
    assert not torch.equal(data.train, toy(n=100, seed=4, test_size=20).train)


@pytest.mark.parametrize("toy", GENERATED)
def test_noise_is_an_exact_gaussian_offset(toy):
    """With one seed the noise-free points and the standard normal draws are the same, so
    x(σ) − x(0) = σ·(x(1) − x(0)) up to float32 rounding."""
    clean, unit, scaled = (toy(n=5000, noise=s, seed=1).train.double() for s in (0.0, 1.0, 0.3))
    np.testing.assert_allclose(scaled - clean, 0.3 * (unit - clean), atol=1e-6)
    # the sd of 10,000 standard normals, within 4 standard errors (1/√(2·10,000))
    assert (unit - clean).std() == pytest.approx(1.0, abs=4 / np.sqrt(20_000))


def test_noise_free_eight_gaussians_lie_on_their_centres():
    data = eight_gaussians(n=2000, noise=0.0, radius=2.0)
    j = data.train_labels.numpy()
    centres = 2.0 * np.exp(1j * np.pi * np.arange(8) / 4)
    expected = np.stack([centres.real, centres.imag], -1)[j]
    np.testing.assert_allclose(data.train.numpy(), expected, atol=1e-6, rtol=0)
    assert set(j) == set(range(8))


def test_checkerboard_points_lie_in_the_black_squares():
    x = checkerboard(n=20_000, noise=0.0, test_size=0).train.numpy()
    assert x.min() >= -2 and x.max() < 2
    squares = np.floor(x).astype(int)
    assert np.all(squares.sum(1) % 2 == 0)
    assert len(np.unique(squares, axis=0)) == 8


def test_noise_free_swiss_roll_lies_on_the_spiral():
    x = swiss_roll(n=2000, noise=0.0).train.double().numpy() * 5
    t = np.hypot(x[:, 0], x[:, 1])
    assert t.min() >= 1.5 * np.pi - 1e-5 and t.max() < 4.5 * np.pi + 1e-5
    np.testing.assert_allclose(x, t[:, None] * np.stack([np.cos(t), np.sin(t)], -1), atol=1e-5)


@pytest.mark.parametrize("toy", TOYS)
@pytest.mark.parametrize(
    "options, match",
    [({"n": 0}, "n "), ({"noise": -0.1}, "noise"), ({"test_size": -1}, "test_size")],
)
def test_bad_options_raise(toy, options, match):
    with pytest.raises(ArgumentError, match=match):
        toy(**options)
