"""Closed-form losses against independent NumPy / SciPy computations."""

import math

import numpy as np
import pytest
from conftest import to_numpy
from scipy import integrate, stats

from vaelib.losses import bernoulli_nll, gaussian_nll, kl_gaussians, kl_standard_normal


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def random_gaussians(rng, batch=4, latent_dim=3):
    mean = rng.normal(0.0, 1.0, (batch, latent_dim)).astype("float32")
    log_var = rng.uniform(-1.5, 1.0, (batch, latent_dim)).astype("float32")
    return mean, log_var


def test_kl_standard_normal_shape_is_per_example(rng):
    mean, log_var = random_gaussians(rng, batch=5, latent_dim=7)
    assert tuple(kl_standard_normal(mean, log_var).shape) == (5,)


def test_kl_standard_normal_is_summed_not_averaged_over_latent_dims(rng):
    mean, log_var = random_gaussians(rng, batch=2, latent_dim=4)
    per_dim = 0.5 * (mean.astype("float64") ** 2 + np.exp(log_var) - 1.0 - log_var)
    np.testing.assert_allclose(to_numpy(kl_standard_normal(mean, log_var)), per_dim.sum(1), 1e-5)


def test_kl_is_zero_at_standard_normal_and_nonnegative(rng):
    zeros = np.zeros((3, 4), dtype="float32")
    assert np.all(to_numpy(kl_standard_normal(zeros, zeros)) == 0.0)
    mean = rng.normal(0, 3, (500, 4)).astype("float32")
    log_var = rng.uniform(-5, 5, (500, 4)).astype("float32")
    assert np.all(to_numpy(kl_standard_normal(mean, log_var)) >= 0.0)
    assert np.all(to_numpy(kl_gaussians(mean, log_var, mean[::-1], log_var[::-1])) >= -1e-5)
    assert np.all(to_numpy(kl_gaussians(mean, log_var, mean, log_var)) == 0.0)


def test_kl_matches_monte_carlo_estimate(rng):
    mean, log_var = random_gaussians(rng, batch=3, latent_dim=2)
    mean, log_var = mean.astype("float64"), log_var.astype("float64")
    num = 400_000
    std = np.exp(0.5 * log_var)
    z = mean + std * rng.standard_normal((num, *mean.shape))
    log_q = stats.norm.logpdf(z, mean, std).sum(-1)
    log_p = stats.norm.logpdf(z).sum(-1)
    estimate = (log_q - log_p).mean(0)
    stderr = (log_q - log_p).std(0) / math.sqrt(num)
    closed = to_numpy(kl_standard_normal(mean, log_var))
    assert np.all(np.abs(estimate - closed) < 5 * stderr + 1e-4), (estimate, closed, stderr)


def test_kl_matches_numerical_integration(rng):
    # For diagonal Gaussians the KL is a sum of 1-D KLs; integrate each one.
    mean_q, log_var_q = random_gaussians(rng, batch=2, latent_dim=3)
    mean_p, log_var_p = random_gaussians(rng, batch=2, latent_dim=3)
    expected = np.zeros(2)
    for i in range(2):
        for j in range(3):
            q = stats.norm(mean_q[i, j], math.exp(0.5 * log_var_q[i, j]))
            p = stats.norm(mean_p[i, j], math.exp(0.5 * log_var_p[i, j]))
            value, _ = integrate.quad(
                lambda t, q=q, p=p: q.pdf(t) * (q.logpdf(t) - p.logpdf(t)), -np.inf, np.inf
            )
            expected[i] += value
    closed = to_numpy(kl_gaussians(mean_q, log_var_q, mean_p, log_var_p))
    np.testing.assert_allclose(closed, expected, rtol=1e-4, atol=1e-5)
    zeros = np.zeros_like(mean_q)
    np.testing.assert_allclose(
        to_numpy(kl_standard_normal(mean_q, log_var_q)),
        to_numpy(kl_gaussians(mean_q, log_var_q, zeros, zeros)),
        rtol=1e-6,
    )


def test_kl_gaussians_broadcasts_a_prior_over_the_batch(rng):
    mean, log_var = random_gaussians(rng, batch=4, latent_dim=3)
    prior_mean, prior_log_var = np.float32([0.5, -1, 0]), np.float32([0.2, 0, -0.3])
    expected = kl_gaussians(
        mean, log_var, np.tile(prior_mean, (4, 1)), np.tile(prior_log_var, (4, 1))
    )
    result = kl_gaussians(mean, log_var, prior_mean, prior_log_var)
    np.testing.assert_allclose(to_numpy(result), to_numpy(expected), rtol=1e-6)


def test_bernoulli_nll_equals_summed_binary_cross_entropy(rng):
    x = rng.random((4, 5, 6)).astype("float32")
    x[0] = (x[0] > 0.5).astype("float32")  # binary and grey-level targets
    logits = rng.normal(0, 3, (4, 5, 6)).astype("float32")
    p = 1.0 / (1.0 + np.exp(-logits.astype("float64")))
    expected = -(x * np.log(p) + (1 - x) * np.log1p(-p)).sum(axis=(1, 2))
    np.testing.assert_allclose(to_numpy(bernoulli_nll(x, logits)), expected, rtol=1e-5)


def test_bernoulli_nll_is_finite_and_exact_for_large_logits():
    x = np.array([[1.0, 0.0, 1.0, 0.0]], dtype="float32")
    logits = np.array([[100.0, -100.0, -100.0, 100.0]], dtype="float32")
    # Two confident right answers cost ~0, two confident wrong answers cost 100 nats each.
    np.testing.assert_allclose(to_numpy(bernoulli_nll(x, logits)), [200.0], rtol=1e-6)


def test_gaussian_nll_matches_scipy_logpdf(rng):
    x = rng.random((3, 4, 5)).astype("float32")
    mean = rng.random((3, 4, 5)).astype("float32")
    for log_var in (0.0, -1.3, rng.normal(0, 0.5, (3, 4, 5)).astype("float32")):
        expected = -stats.norm.logpdf(x, mean, np.exp(0.5 * np.asarray(log_var, "float64")))
        np.testing.assert_allclose(
            to_numpy(gaussian_nll(x, mean, log_var)), expected.sum(axis=(1, 2)), rtol=1e-5
        )


def test_gaussian_nll_with_unit_variance_is_half_squared_error_plus_constant(rng):
    x = rng.random((2, 784)).astype("float32")
    mean = rng.random((2, 784)).astype("float32")
    expected = 0.5 * ((x - mean) ** 2).sum(1) + 784 * 0.5 * math.log(2 * math.pi)
    np.testing.assert_allclose(to_numpy(gaussian_nll(x, mean, 0.0)), expected, rtol=1e-5)
