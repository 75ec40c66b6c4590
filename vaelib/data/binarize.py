"""Dynamic binarisation: grey levels as probabilities, binary images drawn afresh each epoch.

Burda et al. (2016) train on MNIST binarised *dynamically*: every time an image is used, each
pixel is drawn as 1 with probability its grey level. The model never sees the same binary image
twice, which regularises it, and the Bernoulli likelihood is then a density of the data.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from vaelib import _checks


class DynamicBinarization(keras.utils.PyDataset):
    """Batches of ``x`` binarised afresh every epoch (and shuffled, by default).

    The draw of batch ``i`` in epoch ``e`` depends only on ``(seed, e, i)``, so a run is
    reproducible. Keras calls `on_epoch_end` after each epoch of ``fit``, which moves to new
    draws; iterating by hand gives the draws of the current epoch.

    Args:
        x: grey levels in [0, 1], shape ``(n, *data_shape)``.
        batch_size: examples per batch.
        shuffle: reshuffle the order of the examples every epoch.
        seed: int >= 0 seeding the order and the draws.
        **kwargs: `keras.utils.PyDataset` arguments (``workers``...).

    Example:

    >>> import numpy as np
    >>> data = DynamicBinarization(np.full((4, 2), 0.5, "float32"), batch_size=2, seed=0)
    >>> len(data), sorted(np.unique(data[0][0]))
    (2, [0.0, 1.0])
    """

    def __init__(self, x, batch_size=100, shuffle=True, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.x = np.asarray(x, dtype="float32")
        if self.x.ndim < 2 or len(self.x) == 0:
            raise ValueError(
                f"Expected x of shape (n, *data_shape), n >= 1. Received: x.shape={self.x.shape}"
            )
        low, high = _checks.check_real_finite("x", self.x)
        _checks.check_unit_interval("x", low, high, "Bernoulli")
        self.batch_size = _checks.check_positive_int("batch_size", batch_size)
        self.shuffle = bool(shuffle)
        self.seed = _checks.check_int("seed", seed, minimum=0)
        self.epoch = 0
        self._order = self._make_order()

    def _make_order(self):
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng([self.seed, self.epoch, 0]).permutation(len(self.x))

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Expected 0 <= index < {len(self)}. Received: index={index}")
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        grey = self.x[rows]
        rng = np.random.default_rng([self.seed, self.epoch, index + 1])
        return ((rng.random(grey.shape, dtype="float32") < grey).astype("float32"),)

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._make_order()
