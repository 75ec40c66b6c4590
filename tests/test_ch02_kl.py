"""The numeric claims of chapter 2 (book/02_kl_closed_form.ipynb), checked independently.

Each test restates one sentence of the chapter as an assertion: the pitfalls (mean instead of
sum, the missing sigma^2 term, sign errors), the asymmetry of the KL checked against quadrature,
the log-variance parameterisation, the 1/sqrt(n) convergence of the Monte Carlo estimator and the
mode-seeking / mass-covering fits. The closed forms under test are vaelib's; the references are
computed here by other means (quadrature, sampling, finite differences, moment matching).
Section 2.6's 32-D model: the code path chapter 4 shares with it, and training continued by a
second `fit`; section 2.7's grid range.

Tolerances allow for float32: with the JAX backend, Keras computes in float32 even when it is
given float64 arrays.
"""

import math

import keras
import numpy as np
import pytest
from conftest import images, to_numpy
from scipy import integrate, optimize

import vaelib
from vaelib.losses import kl_gaussians, kl_standard_normal

LOG_2PI = math.log(2.0 * math.pi)


def _log_normal(z, mean, log_var):
    return -0.5 * (LOG_2PI + log_var + (z - mean) ** 2 / np.exp(log_var))


def _kl_by_quadrature(mean_q, log_var_q, mean_p=0.0, log_var_p=0.0):
    """KL(N(mean_q, e^log_var_q) || N(mean_p, e^log_var_p)) by numerical integration."""
    sd = math.exp(0.5 * log_var_q)

    def integrand(z):
        log_q = _log_normal(z, mean_q, log_var_q)
        return math.exp(log_q) * (log_q - _log_normal(z, mean_p, log_var_p))

    return integrate.quad(integrand, mean_q - 30 * sd, mean_q + 30 * sd, limit=200)[0]


def _kl_1d(mu, log_var):
    """vaelib's KL for one coordinate, as a float64 NumPy array of the inputs' shape."""
    mu, log_var = np.broadcast_arrays(
        np.atleast_1d(np.asarray(mu, dtype=np.float64)), np.asarray(log_var, dtype=np.float64)
    )
    return to_numpy(kl_standard_normal(mu.reshape(-1, 1), log_var.reshape(-1, 1))).reshape(mu.shape)


def _kl_formula(mu, log_var):
    """The boxed formula in float64 NumPy, one value per coordinate."""
    return 0.5 * (np.square(mu) + np.exp(log_var) - 1.0 - log_var)


# The pitfalls, written as they circulate.
def _kl_mean_over_dims(mu, log_var):
    return np.mean(0.5 * (mu**2 + np.exp(log_var) - 1.0 - log_var), axis=-1)


def _kl_without_sigma2(mu, log_var):
    return 0.5 * (mu**2 - 1.0 - log_var)


def _kl_without_minus(mu, log_var):
    return 0.5 * (1.0 + log_var - mu**2 - np.exp(log_var))


def _kl_plus_log(mu, log_var):
    return 0.5 * (mu**2 + np.exp(log_var) - 1.0 + log_var)


@pytest.fixture
def encoder_outputs():
    rng = np.random.default_rng(0)
    return rng.normal(0.0, 1.5, size=(500, 16)), rng.uniform(-8.0, 3.0, size=(500, 16))


# -- the closed form -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mu, log_var", [(0.0, 0.0), (1.5, -1.0), (-2.0, 1.0), (0.3, -4.0), (0.0, math.log(0.01))]
)
def test_closed_form_matches_quadrature(mu, log_var):
    assert _kl_1d(mu, log_var)[0] == pytest.approx(
        _kl_by_quadrature(mu, log_var), rel=1e-5, abs=1e-9
    )


