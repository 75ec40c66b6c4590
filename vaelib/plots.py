"""Figures for VAEs: latent scatters, decoded grids, reconstructions and training curves.

Every function returns a `matplotlib.figure.Figure` and never calls `plt.show()`. Functions that
draw one panel take `ax=None`: given an Axes they draw into it and return its figure, otherwise
they make a new figure. New figures are detached from pyplot's list of open figures, so a notebook
shows each exactly once (leave it as the cell's last expression, or call `display(fig)`), and a
loop that makes many of them does not pile up open figures. Save one with `fig.savefig(path)`.

The functions that take a model use only two of its methods, so any object that has them works:
`model.encode(x) -> (z_mean, z_log_var)` and `model.decode(z) -> images` with pixel values in
[0, 1], shaped `(n, 28, 28)`, `(n, 28, 28, 1)` or `(n, 784)`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from scipy.stats import norm

LOSS_KEYS = ("total_loss", "reconstruction_loss", "kl_loss")
LOSS_TITLES = {
    "loss": "loss",
    "total_loss": "total loss",
    "reconstruction_loss": "reconstruction loss",
    "kl_loss": "KL",
}
SPACINGS = ("linear", "quantile")


# -- helpers -------------------------------------------------------------------------------------


def _new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float]):
    """A constrained-layout figure detached from pyplot, and its axes as a flat array."""
    fig = plt.figure(figsize=figsize, layout="constrained")
    # Closing only unregisters the figure from pyplot; it stays fully drawable and savable.
    plt.close(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False).ravel()


def _root_figure(ax: Axes) -> Figure:
    fig = ax.figure
    while not isinstance(fig, Figure):  # an Axes inside a SubFigure
        fig = fig.figure
    return fig


def _panel(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig, axes = _new_figure(figsize=figsize)
        return fig, axes[0]
    if not isinstance(ax, Axes):
        raise ValueError(f"Expected ax to be a matplotlib Axes or None. Received: ax={ax!r}")
    return _root_figure(ax), ax


def _check_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(
            f"Expected {name} to be an integer >= {minimum}. Received: {name}={value!r}"
        )
    return int(value)


def _as_images(images: Any, name: str, side: int | None = None) -> np.ndarray:
    """Convert `(n, h, w)`, `(n, h, w, 1)` or `(n, h*w)` (square images) to `(n, h, w)`."""
    arr = np.asarray(images, dtype=np.float32)
    shape = arr.shape
    if arr.ndim == 4 and shape[-1] == 1:
        arr = arr[..., 0]
    elif arr.ndim == 2:
        width = side if side is not None else math.isqrt(shape[1])
        if width >= 1 and width * width == shape[1]:
            arr = arr.reshape(-1, width, width)
    if arr.ndim != 3 or shape[0] == 0 or 0 in arr.shape[1:]:
        raise ValueError(
            f"Expected {name} of shape (n, height, width), (n, height, width, 1) or "
            f"(n, side * side) with n >= 1. Received: {name}.shape={shape}"
        )
    if side is not None and arr.shape[1:] != (side, side):
        raise ValueError(
            f"Expected {name} to hold {side}x{side} images (digit_size={side}). "
            f"Received: {name}.shape={shape}"
        )
    return arr


def _decode(model: Any, z: np.ndarray, side: int | None = None) -> np.ndarray:
    if not callable(getattr(model, "decode", None)):
        raise ValueError(
            "Expected a model with a decode(z) method. "
            f"Received: model of type {type(model).__name__}"
        )
    images = _as_images(model.decode(z), "model.decode(z)", side)
    if len(images) != len(z):
        raise ValueError(
            f"Expected model.decode(z) to return one image per code ({len(z)}). "
            f"Received: {len(images)} images"
        )
    return images


def _latent_dim(model: Any) -> int:
    latent_dim = getattr(model, "latent_dim", None)
    if latent_dim is None:
        raise ValueError(
            "Expected a model with a latent_dim attribute. "
            f"Received: model of type {type(model).__name__}"
        )
    return int(latent_dim)


def _tile(images: np.ndarray, ncols: int) -> np.ndarray:
    """Tile `(n, h, w)` images row by row into one `(rows * h, ncols * w)` canvas."""
    n, h, w = images.shape
    nrows = math.ceil(n / ncols)
    padded = np.zeros((nrows * ncols, h, w), dtype=np.float32)
    padded[:n] = images
    return padded.reshape(nrows, ncols, h, w).transpose(0, 2, 1, 3).reshape(nrows * h, ncols * w)


def _show(ax: Axes, canvas: np.ndarray) -> None:
    ax.imshow(canvas, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


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


def _tick_label(value: float) -> str:
    return f"{round(value, 1) + 0.0:.1f}"  # + 0.0 turns -0.0 into 0.0


def _tick_indices(n: int, max_ticks: int = 7) -> np.ndarray:
    if n <= 11:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_ticks)).astype(int))


# -- latent space --------------------------------------------------------------------------------


def latent_scatter(
    z: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    class_names: Sequence[str] | Mapping[int, str] | None = None,
    reference: bool = False,
    num_reference: int = 5000,
    seed: int = 0,
    ax: Axes | Sequence[Axes] | None = None,
    title: str | None = None,
) -> Figure:
    """Scatter 2-D latent codes coloured by label, optionally beside samples of the prior.

    With `reference=True` a second panel shows `num_reference` samples of a 2-D standard normal
    (the prior) on the same axis limits, so the reader can judge the scale of the codes: without
    the KL term they spread far beyond the prior; with a large beta they shrink onto it.

    Args:
        z: codes, shape `(n, 2)`, usually the encoder's means on a test set. For a larger latent
            space pass two of its dimensions (`z[:, :2]`) or a 2-D projection.
        labels: integer labels, shape `(n,)`, or None for a single colour.
        class_names: names indexed by label (a sequence or a mapping); default the labels.
        reference: draw the standard-normal reference panel to the right.
        num_reference: number of prior samples in the reference panel.
        seed: seed of the reference samples.
        ax: an Axes to draw into (a pair of Axes when `reference=True`), or None for a new figure.
        title: title of the scatter panel.

    Returns:
        The figure: 1 axes, or 2 with the reference panel.

    Example:
        >>> z_mean, _ = model.encode(x_test)
        >>> fig = latent_scatter(z_mean, y_test, reference=True, title="beta = 1")
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != 2 or len(z) == 0:
        hint = ""
        if z.ndim == 2 and z.shape[1] > 2:
            hint = " Pass two of the dimensions (for example z[:, :2]) or a 2-D projection."
        raise ValueError(
            f"Expected z of shape (n, 2) with n >= 1. Received: z.shape={z.shape}.{hint}"
        )
    if not np.all(np.isfinite(z)):
        raise ValueError("Expected finite codes z. Received: z with NaN or infinite values")
    num_reference = _check_int(num_reference, "num_reference")

    if reference:
        if ax is None:
            fig, axes = _new_figure(1, 2, figsize=(11.0, 5.0))
        elif isinstance(ax, Sequence) and len(ax) == 2 and all(isinstance(a, Axes) for a in ax):
            axes, fig = list(ax), _root_figure(ax[0])
        else:
            raise ValueError(
                "Expected ax to be a pair of Axes (or None) when reference=True. "
                f"Received: ax={ax!r}"
            )
        scatter_ax, reference_ax = axes
    else:
        fig, scatter_ax = _panel(ax, figsize=(6.5, 5.0))
        reference_ax = None

    size = 3.0 if len(z) > 2000 else 10.0
    style = {"s": size, "alpha": 0.6, "linewidths": 0, "rasterized": True}
    handles = []
    if labels is None:
        colours = "tab:blue"
    else:
        labels = np.asarray(labels)
        if labels.shape != (len(z),):
            raise ValueError(
                f"Expected labels of shape ({len(z)},), one per code. Received: labels.shape="
                f"{labels.shape}"
            )
        classes, index = np.unique(labels, return_inverse=True)
        names = [_class_name(c, class_names) for c in classes]
        if len(classes) <= 20:
            palette = np.asarray(colormaps["tab10" if len(classes) <= 10 else "tab20"].colors)
        else:
            palette = colormaps["turbo"](np.linspace(0.0, 1.0, len(classes)))
        colours = palette[index]
        handles = [
            Line2D([], [], linestyle="", marker="o", color=palette[i], label=name)
            for i, name in enumerate(names)
        ]
    scatter_ax.scatter(z[:, 0], z[:, 1], c=colours, **style)

    points = z
    if reference_ax is not None:
        prior = np.random.default_rng(seed).standard_normal((num_reference, 2))
        reference_ax.scatter(prior[:, 0], prior[:, 1], c="0.35", **style)
        reference_ax.set_title(rf"{num_reference} samples of $\mathcal{{N}}(0, I)$")
        points = np.concatenate([z, prior])
    for panel in (scatter_ax, reference_ax):
        if panel is None:
            continue
        if reference_ax is not None:  # one square window shared by both panels
            low, high = points.min(), points.max()
            pad = 0.05 * (high - low) if high > low else 1.0
            panel.set_xlim(low - pad, high + pad)
            panel.set_ylim(low - pad, high + pad)
        panel.set_aspect("equal", adjustable="box")
        panel.set_xlabel("$z_1$")
        panel.set_ylabel("$z_2$")
    if title is not None:
        scatter_ax.set_title(title)
    if handles and len(handles) <= 20:
        legend_ax = reference_ax if reference_ax is not None else scatter_ax
        legend_ax.legend(
            handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False
        )
    return fig


