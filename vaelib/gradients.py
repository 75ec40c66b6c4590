"""Two Monte Carlo estimators of the gradient of an expectation under a diagonal Gaussian.

For ``q = N(mu, exp(log_var))`` and ``z = mu + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)``,
both estimate ``d/d(mu, log_var) E_q[f(z)]`` without bias:

- score function (REINFORCE): ``f(z) * d log q(z) / d(mu, log_var)
  = f(z) * (eps / sigma, (eps**2 - 1) / 2)``; needs only values of ``f``;
- pathwise (reparameterised): ``f'(z) * dz / d(mu, log_var) = f'(z) * (1, eps * sigma / 2)``;
  needs the derivative of ``f`` with respect to ``z``.

These functions return one estimate per sample (not their mean), so that the variance of each
estimator can be measured. The noise is ``np.random.default_rng(seed).standard_normal(...)``: a
seed gives the same numbers on every backend. `weight_gradients` and `weight_gradient_noise`
(from `vaelib.gradient_noise`, re-exported here) go one level further: the gradient of a VAE's
training loss with respect to all its weights, what SGD follows, and its Monte Carlo and
minibatch noise.
"""

from __future__ import annotations

import keras
import numpy as np

from vaelib import _checks
from vaelib.gradient_noise import GradientNoise as GradientNoise
from vaelib.gradient_noise import weight_gradient_noise as weight_gradient_noise
from vaelib.gradient_noise import weight_gradients as weight_gradients

_ROWS_PER_CALL = 10_000  # decoder rows per forward/backward pass in `encoder_gradients`


def _noise(shape, num_samples, seed):
    num_samples = _checks.check_positive_int("num_samples", num_samples)
    _checks.check_seed(seed)
    return np.random.default_rng(seed).standard_normal((num_samples, *shape))


def _check_gaussian(f, name, mu, log_var, num_samples, seed):
    if not callable(f):
        raise ValueError(f"Expected {name} to be a callable. Received: {name}={f!r}")
    mu = np.asarray(mu, dtype="float64")
    log_var = np.asarray(log_var, dtype="float64")
    if mu.shape != log_var.shape:
        raise ValueError(
            "Expected mu and log_var to have the same shape. "
            f"Received: mu.shape={mu.shape}, log_var.shape={log_var.shape}"
        )
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(log_var))):
        raise ValueError("Expected finite mu and log_var. Received: NaN or infinite values")
    return mu, log_var, _noise(mu.shape, num_samples, seed)


def _call(f, z, shape, name):
    values = np.asarray(f(z), dtype="float64")
    if values.shape != shape:
        raise ValueError(
            f"Expected {name}(z) for z of shape {z.shape} to have shape {shape}. "
            f"Received: shape {values.shape}"
        )
    return values


def score_function_gradient(f, mu, log_var, num_samples=1000, seed=None):
    """Per-sample score-function (REINFORCE) estimates of d/d(mu, log_var) E_q[f(z)].

    Args:
        f: vectorised objective; maps ``z`` of shape ``(num_samples, *mu.shape)`` to one
            value per sample, shape ``(num_samples,)``.
        mu: mean of q, a float or an array (a diagonal Gaussian over its entries).
        log_var: log-variance of q, same shape as ``mu``.
        num_samples: number of draws of z.
        seed: int seeding the noise (None: fresh noise).

    Returns:
        ``(grad_mu, grad_log_var)``, each of shape ``(num_samples, *mu.shape)``; their means
        over axis 0 estimate the gradient.

    Example:

    >>> g_mu, g_log_var = score_function_gradient(lambda z: z**2, 1.0, 0.0, 100_000, seed=0)
    >>> round(float(g_mu.mean()), 1), round(float(g_log_var.mean()), 1)  # true: 2, 1
    (2.0, 1.0)
    """
    mu, log_var, eps = _check_gaussian(f, "f", mu, log_var, num_samples, seed)
    sigma = np.exp(0.5 * log_var)
    values = _call(f, mu + sigma * eps, eps.shape[:1], "f")
    values = values.reshape(values.shape + (1,) * mu.ndim)  # broadcast over the entries of mu
    return values * eps / sigma, values * 0.5 * (np.square(eps) - 1.0)


def pathwise_gradient(f_grad, mu, log_var, num_samples=1000, seed=None):
    """Per-sample pathwise (reparameterised) estimates of d/d(mu, log_var) E_q[f(z)].

    Args:
        f_grad: derivative of the objective with respect to z; maps ``z`` of shape
            ``(num_samples, *mu.shape)`` to an array of the same shape.
        mu: mean of q, a float or an array.
        log_var: log-variance of q, same shape as ``mu``.
        num_samples: number of draws of z.
        seed: int seeding the noise; the same seed draws the same ``eps`` as
            `score_function_gradient`.

    Returns:
        ``(grad_mu, grad_log_var)``, each of shape ``(num_samples, *mu.shape)``.

    Example:

    >>> g_mu, g_log_var = pathwise_gradient(lambda z: 2 * z, 1.0, 0.0, 100_000, seed=0)
    >>> round(float(g_mu.mean()), 1), round(float(g_log_var.mean()), 1)  # true: 2, 1
    (2.0, 1.0)
    """
    mu, log_var, eps = _check_gaussian(f_grad, "f_grad", mu, log_var, num_samples, seed)
    sigma = np.exp(0.5 * log_var)
    slopes = _call(f_grad, mu + sigma * eps, eps.shape, "f_grad")
    return slopes, slopes * eps * 0.5 * sigma


