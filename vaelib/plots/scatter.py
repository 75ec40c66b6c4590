"""Scatter plots of latent codes, coloured by label, beside samples of the prior."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from vaelib.plots import _common


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
        labels: integer labels, shape `(n,)`, or None for one neutral grey (the colour of the
            prior's samples, so unlabelled codes are never mistaken for a class).
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
    num_reference = _common.check_int(num_reference, "num_reference")

    if reference:
        if ax is None:
            fig, axes = _common.new_figure(1, 2, figsize=(11.0, 5.0))
        elif isinstance(ax, Sequence) and len(ax) == 2 and all(isinstance(a, Axes) for a in ax):
            axes, fig = list(ax), _common.root_figure(ax[0])
        else:
            raise ValueError(
                "Expected ax to be a pair of Axes (or None) when reference=True. "
                f"Received: ax={ax!r}"
            )
        scatter_ax, reference_ax = axes
    else:
        fig, scatter_ax = _common.panel(ax, figsize=(6.5, 5.0))
        reference_ax = None

    size = 3.0 if len(z) > 2000 else 10.0
    style = {"s": size, "alpha": 0.6, "linewidths": 0, "rasterized": True}
    handles = []
    if labels is None:
        colours = "0.35"  # neutral grey, the prior's colour: no class colour for unlabelled codes
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
