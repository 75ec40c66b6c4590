"""Synthetic data made offline: coloured shapes with known factors, and tabular data with anomalies.

Nothing is downloaded. The images serve the "vaelib on your own data" examples (RGB images of
any size, with ground-truth factors of variation to compare latent codes against); the tabular
data serve anomaly detection (a low-dimensional manifold plus points drawn off it). Both are
deterministic for a seed.
"""

from __future__ import annotations

import numpy as np

from vaelib import _checks

SHAPE_NAMES = ("square", "circle", "triangle")

# Ranges of the factors of `make_shapes`, in units of the image side (positions of the centre,
# half-width of the shape). Every shape lies inside the image: 0.7 + 0.3 <= 1, 0.3 - 0.3 >= 0.
SIZE_RANGE = (0.15, 0.3)
POSITION_RANGE = (0.3, 0.7)
_BACKGROUND = 0.05  # grey level of the dark background
_SATURATION = 0.8
_CHUNK = 1024  # images rendered at once, to bound memory

_TABULAR_HIDDEN = 32  # width of the random nonlinear map of `make_tabular`
_TABULAR_NOISE = 0.05  # standard deviation of the noise added to standardised features
_TABULAR_MAP_SEED = 20_240_611  # the map depends on num_features only, not on `seed`


def _check_fraction(name: str, value) -> float:
    value = _checks.check_float(name, value, minimum=0.0)
    if value >= 1.0:
        raise ValueError(f"Expected {name} < 1. Received: {name}={value!r}")
    return value


def _hue_to_rgb(hue: np.ndarray) -> np.ndarray:
    """RGB colours of saturation 0.8 and value 1 for hues in [0, 1); shape (n,) -> (n, 3)."""
    k = (np.array([5.0, 3.0, 1.0], dtype=np.float32) + 6.0 * hue[:, None]) % 6.0
    return 1.0 - _SATURATION * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def _coverage(shape, size, x, y, image_size: int) -> np.ndarray:
    """How much of each pixel each shape covers, in [0, 1]; shape (n, image_size, image_size).

    Each shape is a level set ``level <= 1`` of coordinates scaled by its half-width; the edge
    is anti-aliased over about one pixel.
    """
    grid = (np.arange(image_size, dtype=np.float32) + 0.5) / image_size
    dx = (grid[None, None, :] - x[:, None, None]) / size[:, None, None]
    dy = (grid[None, :, None] - y[:, None, None]) / size[:, None, None]
    levels = np.stack(
        [
            np.maximum(np.abs(dx), np.abs(dy)),  # square
            np.sqrt(dx**2 + dy**2),  # circle
            np.maximum(dy, 2.0 * np.abs(dx) - dy),  # triangle, apex up, base at dy = 1
        ]
    )
    level = np.take_along_axis(levels, shape[None, :, None, None], axis=0)[0]
    pixels_inside = (1.0 - level) * size[:, None, None] * image_size
    return np.clip(pixels_inside + 0.5, 0.0, 1.0)


