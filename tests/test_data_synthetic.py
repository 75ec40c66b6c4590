"""Tests of vaelib.data.synthetic: shapes with known factors, tabular data with anomalies."""

import time

import numpy as np
import pytest

from vaelib.data import SHAPE_NAMES, make_shapes, make_tabular
from vaelib.data.synthetic import POSITION_RANGE, SIZE_RANGE

# ----------------------------------------------------------------------------- make_shapes


@pytest.mark.parametrize("image_size", [8, 32, 45, 64])
def test_shapes_shape_dtype_and_range(image_size):
    images, factors = make_shapes(50, image_size=image_size, seed=1)
    assert images.shape == (50, image_size, image_size, 3) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert sorted(factors) == ["hue", "shape", "size", "x", "y"]
    for values in factors.values():
        assert values.ndim == 1 and len(values) == 50
    # Most of each image is the dark background, and every image holds a bright shape.
    background = np.all(images < 0.1, axis=-1).mean(axis=(1, 2))
    assert np.all(background > 0.3)  # a shape covers at most (2 * 0.3) ** 2 of the image
    assert np.all(images.max(axis=(1, 2, 3)) > 0.9)


def test_shapes_factor_ranges():
    _, factors = make_shapes(3000, seed=0)
    assert factors["shape"].dtype == np.int64
    assert set(np.unique(factors["shape"])) == set(range(len(SHAPE_NAMES)))
    assert np.all((factors["hue"] >= 0) & (factors["hue"] < 1))
    assert np.all((factors["size"] >= SIZE_RANGE[0]) & (factors["size"] <= SIZE_RANGE[1]))
    for name in ("x", "y"):
        values = factors[name]
        assert np.all((values >= POSITION_RANGE[0]) & (values <= POSITION_RANGE[1]))
        assert values.std() > 0.08  # spread over the range (uniform on 0.4: sd 0.115)


def test_shapes_follow_their_factors():
    images, factors = make_shapes(500, image_size=32, seed=2)
    mask = images.max(axis=-1) > 0.5  # the shape's pixels
    area = mask.mean(axis=(1, 2))
    # Area grows with size, for each kind of shape.
    for shape in range(len(SHAPE_NAMES)):
        chosen = factors["shape"] == shape
        assert np.corrcoef(factors["size"][chosen], area[chosen])[0, 1] > 0.9
    # The centre of mass of the shape's pixels moves with x and y.
    grid = (np.arange(32) + 0.5) / 32
    columns = (mask * grid[None, None, :]).sum(axis=(1, 2)) / mask.sum(axis=(1, 2))
    rows = (mask * grid[None, :, None]).sum(axis=(1, 2)) / mask.sum(axis=(1, 2))
    assert np.corrcoef(factors["x"], columns)[0, 1] > 0.95
    assert np.corrcoef(factors["y"], rows)[0, 1] > 0.9
    # A square fills more of its bounding box than a circle, a circle more than a triangle.
    fill = area / (2 * factors["size"]) ** 2
    means = [fill[factors["shape"] == shape].mean() for shape in range(3)]
    assert means[0] > means[1] > means[2]


def test_shapes_are_deterministic_for_a_seed():
    a, factors_a = make_shapes(20, image_size=16, seed=5)
    b, factors_b = make_shapes(20, image_size=16, seed=5)
    c, factors_c = make_shapes(20, image_size=16, seed=6)
    np.testing.assert_array_equal(a, b)
    for name in factors_a:
        np.testing.assert_array_equal(factors_a[name], factors_b[name])
        assert not np.array_equal(factors_a[name], factors_c[name])
    assert not np.array_equal(a, c)


def test_shapes_prefix_does_not_depend_on_num_examples():
    # More images than one rendering chunk: the first images match those of a small call.
    small, _ = make_shapes(10, seed=3)
    large, _ = make_shapes(1500, seed=3)
    np.testing.assert_array_equal(small, large[:10])
    assert large[1024:].max() > 0.9  # the second chunk is rendered too


def test_shapes_are_fast_enough():
    start = time.perf_counter()
    make_shapes(10_000, image_size=32)
    assert time.perf_counter() - start < 10.0  # about 0.5 s; generous for a shared machine


# ----------------------------------------------------------------------------- make_tabular


def nearest_inlier_distance(x, is_anomaly):
    """Distance from each row to its nearest inlier other than itself."""
    inliers = x[~is_anomaly]
    squared = (x**2).sum(1)[:, None] + (inliers**2).sum(1)[None, :] - 2 * x @ inliers.T
    distances = np.sqrt(np.maximum(squared, 0.0))
    inlier_rows = np.flatnonzero(~is_anomaly)
    distances[inlier_rows, np.arange(len(inlier_rows))] = np.inf  # not to itself
    return distances.min(axis=1)


