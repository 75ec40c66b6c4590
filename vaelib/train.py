"""Training helpers: reproducible seeds, KL warm-up schedules and beta sweeps.

`beta_sweep` is the experiment of chapter 4: one fresh VAE per value of beta, trained on the
same data with the same seed, then evaluated on held-out data. Every loss it reports is per
example (summed over pixels and latent dimensions) and averaged over the test set.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real

import keras
import numpy as np
from tqdm import tqdm

SCHEDULES = ("linear", "cyclical")


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
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"Expected seed to be an integer >= 0. Received: seed={seed!r}")
    keras.utils.set_random_seed(int(seed))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def warmup_beta(
    epoch: float,
    warmup_epochs: int,
    *,
    schedule: str = "linear",
    max_beta: float = 1.0,
    num_cycles: int = 4,
    total_epochs: int | None = None,
) -> float:
    """The value of beta at a (0-based, possibly fractional) epoch of a warm-up schedule.

    - `"linear"`: beta rises linearly from 0 at epoch 0 to `max_beta` at epoch
      `warmup_epochs`, then stays at `max_beta`.
    - `"cyclical"` (Fu et al., 2019): the `total_epochs` of training are cut into `num_cycles`
      cycles of equal length; in each cycle beta rises linearly from 0 to `max_beta` over the
      first `warmup_epochs` epochs of the cycle, then stays at `max_beta` until the cycle ends.

    Args:
        epoch: epoch index, starting at 0.
        warmup_epochs: epochs taken by one rise from 0 to `max_beta` (0 means no rise).
        schedule: `"linear"` or `"cyclical"`.
        max_beta: the value reached at the end of a rise.
        num_cycles: number of cycles (cyclical schedule only).
        total_epochs: length of training (required by the cyclical schedule).

    Returns:
        beta, a float in `[0, max_beta]`.

    Example:
        >>> warmup_beta(5, 10)
        0.5
    """
    _check_schedule(warmup_epochs, schedule, max_beta, num_cycles)
    if schedule == "linear":
        position = epoch
    else:
        if total_epochs is None or total_epochs < 1:
            raise ValueError(
                "Expected total_epochs >= 1 for the cyclical schedule. "
                f"Received: total_epochs={total_epochs}"
            )
        cycle_length = total_epochs / num_cycles
        position = epoch - cycle_length * math.floor(epoch / cycle_length)
    if warmup_epochs == 0:
        return float(max_beta)
    return float(max_beta) * min(1.0, max(0.0, position / warmup_epochs))


class KLWarmup(keras.callbacks.Callback):
    """Anneal the weight `beta` of the KL term while a VAE trains (Bowman et al., 2016).

    At the start of each epoch the callback sets `model.beta` to the value of the schedule (see
    `warmup_beta`) and at the end of the epoch it adds that value to the logs, so that
    `history.history["beta"]` records it.

    By default beta changes once per epoch. With `per_batch=True` it follows the schedule at
    fractional epochs, `epoch + batch / steps_per_epoch`, and is assigned before every step. On
    the JAX backend, where `fit` keeps the model's variables in its own state during an epoch,
    each assignment writes that state back first (see `VAE.beta`), which costs a little time per
    step; the epoch-level default avoids it.

    Args:
        warmup_epochs: epochs taken by one rise of beta from 0 to `max_beta`.
        schedule: `"linear"` (one rise, then flat) or `"cyclical"` (`num_cycles` rises spread
            evenly over the whole training, each followed by a flat stretch).
        max_beta: the value beta rises to.
        num_cycles: number of cycles for the cyclical schedule.
        per_batch: update beta before every batch instead of every epoch.

    Example:
        >>> warmup = KLWarmup(warmup_epochs=10)
        >>> model.fit(x_train, epochs=40, callbacks=[warmup])  # doctest: +SKIP
    """

    def __init__(
        self, warmup_epochs, schedule="linear", max_beta=1.0, num_cycles=4, per_batch=False
    ):
        super().__init__()
        _check_schedule(warmup_epochs, schedule, max_beta, num_cycles)
        self.warmup_epochs = int(warmup_epochs)
        self.schedule = schedule
        self.max_beta = float(max_beta)
        self.num_cycles = int(num_cycles)
        self.per_batch = bool(per_batch)
        self.total_epochs = None
        self.steps_per_epoch = None
        self._epoch = 0
        self.current_beta = None

    def beta_at(self, epoch: float) -> float:
        """The value of beta at a (0-based) epoch."""
        return warmup_beta(
            epoch,
            self.warmup_epochs,
            schedule=self.schedule,
            max_beta=self.max_beta,
            num_cycles=self.num_cycles,
            total_epochs=self.total_epochs,
        )

    def on_train_begin(self, logs=None):
        self.total_epochs = (self.params or {}).get("epochs")
        self.steps_per_epoch = (self.params or {}).get("steps")
        self.current_beta = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._set_beta(self.beta_at(epoch))

    def on_train_batch_begin(self, batch, logs=None):
        if self.per_batch and self.steps_per_epoch and batch > 0:
            self._set_beta(self.beta_at(self._epoch + batch / self.steps_per_epoch))

    def _set_beta(self, beta):
        if beta != self.current_beta:
            self.model.beta = beta
        self.current_beta = beta

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["beta"] = self.current_beta


def _check_schedule(warmup_epochs, schedule, max_beta, num_cycles):
    if isinstance(warmup_epochs, bool) or not isinstance(warmup_epochs, Integral):
        raise ValueError(
            f"Expected warmup_epochs to be an integer. Received: warmup_epochs={warmup_epochs!r}"
        )
    if warmup_epochs < 0:
        raise ValueError(f"Expected warmup_epochs >= 0. Received: warmup_epochs={warmup_epochs}")
    if schedule not in SCHEDULES:
        raise ValueError(f"Expected schedule in {SCHEDULES}. Received: schedule={schedule!r}")
    if not isinstance(max_beta, Real) or not math.isfinite(max_beta) or max_beta < 0:
        raise ValueError(f"Expected max_beta >= 0 and finite. Received: max_beta={max_beta!r}")
    if isinstance(num_cycles, bool) or not isinstance(num_cycles, Integral) or num_cycles < 1:
        raise ValueError(
            f"Expected num_cycles to be an integer >= 1. Received: num_cycles={num_cycles!r}"
        )


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
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise ValueError(f"Expected {name} to be an integer >= 1. Received: {name}={value!r}")
    if not isinstance(learning_rate, Real) or not learning_rate > 0:
        raise ValueError(f"Expected learning_rate > 0. Received: learning_rate={learning_rate!r}")
    if iw_k is not None and (isinstance(iw_k, bool) or not isinstance(iw_k, Integral) or iw_k < 1):
        raise ValueError(f"Expected iw_k to be None or an integer >= 1. Received: iw_k={iw_k!r}")
    if build_model is None:
        from vaelib.models import build_mlp_vae

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
        from vaelib.metrics import importance_weighted_bound

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
    if isinstance(betas, (str, bytes)) or not isinstance(betas, Sequence | np.ndarray):
        raise ValueError(f"Expected betas to be a sequence of numbers. Received: betas={betas!r}")
    if len(betas) == 0:
        raise ValueError("Expected at least one beta. Received: betas=[]")
    values = []
    for beta in betas:
        if isinstance(beta, bool) or not isinstance(beta, Real) or not math.isfinite(beta):
            raise ValueError(f"Expected every beta to be a finite number. Received: beta={beta!r}")
        if beta < 0:
            raise ValueError(f"Expected beta >= 0. Received: beta={beta}")
        values.append(float(beta))
    if len(set(values)) != len(values):
        raise ValueError(f"Expected all betas to be different. Received: betas={list(betas)}")
    return values


def _check_images(name, x):
    x = np.asarray(x, dtype="float32")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(
            f"Expected {name} to be a non-empty batch of images. Received: {name}.shape={x.shape}"
        )
    return x
