"""The two terms of the VAE loss: KL divergences and negative log-likelihoods.

Convention used by every function here: the result is **per example**, a tensor of
shape ``(batch,)``, obtained by summing over every non-batch axis (pixels for the
likelihoods, latent dimensions for the KL). Nothing is averaged; the one mean over
the batch is taken in `vaelib.VAE.compute_loss`. All values are in nats.

The functions use `keras.ops` only, so they run on any Keras 3 backend, inside or
outside a traced training step, and accept NumPy arrays as well as tensors.
"""

from __future__ import annotations

import math

from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def sum_per_example(values):
    """Sum a tensor over all axes but the first, giving shape ``(batch,)``."""
    ndim = len(values.shape)
    if ndim <= 1:
        return values
    return ops.sum(values, axis=tuple(range(1, ndim)))


def kl_standard_normal_per_dimension(z_mean, z_log_var):
    """KL(N(mu_j, sigma_j^2) || N(0, 1)) of each latent dimension, shape ``(batch, latent_dim)``.

    ``1/2 (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)``; `kl_standard_normal` is its sum over j.
    """
    z_mean = ops.convert_to_tensor(z_mean)
    z_log_var = ops.cast(z_log_var, z_mean.dtype)
    return 0.5 * (ops.square(z_mean) + ops.exp(z_log_var) - 1.0 - z_log_var)


def kl_standard_normal(z_mean, z_log_var):
    """KL divergence from a diagonal Gaussian to the standard normal, per example.

    For q = N(mu, diag(sigma^2)) and p = N(0, I)::

        KL(q || p) = 1/2 * sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)

    summed over the latent dimensions j (never averaged). It is >= 0 and equals 0
    exactly when mu = 0 and log sigma^2 = 0.

    Args:
        z_mean: means mu, shape ``(batch, latent_dim)``.
        z_log_var: log-variances log sigma^2, same shape as ``z_mean``.

    Returns:
        Tensor of shape ``(batch,)``.

    Example:

    >>> import numpy as np
    >>> kl = kl_standard_normal(np.zeros((3, 2)), np.zeros((3, 2)))
    >>> [float(v) for v in kl]
    [0.0, 0.0, 0.0]
    """
    return sum_per_example(kl_standard_normal_per_dimension(z_mean, z_log_var))


def kl_gaussians(mean_q, log_var_q, mean_p, log_var_p):
    """KL divergence between two diagonal Gaussians, per example.

    For q = N(mu_q, diag(sigma_q^2)) and p = N(mu_p, diag(sigma_p^2))::

        KL(q || p) = 1/2 * sum_j (log sigma_p^2 - log sigma_q^2
                                  + (sigma_q^2 + (mu_q - mu_p)^2) / sigma_p^2 - 1)

    summed over the latent dimensions j. With mu_p = 0 and log sigma_p^2 = 0 it is
    `kl_standard_normal`. The arguments broadcast against each other (a prior may be
    given with shape ``(latent_dim,)``).

    Args:
        mean_q: means of q, shape ``(batch, latent_dim)``.
        log_var_q: log-variances of q, same shape.
        mean_p: means of p, broadcastable to ``mean_q``.
        log_var_p: log-variances of p, broadcastable to ``mean_q``.

    Returns:
        Tensor of shape ``(batch,)``.

    Example:

    >>> import numpy as np
    >>> kl = kl_gaussians(np.ones((1, 2)), np.zeros((1, 2)), np.zeros(2), np.zeros(2))
    >>> round(float(kl[0]), 6)  # 1/2 * (1 + 1)
    1.0
    """
    mean_q = ops.convert_to_tensor(mean_q)
    dtype = mean_q.dtype
    log_var_q = ops.cast(log_var_q, dtype)
    mean_p = ops.cast(mean_p, dtype)
    log_var_p = ops.cast(log_var_p, dtype)
    terms = (
        log_var_p
        - log_var_q
        + ops.exp(log_var_q - log_var_p)
        + ops.square(mean_q - mean_p) * ops.exp(-log_var_p)
        - 1.0
    )
    return 0.5 * sum_per_example(terms)


