"""A grid of codes over two latent dimensions, decoded into one large image."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy.stats import norm

from vaelib.plots import _common

SPACINGS = ("linear", "quantile")


def decoded_grid(
    model: Any,
    *,
    n: int = 30,
    limit: float = 3.0,
    spacing: str = "linear",
    dims: Sequence[int] | None = None,
    digit_size: int | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    image_shape: Sequence[int] | None = None,
) -> Figure:
    """Decode an `n x n` grid of codes over two latent dimensions into one large image.

    The grid spans `[-limit, limit]^2`. With `spacing="linear"` its coordinates are evenly
    spaced; with `spacing="quantile"` they are `Phi^-1(p)` for evenly spaced probabilities `p`
    between `Phi(-limit)` and `Phi(limit)` (`Phi` the standard normal CDF), so every cell holds
    the same prior mass and the grid is denser near the origin, where the prior puts its codes.
    `z_i` grows from left to right and `z_j` from bottom to top. The ticks sit at round values
    (0 among them), placed where that value falls between the centres of the decoded cells: on
    the cell decoded at that value when there is one.

    Args:
        model: an object with `decode(z)` and `latent_dim`.
        n: number of codes along each axis (>= 1).
        limit: half-width of the grid in latent units (> 0).
        spacing: `"linear"` or `"quantile"`.
        dims: the two latent dimensions `(i, j)` to vary (counted from 0); the others are held
            at 0. Needed when `latent_dim > 2`; default `(0, 1)` for a 2-D latent space.
        digit_size: when given, check that the decoded images are `digit_size` pixels square.
        ax: an Axes to draw into, or None for a new figure.
        title: title of the panel.
        image_shape: shape of one image when the decoder returns flat, non-square images.

    Returns:
        The figure; its one image has shape `(n * h, n * w)` (`(n * h, n * w, 3)` for RGB)
        for decoded images of height `h` and width `w`.

    Example:
        >>> fig = decoded_grid(model, n=30, limit=3.0, spacing="quantile")
        >>> fig = decoded_grid(model_16d, n=15, dims=(3, 7))
    """
    n = _common.check_int(n, "n")
    limit = _common.check_limit(limit)
    if spacing not in SPACINGS:
        raise ValueError(f"Expected spacing to be one of {SPACINGS}. Received: spacing={spacing!r}")
    if spacing == "quantile" and norm.cdf(-limit) == 0.0:
        # Phi(-limit) underflows to 0 beyond about 37.5: the inverse CDF would return infinities.
        raise ValueError(
            "Expected limit <= 37 with spacing='quantile' (the prior has no mass to spare "
            f"beyond it; use spacing='linear' for wider grids). Received: limit={limit!r}"
        )
    if digit_size is not None:
        digit_size = _common.check_int(digit_size, "digit_size")
    latent_dim = _common.latent_dim(model)
    first, second = _grid_dims(dims, latent_dim)

    values = _grid_values(n, limit, spacing)
    z1, z2 = np.meshgrid(values, values[::-1])  # top row: largest z_j
    codes = np.zeros((n * n, latent_dim), dtype=np.float32)
    codes[:, first], codes[:, second] = z1.ravel(), z2.ravel()
    images = _common.decode(model, codes, image_shape)
    height, width = images.shape[1:3]
    if digit_size is not None and (height, width) != (digit_size, digit_size):
        raise ValueError(
            f"Expected {digit_size}x{digit_size} images (digit_size={digit_size}). Received: "
            f"decoded images of shape {images.shape[1:]}"
        )

    size = min(10.0, max(3.0, 0.3 * n))
    fig, ax = _common.panel(ax, figsize=(size, size * height / width))
    _common.show(ax, _common.tile(images, n), ticks=True)
    ticks = _round_ticks(values, limit)
    labels = [f"{t:g}" for t in ticks]
    # Cell k spans pixels [k * size - 0.5, (k + 1) * size - 0.5]; its centre shows values[k].
    x_centres = np.arange(n) * width + (width - 1) / 2
    y_centres = np.arange(n)[::-1] * height + (height - 1) / 2  # values grow upwards
    ax.set_xticks(np.interp(ticks, values, x_centres), labels)
    ax.set_yticks(np.interp(ticks, values, y_centres), labels)
    ax.set_xlabel(f"$z_{{{first + 1}}}$")
    ax.set_ylabel(f"$z_{{{second + 1}}}$")
    if title is not None:
        ax.set_title(title)
    return fig


def _grid_dims(dims: Any, latent_dim: int) -> tuple[int, int]:
    if dims is None:
        if latent_dim != 2:
            raise ValueError(
                f"Expected dims=(i, j), the two latent dimensions to vary, for a model with "
                f"latent_dim={latent_dim} (it is optional only when latent_dim=2). "
                "Received: dims=None"
            )
        return 0, 1
    checked = _common.check_dims(dims, latent_dim)
    if len(checked) != 2 or checked[0] == checked[1]:
        raise ValueError(
            f"Expected dims to be two different latent dimensions (i, j). Received: dims={dims!r}"
        )
    return checked[0], checked[1]


def _grid_values(n: int, limit: float, spacing: str) -> np.ndarray:
    """`n` coordinates from `-limit` to `limit`: evenly spaced, or evenly spaced in prior mass."""
    if n == 1:
        return np.zeros(1)
    u = np.linspace(-1.0, 1.0, n)
    if spacing == "linear":
        return limit * u
    # Evenly spaced probabilities on [Phi(-limit), Phi(limit)], mapped through the inverse CDF.
    # Built from the lower tail and mirrored, so that it stays exact and symmetric for large limits.
    low = norm.cdf(-limit)
    magnitude = -norm.ppf(low + (0.5 - low) * (1.0 - np.abs(u)))
    return np.sign(u) * magnitude


def _round_ticks(values: np.ndarray, limit: float) -> np.ndarray:
    """Round values in `[-limit, limit]` (multiples of 1, 2, 2.5 or 5 times a power of ten, 0
    among them) that the grid's codes `values` reach, up to rounding."""
    ticks = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(-limit, limit)
    ticks = np.round(ticks, 12) + 0.0  # + 0.0 turns -0.0 into 0.0
    slack = 1e-6 * limit
    return ticks[(ticks >= values[0] - slack) & (ticks <= values[-1] + slack)]
