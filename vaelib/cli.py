"""The command line's flags: the parser of ``python -m vaelib`` and its value types."""

from __future__ import annotations

import argparse
import math

DATASETS = ("mnist", "fashion_mnist")
LIKELIHOODS = ("bernoulli", "continuous_bernoulli", "gaussian")
VARIANCES = ("fixed", "shared", "per_feature")


def _float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, received {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, received {text!r}")
    return value


def _non_negative_float(text):
    value = _float(text)
    if value < 0:
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
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data",
        default="mnist",
        metavar="SOURCE",
        help="mnist, fashion_mnist, or an .npz file with arrays x_train, x_test and optional "
        "integer labels y_train, y_test (default: mnist)",
    )
    for split, name in (("train", "training"), ("test", "test")):
        group.add_argument(
            f"--num-{split}",
            type=_positive_int,
            default=None,
            metavar="N",
            help=f"use only the first N {name} examples (default: all)",
        )
    group = parser.add_argument_group("model and training")
    group.add_argument(
        "--likelihood",
        choices=LIKELIHOODS,
        default="bernoulli",
        help="decoder distribution; bernoulli and continuous_bernoulli need data in [0, 1] "
        "(default: bernoulli)",
    )
    group.add_argument(
        "--gaussian-variance",
        choices=VARIANCES,
        default=None,
        help="gaussian only: a fixed variance, one learned variance, or one per feature "
        "(default: fixed)",
    )
    group.add_argument(
        "--gaussian-log-var",
        type=_float,
        default=None,
        metavar="LOG_VAR",
        help="gaussian only: the log-variance, or its initial value when learned (default: 0)",
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
        nargs="+",
        default=[512],
        metavar="UNITS",
        help="widths of the MLP encoder's hidden layers, e.g. 256 128; the decoder mirrors "
        "them (default: 512)",
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
        prog="vaelib",
        description="Train and evaluate variational autoencoders on MNIST, Fashion-MNIST or "
        "your own arrays (.npz).",
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
            "rate_distortion.png and, with a 2-D latent space, latent_beta{b}.png (when there "
            "are test labels) and grid_beta{b}.png (when the data are images)."
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
    sweep.add_argument(
        "--save-models",
        action="store_true",
        help="also save each model as vae_beta_{b}.keras in the output folder (default: off)",
    )
    for subparser in (train, sweep):
        subparser.set_defaults(_parser=subparser)
    return parser


def check_flags(args):
    """Rules that involve several flags; the subcommand's parser reports a breach."""
    error = args._parser.error
    if args.command == "sweep" and len(set(args.betas)) != len(args.betas):
        error("argument --betas: expected different values")
    if args.command == "train" and not args.out.endswith(".keras"):
        error(f"argument --out: expected a path ending in .keras, received {args.out!r}")
    if args.likelihood != "gaussian":
        for flag in ("gaussian_variance", "gaussian_log_var"):
            if getattr(args, flag) is not None:
                name = "--" + flag.replace("_", "-")
                error(
                    f"argument {name}: only with --likelihood gaussian (received {args.likelihood})"
                )
