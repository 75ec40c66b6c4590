"""The Sampling layer: formula, seeding, shape checks, serialisation."""

import keras
import numpy as np
import pytest
from conftest import to_numpy

from vaelib.layers import Sampling


def test_explicit_eps_gives_the_reparameterised_formula():
    rng = np.random.default_rng(0)
    mean, log_var, eps = (rng.normal(size=(4, 3)).astype("float32") for _ in range(3))
    z = Sampling()((mean, log_var, eps))
    np.testing.assert_allclose(to_numpy(z), mean + np.exp(log_var / 2) * eps, rtol=1e-6)


def test_several_samples_per_example_from_eps_or_num_samples():
    mean = np.zeros((4, 3), "float32")
    eps = np.ones((5, 4, 3), "float32")
    assert to_numpy(Sampling()((mean, mean, eps))).shape == (5, 4, 3)
    assert to_numpy(Sampling(seed=0)((mean, mean), num_samples=6)).shape == (6, 4, 3)


def test_same_seed_same_noise_and_noise_is_standard_normal():
    mean = np.full((20_000, 2), 1.0, "float32")
    log_var = np.full((20_000, 2), np.log(4.0), "float32")
    first = to_numpy(Sampling(seed=3)((mean, log_var)))
    second = to_numpy(Sampling(seed=3)((mean, log_var)))
    np.testing.assert_array_equal(first, second)
    assert abs(first.mean() - 1.0) < 0.05 and abs(first.std() - 2.0) < 0.05
    layer = Sampling(seed=3)
    assert not np.array_equal(to_numpy(layer((mean, log_var))), to_numpy(layer((mean, log_var))))


@pytest.mark.parametrize(
    "inputs, match",
    [
        ((np.zeros((4, 3)), np.zeros((4, 2))), "z_log_var.shape=\\(4, 2\\)"),
        ((np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((4, 2))), "eps.shape=\\(4, 2\\)"),
        ((np.zeros((4, 3)),), "Expected inputs to be a tuple"),
    ],
)
def test_bad_shapes_are_value_errors(inputs, match):
    with pytest.raises(ValueError, match=match):
        Sampling()(inputs)


def test_bad_seed_is_a_value_error():
    with pytest.raises(ValueError, match="seed='a'"):
        Sampling(seed="a")


def test_config_round_trip_and_symbolic_shape():
    layer = Sampling(seed=7, name="sampler")
    clone = Sampling.from_config(layer.get_config())
    assert clone.seed == 7 and clone.name == "sampler"
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, Sampling) and restored.seed == 7
    mean = keras.Input((3,))
    assert tuple(Sampling()((mean, mean)).shape) == (None, 3)
