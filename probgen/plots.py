"""The few plots of deep generative models that ArviZ does not draw.

ArviZ plots posteriors; a deep generative model is judged by pictures of its draws
(``sample_grid``), of its density where the data live in two dimensions
(``density_2d``) and of its training loss (``loss_curve``). Each function draws into
``ax`` (a new figure when None) and returns the ``Axes`` (its figure is ``ax.figure``);
none calls ``plt.show``. tests/core/test_plots.py checks what each one draws against the
numbers it was given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

from probgen.checks import at_least
from probgen.errors import ArgumentError, DataError, ModelError
from probgen.results import Run


def image_grid(
    images: torch.Tensor | np.ndarray, nrow: int | None = None, padding: int = 1
) -> np.ndarray:
    """The images (N, C, H, W) with C ∈ {1, 3}, or (N, H, W), tiled into one picture.

    Image n goes to row r = ⌊n / nrow⌋ and column c = n mod nrow (``nrow`` images per row,
    default ⌈√N⌉): its pixel (i, j) lands at (p + r(H + p) + i, p + c(W + p) + j), with
    p = ``padding`` pixels of value 1 around and between the tiles and in empty slots.
    Returns an array (R(H + p) + p, nrow(W + p) + p), R = ⌈N / nrow⌉, with a last axis of
    3 for colour images. Values must lie in [0, 1]. Tests: tests/core/test_plots.py.
    """
    array = _as_numpy(images, "images")
    if array.ndim == 4 and array.shape[1] in (1, 3):
        array = array.transpose(0, 2, 3, 1)  # channels last, as imshow wants them
        if array.shape[-1] == 1:
            array = array[..., 0]
    elif array.ndim != 3:
        raise DataError(
            f"images must have shape (N, C, H, W) with C = 1 or 3, or (N, H, W); got {array.shape}"
        )
    if len(array) == 0:
        raise DataError("images is empty: pass at least one image")
    if not (np.isfinite(array).all() and array.min() >= 0 and array.max() <= 1):
        raise DataError(
            "images must hold finite values in [0, 1]: clamp model draws (x.clamp(0, 1)) or "
            "scale pixels (e.g. x / 255)"
        )
    n, h, w = array.shape[:3]
    nrow = math.ceil(math.sqrt(n)) if nrow is None else at_least("nrow", nrow, 1)
    padding = at_least("padding", padding, 0)
    step_h, step_w = h + padding, w + padding
    rows = math.ceil(n / nrow)
    grid = np.ones((rows * step_h + padding, nrow * step_w + padding, *array.shape[3:]))
    for k, image in enumerate(array):
        top, left = padding + (k // nrow) * step_h, padding + (k % nrow) * step_w
        grid[top : top + h, left : left + w] = image
    return grid


def sample_grid(
    images: torch.Tensor | np.ndarray,
    nrow: int | None = None,
    ax: Axes | None = None,
    padding: int = 1,
) -> Axes:
    """Draw ``image_grid(images, nrow, padding)``: grey levels 0 (black) to 1 (white) for
    one channel, RGB for three, one screen pixel per image pixel value (no smoothing).

    Tests: tests/core/test_plots.py (the drawn array holds each input tile in its place).
    """
    grid = image_grid(images, nrow, padding)
    ax = _axes(ax, figsize=(grid.shape[1] / 20 + 1, grid.shape[0] / 20 + 1))
    ax.imshow(grid, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    return ax


def grid_points(bounds: Sequence[float], resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """The centres of an R × R grid of cells over ``bounds`` = (x₀, x₁, y₀, y₁), R =
    ``resolution``: x_j = x₀ + (j + ½)(x₁ − x₀)/R and y_i likewise; returned as the
    coordinate vectors (x_j)_j and (y_i)_i. Tests: tests/core/test_plots.py.
    """
    resolution = at_least("resolution", resolution, 1)
    x0, x1, y0, y1 = _bounds(bounds)
    centres = (np.arange(resolution) + 0.5) / resolution
    return x0 + (x1 - x0) * centres, y0 + (y1 - y0) * centres


def density_2d(
    log_prob_fn: Callable[[torch.Tensor], torch.Tensor],
    bounds: Sequence[float],
    resolution: int = 200,
    ax: Axes | None = None,
    samples: torch.Tensor | np.ndarray | None = None,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
) -> Axes:
    """The density p(x) = exp(log p(x)) of a 2-D model, and optionally data, over ``bounds``.

    ``log_prob_fn`` maps points (M, 2) to log p (M,), e.g. ``flow.log_prob`` or a Pyro
    distribution's ``log_prob``; it is called once, without gradients, on the M = R²
    centres (x_j, y_i) of ``grid_points(bounds, resolution)``, as a tensor of ``dtype``
    (default torch's) on ``device``, with row i·R + j holding (x_j, y_i). Cell (i, j) of
    the image shows exp(log p(x_j, y_i)), y growing upwards. ``samples`` (N, 2) are drawn
    on top as dots. Tests: tests/core/test_plots.py (the image equals exp(log p) at the
    grid centres, evaluated directly).
    """
    xs, ys = grid_points(bounds, resolution)
    dtype = torch.get_default_dtype() if dtype is None else dtype
    x, y = np.meshgrid(xs, ys)  # x[i, j] = x_j, y[i, j] = y_i
    points = torch.as_tensor(np.stack([x.ravel(), y.ravel()], -1), dtype=dtype, device=device)
    with torch.no_grad():
        log_p = torch.as_tensor(log_prob_fn(points))
    if log_p.shape != (len(points),):
        raise ModelError(
            f"log_prob_fn must map points of shape (M, 2) to log densities of shape (M,); "
            f"it returned shape {tuple(log_p.shape)} for M = {len(points)}"
        )
    density = log_p.detach().cpu().double().exp().numpy().reshape(len(ys), len(xs))
    if np.isnan(density).any():
        raise ModelError(f"log_prob_fn returned NaN at {np.isnan(density).sum()} grid points")
    ax = _axes(ax, figsize=(4, 4))
    x0, x1, y0, y1 = _bounds(bounds)
    ax.imshow(density, origin="lower", extent=(x0, x1, y0, y1), cmap="viridis", aspect="auto")
    if samples is not None:
        points = _as_numpy(samples, "samples")
        if points.ndim != 2 or points.shape[1] != 2:
            raise DataError(f"samples must have shape (N, 2), got {points.shape}")
        ax.scatter(points[:, 0], points[:, 1], s=1, c="white", alpha=0.5)
        ax.set(xlim=(x0, x1), ylim=(y0, y1))
    return ax


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """The trailing moving average m_t = (1/n_t) Σ_{s = t − n_t + 1}^{t} v_s, with
    n_t = min(t + 1, w) for w = ``window``: the mean of the last w values, or of all values
    so far for the first w − 1 steps. Tests: tests/core/test_plots.py.
    """
    window = at_least("window", window, 1)
    sums = np.cumsum(np.concatenate([[0.0], values]))
    t = np.arange(1, len(values) + 1)
    start = np.maximum(t - window, 0)
    return (sums[t] - sums[start]) / (t - start)


def loss_curve(
    run_or_losses: Run | Sequence[float] | np.ndarray | torch.Tensor,
    ax: Axes | None = None,
    smooth: int | None = None,
) -> Axes:
    """The loss per step of a ``Run`` (``pg.fit``, ``pg.svi``) or of a sequence of losses.

    Draws the raw losses faintly and, over them, their trailing moving average
    ``moving_average(losses, w)`` with window w = ``smooth`` (default max(1, ⌊T/50⌋) for T
    steps; 1 draws the raw losses alone), against the step 1..T. Tests:
    tests/core/test_plots.py (the smoothed line equals the moving average by hand).
    """
    raw = run_or_losses.losses if isinstance(run_or_losses, Run) else run_or_losses
    losses = _as_numpy(raw, "losses").astype(float)
    if losses.ndim != 1 or len(losses) == 0 or not np.isfinite(losses).all():
        raise DataError(
            f"losses must be a non-empty 1-D sequence of finite numbers, got shape {losses.shape}"
        )
    window = max(1, len(losses) // 50) if smooth is None else at_least("smooth", smooth, 1)
    smoothed = moving_average(losses, window)
    steps = np.arange(1, len(losses) + 1)
    ax = _axes(ax, figsize=(6, 3))
    if window > 1:
        ax.plot(steps, losses, color="C0", alpha=0.3, lw=0.7, label="per step")
        ax.plot(steps, smoothed, color="C0", label=f"moving average of {window}")
        ax.legend()
    else:
        ax.plot(steps, losses, color="C0")
    ax.set(xlabel="step", ylabel="loss")
    return ax


def _as_numpy(values, name: str) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be a tensor or an array of numbers: {exc}") from exc


def _bounds(bounds: Sequence[float]) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(b) for b in bounds)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 4 or not all(map(math.isfinite, values)):
        raise ArgumentError(
            f"bounds must be four finite numbers (x_min, x_max, y_min, y_max), got {bounds!r}"
        )
    x0, x1, y0, y1 = values
    if not (x0 < x1 and y0 < y1):
        raise ArgumentError(f"bounds must have x_min < x_max and y_min < y_max, got {bounds!r}")
    return values


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    return plt.subplots(figsize=figsize)[1] if ax is None else ax
