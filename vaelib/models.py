"""The variational autoencoder: one forward pass, one public loss hook.

Per example the loss is ``reconstruction + beta * KL(q(z|x) || N(0, I))``: the reconstruction,
a negative log-likelihood scored by the model's `likelihood` object, is summed over pixels or
features; the KL is summed over latent dimensions; the mean over the batch is taken once, in
`VAE.compute_loss`. Overriding `compute_loss` (not ``train_step``) keeps the model trainable on
every Keras 3 backend.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np
from keras import ops

from vaelib import _checks, inputs, likelihoods
from vaelib.callbacks import StopOnNonFiniteLoss
from vaelib.layers import Sampling
from vaelib.losses import (
    importance_weighted_loss,
    kl_standard_normal,
    log_prior_over_posterior,
)

LOSS_NAMES = ("reconstruction_loss", "kl_loss", "total_loss")
OBJECTIVES = ("elbo", "iwae")


class ForwardOutput(NamedTuple):
    """What `VAE.forward` (and so ``model(x)``) returns, a named tuple of four tensors.

    ``z_mean`` and ``z_log_var``, the posterior's means and log-variances, have shape
    ``(batch, latent_dim)``; ``z``, the sampled codes, ``(batch, latent_dim)`` or
    ``(num_samples, batch, latent_dim)``; ``decoder_output``, the likelihood's parameters
    (e.g. logits), ``(batch, *data_shape)`` or ``(num_samples, batch, *data_shape)``.
    """

    z_mean: object
    z_log_var: object
    z: object
    decoder_output: object


@keras.saving.register_keras_serializable(package="vaelib")
class VAE(keras.Model):
    """Variational autoencoder trained on reconstruction + beta * KL.

    Args:
        encoder: Keras model or layer mapping data ``(batch, *data_shape)`` to
            ``[z_mean, z_log_var]``, each ``(batch, latent_dim)``.
        decoder: Keras model or layer mapping codes ``(batch, latent_dim)`` to the likelihood's
            parameters ``(batch, *data_shape)``.
        likelihood: ``"bernoulli"`` (default), ``"gaussian"``, ``"continuous_bernoulli"``, or a
            `vaelib.likelihoods` object such as ``Gaussian(log_var=-2.0, variance="shared")``.
        beta: weight >= 0 of the KL term (1 gives the ELBO); a variable that callbacks may set.
        num_samples: samples of z per example in the loss (the reconstruction is averaged).
        seed: optional int seeding the sampler.
        objective: ``"elbo"`` (reconstruction + beta * KL, the default) or ``"iwae"``, the
            importance-weighted bound of Burda et al. (2016) over the ``num_samples`` samples
            (an IWAE; with one sample it is the VAE's loss with a sampled KL).

    ``model(x)`` returns a `ForwardOutput` in training and in inference alike.

    Example:

    >>> import numpy as np
    >>> model = VAE(mlp_encoder(hidden_units=16), mlp_decoder(hidden_units=16), seed=0)
    >>> model.compile(optimizer="adam")
    >>> x = np.random.default_rng(0).random((64, 28, 28), dtype="float32")
    >>> sorted(model.fit(x, epochs=1, batch_size=32, verbose=0).history)
    ['kl_loss', 'reconstruction_loss', 'total_loss']
    """

    def __init__(
        self,
        encoder,
        decoder,
        likelihood="bernoulli",
        beta=1.0,
        num_samples=1,
        seed=None,
        objective="elbo",
        **kw,
    ):
        super().__init__(**kw)
        for role, part in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(part, keras.layers.Layer):
                raise ValueError(f"Expected {role} to be a Keras layer. Received: {role}={part!r}")
        self.encoder, self.decoder = encoder, decoder
        self.likelihood = likelihoods.get(likelihood)
        self.num_samples = _checks.check_positive_int("num_samples", num_samples)
        self.seed = _checks.check_seed(seed)
        self.objective = _checks.check_one_of("objective", objective, OBJECTIVES)
        self.sampler = Sampling(seed=self.seed, name="sampler")
        self.latent_dim = self._infer_latent_dim()
        self._beta = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(_checks.check_beta(beta)),
            trainable=False, name="beta",
        )  # fmt: skip
        self.trackers = {name: keras.metrics.Mean(name=name) for name in LOSS_NAMES}
        outputs = getattr(decoder, "outputs", None)
        if outputs and not self.likelihood.built:
            self.likelihood.build(tuple(outputs[0].shape))
        if getattr(encoder, "built", False) and getattr(decoder, "built", False):
            self.built = True

    def _infer_latent_dim(self):
        outputs = getattr(self.encoder, "outputs", None)
        if outputs is not None and len(outputs) != 2:
            raise ValueError(
                "Expected the encoder to return [z_mean, z_log_var]. "
                f"Received: an encoder with {len(outputs)} outputs"
            )
        latent = outputs[0].shape[-1] if outputs else None
        decoder_inputs = getattr(self.decoder, "inputs", None)
        decoder_dim = decoder_inputs[0].shape[-1] if decoder_inputs else None
        if None not in (latent, decoder_dim) and latent != decoder_dim:
            raise ValueError(
                "Expected the decoder's input size to equal the encoder's latent size. "
                f"Received: latent_dim={latent}, decoder input size={decoder_dim}"
            )
        return latent if latent is not None else decoder_dim

    @property
    def beta(self) -> float:
        """Weight of the KL term. Assigning it writes a variable the compiled step reads, so a
        callback may change it mid-`fit` (on JAX the trainer's state is synced first)."""
        self._sync_jax_state()
        return float(str(np.float32(ops.convert_to_numpy(self._beta))))

    @beta.setter
    def beta(self, value):
        value = _checks.check_beta(value)
        self._sync_jax_state()
        self._beta.assign(value)

    def _sync_jax_state(self):
        sync = getattr(self, "jax_state_sync", None)
        if sync is not None:
            sync()

    @property
    def data_shape(self):
        """Shape of one example as the encoder declares it, or None if unknown."""
        encoder_inputs = getattr(self.encoder, "inputs", None)
        return tuple(encoder_inputs[0].shape[1:]) if encoder_inputs else None

    # ------------------------------------------------------------------ the two public hooks

    def forward(self, x, num_samples=None, eps=None, training=False) -> ForwardOutput:
        """Encoder, sampler and decoder, once.

        Args:
            x: data, ``(batch, *data_shape)``.
            num_samples: samples of z per example (default 1: no sample axis).
            eps: fixed noise instead, ``(batch, latent_dim)`` or ``(S, batch, latent_dim)``.
            training: passed to the encoder and decoder.

        Returns:
            A `ForwardOutput`; with several samples ``z`` and ``decoder_output`` have a leading
            sample axis.
        """
        x = ops.cast(x, "float32")
        _checks.check_batch_shape("x", x.shape, self.data_shape)
        z_mean, z_log_var = self.encoder(x, training=training)
        if eps is not None:
            z = self.sampler((z_mean, z_log_var, eps))
        else:
            count = (
                1 if num_samples is None else _checks.check_positive_int("num_samples", num_samples)
            )
            z = self.sampler((z_mean, z_log_var), num_samples=count if count > 1 else None)
        if len(z.shape) == 3:  # (S, batch, latent): decode as one batch
            flat = self.decoder(ops.reshape(z, (-1, z.shape[-1])), training=training)
            params = ops.reshape(flat, (z.shape[0], -1, *flat.shape[1:]))
        else:
            params = self.decoder(z, training=training)
        return ForwardOutput(z_mean, z_log_var, z, params)

    def loss_terms(self, x, forward_output: ForwardOutput) -> dict:
        """Per-example ``reconstruction_loss``, ``kl_loss`` and ``total_loss``, each ``(batch,)``.

        The reconstruction is the likelihood's NLL summed over every non-batch axis (averaged
        over samples of z); the KL is in closed form, summed over latent dimensions;
        ``total = reconstruction + beta * KL``; with ``objective="iwae"`` the total is instead
        the negative importance-weighted bound over the ``num_samples`` samples (see
        `vaelib.losses.importance_weighted_loss`). Override this to change the loss.
        """
        x = ops.cast(x, "float32")
        params = forward_output.decoder_output
        stacked = len(params.shape) == len(x.shape) + 1
        per_example = tuple(params.shape[2:] if stacked else params.shape[1:])
        if not _checks.compatible(per_example, x.shape[1:]):
            raise ValueError(
                "Expected the decoder's output to have the shape of the data. Received: decoder "
                f"output per example {per_example}, data per example {tuple(x.shape[1:])}"
            )
        if stacked:
            nll = self.likelihood.nll_samples(x, params)
        else:
            nll = self.likelihood.nll(x, params)[None]
        z_mean, z_log_var = forward_output.z_mean, forward_output.z_log_var
        kl = kl_standard_normal(z_mean, z_log_var)
        beta = ops.cast(self._beta, kl.dtype)
        if self.objective == "iwae":
            z = forward_output.z if stacked else forward_output.z[None]
            log_ratio = log_prior_over_posterior(z, z_mean, z_log_var)
            total = importance_weighted_loss(nll, log_ratio, beta)
        else:
            total = ops.mean(nll, axis=0) + beta * kl
        return {"reconstruction_loss": ops.mean(nll, axis=0), "kl_loss": kl, "total_loss": total}

    def call(self, inputs, training=None):
        return self.forward(inputs, num_samples=self.num_samples, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Batch mean of `loss_terms`'s ``total_loss`` (plus ``add_loss`` terms); updates the
        three loss metrics. ``y`` is ignored: the target is ``x``."""
        del y
        if y_pred is None:
            y_pred = self(x, training=training)
        terms = self.loss_terms(x, y_pred)
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name], sample_weight=sample_weight)
        total = terms["total_loss"]
        if sample_weight is None:
            loss = ops.mean(total)
        else:
            weight = ops.cast(ops.reshape(sample_weight, (-1,)), total.dtype)
            loss = ops.sum(total * weight) / ops.maximum(ops.sum(weight), 1e-12)
        for extra in self.losses:
            loss = loss + ops.sum(ops.cast(extra, loss.dtype))
        return loss

    # ------------------------------------------------------------------ checked entry points

    def check_data(self, data, name="x"):
        """Check ``data`` (its first batch, for datasets and generators); return it ready to use.

        Rules: the shape matches the encoder's input, the values are real and finite, and the
        likelihood accepts them (e.g. [0, 1] for the Bernoulli).
        """
        array, data = inputs.peek(data, name)
        if array is not None:
            _checks.check_real_finite(name, array)
            _checks.check_batch_shape(name, array.shape, self.data_shape)
            self.likelihood.check_data(array, name)
        return data

    def fit(self, x=None, y=None, *args, callbacks=None, **kwargs):
        x = self.check_data(x)
        validation = kwargs.get("validation_data")
        if validation is not None:
            if isinstance(validation, tuple | list) and inputs.is_array(validation[0]):
                self.check_data(validation[0], "validation_data[0]")
            else:
                kwargs["validation_data"] = self.check_data(validation, "validation_data")
        callbacks = list(callbacks or [])
        if not any(isinstance(c, StopOnNonFiniteLoss) for c in callbacks):
            callbacks.append(StopOnNonFiniteLoss())
        return super().fit(x, y, *args, callbacks=callbacks, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        return super().evaluate(self.check_data(x), y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        return super().predict(self.check_data(x), *args, **kwargs)

    # ------------------------------------------------------------------ conveniences

    def encode(self, x, batch_size=1000):
        """``(z_mean, z_log_var)`` of any data (arrays, datasets...), as NumPy arrays."""
        x = self.check_data(x)
        pieces = [self.encoder(b, training=False) for b in inputs.batches(x, batch_size)]
        return tuple(np.concatenate([ops.convert_to_numpy(p[i]) for p in pieces]) for i in (0, 1))

    def decode(self, z, batch_size=1000):
        """The likelihood's mean E[x | z] for codes ``(n, latent_dim)``, as a NumPy array."""
        z = np.asarray(inputs.to_numpy(z), dtype="float32")
        if z.ndim != 2 or (self.latent_dim is not None and z.shape[1] != self.latent_dim):
            raise ValueError(
                f"Expected z of shape (batch, {self.latent_dim}). Received: z.shape={z.shape}"
            )
        return np.concatenate(
            [
                ops.convert_to_numpy(self.likelihood.mean(self.decoder(b, training=False)))
                for b in inputs.batches(z, batch_size, "z")
            ]
        )

    def reconstruct(self, x, batch_size=1000):
        """Decode the posterior means: ``decode(encode(x)[0])``."""
        return self.decode(self.encode(x, batch_size)[0], batch_size)

    def sample_prior(self, num, seed=None):
        """Decode ``num`` codes drawn from N(0, I) (the likelihood's means), as NumPy."""
        num = _checks.check_positive_int("num", num)
        return self.decode(keras.random.normal((num, self.latent_dim), seed=seed))

    def per_example_losses(self, x, eps=None, num_samples=None):
        """`loss_terms` of a forward pass in inference mode (``num_samples`` defaults to the
        model's); backend tensors of shape ``(batch,)``."""
        self.check_data(x)
        count = self.num_samples if num_samples is None else num_samples
        return self.loss_terms(x, self.forward(x, num_samples=count, eps=eps))

    # ------------------------------------------------------------------ serialisation

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "encoder": serialize(self.encoder),
            "decoder": serialize(self.decoder),
            "likelihood": serialize(self.likelihood),
            "beta": self.beta,
            "num_samples": self.num_samples,
            "seed": self.seed,
            "objective": self.objective,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("encoder", "decoder", "likelihood"):
            config[key] = keras.saving.deserialize_keras_object(
                config[key], custom_objects=custom_objects
            )
        return cls(**config)
