"""The decoder exported for the browser, and the latent explorer's HTML."""

import base64
import json
import re
import zlib

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


def _errors(model, spec, z):
    """Largest error per output unit of the exported decoder against the model, at codes z."""
    exact = model.decode(z).reshape(len(z), -1)
    return np.abs(web.decode_exported(spec, z).reshape(len(z), -1) - exact).max(axis=0)


def test_the_exported_decoder_reproduces_the_model_within_max_error(trained):
    spec = web.export_decoder(trained)
    assert spec["latent_dim"] == 2 and spec["image_shape"] == [28, 28]
    assert spec["range"] == 3.5  # no codes given: the prior's 3.5 standard deviations
    assert [layer["activation"] for layer in spec["layers"]] == ["relu", "linear"]
    assert [layer["dtype"] for layer in spec["layers"]] == ["float32", "int"]  # 2 x 64: small
    error = _errors(trained, spec, _grid(n=15, limit=3.4)).max()  # not the calibration grid
    assert 0 < error <= 0.005 * 1.5, error  # quantised, not a copy; near the bound between codes
    bits = np.array(spec["layers"][1]["bits"])
    assert len(bits) == 784 and 2 <= bits.min() < bits.max() <= 12  # bits where they are needed


@pytest.mark.parametrize(
    "likelihood, activation",
    [("gaussian", "tanh"), ("continuous_bernoulli", "leaky_relu"), ("bernoulli", "relu")],
)
def test_every_likelihood_mean_and_activation_round_trips(likelihood, activation):
    keras.utils.set_random_seed(1)
    model = vaelib.build_mlp_vae(
        (6, 5, 3), hidden_units=[128, 96], activation=activation, likelihood=likelihood
    )
    spec = web.export_decoder(model)
    assert spec["image_shape"] == [6, 5, 3]
    # 2 x 96 stays float32; 96 x 128 (8 bits) and 128 x 90 (per unit) are rounded
    assert [layer["dtype"] for layer in spec["layers"]] == ["float32", "int", "int"]
    z = _grid(5)
    np.testing.assert_allclose(web.decode_exported(spec, z), model.decode(z), atol=1e-2)


def test_large_hidden_layers_are_quantised_and_the_last_meets_max_error():
    keras.utils.set_random_seed(2)
    model = vaelib.build_mlp_vae((12, 12), hidden_units=[96, 128], latent_dim=2)
    spec = web.export_decoder(model, max_error=0.01)
    assert [layer["dtype"] for layer in spec["layers"]] == ["float32", "int", "int"]
    assert set(spec["layers"][1]["bits"]) == {web.HIDDEN_BITS}
    assert _errors(model, spec, _grid(n=9, limit=3.4)).max() <= 0.015


def test_a_looser_max_error_gives_fewer_bytes_and_more_error(trained):
    z = _grid(n=15, limit=3.4)
    sizes, errors = [], []
    for max_error in (0.002, 0.01, 0.05):
        spec = web.export_decoder(trained, max_error=max_error)
        sizes.append(len(spec["layers"][1]["weights"]))
        errors.append(_errors(trained, spec, z).max())
        assert errors[-1] <= 1.5 * max_error
    assert sizes[0] > sizes[1] > sizes[2] and errors[0] < errors[2]
    uniform = web.export_decoder(trained, max_error=None, max_bits=6)
    assert set(uniform["layers"][1]["bits"]) == {6}
    with pytest.raises(ValueError, match="max_bits <= 16"):
        web.export_decoder(trained, max_bits=17)
    with pytest.raises(ValueError, match="max_error > 0"):
        web.export_decoder(trained, max_error=0.0)


def test_units_get_the_fewest_bits_that_meet_max_error(trained):
    codes = web._calibration_codes(2, extent=3.5)
    spec = web.export_decoder(trained)
    bits = np.array(spec["layers"][1]["bits"])
    errors = _errors(trained, spec, codes.astype("float32"))
    assert errors.max() <= 0.005 + 1e-5  # on the calibration codes the bound holds
    # One bit fewer breaks the bound for units that got more than 2 (checked on a few of them):
    # quantised again with [bits - 1, 16] to try, they end at 16.
    layer = spec["layers"][1]
    assert layer["dtype"] == "int"
    w1, b1, w2, b2 = (np.asarray(w, dtype="float64") for w in trained.decoder.get_weights())
    h = np.maximum(codes @ w1 + b1, 0.0)  # as the export computes them
    target = web._output_mean("bernoulli", h @ w2 + b2)
    accept = web._within(0.005, target, h, "linear", b2, "bernoulli")
    for unit in np.flatnonzero(bits > 2)[:3]:
        _, _, _, again = web._quantise(w2, h, [int(bits[unit]) - 1, 16], accept)
        assert again[unit] == 16


