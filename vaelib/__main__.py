"""The command line: `python -m vaelib data|train|sweep` (also installed as `vaelib`).

Examples:
    python -m vaelib data
    python -m vaelib train --beta 1 --epochs 40 --out model.keras
    python -m vaelib train --data mine.npz --likelihood gaussian --gaussian-variance shared
    python -m vaelib sweep --betas 0 0.02 0.1 0.5 1 2 10 20 --epochs 40 --out results/

``--data`` is ``mnist``, ``fashion_mnist`` or an ``.npz`` file holding ``x_train`` and
``x_test`` (any shape per example: images or rows of features) and optionally integer labels
``y_train`` and ``y_test``.

Bad flag values and unreadable ``--data`` files end with a one-line message and exit status 2;
failures while running (no data, data the likelihood refuses, an unwritable path) end with the
error's message, without a traceback, and exit status 1.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

import vaelib  # noqa: F401  (already loaded; first, so that its quiet import of TensorFlow applies)
from vaelib.cli import DATASETS, build_parser, check_flags
from vaelib.data.npz import DataFileError, first_line, read_npz


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "data":
        check_flags(args)
    try:
        if args.command == "data":
            return _run_data()
        if args.command == "train":
            return _run_train(args)
        return _run_sweep(args)
    except KeyboardInterrupt:
        print("vaelib: interrupted", file=sys.stderr)
        return 130
    except DataFileError as error:
        print(f"vaelib {args.command}: error: argument --data: {error}", file=sys.stderr)
        return 2
    except (OSError, ValueError, RuntimeError, ImportError) as error:
        message = str(error).strip() or type(error).__name__
        print(f"vaelib {args.command}: error: {message}", file=sys.stderr)
        return 1


def _run_data():
    from vaelib import data

    data.fetch_all()
    return 0


# ---------------------------------------------------------------------- data


def _load(args):
    """``((x_train, y_train), (x_test, y_test))``; the labels may be None (npz files only)."""
    if args.data in DATASETS:
        from vaelib import data

        loader = data.load_mnist if args.data == "mnist" else data.load_fashion_mnist
        return loader(num_train=args.num_train, num_test=args.num_test)
    arrays = read_npz(args.data)
    return tuple(
        (arrays[f"x_{split}"][:limit], _head(arrays.get(f"y_{split}"), limit))
        for split, limit in (("train", args.num_train), ("test", args.num_test))
    )


def _head(array, limit):
    return None if array is None else array[:limit]


# ---------------------------------------------------------------------- models


def _likelihood(args):
    """A fresh likelihood (one per model: it is a layer, holding any learned variance)."""
    if args.likelihood != "gaussian":
        return args.likelihood
    from vaelib.likelihoods import Gaussian

    log_var = 0.0 if args.gaussian_log_var is None else args.gaussian_log_var
    return Gaussian(log_var=log_var, variance=args.gaussian_variance or "fixed")


def _build_model(args, input_shape, beta):
    from vaelib.networks import build_mlp_vae

    return build_mlp_vae(
        input_shape=input_shape,
        hidden_units=list(args.hidden_units),
        latent_dim=args.latent_dim,
        likelihood=_likelihood(args),
        beta=beta,
        seed=args.seed,
    )


def _variance_line(model):
    """The learned Gaussian log-variance (its mean, per feature), or None."""
    likelihood = model.likelihood
    if getattr(likelihood, "variance", "fixed") == "fixed" or likelihood.log_var is None:
        return None
    import keras

    value = float(np.mean(keras.ops.convert_to_numpy(likelihood.log_var)))
    label = "log-variance" if likelihood.variance == "shared" else "mean log-variance"
    return f"learned {label} ({likelihood.variance}) {value:.3f}"


def _run_train(args):
    (x_train, _), (x_test, _) = _load(args)
    import keras

    from vaelib.bounds import elbo, importance_weighted_bound
    from vaelib.train import set_seed

    set_seed(args.seed)
    model = _build_model(args, x_train.shape[1:], args.beta)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.learning_rate))
    model.fit(x_train, epochs=args.epochs, batch_size=args.batch_size, verbose=args.verbose)
    folder = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(folder, exist_ok=True)
    model.save(args.out)
    scores = model.evaluate(x_test, batch_size=args.batch_size, verbose=0, return_dict=True)
    reconstruction, kl = float(scores["reconstruction_loss"]), float(scores["kl_loss"])
    print(f"Saved {args.out}")
    lines = [
        ("reconstruction_loss", reconstruction),
        ("kl_loss", kl),
        (f"loss (beta={args.beta:g})", reconstruction + args.beta * kl),
        ("ELBO", np.mean(elbo(model, x_test, seed=args.seed))),
    ]
    if args.iw_k is not None:
        bound = importance_weighted_bound(model, x_test, args.iw_k, seed=args.seed, progress=True)
        lines.append((f"IW bound (k={args.iw_k})", np.mean(bound)))
    for label, value in lines:
        print(f"test {label:<22} {value:10.3f}")
    variance = _variance_line(model)
    if variance:
        print(variance)
    return 0


# ---------------------------------------------------------------------- sweep


def _run_sweep(args):
    (x_train, _), (x_test, y_test) = _load(args)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vaelib import plots
    from vaelib.train import beta_sweep

    os.makedirs(args.out, exist_ok=True)
    result = beta_sweep(
        args.betas,
        x_train,
        x_test,
        epochs=args.epochs,
        batch_size=args.batch_size,
        latent_dim=args.latent_dim,
        hidden_units=list(args.hidden_units),
        learning_rate=args.learning_rate,
        seed=args.seed,
        iw_k=args.iw_k,
        build_model=lambda beta: _build_model(args, x_train.shape[1:], beta),
    )
    result.to_csv(os.path.join(args.out, "results.csv"))
    with open(os.path.join(args.out, "results.md"), "w") as handle:
        handle.write(result.to_markdown())
    if args.save_models:
        names = [f"vae_beta_{beta:g}.keras" for beta in result.models]
        for name, model in zip(names, result.models.values(), strict=True):
            model.save(os.path.join(args.out, name))
        print(f"Saved {len(names)} models to {args.out}: {', '.join(names)}")
    class_names = None
    if args.data == "fashion_mnist":
        from vaelib.data import FASHION_MNIST_CLASSES as class_names
    figures = {"rate_distortion.png": lambda: plots.rate_distortion(result.rows)}
    figures.update(_latent_figures(args, result.models, x_test, y_test, class_names))
    written = 0
    for name, make_figure in figures.items():
        try:
            figure = make_figure()
        except (ValueError, TypeError) as error:
            print(f"Skipped {name}: {first_line(error)}", file=sys.stderr)
            continue
        figure.savefig(os.path.join(args.out, name), dpi=100, bbox_inches="tight")
        plt.close(figure)
        written += 1
    print(result.to_markdown())
    print(f"Wrote results.csv, results.md and {written} figures to {args.out}")
    return 0


def _is_image(shape):
    """Images: (H, W), (H, W, C), or flat with a square number of pixels."""
    return len(shape) >= 2 or math.isqrt(shape[0]) ** 2 == shape[0]


def _latent_figures(args, models, x_test, y_test, class_names):
    """The latent scatter and decoded grid of each model, where they make sense."""
    if args.latent_dim != 2:
        print("Latent and grid figures need --latent-dim 2; skipped.", file=sys.stderr)
        return {}
    scatter, grid = y_test is not None, _is_image(x_test.shape[1:])
    if not scatter:
        print("Latent scatter figures need test labels (y_test); skipped.", file=sys.stderr)
    if not grid:
        shape = x_test.shape[1:]
        print(
            f"Grid figures need images; the data are {shape} per example; skipped.", file=sys.stderr
        )
    figures = {}
    for beta, model in models.items():
        if scatter:
            figures[f"latent_beta{beta:g}.png"] = _latent_figure(model, x_test, y_test, class_names)
        if grid:
            figures[f"grid_beta{beta:g}.png"] = _grid_figure(model, beta)
    return figures


def _latent_figure(model, x_test, y_test, class_names):
    def make():
        from vaelib import plots

        z_mean = np.asarray(model.encode(x_test)[0])
        beta = f"{model.beta:g}"
        return plots.latent_scatter(
            z_mean, y_test, class_names=class_names, reference=True, title=f"beta = {beta}"
        )

    return make


def _grid_figure(model, beta):
    def make():
        from vaelib import plots

        return plots.decoded_grid(model, title=f"beta = {beta:g}")

    return make


if __name__ == "__main__":
    sys.exit(main())
