"""Tests of vaelib.train: seeds, KL warm-up schedules and the beta sweep."""

import csv
import math

import keras
import numpy as np
import pytest

from vaelib.callbacks import KLWarmup, warmup_beta
from vaelib.networks import build_mlp_vae
from vaelib.train import SweepResult, beta_sweep, set_seed

IMAGE_SHAPE = (4, 4)
SMALL = dict(epochs=2, batch_size=32, latent_dim=2, hidden_units=16, progress=False)


def _images(n, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, *IMAGE_SHAPE)).astype("float32")


def _mnist_or_skip(num_train, num_test):
    """A subset of MNIST if it is already in the local cache, else skip the test."""
    data = pytest.importorskip("vaelib.data")
    if not (data.cache_dir() / "mnist").is_dir():
        pytest.skip("MNIST is not in the local cache (run `python -m vaelib data`)")
    try:
        return data.load_mnist(num_train=num_train, num_test=num_test, timeout=1.0)
    except Exception as error:  # no cache and no network: nothing to test on
        pytest.skip(f"MNIST unavailable: {error}")


def test_set_seed_makes_keras_random_reproducible():
    set_seed(3)
    first = keras.ops.convert_to_numpy(keras.random.normal((5,)))
    set_seed(3)
    second = keras.ops.convert_to_numpy(keras.random.normal((5,)))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None, True])
def test_set_seed_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="Received: seed="):
        set_seed(seed)


def test_linear_warmup_values():
    values = [warmup_beta(epoch, 4, max_beta=2.0) for epoch in range(7)]
    assert values == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0, 2.0]
    assert warmup_beta(3, 0) == 1.0
    assert warmup_beta(0.5, 2) == 0.25


