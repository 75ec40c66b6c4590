"""The VAE model: training, loss bookkeeping, beta changes, validation, saving."""

import math

import keras
import numpy as np
import pytest
from conftest import LOSS_NAMES, images, small_vae, to_numpy

from vaelib.likelihoods import Bernoulli, ContinuousBernoulli, Gaussian
from vaelib.losses import bernoulli_nll, kl_standard_normal
from vaelib.models import VAE, ForwardOutput
from vaelib.networks import (
    build_conv_vae,
    build_mlp_vae,
    conv_decoder,
    conv_encoder,
    mlp_decoder,
    mlp_encoder,
)


def kernel(model, layer_name):
    return to_numpy(model.encoder.get_layer(layer_name).kernel).copy()


# --------------------------------------------------------------------------- training


def test_fit_reduces_the_loss_and_evaluate_averages_over_every_example():
    model = small_vae()
    x = images(num=80)  # batches of 64 and 16: a mean of batch means would be wrong
    before = model.evaluate(x, batch_size=64, verbose=0, return_dict=True)
    kl = to_numpy(model.per_example_losses(x)["kl_loss"])  # closed form: no sampling noise
    assert before["kl_loss"] == pytest.approx(kl.mean(), rel=1e-5)
    # Same batch sizes as evaluate (64 and 16), so the compiled steps are reused.
    history = model.fit(x, epochs=3, batch_size=64, verbose=0, validation_data=(x[:64],))
    after = model.evaluate(x, batch_size=64, verbose=0, return_dict=True)
    for name in LOSS_NAMES:
        assert name in history.history and f"val_{name}" in history.history
        assert name in before and name in after
    assert after["total_loss"] < before["total_loss"]
    assert after["loss"] == pytest.approx(after["total_loss"], rel=1e-5)


def test_one_forward_pass_per_step_and_gradients_reach_the_encoder():
    # Keras runs `y_pred = model(x)` then `compute_loss(x, y, y_pred)`; the loss must use
    # what the call returned instead of running the network again. Counted while the
    # compiled train and test steps are traced, on any backend.
    # With beta = 0 the loss depends on the encoder only through z = mean + sigma * eps,
    # so a training step that changes the encoder shows gradients pass the sampling layer.
    model = small_vae(beta=0.0, hidden_units=8)
    forward, compute_loss = model.forward, model.compute_loss
    events = []

    def counting_forward(*args, **kwargs):
        events.append("forward")
        return forward(*args, **kwargs)

    def counting_compute_loss(x=None, y=None, y_pred=None, *args, **kwargs):
        events.append("loss" if isinstance(y_pred, ForwardOutput) else "loss without y_pred")
        return compute_loss(x, y, y_pred, *args, **kwargs)

    model.forward, model.compute_loss = counting_forward, counting_compute_loss
    x = images(num=16)
    before = {name: kernel(model, name) for name in ("hidden", "z_mean", "z_log_var")}
    model.train_on_batch(x)
    for name, weights in before.items():
        assert not np.allclose(kernel(model, name), weights), f"{name} did not change"
    model.test_on_batch(x)
    assert events and events.count("forward") == events.count("loss") == len(events) // 2
    assert all(events[i : i + 2] == ["forward", "loss"] for i in range(0, len(events), 2))


def test_num_samples_averages_the_reconstruction_over_samples(shared_vae):
    model = shared_vae
    x = images(num=8)
    eps = np.random.default_rng(1).standard_normal((3, 8, 2)).astype("float32")
    stacked = model.per_example_losses(x, eps=eps)
    single = [to_numpy(model.per_example_losses(x, eps=e)["reconstruction_loss"]) for e in eps]
    np.testing.assert_allclose(
        to_numpy(stacked["reconstruction_loss"]), np.mean(single, axis=0), rtol=1e-5
    )
    drawn = model.per_example_losses(x, num_samples=4)
    assert all(tuple(value.shape) == (8,) for value in drawn.values())


