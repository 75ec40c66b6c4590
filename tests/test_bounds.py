"""Tests of vaelib.metrics: the ELBO, the importance-weighted bound and latent usage."""

import keras
import numpy as np
import pytest

from vaelib import losses
from vaelib.bounds import (
    active_units,
    count_active_units,
    elbo,
    importance_weighted_bound,
    kl_per_dimension,
    rate_split,
    split_rate_of_codes,
)
from vaelib.networks import build_mlp_vae

IMAGE_SHAPE = (4, 4)


def _images(n, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, *IMAGE_SHAPE)).astype("float32")


def _model(likelihood="bernoulli", decoder_scale=1.0, latent_dim=2, **kwargs):
    """A tiny untrained VAE; scaling the decoder's weights makes p(x|z) depend strongly on z,
    so the true posterior is far from q and the bounds differ clearly."""
    keras.utils.set_random_seed(0)
    model = build_mlp_vae(
        input_shape=IMAGE_SHAPE,
        hidden_units=16,
        latent_dim=latent_dim,
        likelihood=likelihood,
        seed=0,
        **kwargs,
    )
    for weight in model.decoder.weights:
        weight.assign(weight * decoder_scale)
    return model


def _mean_and_error(values):
    return values.mean(), values.std() / np.sqrt(len(values))


@pytest.fixture(scope="module")
def sharp_model():
    return _model(decoder_scale=3.0)


def test_elbo_matches_per_example_losses_for_the_same_noise():
    for likelihood in ("bernoulli", "gaussian"):
        model = _model(likelihood)
        x = _images(8)
        eps = np.random.default_rng(5).standard_normal((1, 8, 2))
        expected = model.per_example_losses(x, eps=eps[0].astype("float32"))
        expected = keras.ops.convert_to_numpy(expected["reconstruction_loss"] + expected["kl_loss"])
        np.testing.assert_allclose(elbo(model, x, seed=5), -expected, rtol=1e-5, atol=1e-4)


def test_iw_bound_with_k_1_has_the_expectation_of_the_elbo(sharp_model):
    x = np.repeat(_images(20), 50, axis=0)
    difference = importance_weighted_bound(sharp_model, x, k=1, seed=1) - elbo(
        sharp_model, x, seed=2
    )
    mean, error = _mean_and_error(difference)
    assert abs(mean) < 4 * error


def test_iw_bound_is_above_the_elbo_and_grows_with_k(sharp_model):
    x = np.repeat(_images(20), 20, axis=0)
    elbo_mean, elbo_error = _mean_and_error(elbo(sharp_model, x, num_samples=10, seed=0))
    means, errors = [], []
    for k in (1, 10, 100):
        bound = importance_weighted_bound(sharp_model, x, k=k, seed=k)
        mean, error = _mean_and_error(bound)
        means.append(mean)
        errors.append(error)
    assert abs(means[0] - elbo_mean) < 4 * np.hypot(errors[0], elbo_error)
    for k_small, k_large in ((0, 1), (1, 2)):
        gap = means[k_large] - means[k_small]
        assert gap > 4 * np.hypot(errors[k_small], errors[k_large]), (means, errors)
    assert means[2] > elbo_mean


def test_iw_bound_does_not_depend_on_the_chunk_size(sharp_model):
    x = _images(10)
    whole = importance_weighted_bound(sharp_model, x, k=50, batch_size=4, chunk_size=50, seed=3)
    chunked = importance_weighted_bound(sharp_model, x, k=50, batch_size=4, chunk_size=7, seed=3)
    np.testing.assert_allclose(chunked, whole, rtol=1e-6)
    assert whole.shape == (10,)


def test_iw_bound_is_finite_for_log_weights_of_large_magnitude():
    model = _model(decoder_scale=100.0)
    x = _images(6)
    bound = importance_weighted_bound(model, x, k=20, chunk_size=3, seed=0)
    assert np.all(np.isfinite(bound))
    assert np.all(bound < -800), bound  # exp() of every log-weight underflows to 0


def test_iw_bound_reproducible_with_seed_and_progress_bar(sharp_model):
    x = _images(5)
    first = importance_weighted_bound(sharp_model, x, k=5, seed=7, progress=True)
    second = importance_weighted_bound(sharp_model, x, k=5, seed=7)
    np.testing.assert_array_equal(first, second)


def test_gaussian_iw_bound_is_finite_and_above_elbo():
    model = _model("gaussian")
    x = np.repeat(_images(10), 20, axis=0)
    bound = importance_weighted_bound(model, x, k=20, seed=0).mean()
    assert np.isfinite(bound)
    assert bound > elbo(model, x, seed=0).mean()


def test_kl_per_dimension_sums_to_the_mean_kl():
    model = _model(latent_dim=3)
    x = _images(30)
    per_dimension = kl_per_dimension(model, x, batch_size=7)
    assert per_dimension.shape == (3,)
    assert np.all(per_dimension >= 0)
    z_mean, z_log_var = model.encode(x)
    mean_kl = keras.ops.convert_to_numpy(losses.kl_standard_normal(z_mean, z_log_var)).mean()
    np.testing.assert_allclose(per_dimension.sum(), mean_kl, rtol=1e-5)


