"""The decoder exported for the browser, and the latent explorer's HTML."""

import json
import re

import keras
import numpy as np
import pytest
from conftest import images, small_vae

import vaelib
from vaelib import web


@pytest.fixture(scope="module")
def trained():
    model = small_vae(hidden_units=64)
    model.fit(images(num=96), epochs=20, batch_size=32, verbose=0)
    return model


def _grid(n=7, limit=3.0):
    values = np.linspace(-limit, limit, n)
    return np.stack(np.meshgrid(values, values), axis=-1).reshape(-1, 2).astype("float32")


def test_the_exported_decoder_reproduces_the_model_within_the_quantisation_error(trained):
    spec = web.export_decoder(trained, bits=8)  # the default, 4, is checked in the browser check
    assert spec["latent_dim"] == 2 and spec["image_shape"] == [28, 28]
    assert [layer["activation"] for layer in spec["layers"]] == ["relu", "linear"]
    assert [layer["dtype"] for layer in spec["layers"]] == ["float32", "int8"]  # 2 x 64: small
    z = _grid()
    exact, exported = trained.decode(z), web.decode_exported(spec, z)
    error = np.abs(exported - exact).max()
    assert error < 1e-2, error
    assert error > 0  # quantised: not a copy of the float weights


@pytest.mark.parametrize(
    "likelihood, activation",
    [("gaussian", "tanh"), ("continuous_bernoulli", "leaky_relu"), ("bernoulli", "relu")],
)
def test_every_likelihood_mean_and_activation_round_trips(likelihood, activation):
    keras.utils.set_random_seed(1)
    model = vaelib.build_mlp_vae(
        (6, 5, 3), hidden_units=[32, 16], activation=activation, likelihood=likelihood
    )
    spec = web.export_decoder(model, bits=8)
    assert spec["image_shape"] == [6, 5, 3]
    z = _grid(5)
    np.testing.assert_allclose(web.decode_exported(spec, z), model.decode(z), atol=1e-2)


def test_fewer_bits_give_fewer_bytes_and_more_error(trained):
    z = _grid()
    sizes, errors = [], []
    for bits in (8, 5, 3):
        spec = web.export_decoder(trained, bits=bits)
        sizes.append(len(spec["layers"][1]["weights"]))
        errors.append(np.abs(web.decode_exported(spec, z) - trained.decode(z)).max())
    assert sizes[0] > sizes[1] > sizes[2] and errors[0] < errors[2]
    with pytest.raises(ValueError, match="bits <= 8"):
        web.export_decoder(trained, bits=9)


def test_weights_are_int8_with_one_scale_per_unit(trained):
    layer = web.export_decoder(trained, bits=8)["layers"][1]
    weights = web._unb64(layer["weights"], "int8", compressed=True)
    scale = web._unb64(layer["scale"], "float32")
    assert weights.size == 64 * 784 and scale.size == 784
    assert np.abs(weights).max() <= 127
    kernel = np.asarray(trained.decoder.get_layer("params").kernel)
    # Compensated rounding moves weights by more than half a step, but the layer's outputs on
    # the calibration codes by less than plain rounding does.
    hidden = keras.Model(trained.decoder.inputs[0], trained.decoder.get_layer("hidden").output)
    h = np.asarray(hidden(web._calibration_codes(2).astype("float32")))
    plain = np.round(kernel / scale) * scale
    compensated = weights.reshape(64, 784) * scale
    assert np.abs(h @ (compensated - kernel)).mean() < np.abs(h @ (plain - kernel)).mean()


def test_the_explorer_is_self_contained(trained):
    explorer = web.latent_explorer(
        {"β = 0.5": trained, "again": trained}, images(num=50), labels=np.arange(50) % 10
    )
    text = explorer._repr_html_()
    assert explorer.num_bytes == len(text.encode("utf-8"))
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", text)  # nothing fetched
    payload = re.search(r'<script type="application/json">(.*?)</script>', text, re.S).group(1)
    data = json.loads(payload)
    assert [m["name"] for m in data["models"]] == ["β = 0.5", "again"]
    assert len(web._unb64(data["models"][0]["codes"], "float32")) == 100
    assert "DecompressionStream" in text and "vaelibExplorers" in text


def test_unsupported_models_are_refused():
    with pytest.raises(ValueError, match="latent_dim=3"):
        web.latent_explorer({"a": small_vae(latent_dim=3, hidden_units=4)}, images(num=4))
    with pytest.raises(ValueError, match="an MLP"):
        web.export_decoder(vaelib.build_conv_vae(seed=0))
    with pytest.raises(ValueError, match="Expected a dict"):
        web.latent_explorer([], images(num=4))
