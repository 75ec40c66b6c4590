"""Numerical claims of chapter 5 (book/05_likelihoods.ipynb) that the other tests do not cover.

tests/test_losses.py checks the loss functions against SciPy and NumPy, and
tests/test_claims_beta.py checks the Bernoulli pixel-mean trap of chapter 4. Here:

- 5.1: `gaussian_nll` with a fixed sigma is D/2 log(2 pi sigma^2) + ||x - mu||^2 / (2 sigma^2), with
  the constants the chapter prints; it is negative at a perfect fit once sigma < 1 / sqrt(2 pi).
- 5.1: on binary pixels `bernoulli_nll` is minus the Bernoulli log-pmf (scipy.stats); on grey
  levels its floor is the summed entropy, reached at p = x; near p = x it is a parabola with
  curvature 1 / (x (1 - x)) (a Gaussian with per-pixel variance x (1 - x)).
- 5.3: summed squared error + 2 sigma^2 KL is 2 sigma^2 times the Gaussian VAE's loss minus the
  same constant for every parameter value, so both have the same minimiser (beta_eff = 2 sigma^2);
  maximum-likelihood probabilistic PCA with noise sigma^2 keeps the directions with variance
  above sigma^2, and shrinks each by sigma^2.
- 5.4: MSE averaged over the 784 pixels + w KL is (summed squared error + 784 w KL) / 784, i.e. w
  times the Gaussian VAE's loss at sigma^2 = 392 w minus its constant (sigma^2 = 392 w / d when
  the KL is also averaged over d latent dimensions), with the values of sigma the chapter states.
  The thresholds on w: sigma^2 < lambda_max (w < 2 lambda_max / D) gives a rate above zero, not
  one nat; one nat needs sigma^2 <= e^-2 lambda_max; 392 * 0.1 / 16 = 2.45 leaves 5 directions.
- 5.1: the continuous Bernoulli's normaliser is 1 / integral of the Bernoulli formula, equal to
  l / (2p - 1) = 2 artanh(1 - 2p) / (1 - 2p) = l / tanh(l / 2), at least 2 (the limit at p = 1/2);
  its loss is the cross-entropy minus sum log C and can be negative; its mean lies between p and
  1/2. It is a density on [0, 1]^D (the Bernoulli formula integrates to at most 2^-D there), so a
  VAE's marginal integrates to 1 and its ELBO is below log p(x) for grey-level images.
- 5.2: a draw x ~ p(x | z) from `sample` lies at squared distance sum Var(x_i | z) from the mean:
  D sigma^2 = 784 for the Gaussian with sigma = 1 (most pixels outside [0, 1]), sum p(1 - p) for
  the Bernoulli, whose draws are binary.
"""

import math

import keras
import numpy as np
import pytest
from conftest import to_numpy
from scipy import integrate, optimize, stats
from scipy.special import entr

import vaelib

NUM_PIXELS = 784


def _images(seed, batch=8):
    return np.random.default_rng(seed).random((batch, 28, 28)).astype("float32")


@pytest.mark.parametrize(
    "sigma, printed_constant", [(1.0, 720.4), (0.3, -223.5), (0.1, -1084.8), (2.0, None)]
)
def test_gaussian_nll_is_scaled_squared_error_plus_visible_constant(sigma, printed_constant):
    x = _images(0)
    noise = np.random.default_rng(1).normal(0.0, 0.2, x.shape)
    mean = (x + noise).astype("float32")
    squared_error = np.sum((x.astype("float64") - mean) ** 2, axis=(1, 2))
    constant = NUM_PIXELS / 2 * math.log(2 * math.pi * sigma**2)
    nll = to_numpy(vaelib.gaussian_nll(x, mean, math.log(sigma**2)))
    np.testing.assert_allclose(nll, constant + squared_error / (2 * sigma**2), rtol=1e-5)
    perfect = to_numpy(vaelib.gaussian_nll(x, x, math.log(sigma**2)))
    np.testing.assert_allclose(perfect, constant, rtol=1e-5)
    assert np.all((perfect < 0) == (sigma < 1 / math.sqrt(2 * math.pi)))
    if printed_constant is not None:
        assert round(constant, 1) == printed_constant


