"""The claims of chapter 7 (book/07_likelihood.ipynb), checked independently.

Each test restates one sentence of the chapter as an assertion: the sizes of Burda et al.'s
networks, their learning-rate schedule as the chapter builds it (3^i epochs per stage, 3280 in
all, the rate dropping at the end of each stage during ``fit``), the importance-weighted bound
rising with k to the exact log-likelihood of a model small enough to integrate, L_1 being the
ELBO, the IWAE's loss written out and the weights its gradient gives the samples, the rule for
active units, and the binary test images drawn once. The IWAE objective itself (k = 1 is the VAE's
loss, gradients reach the encoder) is tested in tests/test_iwae.py.

Tolerances allow for float32: with the JAX backend, Keras computes in float32 even when it is
given float64 arrays.
"""

import math

import keras
import numpy as np
import pytest
from conftest import images, to_numpy
from scipy.special import logsumexp, softmax

import vaelib
from vaelib import data
from vaelib.bounds import count_active_units
from vaelib.losses import importance_weighted_loss

LOG_2PI = math.log(2.0 * math.pi)
STAGE_EPOCHS = [3**i for i in range(8)]  # Burda et al. (2016): stage i lasts 3^i epochs
STAGE_RATES = [1e-3 * 10 ** (-i / 7) for i in range(8)]  # ... at learning rate 1e-3 10^(-i/7)


def _burda_model(**kwargs):
    return vaelib.build_mlp_vae(hidden_units=[200, 200], activation="tanh", latent_dim=50, **kwargs)


def _learning_rate(steps_per_epoch):
    """The chapter's schedule: Burda et al.'s stages, by optimizer step."""
    last_steps = np.cumsum(STAGE_EPOCHS)[:-1] * steps_per_epoch - 1  # last step of each stage
    boundaries = [int(step) for step in last_steps]
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, STAGE_RATES)


# -- the protocol: networks and schedule ---------------------------------------------------------


def test_weight_counts_and_layers_of_burdas_architecture():
    model = _burda_model()

    def dense(part):
        return [layer for layer in part.layers if isinstance(layer, keras.layers.Dense)]

    assert [layer.units for layer in dense(model.encoder)] == [200, 200, 50, 50]
    assert [layer.units for layer in dense(model.decoder)] == [200, 200, 784]
    hidden = dense(model.encoder)[:2] + dense(model.decoder)[:2]
    assert all(layer.activation is keras.activations.tanh for layer in hidden)
    assert dense(model.decoder)[-1].activation is keras.activations.linear  # logits
    assert model.encoder.count_params() == 784 * 200 + 200 + 200 * 200 + 200 + 2 * (200 * 50 + 50)
    assert model.encoder.count_params() == 217_300  # the chapter's printout
    assert model.decoder.count_params() == 50 * 200 + 200 + 200 * 200 + 200 + 200 * 784 + 784
    assert model.decoder.count_params() == 207_984


def test_burdas_schedule_has_3280_epochs_and_ends_at_a_tenth_of_the_first_rate():
    assert sum(STAGE_EPOCHS) == 3280
    assert list(np.cumsum(STAGE_EPOCHS)[:5]) == [1, 4, 13, 40, 121]
    assert STAGE_RATES[0] == pytest.approx(1e-3) and STAGE_RATES[-1] == pytest.approx(1e-4)
    assert STAGE_RATES[1] == pytest.approx(7.20e-4, rel=1e-3)  # the chapter's table, rounded
    schedule = _learning_rate(steps_per_epoch=3000)
    rates = [float(to_numpy(schedule(step))) for step in (0, 2999, 3000, 11_999, 12_000)]
    expected = [STAGE_RATES[0], STAGE_RATES[0], STAGE_RATES[1], STAGE_RATES[1], STAGE_RATES[2]]
    np.testing.assert_allclose(rates, expected, rtol=1e-6)


