"""Keras callbacks for VAEs: KL warm-up schedules and a stop on a non-finite loss."""

from __future__ import annotations

import math

import keras

from vaelib import _checks

SCHEDULES = ("linear", "cyclical")


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
    _checks.check_int("warmup_epochs", warmup_epochs, minimum=0)
    _checks.check_one_of("schedule", schedule, SCHEDULES)
    _checks.check_float("max_beta", max_beta, minimum=0.0)
    _checks.check_positive_int("num_cycles", num_cycles)


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss; the message names the batch and likely causes."""


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stop `fit` at the first batch whose loss is NaN or infinite, with an error that says why.

    `vaelib.VAE.fit` adds this callback unless one is already given. Keras's own
    ``TerminateOnNaN`` stops quietly; this one raises `NonFiniteLossError`, naming the epoch,
    the batch and the likely causes, so that a notebook does not carry on with a broken model.
    """

    def __init__(self, monitor="total_loss"):
        super().__init__()
        self.monitor = monitor
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        value = float(value)
        if not math.isfinite(value):
            raise NonFiniteLossError(
                f"{self.monitor} became {value} at epoch {self._epoch + 1}, batch {batch + 1}; "
                "training stopped. Likely causes: data far from the scale the networks expect "
                "(images of 0-255: divide by 255; tabular data: standardise each feature), "
                "NaN or infinite values in the data, or too high a learning rate (try 1e-4)."
            )
