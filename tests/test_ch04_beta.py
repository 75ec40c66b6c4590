"""Numerical claims of chapter 4 (book/04_beta.ipynb) that the module tests do not cover.

- A reconstruction loss averaged over the pixels, plus the summed KL, is the summed loss with
  beta = 784, up to the overall factor 1/784: exactly, for the loss values.
- Keras's `binary_crossentropy` averages over the last axis: it is `bernoulli_nll` / 784.
- Summed squared error + beta * KL is 2 sigma^2 times the negative ELBO of a Gaussian decoder
  with sigma^2 = beta / 2, up to a constant.
- Adam's step barely changes when the gradient is divided by 784; SGD's step is 784 times smaller.
- The latent explorer gives the pixels different numbers of bits and takes fewer bytes than 8
  bits per weight, within 1e-2 per pixel.
"""

import keras
import numpy as np
import pytest
from conftest import to_numpy

import vaelib

NUM_PIXELS = 784


def _random_batch(seed, batch=32, latent_dim=2):
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 28, 28)).astype("float32")
    logits = rng.normal(0.0, 3.0, size=(batch, 28, 28)).astype("float32")
    z_mean = rng.normal(size=(batch, latent_dim)).astype("float32")
    z_log_var = rng.normal(size=(batch, latent_dim)).astype("float32")
    return x, logits, z_mean, z_log_var


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pixel_mean_loss_is_summed_loss_with_beta_784(seed):
    x, logits, z_mean, z_log_var = _random_batch(seed)
    summed = to_numpy(vaelib.bernoulli_nll(x, logits))
    kl = to_numpy(vaelib.kl_standard_normal(z_mean, z_log_var))
    pixel_mean_loss = summed / NUM_PIXELS + kl
    np.testing.assert_allclose(NUM_PIXELS * pixel_mean_loss, summed + NUM_PIXELS * kl, rtol=1e-12)


def test_pixel_mean_loss_matches_a_beta_784_vae():
    # The per-example total loss of a VAE with beta = 784 is 784 times the pixel-mean loss
    # computed from the same encoder outputs and the same noise.
    x, _, _, _ = _random_batch(3, batch=16)
    model = vaelib.build_mlp_vae(hidden_units=16, beta=784.0, seed=0)
    eps = np.random.default_rng(4).normal(size=(16, 2)).astype("float32")
    terms = {k: to_numpy(v) for k, v in model.per_example_losses(x, eps=eps).items()}
    pixel_mean_loss = terms["reconstruction_loss"] / NUM_PIXELS + terms["kl_loss"]
    np.testing.assert_allclose(terms["total_loss"], NUM_PIXELS * pixel_mean_loss, rtol=1e-5)


def test_keras_binary_crossentropy_averages_over_pixels():
    x, logits, _, _ = _random_batch(5)
    flat_x, flat_logits = x.reshape(-1, NUM_PIXELS), logits.reshape(-1, NUM_PIXELS)
    averaged = to_numpy(keras.losses.binary_crossentropy(flat_x, flat_logits, from_logits=True))
    summed = to_numpy(vaelib.bernoulli_nll(x, logits))
    np.testing.assert_allclose(summed, NUM_PIXELS * averaged, rtol=1e-5)


@pytest.mark.parametrize("sigma", [1.0, 0.5, 0.1])
def test_gaussian_sigma_is_beta(sigma):
    rng = np.random.default_rng(6)
    x = rng.random((32, NUM_PIXELS)).astype("float32")
    x_hat = rng.random((32, NUM_PIXELS)).astype("float32")
    z_mean, z_log_var = rng.normal(size=(32, 2)), rng.normal(size=(32, 2))
    nll = to_numpy(vaelib.gaussian_nll(x, x_hat, np.log(sigma**2)))
    kl = to_numpy(vaelib.kl_standard_normal(z_mean, z_log_var))
    constant = NUM_PIXELS / 2 * np.log(2 * np.pi * sigma**2)
    squared_error = np.sum((x.astype("float64") - x_hat) ** 2, axis=1)
    beta = 2 * sigma**2
    np.testing.assert_allclose(
        2 * sigma**2 * (nll + kl - constant), squared_error + beta * kl, rtol=1e-5
    )


def _one_step(optimizer, gradient):
    weights = keras.Variable(np.zeros(len(gradient), dtype="float32"))
    optimizer.apply([keras.ops.convert_to_tensor(gradient)], [weights])
    return keras.ops.convert_to_numpy(weights)


def test_adam_nearly_ignores_the_scale_of_the_loss_and_sgd_does_not():
    gradient = np.random.default_rng(1).normal(size=5).astype("float32")
    adam = _one_step(keras.optimizers.Adam(1e-3), gradient)
    adam_scaled = _one_step(keras.optimizers.Adam(1e-3), gradient / NUM_PIXELS)
    np.testing.assert_allclose(adam / adam_scaled, 1.0, atol=0.02)
    sgd = _one_step(keras.optimizers.SGD(1e-3), gradient)
    sgd_scaled = _one_step(keras.optimizers.SGD(1e-3), gradient / NUM_PIXELS)
    np.testing.assert_allclose(sgd / sgd_scaled, NUM_PIXELS, rtol=1e-4)


def test_mean_image_scores_about_206_nats_on_mnist():
    # The collapsed models of the chapter (pixel mean + KL, beta = 784) reach a test
    # reconstruction loss of 206.1 nats, within a nat of always predicting the mean image.
    (x_train, _), (x_test, _) = vaelib.load_mnist()
    mean_image = np.clip(x_train.mean(axis=0, dtype="float64"), 1e-7, 1 - 1e-7)
    logits = np.broadcast_to(np.log(mean_image / (1 - mean_image)), x_test.shape)
    score = to_numpy(vaelib.bernoulli_nll(x_test, logits.astype("float32"))).mean()
    assert abs(score - 205.8) < 0.05


def test_the_explorer_spends_bits_where_the_pixels_need_them():
    # Chapter 4's explorer: the pixels get different numbers of bits, and the page is smaller than
    # with 8 bits for every weight, with every pixel within 1e-2 of the model (a decoder of the
    # chapter's size, trained briefly).
    from vaelib import web

    (x_train, _), (x_test, _) = vaelib.load_mnist(num_train=5000, num_test=500)
    vaelib.set_seed(0)
    model = vaelib.build_mlp_vae(latent_dim=2, hidden_units=512, beta=1.0, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x_train, epochs=5, batch_size=128, verbose=0)
    codes = model.encode(x_test)[0]
    adaptive = web.export_decoder(model, codes=codes)
    uniform = web.export_decoder(model, max_error=None, max_bits=8, codes=codes)
    bits = np.array(adaptive["layers"][-1]["bits"])
    assert bits.min() == 2 and bits.max() > 3
    assert len(adaptive["layers"][-1]["weights"]) < len(uniform["layers"][-1]["weights"])
    values = np.linspace(-0.9 * adaptive["range"], 0.9 * adaptive["range"], 15)
    z = np.stack(np.meshgrid(values, values), axis=-1).reshape(-1, 2).astype("float32")
    assert np.abs(web.decode_exported(adaptive, z) - model.decode(z)).max() <= 1e-2
