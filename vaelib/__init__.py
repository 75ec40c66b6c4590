"""vaelib: the companion library of the vae-book tutorial."""

from vaelib import gradients as gradients  # a submodule: vaelib.gradients.pathwise_gradient
from vaelib import plots as plots  # a submodule: vaelib.plots.latent_scatter(...)
from vaelib.budget import budget, describe, is_quick
from vaelib.data import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from vaelib.layers import Sampling
from vaelib.losses import bernoulli_nll, gaussian_nll, kl_gaussians, kl_standard_normal
from vaelib.metrics import active_units, elbo, importance_weighted_bound, kl_per_dimension
from vaelib.models import (
    VAE,
    build_conv_vae,
    build_mlp_vae,
    conv_decoder,
    conv_encoder,
    mlp_decoder,
    mlp_encoder,
)
from vaelib.train import KLWarmup, SweepResult, beta_sweep, set_seed

__version__ = "0.1.0"

__all__ = [
    "budget",
    "describe",
    "is_quick",
    "FASHION_MNIST_CLASSES",
    "load_fashion_mnist",
    "load_mnist",
    "Sampling",
    "VAE",
    "bernoulli_nll",
    "build_conv_vae",
    "build_mlp_vae",
    "conv_decoder",
    "conv_encoder",
    "gaussian_nll",
    "kl_gaussians",
    "kl_standard_normal",
    "mlp_decoder",
    "mlp_encoder",
    "active_units",
    "elbo",
    "importance_weighted_bound",
    "kl_per_dimension",
    "KLWarmup",
    "SweepResult",
    "beta_sweep",
    "set_seed",
    "__version__",
]
