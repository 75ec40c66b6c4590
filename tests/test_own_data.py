"""vaelib on data that is not MNIST: RGB images of any size, tabular rows, datasets, bad data."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import LOSS_NAMES, images, small_vae
from matplotlib.figure import Figure

import vaelib
from vaelib import plots


def _shapes(num, size):
    x, factors = vaelib.make_shapes(num, image_size=size, seed=0)
    return x, factors["shape"]


@pytest.mark.parametrize("size, filters", [(32, (16, 32)), (64, (8, 16, 32))])
def test_rgb_images_train_and_every_plot_draws_them(size, filters):
    x, labels = _shapes(64, size)
    keras.utils.set_random_seed(0)
    model = vaelib.build_conv_vae(x.shape[1:], latent_dim=4, filters=filters, seed=0)
    model.compile(optimizer="adam")
    history = model.fit(x, epochs=2, batch_size=32, verbose=0).history
    assert all(math.isfinite(v) for name in LOSS_NAMES for v in history[name])
    figures = [
        plots.image_grid(x[:8]),
        plots.reconstructions(model, x[:5], n=5),
        plots.prior_samples(model, n=8, seed=0),
        plots.decoded_grid(model, n=5, dims=(0, 1)),
        plots.latent_traversal(model, x=x[0], n=5),
        plots.interpolation(model, x[0], x[1], n=5),
        plots.latent_scatter(model.encode(x)[0][:, :2], labels),
    ]
    for figure in figures:
        assert isinstance(figure, Figure)
        rgb = [image for ax in figure.axes for image in ax.images]
        assert all(image.get_array().shape[-1] == 3 for image in rgb if image.get_array().ndim == 3)
    assert figures[0].axes[0].images[0].get_array().ndim == 3  # shown in colour


def test_tabular_data_with_a_gaussian_likelihood_scores_anomalies_higher():
    x_train, _ = vaelib.make_tabular(2000, num_features=20, seed=0)
    x_test, is_anomaly = vaelib.make_tabular(400, num_features=20, anomaly_fraction=0.1, seed=1)
    keras.utils.set_random_seed(0)
    model = vaelib.build_mlp_vae(
        (20,), hidden_units=[64, 32], latent_dim=4, likelihood=vaelib.Gaussian(variance="shared")
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(x_train, epochs=15, batch_size=100, verbose=0).history
    assert all(math.isfinite(v) for v in history["total_loss"])
    score = -vaelib.elbo(model, x_test, num_samples=10, seed=0)
    assert score[is_anomaly].mean() > score[~is_anomaly].mean() + 5.0
    # The plots that apply to rows of features: codes, training curves.
    z_mean = model.encode(x_test)[0]
    for figure in (plots.latent_scatter(z_mean[:, :2], is_anomaly.astype(int)),
                   plots.training_curves(history)):  # fmt: skip
        assert isinstance(figure, Figure)


def test_every_bound_and_helper_accepts_a_dataset_and_agrees_with_the_array():
    model = small_vae(latent_dim=3)
    x = images(num=40)
    dataset = tf.data.Dataset.from_tensor_slices((x, np.zeros(40))).batch(20)
    np.testing.assert_allclose(
        vaelib.elbo(model, dataset, seed=0), vaelib.elbo(model, x, batch_size=20, seed=0), rtol=1e-6
    )
    np.testing.assert_allclose(
        vaelib.importance_weighted_bound(model, dataset, k=8, seed=0),
        vaelib.importance_weighted_bound(model, x, k=8, batch_size=20, seed=0),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        vaelib.kl_per_dimension(model, dataset), vaelib.kl_per_dimension(model, x), rtol=1e-5
    )
    assert vaelib.active_units(model, dataset) == vaelib.active_units(model, x)
    np.testing.assert_allclose(model.encode(dataset)[0], model.encode(x)[0], rtol=1e-6)
    np.testing.assert_allclose(model.reconstruct(dataset), model.reconstruct(x), rtol=1e-6)
    generator = (x[i : i + 10] for i in range(0, 40, 10))
    np.testing.assert_allclose(model.encode(generator)[1], model.encode(x)[1], rtol=1e-6)
    history = model.fit(dataset, epochs=1, verbose=0, validation_data=dataset).history
    assert "val_total_loss" in history


def test_bad_data_in_a_dataset_or_generator_is_a_clear_error():
    model = small_vae()
    x = images(num=32)
    with pytest.raises(ValueError, match="divide by 255"):
        model.fit(tf.data.Dataset.from_tensor_slices(x * 255).batch(16), verbose=0)
    with pytest.raises(ValueError, match="divide by 255"):
        model.fit((b for b in (x[:16] * 255, x[16:] * 255)), verbose=0)
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        model.fit(tf.data.Dataset.from_tensor_slices(bad).batch(16), verbose=0)
    with pytest.raises(ValueError, match="NaN"):
        vaelib.elbo(model, tf.data.Dataset.from_tensor_slices(bad).batch(16))


def test_a_non_finite_loss_after_the_first_batch_stops_training_and_names_the_batch():
    model = small_vae()
    x = images(num=48)
    x[40, 0, 0] = np.nan  # in the third batch: the first-batch check cannot see it
    with pytest.raises(vaelib.NonFiniteLossError, match=r"epoch 1, batch 3.*divide by 255"):
        model.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=3, verbose=0)


def test_unscaled_data_with_a_gaussian_likelihood_warns_with_the_fix():
    model = small_vae(likelihood="gaussian")
    x = np.round(images(num=32) * 255).astype("uint8")
    with pytest.warns(UserWarning, match="divide by 255"):
        model.fit(x, epochs=1, batch_size=16, verbose=0)


def test_loading_needs_vaelib_and_vaelib_load_model_works(tmp_path):
    model = small_vae(hidden_units=4)
    model.save(tmp_path / "vae.keras")
    restored = vaelib.load_model(tmp_path / "vae.keras")
    assert isinstance(restored, vaelib.VAE)
