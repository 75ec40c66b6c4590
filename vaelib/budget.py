"""The one switch between the full budget and the reduced budget used in CI.

Every notebook and the command line size their work through `budget()`, so the
reduced run (``VAELIB_QUICK=1``) follows exactly the same code paths as the full
one, only with fewer epochs and less data.
"""

from __future__ import annotations

import os
from typing import TypeVar

QUICK_ENV = "VAELIB_QUICK"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}

T = TypeVar("T")


def is_quick() -> bool:
    """Return True when the reduced budget is requested by ``VAELIB_QUICK``.

    Raises:
        ValueError: if the variable holds something other than a boolean word.
    """
    value = os.environ.get(QUICK_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"Expected {QUICK_ENV} to be one of 1/0/true/false/yes/no/on/off. "
        f"Received: {QUICK_ENV}={value!r}"
    )


def budget(full: T, quick: T) -> T:
    """Pick the full-budget or the reduced-budget value of a setting.

    Args:
        full: value used for the real run (the stored notebook outputs).
        quick: value used when ``VAELIB_QUICK=1`` (CI).

    Returns:
        ``quick`` in reduced mode, ``full`` otherwise.

    Example:
        >>> epochs = budget(40, 2)
    """
    return quick if is_quick() else full


def describe() -> str:
    """A one-line description of the active budget, for a notebook's setup cell."""
    return "reduced budget (CI)" if is_quick() else "full budget"