def test_per_example_losses_match_an_independent_computation(shared_vae):
    model = shared_vae
    x = images(num=6)
    eps = np.random.default_rng(2).standard_normal((6, 2)).astype("float32")
    terms = model.per_example_losses(x, eps=eps)
    z_mean, z_log_var = model.encode(x)
    logits = model.decoder(z_mean + np.exp(z_log_var / 2) * eps)
    reconstruction = to_numpy(bernoulli_nll(x, logits))
    kl = to_numpy(kl_standard_normal(z_mean, z_log_var))
    np.testing.assert_allclose(to_numpy(terms["reconstruction_loss"]), reconstruction, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(terms["kl_loss"]), kl, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(terms["total_loss"]), reconstruction + 0.5 * kl, rtol=1e-5)
    for value in terms.values():
        assert tuple(value.shape) == (6,)


@pytest.mark.parametrize("variance", ["shared", "per_feature"])
def test_gaussian_likelihood_with_a_learned_variance_and_several_samples_trains(variance):
    model = small_vae(likelihood=Gaussian(variance=variance), num_samples=2)
    x = images(num=32)
    history = model.fit(x, epochs=1, batch_size=16, verbose=0).history
    assert all(math.isfinite(history[name][0]) for name in LOSS_NAMES)
    log_var = to_numpy(model.likelihood.log_var)
    assert log_var.shape == (() if variance == "shared" else (28, 28))
    assert np.all(log_var != 0.0)  # trained
    assert any(w is model.likelihood.log_var for w in model.trainable_weights)
    fixed = small_vae(likelihood=Gaussian(log_var=-2.0))
    assert not fixed.likelihood.trainable_weights
    terms = fixed.per_example_losses(x)
    assert np.all(np.isfinite(to_numpy(terms["total_loss"])))


def test_call_returns_the_same_structure_in_training_and_inference(shared_vae):
    x = images(num=4)
    for model in (shared_vae, small_vae(num_samples=3)):
        trained, inferred = model(x, training=True), model(x, training=False)
        assert type(trained) is type(inferred) is ForwardOutput
        assert [tuple(t.shape) for t in trained] == [tuple(t.shape) for t in inferred]
    assert tuple(inferred.decoder_output.shape) == (3, 4, 28, 28)


def test_a_loss_variant_overrides_loss_terms_and_trains():
    class DoubleKL(VAE):
        def loss_terms(self, x, forward_output):
            terms = super().loss_terms(x, forward_output)
            kl = 2.0 * terms["kl_loss"]
            return {**terms, "kl_loss": kl, "total_loss": terms["reconstruction_loss"] + kl}

    base = small_vae(hidden_units=8)
    model = DoubleKL(base.encoder, base.decoder, seed=0)
    model.compile(optimizer="adam")
    x = images(num=32)
    eps = np.zeros((32, 2), "float32")
    plain = VAE(base.encoder, base.decoder).per_example_losses(x, eps=eps)
    doubled = model.per_example_losses(x, eps=eps)
    np.testing.assert_allclose(to_numpy(doubled["kl_loss"]), 2 * to_numpy(plain["kl_loss"]))
    history = model.fit(x, epochs=1, batch_size=16, verbose=0).history
    assert math.isfinite(history["total_loss"][0])


# --------------------------------------------------------------------------- beta


class BetaSchedule(keras.callbacks.Callback):
    """Sets beta per epoch from ``by_epoch``; in the epoch after those, beta = batch index.

    Records each batch's loss terms in that last epoch, recovered from the running means
    that Keras reports after every batch (all batches have the same size). It holds the
    model directly rather than through ``self.model`` (which, on JAX, would sync the
    trainer's state as a side effect): assignments must work from any reference.
    """

    def __init__(self, vae, by_epoch):
        super().__init__()
        self.vae = vae
        self.by_epoch = by_epoch
        self.seen = []
        self.epoch = 0
        self.previous = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        if epoch < len(self.by_epoch):
            self.vae.beta = self.by_epoch[epoch]

    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch == len(self.by_epoch):
            self.vae.beta = float(batch)

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch != len(self.by_epoch):
            return
        means = np.array([float(logs[name]) for name in LOSS_NAMES])
        value = means if batch == 0 else (batch + 1) * means - batch * self.previous
        self.previous = means
        self.seen.append((self.vae.beta, value))