def test_stated_values():
    assert _kl_1d(0.0, 0.0)[0] == 0.0
    assert _kl_1d(1.0, 0.0)[0] == pytest.approx(0.5)
    assert _kl_1d(0.0, math.log(0.01))[0] == pytest.approx(1.8076, abs=1e-4)
    assert _kl_1d(2.0, math.log(0.25))[0] == pytest.approx(2.3181, abs=1e-4)


def test_kl_nonnegative_and_zero_only_at_prior():
    rng = np.random.default_rng(1)
    mu, log_var = rng.normal(0, 3, 20_000), rng.uniform(-15, 5, 20_000)
    values = _kl_1d(mu, log_var)
    assert np.all(values >= -1e-6)  # float32 rounding next to the prior
    away = (np.abs(mu) > 1e-2) | (np.abs(log_var) > 1e-2)
    assert np.all(values[away] > 0)
    assert np.all(_kl_formula(mu, log_var) >= 0)


def test_multivariate_kl_is_the_sum_over_dimensions(encoder_outputs):
    mu, log_var = encoder_outputs
    joint = to_numpy(kl_standard_normal(mu, log_var))
    per_dimension = [
        to_numpy(kl_standard_normal(mu[:, j : j + 1], log_var[:, j : j + 1])) for j in range(16)
    ]
    np.testing.assert_allclose(joint, np.sum(per_dimension, axis=0), rtol=1e-5)


def test_general_formula_reduces_to_standard_normal(encoder_outputs):
    mu, log_var = encoder_outputs
    np.testing.assert_allclose(
        to_numpy(kl_gaussians(mu, log_var, np.zeros(16), np.zeros(16))),
        to_numpy(kl_standard_normal(mu, log_var)),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        to_numpy(kl_standard_normal(mu, log_var)), _kl_formula(mu, log_var).sum(axis=1), rtol=1e-5
    )


# -- checking by Monte Carlo ---------------------------------------------------------------------


def _kl_monte_carlo(mu, log_var, n, rng):
    z = mu + np.exp(0.5 * log_var) * rng.standard_normal(n)
    log_ratio = _log_normal(z, mu, log_var) - _log_normal(z, 0.0, 0.0)
    return log_ratio.mean(), log_ratio.std() / np.sqrt(n)


@pytest.mark.parametrize("mu, log_var", [(1.5, -1.0), (-2.0, 1.0), (0.3, -4.0)])
def test_monte_carlo_within_four_standard_errors(mu, log_var):
    estimate, stderr = _kl_monte_carlo(mu, log_var, 200_000, np.random.default_rng(1))
    assert abs(estimate - _kl_1d(mu, log_var)[0]) < 4 * stderr


@pytest.mark.parametrize("mu, log_var", [(1.5, -1.0), (-2.0, 1.0), (0.3, -4.0)])
def test_variance_of_log_ratio(mu, log_var):
    # Var_q[log q - log p] = mu^2 sigma^2 + (sigma^2 - 1)^2 / 2, as stated in section 2.2.
    rng = np.random.default_rng(2)
    z = mu + np.exp(0.5 * log_var) * rng.standard_normal(1_000_000)
    sample_var = np.var(_log_normal(z, mu, log_var) - _log_normal(z, 0.0, 0.0))
    sigma2 = math.exp(log_var)
    assert sample_var == pytest.approx(mu**2 * sigma2 + 0.5 * (sigma2 - 1) ** 2, rel=0.02)


def test_monte_carlo_error_falls_as_inverse_sqrt_n():
    mu, log_var = 1.5, -1.0
    exact = _kl_1d(mu, log_var)[0]
    rng = np.random.default_rng(3)
    ns = np.array([10, 100, 1000, 10_000])
    rms = [
        np.sqrt(
            np.mean([(_kl_monte_carlo(mu, log_var, n, rng)[0] - exact) ** 2 for _ in range(200)])
        )
        for n in ns
    ]
    slope = np.polyfit(np.log(ns), np.log(rms), 1)[0]
    assert -0.6 < slope < -0.4


# -- log sigma^2 ---------------------------------------------------------------------------------