def test_during_fit_the_learning_rate_drops_after_epochs_1_4_and_13():
    class Record(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.rates = []

        def on_epoch_end(self, epoch, logs=None):  # the rate of the next step
            self.rates.append(float(to_numpy(self.model.optimizer.learning_rate)))

    keras.utils.set_random_seed(0)
    model = vaelib.build_mlp_vae(hidden_units=8, latent_dim=2, seed=0)
    batches = vaelib.DynamicBinarization(images(num=6), batch_size=2, seed=0)  # 3 steps per epoch
    model.compile(optimizer=keras.optimizers.Adam(_learning_rate(len(batches))))
    record = Record()
    model.fit(batches, epochs=14, callbacks=[record], verbose=0)
    stage_of_next_epoch = [1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3]  # epochs 2..15
    expected = [STAGE_RATES[stage] for stage in stage_of_next_epoch]
    np.testing.assert_allclose(record.rates, expected, rtol=1e-6)


# -- the estimator: L_k against the exact log-likelihood -------------------------------------------


def _small_model_and_data():
    """A VAE with a 1-D latent, so that log p(x) can be integrated on a grid, and binary data."""
    keras.utils.set_random_seed(3)
    model = vaelib.build_mlp_vae(
        input_shape=(12,), hidden_units=[16], activation="tanh", latent_dim=1, seed=0
    )
    hidden = model.decoder.get_layer("hidden")
    hidden.kernel.assign(4.0 * to_numpy(hidden.kernel))  # a decoder that depends on z strongly
    x = (np.random.default_rng(0).random((40, 12)) < 0.4).astype("float32")
    return model, x


def _exact_log_likelihood(model, x):
    """log p(x) = log of the integral of p(z) p(x | z) over z, on a fine grid (1-D latent)."""
    z = np.linspace(-10.0, 10.0, 8001)
    logits = to_numpy(model.decoder(z[:, None].astype("float32")))  # (grid, 12)
    log_px_z = x.astype("float64") @ logits.T - np.logaddexp(0.0, logits).sum(axis=1)
    log_prior = -0.5 * (LOG_2PI + z**2)
    return logsumexp(log_px_z + log_prior, axis=1) + math.log(z[1] - z[0])


def test_the_bound_rises_with_k_to_the_exact_log_likelihood():
    model, x = _small_model_and_data()
    exact = _exact_log_likelihood(model, x).mean()
    ks = (1, 5, 50, 500, 5000)
    means = [vaelib.importance_weighted_bound(model, x, k=k, seed=0).mean() for k in ks]
    assert all(b > a - 0.01 for a, b in zip(means, means[1:], strict=False)), means  # up to noise
    assert means[0] < means[1] < means[2]
    assert exact - means[0] > 0.3, (exact, means)  # the ELBO is well below log p(x) here
    assert abs(exact - means[-1]) < 0.02, (exact, means)  # k = 5000 is as good as exact


def test_l1_is_the_elbo_in_expectation():
    model, x = _small_model_and_data()
    repeated = np.repeat(x[:4], 5000, axis=0)  # every row gets its own draw of z
    one_sample = vaelib.importance_weighted_bound(model, repeated, k=1, seed=1).reshape(4, 5000)
    elbo = vaelib.elbo(model, x[:4], num_samples=20_000, seed=2)
    standard_error = one_sample.std(axis=1) / math.sqrt(5000)
    assert np.all(np.abs(one_sample.mean(axis=1) - elbo) < 4 * standard_error + 1e-3)


# -- the IWAE's loss -----------------------------------------------------------------------------


def test_the_written_out_iwae_loss_is_vaelibs():
    keras.utils.set_random_seed(0)
    model = _burda_model(num_samples=5, objective="iwae", seed=0)
    x = (np.random.default_rng(1).random((8, 28, 28)) < 0.3).astype("float32")
    eps = np.random.default_rng(2).standard_normal((5, 8, 50))
    z_mean, z_log_var = (to_numpy(t) for t in model.encoder(x))
    z = z_mean + np.exp(0.5 * z_log_var) * eps
    logits = to_numpy(model.decoder(z.reshape(-1, 50).astype("float32"))).reshape(5, 8, 784)
    log_px_z = np.sum(x.reshape(1, 8, 784) * logits - np.logaddexp(0.0, logits), axis=-1)
    log_w = (
        log_px_z
        - 0.5 * np.sum(LOG_2PI + z**2, axis=-1)
        + 0.5 * np.sum(LOG_2PI + z_log_var + eps**2, axis=-1)
    )
    written_out = math.log(5) - logsumexp(log_w, axis=0)
    terms = model.per_example_losses(x, eps=eps.astype("float32"))
    np.testing.assert_allclose(to_numpy(terms["total_loss"]), written_out, rtol=1e-5, atol=1e-2)


def test_the_iwae_gradient_weights_each_sample_by_its_normalised_weight():
    # d loss / d log w_i = -w_i / sum_j w_j; the VAE's average over k samples gives -1/k to each.
    log_w = np.array([0.0, -1.0, -3.0, 0.5])
    step = 1e-3
    nll = np.zeros((4, 1), "float32")

    def loss(values):
        return to_numpy(importance_weighted_loss(nll, values[:, None].astype("float32")))[0]

    slopes = []
    for shift in np.eye(4) * step:
        slopes.append((loss(log_w + shift) - loss(log_w - shift)) / (2 * step))
    np.testing.assert_allclose(slopes, -softmax(log_w), atol=2e-3)
    assert not np.allclose(-softmax(log_w), -0.25, atol=0.05)  # not the VAE's equal weights


# -- active units and the test images ------------------------------------------------------------


def test_a_dimension_is_active_when_its_posterior_mean_varies_by_more_than_a_hundredth():
    z_mean = np.stack([np.sqrt(0.02) * np.array([1.0, -1.0] * 50)] * 2, axis=1)
    z_mean[:, 1] *= math.sqrt(0.005 / 0.02)  # variances 0.02 and 0.005
    assert count_active_units(z_mean) == 1
    keras.utils.set_random_seed(0)
    model = vaelib.build_mlp_vae(hidden_units=[32], activation="tanh", latent_dim=6, seed=0)
    head = model.encoder.get_layer("z_mean")
    kernel = to_numpy(head.kernel)
    kernel[:, :4] = 0.0  # dimensions 0-3 ignore the image: their posterior mean is constant
    head.kernel.assign(kernel.astype("float32"))
    x = images(num=64)
    expected = int(np.sum(model.encode(x)[0].var(axis=0) > 0.01))
    assert vaelib.active_units(model, x) == expected <= 2


needs_mnist = pytest.mark.skipif(
    not all((data.cache_dir() / "mnist" / name).is_file() for name in data.IDX_FILES),
    reason="MNIST is not in the cache (run `make data`)",
)


@needs_mnist
def test_binary_test_images_are_drawn_once_and_the_reduced_run_scores_the_first_of_them():
    _, (first, _) = vaelib.load_mnist(num_test=100, binarize="stochastic", seed=0)
    _, (again, _) = vaelib.load_mnist(num_test=1000, binarize="stochastic", seed=0)
    _, (other, _) = vaelib.load_mnist(num_test=100, binarize="stochastic", seed=1)
    assert set(np.unique(first)) == {0.0, 1.0}
    np.testing.assert_array_equal(first, again[:100])
    assert not np.array_equal(first, other)
