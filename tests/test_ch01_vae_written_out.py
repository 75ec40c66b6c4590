"""Chapter 1's claim: a VAE written out in plain Keras 3 gives vaelib.VAE's loss exactly."""

import keras
import numpy as np
from conftest import images, to_numpy
from keras import layers, ops

import vaelib


class PlainVAE(keras.Model):
    """Encoder, sampling, decoder and the loss in `compute_loss`, with nothing else."""

    def __init__(self, latent_dim=2, hidden_units=64, **kwargs):
        super().__init__(**kwargs)
        x = keras.Input((28, 28))
        h = layers.Dense(hidden_units, activation="relu")(layers.Flatten()(x))
        self.encoder = keras.Model(x, [layers.Dense(latent_dim)(h), layers.Dense(latent_dim)(h)])
        z = keras.Input((latent_dim,))
        h = layers.Dense(hidden_units, activation="relu")(z)
        self.decoder = keras.Model(z, layers.Reshape((28, 28))(layers.Dense(784)(h)))
        self.seeds = keras.random.SeedGenerator(0)

    def call(self, x, eps=None):
        z_mean, z_log_var = self.encoder(x)
        if eps is None:
            eps = keras.random.normal(ops.shape(z_mean), seed=self.seeds)
        z = z_mean + ops.exp(0.5 * z_log_var) * eps  # the reparameterisation trick
        return z_mean, z_log_var, self.decoder(z)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        z_mean, z_log_var, logits = y_pred
        bce = ops.softplus(logits) - x * logits  # -log p(x|z) per pixel, from logits
        reconstruction = ops.sum(bce, axis=(1, 2))
        kl = 0.5 * ops.sum(ops.square(z_mean) + ops.exp(z_log_var) - 1 - z_log_var, axis=1)
        return ops.mean(reconstruction + kl)


def test_the_written_out_vae_has_vaelibs_loss_for_the_same_weights_and_noise():
    plain = PlainVAE()
    model = vaelib.build_mlp_vae(hidden_units=64, latent_dim=2)
    for source, target in ((plain.encoder, model.encoder), (plain.decoder, model.decoder)):
        target.set_weights(source.get_weights())
    x = images(num=16)
    eps = np.random.default_rng(0).standard_normal((16, 2)).astype("float32")
    expected = float(to_numpy(plain.compute_loss(x, y_pred=plain(x, eps=eps))))
    got = float(to_numpy(model.compute_loss(x, y_pred=model.forward(x, eps=eps))))
    assert abs(got - expected) < 1e-4 * abs(expected)
    # And it trains like any Keras model.
    plain.compile(optimizer="adam")
    assert np.isfinite(plain.fit(x, epochs=1, batch_size=8, verbose=0).history["loss"][0])
