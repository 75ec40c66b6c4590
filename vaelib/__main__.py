"""The command line: `python -m vaelib data|train|sweep` (also installed as `vaelib`).

Examples:
    python -m vaelib data
    python -m vaelib train --beta 1 --epochs 40 --out model.keras
    python -m vaelib sweep --betas 0 0.02 0.1 0.5 1 2 10 20 --epochs 40 --out results/

Bad flag values end with a one-line message and exit status 2; failures while running (no
data, an unwritable path) end with the error's message, without a traceback, and exit status 1.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

DATASETS = ("mnist", "fashion_mnist")
LIKELIHOODS = ("bernoulli", "gaussian")


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, received {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, received {text!r}")
    return value


def _positive_float(text):
    value = _non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, received {text!r}")
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, received {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, received {text!r}")
    return value


def _non_negative_int(text):
    if text.strip() == "0":
        return 0
    return _positive_int(text)


def _add_model_flags(parser, epochs):
    group = parser.add_argument_group("model and training")
    group.add_argument(
        "--dataset", choices=DATASETS, default="mnist", help="training data (default: mnist)"
    )
    group.add_argument(
        "--num-train",
        type=_positive_int,
        default=None,
        metavar="N",
        help="use only the first N training images (default: all 60000)",
    )
    group.add_argument(
        "--num-test",
        type=_positive_int,
        default=None,
        metavar="N",
        help="use only the first N test images (default: all 10000)",
    )
    group.add_argument(
        "--epochs", type=_positive_int, default=epochs, help=f"training epochs (default: {epochs})"
    )
    group.add_argument(
        "--batch-size", type=_positive_int, default=128, help="examples per step (default: 128)"
    )
    group.add_argument(
        "--latent-dim", type=_positive_int, default=2, help="size of the latent code (default: 2)"
    )
    group.add_argument(
        "--hidden-units",
        type=_positive_int,
        default=512,
        help="width of the MLP hidden layer (default: 512)",
    )
    group.add_argument(
        "--learning-rate", type=_positive_float, default=1e-3, help="Adam step size (default: 1e-3)"
    )
    group.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default: 0)")
    group.add_argument(
        "--iw-k",
        type=_positive_int,
        default=None,
        metavar="K",
        help="also report the importance-weighted bound with K samples (default: off)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m vaelib`."""
    parser = argparse.ArgumentParser(
        prog="vaelib", description="Train and evaluate variational autoencoders on MNIST."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser(
        "data",
        help="download MNIST and Fashion-MNIST into the cache",
        description="Download and verify MNIST and Fashion-MNIST into the local cache.",
    )

    train = commands.add_parser(
        "train",
        help="train one VAE and save it",
        description="Train one MLP VAE, save it as a .keras file and print its test metrics.",
    )
    train.add_argument(
        "--beta",
        type=_non_negative_float,
        default=1.0,
        help="weight of the KL term, >= 0 (default: 1)",
    )
    train.add_argument(
        "--likelihood",
        choices=LIKELIHOODS,
        default="bernoulli",
        help="decoder distribution (default: bernoulli)",
    )
    _add_model_flags(train, epochs=40)
    train.add_argument(
        "--out", default="model.keras", help="path of the saved model (default: model.keras)"
    )
    train.add_argument(
        "--verbose", type=int, choices=(0, 1, 2), default=2, help="Keras fit verbosity (default: 2)"
    )

    sweep = commands.add_parser(
        "sweep",
        help="train one VAE per beta and write a table and figures",
        description=(
            "Train one fresh MLP VAE per beta, then write results.csv, results.md, "
            "latent_beta{b}.png, grid_beta{b}.png and rate_distortion.png."
        ),
    )
    sweep.add_argument(
        "--betas",
        type=_non_negative_float,
        nargs="+",
        default=[0.0, 0.02, 0.1, 0.5, 1.0, 2.0, 10.0, 20.0],
        metavar="BETA",
        help="weights of the KL term, each >= 0 (default: 0 0.02 0.1 0.5 1 2 10 20)",
    )
    _add_model_flags(sweep, epochs=40)
    sweep.add_argument(
        "--out", default="results", help="output folder, created if needed (default: results/)"
    )
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "sweep" and len(set(args.betas)) != len(args.betas):
        parser.error("argument --betas: expected different values")
    if args.command == "train" and not args.out.endswith(".keras"):
        parser.error(f"argument --out: expected a path ending in .keras, received {args.out!r}")
    try:
        if args.command == "data":
            return _run_data()
        if args.command == "train":
            return _run_train(args)
        return _run_sweep(args)
    except KeyboardInterrupt:
        print("vaelib: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError, RuntimeError, ImportError) as error:
        message = str(error).strip() or type(error).__name__
        print(f"vaelib {args.command}: error: {message}", file=sys.stderr)
        return 1


def _run_data():
    from vaelib import data

    data.fetch_all()
    return 0


def _load(args):
    from vaelib import data

    loader = data.load_mnist if args.dataset == "mnist" else data.load_fashion_mnist
    return loader(num_train=args.num_train, num_test=args.num_test)


def _run_train(args):
    import keras
    import numpy as np

    from vaelib.metrics import elbo, importance_weighted_bound
    from vaelib.models import build_mlp_vae
    from vaelib.train import set_seed

    (x_train, _), (x_test, _) = _load(args)
    set_seed(args.seed)
    model = build_mlp_vae(
        input_shape=x_train.shape[1:],
        hidden_units=args.hidden_units,
        latent_dim=args.latent_dim,
        beta=args.beta,
        likelihood=args.likelihood,
        seed=args.seed,
    )
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
    return 0


def _run_sweep(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vaelib import plots
    from vaelib.train import beta_sweep

    (x_train, _), (x_test, y_test) = _load(args)
    os.makedirs(args.out, exist_ok=True)
    result = beta_sweep(
        args.betas,
        x_train,
        x_test,
        epochs=args.epochs,
        batch_size=args.batch_size,
        latent_dim=args.latent_dim,
        hidden_units=args.hidden_units,
        learning_rate=args.learning_rate,
        seed=args.seed,
        iw_k=args.iw_k,
    )
    result.to_csv(os.path.join(args.out, "results.csv"))
    with open(os.path.join(args.out, "results.md"), "w") as handle:
        handle.write(result.to_markdown())
    class_names = None
    if args.dataset == "fashion_mnist":
        from vaelib.data import FASHION_MNIST_CLASSES as class_names
    figures = {"rate_distortion.png": lambda: plots.rate_distortion(result.rows)}
    if args.latent_dim == 2:
        for beta, model in result.models.items():
            figures[f"latent_beta{beta:g}.png"] = _latent_figure(model, x_test, y_test, class_names)
            figures[f"grid_beta{beta:g}.png"] = _grid_figure(model, beta)
    else:
        print("Latent and grid figures need --latent-dim 2; skipped.", file=sys.stderr)
    for name, make_figure in figures.items():
        figure = make_figure()
        figure.savefig(os.path.join(args.out, name), dpi=100, bbox_inches="tight")
        plt.close(figure)
    print(result.to_markdown())
    print(f"Wrote results.csv, results.md and {len(figures)} figures to {args.out}")
    return 0


def _latent_figure(model, x_test, y_test, class_names):
    def make():
        import keras

        from vaelib import plots

        z_mean = keras.ops.convert_to_numpy(model.encode(x_test)[0])
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
