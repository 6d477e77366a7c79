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
    "read_table": "analytics.datasets",
    "read_folder": "analytics.datasets",
    "as_of": "analytics.datasets",
    "diff": "analytics.datasets",
    "Diff": "analytics.datasets",
    "cut_release": "analytics.publish",
    "DATASETS": "analytics.schemas",
    "validate_lazy": "analytics.schemas",
    # export controls and compute
    "tpp": "analytics.compute",
    "performance_density": "analytics.compute",
    "classify": "analytics.compute",
    "h100e": "analytics.fleet",
    "fleet_compute": "analytics.fleet",
    "training_days": "analytics.training",
    "max_training_flop": "analytics.training",
    "implied_mfu": "analytics.training",
    "quarterly": "analytics.aggregation",
    "share_of_line": "analytics.compute",
    "run_mfu": "analytics.training",
    "training_days_grid": "analytics.training",
    # uncertainty
    "fit_lognormal": "analytics.uncertainty",
    "sample": "analytics.uncertainty",
    "sum_intervals": "analytics.uncertainty",
    # approvals against shipments
    "reconcile": "analytics.reconciliation",
    "timeline": "analytics.reconciliation",
    # charts (altair is imported on first use)
    "policy_timeline": "analytics.charts",
    "approvals_vs_deliveries": "analytics.charts",
    "tpp_density_scatter": "analytics.charts",
    "fleet_compute_chart": "analytics.charts",
    "release_diff": "analytics.charts",
    # validation and the report
    "validate_release": "analytics.quality",
    "validate_draft": "analytics.quality",
    "validate_folder": "analytics.quality",
    "render": "analytics.report",
    # errors
    "Finding": "analytics.errors",
    "ChipSupplyError": "analytics.errors",
    "DataValidationError": "analytics.errors",
    "HashMismatchError": "analytics.errors",
    "ReleaseNotFoundError": "analytics.errors",
    "NotebookError": "analytics.report",
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
