"""Encoder, decoder and VAE builders: MLPs for any data shape, convolutions for any (H, W, C) image.

Every encoder maps ``(batch, *data_shape)`` to ``[z_mean, z_log_var]``; every decoder maps
``(batch, latent_dim)`` to the likelihood's parameters with the data's shape, so a VAE built from
a matching pair needs no reshaping of the data. The ``z_log_var`` head starts with a zero kernel:
before training every posterior has unit variance, whatever the input, so the log-variance
cannot overflow in the first steps.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from vaelib import _checks
from vaelib.models import VAE


def _heads(hidden, latent_dim):
    z_mean = layers.Dense(latent_dim, name="z_mean")(hidden)
    z_log_var = layers.Dense(latent_dim, kernel_initializer="zeros", name="z_log_var")(hidden)
    return [z_mean, z_log_var]


def mlp_encoder(
    input_shape=(28, 28), hidden_units=512, latent_dim=2, activation="relu", name="encoder"
):
    """Flatten, dense hidden layers, then two linear heads ``z_mean`` and ``z_log_var``.

    Args:
        input_shape: shape of one example, e.g. ``(28, 28)``, ``(32, 32, 3)`` or ``(20,)``.
        hidden_units: width of the hidden layer, or a list of widths (``[256, 128]``).
        latent_dim: size of z.
        activation: activation of the hidden layers.
        name: model name.

    Returns:
        A functional `keras.Model`: ``(batch, *input_shape)`` -> ``[z_mean, z_log_var]``.

    Example:

    >>> encoder = mlp_encoder((20,), hidden_units=[64, 32], latent_dim=4)
    >>> [tuple(t.shape) for t in encoder.outputs]
    [(None, 4), (None, 4)]
    """
    input_shape = _checks.check_shape("input_shape", input_shape)
    widths = _checks.check_int_list("hidden_units", hidden_units, allow_empty=True)
    latent_dim = _checks.check_positive_int("latent_dim", latent_dim)
    inputs = keras.Input(shape=input_shape, name="data")
    hidden = layers.Flatten(name="flatten")(inputs)
    for i, width in enumerate(widths):
        suffix = "" if len(widths) == 1 else f"_{i + 1}"
        hidden = layers.Dense(width, activation=activation, name=f"hidden{suffix}")(hidden)
    return keras.Model(inputs, _heads(hidden, latent_dim), name=name)


def mlp_decoder(
    output_shape=(28, 28), hidden_units=512, latent_dim=2, activation="relu", name="decoder"
):
    """Dense hidden layers, then a linear layer reshaped to one example (no output activation).

    Args:
        output_shape: shape of one example.
        hidden_units: width of the hidden layer, or a list of widths, listed from the code
            outwards (`build_mlp_vae` passes the encoder's list reversed).
        latent_dim: size of z.
        activation: activation of the hidden layers.
        name: model name.

    Returns:
        A functional `keras.Model`: ``(batch, latent_dim)`` -> ``(batch, *output_shape)``.
    """
    output_shape = _checks.check_shape("output_shape", output_shape)
    widths = _checks.check_int_list("hidden_units", hidden_units, allow_empty=True)
    latent_dim = _checks.check_positive_int("latent_dim", latent_dim)
    inputs = keras.Input(shape=(latent_dim,), name="z")
    hidden = inputs
    for i, width in enumerate(widths):
        suffix = "" if len(widths) == 1 else f"_{i + 1}"
        hidden = layers.Dense(width, activation=activation, name=f"hidden{suffix}")(hidden)
    params = layers.Dense(math.prod(output_shape), name="params")(hidden)
    outputs = layers.Reshape(output_shape, name="data")(params)
    return keras.Model(inputs, outputs, name=name)


def _image_shape(name, shape):
    """(H, W, C) for an image shape given as (H, W, C), (H, W) or (H * W,) with H == W."""
    shape = _checks.check_shape(name, shape)
    if len(shape) == 3:
        return shape
    if len(shape) == 2:
        return (*shape, 1)
    side = math.isqrt(shape[0])
    if len(shape) == 1 and side * side == shape[0]:
        return (side, side, 1)
    raise ValueError(
        f"Expected {name} (H, W, C), (H, W) or (H * W,) for a square grey image. "
        f"Received: {name}={shape}"
    )


def conv_encoder(
    input_shape=(28, 28, 1),
    latent_dim=2,
    filters=(32, 64),
    dense_units=16,
    dense_activation="relu",
    name="encoder",
):
    """Stride-2 3x3 convolutions (ReLU), one dense layer, then two linear heads.

    Each convolution halves the height and width (rounding up), so ``len(filters)`` is the
    number of stride-2 stages. The defaults are the book's 28x28x1 architecture.

    Args:
        input_shape: ``(H, W, C)`` for any size and channel count, or ``(H, W)`` / ``(H*W,)``
            for grey images (reshaped inside the model).
        latent_dim: size of z.
        filters: filters of each stride-2 convolution.
        dense_units: width of the dense layer before the heads (0: none).
        dense_activation: its activation (``"relu"``, ``"leaky_relu"``, ``None``...).
        name: model name.

    Example:

    >>> encoder = conv_encoder((32, 32, 3), latent_dim=8, filters=(32, 64, 128))
    >>> tuple(encoder.outputs[0].shape)
    (None, 8)
    """
    given = _checks.check_shape("input_shape", input_shape)
    image = _image_shape("input_shape", given)
    latent_dim = _checks.check_positive_int("latent_dim", latent_dim)
    filters = _checks.check_int_list("filters", filters)
    dense_units = _checks.check_int("dense_units", dense_units, minimum=0)
    inputs = keras.Input(shape=given, name="image")
    hidden = inputs if given == image else layers.Reshape(image, name="add_channel")(inputs)
    for i, width in enumerate(filters):
        hidden = layers.Conv2D(
            width, 3, strides=2, padding="same", activation="relu", name=f"conv_{i + 1}"
        )(hidden)
    hidden = layers.Flatten(name="flatten")(hidden)
    if dense_units:
        hidden = layers.Dense(dense_units, activation=dense_activation, name="hidden")(hidden)
    return keras.Model(inputs, _heads(hidden, latent_dim), name=name)


def conv_decoder(latent_dim=2, output_shape=(28, 28, 1), filters=(64, 32), name="decoder"):
    """Dense to a small feature map, stride-2 transposed convolutions, 3x3 logits per channel.

    The feature map is ``ceil(H / 2^n) x ceil(W / 2^n) x filters[0]`` for ``n = len(filters)``
    stages; each transposed convolution doubles it, and a final crop gives exactly (H, W), so
    the output shape always equals ``output_shape``.

    Args:
        latent_dim: size of z.
        output_shape: shape of one image, as given to `conv_encoder`.
        filters: filters of each stride-2 transposed convolution, from the code outwards
            (the encoder's list reversed).
        name: model name.

    Example:

    >>> decoder = conv_decoder(8, (64, 48, 3), filters=(128, 64, 32))
    >>> tuple(decoder.outputs[0].shape)
    (None, 64, 48, 3)
    """
    latent_dim = _checks.check_positive_int("latent_dim", latent_dim)
    given = _checks.check_shape("output_shape", output_shape)
    height, width, channels = _image_shape("output_shape", given)
    filters = _checks.check_int_list("filters", filters)
    scale = 2 ** len(filters)
    rows, cols = -(-height // scale), -(-width // scale)
    inputs = keras.Input(shape=(latent_dim,), name="z")
    hidden = layers.Dense(rows * cols * filters[0], activation="relu", name="hidden")(inputs)
    hidden = layers.Reshape((rows, cols, filters[0]), name="feature_map")(hidden)
    for i, width_i in enumerate(filters):
        hidden = layers.Conv2DTranspose(
            width_i, 3, strides=2, padding="same", activation="relu", name=f"deconv_{i + 1}"
        )(hidden)
    outputs = layers.Conv2DTranspose(channels, 3, padding="same", name="logits")(hidden)
    extra_rows, extra_cols = rows * scale - height, cols * scale - width
    if extra_rows or extra_cols:
        crop = ((0, extra_rows), (0, extra_cols))
        outputs = layers.Cropping2D(crop, name="crop")(outputs)
    if given != (height, width, channels):
        outputs = layers.Reshape(given, name="image")(outputs)
    return keras.Model(inputs, outputs, name=name)


def build_mlp_vae(
    input_shape=(28, 28), hidden_units=512, latent_dim=2, activation="relu", **vae_kwargs
):
    """An uncompiled `VAE` with `mlp_encoder` and a mirrored `mlp_decoder`.

    ``vae_kwargs`` go to `VAE` (``likelihood``, ``beta``, ``num_samples``, ``seed``).

    Example:

    >>> model = build_mlp_vae((20,), hidden_units=[64, 32], latent_dim=4, likelihood="gaussian")
    >>> model.latent_dim, model.likelihood.kind
    (4, 'gaussian')
    """
    encoder = mlp_encoder(input_shape, hidden_units, latent_dim, activation)
    widths = _checks.check_int_list("hidden_units", hidden_units, allow_empty=True)
    decoder = mlp_decoder(input_shape, list(widths[::-1]), latent_dim, activation)
    return VAE(encoder, decoder, **vae_kwargs)


def build_conv_vae(
    input_shape=(28, 28, 1),
    latent_dim=2,
    filters=(32, 64),
    dense_units=16,
    dense_activation="relu",
    **vae_kwargs,
):
    """An uncompiled `VAE` with `conv_encoder` and a mirrored `conv_decoder`, for any image.

    Example:

    >>> model = build_conv_vae((32, 32, 3), latent_dim=8, filters=(32, 64, 128))
    >>> tuple(model.decoder.outputs[0].shape)
    (None, 32, 32, 3)
    """
    encoder = conv_encoder(input_shape, latent_dim, filters, dense_units, dense_activation)
    decoder = conv_decoder(latent_dim, input_shape, list(filters)[::-1])
    return VAE(encoder, decoder, **vae_kwargs)
