"""The package functions each benchmark times, found at run time.

A function that is missing, or that cannot do what a benchmark needs, raises
:class:`NotAvailable` with the reason, and the benchmark prints it instead of crashing.
"""

from __future__ import annotations

import importlib
from datetime import date

import polars as pl

RELEASE_DATE = date(2026, 11, 29)


class NotAvailable(Exception):
    """The package does not (yet) offer what the benchmark needs."""


def module(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            raise NotAvailable(f"{name} does not exist yet") from exc
        raise


def contracts(tables: dict[str, pl.DataFrame | pl.LazyFrame]) -> list:
    """``analytics.schemas.validate_lazy`` on every table (one slice at a time); every finding."""
    schemas = module("analytics.schemas")
    if not hasattr(schemas, "validate_lazy"):
        raise NotAvailable("analytics.schemas has no validate_lazy(name, frame)")
    findings: list = []
    for name, df in tables.items():
        findings += schemas.validate_lazy(name, df)[1]
    return findings


def consistency(tables: dict[str, pl.DataFrame | pl.LazyFrame]) -> list:
    mod = module("analytics.consistency")
    if not hasattr(mod, "check"):
        raise NotAvailable("analytics.consistency has no check(tables, release_date=...)")
    return mod.check(tables, release_date=RELEASE_DATE)


def validate(tables: dict[str, pl.DataFrame]) -> list:
    """Contracts plus cross-dataset consistency: what ``chip-supply validate`` runs."""
    return contracts(tables) + consistency(tables)


def quarterly(shipments: pl.DataFrame | pl.LazyFrame, *, method: str = "moments", n: int = 100,
              seed: int = 0) -> tuple:
    """``analytics.aggregation.quarterly`` by buyer group and chip group, and a note on how."""
    compute = module("analytics.aggregation")
    if not hasattr(compute, "quarterly"):
        raise NotAvailable("analytics.aggregation has no quarterly(shipments, method=...)")
    out = compute.quarterly(shipments, method=method, n=n, seed=seed)
    how = f"compute.quarterly(method={method!r}" + (f", n={n})" if method == "sample" else ")")
    return out, how


def sum_intervals(df: pl.DataFrame, stem: str, *, n: int, seed: int = 0) -> pl.DataFrame:
    unc = module("analytics.uncertainty")
    if not hasattr(unc, "sum_intervals"):
        raise NotAvailable("analytics.uncertainty has no sum_intervals")
    return unc.sum_intervals(df, stem, n=n, seed=seed)


def release_validator():
    """The in-process function behind ``chip-supply validate --release R``."""
    quality = module("analytics.quality")
    for name in ("validate_release", "run_release", "validate", "run"):
        fn = getattr(quality, name, None)
        if callable(fn):
            return fn, f"analytics.quality.{name}"
    raise NotAvailable("analytics.quality offers no validate_release(release) function")


def latest_release() -> str:
    datasets = module("analytics.datasets")
    try:
        known = datasets.releases()
    except Exception as exc:  # noqa: BLE001
        raise NotAvailable(f"analytics.datasets.releases() failed: {exc}") from exc
    if not known:
        raise NotAvailable("no release under data/releases/ yet")
    return known[-1]


def release_tables(release: str) -> dict[str, pl.DataFrame]:
    """Every table of a release, read from its Parquet files (no validation)."""
    paths = module("analytics.paths")
    schemas = module("analytics.schemas")
    folder = paths.release_dir(release)
    out = {}
    for name in schemas.DATASETS:
        f = folder / f"{name}.parquet"
        if not f.exists():
            raise NotAvailable(f"release {release} has no {name}.parquet")
        out[name] = pl.read_parquet(f)
    return out
