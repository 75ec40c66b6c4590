"""The reparameterised sampling layer: z = z_mean + exp(z_log_var / 2) * eps."""

from __future__ import annotations

import keras
from keras import ops

from vaelib import _checks
from vaelib._checks import compatible as _compatible
from vaelib._checks import shape_str as _shape_str


@keras.saving.register_keras_serializable(package="vaelib")
class Sampling(keras.layers.Layer):
    """Draws z from N(z_mean, exp(z_log_var)) with the reparameterisation trick.

    ``z = z_mean + exp(z_log_var / 2) * eps`` with ``eps ~ N(0, I)``. All the
    randomness enters through ``eps``, so gradients flow to ``z_mean`` and
    ``z_log_var``. Pass ``eps`` explicitly to fix the noise: the layer is then
    deterministic.

    Args:
        seed: optional int seeding the layer's `keras.random.SeedGenerator`, so two
            layers built with the same seed draw the same noise sequence.
        **kwargs: base `keras.layers.Layer` arguments (``name``, ``dtype``...).

    Call arguments:
        inputs: a tuple ``(z_mean, z_log_var)`` or ``(z_mean, z_log_var, eps)``.
            ``z_mean`` and ``z_log_var`` have shape ``(batch, latent_dim)``;
            ``eps`` has the same shape, or ``(num_samples, batch, latent_dim)``
            to draw several samples per example.
        num_samples: when no ``eps`` is given, draw this many samples per example
            and return shape ``(num_samples, batch, latent_dim)``. ``None``
            (default) draws one and returns ``(batch, latent_dim)``.

    Returns:
        z, shape ``(batch, latent_dim)`` or ``(num_samples, batch, latent_dim)``.

    Example:

    >>> import numpy as np
    >>> sampler = Sampling(seed=0)
    >>> z = sampler((np.zeros((4, 2)), np.zeros((4, 2))))
    >>> tuple(z.shape)
    (4, 2)
    >>> z = sampler((np.ones((4, 2)), np.zeros((4, 2)), np.zeros((4, 2))))
    >>> float(z[0, 0])
    1.0
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = _checks.check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.built = True

    def _unpack(self, inputs):
        if not isinstance(inputs, list | tuple) or len(inputs) not in (2, 3):
            raise ValueError(
                "Expected inputs to be a tuple (z_mean, z_log_var) or "
                f"(z_mean, z_log_var, eps). Received: inputs={inputs!r}"
            )
        return tuple(inputs) if len(inputs) == 3 else (inputs[0], inputs[1], None)

    def _check_shapes(self, mean_shape, log_var_shape, eps_shape):
        if not _compatible(mean_shape, log_var_shape):
            raise ValueError(
                "Expected z_mean and z_log_var to have the same shape. Received: "
                f"z_mean.shape={_shape_str(mean_shape)}, "
                f"z_log_var.shape={_shape_str(log_var_shape)}"
            )
        if eps_shape is not None and not (
            _compatible(eps_shape, mean_shape) or _compatible(eps_shape[1:], mean_shape)
        ):
            raise ValueError(
                "Expected eps of shape z_mean.shape or (num_samples,) + z_mean.shape. "
                f"Received: eps.shape={_shape_str(eps_shape)}, "
                f"z_mean.shape={_shape_str(mean_shape)}"
            )

    def call(self, inputs, num_samples=None):
        z_mean, z_log_var, eps = self._unpack(inputs)
        z_mean = ops.convert_to_tensor(z_mean, dtype=self.compute_dtype)
        z_log_var = ops.convert_to_tensor(z_log_var, dtype=self.compute_dtype)
        if eps is not None:
            eps = ops.convert_to_tensor(eps, dtype=self.compute_dtype)
        self._check_shapes(
            tuple(z_mean.shape), tuple(z_log_var.shape), None if eps is None else tuple(eps.shape)
        )
        if eps is None:
            shape = tuple(ops.shape(z_mean))
            if num_samples is not None:
                num_samples = _checks.check_positive_int("num_samples", num_samples)
                shape = (num_samples,) + shape
            eps = keras.random.normal(shape, dtype=self.compute_dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_spec(self, inputs, num_samples=None):
        z_mean, z_log_var, eps = self._unpack(inputs)
        eps_shape = None if eps is None else tuple(eps.shape)
        self._check_shapes(tuple(z_mean.shape), tuple(z_log_var.shape), eps_shape)
        shape = tuple(z_mean.shape)
        if eps_shape is not None:
            shape = eps_shape
        elif num_samples is not None:
            shape = (num_samples, *shape)
        return keras.KerasTensor(shape, dtype=self.compute_dtype)

    def save_own_variables(self, store):
        # The noise generator's state is saved too, so that a model that is saved, loaded and
        # trained further draws the same noise as the original would have.
        store["seed_state"] = self.seed_generator.state

    def load_own_variables(self, store):
        if "seed_state" in store:
            self.seed_generator.state.assign(store["seed_state"])

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
