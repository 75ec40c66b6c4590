"""The numeric claims of chapter 6 (book/06_conv_vae.ipynb), checked independently.

Each test restates one sentence of the chapter as an assertion: the sizes and the arithmetic of
the convolutional encoder and decoder, the three circulating mistakes (the KL averaged over latent
dimensions, the arguments of the cross-entropy swapped, a ReLU on the decoder's output) and two
facts about vaelib's Fashion-MNIST that the chapter relies on. The split itself (deterministic,
6,000 / 1,000 images per class) is tested in tests/test_data.py.

Tolerances allow for float32: with the JAX backend, Keras computes in float32 even when it is
given float64 arrays.
"""

import math

import keras
import numpy as np
import pytest
from conftest import to_numpy
from keras import layers, ops

import vaelib
from vaelib import data

LOG_2 = math.log(2.0)
CLIP = 1e-7  # Keras clips the probabilities given to binary_crossentropy to [CLIP, 1 - CLIP]


def _bce(target, prediction):
    """keras.losses.binary_crossentropy per element (its last axis has size 1)."""
    target = np.asarray(target, dtype="float32")[..., None]
    prediction = np.asarray(prediction, dtype="float32")[..., None]
    return to_numpy(keras.losses.binary_crossentropy(target, prediction))


def _kl_averaged(z_mean, z_log_var):
    """The mistake: the per-dimension KL averaged, not summed, over the latent dimensions."""
    return np.mean(0.5 * (z_mean**2 + np.exp(z_log_var) - 1.0 - z_log_var), axis=-1)


# -- the model: weights and arithmetic -----------------------------------------------------------


