"""Evaluation of a trained VAE: the ELBO, the importance-weighted bound and latent usage.

All bounds are per example, in nats, on the log-likelihood scale (higher is better): the ELBO
is `-(reconstruction_loss + kl_loss)` of the model with beta = 1. Noise is drawn with NumPy's
`default_rng(seed)`, so a fixed seed gives the same numbers on every backend and run.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import keras
import numpy as np
from scipy.special import logsumexp
from tqdm import tqdm

from vaelib import losses

LOG_2PI = math.log(2.0 * math.pi)


def elbo(
    model, x: np.ndarray, num_samples: int = 1, batch_size: int = 500, seed=None
) -> np.ndarray:
    """Per-example evidence lower bound, E_q[log p(x|z)] - KL(q(z|x) || p(z)).

    The expectation is a Monte Carlo average over `num_samples` draws of z; the KL term is in
    closed form. Beta is ignored: this is the bound of the model with beta = 1.

    Args:
        model: a `VAE`.
        x: images, shape `(n, *image_shape)`.
        num_samples: Monte Carlo samples of z per example.
        batch_size: examples encoded at once.
        seed: seed of the noise (None: fresh noise).

    Returns:
        Array of shape `(n,)`, the ELBO of each example in nats.

    Example:
        >>> float(elbo(model, x_test, num_samples=10, seed=0).mean())  # doctest: +SKIP
        -140.2
    """
    _check_positive_int("num_samples", num_samples)
    _check_positive_int("batch_size", batch_size)
    x = _check_images(x)
    rng = np.random.default_rng(seed)
    result = np.empty(len(x))
    for start in range(0, len(x), batch_size):
        x_batch = x[start : start + batch_size]
        z_mean, z_log_var = _encode(model, x_batch)
        eps = rng.standard_normal((num_samples, *z_mean.shape))
        z = z_mean + np.exp(0.5 * z_log_var) * eps
        log_px = _log_likelihood(model, x_batch, z)
        kl = _kl_per_dimension(z_mean, z_log_var).sum(axis=-1)
        result[start : start + batch_size] = log_px.mean(axis=0) - kl
    return result


def importance_weighted_bound(
    model,
    x: np.ndarray,
    k: int,
    batch_size: int = 100,
    chunk_size: int = 500,
    seed=None,
    progress: bool = False,
) -> np.ndarray:
    """Per-example importance-weighted bound of Burda et al. (2016).

    log (1/k) sum_i p(x, z_i) / q(z_i|x), with z_1..z_k drawn from q(z|x). It is a lower bound
    of log p(x) that tightens as k grows; with k = 1 its expectation is the ELBO. The k
    samples are processed `chunk_size` at a time and the chunks' log-sum-exps are combined, so
    memory grows with `batch_size * chunk_size`, not with k.

    Args:
        model: a `VAE`.
        x: images, shape `(n, *image_shape)`.
        k: importance samples per example.
        batch_size: examples processed at once.
        chunk_size: importance samples processed at once (lower it to save memory).
        seed: seed of the noise (None: fresh noise). For a given seed and `batch_size`, the
            noise, and so the result, does not depend on `chunk_size`.
        progress: show a progress bar over the examples.

    Returns:
        Array of shape `(n,)`, the bound for each example in nats.

    Example:
        >>> bound = importance_weighted_bound(model, x_test[:100], k=1000, seed=0)  # doctest: +SKIP
    """
    _check_positive_int("k", k)
    _check_positive_int("batch_size", batch_size)
    _check_positive_int("chunk_size", chunk_size)
    x = _check_images(x)
    rng = np.random.default_rng(seed)
    result = np.empty(len(x))
    with tqdm(total=len(x), desc=f"IW bound (k={k})", unit="ex", disable=not progress) as bar:
        for start in range(0, len(x), batch_size):
            x_batch = x[start : start + batch_size]
            z_mean, z_log_var = _encode(model, x_batch)
            total = np.full(len(x_batch), -np.inf)
            for done in range(0, k, chunk_size):
                eps = rng.standard_normal((min(chunk_size, k - done), *z_mean.shape))
                log_w = _log_weights(model, x_batch, z_mean, z_log_var, eps)
                total = np.logaddexp(total, logsumexp(log_w, axis=0))
            result[start : start + batch_size] = total - math.log(k)
            bar.update(len(x_batch))
    return result


def kl_per_dimension(model, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Mean over the examples of the closed-form KL(q(z_j|x) || N(0, 1)) of each latent dimension.

    The entries sum to the mean `kl_loss` of the data. A dimension whose KL is close to 0 carries
    no information about x (posterior collapse).

    Args:
        model: a `VAE`.
        x: images, shape `(n, *image_shape)`.
        batch_size: examples encoded at once.

    Returns:
        Array of shape `(latent_dim,)`, in nats.

    Example:
        >>> kl_per_dimension(model, x_test).round(2)  # doctest: +SKIP
        array([3.1, 2.9])
    """
    _check_positive_int("batch_size", batch_size)
    x = _check_images(x)
    total = 0.0
    for start in range(0, len(x), batch_size):
        z_mean, z_log_var = _encode(model, x[start : start + batch_size])
        total = total + _kl_per_dimension(z_mean, z_log_var).sum(axis=0)
    return total / len(x)


