"""Is this VAE broken? Dead hidden units, posterior collapse, flat loss logs, prior coverage.

Each function answers one question about a trained (or untrained) model on data, in numbers a
chapter can print and a test can check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from vaelib import _checks, inputs
from vaelib.bounds import count_active_units
from vaelib.losses import kl_standard_normal


def _layer_outputs(model, x, layer, part, batch_size):
    """The outputs of one layer of the encoder (or decoder) on ``x``, as (n, units) batches."""
    part = _checks.check_one_of("part", part, ("encoder", "decoder"))
    network = getattr(model, part)
    try:
        output = network.get_layer(layer).output
    except ValueError:
        names = [item.name for item in network.layers]
        raise ValueError(
            f"Expected layer to name a layer of the {part}. Received: layer={layer!r} "
            f"(layers: {names})"
        ) from None
    probe = keras.Model(network.inputs[0], output)
    for batch in inputs.batches(x, batch_size):
        values = keras.ops.convert_to_numpy(probe(batch, training=False))
        yield values.reshape(len(values), -1)


def unit_activity(model, x, layer="hidden", part="encoder", batch_size=500) -> np.ndarray:
    """For each unit of a layer, the fraction of examples on which its output is above 0.

    Args:
        model: a `VAE`.
        x: data (an array, a dataset...).
        layer: name of the layer in the encoder (or decoder) whose outputs are read.
        part: ``"encoder"`` or ``"decoder"``; for the decoder, ``x`` holds codes z.
        batch_size: rows per step, for arrays.

    Returns:
        Array of shape ``(units,)`` with values in [0, 1]. For a ReLU layer, 0 means the unit
        never fires; for other activations a negative output is no sign of death.
    """
    fired, count = 0.0, 0
    for values in _layer_outputs(model, x, layer, part, batch_size):
        fired = fired + np.sum(values > 0, axis=0)
        count += len(values)
    return np.asarray(fired, dtype="float64") / count


def dead_units(model, x, layer="hidden", part="encoder", batch_size=500, rtol=1e-6) -> int:
    """Number of units of a layer whose output does not change over the examples of ``x``.

    A unit whose output is the same for every input carries nothing about the input. For ReLU
    this is the unit that never fires (its input is negative for every example, so its output
    is 0 and its gradient too: it stays dead). A linear or LeakyReLU unit is not dead merely for
    being negative; it is dead only if its output is constant.

    Args:
        rtol: a unit counts as constant when its range over ``x`` is at most ``rtol`` times the
            largest range in the layer (exactly 0 for a ReLU unit that never fires).

    Example:
        >>> dead_units(model, x_test)  # doctest: +SKIP
        12
    """
    rtol = _checks.check_float("rtol", rtol, minimum=0.0)
    low = high = None
    for values in _layer_outputs(model, x, layer, part, batch_size):
        low = values.min(axis=0) if low is None else np.minimum(low, values.min(axis=0))
        high = values.max(axis=0) if high is None else np.maximum(high, values.max(axis=0))
    spread = high - low
    return int(np.sum(spread <= rtol * max(float(spread.max()), 1e-30)))


@dataclass(frozen=True)
class CollapseReport:
    """What `collapse_report` measured.

    Attributes:
        kl: mean KL(q(z|x) || p(z)) over the data, in nats.
        active_units: latent dimensions whose posterior mean varies with x (variance > 0.01).
        output_spread: mean over pixels of the standard deviation over examples of the
            decoder's mean output: near 0 when every input is decoded to the same image.
        collapsed: True when the model ignores its input: no active unit and a KL below
            ``kl_tolerance``, or a decoder output that does not vary.
    """

    kl: float
    active_units: int
    output_spread: float
    collapsed: bool


def collapse_report(model, x, kl_tolerance=0.1, spread_tolerance=1e-3, batch_size=500):
    """Check whether a trained VAE has collapsed: codes that carry nothing, or a constant output.

    Returns:
        A `CollapseReport`.
    """
    kl_tolerance = _checks.check_float("kl_tolerance", kl_tolerance, minimum=0.0)
    spread_tolerance = _checks.check_float("spread_tolerance", spread_tolerance, minimum=0.0)
    z_mean, z_log_var = model.encode(x, batch_size=batch_size)
    kl = keras.ops.convert_to_numpy(kl_standard_normal(z_mean, z_log_var))
    active = count_active_units(z_mean)
    decoded = model.decode(z_mean, batch_size=batch_size)
    spread = float(np.mean(np.std(decoded.reshape(len(decoded), -1), axis=0)))
    collapsed = (active == 0 and float(kl.mean()) < kl_tolerance) or spread < spread_tolerance
    return CollapseReport(float(kl.mean()), active, spread, bool(collapsed))


def loss_is_flat(values, last=3, rtol=1e-3) -> bool:
    """True when the last ``last`` values of a loss log agree within a relative ``rtol``.

    A loss that stops moving after an epoch or two, long before a healthy model would, is the
    sign of a collapsed model (e.g. a decoder stuck at 0.5 on every pixel: 784 log 2 = 543.4
    nats per MNIST image).

    Example:
        >>> loss_is_flat([634.5, 537.6, 537.6, 537.6])
        True
        >>> loss_is_flat([300.0, 280.0, 270.0, 265.0])
        False
    """
    last = _checks.check_int("last", last, minimum=2)
    rtol = _checks.check_float("rtol", rtol, minimum=0.0)
    values = np.asarray(values, dtype="float64")
    if values.ndim != 1 or len(values) < last or not np.all(np.isfinite(values)):
        raise ValueError(
            f"Expected at least {last} finite loss values. Received: values={values.tolist()}"
        )
    tail = values[-last:]
    return bool(np.ptp(tail) <= rtol * max(abs(float(np.mean(tail))), 1e-12))


def prior_coverage(model, x, num_draws=5000, radius=2.0, seed=0, batch_size=500) -> float:
    """Fraction of draws from the prior N(0, I) within ``radius`` posterior standard deviations
    of the posterior mean of some example of ``x``.

    A draw z is covered when, for some example, ``|z_j - mu_j| <= radius * sigma_j`` in every
    latent dimension j. A low value means large regions of the prior decode to something no
    data was encoded near (the completeness of chapter 2).

    Returns:
        A float in [0, 1].
    """
    num_draws = _checks.check_positive_int("num_draws", num_draws)
    radius = _checks.check_float("radius", radius, minimum=0.0, strict=True)
    z_mean, z_log_var = model.encode(x, batch_size=batch_size)
    sigma = np.exp(0.5 * z_log_var)
    draws = np.random.default_rng(_checks.check_seed(seed)).standard_normal(
        (num_draws, z_mean.shape[1])
    )
    covered = np.zeros(num_draws, dtype=bool)
    rows = max(1, 2_000_000 // max(len(z_mean) * z_mean.shape[1], 1))
    for start in range(0, num_draws, rows):
        chunk = draws[start : start + rows, None, :]
        inside = np.all(np.abs(chunk - z_mean[None]) <= radius * sigma[None], axis=-1)
        covered[start : start + rows] = inside.any(axis=1)
    return float(covered.mean())


def constant_output_loss(num_values: int) -> float:
    """The Bernoulli loss of a decoder that outputs 0.5 everywhere: ``num_values * log 2``."""
    return _checks.check_positive_int("num_values", num_values) * math.log(2.0)
