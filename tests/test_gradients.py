"""Tests of vaelib.gradients: the score-function and pathwise gradient estimators."""

import keras
import numpy as np
import pytest

from vaelib import losses
from vaelib.gradients import (
    encoder_gradients,
    pathwise_gradient,
    score_function_gradient,
    weight_gradient_noise,
    weight_gradients,
)
from vaelib.networks import build_mlp_vae

# f(z) = z^2 under N(mu, sigma^2): E f = mu^2 + sigma^2, so d/dmu = 2 mu and
# d/d(log sigma^2) = sigma^2. Per-sample variances (exact, from the Gaussian moments):
# score function d/dmu: mu^4 / sigma^2 + 14 mu^2 + 15 sigma^2; pathwise d/dmu: 4 sigma^2.
MU, SIGMA = 1.0, 0.5
LOG_VAR = float(np.log(SIGMA**2))
TRUE_GRAD = (2 * MU, SIGMA**2)
EXACT_VARIANCE = {
    "score_function": MU**4 / SIGMA**2 + 14 * MU**2 + 15 * SIGMA**2,
    "pathwise": 4 * SIGMA**2,
}


def square(z):
    return z**2


def square_grad(z):
    return 2 * z


def estimates(name, num_samples, seed=0, mu=MU, log_var=LOG_VAR):
    if name == "score_function":
        return score_function_gradient(square, mu, log_var, num_samples, seed=seed)
    return pathwise_gradient(square_grad, mu, log_var, num_samples, seed=seed)


def standard_error(samples):
    return samples.std(axis=0) / np.sqrt(len(samples))


@pytest.mark.parametrize("name", ["score_function", "pathwise"])
def test_unbiased_on_the_square(name):
    grads = estimates(name, 400_000)
    for samples, truth in zip(grads, TRUE_GRAD, strict=True):
        assert samples.shape == (400_000,)
        assert abs(samples.mean() - truth) < 4 * standard_error(samples)


@pytest.mark.parametrize("name", ["score_function", "pathwise"])
def test_per_sample_variance_matches_the_exact_value(name):
    grad_mu, _ = estimates(name, 400_000)
    assert grad_mu.var() == pytest.approx(EXACT_VARIANCE[name], rel=0.05)


def test_pathwise_has_much_lower_variance():
    score = estimates("score_function", 100_000)
    path = estimates("pathwise", 100_000)
    for score_samples, path_samples in zip(score, path, strict=True):
        assert score_samples.var() / path_samples.var() > 10


@pytest.mark.parametrize("name", ["score_function", "pathwise"])
def test_variance_of_the_mean_falls_like_one_over_n(name):
    repeats = 400
    ns = np.array([10, 100, 1000])
    variances = []
    for n in ns:
        grad_mu, _ = estimates(name, repeats * n, seed=int(n))
        variances.append(grad_mu.reshape(repeats, n).mean(axis=1).var())
    slope = np.polyfit(np.log(ns), np.log(variances), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.1)
    np.testing.assert_allclose(np.array(variances) * ns, EXACT_VARIANCE[name], rtol=0.3)


def test_diagonal_gaussian_and_shared_noise():
    mu = np.array([0.5, -1.0, 2.0])
    log_var = np.array([0.0, -1.0, 0.5])
    score = score_function_gradient(lambda z: np.sum(z**2, axis=-1), mu, log_var, 200_000, seed=1)
    path = pathwise_gradient(lambda z: 2 * z, mu, log_var, 200_000, seed=1)
    for grads in (score, path):
        for samples, truth in zip(grads, (2 * mu, np.exp(log_var)), strict=True):
            assert samples.shape == (200_000, 3)
            assert np.all(np.abs(samples.mean(axis=0) - truth) < 4 * standard_error(samples))
    # The same seed draws the same eps: for f(z) = z the pathwise d/dlog_var is eps * sigma / 2.
    _, linear = pathwise_gradient(np.ones_like, mu, log_var, 5, seed=1)
    eps = np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_allclose(linear, eps * np.exp(0.5 * log_var) / 2)
    again = score_function_gradient(lambda z: np.sum(z**2, axis=-1), mu, log_var, 5, seed=1)
    np.testing.assert_allclose(again[0], score[0][:5])  # the first draws of the same stream


