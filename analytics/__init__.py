"""Sourced, versioned and validated data on the AI-chip supply chain into China.

Everything a user may call is listed in ``__all__`` below. Heavy dependencies
(pandera, great_expectations, altair, nbconvert) are imported only when the function
that needs them is first used, so ``import analytics`` stays as cheap as importing
polars.

>>> import analytics
>>> "load" in analytics.__all__
True
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_API: dict[str, str] = {
    # data access
    "load": "analytics.datasets",
    "scan": "analytics.datasets",
    "releases": "analytics.datasets",
    "latest_release": "analytics.datasets",
    "diff": "analytics.datasets",
    "DATASETS": "analytics.schemas",
    # errors
    "Finding": "analytics.errors",
    "DataValidationError": "analytics.errors",
    "HashMismatchError": "analytics.errors",
    "ReleaseNotFoundError": "analytics.errors",
}

__all__ = sorted([*_API, "__version__"])


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'analytics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
