"""The variational autoencoder model and builders for its encoders and decoders.

`VAE` wraps any encoder that maps images to ``(z_mean, z_log_var)`` and any decoder
that maps codes to likelihood parameters. Its loss, per example, is::

    reconstruction + beta * KL(q(z | x) || N(0, I))

with the reconstruction (a negative log-likelihood) summed over pixels and the KL
summed over latent dimensions; the mean over the batch is taken once, here, in
`VAE.compute_loss`. Overriding `compute_loss` (rather than writing a
`GradientTape` training step) keeps the model trainable on every Keras 3 backend.
"""

from __future__ import annotations

import math
import numbers
from contextlib import contextmanager

import keras
import numpy as np
from keras import layers, ops

from vaelib.layers import Sampling
from vaelib.losses import bernoulli_nll, gaussian_nll, kl_standard_normal

LIKELIHOODS = ("bernoulli", "gaussian")
LOSS_NAMES = ("reconstruction_loss", "kl_loss", "total_loss")


# --------------------------------------------------------------------------- validation


def _check_beta(beta) -> float:
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        try:
            value = float(np.asarray(beta))  # 0-d arrays and tensors
        except (TypeError, ValueError):
            raise ValueError(f"Expected beta to be a float >= 0. Received: beta={beta!r}") from None
    else:
        value = float(beta)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"Expected beta >= 0 (finite). Received: beta={beta!r}")
    return value


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Expected {name} >= 1 (an int). Received: {name}={value!r}")
    return int(value)


def _check_shape(name: str, shape) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(
            f"Expected {name} to be a tuple of positive ints. Received: {name}={shape!r}"
        ) from None
    if not shape or any(
        isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1 for d in shape
    ):
        raise ValueError(
            f"Expected {name} to be a tuple of positive ints. Received: {name}={shape!r}"
        )
    return tuple(int(d) for d in shape)


def _check_vae_arguments(beta, likelihood, gaussian_log_var, num_samples):
    """Validate the VAE's flat arguments; returns (beta, gaussian_log_var, num_samples)."""
    beta = _check_beta(beta)
    if likelihood not in LIKELIHOODS:
        raise ValueError(
            f"Expected likelihood to be one of {LIKELIHOODS}. Received: likelihood={likelihood!r}"
        )
    if gaussian_log_var != "learned":
        try:
            value = float(gaussian_log_var)
        except (TypeError, ValueError):
            value = math.nan
        if isinstance(gaussian_log_var, bool | str) or not math.isfinite(value):
            raise ValueError(
                "Expected gaussian_log_var to be a finite float or 'learned'. "
                f"Received: gaussian_log_var={gaussian_log_var!r}"
            )
        gaussian_log_var = value
    return beta, gaussian_log_var, _check_positive_int("num_samples", num_samples)


