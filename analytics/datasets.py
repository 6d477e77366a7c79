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

from analytics.evidence import forget_figures, unknown_figures
from analytics.registry import latest_release, releases
from analytics.release import Release, check_dataset
from analytics.rules import as_date, public_date, row_key
from analytics.vocab import EVENT_DATES

__all__ = [
    "Diff", "as_of", "data_cutoff", "diff", "latest_release", "load", "public_date", "releases",
    "scan",
]


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
    ChipSupplyError
        The release does not ship ``name``: a dataset added after it was cut (e.g.
        ``evidence`` in ``2026-11-29``; see :meth:`analytics.Release.require`).

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
    """A lazy query over one dataset of a release: arguments, checks and errors as for
    :func:`load`, and nothing is read until the query is collected.

    Examples
    --------
    >>> import analytics, polars as pl
    >>> analytics.scan("chips").select(pl.len()).collect().item() > 0
    True
    """
    check_dataset(name)
    return Release.open(release).scan(name)


# --------------------------------------------------------------------------- snapshots
def as_of(tables: dict[str, pl.DataFrame], date: str | dt.date) -> dict[str, pl.DataFrame]:
    """What was public on ``date``: the knowledge snapshot a release holds.

    Keeps the sources public by ``date`` (see :func:`public_date`), trims each row's
    ``source_ids`` to them and drops rows left with none, and keeps the evidence rows
    that cite them. A figure whose evidence rows all cite later sources was not known
    yet: it is emptied (see :func:`analytics.evidence.forget_figures`); a figure without
    evidence rows is kept. An Entity List addition whose sources are all later is
    emptied too. Other tables are kept whole.

    >>> import datetime as dt, polars as pl
    >>> src = pl.DataFrame({"source_id": ["a", "b"], "published_date": [dt.date(2026, 1, 1)] * 2,
    ...     "date_precision": ["day", "month"], "accessed_date": [dt.date(2026, 11, 29)] * 2})
    >>> facts = pl.DataFrame({"event_id": ["E1", "E2"], "source_ids": [["a", "b"], ["b"]]})
    >>> snap = as_of({"sources": src, "approvals": facts}, "2026-01-30")
    >>> snap["sources"]["source_id"].to_list(), snap["approvals"]["source_ids"].to_list()
    (['a'], [['a']])
    """
    day = as_date(date)
    sources = tables["sources"].filter(public_date() <= day)
    public = sources.get_column("source_id").implode()
    out = {}
    for name, df in tables.items():
        if name == "sources":
            out[name] = sources
        elif name == "evidence":
            out[name] = df.filter(pl.col("source_id").is_in(public))
        elif name == "entities" and "entity_list_source_ids" in df.columns:
            out[name] = _listing_as_of(df, public)
        elif "source_ids" in df.columns:
            out[name] = df.with_columns(
                pl.col("source_ids").list.eval(pl.element().filter(pl.element().is_in(public)))
            ).filter(pl.col("source_ids").list.len() > 0)
        else:
            out[name] = df
    if "evidence" in tables:
        out = forget_figures(out, unknown_figures(tables["evidence"], public.explode()))
    return out


def _listing_as_of(entities: pl.DataFrame, public: pl.Series) -> pl.DataFrame:
    """Entity List additions as known when only ``public`` (imploded) sources were public."""
    ids = pl.col("entity_list_source_ids")
    kept = ids.list.eval(pl.element().filter(pl.element().is_in(public)))
    later = (ids.list.len().fill_null(0) > 0) & (kept.list.len().fill_null(0) == 0)
    listing = [c for c in ("entity_list_date", "entity_list_precision", "entity_list_citation")
               if c in entities.columns]
    return entities.with_columns(
        *(pl.when(later).then(None).otherwise(pl.col(c)).alias(c) for c in listing),
        kept.alias("entity_list_source_ids"),
    )


def data_cutoff(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """How fresh a release's data is: its latest event and its latest dated source.

    The event date of each dated record is its column in :data:`analytics.vocab.EVENT_DATES`
    (an approval's date, the start of a shipment's period, ...); undated sources do not
    count.

    Parameters
    ----------
    tables : dict of str to polars.DataFrame
        A release's tables (a dataset it lacks is skipped).

    Returns
    -------
    polars.DataFrame
        Two rows, ``latest event`` and ``latest source``: ``what``, ``date``, ``dataset``
        and ``key`` of the record (the first key when several share the date).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> apr = pl.DataFrame({"event_id": ["APR-001", "APR-002"],
    ...     "date": [dt.date(2026, 1, 5), dt.date(2026, 6, 3)]})
    >>> src = pl.DataFrame({"source_id": ["a", "b"],
    ...     "published_date": [dt.date(2026, 8, 27), None]})
    >>> for row in data_cutoff({"approvals": apr, "sources": src}).rows():
    ...     print(row)
    ('latest event', datetime.date(2026, 6, 3), 'approvals', 'APR-002')
    ('latest source', datetime.date(2026, 8, 27), 'sources', 'a')
    """
    dated = [
        tables[name].select(
            pl.col(col).alias("date"), pl.lit(name).alias("dataset"),
            row_key(name, tables[name].columns).alias("key"),
        )
        for name, col in EVENT_DATES.items() if name in tables and col in tables[name].columns
    ]
    schema = {"date": pl.Date, "dataset": pl.String, "key": pl.String}
    events = pl.concat([pl.DataFrame(schema=schema), *dated], how="vertical_relaxed")
    sources = tables["sources"].select(
        pl.col("published_date").alias("date"), pl.lit("sources").alias("dataset"),
        pl.col("source_id").alias("key"),
    ) if "sources" in tables else pl.DataFrame(schema=schema)
    rows = []
    for what, df in (("latest event", events), ("latest source", sources)):
        top = df.drop_nulls("date").sort("date", "dataset", "key",
                                         descending=[True, False, False])
        rows.append(pl.DataFrame({"what": [what]}).hstack(
            top.head(1) if top.height else pl.DataFrame([[None]] * 3, schema=schema)
        ))
    return pl.concat(rows, how="vertical_relaxed")


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
