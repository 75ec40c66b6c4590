"""Curves: the losses per epoch, and distortion against rate over a sweep of beta."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from vaelib.plots import _common

LOSS_KEYS = ("total_loss", "reconstruction_loss", "kl_loss")
LOSS_TITLES = {
    "loss": "loss",
    "total_loss": "total loss",
    "reconstruction_loss": "reconstruction loss",
    "kl_loss": "KL",
}


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

    fig, axes = _common.new_figure(1, len(keys), figsize=(4.2 * len(keys), 3.4))
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


# Candidate places of a point's label, in points from the point: right, then left, above/below.
_LABEL_OFFSETS = [(6, 4), (6, -12), (-8, 4), (-8, -12), (6, 14), (6, -22), (-8, 14), (-8, -22)]


def rate_distortion(rows: Any, ax: Axes | None = None, rate_scale: str = "linear") -> Figure:
    """Plot distortion (reconstruction loss) against rate (KL), one point per beta.

    Points are joined in order of beta and labelled with it; each label takes the first of a
    few places around its point where it overlaps neither an earlier label nor another point.
    Growing beta moves along the curve from high rate and low distortion (codes carry many nats
    about x) towards zero rate, where the decoder ignores z and the reconstruction loss is that
    of the best single image.

    Args:
        rows: a list of dicts with keys `beta`, `reconstruction_loss` and `kl_loss` (per-example
            means in nats), such as `SweepResult.rows`, or an object with such a `.rows`.
        ax: an Axes to draw into, or None for a new figure.
        rate_scale: scale of the rate axis: ``"linear"``, ``"log"`` or ``"symlog"`` (linear
            below 1 nat, logarithmic above: for sweeps whose rates span orders of magnitude).

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
    if rate_scale not in ("linear", "log", "symlog"):
        raise ValueError(
            f"Expected rate_scale 'linear', 'log' or 'symlog'. Received: rate_scale={rate_scale!r}"
        )
    beta, rate, distortion = np.array(sorted(points)).T

    fig, ax = _common.panel(ax, figsize=(6.0, 4.5))
    ax.plot(rate, distortion, color="0.7", zorder=1)
    ax.scatter(rate, distortion, c=np.arange(len(beta)), cmap="viridis", zorder=2)
    if rate_scale == "symlog":
        ax.set_xscale("symlog", linthresh=1.0)
    elif rate_scale == "log":
        ax.set_xscale("log")
    ax.margins(0.12)
    _place_labels(ax, beta, rate, distortion)
    ax.set_xlabel(r"rate: KL$(q(z|x)\,\|\,p(z))$ (nats)")
    ax.set_ylabel(r"distortion: $-\mathbb{E}_q[\log p(x|z)]$ (nats)")
    return fig


def _place_labels(ax: Axes, beta, rate, distortion) -> None:
    """Annotate each point with its beta where the label overlaps no earlier label or point."""
    centres = ax.transData.transform(np.column_stack([rate, distortion]))
    dots = [(x - 4, y - 4, x + 4, y + 4) for x, y in centres]  # markers, in display pixels
    taken: list[tuple[float, float, float, float]] = []
    for i, (b, r, d) in enumerate(zip(beta, rate, distortion, strict=True)):
        text = rf"$\beta$ = {b:g}"
        label, box = None, None
        for dx, dy in _LABEL_OFFSETS:
            if label is not None:
                label.remove()
            align = "left" if dx > 0 else "right"
            label = ax.annotate(text, (r, d), xytext=(dx, dy), textcoords="offset points", ha=align)
            extent = label.get_window_extent()  # the figure's own renderer
            box = (extent.x0, extent.y0, extent.x1, extent.y1)
            others = taken + [dot for j, dot in enumerate(dots) if j != i]
            if not any(_overlap(box, other) for other in others):
                break
        taken.append(box)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
