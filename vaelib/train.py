"""Training helpers: reproducible seeds and beta sweeps (warm-up schedules: `vaelib.callbacks`).

`beta_sweep` is the experiment of chapter 4: one fresh VAE per value of beta, trained on the
same data with the same seed, then evaluated on held-out data. Every loss it reports is per
example (summed over pixels and latent dimensions) and averaged over the test set.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
from tqdm import tqdm

from vaelib import _checks, inputs
from vaelib.bounds import importance_weighted_bound
from vaelib.networks import build_mlp_vae


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and Keras (and make TensorFlow's kernels deterministic).

    With the TensorFlow backend this also calls
    `tf.config.experimental.enable_op_determinism()`, so that two runs with the same seed give
    the same numbers on a CPU. The setting stays on for the rest of the process.

    Args:
        seed: non-negative integer.

    Example:
        >>> set_seed(0)
    """
    keras.utils.set_random_seed(_checks.check_int("seed", seed, minimum=0))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # only on the TensorFlow backend, where it is installed

        tf.config.experimental.enable_op_determinism()


@dataclass
class SweepResult:
    """What `beta_sweep` returns.

    Attributes:
        rows: one dict per beta with keys `beta`, `test_loss` (reconstruction + beta * KL),
            `reconstruction_loss`, `kl_loss` (and `iw_bound` when requested), all in nats per
            example averaged over the test set.
        models: beta -> trained VAE.
        histories: beta -> `history.history` of its `fit` (dict of per-epoch lists).
    """

    rows: list[dict] = field(default_factory=list)
    models: dict = field(default_factory=dict)
    histories: dict = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """Column names of the table, in order."""
        return list(self.rows[0]) if self.rows else []

    def to_markdown(self, digits: int = 2) -> str:
        """The table as GitHub-flavoured Markdown, losses rounded to `digits` decimals."""
        columns = self.columns
        lines = ["| " + " | ".join(columns) + " |", "|" + "---:|" * len(columns)]
        for row in self.rows:
            cells = [f"{row['beta']:g}"] + [f"{row[c]:.{digits}f}" for c in columns[1:]]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def to_csv(self, path: str | os.PathLike) -> str:
        """Write the table to a CSV file (full precision) and return its path."""
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(self.rows)
        return os.fspath(path)


def beta_sweep(
    betas: Sequence[float],
    x_train: np.ndarray,
    x_test: np.ndarray,
    *,
    epochs: int = 40,
    batch_size: int = 128,
    latent_dim: int = 2,
    hidden_units: int = 512,
    learning_rate: float = 1e-3,
    seed: int = 0,
    iw_k: int | None = None,
    build_model: Callable[[float], keras.Model] | None = None,
    progress: bool = True,
    verbose: int = 0,
) -> SweepResult:
    """Train one fresh VAE per beta and evaluate each on test data.

    For every beta the seeds are reset with `set_seed(seed)` before the model is built, so each
    run is reproducible on its own and all runs start from the same initial weights. Each model
    is trained with Adam on the loss reconstruction + beta * KL.

    Args:
        betas: weights of the KL term, each finite and >= 0, all different.
        x_train: training images, shape `(n, *image_shape)`, values in [0, 1].
        x_test: test images, shape `(m, *image_shape)`.
        epochs: training epochs per model.
        batch_size: examples per gradient step.
        latent_dim: size of the latent code (default builder only).
        hidden_units: width of the MLP's hidden layer (default builder only).
        learning_rate: Adam's learning rate.
        seed: seed reset before each model is built.
        iw_k: if given, also report the mean importance-weighted bound with `k=iw_k` samples.
        build_model: optional callable `beta -> VAE` (uncompiled); by default
            `build_mlp_vae(input_shape=x_train.shape[1:], hidden_units, latent_dim, beta, seed)`.
        progress: show a progress bar over the betas.
        verbose: verbosity of `fit`.

    Returns:
        A `SweepResult` with one row per beta, in the order given.

    Example:
        >>> result = beta_sweep([0.0, 1.0], x_train, x_test, epochs=5)  # doctest: +SKIP
        >>> print(result.to_markdown())  # doctest: +SKIP
    """
    betas = _check_betas(betas)
    x_train = _check_images("x_train", x_train)
    x_test = _check_images("x_test", x_test)
    epochs = _checks.check_positive_int("epochs", epochs)
    batch_size = _checks.check_positive_int("batch_size", batch_size)
    learning_rate = _checks.check_float("learning_rate", learning_rate, minimum=0.0, strict=True)
    if iw_k is not None:
        iw_k = _checks.check_positive_int("iw_k", iw_k)
    if build_model is None:

        def build_model(beta):
            return build_mlp_vae(
                input_shape=x_train.shape[1:],
                hidden_units=hidden_units,
                latent_dim=latent_dim,
                beta=beta,
                seed=seed,
            )

    result = SweepResult()
    bar = tqdm(betas, desc="beta sweep", unit="model", disable=not progress)
    for beta in bar:
        bar.set_postfix(beta=f"{beta:g}")
        set_seed(seed)
        model = build_model(beta)
        model.beta = beta
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate))
        history = model.fit(
            x_train,
            epochs=epochs,
            batch_size=batch_size,
            verbose=verbose,
            callbacks=[_PostfixLogger(bar, beta)] if progress else [],
        )
        result.rows.append(_evaluate(model, x_test, beta, batch_size, iw_k, seed))
        result.models[beta] = model
        result.histories[beta] = {key: list(values) for key, values in history.history.items()}
        bar.set_postfix(beta=f"{beta:g}", test_loss=f"{result.rows[-1]['test_loss']:.2f}")
    bar.close()
    return result


def _evaluate(model, x_test, beta, batch_size, iw_k, seed):
    scores = model.evaluate(x_test, batch_size=batch_size, verbose=0, return_dict=True)
    reconstruction = float(scores["reconstruction_loss"])
    kl = float(scores["kl_loss"])
    row = {
        "beta": beta,
        "test_loss": reconstruction + beta * kl,
        "reconstruction_loss": reconstruction,
        "kl_loss": kl,
    }
    if iw_k is not None:
        row["iw_bound"] = float(np.mean(importance_weighted_bound(model, x_test, iw_k, seed=seed)))
    return row


class _PostfixLogger(keras.callbacks.Callback):
    """Show the epoch and the last training loss in the sweep's progress bar."""

    def __init__(self, bar, beta):
        super().__init__()
        self.bar = bar
        self.beta = beta

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("total_loss", (logs or {}).get("loss", float("nan")))
        total = (self.params or {}).get("epochs", "?")
        self.bar.set_postfix(
            beta=f"{self.beta:g}", epoch=f"{epoch + 1}/{total}", loss=f"{loss:.2f}"
        )


def _check_betas(betas):
    if isinstance(betas, str | bytes) or not isinstance(betas, Sequence | np.ndarray):
        raise ValueError(f"Expected betas to be a sequence of numbers. Received: betas={betas!r}")
    if len(betas) == 0:
        raise ValueError("Expected at least one beta. Received: betas=[]")
    values = [_checks.check_beta(beta) for beta in betas]
    if len(set(values)) != len(values):
        raise ValueError(f"Expected all betas to be different. Received: betas={list(betas)}")
    return values


def _check_images(name, x):
    if not inputs.is_array(x):
        raise ValueError(
            f"Expected {name} to be an array (n, *data_shape). Received: {type(x).__name__}"
        )
    x = np.asarray(inputs.to_numpy(x), dtype="float32")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(
            f"Expected {name} to be a non-empty batch of examples. Received: {name}.shape={x.shape}"
        )
    return x