def test_bernoulli_nll_is_minus_the_bernoulli_log_pmf_on_binary_pixels():
    rng = np.random.default_rng(2)
    x = (rng.random((6, 28, 28)) < 0.3).astype("float32")
    logits = rng.normal(0.0, 4.0, x.shape).astype("float32")
    p = 1.0 / (1.0 + np.exp(-logits.astype("float64")))
    expected = -np.sum(stats.bernoulli.logpmf(x.astype(int), p), axis=(1, 2))
    np.testing.assert_allclose(to_numpy(vaelib.bernoulli_nll(x, logits)), expected, rtol=1e-5)


def test_bernoulli_nll_on_grey_levels_has_the_entropy_as_floor():
    x = _images(3)
    x[:, :5] = 0.0  # some exactly black pixels, as in MNIST
    x64 = x.astype("float64")
    floor = np.sum(entr(x64) + entr(1 - x64), axis=(1, 2))
    exact = np.log(np.clip(x64, 1e-12, 1) / np.clip(1 - x64, 1e-12, 1)).astype("float32")
    np.testing.assert_allclose(to_numpy(vaelib.bernoulli_nll(x, exact)), floor, atol=1e-3)
    assert np.all(floor > 1.0)
    rng = np.random.default_rng(4)
    for _ in range(5):
        moved = exact + rng.normal(0.0, 0.5, x.shape).astype("float32")
        assert np.all(to_numpy(vaelib.bernoulli_nll(x, moved)) > floor)


def test_bernoulli_loss_of_a_grey_pixel_is_locally_gaussian_with_variance_x_one_minus_x():
    x = np.array([0.05, 0.2, 0.5, 0.8, 0.97])
    delta = 1e-4
    for p in (x - delta, x + delta):
        excess = -(x * np.log(p) + (1 - x) * np.log(1 - p)) - (entr(x) + entr(1 - x))
        np.testing.assert_allclose(excess / ((p - x) ** 2 / (2 * x * (1 - x))), 1.0, atol=3e-3)


def _independent_terms(model, x, eps):
    """Squared error and KL of a VAE computed with NumPy from its encoder and decoder."""
    z_mean, z_log_var = (to_numpy(t) for t in model.encoder(x))
    z = (z_mean + np.exp(0.5 * z_log_var) * eps).astype("float32")
    x_hat = to_numpy(model.decoder(z))
    squared_error = np.sum((x.astype("float64") - x_hat) ** 2, axis=(1, 2))
    kl = 0.5 * np.sum(z_mean**2 + np.exp(z_log_var) - 1.0 - z_log_var, axis=1)
    return squared_error, kl


@pytest.mark.parametrize("sigma", [1.0, 0.1])
def test_squared_error_plus_two_sigma_squared_kl_has_the_gaussian_vaes_minimiser(sigma):
    model = vaelib.build_mlp_vae(
        hidden_units=16,
        latent_dim=3,
        likelihood=vaelib.Gaussian(log_var=math.log(sigma**2)),
        seed=0,
    )
    x = _images(5, batch=16)
    eps = np.random.default_rng(6).normal(size=(16, 3)).astype("float32")
    constant = NUM_PIXELS * sigma**2 * math.log(2 * math.pi * sigma**2)
    rng = np.random.default_rng(7)
    for _ in range(3):  # several parameter values: one affine map for all, hence one minimiser
        loss = to_numpy(model.per_example_losses(x, eps=eps)["total_loss"])
        squared_error, kl = _independent_terms(model, x, eps)
        np.testing.assert_allclose(
            2 * sigma**2 * loss - constant, squared_error + 2 * sigma**2 * kl, rtol=1e-4
        )
        for part in (model.encoder, model.decoder):
            part.set_weights([w + rng.normal(0.0, 0.3, w.shape) for w in part.get_weights()])


