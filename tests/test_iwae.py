"""The importance-weighted objective (IWAE) as a training option, and dynamic binarisation."""

import keras
import numpy as np
import pytest
from conftest import images, small_vae, to_numpy

import vaelib
from vaelib.losses import importance_weighted_loss, log_prior_over_posterior


def _pair(num_samples):
    """A VAE and an IWAE sharing the same networks (untrained, seeded)."""
    vae = small_vae(latent_dim=3, num_samples=num_samples)
    iwae = vaelib.VAE(vae.encoder, vae.decoder, num_samples=num_samples, objective="iwae", seed=0)
    return vae, iwae


def test_at_one_sample_the_iwae_loss_is_the_vae_loss_with_a_sampled_kl():
    vae, iwae = _pair(1)
    x = images(num=16)
    eps = np.random.default_rng(0).standard_normal((16, 3)).astype("float32")
    forward = vae.forward(x, eps=eps)
    z = to_numpy(forward.z)
    z_mean, z_log_var = (to_numpy(t) for t in (forward.z_mean, forward.z_log_var))
    log_q = -0.5 * np.sum(np.log(2 * np.pi) + z_log_var + (z - z_mean) ** 2 / np.exp(z_log_var), 1)
    log_p = -0.5 * np.sum(np.log(2 * np.pi) + z**2, 1)
    reconstruction = to_numpy(vae.loss_terms(x, forward)["reconstruction_loss"])
    iwae_total = to_numpy(iwae.loss_terms(x, iwae.forward(x, eps=eps))["total_loss"])
    np.testing.assert_allclose(iwae_total, reconstruction + log_q - log_p, rtol=1e-5)
    # ... whose mean over many samples of q is the VAE's loss with the closed-form KL.
    many = np.random.default_rng(1).standard_normal((4000, 16, 3)).astype("float32")
    terms = vae.loss_terms(x, vae.forward(x, eps=many))
    sampled = to_numpy(reconstruction_plus_sampled_kl(vae, x, many))
    np.testing.assert_allclose(sampled.mean(0), to_numpy(terms["total_loss"]), rtol=2e-3)


def reconstruction_plus_sampled_kl(model, x, eps):
    forward = model.forward(x, eps=eps)
    nll = model.likelihood.nll_samples(x, forward.decoder_output)
    return nll - log_prior_over_posterior(forward.z, forward.z_mean, forward.z_log_var)


def test_with_several_samples_the_bound_is_above_the_elbo_and_rises_with_k():
    vae, iwae = _pair(1)
    x = images(num=16)
    rng = np.random.default_rng(2)
    eps = rng.standard_normal((8, 16, 3)).astype("float32")
    single = to_numpy(reconstruction_plus_sampled_kl(vae, x, eps))  # (8, 16), one per sample
    iwae_8 = to_numpy(iwae.loss_terms(x, iwae.forward(x, eps=eps))["total_loss"])
    assert np.all(iwae_8 <= single.mean(0) + 1e-4)  # Jensen, for the same noise
    means = []
    for k in (1, 4, 16, 64):
        draws = rng.standard_normal((200, k, 16, 3)).astype("float32")
        losses = [to_numpy(iwae.loss_terms(x, iwae.forward(x, eps=e))["total_loss"]) for e in draws]
        means.append(np.mean(losses))
    assert all(a > b for a, b in zip(means, means[1:], strict=False)), means


def test_importance_weighted_loss_is_stable_for_large_weights():
    nll = np.array([[1e4], [1e4 + 1.0]], "float32")
    loss = to_numpy(importance_weighted_loss(nll, np.zeros((2, 1), "float32")))
    expected = np.log(2) - np.logaddexp(-1e4, -1e4 - 1.0)
    np.testing.assert_allclose(loss, [expected], rtol=1e-6)


def test_training_with_the_iwae_objective_moves_the_encoder_and_saves(tmp_path):
    x = images(num=64)
    keras.utils.set_random_seed(0)
    model = vaelib.build_mlp_vae(
        hidden_units=[16, 16], activation="tanh", latent_dim=3, num_samples=5, objective="iwae"
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = to_numpy(model.encoder.get_layer("z_log_var").kernel).copy()
    history = model.fit(x, epochs=2, batch_size=32, verbose=0).history
    assert np.isfinite(history["total_loss"]).all()
    assert not np.allclose(to_numpy(model.encoder.get_layer("z_log_var").kernel), before)
    model.save(tmp_path / "iwae.keras")
    assert keras.saving.load_model(tmp_path / "iwae.keras").objective == "iwae"
    with pytest.raises(ValueError, match="Received: objective='iwea'"):
        vaelib.build_mlp_vae(hidden_units=4, objective="iwea")


def test_dynamic_binarization_draws_new_binary_images_every_epoch():
    grey = np.random.default_rng(0).uniform(size=(50, 6, 6)).astype("float32")
    data = vaelib.DynamicBinarization(grey, batch_size=10, shuffle=False, seed=3)
    first = np.concatenate([data[i][0] for i in range(len(data))])
    assert set(np.unique(first)) <= {0.0, 1.0}
    draws = [first]
    for _ in range(199):
        data.on_epoch_end()
        draws.append(np.concatenate([data[i][0] for i in range(len(data))]))
    assert not np.array_equal(draws[0], draws[1])
    error = np.abs(np.mean(draws, axis=0) - grey)  # E[binary] = grey; sd of a mean <= 0.035
    assert error.mean() < 0.035 and error.max() < 0.2
    again = vaelib.DynamicBinarization(grey, batch_size=10, shuffle=False, seed=3)
    np.testing.assert_array_equal(again[2][0], first[20:30])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vaelib.DynamicBinarization(grey * 255)
    model = small_vae(hidden_units=8)
    shuffled = vaelib.DynamicBinarization(images(num=40), batch_size=20, seed=0)
    assert np.isfinite(model.fit(shuffled, epochs=2, verbose=0).history["total_loss"]).all()
    assert shuffled.epoch >= 2  # new draws each epoch (Keras also calls it once at the end)
