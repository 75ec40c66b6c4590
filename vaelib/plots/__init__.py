"""Figures for VAEs: images, latent spaces, paths through them, and training curves.

Every function returns a `matplotlib.figure.Figure` and never calls `plt.show()`. Functions that
draw one panel take `ax=None`: given an Axes they draw into it and return its figure, otherwise
they make a new figure. New figures are detached from pyplot's list of open figures, so a notebook
shows each exactly once (leave it as the cell's last expression, or call `display(fig)`), and a
loop that makes many of them does not pile up open figures. Save one with `fig.savefig(path)`.

Images may be grey, `(n, h, w)` or `(n, h, w, 1)`, shown in grey levels; RGB, `(n, h, w, 3)`,
shown in colour; or flat, `(n, h * w)` for square grey images, or `(n, d)` with an
`image_shape=` argument. Values are clipped to [0, 1].

The functions that take a model use only `model.encode(x) -> (z_mean, z_log_var)`,
`model.decode(z) -> images` (the decoder's mean, in [0, 1]) and `model.latent_dim`, so any
object that has them works.

Modules: `images` (image_grid, reconstructions, prior_samples), `scatter` (latent_scatter),
`grid` (decoded_grid), `paths` (latent_traversal, interpolation_path, interpolation), `curves`
(training_curves, rate_distortion); `_common` holds the shared helpers.
"""

from vaelib.plots.curves import rate_distortion, training_curves
from vaelib.plots.grid import decoded_grid
from vaelib.plots.images import image_grid, prior_samples, reconstructions
from vaelib.plots.paths import interpolation, interpolation_path, latent_traversal
from vaelib.plots.scatter import latent_scatter

__all__ = [
    "decoded_grid",
    "image_grid",
    "interpolation",
    "interpolation_path",
    "latent_scatter",
    "latent_traversal",
    "prior_samples",
    "rate_distortion",
    "reconstructions",
    "training_curves",
]
