"""Paths through the latent space: traversals of one dimension, interpolations between codes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vaelib.plots import _common

METHODS = ("linear", "spherical")


def latent_traversal(
    model: Any,
    x: np.ndarray | None = None,
    z: np.ndarray | None = None,
    dims: Sequence[int] | None = None,
    limit: float = 3.0,
    n: int = 9,
    *,
    max_rows: int = 10,
    ax: Axes | None = None,
    title: str | None = None,
    image_shape: Sequence[int] | None = None,
) -> Figure:
    """Vary one latent dimension at a time, holding the others, and decode each code.

    The traversal starts from a code: the posterior mean of the image `x`, or the given `z`, or
    (with neither) the origin. Row `k` sets dimension `dims[k]` to each of `n` evenly spaced
    values from `-limit` to `limit` (columns, left to right) and keeps the other coordinates of
    the start. A row that does not change shows a dimension the decoder ignores.

    Args:
        model: an object with `decode(z)` and `latent_dim` (and `encode(x)` when `x` is given).
        x: one image, shaped as the encoder expects, with or without a leading batch axis of 1.
        z: a code of shape `(latent_dim,)` or `(1, latent_dim)`; not with `x`.
        dims: the dimensions to traverse (counted from 0), one row each; default the first
            `max_rows` dimensions.
        limit: the values run over `[-limit, limit]` (> 0).
        n: number of values per row (>= 2).
        max_rows: most rows drawn by default (ignored when `dims` is given).
        ax: an Axes to draw into, or None for a new figure.
        title: title of the panel.
        image_shape: shape of one image when the decoder returns flat, non-square images.

    Returns:
        The figure; its one image has shape `(len(dims) * h, n * w)` (and 3 channels for RGB).
        Row `k` is labelled `z_{dims[k] + 1}` (dimensions counted from 1, as in the text);
        columns are labelled with their values.

    Example:
        >>> fig = latent_traversal(model, x=x_test[:1], limit=3.0, n=9)
    """
    latent_dim = _common.latent_dim(model)
    limit = _common.check_limit(limit)
    n = _common.check_int(n, "n", minimum=2)
    max_rows = _common.check_int(max_rows, "max_rows")
    if x is not None and z is not None:
        raise ValueError("Expected x or z (or neither), not both. Received: both x and z")
    if dims is None:
        dims = list(range(min(latent_dim, max_rows)))
    dims = _common.check_dims(dims, latent_dim)
    if not dims:
        raise ValueError(f"Expected at least one dimension in dims. Received: dims={dims!r}")
    if x is not None:
        start = _common.encode_mean(model, _common.one_image(x, "x"))[0]
    elif z is not None:
        start = _code(z, latent_dim, "z")
    else:
        start = np.zeros(latent_dim)

    values = np.linspace(-limit, limit, n)
    codes = np.tile(start, (len(dims), n, 1))
    for row, d in enumerate(dims):
        codes[row, :, d] = values
    codes = codes.reshape(-1, latent_dim).astype(np.float32)
    images = _common.decode(model, codes, image_shape)

    height, width = images.shape[1:3]
    fig_width = min(12.0, max(3.0, 0.9 * n))
    fig, ax = _common.panel(
        ax, figsize=(fig_width, fig_width * len(dims) * height / (n * width) + 0.6)
    )
    _common.show(ax, _common.tile(images, n), ticks=True)
    ax.set_xticks(np.arange(n) * width + (width - 1) / 2, [f"{v:.3g}" for v in values + 0.0])
    ax.set_yticks(
        np.arange(len(dims)) * height + (height - 1) / 2, [f"$z_{{{d + 1}}}$" for d in dims]
    )
    ax.tick_params(length=0)
    ax.set_xlabel("value of the traversed dimension")
    if title is not None:
        ax.set_title(title)
    return fig


def interpolation_path(
    z_start: np.ndarray, z_end: np.ndarray, n: int, method: str = "linear"
) -> np.ndarray:
    """`n` codes from `z_start` to `z_end`, both included, along a line or a great circle.

    `"linear"` takes evenly spaced points on the straight segment. `"spherical"` (slerp) turns
    the direction of the code from that of `z_start` to that of `z_end` at a constant angular
    speed while its norm goes linearly from `|z_start|` to `|z_end|`: the path keeps away from
    the origin, where a Gaussian prior has little mass in high dimension. When a code is zero or
    the two are (anti)parallel the angle is undefined or the arc ambiguous, and the path is the
    linear one.

    Args:
        z_start: the first code, shape `(latent_dim,)`.
        z_end: the last code, same shape.
        n: number of codes (>= 2).
        method: `"linear"` or `"spherical"`.

    Returns:
        The codes, shape `(n, latent_dim)`; row 0 is `z_start` and row `n - 1` is `z_end`.

    Example:
        >>> path = interpolation_path(np.array([1.0, 0.0]), np.array([0.0, 2.0]), 5, "spherical")
    """
    z_start = _code(z_start, None, "z_start")
    z_end = _code(z_end, len(z_start), "z_end")
    n = _common.check_int(n, "n", minimum=2)
    if method not in METHODS:
        raise ValueError(f"Expected method to be one of {METHODS}. Received: method={method!r}")
    t = np.linspace(0.0, 1.0, n)[:, None]
    path = (1.0 - t) * z_start + t * z_end
    norm_start, norm_end = np.linalg.norm(z_start), np.linalg.norm(z_end)
    if method == "spherical" and norm_start > 0 and norm_end > 0:
        u_start, u_end = z_start / norm_start, z_end / norm_end
        angle = np.arccos(np.clip(u_start @ u_end, -1.0, 1.0))
        if np.sin(angle) > 1e-6:
            direction = (np.sin((1.0 - t) * angle) * u_start + np.sin(t * angle) * u_end) / np.sin(
                angle
            )
            path = ((1.0 - t) * norm_start + t * norm_end) * direction
    path[0], path[-1] = z_start, z_end
    return path


def interpolation(
    model: Any,
    x_start: np.ndarray,
    x_end: np.ndarray,
    n: int = 10,
    *,
    title: str | None = None,
    image_shape: Sequence[int] | None = None,
) -> Figure:
    """Decode the linear and the spherical path between the codes of two images.

    Both images are encoded to their posterior means; `interpolation_path` gives `n` codes on
    each path, both ends included, and each row shows the decoded path between the two
    original images.

    Args:
        model: an object with `encode(x) -> (z_mean, z_log_var)` and `decode(z)`.
        x_start: one image, shaped as the encoder expects, with or without a leading batch axis.
        x_end: another image, same shape.
        n: number of codes on each path (>= 2).
        title: title of the figure.
        image_shape: shape of one image when the images are flat and not square.

    Returns:
        The figure: 2 rows (`"linear"`, `"spherical"`) of 3 axes each: `x_start`, the decoded
        path (one strip image of shape `(h, n * w)`, 3 channels for RGB) and `x_end`.

    Example:
        >>> fig = interpolation(model, x_test[0], x_test[1], n=10)
    """
    n = _common.check_int(n, "n", minimum=2)
    x_start, x_end = _common.one_image(x_start, "x_start"), _common.one_image(x_end, "x_end")
    if x_start.shape != x_end.shape:
        raise ValueError(
            "Expected x_start and x_end of the same shape. Received: "
            f"x_start.shape={x_start.shape[1:]} and x_end.shape={x_end.shape[1:]}"
        )
    ends = np.concatenate([x_start, x_end])
    originals = _common.as_images(ends, "x_start and x_end", image_shape)
    z_start, z_end = _common.encode_mean(model, ends)
    paths = [interpolation_path(z_start, z_end, n, method) for method in METHODS]
    decoded = _common.decode(model, np.concatenate(paths).astype(np.float32), originals.shape[1:])

    height, width = originals.shape[1:3]
    fig_width = min(14.0, max(4.0, 0.9 * (n + 2)))
    fig_height = 2 * fig_width * height / ((n + 2) * width) + 0.8
    fig, axes = _common.new_figure(2, 3, figsize=(fig_width, fig_height), width_ratios=[1, n, 1])
    for row, method in enumerate(METHODS):
        left, middle, right = axes[3 * row : 3 * row + 3]
        _common.show(left, originals[0])
        _common.show(middle, _common.tile(decoded[row * n : (row + 1) * n], n))
        _common.show(right, originals[1])
        left.set_ylabel(method)
    axes[0].set_title("start")
    axes[1].set_title(f"decoded path, {n} codes")
    axes[2].set_title("end")
    if title is not None:
        fig.suptitle(title)
    return fig


def _code(z: Any, latent_dim: int | None, name: str) -> np.ndarray:
    """A finite code of shape `(latent_dim,)`, from `(latent_dim,)` or `(1, latent_dim)`."""
    arr = np.asarray(z, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    size = "latent_dim" if latent_dim is None else latent_dim
    if arr.ndim != 1 or len(arr) == 0 or (latent_dim is not None and len(arr) != latent_dim):
        raise ValueError(
            f"Expected {name} of shape ({size},) or (1, {size}). Received: {name}.shape="
            f"{np.shape(z)}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"Expected finite values in {name}. Received: {name}={z!r}")
    return arr