def test_varints_round_trip_and_stay_short():
    rng = np.random.default_rng(0)
    q = np.concatenate([rng.integers(-64, 64, 1000), rng.integers(-40000, 40000, 1000), [0, -1]])
    raw = web._to_varints(q)
    np.testing.assert_array_equal(web._from_varints(raw), q)
    assert len(web._to_varints(np.arange(-64, 64))) == 128  # one byte each
    # The standard format (protobuf's sint32), which explorer.js reads.
    golden = "00 01 02 7f 7e 8001 8101 fe7f ff7f 808001"
    assert web._to_varints(np.array([0, -1, 1, -64, 63, 64, -65, 8191, -8192, 8192])).hex() == (
        golden.replace(" ", "")
    )
    assert len(web._to_varints(np.array([64, -65, 8191, -8192]))) == 8  # two bytes each


def test_weights_are_integers_with_a_scale_per_unit_and_per_input(trained):
    layer = web.export_decoder(trained)["layers"][1]
    q = web._from_varints(zlib.decompress(base64.b64decode(layer["weights"])))
    scale = web._unb64(layer["scale"], "float32")
    input_scale = web._unb64(layer["input_scale"], "float32")
    assert q.size == 64 * 784 and scale.size == 784 and input_scale.size == 64
    levels = 2 ** (np.array(layer["bits"]) - 1) - 1
    assert np.all(np.abs(q.reshape(784, 64)).max(axis=1) <= levels)
    kernel = np.asarray(trained.decoder.get_layer("params").kernel)
    exported = web.exported_weights(layer)
    assert exported.shape == kernel.shape
    # Compensated rounding moves weights by more than half a step, but the layer's outputs on
    # the calibration codes by less than plain rounding at the same steps does.
    hidden = keras.Model(trained.decoder.inputs[0], trained.decoder.get_layer("hidden").output)
    h = np.asarray(hidden(web._calibration_codes(2).astype("float32")))
    steps = input_scale[:, None] * scale  # the step of each weight
    live = input_scale > 0
    plain = np.round(kernel[live] / steps[live]) * steps[live]
    assert (
        np.abs(h[:, live] @ (exported[live] - kernel[live])).mean()
        < np.abs(h[:, live] @ (plain - kernel[live])).mean()
    )


def test_inputs_off_on_the_whole_square_are_stored_as_zeros(trained):
    model = small_vae(hidden_units=64)
    model.set_weights(trained.get_weights())
    hidden = model.decoder.get_layer("hidden")
    kernel, bias = hidden.get_weights()
    kernel[:, :5], bias[:5] = 0.0, -1.0  # five hidden units off for every code
    hidden.set_weights([kernel, bias])
    layer = web.export_decoder(model)["layers"][1]
    input_scale = web._unb64(layer["input_scale"], "float32")
    assert np.all(input_scale[:5] == 0) and np.all(input_scale[5:] > 0)
    assert np.all(web.exported_weights(layer)[:5] == 0)


def test_a_live_input_with_zero_weights_is_kept_and_the_bound_holds(trained):
    model = small_vae(hidden_units=64)
    model.set_weights(trained.get_weights())
    codes = web._calibration_codes(2, extent=3.5).astype("float32")
    hidden = keras.Model(model.decoder.inputs[0], model.decoder.get_layer("hidden").output)
    live = np.flatnonzero(np.asarray(hidden(codes)).max(axis=0) > 0)[:3]
    assert len(live) == 3
    params = model.decoder.get_layer("params")
    kernel, bias = params.get_weights()
    kernel[live] = 0.0  # three hidden units whose weights are all zero (e.g. pruned), still on
    params.set_weights([kernel, bias])
    spec = web.export_decoder(model)
    input_scale = web._unb64(spec["layers"][1]["input_scale"], "float32")
    assert np.all(input_scale[live] > 0)  # kept: their rounded weights carry others' error
    assert _errors(model, spec, codes).max() <= 0.005 + 1e-5


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
    codes = web._unb64(data["models"][0]["codes"], "int16") * data["models"][0]["code_scale"]
    expected = trained.encode(images(num=50))[0].ravel()
    np.testing.assert_allclose(codes, expected, atol=data["models"][0]["code_scale"] / 2 + 1e-7)
    assert "bits" not in data["models"][0]["layers"][1]  # the record stays in Python
    assert "DecompressionStream" in text and "vaelibExplorers" in text
    assert data["models"][0]["range"] == explorer.specs["β = 0.5"]["range"] >= 3.5
    assert set(explorer.specs) == {"β = 0.5", "again"}


def test_unsupported_models_are_refused():
    with pytest.raises(ValueError, match="latent_dim=3"):
        web.latent_explorer({"a": small_vae(latent_dim=3, hidden_units=4)}, images(num=4))
    with pytest.raises(ValueError, match="an MLP"):
        web.export_decoder(vaelib.build_conv_vae(seed=0))
    with pytest.raises(ValueError, match="Expected a dict"):
        web.latent_explorer([], images(num=4))
