"""Evaluation of a trained VAE: the ELBO, the importance-weighted bound and latent usage.

The bounds are per example, in nats, on the log-likelihood scale (higher is better): the ELBO
is ``-(reconstruction + KL)`` with beta = 1. The data is scored by the model's likelihood
object, and may be anything `vaelib.inputs.batches` reads: arrays, tensors, a
``tf.data.Dataset``, a ``keras.utils.PyDataset`` or an iterable of batches. The noise is drawn
with NumPy's ``default_rng(seed)``, so a fixed seed gives the same numbers on every backend.

A bound on log p(x) only when the likelihood is a density for the data: the Bernoulli on binary
data, the continuous Bernoulli on [0, 1], the Gaussian on real values.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import keras
import numpy as np
from scipy.special import logsumexp
from tqdm import tqdm

from vaelib import _checks, inputs
from vaelib.losses import kl_standard_normal_per_dimension

LOG_2PI = math.log(2.0 * math.pi)


def _encode(model, x):
    """Posterior means and log-variances of one batch, as float64 NumPy arrays."""
    z_mean, z_log_var = model.encode(x, batch_size=max(len(x), 1))
    return z_mean.astype("float64"), z_log_var.astype("float64")


def _kl_per_dimension(z_mean, z_log_var):
    return keras.ops.convert_to_numpy(kl_standard_normal_per_dimension(z_mean, z_log_var))


def _log_likelihood_fn(model):
    """``(z of shape (S, batch, latent_dim), x) -> log p(x | z)`` of shape (S, batch).

    On JAX the function is compiled with ``jax.jit`` (the model's current weights become
    constants of the trace), which makes the importance-weighted bound several times faster
    than running its operations one by one; make a new one after the weights change.
    """

    def log_likelihood(z, x):
        num_samples, batch = z.shape[:2]
        flat = model.decoder(keras.ops.reshape(z, (num_samples * batch, -1)), training=False)
        params = keras.ops.reshape(flat, (num_samples, batch, *flat.shape[1:]))
        return -model.likelihood.nll_samples(x, params)

    if keras.backend.backend() == "jax":
        import jax  # the backend in use, so installed

        return jax.jit(log_likelihood)
    return log_likelihood


def _log_likelihood(model, x, z, function=None):
    """log p(x | z) for codes of shape (S, batch, latent_dim); returns (S, batch) float64."""
    function = function or _log_likelihood_fn(model)
    values = function(z.astype("float32"), np.asarray(x, dtype="float32"))
    return keras.ops.convert_to_numpy(values).astype("float64")


def elbo(model, x, num_samples: int = 1, batch_size: int = 500, seed=None) -> np.ndarray:
    """Per-example evidence lower bound, E_q[log p(x|z)] - KL(q(z|x) || p(z)).

    The expectation is a Monte Carlo average over ``num_samples`` draws of z; the KL is in
    closed form. Beta is ignored: this is the bound of the model with beta = 1.

    Args:
        model: a `VAE`.
        x: data, an array ``(n, *data_shape)`` or a dataset/iterable of batches.
        num_samples: Monte Carlo samples of z per example.
        batch_size: rows per step, for arrays.
        seed: seed of the noise (None: fresh noise).

    Returns:
        Array of shape ``(n,)``, the ELBO of each example in nats.

    Example:
        >>> float(elbo(model, x_test, num_samples=10, seed=0).mean())  # doctest: +SKIP
        -101.7
    """
    num_samples = _checks.check_positive_int("num_samples", num_samples)
    rng = np.random.default_rng(_checks.check_seed(seed))
    function = _log_likelihood_fn(model)
    pieces = []
    for x_batch in inputs.batches(x, batch_size):
        z_mean, z_log_var = _encode(model, x_batch)
        eps = rng.standard_normal((num_samples, *z_mean.shape))
        z = z_mean + np.exp(0.5 * z_log_var) * eps
        log_px = _log_likelihood(model, x_batch, z, function)
        pieces.append(log_px.mean(axis=0) - _kl_per_dimension(z_mean, z_log_var).sum(axis=-1))
    return np.concatenate(pieces)


def importance_weighted_bound(
    model, x, k: int, batch_size: int = 100, chunk_size: int = 500, seed=None, progress=False
) -> np.ndarray:
    """Per-example importance-weighted bound of Burda et al. (2016).

    ``log (1/k) sum_i p(x, z_i) / q(z_i|x)`` with z_1..z_k drawn from q(z|x). Its expectation
    is a lower bound on log p(x) that rises with k (k = 1: the ELBO); one draw of it can exceed
    log p(x). The k samples are processed ``chunk_size`` at a time and the chunks' log-sum-exps
    combined, so memory grows with ``batch_size * chunk_size``, not with k.

    Args:
        model: a `VAE`.
        x: data, an array or a dataset/iterable of batches.
        k: importance samples per example.
        batch_size: rows per step, for arrays.
        chunk_size: importance samples processed at once (lower it to save memory).
        seed: seed of the noise. For a given seed and batching the result does not depend on
            ``chunk_size``.
        progress: show a progress bar over the examples.

    Returns:
        Array of shape ``(n,)``, the bound of each example in nats.

    Example:
        >>> bound = importance_weighted_bound(model, x_test[:100], k=1000, seed=0)  # doctest: +SKIP
    """
    k = _checks.check_positive_int("k", k)
    chunk_size = _checks.check_positive_int("chunk_size", chunk_size)
    rng = np.random.default_rng(_checks.check_seed(seed))
    function = _log_likelihood_fn(model)
    total_rows = len(x) if inputs.is_array(x) else None
    pieces = []
    with tqdm(total=total_rows, desc=f"IW bound (k={k})", unit="ex", disable=not progress) as bar:
        for x_batch in inputs.batches(x, batch_size):
            z_mean, z_log_var = _encode(model, x_batch)
            total = np.full(len(x_batch), -np.inf)
            for done in range(0, k, chunk_size):
                eps = rng.standard_normal((min(chunk_size, k - done), *z_mean.shape))
                log_w = _log_weights(model, x_batch, z_mean, z_log_var, eps, function)
                total = np.logaddexp(total, logsumexp(log_w, axis=0))
            pieces.append(total - math.log(k))
            bar.update(len(x_batch))
    return np.concatenate(pieces)


def _log_weights(model, x, z_mean, z_log_var, eps, function=None):
    """log p(x|z) + log p(z) - log q(z|x) for z = z_mean + sigma * eps; shape (S, batch)."""
    z = z_mean + np.exp(0.5 * z_log_var) * eps
    log_prior = -0.5 * np.sum(LOG_2PI + np.square(z), axis=-1)
    log_posterior = -0.5 * np.sum(LOG_2PI + z_log_var + np.square(eps), axis=-1)
    return _log_likelihood(model, x, z, function) + log_prior - log_posterior


def kl_per_dimension(model, x, batch_size: int = 500) -> np.ndarray:
    """Mean over the examples of KL(q(z_j|x) || N(0, 1)) for each latent dimension j.

    The entries sum to the mean ``kl_loss``. A dimension whose KL is near 0 carries no
    information about x (posterior collapse).

    Returns:
        Array of shape ``(latent_dim,)``, in nats.
    """
    total, count = 0.0, 0
    for x_batch in inputs.batches(x, batch_size):
        total = total + _kl_per_dimension(*_encode(model, x_batch)).sum(axis=0)
        count += len(x_batch)
    return total / count


def active_units(model, x, threshold: float = 0.01, batch_size: int = 500) -> int:
    """Number of active latent dimensions (Burda et al., 2016).

    Dimension j is active when the variance over the data of its posterior mean E_q[z_j|x]
    exceeds ``threshold``: the code then changes with the input.

    Returns:
        An int between 0 and ``latent_dim``.
    """
    means = [_encode(model, x_batch)[0] for x_batch in inputs.batches(x, batch_size)]
    return count_active_units(np.concatenate(means), threshold)


def count_active_units(z_mean: np.ndarray, threshold: float = 0.01) -> int:
    """Count the columns of ``z_mean`` (shape ``(n, latent_dim)``) whose variance exceeds
    ``threshold``.

    Example:
        >>> count_active_units(np.array([[0.0, 1.0], [0.0, -1.0]]))
        1
    """
    threshold = _checks.check_float("threshold", threshold, minimum=0.0)
    z_mean = np.asarray(z_mean, dtype="float64")
    if z_mean.ndim != 2 or len(z_mean) < 2:
        raise ValueError(
            "Expected at least 2 posterior means of shape (n, latent_dim). "
            f"Received: shape={z_mean.shape}"
        )
    return int(np.sum(np.var(z_mean, axis=0) > threshold))


class RateSplit(NamedTuple):
    """The rate of a VAE split into information and prior mismatch (Hoffman & Johnson, 2016).

    ``rate = mutual_information + marginal_kl``, all in nats per example:

    - ``rate``: the mean over the data of KL(q(z|x) || p(z)), the KL term of the loss;
    - ``mutual_information``: I(x; z) under q(x, z) = p_data(x) q(z|x), the nats the code
      carries about which example it came from; at most ``log_num_examples``;
    - ``marginal_kl``: KL(q(z) || p(z)) with q(z) the average of the posteriors over the data
      (the aggregate posterior): how far the codes, taken together, are from the prior.
    """

    rate: float
    mutual_information: float
    marginal_kl: float
    log_num_examples: float


def rate_split(model, x, num_samples: int = 1, batch_size: int = 500, seed=0) -> RateSplit:
    """Split the mean KL of ``model`` on ``x`` into I(x; z) and KL(q(z) || p(z)).

    The aggregate posterior q(z) is the mixture of the N posteriors q(z|x_n) of the examples
    in ``x``. The mutual information I(x; z) = E[log q(z|x) - log q(z)] is estimated from
    ``num_samples`` draws z ~ q(z|x_m) per example, with log q(z) computed exactly as a
    log-mean-exp over all N components; KL(q(z) || p(z)) is the (exact) rate minus it. With N
    examples the information cannot exceed log N, which the result reports: a code that tells
    every example apart reaches it. The cost grows as N^2 (10,000 examples of a 2-D code: a few
    seconds).

    Args:
        model: a trained `vaelib.VAE`.
        x: the data (anything `vaelib.inputs.batches` reads), usually the test set.
        num_samples: draws of z per example.
        batch_size: examples encoded per call.
        seed: seed of the draws.

    Returns:
        A `RateSplit`.
    """
    num_samples = _checks.check_positive_int("num_samples", num_samples)
    parts = [_encode(model, x_batch) for x_batch in inputs.batches(x, batch_size)]
    z_mean = np.concatenate([p[0] for p in parts])
    z_log_var = np.concatenate([p[1] for p in parts])
    return split_rate_of_codes(z_mean, z_log_var, num_samples=num_samples, seed=seed)


def split_rate_of_codes(z_mean, z_log_var, num_samples: int = 1, seed=0) -> RateSplit:
    """`rate_split` for given posterior means and log-variances, shape ``(N, latent_dim)``."""
    num_samples = _checks.check_positive_int("num_samples", num_samples)
    z_mean, z_log_var = np.asarray(z_mean, "float64"), np.asarray(z_log_var, "float64")
    if z_mean.ndim != 2 or z_mean.shape != z_log_var.shape or len(z_mean) < 2:
        raise ValueError(
            "Expected z_mean and z_log_var of the same shape (N, latent_dim) with N >= 2. "
            f"Received: shapes {z_mean.shape} and {z_log_var.shape}"
        )
    n, dim = z_mean.shape
    rate = float(np.mean(np.sum(_kl_per_dimension(z_mean, z_log_var), axis=-1)))
    rng = np.random.default_rng(_checks.check_seed(seed))
    eps = rng.standard_normal((num_samples, n, dim))
    z = (z_mean + np.exp(0.5 * z_log_var) * eps).reshape(-1, dim)
    # log q(z_m | x_m) of each draw under its own posterior
    log_own = (-0.5 * np.sum(LOG_2PI + z_log_var + np.square(eps), axis=-1)).reshape(-1)
    inverse_var = np.exp(-z_log_var)
    log_norm = -0.5 * np.sum(LOG_2PI + z_log_var, axis=-1)  # (N,)
    log_q = np.empty(len(z))  # log q(z_m), the aggregate posterior, over all N components
    rows = max(1, 2_000_000 // (n * dim))  # draws per chunk: about 16 MB of float64
    for start in range(0, len(z), rows):
        chunk = z[start : start + rows, None, :]  # (rows, 1, dim) against (N, dim)
        squared = np.sum(np.square(chunk - z_mean) * inverse_var, axis=-1)
        log_q[start : start + rows] = logsumexp(log_norm - 0.5 * squared, axis=1) - math.log(n)
    # I(x; z) = E[log q(z|x) - log q(z)]: the two terms move together, so this Monte Carlo
    # average has a far smaller variance than E[log q(z) - log p(z)] would; the rate is exact.
    information = float(np.mean(log_own - log_q))
    return RateSplit(rate, information, rate - information, math.log(n))
