"""Files on disk: read a folder of IDX files, checking every digest, and write files atomically.

A folder is read only as a whole: the four IDX files (plain or gzipped) checked against their
recorded SHA-256, or, for a data set with an official release of other files, the gzipped
release checked against its published MD5. Files are written under a temporary name and renamed
only after their checksum has been verified.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from vaelib.data.checksums import check_md5, check_sha256
from vaelib.data.errors import SourceFailed
from vaelib.data.idx import IDX_FILES, Arrays, check_arrays, gunzip, parse_idx

if TYPE_CHECKING:
    from vaelib.data.datasets import DatasetSpec


def write_checked(folder: Path, name: str, raw: bytes, expected: str) -> Path:
    """Write ``raw`` to ``folder/name`` through a temporary file, after checking its SHA-256."""
    check_sha256(raw, expected, f"{name} (about to be written to {folder})")
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


def _missing_idx(folder: Path) -> list[str]:
    return [
        name
        for name in IDX_FILES
        if not (folder / name).is_file() and not (folder / f"{name}.gz").is_file()
    ]


def read_idx_folder(folder: Path, sha256: dict[str, str]) -> Arrays:
    """Read the four IDX files (plain or .gz) of ``folder``, checking each SHA-256."""
    missing = _missing_idx(folder)
    if missing:
        raise SourceFailed(f"{folder} lacks {', '.join(missing)} (plain or .gz)")
    arrays = []
    for name in IDX_FILES:
        path = folder / name
        raw = path.read_bytes() if path.is_file() else gunzip(folder / f"{name}.gz")
        check_sha256(raw, sha256[name], str(path))
        arrays.append(parse_idx(raw, str(path)))
    return check_arrays(tuple(arrays), str(folder))


def read_official_folder(folder: Path, md5: dict[str, str]) -> Arrays:
    """Read an official release of gzipped IDX files, checking the published MD5s."""
    missing = [name for name in md5 if not (folder / name).is_file()]
    if missing:
        raise SourceFailed(f"{folder} lacks {', '.join(missing)}")
    arrays = []
    for name, expected in md5.items():
        path = folder / name
        compressed = path.read_bytes()
        check_md5(compressed, expected, str(path))
        arrays.append(parse_idx(gunzip(path, compressed), str(path)))
    return check_arrays(tuple(arrays), str(folder))


def read_directory(dataset: DatasetSpec, folder: Path) -> Arrays:
    """Read ``dataset`` from ``folder`` or its sub-folder ``dataset.subdir``.

    Raises:
        SourceFailed: if neither holds the files; the reason names what is missing where.
        CorruptFileError: if the files are there but fail a check.
    """
    if not folder.is_dir():
        raise SourceFailed("not a directory" if folder.exists() else "no such directory")
    candidates = (folder, folder / dataset.subdir)
    official = dataset.official_md5 or {}
    for candidate in candidates:
        uncompressed = all((candidate / name).is_file() for name in IDX_FILES)
        if official and all((candidate / name).is_file() for name in official) and not uncompressed:
            return read_official_folder(candidate, official)
        if not _missing_idx(candidate):
            return read_idx_folder(candidate, dataset.sha256)
    best, other = sorted(candidates, key=lambda candidate: len(_missing_idx(candidate)))
    missing = ", ".join(_missing_idx(best))
    raise SourceFailed(f"{best} lacks {missing} (plain or .gz); {other} was searched too")
