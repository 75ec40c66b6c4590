"""vaelib: the companion library of the vae-book tutorial."""

from vaelib.budget import budget, describe, is_quick

__version__ = "0.1.0"

__all__ = ["budget", "describe", "is_quick", "__version__"]
