"""Chapter 1's claim: a VAE written out in plain Keras 3 gives vaelib.VAE's loss exactly.

`PlainVAE` below is chapter 1's cell "One VAE, written out" (book/01_elbo.ipynb), copied
character for character: the test imports nothing from the notebook, and
`test_plain_vae_is_chapter_1s_cell` fails if the two copies drift apart.
"""

import inspect
import json
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import images, to_numpy
from keras import layers, ops

import vaelib

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "01_elbo.ipynb"


class PlainVAE(keras.Model):
    # A complete VAE for 28 x 28 images: encoder, sampling, decoder, and -ELBO as the loss.

    def __init__(self, latent_dim=16, hidden_units=512, **kwargs):
        super().__init__(**kwargs)
        # Encoder q(z | x): image -> hidden ReLU layer -> mu and log sigma^2, d numbers each.
        x = keras.Input((28, 28))
        h = layers.Dense(hidden_units, activation="relu")(layers.Flatten()(x))
        self.encoder = keras.Model(x, [layers.Dense(latent_dim)(h), layers.Dense(latent_dim)(h)])
        # Decoder p(x | z): code -> hidden ReLU layer -> one Bernoulli logit per pixel.
        z = keras.Input((latent_dim,))
        h = layers.Dense(hidden_units, activation="relu")(z)
        self.decoder = keras.Model(z, layers.Reshape((28, 28))(layers.Dense(784)(h)))
        self.seeds = keras.random.SeedGenerator(0)  # the source of the noise eps

    def call(self, x, eps=None):
        z_mean, z_log_var = self.encoder(x)
        if eps is None:  # eps ~ N(0, I); pass eps to fix the noise
            eps = keras.random.normal(ops.shape(z_mean), seed=self.seeds)
        z = z_mean + ops.exp(0.5 * z_log_var) * eps  # z ~ q(z | x), written as mu + sigma * eps
        return z_mean, z_log_var, self.decoder(z)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        z_mean, z_log_var, logits = y_pred
        # -log p(x | z) = log(1 + e^l) - x l per pixel, for logit l; summed over the pixels.
        bce = ops.softplus(logits) - x * logits
        reconstruction = ops.sum(bce, axis=(1, 2))
        # KL(q(z | x) || N(0, I)) in closed form, summed over the d latent dimensions.
        kl = 0.5 * ops.sum(ops.square(z_mean) + ops.exp(z_log_var) - 1 - z_log_var, axis=1)
        return ops.mean(reconstruction + kl)  # -ELBO per image, averaged over the batch


def test_plain_vae_is_chapter_1s_cell():
    if not CHAPTER.exists():
        pytest.skip("book/01_elbo.ipynb is not next to the tests")
    cells = json.loads(CHAPTER.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    chapter_cell = [s for s in sources if s.startswith("class PlainVAE(")]
    assert len(chapter_cell) == 1
    assert chapter_cell[0].strip() == inspect.getsource(PlainVAE).strip()


def test_the_written_out_vae_has_vaelibs_loss_for_the_same_weights_and_noise():
    plain = PlainVAE(latent_dim=2, hidden_units=64)
    model = vaelib.build_mlp_vae(hidden_units=64, latent_dim=2)
    for source, target in ((plain.encoder, model.encoder), (plain.decoder, model.decoder)):
        target.set_weights(source.get_weights())
    x = images(num=16)
    eps = np.random.default_rng(0).standard_normal((16, 2)).astype("float32")
    expected = float(to_numpy(plain.compute_loss(x, y_pred=plain(x, eps=eps))))
    got = float(to_numpy(model.compute_loss(x, y_pred=model.forward(x, eps=eps))))
    assert abs(got - expected) < 1e-5 * abs(expected)
    # Another noise gives a loss ten times further away: the comparison is not vacuous.
    other = float(to_numpy(plain.compute_loss(x, y_pred=plain(x, eps=eps + 1.0))))
    assert abs(other - expected) > 1e-4 * abs(expected)
    # And it trains like any Keras model.
    plain.compile(optimizer="adam")
    assert np.isfinite(plain.fit(x, epochs=1, batch_size=8, verbose=0).history["loss"][0])
