"""Sourced, versioned and validated data on the AI-chip supply chain into China.

Everything a user may call is listed in ``__all__`` below and imported in the
``if TYPE_CHECKING:`` block, which IDEs and type checkers read and which
:func:`__getattr__` follows on first use. So ``import analytics`` stays cheap, and
``analytics.load`` of a verified release never imports pandera, great_expectations,
altair or nbconvert.

>>> import analytics
>>> "load" in analytics.__all__ and analytics.DATASETS[0]
'sources'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # imported on first use by __getattr__
    from analytics.aggregation import quarterly
    from analytics.charts import (
        approvals_vs_deliveries,
        policy_timeline,
        release_diff,
        tpp_density_scatter,
    )
    from analytics.charts import fleet_compute as fleet_compute_chart
    from analytics.charts_stock import gate_chart, stock_chart
    from analytics.compute import classify, performance_density, share_of_line, tpp
    from analytics.datasets import Diff, as_of, data_cutoff, diff, load, scan
    from analytics.display import enable_charts, notebook_setup
    from analytics.errors import (
        CannotValidateError,
        ChipSupplyError,
        DataValidationError,
        Finding,
        HashMismatchError,
        NotebookError,
        ReleaseNotFoundError,
    )
    from analytics.evidence import evidence_coverage
    from analytics.fleet import fleet_compute, h100e
    from analytics.gates import gate_matrix, gate_status
    from analytics.holdings import best_estimate
    from analytics.publish import cut_release
    from analytics.quality import Result, validate_draft, validate_folder, validate_release
    from analytics.reconciliation import reconcile, timeline
    from analytics.registry import latest_release, release_order, releases, resolve
    from analytics.release import Release
    from analytics.report import render
    from analytics.schemas import validate_lazy
    from analytics.stock import compute_flows, compute_stock
    from analytics.stock_inputs import missing_stock_inputs, stock_derivations
    from analytics.tables import read_folder, read_table
    from analytics.tables_html import styled, table_html
    from analytics.training import (
        implied_mfu,
        max_training_flop,
        run_mfu,
        training_days,
        training_days_grid,
    )
    from analytics.uncertainty import fit_lognormal, sample, sum_intervals
    from analytics.vocab import DATASETS, FACT_TABLES, PRIMARY_KEYS

__all__ = [
    "DATASETS",
    "FACT_TABLES",
    "PRIMARY_KEYS",
    "CannotValidateError",
    "ChipSupplyError",
    "DataValidationError",
    "Diff",
    "Finding",
    "HashMismatchError",
    "NotebookError",
    "Release",
    "ReleaseNotFoundError",
    "Result",
    "__version__",
    "approvals_vs_deliveries",
    "as_of",
    "best_estimate",
    "classify",
    "compute_flows",
    "compute_stock",
    "cut_release",
    "data_cutoff",
    "diff",
    "enable_charts",
    "evidence_coverage",
    "fit_lognormal",
    "fleet_compute",
    "fleet_compute_chart",
    "gate_chart",
    "gate_matrix",
    "gate_status",
    "h100e",
    "implied_mfu",
    "latest_release",
    "load",
    "max_training_flop",
    "missing_stock_inputs",
    "notebook_setup",
    "performance_density",
    "policy_timeline",
    "quarterly",
    "read_folder",
    "read_table",
    "reconcile",
    "release_diff",
    "release_order",
    "releases",
    "render",
    "resolve",
    "run_mfu",
    "sample",
    "scan",
    "share_of_line",
    "stock_chart",
    "stock_derivations",
    "styled",
    "sum_intervals",
    "table_html",
    "timeline",
    "tpp",
    "tpp_density_scatter",
    "training_days",
    "training_days_grid",
    "validate_draft",
    "validate_folder",
    "validate_lazy",
    "validate_release",
]

_lazy: dict[str, tuple[str, str]] = {}


def _lazy_names() -> dict[str, tuple[str, str]]:
    """Public name -> (module, name there), read from the ``if TYPE_CHECKING:`` block above.

    The block is the one list of lazily imported names: this reads it instead of
    repeating it.
    """
    if not _lazy:
        import ast
        from pathlib import Path

        tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
        block = next(node for node in tree.body if isinstance(node, ast.If)
                     and getattr(node.test, "id", None) == "TYPE_CHECKING")
        _lazy.update({
            alias.asname or alias.name: (node.module, alias.name)
            for node in block.body if isinstance(node, ast.ImportFrom) and node.module
            for alias in node.names
        })
    return _lazy


def __getattr__(name: str) -> Any:
    where = _lazy_names().get(name)
    if where is None:
        raise AttributeError(f"module 'analytics' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(where[0]), where[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