def test_same_seed_same_estimates():
    first, second = estimates("score_function", 10, seed=3), estimates("score_function", 10, 3)
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(first[0], estimates("score_function", 10, seed=4)[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_samples": 0}, "Expected num_samples >= 1"),
        ({"num_samples": 2.5}, "Expected num_samples >= 1"),
        ({"num_samples": True}, "Expected num_samples >= 1"),
        ({"log_var": np.zeros(2)}, "same shape"),
        ({"mu": np.nan}, "Expected finite mu and log_var"),
        ({"seed": "a"}, "Expected seed >= 0 \\(an int\\)"),
        ({"f": "square"}, "Expected f to be a callable"),
        ({"f": lambda z: np.stack([z, z], axis=-1)}, r"Expected f\(z\)"),
    ],
)
def test_score_function_rejects_bad_input(kwargs, match):
    arguments = {"f": square, "mu": 0.0, "log_var": 0.0, "num_samples": 10, "seed": 0}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        score_function_gradient(**arguments)


def test_pathwise_rejects_a_derivative_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"Expected f_grad\(z\)"):
        pathwise_gradient(lambda z: np.sum(z, axis=-1), np.zeros(3), np.zeros(3), 10)
    with pytest.raises(ValueError, match="Expected f_grad to be a callable"):
        pathwise_gradient(None, 0.0, 0.0, 10)


# --------------------------------------------------------------------------- encoder level

IMAGE_SHAPE = (16,)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    vae = build_mlp_vae(input_shape=IMAGE_SHAPE, hidden_units=16, latent_dim=2, seed=0)
    for weight in vae.decoder.weights:  # a decoder whose output depends strongly on z
        weight.assign(weight * 3.0)
    return vae


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(size=(4, *IMAGE_SHAPE)).astype("float32")


def test_encoder_estimators_agree_in_mean(model, images):
    grads = encoder_gradients(model, images, num_samples=20_000, seed=0)
    assert set(grads) == {"score_function", "pathwise"}
    for score, path in zip(grads["score_function"], grads["pathwise"], strict=True):
        assert score.shape == path.shape == (20_000, 4, 2)
        difference = score.mean(axis=0) - path.mean(axis=0)
        combined = np.hypot(standard_error(score), standard_error(path))
        assert np.all(np.abs(difference) < 4 * combined)
        assert np.median(score.var(axis=0) / path.var(axis=0)) > 2


def test_encoder_pathwise_matches_finite_differences(model, images):
    grad_mean, grad_log_var = encoder_gradients(model, images, num_samples=1, seed=5)["pathwise"]
    z_mean, z_log_var = (np.asarray(a, "float64") for a in model.encode(images))
    eps = np.random.default_rng(5).standard_normal((1, *z_mean.shape))[0]

    def log_px(mean, log_var):
        z = (mean + np.exp(0.5 * log_var) * eps).astype("float32")
        outputs = model.decoder(z, training=False)
        return -keras.ops.convert_to_numpy(losses.bernoulli_nll(images, outputs)).astype("f8")

    h = 1e-3  # small enough not to cross the ReLU kinks, large for float32 round-off
    for j in range(2):
        step = h * np.eye(2)[j]
        by_mean = (log_px(z_mean + step, z_log_var) - log_px(z_mean - step, z_log_var)) / (2 * h)
        by_log_var = (log_px(z_mean, z_log_var + step) - log_px(z_mean, z_log_var - step)) / (2 * h)
        np.testing.assert_allclose(grad_mean[0, :, j], by_mean, rtol=1e-2, atol=1e-2)
        np.testing.assert_allclose(grad_log_var[0, :, j], by_log_var, rtol=1e-2, atol=1e-2)