def test_probabilistic_pca_keeps_the_directions_with_variance_above_sigma_squared():
    eigenvalues, noise_var = np.array([3.0, 1.5, 0.6, 0.2]), 1.0
    basis, _ = np.linalg.qr(np.random.default_rng(8).normal(size=(4, 4)))
    covariance = basis @ np.diag(eigenvalues) @ basis.T

    def negative_log_likelihood(flat):  # per data point, up to a constant
        w = flat.reshape(4, 4)
        c = w @ w.T + noise_var * np.eye(4)
        return 0.5 * (np.linalg.slogdet(c)[1] + np.trace(np.linalg.solve(c, covariance)))

    start = np.random.default_rng(9).normal(size=16)
    fit = optimize.minimize(negative_log_likelihood, start, method="BFGS", options={"gtol": 1e-9})
    w = fit.x.reshape(4, 4)
    kept = np.sort(np.linalg.eigvalsh(w @ w.T))[::-1]
    np.testing.assert_allclose(kept, np.maximum(eigenvalues - noise_var, 0.0), atol=1e-3)


@pytest.mark.parametrize(
    "kl_weight, latent_dim, kl_mean_over_z, stated_sigma, stated_beta",
    [
        (1.0, 16, False, 19.80, 784.0),
        (0.1, 16, False, 6.26, 78.4),
        (0.1, 16, True, 1.57, 4.9),
    ],
)
def test_pixel_mean_mse_plus_kl_is_a_gaussian_vae_with_sigma_squared_392_w(
    kl_weight, latent_dim, kl_mean_over_z, stated_sigma, stated_beta
):
    rng = np.random.default_rng(10)
    x = _images(11, batch=32).reshape(32, NUM_PIXELS)
    x_hat = rng.random((32, NUM_PIXELS)).astype("float32")
    z_mean = rng.normal(size=(32, latent_dim)).astype("float32")
    z_log_var = rng.normal(0.0, 0.5, size=(32, latent_dim)).astype("float32")
    kl = to_numpy(vaelib.kl_standard_normal(z_mean, z_log_var))
    # The complaint's loss, as a script computes it: Keras's MSE averages over the pixels.
    mse = to_numpy(keras.losses.mean_squared_error(x, x_hat))
    weight = kl_weight / latent_dim if kl_mean_over_z else kl_weight
    trap = mse + weight * kl
    summed = np.sum((x.astype("float64") - x_hat) ** 2, axis=1)
    beta_eff = NUM_PIXELS * weight
    np.testing.assert_allclose(trap, (summed + beta_eff * kl) / NUM_PIXELS, rtol=1e-5)
    sigma_squared = NUM_PIXELS * weight / 2
    gaussian = to_numpy(vaelib.gaussian_nll(x, x_hat, math.log(sigma_squared))) + kl
    constant = NUM_PIXELS / 2 * math.log(2 * math.pi * sigma_squared)
    # float32 resolves the Gaussian loss (a few thousand nats) to ~1e-3 nats: compare on its scale.
    np.testing.assert_allclose(trap / weight, gaussian - constant, atol=0.01)
    assert round(math.sqrt(sigma_squared), 2) == stated_sigma
    assert round(beta_eff, 4) == stated_beta


# The largest eigenvalues of the MNIST training images' covariance, as the chapter prints them.
PRINTED_EIGENVALUES = np.array([5.12, 3.74, 3.25, 2.84, 2.57, 2.27])