def _shape_str(shape) -> str:
    dims = ["batch" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


# --------------------------------------------------------------------------- the model


@keras.saving.register_keras_serializable(package="vaelib")
class VAE(keras.Model):
    """Variational autoencoder trained on reconstruction + beta * KL.

    Args:
        encoder: a Keras model or layer mapping images ``(batch, *image_shape)`` to
            ``[z_mean, z_log_var]``, each ``(batch, latent_dim)``.
        decoder: a Keras model or layer mapping codes ``(batch, latent_dim)`` to
            likelihood parameters ``(batch, *image_shape)``: logits for
            ``likelihood="bernoulli"``, means for ``likelihood="gaussian"``.
        beta: weight >= 0 of the KL term; 1 gives the ELBO. Held in a non-trainable
            variable, so it can be changed during `fit` (see `beta`).
        likelihood: ``"bernoulli"`` (binary cross-entropy from logits; pixels must lie
            in [0, 1]) or ``"gaussian"``.
        gaussian_log_var: for the Gaussian likelihood, the fixed log-variance of every
            pixel (a float), or ``"learned"`` for one trainable scalar.
        num_samples: Monte Carlo samples of z per example in the loss; the
            reconstruction term is averaged over them.
        seed: optional int seeding the `Sampling` layer.
        **kwargs: base `keras.Model` arguments (``name``...).

    Calling the model, ``model(x)``, returns the decoder output (logits or means)
    for one sampled z, shape ``(batch, *image_shape)``; so does `predict`.

    Example:

    >>> import numpy as np
    >>> model = VAE(mlp_encoder(hidden_units=16), mlp_decoder(hidden_units=16), seed=0)
    >>> model.compile(optimizer="adam")
    >>> x = np.random.default_rng(0).random((64, 28, 28), dtype="float32")
    >>> history = model.fit(x, epochs=1, batch_size=32, verbose=0)
    >>> sorted(k for k in history.history if k.endswith("_loss"))
    ['kl_loss', 'reconstruction_loss', 'total_loss']
    """

    def __init__(
        self,
        encoder,
        decoder,
        beta=1.0,
        likelihood="bernoulli",
        gaussian_log_var=0.0,
        num_samples=1,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for role, part in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(part, keras.layers.Layer):
                raise ValueError(
                    f"Expected {role} to be a Keras model or layer. Received: {role}={part!r}"
                )
        beta, gaussian_log_var, num_samples = _check_vae_arguments(
            beta, likelihood, gaussian_log_var, num_samples
        )
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.gaussian_log_var = gaussian_log_var
        self.num_samples = num_samples
        self.seed = seed
        self.sampler = Sampling(seed=seed, name="sampler")
        self.latent_dim = self._infer_latent_dim()
        self._beta = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(beta), trainable=False, name="beta"
        )
        self.decoder_log_var = None
        if likelihood == "gaussian" and gaussian_log_var == "learned":
            self.decoder_log_var = self.add_weight(
                shape=(), initializer="zeros", trainable=True, name="decoder_log_var"
            )
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        # True only while Keras traces or runs `train_step` / `test_step`: `call` then
        # returns every intermediate that `compute_loss` needs (see `_loss_mode`).
        self._returns_loss_terms = False
        if getattr(encoder, "built", False) and getattr(decoder, "built", False):
            self.built = True

    # ------------------------------------------------------------------ properties

    def _infer_latent_dim(self):
        outputs = getattr(self.encoder, "outputs", None)
        if outputs is not None and len(outputs) != 2:
            raise ValueError(
                "Expected the encoder to return [z_mean, z_log_var]. Received: an encoder "
                f"with {len(outputs)} outputs"
            )
        latent_dim = outputs[0].shape[-1] if outputs else None
        inputs = getattr(self.decoder, "inputs", None)
        decoder_dim = inputs[0].shape[-1] if inputs else None
        if latent_dim is not None and decoder_dim is not None and latent_dim != decoder_dim:
            raise ValueError(
                "Expected the decoder's input size to equal the encoder's latent size. "
                f"Received: encoder latent_dim={latent_dim}, decoder input size={decoder_dim}"
            )
        return latent_dim if latent_dim is not None else decoder_dim

    @property
    def beta(self) -> float:
        """Weight of the KL term, a float >= 0.

        Assigning ``model.beta = value`` writes the model's non-trainable ``beta``
        variable, which the compiled training step reads as state: the new value is
        used from the next step on, on TensorFlow and on JAX, whether it is set from
        ``on_epoch_begin`` (a warm-up schedule) or ``on_train_batch_begin``. On JAX,
        `fit` keeps the live model state outside the variables during an epoch; the
        getter and setter first write it back (`jax_state_sync`, which Keras's
        ``Callback.model`` also does), so an assignment through any reference to the
        model, e.g. a ``LambdaCallback`` closure, is neither lost nor overwritten.
        """
        self._sync_jax_state()
        # The shortest decimal that rounds to the stored float32 (0.1, not 0.10000000149).
        return float(str(np.float32(ops.convert_to_numpy(self._beta))))

    @beta.setter
    def beta(self, value):
        value = _check_beta(value)
        self._sync_jax_state()
        self._beta.assign(value)

    def _sync_jax_state(self):
        sync = getattr(self, "jax_state_sync", None)
        if sync is not None:
            sync()

    @property
    def image_shape(self):
        """Shape of one input image as the encoder declares it, or None if unknown."""
        inputs = getattr(self.encoder, "inputs", None)
        return tuple(inputs[0].shape[1:]) if inputs else None

    # ------------------------------------------------------------------ forward pass

    @contextmanager
    def _loss_mode(self):
        previous = self._returns_loss_terms
        self._returns_loss_terms = True
        try:
            yield
        finally:
            self._returns_loss_terms = previous

    def train_step(self, *args, **kwargs):
        # Keras calls `y_pred = self(x)` and then `compute_loss(x, y, y_pred)` inside
        # this step. In loss mode `call` returns z_mean, z_log_var and the decoder
        # outputs together, so that the network runs once per step. The flag is a
        # Python value read when the step is traced, so it costs nothing per step.
        with self._loss_mode():
            return super().train_step(*args, **kwargs)

    def test_step(self, *args, **kwargs):
        with self._loss_mode():
            return super().test_step(*args, **kwargs)

    def _check_static_shape(self, shape):
        expected = self.image_shape
        if expected is None:
            return
        shape = tuple(shape)
        if len(shape) != len(expected) + 1 or any(
            e is not None and s is not None and e != s
            for e, s in zip(expected, shape[1:], strict=True)
        ):
            raise ValueError(
                f"Expected data of shape {_shape_str((None, *expected))} for the encoder. "
                f"Received: x.shape={tuple(shape)}"
            )

    def _forward(self, x, training=None, eps=None, num_samples=1):
        """Encoder, sampler and decoder. Returns a dict of tensors.

        ``outputs`` has shape ``(batch, *image_shape)`` for one sample, or
        ``(num_samples, batch, *image_shape)`` for several (or a 3-D ``eps``).
        """
        self._check_static_shape(x.shape)
        z_mean, z_log_var = self.encoder(x, training=training)
        if eps is not None:
            z = self.sampler((z_mean, z_log_var, eps))
        elif num_samples > 1:
            z = self.sampler((z_mean, z_log_var), num_samples=num_samples)
        else:
            z = self.sampler((z_mean, z_log_var))
        if len(z.shape) == 3:  # (num_samples, batch, latent): decode as one batch
            flat = ops.reshape(z, (-1, z.shape[-1]))
            outputs = self.decoder(flat, training=training)
            outputs = ops.reshape(outputs, (z.shape[0], -1, *outputs.shape[1:]))
        else:
            outputs = self.decoder(z, training=training)
        return {"outputs": outputs, "z_mean": z_mean, "z_log_var": z_log_var, "z": z}

    def call(self, inputs, training=None):
        if self._returns_loss_terms:
            return self._forward(inputs, training=training, num_samples=self.num_samples)
        return self._forward(inputs, training=training)["outputs"]

    # ------------------------------------------------------------------ the loss

    def _reconstruction_nll(self, x, outputs):
        x = ops.cast(x, "float32")
        outputs = ops.cast(outputs, "float32")
        stacked = len(outputs.shape) == len(x.shape) + 1
        image_shape = tuple(outputs.shape[2:] if stacked else outputs.shape[1:])
        if image_shape != tuple(x.shape[1:]):
            raise ValueError(
                "Expected the decoder output to have the shape of the data. Received: "
                f"decoder output per example {image_shape}, data per example "
                f"{tuple(x.shape[1:])} (build the decoder with a matching output_shape)"
            )
        if stacked:
            num_samples = outputs.shape[0]
            outputs = ops.reshape(outputs, (-1, *image_shape))
            x = ops.tile(x, (num_samples,) + (1,) * len(image_shape))
        if self.likelihood == "bernoulli":
            nll = bernoulli_nll(x, outputs)
        else:
            log_var = self.gaussian_log_var
            if self.decoder_log_var is not None:
                log_var = ops.cast(self.decoder_log_var, "float32")
            nll = gaussian_nll(x, outputs, log_var)
        if stacked:
            nll = ops.mean(ops.reshape(nll, (num_samples, -1)), axis=0)
        return nll

    def _loss_terms(self, x, parts):
        reconstruction = self._reconstruction_nll(x, parts["outputs"])
        kl = kl_standard_normal(
            ops.cast(parts["z_mean"], "float32"), ops.cast(parts["z_log_var"], "float32")
        )
        total = reconstruction + ops.cast(self._beta, "float32") * kl
        return {"reconstruction_loss": reconstruction, "kl_loss": kl, "total_loss": total}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Batch mean of reconstruction + beta * KL; updates the three loss metrics.

        ``y`` is ignored (the target is ``x``). ``y_pred`` is what `call` returned in
        loss mode; any other value (e.g. plain decoder outputs) makes this method run
        the forward pass itself. Losses added with ``add_loss`` (e.g. weight
        regularisers) are added to the returned value.
        """
        del y
        if isinstance(y_pred, dict) and "z_mean" in y_pred:
            parts = y_pred
        else:
            parts = self._forward(x, training=training, num_samples=self.num_samples)
        terms = self._loss_terms(x, parts)
        trackers = (
            self.reconstruction_loss_tracker,
            self.kl_loss_tracker,
            self.total_loss_tracker,
        )
        for tracker, name in zip(trackers, LOSS_NAMES, strict=True):
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

    # ------------------------------------------------------------------ input checks

    def check_data(self, x, name="x"):
        """Raise a ValueError if ``x`` cannot be fed to this model.

        Checks arrays and eager tensors (datasets and generators are passed through):
        the shape must match the encoder's input, values must be finite and, for the
        Bernoulli likelihood, lie in [0, 1]. Two passes over the data (min and max).
        """
        if x is None or not hasattr(x, "shape") or not hasattr(x, "dtype"):
            return
        try:
            array = np.asarray(x) if isinstance(x, np.ndarray) else ops.convert_to_numpy(x)
        except Exception:  # symbolic tensors and the like: nothing to check eagerly
            return
        if array.ndim == 0:
            raise ValueError(f"Expected {name} to be a batch of images. Received: a scalar")
        try:
            self._check_static_shape(array.shape)
        except ValueError as error:
            raise ValueError(str(error).replace("x.shape", f"{name}.shape")) from None
        if array.size == 0:
            return
        if not np.issubdtype(array.dtype, np.number) or np.issubdtype(
            array.dtype, np.complexfloating
        ):
            raise ValueError(f"Expected {name} to hold real numbers. Received: dtype={array.dtype}")
        low, high = np.min(array), np.max(array)
        if not (np.isfinite(low) and np.isfinite(high)):
            bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
            raise ValueError(
                f"Expected finite pixel values. Received: {name} with {bad} NaN or infinite values"
            )
        if self.likelihood == "bernoulli" and (low < 0 or high > 1):
            raise ValueError(
                "Expected pixel values in [0, 1] for likelihood='bernoulli'. Received: "
                f"{name} with values in [{float(low):g}, {float(high):g}]"
            )

    def _check_validation_data(self, validation_data):
        if isinstance(validation_data, list | tuple) and validation_data:
            self.check_data(validation_data[0], name="validation_data[0]")
        else:
            self.check_data(validation_data, name="validation_data")

    def fit(self, x=None, y=None, *args, **kwargs):
        self.check_data(x)
        self._check_validation_data(kwargs.get("validation_data"))
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        self.check_data(x)
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        self.check_data(x)
        return super().predict(x, *args, **kwargs)

    # ------------------------------------------------------------------ conveniences

    def _in_batches(self, function, array, batch_size):
        batch_size = _check_positive_int("batch_size", batch_size)
        pieces = [
            function(array[start : start + batch_size])
            for start in range(0, max(len(array), 1), batch_size)
        ]
        if isinstance(pieces[0], tuple):
            return tuple(np.concatenate(part, axis=0) for part in zip(*pieces, strict=True))
        return np.concatenate(pieces, axis=0)

    def encode(self, x, batch_size=1000):
        """Encoder outputs for images ``x``, as NumPy arrays.

        Args:
            x: images, shape ``(batch, *image_shape)``.
            batch_size: rows per encoder call (bounds memory).

        Returns:
            ``(z_mean, z_log_var)``, each ``(batch, latent_dim)`` float32 arrays.
        """
        self.check_data(x)
        x = np.asarray(ops.convert_to_numpy(x), dtype="float32")

        def run(chunk):
            z_mean, z_log_var = self.encoder(chunk, training=False)
            return ops.convert_to_numpy(z_mean), ops.convert_to_numpy(z_log_var)

        return self._in_batches(run, x, batch_size)

    def decode(self, z, batch_size=1000):
        """Decode codes into image space, as a NumPy array.

        Args:
            z: codes, shape ``(batch, latent_dim)``.
            batch_size: rows per decoder call.

        Returns:
            Pixel probabilities (sigmoid of the logits) for the Bernoulli likelihood,
            Gaussian means otherwise; shape ``(batch, *decoder_output_shape)``.
        """
        z = np.asarray(ops.convert_to_numpy(z), dtype="float32")
        if z.ndim != 2 or (self.latent_dim is not None and z.shape[1] != self.latent_dim):
            raise ValueError(
                f"Expected z of shape (batch, {self.latent_dim}). Received: z.shape={z.shape}"
            )

        def run(chunk):
            outputs = self.decoder(chunk, training=False)
            if self.likelihood == "bernoulli":
                outputs = ops.sigmoid(outputs)
            return ops.convert_to_numpy(outputs)

        return self._in_batches(run, z, batch_size)

    def reconstruct(self, x, batch_size=1000):
        """Decode the posterior means: ``decode(encode(x)[0])``, a NumPy array."""
        z_mean, _ = self.encode(x, batch_size=batch_size)
        return self.decode(z_mean, batch_size=batch_size)

    def sample_prior(self, num, seed=None):
        """Decode ``num`` codes drawn from the prior N(0, I), as a NumPy array.

        Args:
            num: number of images.
            seed: int for a reproducible draw; None draws from Keras's global seed.
        """
        num = _check_positive_int("num", num)
        z = keras.random.normal((num, self.latent_dim), seed=seed)
        return self.decode(z)

    def per_example_losses(self, x, eps=None, num_samples=None):
        """Per-example loss terms, as backend tensors of shape ``(batch,)``.

        Args:
            x: images, shape ``(batch, *image_shape)``.
            eps: optional fixed noise, shape ``(batch, latent_dim)`` or
                ``(num_samples, batch, latent_dim)``; the reconstruction term is
                averaged over the samples.
            num_samples: samples drawn when ``eps`` is None; defaults to the model's
                ``num_samples`` (so the terms match the training loss).

        Returns:
            Dict with ``"reconstruction_loss"``, ``"kl_loss"`` and
            ``"total_loss"`` (= reconstruction + beta * KL, in nats).
        """
        self.check_data(x)
        num_samples = self.num_samples if num_samples is None else num_samples
        num_samples = _check_positive_int("num_samples", num_samples)
        x = ops.cast(x, "float32")
        parts = self._forward(x, training=False, eps=eps, num_samples=num_samples)
        return self._loss_terms(x, parts)

    # ------------------------------------------------------------------ serialisation

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "beta": self.beta,
                "likelihood": self.likelihood,
                "gaussian_log_var": self.gaussian_log_var,
                "num_samples": self.num_samples,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        encoder = keras.saving.deserialize_keras_object(
            config.pop("encoder"), custom_objects=custom_objects
        )
        decoder = keras.saving.deserialize_keras_object(
            config.pop("decoder"), custom_objects=custom_objects
        )
        return cls(encoder, decoder, **config)


# --------------------------------------------------------------------------- builders


def mlp_encoder(input_shape=(28, 28), hidden_units=512, latent_dim=2, name="encoder"):
    """Flatten, one ReLU hidden layer, then two linear heads z_mean and z_log_var.

    Args:
        input_shape: shape of one image, e.g. ``(28, 28)`` or ``(784,)``.
        hidden_units: width of the hidden layer.
        latent_dim: size of z.
        name: model name.

    Returns:
        A functional `keras.Model` mapping ``(batch, *input_shape)`` to
        ``[z_mean, z_log_var]``, each ``(batch, latent_dim)``.
    """
    input_shape = _check_shape("input_shape", input_shape)
    hidden_units = _check_positive_int("hidden_units", hidden_units)
    latent_dim = _check_positive_int("latent_dim", latent_dim)
    inputs = keras.Input(shape=input_shape, name="image")
    hidden = layers.Flatten(name="flatten")(inputs)
    hidden = layers.Dense(hidden_units, activation="relu", name="hidden")(hidden)
    z_mean = layers.Dense(latent_dim, name="z_mean")(hidden)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(hidden)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def mlp_decoder(output_shape=(28, 28), hidden_units=512, latent_dim=2, name="decoder"):
    """One ReLU hidden layer, then a linear layer of logits reshaped to the image.

    Args:
        output_shape: shape of one image.
        hidden_units: width of the hidden layer.
        latent_dim: size of z.
        name: model name.

    Returns:
        A functional `keras.Model` mapping ``(batch, latent_dim)`` to logits
        ``(batch, *output_shape)`` (no activation: the loss applies the sigmoid).
    """
    output_shape = _check_shape("output_shape", output_shape)
    hidden_units = _check_positive_int("hidden_units", hidden_units)
    latent_dim = _check_positive_int("latent_dim", latent_dim)
    inputs = keras.Input(shape=(latent_dim,), name="z")
    hidden = layers.Dense(hidden_units, activation="relu", name="hidden")(inputs)
    logits = layers.Dense(math.prod(output_shape), name="logits")(hidden)
    outputs = layers.Reshape(output_shape, name="image")(logits)
    return keras.Model(inputs, outputs, name=name)


def conv_encoder(input_shape=(28, 28, 1), latent_dim=2, name="encoder"):
    """Two 3x3 stride-2 convolutions (32, 64, ReLU), dense 16 (ReLU), two heads.

    Args:
        input_shape: ``(28, 28, 1)``, or ``(28, 28)`` / ``(784,)``, which are
            reshaped to ``(28, 28, 1)`` inside the model.
        latent_dim: size of z.
        name: model name.

    Returns:
        A functional `keras.Model` mapping images to ``[z_mean, z_log_var]``.
    """
    input_shape = _check_shape("input_shape", input_shape)
    latent_dim = _check_positive_int("latent_dim", latent_dim)
    if math.prod(input_shape) != 28 * 28 or len(input_shape) > 3:
        raise ValueError(
            "Expected input_shape (28, 28, 1), (28, 28) or (784,). "
            f"Received: input_shape={input_shape}"
        )
    inputs = keras.Input(shape=input_shape, name="image")
    hidden = inputs
    if input_shape != (28, 28, 1):
        hidden = layers.Reshape((28, 28, 1), name="add_channel")(hidden)
    for filters in (32, 64):
        hidden = layers.Conv2D(
            filters, 3, strides=2, padding="same", activation="relu", name=f"conv_{filters}"
        )(hidden)
    hidden = layers.Flatten(name="flatten")(hidden)
    hidden = layers.Dense(16, activation="relu", name="hidden")(hidden)
    z_mean = layers.Dense(latent_dim, name="z_mean")(hidden)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(hidden)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def conv_decoder(latent_dim=2, output_shape=(28, 28, 1), name="decoder"):
    """Dense 7*7*64 (ReLU), reshape, transposed convolutions up to 28x28x1 logits.

    Two 3x3 stride-2 transposed convolutions (64, 32, ReLU) double 7x7 to 28x28; a
    last 3x3 transposed convolution with one filter and no activation gives logits.

    Args:
        latent_dim: size of z.
        output_shape: ``(28, 28, 1)`` (default), ``(28, 28)`` or ``(784,)`` to
            match the data given to `conv_encoder`.
        name: model name.

    Returns:
        A functional `keras.Model` mapping ``(batch, latent_dim)`` to logits
        ``(batch, *output_shape)``.
    """
    latent_dim = _check_positive_int("latent_dim", latent_dim)
    output_shape = _check_shape("output_shape", output_shape)
    if math.prod(output_shape) != 28 * 28:
        raise ValueError(
            "Expected output_shape (28, 28, 1), (28, 28) or (784,). "
            f"Received: output_shape={output_shape}"
        )
    inputs = keras.Input(shape=(latent_dim,), name="z")
    hidden = layers.Dense(7 * 7 * 64, activation="relu", name="hidden")(inputs)
    hidden = layers.Reshape((7, 7, 64), name="feature_map")(hidden)
    for filters in (64, 32):
        hidden = layers.Conv2DTranspose(
            filters, 3, strides=2, padding="same", activation="relu", name=f"deconv_{filters}"
        )(hidden)
    outputs = layers.Conv2DTranspose(1, 3, padding="same", name="logits")(hidden)
    if output_shape != (28, 28, 1):
        outputs = layers.Reshape(output_shape, name="image")(outputs)
    return keras.Model(inputs, outputs, name=name)


def build_mlp_vae(
    input_shape=(28, 28),
    hidden_units=512,
    latent_dim=2,
    beta=1.0,
    likelihood="bernoulli",
    seed=None,
    **vae_kwargs,
):
    """An uncompiled `VAE` with `mlp_encoder` and `mlp_decoder` of the same sizes.

    Example:

    >>> model = build_mlp_vae(hidden_units=64, latent_dim=2, beta=0.5, seed=0)
    >>> model.latent_dim, model.beta
    (2, 0.5)
    """
    _check_vae_arguments(
        beta, likelihood, vae_kwargs.get("gaussian_log_var", 0.0), vae_kwargs.get("num_samples", 1)
    )
    encoder = mlp_encoder(input_shape, hidden_units, latent_dim)
    decoder = mlp_decoder(input_shape, hidden_units, latent_dim)
    return VAE(encoder, decoder, beta=beta, likelihood=likelihood, seed=seed, **vae_kwargs)


def build_conv_vae(
    input_shape=(28, 28, 1), latent_dim=2, beta=1.0, likelihood="bernoulli", seed=None, **vae_kwargs
):
    """An uncompiled `VAE` with `conv_encoder` and a `conv_decoder` matching the data.

    ``input_shape`` may be ``(28, 28, 1)``, ``(28, 28)`` or ``(784,)``; the decoder
    outputs the same shape, so the data needs no reshaping.
    """
    _check_vae_arguments(
        beta, likelihood, vae_kwargs.get("gaussian_log_var", 0.0), vae_kwargs.get("num_samples", 1)
    )
    encoder = conv_encoder(input_shape, latent_dim)
    decoder = conv_decoder(latent_dim, output_shape=input_shape)
    return VAE(encoder, decoder, beta=beta, likelihood=likelihood, seed=seed, **vae_kwargs)