def test_cyclical_warmup_values():
    values = [
        warmup_beta(epoch, 2, schedule="cyclical", num_cycles=2, total_epochs=8)
        for epoch in range(8)
    ]
    assert values == [0.0, 0.5, 1.0, 1.0, 0.0, 0.5, 1.0, 1.0]
    # A rise longer than the cycle is cut at the cycle's end.
    values = [
        warmup_beta(epoch, 4, schedule="cyclical", num_cycles=3, total_epochs=6)
        for epoch in range(6)
    ]
    assert values == [0.0, 0.25, 0.0, 0.25, 0.0, 0.25]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(warmup_epochs=-1), "warmup_epochs=-1"),
        (dict(warmup_epochs=2.5), "warmup_epochs=2.5"),
        (dict(warmup_epochs=2, schedule="cosine"), "schedule='cosine'"),
        (dict(warmup_epochs=2, max_beta=-1.0), "max_beta=-1.0"),
        (dict(warmup_epochs=2, max_beta=float("nan")), "max_beta=nan"),
        (dict(warmup_epochs=2, num_cycles=0), "num_cycles=0"),
    ],
)
def test_klwarmup_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match="Received") as info:
        KLWarmup(**kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (dict(warmup_epochs=3), [0.0, 1 / 3, 2 / 3, 1.0]),
        (dict(warmup_epochs=1, schedule="cyclical", num_cycles=2, max_beta=2.0), [0, 2, 0, 2]),
    ],
)
def test_klwarmup_sets_the_beta_the_loss_uses(kwargs, expected):
    set_seed(0)
    model = build_mlp_vae(input_shape=IMAGE_SHAPE, hidden_units=16, beta=5.0, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(
        _images(64), epochs=4, batch_size=16, verbose=0, callbacks=[KLWarmup(**kwargs)]
    ).history
    np.testing.assert_allclose(history["beta"], expected, atol=1e-12)
    # The logged total is the epoch mean of reconstruction + beta * KL with the scheduled beta.
    kl = np.array(history["kl_loss"])
    assert np.all(kl > 0.01)
    np.testing.assert_allclose(
        history["total_loss"],
        np.array(history["reconstruction_loss"]) + np.array(expected) * kl,
        rtol=1e-5,
    )
    assert math.isclose(model.beta, expected[-1], abs_tol=1e-6)


class _BatchLogs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = []

    def on_train_batch_end(self, batch, logs=None):
        names = ("reconstruction_loss", "kl_loss", "total_loss")
        self.logs.append([float(keras.ops.convert_to_numpy(logs[name])) for name in names])


def test_klwarmup_per_batch_sets_the_beta_of_every_step():
    set_seed(0)
    model = build_mlp_vae(input_shape=IMAGE_SHAPE, hidden_units=16, beta=5.0, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    recorder = _BatchLogs()
    warmup = KLWarmup(warmup_epochs=2, per_batch=True)
    history = model.fit(
        _images(64), epochs=2, batch_size=32, verbose=0, callbacks=[warmup, recorder]
    ).history
    # Two steps per epoch; the logs hold running means, so undo the mean for the second step.
    running = np.array(recorder.logs).reshape(2, 2, 3)
    per_step = np.concatenate([running[:, :1], 2 * running[:, 1:] - running[:, :1]], axis=1)
    reconstruction, kl, total = per_step.reshape(4, 3).T
    betas = np.array([0.0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(total, reconstruction + betas * kl, rtol=1e-4)
    assert np.all(kl > 0.01)
    assert history["beta"] == [0.25, 0.75]


def test_beta_sweep_table_and_files(tmp_path):
    built = []

    def build(beta):
        built.append(beta)
        return build_mlp_vae(input_shape=IMAGE_SHAPE, hidden_units=8, latent_dim=3, beta=beta)

    x_train, x_test = _images(64), _images(32, seed=1)
    result = beta_sweep([0.5, 2], x_train, x_test, iw_k=3, build_model=build, **SMALL)
    assert built == [0.5, 2.0]
    assert isinstance(result, SweepResult)
    assert [row["beta"] for row in result.rows] == [0.5, 2.0]
    assert result.columns == ["beta", "test_loss", "reconstruction_loss", "kl_loss", "iw_bound"]
    for row in result.rows:
        assert all(math.isfinite(value) for value in row.values())
        assert math.isclose(
            row["test_loss"], row["reconstruction_loss"] + row["beta"] * row["kl_loss"]
        )
    assert sorted(result.models) == sorted(result.histories) == [0.5, 2.0]
    assert result.models[2.0].beta == pytest.approx(2.0)
    assert result.models[2.0].latent_dim == 3
    assert len(result.histories[0.5]["total_loss"]) == 2

    markdown = result.to_markdown().splitlines()
    assert len(markdown) == 2 + 2
    assert markdown[0].startswith("| beta | test_loss")
    assert markdown[2].startswith("| 0.5 |")
    path = result.to_csv(tmp_path / "results.csv")
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    assert [float(row["beta"]) for row in rows] == [0.5, 2.0]
    assert float(rows[1]["kl_loss"]) == result.rows[1]["kl_loss"]


def test_beta_sweep_is_reproducible_with_the_same_seed():
    x_train, x_test = _images(64), _images(32, seed=1)
    first = beta_sweep([1.0], x_train, x_test, seed=4, **SMALL)
    second = beta_sweep([1.0], x_train, x_test, seed=4, **SMALL)
    assert first.rows == second.rows
    assert first.histories == second.histories
    assert first.models[1.0].latent_dim == SMALL["latent_dim"]


@pytest.mark.parametrize(
    "betas, message",
    [
        ([], "betas=[]"),
        ([0.1, -1], "beta=-1"),
        ([float("nan")], "beta=nan"),
        ([float("inf")], "beta=inf"),
        ("0.1", "betas='0.1'"),
        ([1, 1.0], "different"),
    ],
)
def test_beta_sweep_rejects_bad_betas(betas, message):
    with pytest.raises(ValueError) as info:
        beta_sweep(betas, _images(8), _images(8), **SMALL)
    assert message in str(info.value)


def test_beta_sweep_rejects_bad_settings():
    with pytest.raises(ValueError, match="Received: epochs=0"):
        beta_sweep([1.0], _images(8), _images(8), **{**SMALL, "epochs": 0})
    with pytest.raises(ValueError, match="Received: iw_k=0"):
        beta_sweep([1.0], _images(8), _images(8), iw_k=0, **SMALL)
    with pytest.raises(ValueError, match=r"x_test.shape=\(0, 4, 4\)"):
        beta_sweep([1.0], _images(8), _images(8)[:0], **SMALL)


def test_large_beta_gives_a_smaller_kl_on_mnist():
    (x_train, _), (x_test, _) = _mnist_or_skip(1000, 300)
    result = beta_sweep(
        [0.1, 20.0], x_train, x_test, epochs=2, batch_size=100, hidden_units=32, progress=False
    )
    kl_small_beta, kl_large_beta = (row["kl_loss"] for row in result.rows)
    assert kl_large_beta < 0.5 * kl_small_beta, (kl_small_beta, kl_large_beta)