def test_encoder_gradients_reject_bad_input(model, images, monkeypatch):
    with pytest.raises(ValueError, match="Expected num_samples >= 1"):
        encoder_gradients(model, images, num_samples=0)
    with pytest.raises(ValueError, match="Expected seed >= 0 \\(an int\\)"):
        encoder_gradients(model, images, seed=1.5)
    with pytest.raises(ValueError, match="non-empty batch"):
        encoder_gradients(model, images[:0])
    monkeypatch.setattr(keras.backend, "backend", lambda: "numpy")
    with pytest.raises(ValueError, match="Expected the tensorflow or jax backend"):
        encoder_gradients(model, images, num_samples=2)


# --------------------------------------------------------------------------- network weights


def test_weight_gradients_match_finite_differences(model, images):
    eps = np.random.default_rng(7).standard_normal((3, len(images), 2)).astype("float32")
    grads = weight_gradients(model, images, eps)
    variables = model.trainable_variables
    assert [g.shape for g in grads] == [tuple(v.shape) for v in variables]

    def loss():
        terms = model.per_example_losses(images, eps=eps)
        return float(np.mean(keras.ops.convert_to_numpy(terms["total_loss"]), dtype="float64"))

    h = 1e-3  # small enough not to cross the ReLU kinks, large for float32 round-off
    for index in (0, len(variables) - 1):  # the encoder's first kernel, the decoder's last bias
        variable = variables[index]
        start = keras.ops.convert_to_numpy(variable).copy()
        for entry in [(0,) * len(start.shape), tuple(s - 1 for s in start.shape)]:
            values = []
            for sign in (1, -1):
                moved = start.copy()
                moved[entry] += sign * h
                variable.assign(moved)
                values.append(loss())
            variable.assign(start)
            by_difference = (values[0] - values[1]) / (2 * h)
            assert grads[index][entry] == pytest.approx(by_difference, rel=1e-2, abs=1e-3)


@pytest.mark.parametrize("batch_size", [None, 3])
def test_weight_gradient_noise_is_the_variance_of_the_gradients(model, images, batch_size):
    # Redraw the same noise and images as the function and compute the variances directly.
    noise = weight_gradient_noise(
        model, images, num_samples=2, num_repeats=4, batch_size=batch_size, seed=3
    )
    rng = np.random.default_rng(3)
    rows = len(images) if batch_size is None else batch_size
    draws = []
    for _ in range(4):
        chosen = images if batch_size is None else images[rng.choice(4, rows, replace=False)]
        eps = rng.standard_normal((2, rows, 2)).astype("float32")
        draws.append(np.concatenate([g.ravel() for g in weight_gradients(model, chosen, eps)]))
    draws = np.array(draws)
    encoder_size = sum(int(np.prod(v.shape)) for v in model.encoder.trainable_variables)
    assert noise.num_repeats == 4
    assert noise.total == pytest.approx(draws.var(axis=0, ddof=1).sum(), rel=1e-6)
    assert noise.encoder == pytest.approx(draws[:, :encoder_size].var(0, ddof=1).sum(), rel=1e-6)
    assert noise.encoder + noise.decoder == pytest.approx(noise.total)
    assert noise.mean_squared_norm == pytest.approx(np.sum(draws.mean(axis=0) ** 2), rel=1e-6)


def test_weight_gradient_noise_falls_with_more_samples(model, images):
    noise = [
        weight_gradient_noise(model, images, num_samples=n, num_repeats=40, seed=1).total
        for n in (1, 16)
    ]
    assert 4 < noise[0] / noise[1] < 64  # 16 when the variance is proportional to 1 / L


def test_weight_gradient_noise_rejects_bad_input(model, images):
    with pytest.raises(ValueError, match="Expected num_repeats >= 2"):
        weight_gradient_noise(model, images, num_repeats=1)
    with pytest.raises(ValueError, match="Expected batch_size <= len"):
        weight_gradient_noise(model, images, batch_size=5)
    with pytest.raises(ValueError, match="Expected num_samples >= 1"):
        weight_gradient_noise(model, images, num_samples=0)
    with pytest.raises(ValueError, match="non-empty batch"):
        weight_gradient_noise(model, images[:0])