def test_log_var_round_trip_float32():
    s = np.linspace(-20, 20, 4001, dtype=np.float32)
    back = 2.0 * np.log(np.exp(0.5 * s))
    assert back.dtype == np.float32
    assert np.max(np.abs(back - s)) < 1e-5


def test_gradient_bounded_in_log_var_but_not_in_sigma():
    # Central finite differences of the float64 formula (itself checked against vaelib).
    h = 1e-6
    log_vars = np.array([0.0, -4.6, -9.2, -13.8, -18.4, -30.0])
    np.testing.assert_allclose(_kl_1d(0.0, log_vars), _kl_formula(0.0, log_vars), rtol=1e-5)
    grad_s = (_kl_formula(0.0, log_vars + h) - _kl_formula(0.0, log_vars - h)) / (2 * h)
    assert np.all(np.abs(grad_s) <= 0.5 + 1e-6)
    np.testing.assert_allclose(grad_s, 0.5 * (np.exp(log_vars) - 1), atol=1e-6)

    def kl_of_sigma(sigma):
        return _kl_formula(0.0, 2 * np.log(sigma))

    sigma = np.array([1.0, 0.1, 0.01, 1e-3, 1e-4])
    grad_sigma = (kl_of_sigma(sigma * (1 + h)) - kl_of_sigma(sigma * (1 - h))) / (2 * h * sigma)
    np.testing.assert_allclose(grad_sigma, sigma - 1 / sigma, rtol=1e-4, atol=1e-6)
    assert abs(grad_sigma[-1]) > 9_000


def test_sigma_zero_gives_infinite_kl():
    with np.errstate(divide="ignore"):
        log_var = np.log(np.float64(0.0))
    assert np.isinf(_kl_1d(0.0, log_var)[0])


# -- the pitfalls --------------------------------------------------------------------------------


@pytest.mark.parametrize("latent_dim", [1, 2, 16, 64])
def test_mean_over_dims_is_sum_divided_by_latent_dim(latent_dim):
    rng = np.random.default_rng(latent_dim)
    mu, log_var = rng.normal(size=(64, latent_dim)), rng.uniform(-4, 0, size=(64, latent_dim))
    correct = to_numpy(kl_standard_normal(mu, log_var))
    np.testing.assert_allclose(_kl_mean_over_dims(mu, log_var), correct / latent_dim, rtol=1e-5)
    if latent_dim > 1:
        assert np.all(_kl_mean_over_dims(mu, log_var) < correct)


def test_mean_over_dims_is_a_beta_vae_with_beta_one_over_latent_dim():
    rng = np.random.default_rng(5)
    latent_dim = 16
    mu, log_var = rng.normal(size=(32, latent_dim)), rng.uniform(-4, 0, size=(32, latent_dim))
    reconstruction = rng.uniform(50, 150, size=32)
    buggy_loss = reconstruction + _kl_mean_over_dims(mu, log_var)
    beta_loss = reconstruction + (1 / latent_dim) * to_numpy(kl_standard_normal(mu, log_var))
    np.testing.assert_allclose(buggy_loss, beta_loss, rtol=1e-6)


def test_dropping_sigma2_is_wrong_negative_and_has_no_minimum():
    # Wrong at the prior itself (-1/2 instead of 0) and off by sigma^2 / 2 everywhere.
    assert _kl_without_sigma2(0.0, 0.0) == -0.5
    rng = np.random.default_rng(6)
    mu, log_var = rng.normal(size=1000), rng.uniform(-8, 3, size=1000)
    np.testing.assert_allclose(
        _kl_1d(mu, log_var) - _kl_without_sigma2(mu, log_var), 0.5 * np.exp(log_var), atol=1e-5
    )
    # Negative whenever log sigma^2 > mu^2 - 1, and decreasing without bound in log sigma^2.
    assert _kl_without_sigma2(1.0, 0.5) < 0 < _kl_without_sigma2(1.0, -0.5)
    values = _kl_without_sigma2(0.0, np.array([0.0, 10.0, 100.0, 1000.0]))
    assert np.all(np.diff(values) < 0) and values[-1] < -400
    # The correct KL's minimum over log sigma^2 is at 0 (sigma = 1).
    best = optimize.minimize_scalar(lambda s: _kl_1d(0.0, s)[0], bounds=(-10, 10), method="bounded")
    assert best.x == pytest.approx(0.0, abs=1e-4)