def test_beta_changed_by_a_callback_is_used_by_the_loss():
    model = small_vae(beta=1.0)
    betas = [0.0, 50.0]
    schedule = BetaSchedule(model, betas)
    history = model.fit(
        images(num=128), epochs=3, batch_size=32, verbose=0, callbacks=[schedule]
    ).history
    # Set in on_epoch_begin: the whole epoch uses the new value.
    for epoch, beta in enumerate(betas):
        expected = history["reconstruction_loss"][epoch] + beta * history["kl_loss"][epoch]
        assert history["total_loss"][epoch] == pytest.approx(expected, rel=1e-5), epoch
    # Set in on_train_batch_begin: the next step uses the new value.
    assert [beta for beta, _ in schedule.seen] == [0.0, 1.0, 2.0, 3.0]
    for beta, (reconstruction, kl, total) in schedule.seen:
        assert total == pytest.approx(reconstruction + beta * kl, rel=1e-4, abs=1e-3)
    assert model.beta == 3.0


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("beta", [-1.0, float("nan"), float("inf"), "a", "1.0", None, True])
def test_bad_beta_is_a_value_error(beta, shared_vae):
    with pytest.raises(ValueError, match="Received: beta="):
        build_mlp_vae(hidden_units=4, beta=beta)
    with pytest.raises(ValueError, match="Received: beta="):
        shared_vae.beta = beta
    assert shared_vae.beta == 0.5


@pytest.mark.parametrize(
    "builder", [mlp_encoder, mlp_decoder, conv_encoder, conv_decoder, build_mlp_vae]
)
def test_latent_dim_below_one_is_a_value_error(builder):
    with pytest.raises(ValueError, match="Received: latent_dim=0"):
        builder(latent_dim=0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"likelihood": "poisson"}, "likelihood='poisson'"),
        ({"num_samples": 0}, "num_samples=0"),
        ({"likelihood": Gaussian(log_var=-1.0).__class__}, "likelihood=<class"),
        ({"seed": -1}, "seed=-1"),
    ],
)
def test_bad_model_arguments_are_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_mlp_vae(hidden_units=4, **kwargs)


def test_mismatched_encoder_and_decoder_are_a_value_error():
    with pytest.raises(ValueError, match="latent_dim=3"):
        VAE(mlp_encoder(latent_dim=3, hidden_units=4), mlp_decoder(latent_dim=2, hidden_units=4))


def test_bad_data_is_a_value_error(shared_vae):
    model = shared_vae
    x = images(num=8)
    with pytest.raises(ValueError, match=r"\(batch, 28, 28\).*x.shape=\(8, 784\)"):
        model.fit(x.reshape(8, 784), verbose=0)
    with pytest.raises(ValueError, match="x.shape=\\(8, 784\\)"):
        model.encode(x.reshape(8, 784))
    with pytest.raises(ValueError, match="x.shape"):
        model(x.reshape(8, 784))
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        model.evaluate(bad, verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 1\].*values in \[0, 255\]"):
        model.fit(np.round(x * 255), verbose=0)
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(x, verbose=0, validation_data=(x - 1.0,))
    gaussian = VAE(model.encoder, model.decoder, likelihood="gaussian")
    gaussian.check_data(x * 3)  # any finite value of a sane scale is fine for a Gaussian
    with pytest.warns(UserWarning, match="divide by 255"):
        gaussian.check_data(x * 255)


def test_conv_vae_accepts_every_image_layout():
    for shape in ((28, 28, 1), (28, 28), (784,)):
        model = build_conv_vae(input_shape=shape, seed=0)
        assert model.data_shape == shape
        assert tuple(model.decoder.outputs[0].shape) == (None, *shape)
    x = images(num=4, shape=shape)
    assert tuple(model.per_example_losses(x)["total_loss"].shape) == (4,)
    assert tuple(conv_encoder((28, 28)).outputs[0].shape) == (None, 2)
    assert tuple(conv_decoder().outputs[0].shape) == (None, 28, 28, 1)
    with pytest.raises(ValueError, match="data per example \\(784,\\)"):
        VAE(conv_encoder((784,)), conv_decoder()).per_example_losses(x)


