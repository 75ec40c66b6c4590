"""vaelib: the companion library of the vae-book tutorial.

Importing vaelib registers its layers and models with Keras, so that ``.keras`` files saved
from vaelib models load: ``import vaelib`` before ``keras.saving.load_model``, or use
`vaelib.load_model`.
"""

import importlib.util as _importlib_util
import os as _os
import sys as _sys


def _import_keras_quietly():
    """Import Keras (and TensorFlow, on its backend) with file descriptor 2 sent to /dev/null.

    TensorFlow's C++ start-up lines (oneDNN, CUDA drivers, the probe for a GPU) are written to
    stderr before its logger is set up, so no log level silences them; they are printed only on
    the first import and the first look at the devices, both done here.
    Python errors still propagate (their tracebacks print once stderr is restored).
    """
    if _os.environ.get("VAELIB_VERBOSE_IMPORT"):
        return
    # Level 3 also hides the C++ lines TensorFlow prints later at run time (e.g. a NodeDef
    # notice once op determinism is on); Python errors are unaffected. A user's value wins.
    _os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    has_tensorflow = _importlib_util.find_spec("tensorflow") is not None
    if "keras" in _sys.modules and ("tensorflow" in _sys.modules or not has_tensorflow):
        return  # Keras came first: on JAX TensorFlow is not loaded yet, so still load it here
    for stream in (_sys.stdout, _sys.stderr):
        stream.flush()
    saved, devnull = _os.dup(2), _os.open(_os.devnull, _os.O_WRONLY)
    try:
        _os.dup2(devnull, 2)
        import keras  # noqa: F401

        # TensorFlow is imported here on every backend: on JAX, Keras imports it later anyway
        # (for tf.data and seeding), and its start-up lines would then reach the user.
        if has_tensorflow:
            import tensorflow

            tensorflow.config.list_physical_devices()  # CUDA's probe prints here, if at all
    finally:
        _os.dup2(saved, 2)
        _os.close(saved)
        _os.close(devnull)


_import_keras_quietly()

from vaelib import bounds as bounds  # noqa: E402  (submodules: vaelib.bounds.elbo, ...)
from vaelib import diagnostics as diagnostics  # noqa: E402
from vaelib import gradients as gradients  # noqa: E402
from vaelib import likelihoods as likelihoods  # noqa: E402
from vaelib import plots as plots  # noqa: E402
from vaelib import web as web  # noqa: E402
from vaelib.bounds import (  # noqa: E402
    active_units,
    elbo,
    importance_weighted_bound,
    kl_per_dimension,
    rate_split,
)
from vaelib.budget import budget, describe, is_quick  # noqa: E402
from vaelib.callbacks import KLWarmup, NonFiniteLossError, StopOnNonFiniteLoss  # noqa: E402
from vaelib.data import (  # noqa: E402
    FASHION_MNIST_CLASSES,
    DynamicBinarization,
    load_fashion_mnist,
    load_mnist,
    make_shapes,
    make_tabular,
)
from vaelib.layers import Sampling  # noqa: E402
from vaelib.likelihoods import Bernoulli, ContinuousBernoulli, Gaussian  # noqa: E402
from vaelib.losses import (  # noqa: E402
    bernoulli_nll,
    gaussian_nll,
    kl_gaussians,
    kl_standard_normal,
)
from vaelib.models import VAE, ForwardOutput  # noqa: E402
from vaelib.networks import (  # noqa: E402
    build_conv_vae,
    build_mlp_vae,
    conv_decoder,
    conv_encoder,
    mlp_decoder,
    mlp_encoder,
)
from vaelib.train import SweepResult, beta_sweep, set_seed  # noqa: E402
from vaelib.web import latent_explorer  # noqa: E402


def load_model(path, **kwargs):
    """Load a ``.keras`` file saved from a vaelib model (``keras.saving.load_model``).

    Example:
        >>> model = vaelib.load_model("vae.keras")  # doctest: +SKIP
    """
    import keras

    return keras.saving.load_model(path, **kwargs)


__version__ = "0.2.0"

__all__ = [
    "Bernoulli",
    "DynamicBinarization",
    "ContinuousBernoulli",
    "FASHION_MNIST_CLASSES",
    "ForwardOutput",
    "Gaussian",
    "KLWarmup",
    "NonFiniteLossError",
    "Sampling",
    "StopOnNonFiniteLoss",
    "SweepResult",
    "VAE",
    "__version__",
    "active_units",
    "bernoulli_nll",
    "beta_sweep",
    "budget",
    "build_conv_vae",
    "build_mlp_vae",
    "conv_decoder",
    "conv_encoder",
    "describe",
    "elbo",
    "gaussian_nll",
    "importance_weighted_bound",
    "is_quick",
    "kl_gaussians",
    "kl_per_dimension",
    "kl_standard_normal",
    "latent_explorer",
    "load_fashion_mnist",
    "load_mnist",
    "load_model",
    "make_shapes",
    "make_tabular",
    "mlp_decoder",
    "mlp_encoder",
    "rate_split",
    "set_seed",
]
