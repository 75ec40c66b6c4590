"""Data of any kind as batches of NumPy arrays, and a look at the first batch.

vaelib's models, bounds and helpers take the inputs Keras's ``fit`` takes: NumPy arrays, backend
tensors, a ``tf.data.Dataset``, a ``keras.utils.PyDataset``, or any iterable of batches (a
generator). A batch may be ``x`` alone or a tuple ``(x, y, ...)``, whose first entry is used
(a VAE's target is its input).

- `peek` returns the first batch for checking, and the data to use afterwards (a generator
  cannot be rewound, so its first batch is put back in front);
- `batches` yields the data as NumPy batches, for code that loops over it itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import keras
import numpy as np

from vaelib import _checks


def is_array(data) -> bool:
    """True for a NumPy array or a tensor (anything with a shape and a dtype)."""
    return hasattr(data, "shape") and hasattr(data, "dtype") and not is_dataset(data)


def is_dataset(data) -> bool:
    """True for a ``tf.data.Dataset`` (checked without importing TensorFlow)."""
    return hasattr(data, "element_spec") and hasattr(data, "take")


def first_entry(batch):
    """``x`` from a batch ``x`` or ``(x, y, ...)``."""
    if isinstance(batch, tuple | list):
        if not batch:
            raise ValueError("Expected a batch x or (x, y). Received: an empty tuple")
        return batch[0]
    if isinstance(batch, dict):
        raise ValueError(
            "Expected batches x or (x, y) of arrays. Received: a dict with keys "
            f"{sorted(batch)}; map it to x first (e.g. dataset.map(lambda d: d['image']))"
        )
    return batch


def to_numpy(array) -> np.ndarray:
    """A tensor of any backend (or of TensorFlow on another backend) as a NumPy array."""
    if isinstance(array, np.ndarray):
        return array
    try:
        return np.asarray(array)
    except Exception:  # noqa: BLE001 - e.g. a tensor that needs its backend's conversion
        return np.asarray(keras.ops.convert_to_numpy(array))


def peek(data, name: str = "x"):
    """The first batch of ``data`` as a NumPy array, and ``data`` ready to be used.

    For arrays and tensors the "first batch" is the whole array. Generators and other
    one-shot iterators are returned re-chained with their first batch in front, so no data is
    lost. Symbolic tensors (inside a traced function) give ``None``: nothing to check eagerly.

    Returns:
        ``(array_or_None, data)``.
    """
    if data is None:
        return None, data
    if is_array(data):
        try:
            return to_numpy(data), data
        except Exception:  # noqa: BLE001 - symbolic tensors
            return None, data
    if is_dataset(data):
        for element in data.take(1):
            return to_numpy(first_entry(element)), data
        raise ValueError(f"Expected {name} to yield at least one batch. Received: an empty dataset")
    if isinstance(data, keras.utils.PyDataset):
        if len(data) == 0:
            raise ValueError(
                f"Expected {name} to hold at least one batch. Received: len={len(data)}"
            )
        return to_numpy(first_entry(data[0])), data
    if isinstance(data, Iterator):
        try:
            first = next(data)
        except StopIteration:
            raise ValueError(
                f"Expected {name} to yield at least one batch. Received: an exhausted iterator"
            ) from None
        return to_numpy(first_entry(first)), _chain(first, data)
    if hasattr(data, "__iter__") and not isinstance(data, str | bytes | dict):
        # Re-iterable (a list of batches, a DataLoader...); a list of numbers is an array.
        if isinstance(data, list | tuple) and data and not _is_batch_like(data[0]):
            return to_numpy(data), data
        for batch in data:
            return to_numpy(first_entry(batch)), data
        raise ValueError(f"Expected {name} to yield at least one batch. Received: nothing")
    raise ValueError(
        "Expected an array, a tensor, a tf.data.Dataset, a keras.utils.PyDataset or an "
        f"iterable of batches. Received: {name} of type {type(data).__name__}"
    )


def _chain(first, rest):
    """A generator (what Keras's ``fit`` accepts) yielding ``first``, then ``rest``; a bare
    batch ``x`` is yielded as ``(x,)``, the form Keras requires of generators."""
    for batch in itertools.chain([first], rest):
        yield batch if isinstance(batch, tuple) else (batch,)


def _is_batch_like(item) -> bool:
    return is_array(item) or isinstance(item, tuple | list) and bool(item) and is_array(item[0])


def batches(data, batch_size: int = 1000, name: str = "x") -> Iterator[np.ndarray]:
    """Yield ``data`` as float32 NumPy batches (arrays are cut into ``batch_size`` rows).

    Datasets, PyDatasets and iterables keep their own batching.
    """
    batch_size = _checks.check_positive_int("batch_size", batch_size)
    if is_array(data) or (isinstance(data, list | tuple) and data and not _is_batch_like(data[0])):
        array = to_numpy(data)
        if array.ndim == 0 or len(array) == 0:
            raise ValueError(
                f"Expected {name} to be a non-empty batch (first axis: examples). "
                f"Received: {name}.shape={array.shape}"
            )
        for start in range(0, len(array), batch_size):
            yield np.asarray(array[start : start + batch_size], dtype="float32")
        return
    if isinstance(data, keras.utils.PyDataset):
        iterable = (data[i] for i in range(len(data)))
    elif is_dataset(data) or hasattr(data, "__iter__"):
        iterable = iter(data)
    else:
        _, data = peek(data, name)  # raises the error that names the accepted types
        iterable = iter(data)
    empty = True
    for batch in iterable:
        empty = False
        yield np.asarray(to_numpy(first_entry(batch)), dtype="float32")
    if empty:
        raise ValueError(f"Expected {name} to yield at least one batch. Received: nothing")
