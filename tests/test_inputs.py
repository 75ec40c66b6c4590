"""Arrays, tensors, datasets, PyDatasets and generators as batches; the shared checks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from vaelib import _checks, inputs

X = np.arange(24, dtype="float32").reshape(6, 2, 2) / 24


class Batches(keras.utils.PyDataset):
    def __len__(self):
        return 3

    def __getitem__(self, index):
        return X[2 * index : 2 * index + 2], np.zeros(2)


def test_every_kind_of_input_gives_the_same_batches():
    kinds = {
        "array": X,
        "tensor": keras.ops.convert_to_tensor(X),
        "dataset": tf.data.Dataset.from_tensor_slices(X).batch(2),
        "dataset of (x, y)": tf.data.Dataset.from_tensor_slices((X, np.zeros(6))).batch(2),
        "pydataset": Batches(),
        "generator": (X[i : i + 2] for i in range(0, 6, 2)),
        "list of batches": [X[:2], X[2:4], X[4:]],
    }
    for name, data in kinds.items():
        got = np.concatenate(list(inputs.batches(data, batch_size=2)))
        np.testing.assert_array_equal(got, X, err_msg=name)


def test_peek_does_not_lose_a_generators_first_batch():
    generator = (X[i : i + 2] for i in range(0, 6, 2))
    first, data = inputs.peek(generator)
    np.testing.assert_array_equal(first, X[:2])
    rest = list(data)
    assert len(rest) == 3 and all(isinstance(b, tuple) for b in rest)  # Keras wants tuples
    np.testing.assert_array_equal(np.concatenate([b[0] for b in rest]), X)


@pytest.mark.parametrize(
    "data, match",
    [
        (tf.data.Dataset.from_tensor_slices(X).take(0), "empty dataset"),
        (iter([]), "exhausted iterator"),
        (tf.data.Dataset.from_tensor_slices({"image": X}).batch(2), "Received: a dict"),
        (object(), "Received: x of type object"),
    ],
)
def test_bad_inputs_are_named(data, match):
    with pytest.raises(ValueError, match=match):
        inputs.peek(data)


@pytest.mark.parametrize(
    "check, value, match",
    [
        (_checks.check_float, "1.0", "Expected beta to be a number. Received: beta='1.0'"),
        (_checks.check_float, True, "Expected beta to be a number"),
        (_checks.check_positive_int, 1.0, r"Expected beta >= 1 \(an int\). Received: beta=1.0"),
        (_checks.check_positive_int, np.int64(0), r"Expected beta >= 1 \(an int\)"),
    ],
)
def test_each_rule_has_one_wording(check, value, match):
    with pytest.raises(ValueError, match=match):
        check("beta", value)


def test_checks_accept_numpy_scalars_and_zero_d_arrays():
    assert _checks.check_beta(np.float32(0.5)) == 0.5
    assert _checks.check_beta(np.array(2.0)) == 2.0
    assert _checks.check_positive_int("n", np.int64(3)) == 3
    assert _checks.shape_str((None, 784)) == "(batch, 784)"
    assert _checks.shape_str((5,)) == "(5,)"