def test_sign_errors_go_negative_where_the_kl_is_positive():
    rng = np.random.default_rng(7)
    mu, log_var = rng.normal(0, 2, 10_000), rng.uniform(-10, 4, 10_000)
    correct = _kl_1d(mu, log_var)
    assert np.all(correct >= -1e-6)
    # Forgetting the leading minus gives exactly -KL: never positive.
    without_minus = _kl_without_minus(mu, log_var)
    np.testing.assert_allclose(without_minus, -correct, rtol=1e-5, atol=1e-5)
    assert np.all(without_minus <= 0) and np.mean(without_minus < -0.1) > 0.9
    # Flipping the log term gives negative values for part of the inputs.
    flipped = _kl_plus_log(mu, log_var)
    assert 0.05 < np.mean(flipped < 0) < 0.95
    assert _kl_plus_log(0.0, -1.0) == pytest.approx(-0.816, abs=1e-3)
    assert _kl_1d(0.0, -1.0)[0] == pytest.approx(0.184, abs=1e-3)
    # ... and it decreases without bound as sigma -> 0.
    values = _kl_plus_log(0.0, np.array([-1.0, -10.0, -100.0]))
    assert np.all(np.diff(values) < 0) and values[-1] < -50


# -- the direction -------------------------------------------------------------------------------


def test_kl_direction_asymmetric_both_checked_by_quadrature():
    q = (1.0, math.log(0.25))
    p = (0.0, 0.0)
    q_p = to_numpy(kl_gaussians(*(np.full((1, 1), v) for v in (*q, *p))))[0]
    p_q = to_numpy(kl_gaussians(*(np.full((1, 1), v) for v in (*p, *q))))[0]
    assert q_p == pytest.approx(_kl_by_quadrature(*q, *p), rel=1e-5)
    assert p_q == pytest.approx(_kl_by_quadrature(*p, *q), rel=1e-5)
    assert q_p == pytest.approx(0.8181, abs=1e-4)
    assert p_q == pytest.approx(2.8069, abs=1e-4)
    assert p_q > 3 * q_p


def test_general_formula_matches_quadrature_on_random_pairs():
    rng = np.random.default_rng(3)
    rows = np.column_stack(
        [rng.normal(0, 2, 20), rng.uniform(-5, 3, 20), rng.normal(0, 2, 20), rng.uniform(-3, 3, 20)]
    )
    by_quad = np.array([_kl_by_quadrature(*row) for row in rows])
    ours = to_numpy(kl_gaussians(rows[:, :1], rows[:, 1:2], rows[:, 2:3], rows[:, 3:4]))
    np.testing.assert_allclose(ours, by_quad, rtol=1e-5)


def test_reverse_kl_is_mode_seeking_forward_kl_is_mass_covering():
    z = np.linspace(-12, 12, 24001)
    log_target = np.logaddexp(
        math.log(0.5) + _log_normal(z, -2.0, math.log(0.36)),
        math.log(0.5) + _log_normal(z, 2.0, math.log(0.36)),
    )

    def reverse(params):
        log_q = _log_normal(z, *params)
        return np.trapezoid(np.exp(log_q) * (log_q - log_target), z)

    def forward(params):
        return np.trapezoid(np.exp(log_target) * (log_target - _log_normal(z, *params)), z)

    options = {"xatol": 1e-8, "fatol": 1e-12}
    rev = optimize.minimize(reverse, [0.5, 0.0], method="Nelder-Mead", options=options).x
    fwd = optimize.minimize(forward, [0.5, 0.0], method="Nelder-Mead", options=options).x
    # Reverse: inside one mode, about that mode's width.
    assert rev[0] == pytest.approx(2.0, abs=0.05)
    assert math.exp(0.5 * rev[1]) == pytest.approx(0.6, abs=0.05)
    # Forward: the target's mean and standard deviation (moment matching).
    assert fwd[0] == pytest.approx(0.0, abs=1e-3)
    assert math.exp(0.5 * fwd[1]) == pytest.approx(math.sqrt(0.36 + 4.0), rel=1e-3)
    # Each fit is bad under the other direction.
    assert reverse(fwd) > 1.0 and forward(rev) > 5.0


