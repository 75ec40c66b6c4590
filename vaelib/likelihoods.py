"""The decoder's distribution p(x | z): the one place that knows how to score data.

Each likelihood is a small Keras layer whose input is the decoder's output, ``params`` (logits
or means, one per pixel or feature), with:

- ``nll(x, params)``: -log p(x | z) per example, **summed over every non-batch axis**, shape
  ``(batch,)``, in nats;
- ``nll_samples(x, params)``: the same for params with a leading sample axis, ``(S, batch)``;
- ``mean(params)``: E[x | z], what a decoder "draws";
- ``sample(params, seed)``: x ~ p(x | z);
- ``check_data(array, name)``: the data rule of the likelihood (e.g. values in [0, 1]).

A learned variance is a weight of the layer, so it is trained, tracked and saved with the model.
`get` turns a name (``"bernoulli"``, ``"gaussian"``, ``"continuous_bernoulli"``) into an object.
"""

from __future__ import annotations

import math
import warnings

import keras
from keras import ops

from vaelib import _checks
from vaelib.losses import bernoulli_nll, gaussian_nll, sum_per_example

LOG_2 = math.log(2.0)
_SMALL_LOGIT = 0.1  # below this |logit| the continuous Bernoulli uses its Taylor series
SCALE_WARNING = 20.0  # |x| above which the Gaussian likelihood warns about unscaled data


class Likelihood(keras.layers.Layer):
    """Base class: a distribution over one example given the decoder's outputs."""

    kind = "likelihood"

    def call(self, params):
        return self.mean(params)

    def nll(self, x, params):
        raise NotImplementedError

    def mean(self, params):
        raise NotImplementedError

    def sample(self, params, seed=None):
        raise NotImplementedError

    def nll_samples(self, x, params):
        """-log p(x | z) for ``params`` of shape ``(S, batch, *event)``; returns ``(S, batch)``.

        ``x`` has shape ``(batch, *event)`` and is scored against each of the S samples.
        """
        params = ops.convert_to_tensor(params)
        num_samples = params.shape[0]
        flat = ops.reshape(params, (-1, *params.shape[2:]))
        x = ops.cast(x, flat.dtype)
        tiled = ops.tile(x, (num_samples,) + (1,) * (len(x.shape) - 1))
        return ops.reshape(self.nll(tiled, flat), (num_samples, -1))

    def check_data(self, array, name="x"):
        """Raise a ValueError if ``array`` (NumPy) is not data this likelihood can score."""
        _checks.check_real_finite(name, array)


@keras.saving.register_keras_serializable(package="vaelib")
class Bernoulli(Likelihood):
    """Independent Bernoullis on logits: -log p(x | z) is the binary cross-entropy.

    For binary x it is a probability; for grey levels in [0, 1] it is a cross-entropy, not a
    normalised density (use `ContinuousBernoulli` for that).

    Example:

    >>> import numpy as np
    >>> round(float(Bernoulli().nll(np.ones((1, 4)), np.zeros((1, 4)))[0]), 4)  # 4 log 2
    2.7726
    """

    kind = "bernoulli"

    def nll(self, x, params):
        return bernoulli_nll(x, params)

    def mean(self, params):
        return ops.sigmoid(params)

    def sample(self, params, seed=None):
        probs = ops.sigmoid(params)
        return ops.cast(keras.random.uniform(ops.shape(probs), seed=seed) < probs, probs.dtype)

    def check_data(self, array, name="x"):
        low, high = _checks.check_real_finite(name, array)
        _checks.check_unit_interval(name, low, high, "Bernoulli")


@keras.saving.register_keras_serializable(package="vaelib")
class Gaussian(Likelihood):
    """Independent Gaussians N(params, exp(log_var)) on every pixel or feature.

    Args:
        log_var: the log-variance: fixed, or the initial value of a learned one. With
            ``log_var = log sigma^2`` the loss is ``squared error / (2 sigma^2)`` plus constants,
            so choosing sigma is choosing the weight of the KL term (beta = 2 sigma^2).
        variance: ``"fixed"``; ``"shared"``, one learned log-variance for all pixels; or
            ``"per_feature"``, one learned log-variance per pixel or feature.

    Example:

    >>> import numpy as np
    >>> round(float(Gaussian().nll(np.zeros((1, 2)), np.zeros((1, 2)))[0]), 4)  # log(2 pi)
    1.8379
    """

    kind = "gaussian"
    VARIANCES = ("fixed", "shared", "per_feature")

    def __init__(self, log_var=0.0, variance="fixed", **kwargs):
        super().__init__(**kwargs)
        self.initial_log_var = _checks.check_float("log_var", log_var)
        self.variance = _checks.check_one_of("variance", variance, self.VARIANCES)
        self.log_var = None
        if self.variance != "per_feature":
            self._make_log_var(())

    def _make_log_var(self, shape):
        init = keras.initializers.Constant(self.initial_log_var)
        trainable = self.variance != "fixed"
        self.log_var = self.add_weight(
            shape=shape, initializer=init, trainable=trainable, name="log_var"
        )

    def build(self, input_shape):
        if self.variance == "per_feature" and self.log_var is None:
            self._make_log_var(tuple(input_shape[1:]))

    def _log_var(self, params):
        if self.log_var is None:  # a per-feature variance built on first use
            self.build(params.shape)
        return ops.cast(self.log_var, params.dtype)

    def nll(self, x, params):
        params = ops.convert_to_tensor(params)
        return gaussian_nll(x, params, self._log_var(params))

    def mean(self, params):
        return ops.convert_to_tensor(params)

    def sample(self, params, seed=None):
        params = ops.convert_to_tensor(params)
        std = ops.exp(0.5 * self._log_var(params))
        return params + std * keras.random.normal(ops.shape(params), seed=seed)

    def check_data(self, array, name="x"):
        low, high = _checks.check_real_finite(name, array)
        largest = max(abs(low), abs(high))
        if largest > SCALE_WARNING:
            warnings.warn(
                f"{name} has values up to {largest:g} in magnitude; the Gaussian likelihood and "
                "vaelib's default networks expect scaled data (images: divide by 255; tabular "
                "data: standardise each feature, (x - mean) / std). Unscaled data gives huge "
                "losses and can overflow.",
                UserWarning,
                stacklevel=4,
            )

    def get_config(self):
        return {
            **super().get_config(),
            "log_var": self.initial_log_var,
            "variance": self.variance,
        }