def _best_rate(eigenvalue, sigma_squared):
    """The rate R >= 0 minimising eigenvalue e^(-2R) / (2 sigma^2) + R (section 5.3)."""
    fit = optimize.minimize_scalar(
        lambda r: eigenvalue * math.exp(-2 * r) / (2 * sigma_squared) + r,
        bounds=(0.0, 20.0),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return fit.x


def test_the_threshold_on_w_gives_a_rate_above_zero_and_one_nat_needs_a_smaller_w():
    lambda_max = PRINTED_EIGENVALUES[0]
    any_rate = 2 * lambda_max / NUM_PIXELS  # sigma^2 = 392 w < lambda_max
    one_nat = 2 * math.exp(-2) * lambda_max / NUM_PIXELS
    assert round(any_rate, 3) == 0.013 and round(one_nat, 4) == 0.0018
    assert _best_rate(lambda_max, 392 * 1.01 * any_rate) < 1e-6  # above the threshold: nothing
    just_below = _best_rate(lambda_max, 392 * 0.99 * any_rate)
    assert 1e-3 < just_below < 0.1  # below it the rate is positive, but far from one nat
    assert _best_rate(lambda_max, 392 * one_nat) == pytest.approx(1.0, abs=1e-5)
    # The chapter's other numbers: sigma^2 = 39.2 at w = 0.1 is almost eight lambda_max; with the
    # KL averaged over 16 dimensions sigma^2 = 2.45 and five directions lie above it.
    assert round(392 * 0.1, 1) == 39.2 and round(392 * 0.1 / lambda_max, 1) == 7.7
    sigma_squared = NUM_PIXELS * 0.1 / 16 / 2
    assert round(sigma_squared, 2) == 2.45 and np.sum(PRINTED_EIGENVALUES > sigma_squared) == 5


def _cb_normaliser_by_quadrature(p):
    return 1 / integrate.quad(lambda t: p**t * (1 - p) ** (1 - t), 0.0, 1.0)[0]


@pytest.mark.parametrize("p", [1e-4, 0.05, 0.3, 0.49, 0.4999, 0.5001, 0.51, 0.8, 0.9999])
def test_continuous_bernoulli_normaliser_in_the_chapters_three_forms(p):
    logit = math.log(p / (1 - p))
    by_quadrature = _cb_normaliser_by_quadrature(p)
    assert logit / (2 * p - 1) == pytest.approx(by_quadrature, rel=1e-7)
    assert 2 * math.atanh(1 - 2 * p) / (1 - 2 * p) == pytest.approx(by_quadrature, rel=1e-7)
    assert logit / math.tanh(logit / 2) == pytest.approx(by_quadrature, rel=1e-7)
    log_c = vaelib.ContinuousBernoulli.log_normalizer(np.array([logit], "float32"))
    assert math.exp(float(to_numpy(log_c)[0])) == pytest.approx(by_quadrature, rel=1e-5)
    assert by_quadrature > 2.0


def test_continuous_bernoulli_normaliser_is_two_at_one_half_and_grows_like_the_logit():
    assert _cb_normaliser_by_quadrature(0.5) == pytest.approx(2.0, rel=1e-12)
    logits = np.array([0.0, 1e-3, -1e-3, 0.05, 20.0, -40.0], "float32")
    c = np.exp(to_numpy(vaelib.ContinuousBernoulli.log_normalizer(logits)))
    assert c[0] == pytest.approx(2.0, rel=1e-7)
    np.testing.assert_allclose(c[1:3], 2.0, rtol=1e-6)
    assert np.all(np.diff(c[[0, 3, 4]]) > 0)  # increasing in |l|
    np.testing.assert_allclose(c[4:] / np.abs(logits[4:]), 1.0, rtol=1e-6)


def test_continuous_bernoulli_loss_is_the_cross_entropy_minus_log_c_and_can_be_negative():
    x = _images(12)
    logits = np.random.default_rng(13).normal(0.0, 4.0, x.shape).astype("float32")
    log_c = to_numpy(vaelib.ContinuousBernoulli.log_normalizer(logits)).sum(axis=(1, 2))
    cross_entropy = to_numpy(vaelib.bernoulli_nll(x, logits))
    nll = to_numpy(vaelib.ContinuousBernoulli().nll(x, logits))
    np.testing.assert_allclose(nll, cross_entropy - log_c, rtol=1e-5)
    assert np.all(log_c >= NUM_PIXELS * math.log(2) - 1e-3)
    # The chapter's example: a black pixel predicted black with logit -5 has density about 5.
    p = 1 / (1 + math.exp(5.0))
    assert round(5 / math.tanh(2.5) * (1 - p), 0) == 5.0
    black = np.zeros((1, 28, 28), "float32")
    confident = np.full((1, 28, 28), -5.0, "float32")
    assert float(to_numpy(vaelib.ContinuousBernoulli().nll(black, confident))[0]) < 0
    assert float(to_numpy(vaelib.bernoulli_nll(black, confident))[0]) > 0


def test_continuous_bernoulli_mean_lies_between_p_and_one_half():
    p = np.array([1e-3, 0.05, 0.3, 0.45, 0.55, 0.7, 0.95, 0.999])
    logits = np.log(p / (1 - p)).astype("float32")
    mean = to_numpy(vaelib.ContinuousBernoulli().mean(logits))
    closed = p / (2 * p - 1) + 1 / (2 * np.arctanh(1 - 2 * p))
    np.testing.assert_allclose(mean, closed, atol=1e-5)
    assert np.all((mean - p) * (mean - 0.5) < 0)


def _pixel_grid(n=201):
    t = np.linspace(0.0, 1.0, n)
    return t, np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1).reshape(-1, 2)


