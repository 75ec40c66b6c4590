"""Chapter 1's claims about the importance-weighted bound on the linear-Gaussian model.

Section 1.5 draws the estimator log (1/k) sum_i p(x, z_i) / q(z_i | x), with q the prior, 500
times at each k on the chapter's model and observation, and states what the draws show: the
average climbs with k, at k = 1000 it is within 0.01 nats (and within one standard error) of the
exact log p(x), and single draws land above log p(x). The estimator is restated here (the
chapter's `iw_bound`, same seeds, same order of draws); the last test checks with more draws that
the expectation stays below log p(x) although single draws do not.
"""

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from vaelib.linear_gaussian import LinearGaussianModel

KS = (1, 10, 100, 1000)


def iw_bound(model, x, q_mean, q_cov, k, rng):
    z = rng.multivariate_normal(q_mean, q_cov, size=k)
    log_w = model.log_joint(x, z) - stats.multivariate_normal.logpdf(z, q_mean, q_cov)
    return logsumexp(log_w) - np.log(k)


@pytest.fixture(scope="module")
def chapter():
    model = LinearGaussianModel.random(latent_dim=2, data_dim=5, noise_var=1.0, seed=0)
    x = model.sample(1, seed=1)[0]
    prior_q = (np.zeros(2), np.eye(2))
    rng = np.random.default_rng(0)
    draws = {k: np.array([iw_bound(model, x, *prior_q, k, rng) for _ in range(500)]) for k in KS}
    return model, x, model.log_evidence(x), model.elbo(x, *prior_q), draws


def test_k_equal_one_is_the_elbo_and_the_average_rises_with_k(chapter):
    _, _, _, elbo, draws = chapter
    assert abs(draws[1].mean() - elbo) < 4 * draws[1].std() / np.sqrt(500)
    assert np.all(np.diff([draws[k].mean() for k in KS]) > 0)


def test_at_k_1000_the_average_is_within_a_hundredth_of_a_nat_and_one_standard_error(chapter):
    _, _, log_px, _, draws = chapter
    gap = log_px - draws[1000].mean()
    assert abs(gap) < 0.01
    assert abs(gap) < draws[1000].std() / np.sqrt(500)
    # Not yet at k = 100: there the average is more than 0.01 nats short.
    assert log_px - draws[100].mean() > 0.01


def test_single_draws_land_above_log_px_at_every_k(chapter):
    _, _, log_px, _, draws = chapter
    for k in KS:
        assert np.sum(draws[k] > log_px) > 0


@pytest.mark.parametrize("k, num_draws", [(10, 20_000), (100, 5_000)])
def test_the_expectation_stays_below_log_px_while_single_draws_exceed_it(chapter, k, num_draws):
    model, x, log_px, _, _ = chapter
    rng = np.random.default_rng(k)
    draws = np.array([iw_bound(model, x, np.zeros(2), np.eye(2), k, rng) for _ in range(num_draws)])
    assert np.mean(draws > log_px) > 0.1
    assert log_px - draws.mean() > 4 * draws.std() / np.sqrt(num_draws)
