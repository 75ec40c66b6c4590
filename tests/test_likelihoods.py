"""The likelihood objects against independent references."""

import math

import numpy as np
import pytest
from conftest import to_numpy
from scipy import integrate, stats

from vaelib import likelihoods
from vaelib.likelihoods import Bernoulli, ContinuousBernoulli, Gaussian

RNG = np.random.default_rng(0)


def test_bernoulli_nll_is_the_summed_binary_cross_entropy():
    x = RNG.uniform(size=(3, 4, 5)).astype("float32")
    logits = RNG.normal(0.0, 3.0, size=x.shape).astype("float32")
    p = 1.0 / (1.0 + np.exp(-logits.astype("float64")))
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=(1, 2))
    np.testing.assert_allclose(to_numpy(Bernoulli().nll(x, logits)), expected, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(Bernoulli().mean(logits)), p, rtol=1e-5)


@pytest.mark.parametrize("variance", ["fixed", "shared", "per_feature"])
def test_gaussian_nll_matches_scipy(variance):
    x = RNG.normal(size=(3, 6)).astype("float32")
    mean = RNG.normal(size=(3, 6)).astype("float32")
    likelihood = Gaussian(log_var=-1.3, variance=variance)
    likelihood.build((None, 6))
    log_var = np.full(6, -1.3)
    if variance == "per_feature":
        log_var = RNG.normal(size=6)
        likelihood.log_var.assign(log_var.astype("float32"))
    expected = -stats.norm.logpdf(x, mean, np.exp(0.5 * log_var)).sum(axis=1)
    np.testing.assert_allclose(to_numpy(likelihood.nll(x, mean)), expected, rtol=1e-5)
    assert bool(likelihood.trainable_weights) == (variance != "fixed")


LAMBDAS = [0.01, 0.3, 0.5 - 1e-4, 0.5, 0.5 + 1e-4, 0.52, 0.9, 0.999]


def _cb_density(logit):
    return lambda x: math.exp(
        -float(ContinuousBernoulli().nll(np.array([[x]]), np.array([[logit]], "float32"))[0])
    )


@pytest.mark.parametrize("lam", LAMBDAS)
def test_continuous_bernoulli_integrates_to_one_and_has_the_stated_mean(lam):
    logit = math.log(lam / (1 - lam))
    density = _cb_density(logit)
    total, _ = integrate.quad(density, 0.0, 1.0)
    assert total == pytest.approx(1.0, abs=1e-5)
    mean, _ = integrate.quad(lambda x: x * density(x), 0.0, 1.0)
    stated = float(ContinuousBernoulli().mean(np.array([logit], "float32"))[0])
    assert stated == pytest.approx(mean, abs=1e-5)


def test_continuous_bernoulli_log_normaliser_against_the_closed_form_and_continuity():
    lam = np.array([0.001, 0.2, 0.45, 0.49, 0.51, 0.8, 0.999])
    logits = np.log(lam / (1 - lam))
    closed = np.log(2 * np.arctanh(1 - 2 * lam) / (1 - 2 * lam))
    got = to_numpy(ContinuousBernoulli.log_normalizer(logits.astype("float32")))
    np.testing.assert_allclose(got, closed, rtol=1e-5)
    # Series and exact branch agree where they meet (|logit| = 0.1), and at 0 it is log 2.
    edge = to_numpy(ContinuousBernoulli.log_normalizer(np.array([0.0999, 0.1001], "float32")))
    assert abs(edge[0] - edge[1]) < 1e-4
    assert float(ContinuousBernoulli.log_normalizer(np.zeros(1, "float32"))[0]) == pytest.approx(
        math.log(2.0), abs=1e-7
    )


@pytest.mark.parametrize(
    "likelihood, params",
    [
        (Bernoulli(), np.array([[-2.0, 0.0, 3.0]], "float32")),
        (ContinuousBernoulli(), np.array([[-4.0, 0.0, 1e-4, 2.0]], "float32")),
        (Gaussian(log_var=math.log(0.25)), np.array([[-1.0, 0.5]], "float32")),
    ],
)
def test_samples_have_the_stated_mean_and_support(likelihood, params):
    draws = np.stack(
        [to_numpy(likelihood.sample(np.repeat(params, 2000, axis=0), seed=s)) for s in range(5)]
    ).reshape(-1, params.shape[1])
    mean = to_numpy(likelihood.mean(params))[0]
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.02)
    if not isinstance(likelihood, Gaussian):
        assert draws.min() >= 0 and draws.max() <= 1
    else:
        np.testing.assert_allclose(draws.std(axis=0), 0.5, atol=0.02)


def test_nll_samples_scores_each_sample_against_the_data():
    x = RNG.uniform(size=(4, 3)).astype("float32")
    params = RNG.normal(size=(5, 4, 3)).astype("float32")
    stacked = to_numpy(Bernoulli().nll_samples(x, params))
    assert stacked.shape == (5, 4)
    for s in range(5):
        np.testing.assert_allclose(stacked[s], to_numpy(Bernoulli().nll(x, params[s])), rtol=1e-6)


def test_data_rules():
    with pytest.raises(ValueError, match=r"divide by 255.*\[0, 255\]"):
        Bernoulli().check_data(np.array([[0.0, 255.0]]))
    with pytest.raises(ValueError, match="continuous Bernoulli"):
        ContinuousBernoulli().check_data(np.array([[-0.5, 0.5]]))
    with pytest.raises(ValueError, match="NaN"):
        Gaussian().check_data(np.array([[np.nan, 0.0]]))
    with pytest.warns(UserWarning, match="standardise"):
        Gaussian().check_data(np.array([[0.0, 255.0]]))
    Gaussian().check_data(np.array([[-3.0, 4.0]]))  # standardised data: no warning


def test_names_objects_and_bad_arguments():
    assert isinstance(likelihoods.get("continuous_bernoulli"), ContinuousBernoulli)
    gaussian = Gaussian(log_var=-2.0, variance="shared")
    assert likelihoods.get(gaussian) is gaussian
    with pytest.raises(ValueError, match="Received: likelihood='mse'"):
        likelihoods.get("mse")
    with pytest.raises(ValueError, match="Received: variance='learned'"):
        Gaussian(variance="learned")
    with pytest.raises(ValueError, match="Received: log_var='1.0'"):
        Gaussian(log_var="1.0")