def active_units(model, x: np.ndarray, threshold: float = 0.01, batch_size: int = 500) -> int:
    """Number of active latent dimensions (Burda et al., 2016).

    Dimension j is active when the variance over the data of its posterior mean E_q[z_j|x]
    exceeds `threshold`: the code then changes with the input.

    Args:
        model: a `VAE`.
        x: images, shape `(n, *image_shape)`, n >= 2.
        threshold: variance above which a dimension counts as active.
        batch_size: examples encoded at once.

    Returns:
        An int between 0 and `latent_dim`.

    Example:
        >>> active_units(model, x_test)  # doctest: +SKIP
        2
    """
    _check_positive_int("batch_size", batch_size)
    x = _check_images(x)
    means = [
        _encode(model, x[start : start + batch_size])[0] for start in range(0, len(x), batch_size)
    ]
    return count_active_units(np.concatenate(means), threshold)


def count_active_units(z_mean: np.ndarray, threshold: float = 0.01) -> int:
    """Count the columns of `z_mean` (shape `(n, latent_dim)`) whose variance exceeds `threshold`.

    Example:
        >>> count_active_units(np.array([[0.0, 1.0], [0.0, -1.0]]))
        1
    """
    if not isinstance(threshold, Real) or not math.isfinite(threshold) or threshold < 0:
        raise ValueError(f"Expected threshold >= 0 and finite. Received: threshold={threshold!r}")
    z_mean = np.asarray(z_mean, dtype="float64")
    if z_mean.ndim != 2 or len(z_mean) < 2:
        raise ValueError(
            "Expected at least 2 posterior means of shape (n, latent_dim). "
            f"Received: shape={z_mean.shape}"
        )
    return int(np.sum(np.var(z_mean, axis=0) > threshold))


def _encode(model, x):
    """Posterior means and log-variances as float64 NumPy arrays of shape (batch, latent_dim)."""
    z_mean, z_log_var = model.encode(x)
    return (
        keras.ops.convert_to_numpy(z_mean).astype("float64"),
        keras.ops.convert_to_numpy(z_log_var).astype("float64"),
    )


def _kl_per_dimension(z_mean, z_log_var):
    return 0.5 * (np.square(z_mean) + np.exp(z_log_var) - 1.0 - z_log_var)


def _log_weights(model, x, z_mean, z_log_var, eps):
    """log p(x|z) + log p(z) - log q(z|x) for z = z_mean + sigma * eps; shape (samples, batch)."""
    z = z_mean + np.exp(0.5 * z_log_var) * eps
    log_prior = -0.5 * np.sum(LOG_2PI + np.square(z), axis=-1)
    log_posterior = -0.5 * np.sum(LOG_2PI + z_log_var + np.square(eps), axis=-1)
    return _log_likelihood(model, x, z) + log_prior - log_posterior


def _log_likelihood(model, x, z):
    """log p(x|z) for codes z of shape (samples, batch, latent_dim); returns (samples, batch)."""
    num_samples, batch = z.shape[:2]
    outputs = model.decoder(z.reshape(num_samples * batch, -1).astype("float32"), training=False)
    target = np.broadcast_to(x[None], (num_samples, *x.shape))
    target = target.reshape(keras.ops.shape(outputs))
    if model.likelihood == "bernoulli":
        nll = losses.bernoulli_nll(target, outputs)
    else:
        log_var = getattr(model, "decoder_log_var", None)
        if log_var is None:  # a fixed variance
            log_var = model.gaussian_log_var
        nll = losses.gaussian_nll(target, outputs, keras.ops.cast(log_var, "float32"))
    return -keras.ops.convert_to_numpy(nll).astype("float64").reshape(num_samples, batch)


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"Expected {name} to be an integer >= 1. Received: {name}={value!r}")


def _check_images(x):
    x = np.asarray(x, dtype="float32")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"Expected a non-empty batch of images. Received: x.shape={x.shape}")
    return x