def test_tabular_shape_dtype_and_standardised_features():
    x, is_anomaly = make_tabular(2000, num_features=12, seed=0)
    assert x.shape == (2000, 12) and x.dtype == np.float32
    assert is_anomaly.shape == (2000,) and is_anomaly.dtype == bool and not is_anomaly.any()
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=0.15)
    np.testing.assert_allclose(x.std(axis=0), 1.0, atol=0.15)


def test_tabular_lies_near_a_low_dimensional_manifold():
    x, _ = make_tabular(2000, num_features=20, seed=0)
    singular_values = np.linalg.svd(x - x.mean(axis=0), compute_uv=False)
    explained = np.cumsum(singular_values**2) / np.sum(singular_values**2)
    assert explained[5] > 0.9  # 20 features, but a few directions hold nearly all variance


def test_tabular_anomaly_count_and_positions():
    _, is_anomaly = make_tabular(1000, anomaly_fraction=0.05, seed=0)
    assert is_anomaly.sum() == 50
    assert is_anomaly[:500].any() and is_anomaly[500:].any()  # scattered, not a block


@pytest.mark.parametrize("num_features", [8, 20])
def test_tabular_anomalies_are_off_the_manifold(num_features):
    x, is_anomaly = make_tabular(1500, num_features, anomaly_fraction=0.05, seed=1)
    distance = nearest_inlier_distance(x.astype(np.float64), is_anomaly)
    assert distance[is_anomaly].mean() > 3 * distance[~is_anomaly].mean()
    assert np.median(distance[is_anomaly]) > np.quantile(distance[~is_anomaly], 0.95)
    # ... while each feature alone looks like the inliers' (same marginal spread).
    ratio = x[is_anomaly].std(axis=0) / x[~is_anomaly].std(axis=0)
    assert 0.6 < np.median(ratio) < 1.5


def test_tabular_is_deterministic_for_a_seed():
    a, anomalies_a = make_tabular(300, anomaly_fraction=0.1, seed=4)
    b, anomalies_b = make_tabular(300, anomaly_fraction=0.1, seed=4)
    c, anomalies_c = make_tabular(300, anomaly_fraction=0.1, seed=5)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(anomalies_a, anomalies_b)
    assert not np.array_equal(a, c) and not np.array_equal(anomalies_a, anomalies_c)


def test_tabular_seeds_share_one_distribution():
    # The map depends on num_features only: data of another seed lie on the same manifold.
    train, _ = make_tabular(1500, num_features=20, seed=0)
    test, _ = make_tabular(100, num_features=20, seed=1)
    other_map = make_tabular(100, num_features=21, seed=1)[0][:, :20]
    both = np.concatenate([train, test])
    flags = np.r_[np.zeros(len(train), bool), np.ones(len(test), bool)]
    same = nearest_inlier_distance(both, flags)[len(train) :]
    both = np.concatenate([train, other_map])
    other = nearest_inlier_distance(both, flags)[len(train) :]
    assert other.mean() > 2 * same.mean()


# ----------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_examples": 0}, "Expected num_examples >= 1 (an int). Received: num_examples=0"),
        ({"num_examples": 2.0}, "Received: num_examples=2.0"),
        ({"num_examples": True}, "Received: num_examples=True"),
        ({"num_examples": 4, "image_size": 7}, "Expected image_size >= 8"),
        ({"num_examples": 4, "image_size": "32"}, "Received: image_size='32'"),
        ({"num_examples": 4, "seed": -1}, "Expected seed >= 0 (an int). Received: seed=-1"),
        ({"num_examples": 4, "seed": None}, "Received: seed=None"),
    ],
)
def test_shapes_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        make_shapes(**kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_examples": -3}, "Expected num_examples >= 1 (an int). Received: num_examples=-3"),
        ({"num_examples": 10, "num_features": 1}, "Expected num_features >= 2"),
        ({"num_examples": 10, "anomaly_fraction": 1.0}, "Received: anomaly_fraction=1.0"),
        ({"num_examples": 10, "anomaly_fraction": -0.1}, "Expected anomaly_fraction >= 0"),
        ({"num_examples": 10, "anomaly_fraction": "0.1"}, "Received: anomaly_fraction='0.1'"),
        ({"num_examples": 10, "seed": 1.5}, "Received: seed=1.5"),
    ],
)
def test_tabular_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        make_tabular(**kwargs)
    assert message in str(info.value)