@keras.saving.register_keras_serializable(package="vaelib")
class ContinuousBernoulli(Likelihood):
    """The continuous Bernoulli on logits (Loaiza-Ganem & Cunningham, 2019).

    ``p(x | lambda) = C(lambda) lambda^x (1 - lambda)^(1 - x)`` for x in [0, 1], with
    ``lambda = sigmoid(l)``. The normaliser makes it a density on [0, 1]::

        C(lambda) = 2 atanh(1 - 2 lambda) / (1 - 2 lambda) = l / tanh(l / 2)

    (the second form in terms of the logit l), which tends to 2 as lambda -> 1/2. Its log is
    computed from the Taylor series ``log 2 + l^2/12 - l^4/1440`` for small ``abs(l)``, so it is
    stable at and near lambda = 1/2. -log p is the binary cross-entropy minus log C.

    Example:

    >>> import numpy as np
    >>> round(float(ContinuousBernoulli().nll(np.full((1, 1), 0.3), np.zeros((1, 1)))[0]), 6)
    0.0
    """

    kind = "continuous_bernoulli"

    @staticmethod
    def log_normalizer(logits):
        """log C per entry, for logits of any shape."""
        logits = ops.convert_to_tensor(logits)
        small = ops.abs(logits) < _SMALL_LOGIT
        safe = ops.where(small, ops.ones_like(logits), logits)
        exact = ops.log(ops.abs(safe)) - ops.log(ops.abs(ops.tanh(0.5 * safe)))
        square = ops.square(logits)
        series = LOG_2 + square / 12.0 - ops.square(square) / 1440.0
        return ops.where(small, series, exact)

    def nll(self, x, params):
        params = ops.convert_to_tensor(params)
        return bernoulli_nll(x, params) - sum_per_example(self.log_normalizer(params))

    def mean(self, params):
        logits = ops.convert_to_tensor(params)
        small = ops.abs(logits) < _SMALL_LOGIT
        safe = ops.where(small, ops.ones_like(logits), logits)
        exact = ops.sigmoid(safe) / ops.tanh(0.5 * safe) - 1.0 / safe
        series = 0.5 + logits / 12.0 - logits * ops.square(logits) / 720.0
        return ops.where(small, series, exact)

    def sample(self, params, seed=None):
        # Inverse CDF: x = log((1 - u) + u e^l) / l, written with logaddexp so that it is finite
        # for large |l|; x = u at l = 0 (the uniform density).
        logits = ops.convert_to_tensor(params)
        u = keras.random.uniform(ops.shape(logits), minval=1e-6, maxval=1.0 - 1e-6, seed=seed)
        small = ops.abs(logits) < 1e-3
        safe = ops.where(small, ops.ones_like(logits), logits)
        exact = ops.logaddexp(ops.log1p(-u), ops.log(u) + safe) / safe
        return ops.clip(ops.where(small, u, exact), 0.0, 1.0)

    def check_data(self, array, name="x"):
        low, high = _checks.check_real_finite(name, array)
        _checks.check_unit_interval(name, low, high, "continuous Bernoulli")


NAMES = {cls.kind: cls for cls in (Bernoulli, Gaussian, ContinuousBernoulli)}


def get(identifier) -> Likelihood:
    """A likelihood object from itself, a name, or a serialised config.

    Example:

    >>> get("gaussian").kind
    'gaussian'
    """
    if isinstance(identifier, Likelihood):
        return identifier
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    if isinstance(identifier, str) and identifier in NAMES:
        return NAMES[identifier]()
    raise ValueError(
        f"Expected likelihood to be one of {tuple(NAMES)} or a vaelib.likelihoods.Likelihood. "
        f"Received: likelihood={identifier!r}"
    )