def _log_likelihood(model, x, outputs):
    """log p(x|z) per row from decoder outputs; backend tensors (also JAX tracers)."""
    return -model.likelihood.nll(x, outputs)


def _value_and_grad(model, x, z):
    """log p(x|z) of shape (rows,) and its gradient w.r.t. z, (rows, latent_dim), as NumPy.

    Each row's log-likelihood depends only on its own z, so the gradient of the sum over rows
    holds every row's gradient at once (no per-row loop or vmap needed).
    """
    backend = keras.backend.backend()
    decoder = model.decoder
    if backend == "tensorflow":
        import tensorflow as tf

        z = tf.convert_to_tensor(z)
        with tf.GradientTape() as tape:
            tape.watch(z)
            values = _log_likelihood(model, x, decoder(z, training=False))
        grads = tape.gradient(values, z)  # the gradient of the sum of the rows
    elif backend == "jax":
        import jax
        import jax.numpy as jnp

        trainable = [v.value for v in decoder.trainable_variables]
        non_trainable = [v.value for v in decoder.non_trainable_variables]

        def total(codes):
            outputs, _ = decoder.stateless_call(trainable, non_trainable, codes, training=False)
            values = _log_likelihood(model, x, outputs)
            return jnp.sum(values), values

        (_, values), grads = jax.value_and_grad(total, has_aux=True)(jnp.asarray(z))
    else:
        raise ValueError(
            "Expected the tensorflow or jax backend for the pathwise gradient. "
            f"Received: backend={backend!r}"
        )
    return keras.ops.convert_to_numpy(values), keras.ops.convert_to_numpy(grads)


def encoder_gradients(model, x, num_samples=100, seed=None):
    """Both estimators of the gradient of E_q[log p(x|z)] w.r.t. the encoder's outputs.

    For each image, ``q(z|x) = N(z_mean, exp(z_log_var))`` comes from ``model.encode(x)``; the
    objective is the expected reconstruction log-likelihood (in nats, summed over pixels) and
    the gradient is taken with respect to that image's ``z_mean`` and ``z_log_var``. The
    score-function estimates need only log p(x|z); the pathwise ones need its gradient w.r.t. z,
    computed with `tf.GradientTape` or `jax.value_and_grad` depending on the Keras backend.
    Both use the same noise ``eps`` (shape ``(num_samples, batch, latent_dim)``).

    Args:
        model: a `vaelib.VAE`.
        x: images, shape ``(batch, *image_shape)``.
        num_samples: draws of z per image.
        seed: int seeding the noise (None: fresh noise).

    Returns:
        Dict with keys ``"score_function"`` and ``"pathwise"``, each a tuple
        ``(grad_z_mean, grad_z_log_var)`` of arrays of shape
        ``(num_samples, batch, latent_dim)``: one estimate per sample.

    Example:

    >>> grads = encoder_gradients(model, x_test[:100], num_samples=500, seed=0)  # doctest: +SKIP
    >>> grads["pathwise"][0].shape  # doctest: +SKIP
    (500, 100, 2)
    """
    num_samples = _checks.check_positive_int("num_samples", num_samples)  # before the encoder runs
    _checks.check_seed(seed)
    x = np.asarray(x, dtype="float32")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"Expected a non-empty batch of images. Received: x.shape={x.shape}")
    z_mean, z_log_var = (np.asarray(a, dtype="float64") for a in model.encode(x))
    eps = _noise(z_mean.shape, num_samples, seed)
    sigma = np.exp(0.5 * z_log_var)
    z = (z_mean + sigma * eps).astype("float32")
    per_call = max(1, _ROWS_PER_CALL // len(x))  # samples decoded per pass
    pieces = []
    for start in range(0, num_samples, per_call):
        codes = z[start : start + per_call]
        images = np.broadcast_to(x, (len(codes), *x.shape)).reshape(-1, *x.shape[1:])
        pieces.append(_value_and_grad(model, images, codes.reshape(-1, z.shape[-1])))
    log_px = np.concatenate([p[0] for p in pieces]).astype("float64").reshape(num_samples, -1, 1)
    slopes = np.concatenate([p[1] for p in pieces]).astype("float64").reshape(eps.shape)
    return {
        "score_function": (log_px * eps / sigma, log_px * 0.5 * (np.square(eps) - 1.0)),
        "pathwise": (slopes, slopes * eps * 0.5 * sigma),
    }
