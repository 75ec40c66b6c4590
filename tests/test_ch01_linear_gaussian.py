"""Tests for vaelib.linear_gaussian: the exact-evidence model behind chapter 1."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from vaelib.linear_gaussian import LinearGaussianModel, gaussian_kl


def random_q(latent_dim, rng, scale=1.0):
    """A random Gaussian q: mean around 0, covariance A A^T + small ridge."""
    mean = scale * rng.standard_normal(latent_dim)
    factor = scale * rng.standard_normal((latent_dim, latent_dim))
    cov = factor @ factor.T + 0.05 * np.eye(latent_dim)
    return mean, cov


@pytest.fixture
def model():
    return LinearGaussianModel.random(latent_dim=3, data_dim=6, noise_var=0.4, seed=0)


@pytest.fixture
def x(model):
    return model.sample(1, seed=1)[0]


def test_posterior_matches_bayes_rule_on_a_grid():
    # The joint density divided by the evidence must be the posterior density.
    model = LinearGaussianModel.random(latent_dim=2, data_dim=4, seed=3)
    x = model.sample(1, seed=4)[0]
    mean, cov = model.posterior(x)
    z = np.random.default_rng(5).standard_normal((20, 2))
    expected = model.log_joint(x, z) - model.log_evidence(x)
    actual = stats.multivariate_normal.logpdf(z, mean=mean, cov=cov)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-10)


def test_elbo_equals_evidence_at_exact_posterior(model, x):
    mean, cov = model.posterior(x)
    assert abs(model.elbo(x, mean, cov) - model.log_evidence(x)) < 1e-10


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    latent_dim=st.integers(1, 4),
    data_dim=st.integers(1, 8),
    noise_var=st.floats(0.05, 5.0),
    scale=st.floats(0.1, 3.0),
)
def test_elbo_below_evidence_and_gap_is_kl(seed, latent_dim, data_dim, noise_var, scale):
    rng = np.random.default_rng(seed)
    model = LinearGaussianModel.random(latent_dim, data_dim, noise_var=noise_var, seed=seed)
    x = model.sample(1, seed=seed + 1)[0]
    q_mean, q_cov = random_q(latent_dim, rng, scale)
    log_px = model.log_evidence(x)
    elbo = model.elbo(x, q_mean, q_cov)
    post_mean, post_cov = model.posterior(x)
    kl = gaussian_kl(q_mean, q_cov, post_mean, post_cov)
    assert elbo <= log_px + 1e-10
    np.testing.assert_allclose(log_px - elbo, kl, rtol=1e-9, atol=1e-8)


def test_gap_grows_as_q_moves_away_from_posterior(model, x):
    mean, cov = model.posterior(x)
    direction = np.ones(model.latent_dim)
    gaps = [model.log_evidence(x) - model.elbo(x, mean + t * direction, cov) for t in (0, 1, 2)]
    assert gaps[0] < gaps[1] < gaps[2]
    # Shifting the mean by delta costs exactly 0.5 * delta^T cov^-1 delta.
    expected = 0.5 * direction @ np.linalg.solve(cov, direction)
    assert gaps[1] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_elbo_agrees_with_monte_carlo(seed):
    model = LinearGaussianModel.random(latent_dim=2, data_dim=5, noise_var=0.7, seed=seed)
    x = model.sample(1, seed=seed + 10)[0]
    q_mean, q_cov = random_q(2, np.random.default_rng(seed + 20), scale=0.7)
    exact = model.elbo(x, q_mean, q_cov)
    estimate, stderr = model.elbo_monte_carlo(x, q_mean, q_cov, num_samples=20_000, seed=seed)
    assert stderr > 0
    assert abs(estimate - exact) < 4 * stderr


def test_monte_carlo_elbo_has_zero_variance_at_posterior(model, x):
    # At q = p(z|x), log p(x, z) - log q(z) = log p(x) for every z.
    mean, cov = model.posterior(x)
    estimate, stderr = model.elbo_monte_carlo(x, mean, cov, num_samples=50, seed=0)
    assert estimate == pytest.approx(model.log_evidence(x), abs=1e-9)
    assert stderr < 1e-9


def test_elbo_terms_sum_to_elbo(model, x):
    q_mean, q_cov = random_q(model.latent_dim, np.random.default_rng(7))
    expected_log_lik, kl = model.elbo_terms(x, q_mean, q_cov)
    assert kl == pytest.approx(gaussian_kl(q_mean, q_cov, np.zeros(3), np.eye(3)), abs=1e-12)
    assert expected_log_lik - kl == pytest.approx(model.elbo(x, q_mean, q_cov), abs=1e-12)


@pytest.mark.parametrize("x_value", [-2.0, 0.3, 4.0])
def test_evidence_matches_numerical_integration_in_one_dimension(x_value):
    model = LinearGaussianModel([[1.5]], [0.2], noise_var=0.3)
    x = np.array([x_value])
    post_mean, post_cov = model.posterior(x)
    shift = model.log_joint(x, post_mean[None])[0]  # keeps the integrand near 1

    def integrand(z):
        return np.exp(model.log_joint(x, [[z]])[0] - shift)

    value, error = integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)
    assert error < 1e-9 * value
    assert model.log_evidence(x) == pytest.approx(np.log(value) + shift, abs=1e-9)


def test_evidence_matches_numerical_integration_with_two_pixels():
    model = LinearGaussianModel([[0.8], [-1.2]], [0.5, -0.1], noise_var=0.6)
    x = np.array([1.1, -0.7])
    value, _ = integrate.quad(lambda z: np.exp(model.log_joint(x, [[z]])[0]), -np.inf, np.inf)
    assert model.log_evidence(x) == pytest.approx(np.log(value), abs=1e-9)


def test_gaussian_kl_matches_univariate_formula_and_is_zero_on_itself():
    mean_q, var_q, mean_p, var_p = 0.3, 0.5, -1.0, 2.0
    expected = 0.5 * (var_q / var_p + (mean_p - mean_q) ** 2 / var_p - 1 + np.log(var_p / var_q))
    assert gaussian_kl([mean_q], [[var_q]], [mean_p], [[var_p]]) == pytest.approx(expected)
    mean, cov = random_q(3, np.random.default_rng(0))
    assert gaussian_kl(mean, cov, mean, cov) == pytest.approx(0.0, abs=1e-12)


def test_gaussian_kl_matches_monte_carlo():
    rng = np.random.default_rng(11)
    mean_q, cov_q = random_q(2, rng)
    mean_p, cov_p = random_q(2, rng)
    z = rng.multivariate_normal(mean_q, cov_q, size=200_000)
    log_ratio = stats.multivariate_normal.logpdf(
        z, mean_q, cov_q
    ) - stats.multivariate_normal.logpdf(z, mean_p, cov_p)
    stderr = log_ratio.std() / np.sqrt(len(z))
    assert abs(log_ratio.mean() - gaussian_kl(mean_q, cov_q, mean_p, cov_p)) < 4 * stderr


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"weight": [[1.0]], "bias": [0.0], "noise_var": -1.0}, "Expected noise_var > 0"),
        ({"weight": [[1.0]], "bias": [0.0], "noise_var": 0.0}, "Expected noise_var > 0"),
        ({"weight": [1.0, 2.0], "bias": [0.0], "noise_var": 1.0}, "Expected weight of shape"),
        (
            {"weight": [[1.0], [2.0]], "bias": [0.0], "noise_var": 1.0},
            r"Expected bias of shape \(2,\)",
        ),
    ],
)
def test_model_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LinearGaussianModel(**kwargs)


def test_methods_reject_bad_inputs(model, x):
    mean, cov = model.posterior(x)
    with pytest.raises(ValueError, match=r"Expected x of shape \(6,\)"):
        model.log_evidence(x[:3])
    with pytest.raises(ValueError, match=r"Expected q_mean of shape \(3,\)"):
        model.elbo(x, mean[:2], cov)
    with pytest.raises(ValueError, match=r"Expected q_cov of shape \(3, 3\)"):
        model.elbo(x, mean, cov[:2, :2])
    with pytest.raises(ValueError, match="Expected q_cov to be symmetric"):
        model.elbo(x, mean, cov + np.triu(np.ones((3, 3)), 1))
    with pytest.raises(ValueError, match="Expected q_cov to be positive definite"):
        model.elbo(x, mean, -cov)
    with pytest.raises(ValueError, match="Expected num_samples >= 2"):
        model.elbo_monte_carlo(x, mean, cov, num_samples=1)
    with pytest.raises(ValueError, match="Expected cov_p to be positive definite"):
        gaussian_kl(mean, cov, mean, np.zeros((3, 3)))