def make_shapes(
    num_examples: int, image_size: int = 32, seed: int = 0
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Images of one coloured shape on a dark background, with their factors of variation.

    The factors are drawn independently and uniformly: ``"shape"``, an int in 0..2 (see
    `SHAPE_NAMES`: square, circle, triangle); ``"hue"`` in [0, 1) (the colour, at saturation
    0.8 and full brightness); ``"size"``, the shape's half-width as a fraction of the image
    side, in `SIZE_RANGE`; ``"x"`` and ``"y"``, its centre (from the left and from the top) as
    fractions of the image side, in `POSITION_RANGE`. Every shape lies wholly inside the image.
    The first ``n`` images of a seed are the same whatever ``num_examples`` is.

    Args:
        num_examples: how many images, >= 1.
        image_size: height and width in pixels, >= 8 (e.g. 32 or 64).
        seed: an int >= 0; the same seed gives the same images and factors.

    Returns:
        ``(images, factors)``: images float32 in [0, 1] of shape
        (num_examples, image_size, image_size, 3); factors a dict from factor name to a 1-D
        array of length num_examples (``"shape"`` int64, the others float32).
        ``factors["shape"]`` can serve as class labels.

    Example:
        >>> images, factors = make_shapes(1000, image_size=32, seed=0)
        >>> images.shape, images.dtype, sorted(factors)
        ((1000, 32, 32, 3), dtype('float32'), ['hue', 'shape', 'size', 'x', 'y'])
    """
    num_examples = _checks.check_int("num_examples", num_examples, minimum=1)
    image_size = _checks.check_int("image_size", image_size, minimum=8)
    seed = _checks.check_int("seed", seed, minimum=0)
    # One row of uniforms per image, so the first n images do not depend on num_examples.
    uniform = np.random.default_rng(seed).random((num_examples, 5)).T
    (low_size, high_size), (low_position, high_position) = SIZE_RANGE, POSITION_RANGE
    factors = {
        "shape": (uniform[0] * len(SHAPE_NAMES)).astype(np.int64),  # u < 1, so <= 2
        "hue": uniform[1].astype(np.float32) % np.float32(1.0),
        "size": (low_size + (high_size - low_size) * uniform[2]).astype(np.float32),
        "x": (low_position + (high_position - low_position) * uniform[3]).astype(np.float32),
        "y": (low_position + (high_position - low_position) * uniform[4]).astype(np.float32),
    }
    images = np.empty((num_examples, image_size, image_size, 3), dtype=np.float32)
    for start in range(0, num_examples, _CHUNK):
        part = {name: values[start : start + _CHUNK] for name, values in factors.items()}
        alpha = _coverage(part["shape"], part["size"], part["x"], part["y"], image_size)
        colour = _hue_to_rgb(part["hue"])[:, None, None, :]
        alpha = alpha[..., None]
        images[start : start + _CHUNK] = _BACKGROUND * (1.0 - alpha) + colour * alpha
    return images, factors


def _tabular_map(num_features: int):
    """A fixed random nonlinear map from latent factors to features, and its latent size."""
    latent_dim = max(1, min(3, num_features // 4))
    rng = np.random.default_rng([_TABULAR_MAP_SEED, num_features])
    w1 = rng.normal(0.0, 1.5 / np.sqrt(latent_dim), (latent_dim, _TABULAR_HIDDEN))
    b1 = rng.normal(0.0, 0.5, _TABULAR_HIDDEN)
    w2 = rng.normal(0.0, 1.0 / np.sqrt(_TABULAR_HIDDEN), (_TABULAR_HIDDEN, num_features))
    reference = np.tanh(rng.normal(size=(4096, latent_dim)) @ w1 + b1) @ w2
    mean, std = reference.mean(axis=0), reference.std(axis=0)

    def features(latent: np.ndarray) -> np.ndarray:
        return (np.tanh(latent @ w1 + b1) @ w2 - mean) / std

    return features, latent_dim


def make_tabular(
    num_examples: int, num_features: int = 20, anomaly_fraction: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Tabular data on a low-dimensional nonlinear manifold, with optional anomalies.

    An inlier is ``f(z) + noise``: ``z`` holds a few standard-normal latent factors
    (``min(3, num_features // 4)``, at least 1), ``f`` is a fixed random one-hidden-layer tanh
    map, standardised so that each feature of the inliers has mean about 0 and standard
    deviation about 1, and the noise is Gaussian with standard deviation 0.05. ``f`` depends
    only on ``num_features``, so different seeds give fresh samples of the same distribution
    (e.g. a training set with seed 0, a test set with seed 1).

    An anomaly takes each feature from a different random inlier: its features have the
    inliers' marginal distributions, but not their dependence, so it lies off the manifold.
    A per-feature check cannot find it; a model of the joint distribution (a VAE) can.

    Args:
        num_examples: how many rows, >= 1.
        num_features: how many columns, >= 2.
        anomaly_fraction: the share of anomalies, in [0, 1); their number is
            ``round(anomaly_fraction * num_examples)``, at rows chosen at random.
        seed: an int >= 0; the same seed gives the same data.

    Returns:
        ``(x, is_anomaly)``: x float32 of shape (num_examples, num_features); is_anomaly bool
        of shape (num_examples,).

    Example:
        >>> x, is_anomaly = make_tabular(1000, num_features=20, anomaly_fraction=0.05, seed=0)
        >>> x.shape, x.dtype, int(is_anomaly.sum())
        ((1000, 20), dtype('float32'), 50)
    """
    num_examples = _checks.check_int("num_examples", num_examples, minimum=1)
    num_features = _checks.check_int("num_features", num_features, minimum=2)
    anomaly_fraction = _check_fraction("anomaly_fraction", anomaly_fraction)
    seed = _checks.check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    features, latent_dim = _tabular_map(num_features)
    x = features(rng.normal(size=(num_examples, latent_dim)))
    is_anomaly = np.zeros(num_examples, dtype=bool)
    num_anomalies = int(round(anomaly_fraction * num_examples))
    if num_anomalies:
        rows = rng.choice(num_examples, num_anomalies, replace=False)
        is_anomaly[rows] = True
        pool = features(rng.normal(size=(max(1024, num_anomalies), latent_dim)))
        donors = rng.integers(0, len(pool), (num_anomalies, num_features))
        x[rows] = pool[donors, np.arange(num_features)]
    x += rng.normal(0.0, _TABULAR_NOISE, x.shape)
    return x.astype(np.float32), is_anomaly
