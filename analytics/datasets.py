"""Load a dataset of a release, snapshot what was public on a date, and compare versions.

:func:`load` and :func:`scan` read through the release door (:class:`analytics.Release`):
released files are verified against ``data/registry.txt`` once per process, the draft
is read from its CSV files and checked against its contract.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from analytics.registry import latest_release, releases
from analytics.release import Release, check_dataset
from analytics.rules import public_date, row_key

__all__ = ["Diff", "as_of", "diff", "latest_release", "load", "public_date", "releases", "scan"]


# --------------------------------------------------------------------------- loading
def load(name: str, release: str | Path = "latest") -> pl.DataFrame:
    """One dataset of a release as a DataFrame, sorted by its key.

    Parameters
    ----------
    name : str
        One of :data:`analytics.DATASETS`.
    release : str or Path
        A release date or id, ``"latest"`` (default), ``"draft"`` (the editable CSVs,
        checked against their contract) or a folder of CSVs. A released file is read
        locally when present, else from the cache or ``CHIP_SUPPLY_DATA_URL``, and is
        verified against ``data/registry.txt`` once per process.

    Returns
    -------
    polars.DataFrame

    Raises
    ------
    HashMismatchError
        A released or downloaded file differs from the registry.
    ReleaseNotFoundError
        The release is neither here nor downloadable.
    DataValidationError
        The draft breaks its contract.

    Examples
    --------
    >>> import analytics
    >>> chips = analytics.load("chips", release="2026-11-29")
    >>> chips.get_column("chip_id").is_sorted()
    True
    """
    check_dataset(name)
    return Release.open(release).table(name)


def scan(name: str, release: str | Path = "latest") -> pl.LazyFrame:
    """A lazy query over one dataset of a release (verified like :func:`load`).

    Parameters
    ----------
    name : str
        One of :data:`analytics.DATASETS`.
    release : str or Path
        As for :func:`load`.

    Returns
    -------
    polars.LazyFrame

    Examples
    --------
    >>> import analytics, polars as pl
    >>> analytics.scan("chips").select(pl.len()).collect().item() > 0
    True
    """
    check_dataset(name)
    return Release.open(release).scan(name)


# --------------------------------------------------------------------------- snapshots
def _as_date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def as_of(tables: dict[str, pl.DataFrame], date: str | dt.date) -> dict[str, pl.DataFrame]:
    """What was public on ``date``: the knowledge snapshot a release holds.

    Keeps the sources public by ``date`` (see :func:`public_date`), trims each fact
    row's ``source_ids`` to them and drops rows left with none; other tables whole.

    >>> import datetime as dt, polars as pl
    >>> src = pl.DataFrame({"source_id": ["a", "b"], "published_date": [dt.date(2026, 1, 1)] * 2,
    ...     "date_precision": ["day", "month"], "accessed_date": [dt.date(2026, 11, 29)] * 2})
    >>> facts = pl.DataFrame({"event_id": ["E1", "E2"], "source_ids": [["a", "b"], ["b"]]})
    >>> snap = as_of({"sources": src, "approvals": facts}, "2026-01-30")
    >>> snap["sources"]["source_id"].to_list(), snap["approvals"]["source_ids"].to_list()
    (['a'], [['a']])
    """
    day = _as_date(date)
    sources = tables["sources"].filter(public_date() <= day)
    public = sources.get_column("source_id").implode()
    out = {}
    for name, df in tables.items():
        if name == "sources":
            out[name] = sources
        elif name == "evidence":
            out[name] = df.filter(pl.col("source_id").is_in(public))
        elif "source_ids" in df.columns:
            out[name] = df.with_columns(
                pl.col("source_ids").list.eval(pl.element().filter(pl.element().is_in(public)))
            ).filter(pl.col("source_ids").list.len() > 0)
        else:
            out[name] = df
    return out


# --------------------------------------------------------------------------- diffs
def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | pl.Series):
        return ";".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class Diff:
    """Row-level difference of one dataset between two versions, by primary key.

    ``changed`` maps a key to ``{column: (old, new)}``; lists compare as lists.
    """

    name: str
    old: str
    new: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def summary(self) -> str:
        """One line, e.g. ``approvals 2026-01-30 -> 2026-11-29: 3 added, 0 removed, 1 changed``."""
        return (f"{self.name} {self.old} -> {self.new}: {len(self.added)} added, "
                f"{len(self.removed)} removed, {len(self.changed)} changed")

    def to_frame(self) -> pl.DataFrame:
        """Tidy: one row per added or removed key and per changed cell (values as text)."""
        rows = [(k, "added", None, None, None) for k in self.added]
        rows += [(k, "removed", None, None, None) for k in self.removed]
        rows += [
            (k, "changed", c, _cell(o), _cell(n))
            for k, cols in self.changed.items() for c, (o, n) in cols.items()
        ]
        return pl.DataFrame(
            rows, schema=dict.fromkeys(["key", "change", "column", "old", "new"], pl.String),
            orient="row",
        ).sort("key", "change", "column", nulls_last=True)

    def to_text(self) -> str:
        """Human-readable listing: ``+`` added, ``-`` removed, ``~`` changed with old -> new."""
        lines = [self.summary()]
        lines += [f"  + {k}" for k in self.added]
        lines += [f"  - {k}" for k in self.removed]
        for k, cols in self.changed.items():
            lines.append(f"  ~ {k}")
            lines += [f"      {c}: {_cell(o)!r} -> {_cell(n)!r}" for c, (o, n) in cols.items()]
        return "\n".join(lines)


def diff(name: str, old: str | pl.DataFrame, new: str | pl.DataFrame) -> Diff:
    """Compare two versions (release dates, ``"draft"``, or frames) of one dataset by key.

    >>> import polars as pl
    >>> a = pl.DataFrame({"entity_id": ["x", "y"], "name": ["X", "Y"]})
    >>> b = pl.DataFrame({"entity_id": ["y", "z"], "name": ["Why", "Z"]})
    >>> d = diff("entities", a, b)
    >>> d.added, d.removed, d.changed
    (('z',), ('x',), {'y': {'name': ('Y', 'Why')}})
    """
    labels = [v if isinstance(v, str) else label for v, label in ((old, "old"), (new, "new"))]
    a, b = (v if isinstance(v, pl.DataFrame) else load(name, v) for v in (old, new))
    a = a.with_columns(row_key(name, a.columns).alias("__key"))
    b = b.with_columns(row_key(name, b.columns).alias("__key"))
    ka, kb = set(a["__key"].to_list()), set(b["__key"].to_list())
    cols = [c for c in a.columns if c in b.columns and c != "__key"]
    joined = a.select("__key", *cols).join(
        b.select("__key", *cols), on="__key", how="inner", suffix="__new"
    ).sort("__key")
    flags = joined.select(
        "__key", *(pl.col(c).ne_missing(pl.col(f"{c}__new")).alias(c) for c in cols)
    )
    changed: dict[str, dict[str, tuple[Any, Any]]] = {}
    for row, flag in zip(joined.iter_rows(named=True), flags.iter_rows(named=True), strict=True):
        cells = {c: (row[c], row[f"{c}__new"]) for c in cols if flag[c]}
        if cells:
            changed[row["__key"]] = cells
    return Diff(name, labels[0], labels[1], tuple(sorted(kb - ka)), tuple(sorted(ka - kb)), changed)