def test_decode_and_samples(shared_vae):
    model = shared_vae
    probabilities = model.decode(np.zeros((5, 2)))
    assert probabilities.shape == (5, 28, 28)
    assert probabilities.min() >= 0 and probabilities.max() <= 1
    np.testing.assert_array_equal(model.sample_prior(3, seed=4), model.sample_prior(3, seed=4))
    assert model.reconstruct(images(num=3)).shape == (3, 28, 28)


# --------------------------------------------------------------------------- saving


@pytest.mark.parametrize(
    "build",
    [
        lambda: build_mlp_vae(hidden_units=8, beta=0.25, num_samples=2, seed=0),
        lambda: build_mlp_vae(hidden_units=8, beta=2.0, likelihood=Gaussian(variance="shared")),
        lambda: build_mlp_vae(hidden_units=8, likelihood=Gaussian(-1.0, "per_feature"), seed=2),
        lambda: build_mlp_vae(hidden_units=8, likelihood=ContinuousBernoulli(), seed=3),
        lambda: build_conv_vae(input_shape=(28, 28), beta=0.5, seed=1),
    ],
    ids=["mlp", "gaussian-shared", "gaussian-per-feature", "continuous-bernoulli", "conv"],
)
def test_save_and_load_round_trip(build, tmp_path):
    model = build()
    model.beta = 2 * model.beta  # the value at saving time is the one restored
    for weight in model.likelihood.weights:  # a learned variance is restored exactly
        weight.assign(np.random.default_rng(0).normal(size=weight.shape).astype("float32"))
    x = images(num=8, shape=model.data_shape)
    path = tmp_path / "vae.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert isinstance(restored, VAE)
    for attribute in ("beta", "num_samples", "latent_dim", "data_shape", "seed"):
        assert getattr(restored, attribute) == getattr(model, attribute), attribute
    assert type(restored.likelihood) is type(model.likelihood)
    assert restored.likelihood.get_config() == model.likelihood.get_config()
    for saved, loaded in zip(model.likelihood.weights, restored.likelihood.weights, strict=True):
        np.testing.assert_array_equal(to_numpy(loaded), to_numpy(saved))
    eps = np.random.default_rng(3).standard_normal((8, 2)).astype("float32")
    original, loaded = model.per_example_losses(x, eps=eps), restored.per_example_losses(x, eps=eps)
    for name in LOSS_NAMES:
        np.testing.assert_allclose(to_numpy(loaded[name]), to_numpy(original[name]), rtol=1e-6)
    np.testing.assert_allclose(restored.decode(eps), model.decode(eps), rtol=1e-6)


def test_training_after_loading_draws_the_same_noise_as_the_original(tmp_path):
    x = images(num=64)
    model = small_vae(hidden_units=8)
    model.fit(x, epochs=1, batch_size=32, shuffle=False, verbose=0)
    model.save(tmp_path / "vae.keras")
    restored = keras.models.load_model(tmp_path / "vae.keras")
    restored.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3))
    # The same next draws of the sampler: the seed generator's state was saved.
    np.testing.assert_array_equal(
        to_numpy(restored.sampler.seed_generator.state),
        to_numpy(model.sampler.seed_generator.state),
    )
    z_original = to_numpy(model(x[:4]).z)
    z_restored = to_numpy(restored(x[:4]).z)
    np.testing.assert_allclose(z_restored, z_original, rtol=1e-6)


def test_likelihood_names_and_objects():
    assert isinstance(build_mlp_vae(hidden_units=4).likelihood, Bernoulli)
    model = build_mlp_vae(hidden_units=4, likelihood="continuous_bernoulli")
    assert isinstance(model.likelihood, ContinuousBernoulli)
    with pytest.raises(ValueError, match="Expected likelihood to be one of"):
        build_mlp_vae(hidden_units=4, likelihood="poisson")
