"""Noise of the gradient of a VAE's training loss with respect to its weights (what SGD feels).

`weight_gradients` differentiates the model's loss (the batch mean of ``total_loss``) with
respect to every trainable weight for fixed images and noise, on the TensorFlow or JAX backend;
`weight_gradient_noise` repeats it with fresh noise (Monte Carlo noise of ``L`` codes per image)
or fresh noise and a fresh minibatch (minibatch noise) and sums the variances over weights.
Both are re-exported by `vaelib.gradients`.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np

from vaelib import _checks


class GradientNoise(NamedTuple):
    """What `weight_gradient_noise` returns: variances summed over weights (traces), floats.

    ``total`` sums the variance over repeats of every trainable weight's gradient (the trace of
    the gradients' covariance); ``encoder`` holds the encoder's share and ``decoder`` the rest
    (the decoder's, and a learned likelihood's weights if any). ``mean_squared_norm`` is the
    squared norm of the mean gradient (the signal, for scale) and ``num_repeats`` the number of
    gradients the variances come from.
    """

    total: float
    encoder: float
    decoder: float
    mean_squared_norm: float
    num_repeats: int


def _loss_gradient_fn(model):
    """A function ``(x, eps) -> list of NumPy gradients`` of the batch-mean ``total_loss``
    with respect to ``model.trainable_variables`` (compiled once per call of the caller)."""
    variables = model.trainable_variables
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(reduce_retracing=True)
        def grads(x, eps):
            with tf.GradientTape() as tape:
                terms = model.loss_terms(x, model.forward(x, eps=eps))
                loss = tf.reduce_mean(terms["total_loss"])
            return tape.gradient(loss, variables)

    elif backend == "jax":
        import jax
        import jax.numpy as jnp

        def loss(values, x, eps):
            with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))):
                terms = model.loss_terms(x, model.forward(x, eps=eps))
                return jnp.mean(terms["total_loss"])

        jitted = jax.jit(jax.grad(loss))

        def grads(x, eps):
            return jitted([v.value for v in variables], x, eps)

    else:
        raise ValueError(
            "Expected the tensorflow or jax backend for weight gradients. "
            f"Received: backend={backend!r}"
        )
    return lambda x, eps: [
        np.asarray(keras.ops.convert_to_numpy(g), "float64") for g in grads(x, eps)
    ]


def weight_gradients(model, x, eps) -> list[np.ndarray]:
    """Gradient of the model's loss w.r.t. its trainable weights, for fixed images and noise.

    The loss is the batch mean of ``model.loss_terms(x, model.forward(x, eps=eps))["total_loss"]``,
    the quantity ``fit`` minimises, with the codes ``z = z_mean + sigma * eps``.

    Args:
        model: a `vaelib.VAE`.
        x: images, shape ``(batch, *data_shape)``.
        eps: noise, ``(batch, latent_dim)`` (one code per image) or
            ``(num_samples, batch, latent_dim)``.

    Returns:
        One float64 array per entry of ``model.trainable_variables``, of the same shape.
    """
    x = np.asarray(model.check_data(x), dtype="float32")
    return _loss_gradient_fn(model)(x, np.asarray(eps, dtype="float32"))


def weight_gradient_noise(
    model, x, num_samples=1, num_repeats=50, batch_size=None, seed=None
) -> GradientNoise:
    """Variance of the gradient of the training loss with respect to the network weights.

    Each repeat computes the gradient of the model's loss (the batch mean of ``total_loss``,
    with ``num_samples`` codes z per image, reparameterised) with respect to every trainable
    weight of the encoder and decoder, as SGD uses it. Between repeats:

    - ``batch_size=None``: the images are all of ``x`` every time and only the noise ``eps``
      changes, so the variance is the Monte Carlo noise of ``num_samples`` codes per image;
    - ``batch_size=B``: each repeat also draws ``B`` images of ``x`` at random (without
      replacement), so the variance is the minibatch noise plus the Monte Carlo noise of
      ``num_samples`` codes (small when ``num_samples`` is large).

    Variances use ``ddof=1`` and are summed over weights. The noise comes from
    ``np.random.default_rng(seed)``: a seed gives the same draws on every backend.

    Args:
        model: a `vaelib.VAE`.
        x: images, shape ``(n, *data_shape)``; the fixed minibatch or the pool to draw from.
        num_samples: codes z per image, L.
        num_repeats: gradients computed, at least 2.
        batch_size: None for a fixed minibatch, or the number of images drawn per repeat.
        seed: int seeding the noise and the draws of images (None: fresh).

    Returns:
        A `GradientNoise`.

    Example:

    >>> mc = weight_gradient_noise(model, x_test[:100], num_samples=1, seed=0)  # doctest: +SKIP
    >>> mc.total > weight_gradient_noise(model, x_test[:100], 5, seed=0).total  # doctest: +SKIP
    True
    """
    num_samples = _checks.check_positive_int("num_samples", num_samples)
    num_repeats = _checks.check_int("num_repeats", num_repeats, minimum=2)
    _checks.check_seed(seed)
    x = np.asarray(x, dtype="float32")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"Expected a non-empty batch of images. Received: x.shape={x.shape}")
    if batch_size is not None:
        batch_size = _checks.check_positive_int("batch_size", batch_size)
        if batch_size > len(x):
            raise ValueError(
                f"Expected batch_size <= len(x). Received: batch_size={batch_size}, len(x)={len(x)}"
            )
    model.check_data(x)
    rng = np.random.default_rng(seed)
    rows = len(x) if batch_size is None else batch_size
    grads = _loss_gradient_fn(model)
    encoder_ids = {id(v) for v in model.encoder.trainable_variables}
    in_encoder = [id(v) in encoder_ids for v in model.trainable_variables]
    shift = sums = squares = None  # sums over repeats of (gradient - first gradient)
    for _ in range(num_repeats):
        images = x if batch_size is None else x[rng.choice(len(x), batch_size, replace=False)]
        eps = rng.standard_normal((num_samples, rows, model.latent_dim)).astype("float32")
        g = grads(images, eps if num_samples > 1 else eps[0])
        if shift is None:  # shifting by one draw keeps the variance free of cancellation
            shift = g
            sums = [np.zeros_like(a) for a in g]
            squares = [np.zeros_like(a) for a in g]
        d = [a - b for a, b in zip(g, shift, strict=True)]
        sums = [a + b for a, b in zip(sums, d, strict=True)]
        squares = [a + b**2 for a, b in zip(squares, d, strict=True)]
    means = [a / num_repeats for a in sums]
    variances = [
        float(np.sum(s - num_repeats * m**2)) / (num_repeats - 1)
        for s, m in zip(squares, means, strict=True)
    ]
    means = [m + b for m, b in zip(means, shift, strict=True)]
    encoder = sum(v for v, e in zip(variances, in_encoder, strict=True) if e)
    return GradientNoise(
        total=sum(variances),
        encoder=encoder,
        decoder=sum(variances) - encoder,
        mean_squared_norm=float(sum(np.sum(m**2) for m in means)),
        num_repeats=num_repeats,
    )