# -- the variance penalty ------------------------------------------------------------------------


def test_the_prior_penalises_a_shrinking_variance_without_bound_but_slowly():
    # Section 2.1: the prior penalises (it does not forbid) sigma -> 0; the penalty grows like
    # -log(sigma^2) / 2, so every finite sigma has a finite cost.
    log_vars = np.array([-2.0, -10.0, -50.0, -200.0])
    values = _kl_1d(0.0, log_vars)
    assert np.all(np.isfinite(values)) and np.all(np.diff(values) > 0)
    np.testing.assert_allclose(values + 0.5 * log_vars, -0.5, atol=0.07)


# -- section 2.6: the 32-D recipe, longer training, and chapter 4 ----------------------------------


def _explicit_recipe(x, epochs, latent_dim, hidden_units):
    """Chapter 4's warm-up cells without the warm-up: seed, build, compile, fit."""
    vaelib.set_seed(0)
    model = vaelib.build_mlp_vae(latent_dim=latent_dim, hidden_units=hidden_units, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x, epochs=epochs, batch_size=128, verbose=0)
    return model


def test_chapter_2s_beta_sweep_and_chapter_4s_cells_train_the_same_model():
    # The same recipe gives bit-identical weights on one backend and library: a difference in
    # the two chapters' stored counts of active units comes from the runs, not from the code.
    x = images(num=256)
    sweep = vaelib.beta_sweep(
        [1.0], x, x[:32], epochs=1, latent_dim=8, hidden_units=16, seed=0, progress=False
    )
    explicit = _explicit_recipe(x, epochs=1, latent_dim=8, hidden_units=16)
    for a, b in zip(sweep.models[1.0].get_weights(), explicit.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_second_fit_continues_training():
    # "Ten more epochs, 20 in all": a second `fit` starts from the trained weights and Adam's
    # state (its step counter goes on), not from scratch.
    x = images(num=256)
    model = _explicit_recipe(x, epochs=1, latent_dim=4, hidden_units=16)
    weights = [w.copy() for w in model.get_weights()]
    model.fit(x, epochs=1, batch_size=128, verbose=0)
    assert int(to_numpy(model.optimizer.iterations)) == 2 * 2  # 2 epochs of 2 batches
    assert any(not np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))


def test_per_axis_ranges_of_99_percent_hold_about_98_to_99_percent_jointly():
    # Section 2.7's grid spans, on each axis, the 0.5th to the 99.5th percentile of the codes:
    # about 1% of the codes fall outside on each axis (interpolated quantiles may leave one more
    # code out per tail), so between 98% and 99% lie inside. 10,000 codes, as in the chapter.
    rng = np.random.default_rng(0)
    heavy_tailed = rng.standard_t(2, size=(10_000, 2)) * [20, 15] + [60, 30]
    correlated = rng.normal(size=(10_000, 2)) @ [[1.0, 0.8], [0.0, 0.6]]
    for codes in (heavy_tailed, correlated):
        low, high = np.quantile(codes, [0.005, 0.995], axis=0)
        inside = np.mean(np.all((codes >= low) & (codes <= high), axis=1))
        assert 0.9796 <= inside <= 0.99