def _class_name(label: Any, class_names: Sequence[str] | Mapping[int, str] | None) -> str:
    if class_names is None:
        return str(label)
    try:
        return str(class_names[int(label)])
    except (IndexError, KeyError, TypeError, ValueError):
        raise ValueError(
            f"Expected class_names to have an entry for every label. Received: label={label!r} "
            f"with {len(class_names)} class names"
        ) from None


def decoded_grid(
    model: Any,
    *,
    n: int = 30,
    limit: float = 3.0,
    spacing: str = "linear",
    digit_size: int = 28,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Decode an `n x n` grid of 2-D latent codes into one large image.

    The grid spans `[-limit, limit]^2`. With `spacing="linear"` its coordinates are evenly
    spaced; with `spacing="quantile"` they are `Phi^-1(p)` for evenly spaced probabilities `p`
    between `Phi(-limit)` and `Phi(limit)` (`Phi` the standard normal CDF), so every cell holds
    the same prior mass and the grid is denser near the origin, where the prior puts its codes.
    `z_1` grows from left to right and `z_2` from bottom to top; ticks show the code values.

    Args:
        model: an object with `decode(z)` for codes of shape `(n * n, 2)`.
        n: number of codes along each axis (>= 1).
        limit: half-width of the grid in latent units (> 0).
        spacing: `"linear"` or `"quantile"`.
        digit_size: side of one decoded image in pixels.
        ax: an Axes to draw into, or None for a new figure.
        title: title of the panel.

    Returns:
        The figure; its one image has shape `(n * digit_size, n * digit_size)`.

    Example:
        >>> fig = decoded_grid(model, n=30, limit=3.0, spacing="quantile")
    """
    n = _check_int(n, "n")
    digit_size = _check_int(digit_size, "digit_size")
    if isinstance(limit, bool) or not isinstance(limit, int | float | np.number):
        raise ValueError(f"Expected limit to be a number > 0. Received: limit={limit!r}")
    if not (math.isfinite(limit) and limit > 0):
        raise ValueError(f"Expected limit to be a finite number > 0. Received: limit={limit!r}")
    if spacing not in SPACINGS:
        raise ValueError(f"Expected spacing to be one of {SPACINGS}. Received: spacing={spacing!r}")
    if spacing == "quantile" and norm.cdf(-limit) == 0.0:
        # Phi(-limit) underflows to 0 beyond about 37.5: the inverse CDF would return infinities.
        raise ValueError(
            "Expected limit <= 37 with spacing='quantile' (the prior has no mass to spare "
            f"beyond it; use spacing='linear' for wider grids). Received: limit={limit!r}"
        )
    latent_dim = getattr(model, "latent_dim", 2)
    if latent_dim != 2:
        raise ValueError(
            f"Expected a model with a 2-D latent space. Received: latent_dim={latent_dim}"
        )

    values = _grid_values(n, float(limit), spacing)
    z1, z2 = np.meshgrid(values, values[::-1])  # top row: largest z_2
    codes = np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32)
    images = _decode(model, codes, digit_size)
    canvas = _tile(images, n)

    size = min(10.0, max(3.0, 0.3 * n))
    fig, ax = _panel(ax, figsize=(size, size))
    ax.imshow(canvas, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ticks = _tick_indices(n)
    centres = ticks * digit_size + (digit_size - 1) / 2
    ax.set_xticks(centres, [_tick_label(v) for v in values[ticks]])
    ax.set_yticks(centres, [_tick_label(v) for v in values[::-1][ticks]])
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title is not None:
        ax.set_title(title)
    return fig


# -- images --------------------------------------------------------------------------------------


def image_grid(
    images: np.ndarray, ncols: int = 10, ax: Axes | None = None, title: str | None = None
) -> Figure:
    """Tile images into one picture, row by row.

    Args:
        images: shape `(n, h, w)`, `(n, h, w, 1)` or `(n, h * w)` for square images, values in
            [0, 1] (shown in grey levels, 0 black and 1 white).
        ncols: images per row (at most `n` are used).
        ax: an Axes to draw into, or None for a new figure.
        title: title of the panel.

    Returns:
        The figure; its one image has shape `(ceil(n / ncols) * h, min(ncols, n) * w)`.

    Example:
        >>> fig = image_grid(x_test[:20], ncols=10)
    """
    images = _as_images(images, "images")
    ncols = min(_check_int(ncols, "ncols"), len(images))
    canvas = _tile(images, ncols)
    width = min(12.0, max(2.0, 0.6 * ncols))
    fig, ax = _panel(ax, figsize=(width, width * canvas.shape[0] / canvas.shape[1] + 0.4))
    _show(ax, canvas)
    if title is not None:
        ax.set_title(title)
    return fig


def reconstructions(model: Any, x: np.ndarray, n: int = 10) -> Figure:
    """Show the first `n` images of `x` (top row) over their reconstructions (bottom row).

    A reconstruction decodes the encoder's mean, `decode(z_mean)`, without sampling.

    Args:
        model: an object with `encode(x) -> (z_mean, z_log_var)` and `decode(z)`.
        x: images in the shape the encoder expects, `(m, ...)` with `m >= n`.
        n: number of images (>= 1).

    Returns:
        The figure: 2 axes (originals, reconstructions), each one strip image of `n` digits.

    Example:
        >>> fig = reconstructions(model, x_test, n=10)
    """
    n = _check_int(n, "n")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2 or len(x) < n:
        raise ValueError(f"Expected x with at least n={n} images. Received: x.shape={x.shape}")
    if not callable(getattr(model, "encode", None)):
        raise ValueError(
            "Expected a model with an encode(x) method. "
            f"Received: model of type {type(model).__name__}"
        )
    originals = _as_images(x[:n], "x")
    z_mean = np.asarray(model.encode(x[:n])[0], dtype=np.float32)
    height, width = originals.shape[1:]
    recon = _decode(model, z_mean, height if height == width else None)

    width = min(14.0, max(3.0, 1.0 * n))
    fig, axes = _new_figure(2, 1, figsize=(width, 2 * width / n + 0.5))
    for ax, images, label in zip(
        axes, (originals, recon), ("original", "reconstruction"), strict=True
    ):
        _show(ax, _tile(images, n))
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

    Returns:
        The figure with one tiled image.

    Example:
        >>> fig = prior_samples(model, n=100, seed=0)
    """
    n = _check_int(n, "n")
    ncols = math.ceil(math.sqrt(n)) if ncols is None else _check_int(ncols, "ncols")
    z = np.random.default_rng(seed).standard_normal((n, _latent_dim(model))).astype(np.float32)
    return image_grid(_decode(model, z), ncols=ncols, ax=ax, title=title)


# -- training ------------------------------------------------------------------------------------


def training_curves(history: Any) -> Figure:
    """Plot the losses per epoch, training and (when logged) validation, one panel per loss.

    Panels, in order, for the keys present: `total_loss` (or `loss` when there is no
    `total_loss`), `reconstruction_loss`, `kl_loss`. With none of these, every logged key that
    does not start with `val_` gets a panel. `val_<key>` is drawn in the same panel.

    Args:
        history: the `keras.callbacks.History` returned by `fit`, or a dict of lists.

    Returns:
        The figure, one axes per panel.

    Example:
        >>> history = model.fit(x_train, epochs=10, validation_data=(x_test,))
        >>> fig = training_curves(history)
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping) or not logs:
        raise ValueError(
            "Expected a Keras History or a non-empty dict of lists. "
            f"Received: history of type {type(history).__name__}"
        )
    keys = [key for key in LOSS_KEYS if key in logs]
    if "total_loss" not in logs and "loss" in logs:
        keys.insert(0, "loss")
    if not keys:
        keys = [key for key in logs if not str(key).startswith("val_")]
    if not keys:
        raise ValueError(f"Expected training logs in history. Received: keys={list(logs)}")

    fig, axes = _new_figure(1, len(keys), figsize=(4.2 * len(keys), 3.4))
    for ax, key in zip(axes, keys, strict=True):
        train = _series(logs[key], key)
        marker = "o" if len(train) <= 20 else None
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, marker=marker, markersize=3, label="training")
        if f"val_{key}" in logs:
            val = _series(logs[f"val_{key}"], f"val_{key}")
            # With validation_freq > 1 there are fewer validation points, spread over the epochs.
            val_epochs = np.round(np.arange(1, len(val) + 1) * len(train) / len(val))
            ax.plot(val_epochs, val, marker=marker, markersize=3, label="validation")
            ax.legend(frameon=False)
        ax.set_title(LOSS_TITLES.get(key, str(key)))
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def _series(values: Any, key: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.empty(0)
    if arr.ndim != 1 or len(arr) == 0:
        raise ValueError(
            f"Expected history[{key!r}] to be a non-empty list of numbers. Received: {values!r}"
        )
    return arr


def rate_distortion(rows: Any, ax: Axes | None = None) -> Figure:
    """Plot distortion (reconstruction loss) against rate (KL), one point per beta.

    Points are joined in order of beta and labelled with it. Growing beta moves along the curve
    from high rate and low distortion (codes carry many nats about x) towards zero rate, where
    the decoder ignores z and the reconstruction loss is that of the best single image.

    Args:
        rows: a list of dicts with keys `beta`, `reconstruction_loss` and `kl_loss` (per-example
            means in nats), such as `SweepResult.rows`, or an object with such a `.rows`.
        ax: an Axes to draw into, or None for a new figure.

    Returns:
        The figure.

    Example:
        >>> result = beta_sweep([0.1, 1.0, 10.0], x_train, x_test, epochs=10)
        >>> fig = rate_distortion(result.rows)
    """
    rows = getattr(rows, "rows", rows)
    if isinstance(rows, Mapping) or not isinstance(rows, Sequence) or len(rows) == 0:
        raise ValueError(f"Expected a non-empty list of dicts. Received: rows={rows!r}")
    points = []
    for row in rows:
        try:
            point = tuple(float(row[k]) for k in ("beta", "kl_loss", "reconstruction_loss"))
        except (KeyError, TypeError, ValueError):
            raise ValueError(
                "Expected every row to have numeric beta, kl_loss and reconstruction_loss. "
                f"Received: row={row!r}"
            ) from None
        if not all(math.isfinite(v) for v in point):
            raise ValueError(f"Expected finite values in every row. Received: row={row!r}")
        points.append(point)
    beta, rate, distortion = np.array(sorted(points)).T

    fig, ax = _panel(ax, figsize=(6.0, 4.5))
    ax.plot(rate, distortion, color="0.7", zorder=1)
    ax.scatter(rate, distortion, c=np.arange(len(beta)), cmap="viridis", zorder=2)
    for i, (b, r, d) in enumerate(zip(beta, rate, distortion, strict=True)):
        offset = (6, 4) if i % 2 == 0 else (6, -12)  # alternate, so close neighbours stay legible
        ax.annotate(rf"$\beta$ = {b:g}", (r, d), xytext=offset, textcoords="offset points")
    ax.margins(0.12)
    ax.set_xlabel(r"rate: KL$(q(z|x)\,\|\,p(z))$ (nats)")
    ax.set_ylabel(r"distortion: $-\mathbb{E}_q[\log p(x|z)]$ (nats)")
    return fig
