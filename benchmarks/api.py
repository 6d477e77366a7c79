"""The package functions each benchmark times, called the way a user calls them."""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics import quality, schemas, uncertainty
from analytics.aggregation import quarterly as quarterly_of
from analytics.consistency import check
from analytics.registry import latest_release
from analytics.release import Release

RELEASE_DATE = date(2026, 11, 29)

__all__ = ["RELEASE_DATE", "consistency", "contracts", "latest_release", "quarterly",
           "release_tables", "release_validator", "sum_intervals", "validate"]


def contracts(tables: dict[str, pl.DataFrame | pl.LazyFrame], *,
              chunk_rows: int | None = None) -> list:
    """Every finding of the contracts: the tables that fit in one slice together, as
    ``chip-supply validate`` runs them (``analytics.schemas.validate_all``), the others
    one slice at a time (``analytics.schemas.validate_lazy``)."""
    rows = chunk_rows or schemas.CHUNK_ROWS
    whole = {n: df for n, df in tables.items()
             if isinstance(df, pl.DataFrame) and df.height <= rows}
    findings: list = [f for _, found in schemas.validate_all(whole).values() for f in found]
    for name, df in tables.items():
        if name not in whole:
            findings += schemas.validate_lazy(name, df, chunk_rows=rows)[1]
    return findings


def consistency(tables: dict[str, pl.DataFrame | pl.LazyFrame]) -> list:
    """``analytics.consistency.check`` as of :data:`RELEASE_DATE`."""
    return check(tables, release_date=RELEASE_DATE)


def validate(tables: dict[str, pl.DataFrame]) -> list:
    """Contracts plus cross-dataset consistency: what ``chip-supply validate`` runs."""
    return contracts(tables) + consistency(tables)


def quarterly(shipments: pl.DataFrame | pl.LazyFrame, *, method: str = "moments", n: int = 100,
              seed: int = 0) -> tuple:
    """``analytics.quarterly`` by buyer group and chip group, and a note on how."""
    out = quarterly_of(shipments, method=method, n=n, seed=seed)
    how = f"quarterly(method={method!r}" + (f", n={n})" if method == "sample" else ")")
    return out, how


def sum_intervals(df: pl.DataFrame, stem: str, *, n: int, seed: int = 0) -> pl.DataFrame:
    """``analytics.uncertainty.sum_intervals``."""
    return uncertainty.sum_intervals(df, stem, n=n, seed=seed)


def release_validator():
    """The in-process function behind ``chip-supply validate --release R``, and its name."""
    return quality.validate_release, "analytics.quality.validate_release"


def release_tables(release: str) -> dict[str, pl.DataFrame]:
    """Every table of a release, read through its door (verified, not validated)."""
    return Release.open(release).tables()
