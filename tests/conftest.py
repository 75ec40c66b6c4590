"""Shared test helpers: tensors as NumPy, small structured data, small models."""

import keras
import numpy as np
import pytest

from vaelib.networks import build_mlp_vae

LOSS_NAMES = ("reconstruction_loss", "kl_loss", "total_loss")


def to_numpy(tensor):
    """Any backend's tensor (or an array) as a float64 NumPy array."""
    return np.asarray(keras.ops.convert_to_numpy(tensor), dtype="float64")


def images(num=96, shape=(28, 28), seed=0):
    """Blurry random blobs in [0, 1] (28x28 grids reshaped to ``shape``): structured data."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(6, 22, (num, 2))
    rows, cols = np.mgrid[0:28, 0:28]
    blobs = np.exp(
        -((rows - centres[:, :1, None]) ** 2 + (cols - centres[:, 1:, None]) ** 2) / 20.0
    )
    return blobs.reshape((num, *shape)).astype("float32")


def small_vae(**kwargs):
    """A compiled MLP VAE with 16 hidden units, seeded."""
    keras.utils.set_random_seed(0)
    kwargs.setdefault("hidden_units", 16)
    kwargs.setdefault("seed", 0)
    model = build_mlp_vae(**kwargs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3))
    return model


@pytest.fixture(scope="module")
def shared_vae():
    """An untrained model for the tests that neither train it nor change it (beta = 0.5)."""
    return small_vae(beta=0.5)