def bernoulli_nll(x, logits):
    """Negative log-likelihood of x under independent Bernoullis, per example.

    The decoder gives logits l (pre-sigmoid), p = sigmoid(l). The binary cross-entropy
    of one pixel, written so that it never takes the log of a sigmoid::

        -[x log p + (1 - x) log(1 - p)] = softplus(l) - x * l

    summed over all pixels of an example. ``softplus`` is evaluated stably, so the
    result is finite for any finite logits (e.g. +-100). ``x`` may be binary or a grey
    level in [0, 1] (the continuous relaxation used for MNIST).

    Args:
        x: targets in [0, 1], shape ``(batch, ...)``.
        logits: decoder logits, same shape as ``x``.

    Returns:
        Tensor of shape ``(batch,)``.

    Example:

    >>> import numpy as np
    >>> nll = bernoulli_nll(np.ones((1, 4)), np.zeros((1, 4)))
    >>> round(float(nll[0]), 4)  # 4 * log 2
    2.7726
    """
    logits = ops.convert_to_tensor(logits)
    x = ops.cast(x, logits.dtype)
    return sum_per_example(ops.softplus(logits) - x * logits)


def gaussian_nll(x, mean, log_var):
    """Negative log-likelihood of x under independent Gaussians, per example.

    For p(x | z) = N(mean, exp(log_var)) on every pixel::

        -log p(x | z) = sum_i 1/2 * (log(2 pi) + log_var_i + (x_i - mean_i)^2 / exp(log_var_i))

    summed over all pixels, constant included: with ``log_var = 0`` this is half the
    summed squared error plus ``0.5 * log(2 pi)`` per pixel.

    Args:
        x: targets, shape ``(batch, ...)``.
        mean: Gaussian means (the decoder output), same shape as ``x``.
        log_var: log-variances, broadcastable to ``x`` (a float, a scalar tensor or
            a tensor of the same shape).

    Returns:
        Tensor of shape ``(batch,)``.

    Example:

    >>> import numpy as np
    >>> nll = gaussian_nll(np.zeros((1, 2)), np.zeros((1, 2)), 0.0)
    >>> round(float(nll[0]), 4)  # log(2 pi)
    1.8379
    """
    mean = ops.convert_to_tensor(mean)
    dtype = mean.dtype
    x = ops.cast(x, dtype)
    log_var = ops.cast(log_var, dtype)
    terms = 0.5 * (LOG_2PI + log_var + ops.square(x - mean) * ops.exp(-log_var))
    return sum_per_example(terms)


def log_prior_over_posterior(z, z_mean, z_log_var):
    """log p(z) - log q(z | x) for p = N(0, I) and q = N(z_mean, exp(z_log_var)), per sample.

    Args:
        z: codes, shape ``(S, batch, latent_dim)`` (or ``(batch, latent_dim)``).
        z_mean: posterior means, ``(batch, latent_dim)``.
        z_log_var: posterior log-variances, ``(batch, latent_dim)``.

    Returns:
        Tensor of shape ``(S, batch)`` (or ``(batch,)``), summed over latent dimensions. Its
        mean over samples of q estimates -KL(q || p).
    """
    z = ops.convert_to_tensor(z)
    z_mean = ops.cast(z_mean, z.dtype)
    z_log_var = ops.cast(z_log_var, z.dtype)
    log_prior = -0.5 * (LOG_2PI + ops.square(z))
    log_posterior = -0.5 * (LOG_2PI + z_log_var + ops.square(z - z_mean) * ops.exp(-z_log_var))
    return ops.sum(log_prior - log_posterior, axis=-1)


def importance_weighted_loss(nll_samples, log_ratio, beta=1.0):
    """Negative importance-weighted bound (Burda et al., 2016), per example.

    With ``log w_k = -nll_k + beta * (log p(z_k) - log q(z_k|x))`` for k = 1..K samples of q,
    the loss is ``-(logsumexp_k log w_k - log K)``, computed with a stable log-sum-exp. With
    beta = 1 it is -log of an unbiased estimate of p(x), a lower bound on log p(x) in
    expectation that tightens as K grows; with K = 1 it is the single-sample VAE loss (the KL
    estimated by sampling rather than in closed form).

    Args:
        nll_samples: -log p(x | z_k), shape ``(K, batch)``.
        log_ratio: log p(z_k) - log q(z_k | x), shape ``(K, batch)``.
        beta: weight of the prior-to-posterior term.

    Returns:
        Tensor of shape ``(batch,)``, in nats.
    """
    nll_samples = ops.convert_to_tensor(nll_samples)
    log_weights = -nll_samples + ops.cast(beta, nll_samples.dtype) * ops.cast(
        log_ratio, nll_samples.dtype
    )
    num_samples = nll_samples.shape[0]
    return math.log(num_samples) - ops.logsumexp(log_weights, axis=0)