def test_count_active_units_on_given_means():
    rng = np.random.default_rng(0)
    z_mean = np.stack(
        [rng.normal(size=100), np.full(100, 2.0), 0.01 * rng.normal(size=100)], axis=1
    )
    assert count_active_units(z_mean) == 1
    assert count_active_units(z_mean, threshold=1e-6) == 2


def test_active_units_ignores_a_dimension_the_encoder_keeps_constant():
    model = _model(latent_dim=3)
    x = _images(50)
    assert active_units(model, x, threshold=0.0) == 3
    mean_layer = model.encoder.get_layer("z_mean")
    kernel, bias = mean_layer.get_weights()
    kernel[:, 1] = 0.0
    kernel[:, 0] *= 10.0
    mean_layer.set_weights([kernel, bias])
    assert active_units(model, x, threshold=0.0) == 2
    variances = np.var(keras.ops.convert_to_numpy(model.encode(x)[0]), axis=0)
    threshold = (variances[0] + variances[2]) / 2
    assert active_units(model, x, threshold=float(threshold)) == 1


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m, x: importance_weighted_bound(m, x, k=0), "k=0"),
        (lambda m, x: importance_weighted_bound(m, x, k=2.5), "k=2.5"),
        (lambda m, x: importance_weighted_bound(m, x, k=5, chunk_size=0), "chunk_size=0"),
        (lambda m, x: elbo(m, x, num_samples=0), "num_samples=0"),
        (lambda m, x: elbo(m, x[:0]), "x.shape=(0, 4, 4)"),
        (lambda m, x: kl_per_dimension(m, x, batch_size=-1), "batch_size=-1"),
        (lambda m, x: active_units(m, x, threshold=-0.1), "threshold=-0.1"),
        (lambda m, x: active_units(m, x[:1]), "shape=(1, 2)"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match="Received") as info:
        call(_model(), _images(4))
    assert message in str(info.value)


# The rate split (Hoffman & Johnson, 2016): rate = I(x; z) + KL(q(z) || p(z)).


def test_rate_split_is_zero_when_every_posterior_is_the_prior():
    zeros = np.zeros((500, 3))
    split = split_rate_of_codes(zeros, zeros, num_samples=2, seed=0)
    assert split.rate == 0.0
    assert abs(split.marginal_kl) < 1e-12 and abs(split.mutual_information) < 1e-12


def test_rate_split_matches_a_linear_gaussian_encoder():
    # x ~ N(0, 1), q(z|x) = N(a x, s^2) with a^2 + s^2 = 1: the aggregate posterior is the
    # prior N(0, 1), so KL(q(z) || p(z)) = 0 and the whole rate is I(x; z) = -log(s^2) / 2.
    n, a = 4000, 0.8
    s2 = 1.0 - a**2
    x = np.random.default_rng(1).standard_normal(n)
    z_mean = (a * x)[:, None]
    z_log_var = np.full((n, 1), np.log(s2))
    split = split_rate_of_codes(z_mean, z_log_var, num_samples=5, seed=0)
    expected_rate = 0.5 * (a**2 * np.mean(x**2) + s2 - np.log(s2) - 1.0)
    assert split.rate == pytest.approx(expected_rate, rel=1e-6)  # float32 KL on JAX
    assert split.mutual_information == pytest.approx(-0.5 * np.log(s2), abs=0.03)
    assert abs(split.marginal_kl) < 0.03
    assert split.rate == pytest.approx(split.mutual_information + split.marginal_kl)


def test_rate_split_separates_mismatch_from_information():
    # Every posterior the same N(3, 1): no information, and all the rate is prior mismatch.
    z_mean, z_log_var = np.full((300, 2), 3.0), np.zeros((300, 2))
    split = split_rate_of_codes(z_mean, z_log_var, num_samples=50, seed=0)
    assert split.rate == pytest.approx(9.0)  # 0.5 * 3^2 per dimension, two dimensions
    assert abs(split.mutual_information) < 1e-9
    # Well-separated posteriors: the information reaches its ceiling log N.
    far = np.arange(200.0)[:, None] * 100.0
    split = split_rate_of_codes(far, np.full((200, 1), -4.0), seed=0)
    assert split.mutual_information == pytest.approx(split.log_num_examples, abs=1e-6)


def test_rate_split_of_a_model_adds_up():
    model, x = _model(decoder_scale=3.0), _images(200)
    split = rate_split(model, x, num_samples=2, seed=0)
    assert split.rate == pytest.approx(float(np.sum(kl_per_dimension(model, x))))
    assert split.mutual_information <= split.log_num_examples + 1e-9
    assert split.rate == pytest.approx(split.mutual_information + split.marginal_kl)


def test_rate_split_bad_codes():
    with pytest.raises(ValueError, match="same shape"):
        split_rate_of_codes(np.zeros((5, 2)), np.zeros((5, 3)))
