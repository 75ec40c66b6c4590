"""The IDX format of the MNIST files: parse, encode, gunzip and sanity-check the arrays."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from vaelib.data.errors import CorruptFileError

TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
IDX_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

# (x_train, y_train, x_test, y_test), in the order of IDX_FILES.
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

_IDX_UBYTE = 0x08


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of an unsigned-byte IDX file (the MNIST format).

    Args:
        raw: the whole file, uncompressed.
        name: how to call the file in error messages (usually its path).

    Returns:
        A uint8 array whose shape is given by the header, e.g. (60000, 28, 28).

    Raises:
        CorruptFileError: on a wrong magic number or a size that disagrees with the header.

    Example:
        >>> parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]))
        array([7, 9], dtype=uint8)
    """
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _IDX_UBYTE or raw[3] == 0:
        raise CorruptFileError(
            f"{name} is not an unsigned-byte IDX file: wrong magic number "
            f"{raw[:4].hex() or '(empty file)'} (expected 000008 followed by the rank)."
        )
    rank = raw[3]
    header_size = 4 + 4 * rank
    if len(raw) < header_size:
        raise CorruptFileError(f"{name} is truncated: its header is incomplete.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank))
    expected = int(np.prod(shape, dtype=np.int64))
    received = len(raw) - header_size
    if received != expected:
        problem = "truncated" if received < expected else "too long"
        raise CorruptFileError(
            f"{name} is {problem}: its header promises {expected} bytes of data for shape "
            f"{shape}, the file holds {received}."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file (the inverse of `parse_idx`).

    Example:
        >>> idx_bytes(np.array([7, 9], dtype=np.uint8)).hex()
        '00000801000000020709'
    """
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, _IDX_UBYTE, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def gunzip(path: Path, compressed: bytes | None = None) -> bytes:
    """Decompress a gzip file (``compressed``, if given, holds its bytes already read)."""
    try:
        if compressed is None:
            compressed = path.read_bytes()
        return gzip.decompress(compressed)
    except (OSError, EOFError) as error:
        raise CorruptFileError(f"{path} is not a valid gzip file: {error}") from error


def check_arrays(arrays: Arrays, name: str) -> Arrays:
    """Check that four arrays hold matching 28x28 images and labels 0..9; return them."""
    x_train, y_train, x_test, y_test = arrays
    for x, y, part in ((x_train, y_train, "training"), (x_test, y_test, "test")):
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.ndim != 1 or len(x) != len(y):
            raise CorruptFileError(
                f"{name}: the {part} files do not hold matching 28x28 images and labels "
                f"(images {x.shape}, labels {y.shape})."
            )
        if y.size and y.max() > 9:
            raise CorruptFileError(f"{name}: the {part} labels go beyond 9.")
    return arrays
