"""Your own data from an ``.npz`` file: ``x_train``, ``x_test`` and optional labels.

Used by the command line's ``--data FILE.npz``; every problem is a `DataFileError` with one
line naming what is missing or wrong.
"""

from __future__ import annotations

import os

import numpy as np

NPZ_ARRAYS = ("x_train", "x_test", "y_train", "y_test")


class DataFileError(ValueError):
    """A ``--data`` file that cannot be used (reported with exit status 2)."""


def read_npz(path) -> dict[str, np.ndarray]:
    """Read and check a ``--data`` file: float32 ``x_train``, ``x_test``, int labels if any.

    Raises:
        DataFileError: one line naming what is missing or wrong.
    """
    if not os.path.isfile(path):
        raise DataFileError(f"file not found: {path}")
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as error:  # zip, pickle and format errors: all mean "not an npz"
        raise DataFileError(f"{path} is not a NumPy .npz file ({first_line(error)})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataFileError(
            f"{path} holds a single array, not an .npz archive; "
            "write one with np.savez(path, x_train=..., x_test=...)"
        )
    with archive:
        missing = [name for name in NPZ_ARRAYS[:2] if name not in archive.files]
        if missing:
            found = ", ".join(archive.files) or "nothing"
            raise DataFileError(
                f"{path} has no array {' or '.join(missing)} (found: {found}); expected x_train "
                "and x_test, optionally y_train and y_test"
            )
        arrays = {name: _member(archive, name) for name in NPZ_ARRAYS if name in archive.files}
    return _check_arrays(arrays)


def _member(archive, name):
    try:
        return archive[name]
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise DataFileError(f"{name} is not numeric (it holds Python objects)") from None
        raise DataFileError(f"could not read {name} ({first_line(error)})") from None
    except Exception as error:  # a damaged member
        raise DataFileError(f"could not read {name} ({first_line(error)})") from None


def _check_arrays(arrays):
    for name, array in arrays.items():
        if array.dtype.kind not in "biuf":
            raise DataFileError(f"{name} is not numeric (dtype {array.dtype})")
    for name in NPZ_ARRAYS[:2]:
        x = arrays[name]
        if x.ndim < 2 or len(x) == 0:
            raise DataFileError(
                f"{name} has shape {x.shape}; expected (examples, ...) with at least one "
                "example and one value per example"
            )
        arrays[name] = x.astype("float32")
    train_shape, test_shape = arrays["x_train"].shape[1:], arrays["x_test"].shape[1:]
    if train_shape != test_shape:
        raise DataFileError(
            f"x_train and x_test differ per example: x_train {train_shape}, x_test {test_shape}"
        )
    for split in ("train", "test"):
        name, count = f"y_{split}", len(arrays[f"x_{split}"])
        if name not in arrays:
            continue
        y = arrays[name]
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or len(y) != count:
            raise DataFileError(
                f"{name} has shape {y.shape}; expected one label per example of x_{split}, "
                f"shape ({count},)"
            )
        if not np.array_equal(y, np.round(y)):
            raise DataFileError(f"{name} holds non-integer values; expected class labels")
        arrays[name] = y.astype("int64")
    return arrays


def first_line(error):
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
