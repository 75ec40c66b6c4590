"""Images in a grid: any images, a model's reconstructions, and samples of its prior."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vaelib.plots import _common


def image_grid(
    images: np.ndarray,
    ncols: int = 10,
    ax: Axes | None = None,
    title: str | None = None,
    *,
    image_shape: Sequence[int] | None = None,
) -> Figure:
    """Tile images into one picture, row by row.

    Args:
        images: shape `(n, h, w)`, `(n, h, w, 1)` (grey levels, 0 black and 1 white),
            `(n, h, w, 3)` (RGB), or `(n, h * w)` for square grey images; values in [0, 1]
            (clipped). Other flat shapes need `image_shape`.
        ncols: images per row (at most `n` are used).
        ax: an Axes to draw into, or None for a new figure.
        title: title of the panel.
        image_shape: shape of one image, `(h, w)`, `(h, w, 1)` or `(h, w, 3)`, when `images`
            is flat, such as `(n, 3072)` for `(32, 32, 3)`.

    Returns:
        The figure; its one image has shape `(ceil(n / ncols) * h, min(ncols, n) * w)`, with a
        last axis of 3 for RGB.

    Example:
        >>> fig = image_grid(x_test[:20], ncols=10)
    """
    images = _common.as_images(images, "images", image_shape)
    ncols = min(_common.check_int(ncols, "ncols"), len(images))
    canvas = _common.tile(images, ncols)
    width = min(12.0, max(2.0, 0.6 * ncols))
    fig, ax = _common.panel(ax, figsize=(width, width * canvas.shape[0] / canvas.shape[1] + 0.4))
    _common.show(ax, canvas)
    if title is not None:
        ax.set_title(title)
    return fig


def reconstructions(
    model: Any, x: np.ndarray, n: int = 10, *, image_shape: Sequence[int] | None = None
) -> Figure:
    """Show the first `n` images of `x` (top row) over their reconstructions (bottom row).

    A reconstruction decodes the encoder's mean, `decode(z_mean)`, without sampling. The
    decoded images are shown in the shape of the originals.

    Args:
        model: an object with `encode(x) -> (z_mean, z_log_var)` and `decode(z)`.
        x: images in the shape the encoder expects, `(m, ...)` with `m >= n`; shown as in
            `image_grid`.
        n: number of images (>= 1).
        image_shape: shape of one image when `x` is flat and its images are not square.

    Returns:
        The figure: 2 axes (originals, reconstructions), each one strip image of `n` images,
        shape `(h, n * w)` or `(h, n * w, 3)`.

    Example:
        >>> fig = reconstructions(model, x_test, n=10)
    """
    n = _common.check_int(n, "n")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2 or len(x) < n:
        raise ValueError(f"Expected x with at least n={n} images. Received: x.shape={x.shape}")
    originals = _common.as_images(x[:n], "x", image_shape)
    z_mean = _common.encode_mean(model, x[:n])
    recon = _common.decode(model, z_mean, originals.shape[1:])

    width = min(14.0, max(3.0, 1.0 * n))
    height = 2 * width * originals.shape[1] / (n * originals.shape[2]) + 0.5
    fig, axes = _common.new_figure(2, 1, figsize=(width, height))
    for ax, images, label in zip(
        axes, (originals, recon), ("original", "reconstruction"), strict=True
    ):
        _common.show(ax, _common.tile(images, n))
        ax.set_ylabel(label)
    return fig


def prior_samples(
    model: Any,
    n: int = 100,
    seed: int = 0,
    ax: Axes | None = None,
    *,
    ncols: int | None = None,
    title: str | None = None,
    image_shape: Sequence[int] | None = None,
) -> Figure:
    """Decode `n` codes drawn from the prior N(0, I) and tile the images.

    The codes come from NumPy's generator seeded with `seed`, so a seed gives the same codes on
    every backend.

    Args:
        model: an object with `decode(z)` and a `latent_dim` attribute.
        n: number of samples (>= 1).
        seed: seed of the codes.
        ax: an Axes to draw into, or None for a new figure.
        ncols: images per row; default about `sqrt(n)`.
        title: title of the panel.
        image_shape: shape of one image when the decoder returns flat, non-square images.

    Returns:
        The figure with one tiled image.

    Example:
        >>> fig = prior_samples(model, n=100, seed=0)
    """
    n = _common.check_int(n, "n")
    ncols = math.ceil(math.sqrt(n)) if ncols is None else _common.check_int(ncols, "ncols")
    z = np.random.default_rng(seed).standard_normal((n, _common.latent_dim(model)))
    images = _common.decode(model, z.astype(np.float32), image_shape)
    return image_grid(images, ncols=ncols, ax=ax, title=title)
