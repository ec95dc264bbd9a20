"""probgen.plots draws exactly the numbers it is given.

Each test reads back what matplotlib holds (the image array, the line data, the points
scattered) and compares it with a computation by hand: each tile of a sample grid at its
place, the density at each grid centre evaluated directly, a moving average by a loop.
"""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch.distributions import MultivariateNormal

from probgen.errors import ArgumentError, DataError, ModelError
from probgen.plots import (
    density_2d,
    grid_points,
    image_grid,
    loss_curve,
    moving_average,
    sample_grid,
)
from probgen.results import Run

plt.switch_backend("Agg")  # files only: no window


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def tile_mask(shape, n, nrow, h, w, padding):
    """True where a tile's pixel lies, by an explicit loop over the images."""
    mask = np.zeros(shape[:2], dtype=bool)
    for k in range(n):
        top = padding + (k // nrow) * (h + padding)
        left = padding + (k % nrow) * (w + padding)
        mask[top : top + h, left : left + w] = True
    return mask


# --- sample grids --------------------------------------------------------------------------


def test_sample_grid_puts_each_tile_in_its_place_and_padding_elsewhere():
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(7, 1, 5, 4, generator=generator, dtype=torch.float64)
    nrow, padding = 3, 2
    ax = sample_grid(images, nrow=nrow, padding=padding)
    drawn = np.asarray(ax.images[0].get_array())
    # 3 rows of (5 + 2) pixels plus the top border; 3 columns of (4 + 2) plus the left one
    assert drawn.shape == (3 * 7 + 2, 3 * 6 + 2)
    for k in range(7):
        row, col = divmod(k, nrow)
        top, left = 2 + 7 * row, 2 + 6 * col
        np.testing.assert_array_equal(drawn[top : top + 5, left : left + 4], images[k, 0].numpy())
    mask = tile_mask(drawn.shape, 7, nrow, 5, 4, padding)
    assert mask.sum() == 7 * 5 * 4
    np.testing.assert_array_equal(drawn[~mask], 1.0)  # borders and the two empty slots
    assert ax.images[0].get_clim() == (0.0, 1.0)  # 0 is black and 1 white, whatever the data


def test_image_grid_default_layout_channels_and_colour():
    rng = np.random.default_rng(1)
    images = rng.random((10, 1, 3, 3))
    grid = image_grid(images)  # ⌈√10⌉ = 4 images per row, 3 rows, padding 1
    assert grid.shape == (3 * 4 + 1, 4 * 4 + 1)
    np.testing.assert_array_equal(grid, image_grid(images[:, 0]))  # (N, H, W) is the same
    np.testing.assert_array_equal(grid[9:12, 5:8], images[9, 0])  # image 9: row 2, column 1
    colour = rng.random((2, 3, 2, 3))
    rgb = image_grid(colour, nrow=2, padding=0)
    assert rgb.shape == (2, 6, 3)
    np.testing.assert_array_equal(rgb[:, 3:], colour[1].transpose(1, 2, 0))


def test_sample_grid_rejects_bad_images_and_options():
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        image_grid(torch.full((2, 1, 3, 3), 1.5))
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        image_grid(torch.full((2, 1, 3, 3), float("nan")))
    with pytest.raises(DataError, match="C = 1 or 3"):
        image_grid(torch.zeros(2, 2, 3, 3))
    with pytest.raises(DataError, match="empty"):
        image_grid(torch.zeros(0, 3, 3))
    with pytest.raises(ArgumentError, match="nrow"):
        image_grid(torch.zeros(2, 3, 3), nrow=0)
    with pytest.raises(ArgumentError, match="padding"):
        image_grid(torch.zeros(2, 3, 3), padding=-1)


# --- 2-D densities -------------------------------------------------------------------------

BOUNDS = (-3.0, 2.0, -1.0, 4.0)


def correlated_normal():
    cov = torch.tensor([[1.0, 0.6], [0.6, 2.0]], dtype=torch.float64)
    return MultivariateNormal(torch.tensor([-0.5, 1.5], dtype=torch.float64), cov)


def test_density_2d_shows_exp_log_prob_at_the_stated_grid_centres():
    target, resolution = correlated_normal(), 6
    seen = []

    def log_prob(points):
        seen.append(points)
        return target.log_prob(points)

    data = torch.tensor([[0.0, 1.0], [-1.0, 3.5], [1.5, 0.0]])
    ax = density_2d(log_prob, BOUNDS, resolution, samples=data, dtype=torch.float64)
    (points,) = seen  # one call, with all R² centres
    image = ax.images[0]
    drawn = np.asarray(image.get_array())
    assert drawn.shape == (resolution, resolution)
    x = [-3.0 + (j + 0.5) * 5.0 / resolution for j in range(resolution)]
    y = [-1.0 + (i + 0.5) * 5.0 / resolution for i in range(resolution)]
    for i in range(resolution):
        for j in range(resolution):
            centre = torch.tensor([x[j], y[i]], dtype=torch.float64)
            torch.testing.assert_close(points[i * resolution + j], centre, rtol=0, atol=1e-15)
            exact = target.log_prob(centre).exp().item()
            assert drawn[i, j] == pytest.approx(exact, rel=1e-12)
    # row i is drawn at height y_i: origin at the bottom, the cells spanning the bounds
    assert image.origin == "lower"
    assert tuple(image.get_extent()) == BOUNDS
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), data.numpy())