def test_continuous_bernoulli_is_a_density_on_the_cube_and_the_bernoulli_formula_is_not():
    logits = np.array([[-3.0, 1.5]], "float32")
    t, grid = _pixel_grid()
    tiled = np.repeat(logits, len(grid), axis=0)
    cb = np.exp(-to_numpy(vaelib.ContinuousBernoulli().nll(grid.astype("float32"), tiled)))
    bernoulli = np.exp(-to_numpy(vaelib.bernoulli_nll(grid.astype("float32"), tiled)))

    def integral(values):
        return integrate.trapezoid(integrate.trapezoid(values.reshape(len(t), len(t)), t), t)

    assert integral(cb) == pytest.approx(1.0, abs=1e-4)
    c = np.exp(to_numpy(vaelib.ContinuousBernoulli.log_normalizer(logits)))[0]
    assert integral(bernoulli) == pytest.approx(1 / np.prod(c), rel=1e-4)
    assert integral(bernoulli) < 0.25  # at most 1/2 per pixel


def test_a_continuous_bernoulli_vaes_elbo_is_below_log_p_x_of_a_normalised_marginal():
    # Two grey pixels, a 1-D latent: p(x) = integral of p(x | z) N(z; 0, 1) dz by quadrature.
    model = vaelib.build_mlp_vae(
        input_shape=(2,), hidden_units=8, latent_dim=1, likelihood="continuous_bernoulli", seed=0
    )
    for layer in model.decoder.layers:  # larger weights: a decoder that depends clearly on z
        if layer.get_weights():
            layer.set_weights([3.0 * w for w in layer.get_weights()])
    z = np.linspace(-8.0, 8.0, 1601, dtype="float32")[:, None]
    logits = to_numpy(model.decoder(z)).astype("float32")
    prior = stats.norm.pdf(z[:, 0])

    def log_p(points):  # one vaelib call for all (point, z) pairs
        points = points.astype("float32")
        pairs = np.repeat(points, len(z), axis=0)
        nll = to_numpy(vaelib.ContinuousBernoulli().nll(pairs, np.tile(logits, (len(points), 1))))
        densities = np.exp(-nll).reshape(len(points), len(z))
        return np.log(integrate.trapezoid(densities * prior, z[:, 0], axis=1))

    t, grid = _pixel_grid(61)
    marginal = np.exp(log_p(grid)).reshape(len(t), len(t))
    assert integrate.trapezoid(integrate.trapezoid(marginal, t), t) == pytest.approx(1.0, abs=2e-3)
    x = np.array([[0.1, 0.9], [0.5, 0.5], [0.0, 0.3], [0.8, 0.2]], "float32")
    bound = vaelib.elbo(model, x, num_samples=4000, seed=0)
    assert np.all(bound < log_p(x))


def test_a_draw_lies_at_squared_distance_sum_of_variances_from_the_mean():
    # Section 5.2's figure of means and draws: sigma = 1 puts D sigma^2 = 784 of noise on a
    # digit; a Bernoulli draw is binary, at squared distance sum p (1 - p) from its mean.
    rng = np.random.default_rng(14)
    logits = rng.normal(-2.0, 3.0, (64, 28, 28)).astype("float32")
    p = 1 / (1 + np.exp(-logits.astype("float64")))
    means = rng.random((64, 28, 28)).astype("float32")
    gaussian = vaelib.Gaussian(log_var=0.0)
    draw = to_numpy(gaussian.sample(means, seed=0))
    distance = np.sum((draw - means) ** 2, axis=(1, 2)).mean()
    assert distance == pytest.approx(NUM_PIXELS * 1.0**2, rel=0.01)
    assert np.mean((draw < 0) | (draw > 1)) > 0.5
    bernoulli = vaelib.Bernoulli()
    draw = to_numpy(bernoulli.sample(logits, seed=0))
    assert set(np.unique(draw)) <= {0.0, 1.0}
    distance = np.sum((draw - p) ** 2, axis=(1, 2)).mean()
    assert distance == pytest.approx(np.sum(p * (1 - p), axis=(1, 2)).mean(), rel=0.03)
