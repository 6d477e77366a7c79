"""A release proven whole: its files against its manifest, and its CSV against its Parquet.

The release door (:class:`analytics.Release`) refuses a file that differs from the
manifest. ``chip-supply validate --release`` also proves that each table's CSV and
Parquet copies hold the same rows and values (the Parquet table written as CSV gives
the CSV's bytes), so a copy rewritten together with its records cannot pass either.
"""

from __future__ import annotations

import polars as pl

from analytics.errors import Finding, HashMismatchError, IntegrityError
from analytics.release import Release
from analytics.rules import row_key
from analytics.tables import csv_bytes


def refused(release: str, exc: IntegrityError) -> Finding:
    """The finding of a release the door refused to open (a file or record altered).

    Examples
    --------
    >>> from analytics.errors import HashMismatchError
    >>> f = refused("2026-11-29", HashMismatchError("x/chips.parquet", "sha256:a", "sha256:b"))
    >>> f.dataset, f.check
    ('chips', 'sha256')
    """
    if isinstance(exc, HashMismatchError):
        name = exc.path.name.split(".")[0] if exc.path.name != "datapackage.json" else ""
        return Finding("error", name, exc.path.name, "", "sha256", exc.actual, str(exc))
    return Finding("error", "", release, "", "release_records", "", str(exc))


def same_tables(rel: Release) -> list[Finding]:
    """Findings where a dataset's CSV and Parquet copies differ; none when they agree.

    Parameters
    ----------
    rel : Release
        An opened release.

    Returns
    -------
    list of Finding
        One per differing row and column (``csv_parquet_differ``), naming the key.

    Examples
    --------
    >>> import analytics
    >>> same_tables(analytics.Release.open("latest"))
    []
    """
    out: list[Finding] = []
    for name in rel.names:
        csv_path = rel.path(name, "csv")
        parquet = pl.read_parquet(rel.path(name))
        if csv_bytes(parquet) == csv_path.read_bytes():
            continue
        out += _differences(name, csv_path.read_bytes(), csv_bytes(parquet))
    return out


def _differences(name: str, csv: bytes, rendered: bytes) -> list[Finding]:
    def text(raw: bytes) -> pl.DataFrame:
        df = pl.read_csv(raw, infer_schema=False)
        return df.with_columns(row_key(name, df.columns).alias("__key"))

    try:
        a, b = text(csv), text(rendered)
    except (pl.exceptions.PolarsError, ValueError):
        return [Finding("error", name, "", "", "csv_parquet_differ", "",
                        f"{name}.csv and {name}.parquet hold different tables: restore both "
                        "from version control")]
    message = (f"{name}.csv and {name}.parquet disagree here: a released copy was altered; "
               "restore both from version control")
    out = []
    if a.columns != b.columns:
        out.append(Finding("error", name, "", "", "csv_parquet_differ",
                           ",".join(c for c in a.columns if c != "__key"), message))
    cols = [c for c in a.columns if c in b.columns and c != "__key"]
    joined = a.join(b, on="__key", how="full", suffix="__pq", coalesce=True)
    for row in joined.iter_rows(named=True):
        for col in cols:
            if row.get(col) != row.get(f"{col}__pq"):
                out.append(Finding("error", name, str(row["__key"]), col, "csv_parquet_differ",
                                   f"{row.get(col)} / {row.get(col + '__pq')}", message))
    return out or [Finding("error", name, "", "", "csv_parquet_differ", "", message)]
