"""Argument and data validation: each rule written once, with one wording.

Every message reads ``Expected <what was expected>. Received: <name>=<value>``, as in Keras.
The functions return the validated value in its canonical Python type (``int``, ``float``,
``tuple``), so callers store what the check returns.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral | np.integer) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real | np.floating | np.integer) and not isinstance(
        value, bool
    )


def check_int(name: str, value, minimum: int = 1) -> int:
    """An int >= ``minimum`` (bools and floats are refused)."""
    if not _is_int(value) or value < minimum:
        raise ValueError(f"Expected {name} >= {minimum} (an int). Received: {name}={value!r}")
    return int(value)


def check_positive_int(name: str, value) -> int:
    """An int >= 1."""
    return check_int(name, value, minimum=1)


def check_float(name: str, value, minimum: float | None = None, strict: bool = False) -> float:
    """A finite real number (not a string or bool), optionally >= or > ``minimum``.

    0-d NumPy arrays and scalar tensors are accepted; strings are refused.
    """
    if not _is_real(value):
        shape = getattr(value, "shape", None)
        if shape is None or tuple(shape) != () or isinstance(value, str | bytes):
            raise ValueError(f"Expected {name} to be a number. Received: {name}={value!r}")
        value = np.asarray(value)
        if not np.issubdtype(value.dtype, np.number) or np.issubdtype(
            value.dtype, np.complexfloating
        ):
            raise ValueError(f"Expected {name} to be a number. Received: {name}={value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"Expected {name} to be finite. Received: {name}={value!r}")
    if minimum is not None:
        if strict and not result > minimum:
            raise ValueError(f"Expected {name} > {minimum:g}. Received: {name}={value!r}")
        if not strict and result < minimum:
            raise ValueError(f"Expected {name} >= {minimum:g}. Received: {name}={value!r}")
    return result


def check_beta(beta) -> float:
    """The weight of the KL term: a finite number >= 0."""
    return check_float("beta", beta, minimum=0.0)


def check_seed(seed) -> int | None:
    """None or an int >= 0."""
    if seed is None:
        return None
    return check_int("seed", seed, minimum=0)


def check_one_of(name: str, value, options: Sequence):
    """``value`` must be one of ``options``."""
    if not isinstance(value, str | int | float | type(None)) or value not in options:
        raise ValueError(
            f"Expected {name} to be one of {tuple(options)}. Received: {name}={value!r}"
        )
    return value


def check_shape(name: str, shape) -> tuple[int, ...]:
    """A non-empty tuple of positive ints (an int ``n`` means ``(n,)``)."""
    if _is_int(shape):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if not dims or not all(_is_int(d) and d >= 1 for d in dims):
        raise ValueError(
            f"Expected {name} to be a tuple of positive ints. Received: {name}={shape!r}"
        )
    return tuple(int(d) for d in dims)


def check_int_list(name: str, values, allow_empty: bool = False) -> tuple[int, ...]:
    """A list of positive ints; a single int means a list of one."""
    if _is_int(values):
        values = [values]
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise ValueError(
            f"Expected {name} to be a list of positive ints. Received: {name}={values!r}"
        )
    values = list(values)
    if (not values and not allow_empty) or not all(_is_int(v) and v >= 1 for v in values):
        raise ValueError(
            f"Expected {name} to be a list of positive ints. Received: {name}={values!r}"
        )
    return tuple(int(v) for v in values)


def shape_str(shape) -> str:
    """``(None, 28, 28)`` as ``(batch, 28, 28)``; a 1-tuple keeps its comma."""
    dims = ["batch" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def compatible(a, b) -> bool:
    """True when two static shapes can be equal (``None`` matches anything)."""
    a, b = tuple(a), tuple(b)
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


def check_batch_shape(name: str, shape, expected) -> None:
    """``shape`` must be ``(batch, *expected)`` (``expected`` may hold None)."""
    if expected is None:
        return
    if not compatible(tuple(shape)[1:], expected) or len(shape) != len(expected) + 1:
        raise ValueError(
            f"Expected {name} of shape {shape_str((None, *expected))}. "
            f"Received: {name}.shape={tuple(shape)}"
        )


def check_real_finite(name: str, array: np.ndarray) -> tuple[float, float]:
    """``array`` must hold real, finite numbers; returns its (min, max)."""
    if array.ndim == 0:
        raise ValueError(
            f"Expected {name} to be a batch (first axis: examples). Received: a scalar"
        )
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise ValueError(f"Expected {name} to hold real numbers. Received: dtype={array.dtype}")
    if array.size == 0:
        return 0.0, 0.0
    low, high = float(np.min(array)), float(np.max(array))
    if not (math.isfinite(low) and math.isfinite(high)):
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"Expected finite values. Received: {name} with {bad} NaN or infinite values"
        )
    return low, high


def check_unit_interval(name: str, low: float, high: float, likelihood: str) -> None:
    """Data for a likelihood on [0, 1] must lie in [0, 1], with the usual fix in the message."""
    if low < 0 or high > 1:
        hint = " (images of 0-255? divide by 255)" if high > 1 else ""
        raise ValueError(
            f"Expected values in [0, 1] for the {likelihood} likelihood{hint}. "
            f"Received: {name} with values in [{low:g}, {high:g}]"
        )
