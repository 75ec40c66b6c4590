"""Encoder and decoder builders for any data shape."""

import numpy as np
import pytest
from conftest import to_numpy

from vaelib.networks import (
    build_conv_vae,
    build_mlp_vae,
    conv_decoder,
    conv_encoder,
    mlp_decoder,
    mlp_encoder,
)


@pytest.mark.parametrize(
    "shape, filters",
    [
        ((28, 28, 1), (32, 64)),
        ((28, 28), (32, 64)),
        ((784,), (32, 64)),
        ((32, 32, 3), (16, 32, 64)),
        ((64, 64, 3), (8, 16, 32, 32)),
        ((28, 20, 3), (8, 16)),
        ((30, 45, 2), (8, 16, 16)),
    ],
)
def test_conv_vae_output_shape_equals_the_input_shape(shape, filters):
    model = build_conv_vae(shape, latent_dim=3, filters=filters, seed=0)
    assert tuple(model.decoder.outputs[0].shape) == (None, *shape)
    strided = [layer for layer in model.encoder.layers if getattr(layer, "strides", None)]
    assert len(strided) == len(filters)  # one stride-2 stage per filter count
    x = np.random.default_rng(0).uniform(size=(2, *shape)).astype("float32")
    assert tuple(model.per_example_losses(x)["total_loss"].shape) == (2,)


def test_the_default_conv_networks_are_the_books_architecture():
    encoder, decoder = conv_encoder(), conv_decoder()
    assert encoder.count_params() == 69_076 and decoder.count_params() == 65_089
    assert encoder.get_layer("hidden").units == 16


def test_mlp_builders_take_any_list_of_hidden_sizes():
    model = build_mlp_vae((20,), hidden_units=[64, 32, 16], latent_dim=4)
    encoder_widths = [
        layer.units for layer in model.encoder.layers if layer.name.startswith("hidden")
    ]
    decoder_widths = [
        layer.units for layer in model.decoder.layers if layer.name.startswith("hidden")
    ]
    assert encoder_widths == [64, 32, 16] and decoder_widths == [16, 32, 64]
    assert tuple(mlp_decoder((5, 4), hidden_units=[], latent_dim=2).outputs[0].shape) == (
        None,
        5,
        4,
    )


def test_the_log_variance_starts_at_zero_for_any_input():
    encoder = mlp_encoder((20,), hidden_units=32, latent_dim=3)
    x = np.random.default_rng(0).normal(0.0, 100.0, size=(8, 20)).astype("float32")
    _, z_log_var = encoder(x)
    np.testing.assert_array_equal(to_numpy(z_log_var), 0.0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: conv_encoder((28, 28, 1, 1)), r"Received: input_shape=\(28, 28, 1, 1\)"),
        (lambda: conv_encoder((783,)), r"Received: input_shape=\(783,\)"),
        (lambda: conv_decoder(output_shape=(0, 28)), r"Received: output_shape=\(0, 28\)"),
        (lambda: conv_encoder(filters=[]), r"Received: filters=\[\]"),
        (lambda: mlp_encoder(hidden_units=[16, 0]), r"Received: hidden_units=\[16, 0\]"),
        (lambda: mlp_encoder(hidden_units=2.5), "Received: hidden_units=2.5"),
        (lambda: mlp_decoder(latent_dim=0), "Received: latent_dim=0"),
    ],
)
def test_bad_builder_arguments_are_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
