"""Helpers shared by the plots: figures and panels, argument checks, image shapes, the model."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

IMAGE_SHAPES = (
    "(n, height, width), (n, height, width, 1), (n, height, width, 3), or (n, height * width) "
    "for square images (any (n, size) with image_shape=)"
)


# -- figures -------------------------------------------------------------------------------------


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **kwargs):
    """A constrained-layout figure detached from pyplot, and its axes as a flat array."""
    fig = plt.figure(figsize=figsize, layout="constrained")
    # Closing only unregisters the figure from pyplot; it stays fully drawable and savable.
    plt.close(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False, **kwargs).ravel()


def root_figure(ax: Axes) -> Figure:
    fig = ax.figure
    while not isinstance(fig, Figure):  # an Axes inside a SubFigure
        fig = fig.figure
    return fig


def panel(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The given Axes and its figure, or a new figure with one Axes."""
    if ax is None:
        fig, axes = new_figure(figsize=figsize)
        return fig, axes[0]
    if not isinstance(ax, Axes):
        raise ValueError(f"Expected ax to be a matplotlib Axes or None. Received: ax={ax!r}")
    return root_figure(ax), ax


# -- arguments -----------------------------------------------------------------------------------


def check_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(
            f"Expected {name} to be an integer >= {minimum}. Received: {name}={value!r}"
        )
    return int(value)


def check_limit(limit: Any) -> float:
    if isinstance(limit, bool) or not isinstance(limit, int | float | np.number):
        raise ValueError(f"Expected limit to be a number > 0. Received: limit={limit!r}")
    if not (math.isfinite(limit) and limit > 0):
        raise ValueError(f"Expected limit to be a finite number > 0. Received: limit={limit!r}")
    return float(limit)


def check_dims(dims: Any, latent_dim: int, name: str = "dims") -> list[int]:
    """Latent dimension indices, each in `[0, latent_dim)`."""
    if isinstance(dims, int | np.integer) or not isinstance(dims, Sequence | np.ndarray):
        raise ValueError(f"Expected {name} to be a sequence of integers. Received: {name}={dims!r}")
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or not 0 <= d < latent_dim:
            raise ValueError(
                f"Expected {name} to hold integers in [0, {latent_dim}) for latent_dim="
                f"{latent_dim}. Received: {name}={dims!r}"
            )
    return [int(d) for d in dims]


# -- images --------------------------------------------------------------------------------------


def as_images(images: Any, name: str, image_shape: Sequence[int] | None = None) -> np.ndarray:
    """Convert a batch of images to `(n, h, w)` (grey) or `(n, h, w, 3)` (RGB), in [0, 1].

    Accepted: `(n, h, w)`, `(n, h, w, 1)`, `(n, h, w, 3)`, `(n, d)` with `d` a perfect square
    (square grey images), or any `(n, ...)` holding `prod(image_shape)` values per image when
    `image_shape` is given. Values are clipped to [0, 1].
    """
    arr = np.asarray(images, dtype=np.float32)
    shape = arr.shape
    if arr.ndim >= 1 and shape[0] >= 1 and image_shape is not None:
        target = tuple(int(s) for s in image_shape)
        if math.prod(target) != math.prod(shape[1:]) or not 2 <= len(target) <= 3:
            raise ValueError(
                f"Expected {name} to hold images of image_shape={target}, which must be "
                f"(height, width), (height, width, 1) or (height, width, 3). Received: "
                f"{name}.shape={shape}"
            )
        arr = arr.reshape(shape[0], *target)
    elif arr.ndim == 2 and shape[1] >= 1:
        side = math.isqrt(shape[1])
        if side * side == shape[1]:
            arr = arr.reshape(-1, side, side)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    grey = arr.ndim == 3
    rgb = arr.ndim == 4 and arr.shape[-1] == 3
    if not (grey or rgb) or shape[0] == 0 or 0 in arr.shape[1:]:
        raise ValueError(
            f"Expected {name} of shape {IMAGE_SHAPES}, with n >= 1. Received: {name}.shape={shape}"
        )
    return np.clip(arr, 0.0, 1.0)


def tile(images: np.ndarray, ncols: int) -> np.ndarray:
    """Tile `(n, h, w[, 3])` images row by row into one `(rows * h, ncols * w[, 3])` canvas."""
    n, h, w, *channels = images.shape
    nrows = math.ceil(n / ncols)
    padded = np.zeros((nrows * ncols, h, w, *channels), dtype=np.float32)
    padded[:n] = images
    axes = (0, 2, 1, 3, *range(4, padded.ndim + 1))
    tiled = padded.reshape(nrows, ncols, h, w, *channels).transpose(axes)
    return tiled.reshape(nrows * h, ncols * w, *channels)


def show(ax: Axes, canvas: np.ndarray, ticks: bool = False) -> None:
    """Draw a canvas: RGB in colour, one channel in grey levels (0 black, 1 white)."""
    if canvas.ndim == 3:
        ax.imshow(canvas, interpolation="nearest")
    else:
        ax.imshow(canvas, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    if not ticks:
        ax.set_xticks([])
        ax.set_yticks([])


# -- the model -----------------------------------------------------------------------------------


def _method(model: Any, name: str) -> Any:
    method = getattr(model, name, None)
    if not callable(method):
        raise ValueError(
            f"Expected a model with a {name}() method. Received: model of type "
            f"{type(model).__name__}"
        )
    return method


def decode(model: Any, z: np.ndarray, image_shape: Sequence[int] | None = None) -> np.ndarray:
    """`model.decode(z)` as `(n, h, w)` or `(n, h, w, 3)` images, one per code."""
    images = as_images(_method(model, "decode")(z), "model.decode(z)", image_shape)
    if len(images) != len(z):
        raise ValueError(
            f"Expected model.decode(z) to return one image per code ({len(z)}). "
            f"Received: {len(images)} images"
        )
    return images


def encode_mean(model: Any, x: np.ndarray) -> np.ndarray:
    """The posterior means `z_mean` of `model.encode(x)`, shape `(n, latent_dim)`."""
    z_mean = np.asarray(_method(model, "encode")(x)[0], dtype=np.float32)
    return z_mean.reshape(len(z_mean), -1)


def one_image(x: Any, name: str) -> np.ndarray:
    """One image with a leading batch axis of 1 (added when `x` has none)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 0 or x.size == 0:
        raise ValueError(f"Expected {name} to be one image. Received: {name}.shape={x.shape}")
    return x if x.ndim >= 2 and x.shape[0] == 1 else x[None]


def latent_dim(model: Any) -> int:
    value = getattr(model, "latent_dim", None)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(
            "Expected a model with an integer latent_dim >= 1. Received: model of type "
            f"{type(model).__name__} with latent_dim={value!r}"
        )
    return int(value)