def _multiply_adds(model):
    """Multiply-adds of one forward pass of one example through Dense and convolution layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Dense):
            total += layer.kernel.shape[0] * layer.kernel.shape[1]
        elif isinstance(layer, layers.Conv2DTranspose):  # each input position paints a patch
            height, width, channels_in = layer.input.shape[1:]
            total += height * width * math.prod(layer.kernel_size) * channels_in * layer.filters
        elif isinstance(layer, layers.Conv2D):  # one filter application per output position
            height, width, _ = layer.output.shape[1:]
            channels_in = layer.input.shape[-1]
            total += height * width * math.prod(layer.kernel_size) * channels_in * layer.filters
    return total


def test_weight_counts_of_the_architecture_table():
    encoder, decoder = vaelib.conv_encoder(latent_dim=2), vaelib.conv_decoder(latent_dim=2)
    weights = {layer.name: layer.count_params() for layer in encoder.layers + decoder.layers}
    assert encoder.count_params() == 69_076 and decoder.count_params() == 65_089
    assert weights["conv_1"] == 320 and weights["conv_2"] == 18_496
    assert weights["deconv_1"] == 36_928 and weights["deconv_2"] == 18_464
    assert weights["logits"] == 289
    conv = encoder.count_params() + decoder.count_params()
    mlp = vaelib.mlp_encoder().count_params() + vaelib.mlp_decoder().count_params()
    assert 5.5 < mlp / conv < 6.5  # "about six times fewer weights"


def test_conv_model_does_more_arithmetic_than_the_mlp():
    encoder = _multiply_adds(vaelib.conv_encoder(latent_dim=2))
    decoder = _multiply_adds(vaelib.conv_decoder(latent_dim=2))
    mlp = _multiply_adds(vaelib.mlp_encoder()) + _multiply_adds(vaelib.mlp_decoder())
    assert 0.75e6 < mlp < 0.85e6  # "about 0.8 million together"
    assert 0.95e6 < encoder < 1.05e6  # "about 1 million"
    assert 5.6e6 < decoder < 5.8e6  # "about 5.7 million"
    assert (encoder + decoder) / mlp > 8


def test_decoder_ends_in_logits_without_activation():
    decoder = vaelib.conv_decoder(latent_dim=2)
    last = decoder.get_layer("logits")
    assert last.get_config()["activation"] == "linear" and last.filters == 1


# -- mistake (a): the KL averaged over latent dimensions -----------------------------------------


@pytest.mark.parametrize("latent_dim", [1, 2, 16, 64])
def test_averaged_kl_is_summed_kl_over_latent_dim(latent_dim):
    rng = np.random.default_rng(latent_dim)
    z_mean = rng.normal(0.0, 1.5, size=(32, latent_dim))
    z_log_var = rng.uniform(-5.0, 1.0, size=(32, latent_dim))
    summed = to_numpy(vaelib.kl_standard_normal(z_mean, z_log_var))
    np.testing.assert_allclose(_kl_averaged(z_mean, z_log_var), summed / latent_dim, rtol=1e-5)


def test_averaged_kl_loss_is_the_beta_over_latent_dim_loss_of_vaelib():
    # reconstruction + averaged KL is, example by example, the loss of a vaelib.VAE with
    # beta = 1 / latent_dim: training on one is training on the other.
    latent_dim = 4
    keras.utils.set_random_seed(0)
    model = vaelib.build_mlp_vae(hidden_units=8, latent_dim=latent_dim, beta=1 / latent_dim)
    rng = np.random.default_rng(0)
    x = rng.random((16, 28, 28)).astype("float32")
    eps = rng.standard_normal((16, latent_dim)).astype("float32")
    terms = {k: to_numpy(v) for k, v in model.per_example_losses(x, eps=eps).items()}
    z_mean, z_log_var = (np.asarray(t, dtype=np.float64) for t in model.encode(x))
    mistaken = terms["reconstruction_loss"] + _kl_averaged(z_mean, z_log_var)
    np.testing.assert_allclose(terms["total_loss"], mistaken, rtol=1e-5)


# -- mistake (b): the arguments of the cross-entropy swapped -------------------------------------


def test_correct_argument_order_is_the_bernoulli_nll():
    rng = np.random.default_rng(1)
    x = rng.random((8, 28, 28)).astype("float32")
    logits = rng.normal(0.0, 3.0, size=x.shape).astype("float32")
    probs = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    right = _bce(x, probs).sum(axis=(1, 2))
    swapped = _bce(probs, x).sum(axis=(1, 2))
    np.testing.assert_allclose(right, to_numpy(vaelib.bernoulli_nll(x, logits)), rtol=1e-3)
    assert np.all(np.abs(swapped - right) > 0.1 * right)  # a different value on every image


@pytest.mark.parametrize("grey", [0.05, 0.2, 0.3, 0.45, 0.55, 0.7, 0.9])
def test_swapped_cross_entropy_has_a_different_minimiser(grey):
    p = np.linspace(0.0, 1.0, 2001)
    x = np.full_like(p, grey)
    right, swapped = _bce(x, p), _bce(p, x)
    assert abs(p[np.argmin(right)] - grey) < 1e-3  # the likelihood is minimised at p = x
    assert p[np.argmin(swapped)] == (1.0 if grey > 0.5 else 0.0)  # the swapped one at an end
    assert swapped.min() < swapped[np.argmin(np.abs(p - grey))] - 1e-3  # p = x is not optimal
    # It is linear in p: -log(1 - x) + p * log((1 - x) / x).
    expected = -np.log1p(-grey) + p * np.log((1.0 - grey) / grey)
    np.testing.assert_allclose(swapped, expected, rtol=1e-4, atol=1e-4)


def test_swapped_cross_entropy_on_binary_pixels_is_a_scaled_absolute_error():
    # Exercise 2: with x in {0, 1} the minimiser is right again, but the loss is about 16 times
    # |x - p|: -log(1e-7) = 16.1 on black pixels and, since 1 - 1e-7 rounds to 1 - 2^-23 in
    # float32, 15.9 on white ones. A scaled absolute error, not a log-likelihood.
    p = np.linspace(0.0, 1.0, 101)
    scales = {0.0: -math.log(np.float32(CLIP)), 1.0: -math.log(1.0 - np.float32(1.0 - CLIP))}
    assert scales[0.0] == pytest.approx(16.12, abs=0.01)
    assert scales[1.0] == pytest.approx(15.94, abs=0.01)
    for pixel, scale in scales.items():
        swapped = _bce(p, np.full_like(p, pixel))
        assert p[np.argmin(swapped)] == pixel
        np.testing.assert_allclose(swapped, scale * np.abs(pixel - p), rtol=1e-4, atol=1e-4)


# -- mistake (c): a ReLU on the decoder's output -------------------------------------------------


def test_relu_logits_never_give_a_probability_below_one_half():
    logits = np.linspace(-50.0, 50.0, 10_001, dtype="float32")
    probs = to_numpy(ops.sigmoid(ops.relu(logits)))
    assert probs.min() == pytest.approx(0.5) and np.all(probs >= 0.5)


def test_black_pixels_cost_at_least_log_2_with_relu_logits():
    rng = np.random.default_rng(2)
    logits = rng.normal(0.0, 5.0, size=(16, 28, 28)).astype("float32")
    black = np.zeros_like(logits)
    nll = to_numpy(vaelib.bernoulli_nll(black, ops.relu(logits)))
    assert np.all(nll >= 28 * 28 * LOG_2 * (1 - 1e-6))
    # With plain logits the same black image can be reconstructed almost perfectly.
    assert float(to_numpy(vaelib.bernoulli_nll(black[:1], np.full((1, 28, 28), -20.0)))[0]) < 1e-3


def test_floor_of_the_reconstruction_loss_with_p_at_least_one_half():
    # The chapter's floor: the best p >= 1/2 costs log 2 on a pixel with x < 1/2, the binary
    # entropy H(x) (reached at p = x) otherwise.
    p = np.linspace(0.5, 1.0, 5001)
    for grey in (0.0, 0.1, 0.3, 0.49, 0.6, 0.9, 1.0):
        best = _bce(np.full_like(p, grey), p).min()
        entropy = (
            0.0 if grey in (0.0, 1.0) else -(grey * np.log(grey) + (1 - grey) * np.log1p(-grey))
        )
        expected = LOG_2 if grey < 0.5 else entropy
        assert best == pytest.approx(expected, abs=1e-3)


def test_cross_entropy_on_relu_outputs_has_zero_gradient_where_clipped():
    rng = np.random.default_rng(3)
    pre = rng.normal(0.0, 3.0, size=(4, 28, 28)).astype("float32")
    x = rng.random(pre.shape).astype("float32")

    def loss(pre_activation):
        return _bce(x, to_numpy(ops.relu(pre_activation)))

    frozen = loss(pre) == loss(pre + 0.01)
    clipped = (pre < -0.01) | (pre > 1.0)  # ReLU output 0, or above 1 - 1e-7 after the step
    assert np.all(frozen[clipped])
    assert not np.any(frozen[(pre > 0.05) & (pre < 0.9)])
    assert frozen.mean() > 0.8  # most pixels of this batch no longer learn


# -- Fashion-MNIST as the chapter uses it --------------------------------------------------------


REAL_CACHE = data.cache_dir()
needs_real_fashion = pytest.mark.skipif(
    not all((REAL_CACHE / "fashion-mnist" / name).is_file() for name in data.IDX_FILES),
    reason="the real Fashion-MNIST is not in the cache (run `make data`)",
)


@needs_real_fashion
def test_first_training_images_cover_every_class():
    # The reduced budget trains on the first 2,000 images: the interleaved order must give every
    # class roughly its share (200 each, a binomial sd of about 13).
    (_, y_train), (_, y_test) = data.load_fashion_mnist(num_train=2000, num_test=1000)
    assert np.all(np.abs(np.bincount(y_train, minlength=10) - 200) < 60)
    assert np.all(np.abs(np.bincount(y_test, minlength=10) - 100) < 40)


@needs_real_fashion
def test_about_half_the_pixels_are_exactly_black():
    (x_train, _), _ = data.load_fashion_mnist(num_train=10_000)
    assert 0.45 < float(np.mean(x_train == 0.0)) < 0.55
