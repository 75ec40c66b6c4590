"""Chapter 3's claims about noise, restated on small models so that they can fail.

Section 3.8 measures the total variance (summed over all weights) of the gradient of a VAE's loss
with respect to its weights on a fixed batch: its Monte Carlo part falls like 1/L with the number
L of codes per image. Here the same measurement runs on a small MLP VAE trained briefly on
synthetic blobs. Section 3.9 draws the importance-weighted estimate on the linear-Gaussian model of
chapter 1 with a diagonal q that is not the posterior; the example is restated (same model,
observation, q and seeds): single draws exceed the exact log p(x) while the mean stays below it.
"""

import numpy as np
import pytest
from conftest import images, small_vae
from scipy import stats
from scipy.special import logsumexp

from vaelib.gradients import weight_gradient_noise
from vaelib.linear_gaussian import LinearGaussianModel


@pytest.fixture(scope="module")
def trained():
    model = small_vae(hidden_units=32)
    x = images(512, seed=0)
    model.fit(x, epochs=20, batch_size=64, verbose=0)
    return model, x


def test_monte_carlo_variance_of_the_weight_gradient_falls_like_one_over_l(trained):
    model, x = trained
    totals = [
        weight_gradient_noise(model, x[:100], num_samples=n, num_repeats=60, seed=10 * n).total
        for n in (1, 5, 50)
    ]
    assert totals[0] > totals[1] > totals[2] > 0
    assert 2.5 < totals[0] / totals[1] < 10  # 5 for 1/L
    assert 5 < totals[1] / totals[2] < 20  # 10 for 1/L


def test_minibatch_draws_add_noise_that_more_codes_do_not_remove(trained):
    model, x = trained
    fixed = weight_gradient_noise(model, x[:100], num_samples=50, num_repeats=40, seed=1).total
    drawn = weight_gradient_noise(
        model, x, num_samples=50, num_repeats=40, batch_size=100, seed=2
    ).total
    assert drawn > 3 * fixed


# --------------------------------------------------------------------- the chapter's IW example


@pytest.fixture(scope="module")
def iw_example():
    model = LinearGaussianModel.random(latent_dim=2, data_dim=5, noise_var=1.0, seed=0)
    x = model.sample(1, seed=1)[0]
    post_mean, post_cov = model.posterior(x)
    q_mean = post_mean + 0.5 * np.sqrt(np.diag(post_cov))
    q_sd = 1.5 * np.sqrt(np.diag(post_cov))

    def estimates(k, num_draws, seed):
        eps = np.random.default_rng(seed).standard_normal((num_draws, k, 2))
        log_q = stats.norm.logpdf(eps).sum(axis=-1) - np.log(q_sd).sum()
        log_joint = model.log_joint(x, (q_mean + q_sd * eps).reshape(-1, 2))
        return logsumexp(log_joint.reshape(num_draws, k) - log_q, axis=1) - np.log(k)

    return model.log_evidence(x), {k: estimates(k, 5000, seed=k) for k in (1, 10, 100, 1000)}


def test_single_importance_weighted_draws_exceed_log_px(iw_example):
    log_px, draws = iw_example
    for d in draws.values():
        assert np.mean(d > log_px) > 0.1


@pytest.mark.parametrize("k", [1, 10, 100])
def test_the_mean_of_the_draws_stays_below_log_px(iw_example, k):
    log_px, draws = iw_example
    assert log_px - draws[k].mean() > 4 * draws[k].std() / np.sqrt(len(draws[k]))