def test_grid_points_are_the_cell_centres():
    xs, ys = grid_points((0.0, 1.0, -2.0, 2.0), 4)
    np.testing.assert_allclose(xs, [0.125, 0.375, 0.625, 0.875], rtol=0, atol=1e-15)
    np.testing.assert_allclose(ys, [-1.5, -0.5, 0.5, 1.5], rtol=0, atol=1e-15)


def test_density_2d_rejects_bad_functions_and_bounds():
    target = correlated_normal()
    with pytest.raises(ModelError, match="shape"):
        density_2d(lambda p: target.log_prob(p)[:, None], BOUNDS, 4, dtype=torch.float64)
    with pytest.raises(ModelError, match="NaN"):
        density_2d(lambda p: p[:, 0] * float("nan"), BOUNDS, 4)
    with pytest.raises(ArgumentError, match="bounds"):
        density_2d(target.log_prob, (0.0, 1.0, 2.0), 4)
    with pytest.raises(ArgumentError, match="x_min < x_max"):
        density_2d(target.log_prob, (1.0, 0.0, 0.0, 1.0), 4)
    with pytest.raises(ArgumentError, match="resolution"):
        density_2d(target.log_prob, BOUNDS, 0)
    with pytest.raises(DataError, match=r"\(N, 2\)"):
        density_2d(target.log_prob, BOUNDS, 4, samples=torch.zeros(3, 3), dtype=torch.float64)


# --- loss curves ---------------------------------------------------------------------------


def trailing_mean_by_hand(values, window):
    return np.array([np.mean(values[max(0, t - window + 1) : t + 1]) for t in range(len(values))])


def test_loss_curve_smooths_with_a_trailing_moving_average():
    losses = np.random.default_rng(2).normal(size=230).cumsum()
    ax = loss_curve(Run(losses), smooth=7)
    raw, smoothed = ax.lines
    np.testing.assert_array_equal(raw.get_xdata(), np.arange(1, 231))
    np.testing.assert_array_equal(raw.get_ydata(), losses)
    np.testing.assert_allclose(
        smoothed.get_ydata(), trailing_mean_by_hand(losses, 7), rtol=0, atol=1e-12
    )
    # the default window is ⌊T/50⌋ = 4 steps; a list works like a Run
    default = loss_curve(list(losses)).lines[1].get_ydata()
    np.testing.assert_allclose(default, trailing_mean_by_hand(losses, 4), rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        moving_average(losses, 1000), trailing_mean_by_hand(losses, 1000), rtol=0, atol=1e-12
    )


def test_loss_curve_without_smoothing_and_bad_losses():
    losses = torch.tensor([3.0, 2.0, 2.5])
    (line,) = loss_curve(losses).lines  # T = 3 < 100: window 1, the raw losses alone
    np.testing.assert_array_equal(line.get_ydata(), losses.numpy())
    with pytest.raises(DataError, match="finite"):
        loss_curve([1.0, float("nan")])
    with pytest.raises(DataError, match="non-empty"):
        loss_curve([])
    with pytest.raises(ArgumentError, match="smooth"):
        loss_curve(losses, smooth=0)
