"""The validation engine: run a dataset's pandera model and turn failures into findings.

The models are in :mod:`analytics.models` and :mod:`analytics.event_models`; this module
holds their registry (:data:`SCHEMAS`), the table metadata read from them (columns, list
columns, descriptions, keys) and :func:`validate` / :func:`validate_lazy`. Validation
always runs on collected frames, with ``lazy=True``, so that every failure is reported
rather than the first; an optional column a frame lacks is added as nulls first. A frame
that passes is recognised in one query by :mod:`analytics.contract_plan`, and pandera runs
only when there is something to report.

Cross-table checks (ids that resolve, dates against the release, text safety) are not
here: they live in :mod:`analytics.consistency`.

>>> sorted(SCHEMAS) == sorted(DATASETS)
True
"""

from __future__ import annotations

import copy
import functools
import itertools
from collections.abc import Mapping
from typing import Any

import polars as pl
from pandera.errors import SchemaError, SchemaErrors

from analytics.contract_plan import passing, passing_all
from analytics.errors import Finding
from analytics.event_models import Approvals, LabCompute, Shipments
from analytics.models import Chips, ControlRules, Entities, Sources, _Base
from analytics.rules import add_missing_columns, row_key
from analytics.support_models import Evidence, Parameters
from analytics.vocab import DATASETS as DATASETS  # table metadata, read here by the readers
from analytics.vocab import FACT_TABLES as FACT_TABLES
from analytics.vocab import FOREIGN_KEYS as FOREIGN_KEYS
from analytics.vocab import OPTIONAL_DATASETS as OPTIONAL_DATASETS
from analytics.vocab import PRIMARY_KEYS as PRIMARY_KEYS
from analytics.vocab import ForeignKey as ForeignKey

#: Every dataset's model, by name. A release ships all of them but the
#: :data:`OPTIONAL_DATASETS` added after it was cut.
SCHEMAS: dict[str, type[_Base]] = {
    "sources": Sources,
    "entities": Entities,
    "chips": Chips,
    "control_rules": ControlRules,
    "approvals": Approvals,
    "shipments": Shipments,
    "lab_compute": LabCompute,
    "parameters": Parameters,
    "evidence": Evidence,
}


def columns(name: str) -> dict[str, pl.DataType]:
    """Column name to polars dtype, in schema order.

    Parameters
    ----------
    name : str
        Dataset name.

    Returns
    -------
    dict of str to DataType

    Examples
    --------
    >>> list(columns("entities"))[:3]
    ['entity_id', 'name', 'native_name']
    >>> columns("approvals")["quantity_units"]
    Int64
    """
    schema = SCHEMAS[name].to_schema()
    return {col: spec.dtype.type for col, spec in schema.columns.items()}


def list_columns(name: str) -> tuple[str, ...]:
    """The names of the columns stored as ``list[str]`` (``;``-separated in CSV) of the
    dataset ``name``.

    Examples
    --------
    >>> list_columns("approvals")
    ('authority_ids', 'chip_ids', 'subject_other', 'entity_ids', 'source_ids')
    """
    return tuple(c for c, t in columns(name).items() if isinstance(t, pl.List))


def descriptions(name: str) -> dict[str, str]:
    """Column name to its description (with unit), in schema order, for the dataset ``name``.

    Examples
    --------
    >>> descriptions("shipments")["units"]
    'Central figure of units [units]'
    """
    schema = SCHEMAS[name].to_schema()
    return {col: spec.description or "" for col, spec in schema.columns.items()}


def key_of(name: str, df: pl.DataFrame) -> pl.Series:
    """The primary key of every row as one string (``rule_id/clause`` for composite keys).

    ``name`` is a dataset name, as for :func:`columns`; ``df`` a frame of it.

    Returns
    -------
    Series
        ``key``; ``row N`` when the key columns are missing.

    Examples
    --------
    >>> import polars as pl
    >>> key_of("control_rules", pl.DataFrame({"rule_id": ["r"], "clause": ["a.1"]})).to_list()
    ['r/a.1']
    """
    return df.select(row_key(name, df.columns)).to_series()


def optional_columns(name: str) -> dict[str, pl.DataType]:
    """Column name to dtype, as :func:`columns` gives them, of the columns a frame of the
    dataset ``name`` may lack (added after the first releases).

    Examples
    --------
    >>> list(optional_columns("lab_compute"))[:2]
    ['chip_count_qualifier', 'gpu_hours_qualifier']
    >>> optional_columns("sources")
    {}
    """
    schema = SCHEMAS[name].to_schema()
    return {c: spec.dtype.type for c, spec in schema.columns.items() if not spec.required}


def with_optional_columns(name: str, df: Any) -> Any:
    """``df`` with every optional column of ``name`` it lacks added as nulls, in schema order.

    Parameters
    ----------
    name : str
    df : DataFrame or LazyFrame

    Returns
    -------
    DataFrame or LazyFrame
        The same kind; unchanged when nothing is missing.

    Examples
    --------
    >>> import polars as pl
    >>> out = with_optional_columns("lab_compute", pl.DataFrame({"record_id": ["LC-001"]}))
    >>> "supersedes" in out.columns
    True
    """
    have = df.collect_schema().names()
    missing = {c: t for c, t in optional_columns(name).items() if c not in have}
    if not missing:
        return df
    out = add_missing_columns(df, missing)
    names = out.collect_schema().names()
    order = [c for c in columns(name) if c in names]
    return out.select(order + [c for c in names if c not in order])


def _structure(name: str, present: list[str]) -> list[Finding]:
    """Findings for missing and unexpected columns (the same for every row)."""
    expected = columns(name)
    optional = optional_columns(name)
    return [
        Finding("error", name, "", c, "column_in_dataframe", c, f"required column '{c}' is missing")
        for c in expected
        if c not in present and c not in optional
    ] + [
        Finding(
            "error", name, "", c, "column_in_schema", c, f"column '{c}' is not part of the dataset"
        )
        for c in present
        if c not in expected
    ]


def validate(name: str, df: pl.DataFrame) -> tuple[pl.DataFrame | None, list[Finding]]:
    """Run the contract of ``name`` on a collected frame at full depth.

    Every finding is reported, never only the first; row keys come from the frame's
    primary key. An optional column the frame lacks is added as nulls first.

    ``name`` is a dataset name, as for :func:`columns`; ``df`` a frame of it.
        The table (a LazyFrame is collected first).

    Returns
    -------
    tuple
        ``(frame, findings)``: the coerced frame (``None`` when it failed) and the
        sorted findings.

    Examples
    --------
    >>> import polars as pl
    >>> ents = pl.DataFrame({"entity_id": ["a", "B"], "name": ["A", "B"],
    ...     "native_name": None, "kind": "company", "country": "CN", "parent_id": None,
    ...     "aliases": [[], []], "notes": None})
    >>> out, found = validate("entities", ents)
    >>> out is None, [(f.key, f.column) for f in found]
    (True, [('B', 'entity_id')])
    """
    if isinstance(df, pl.LazyFrame):  # a LazyFrame would only get name and type checks
        df = df.collect()
    structure = _structure(name, df.columns)
    if structure:  # pandera's coercion would fail on them before reporting
        return None, structure
    df = with_optional_columns(name, df)
    fast = passing(SCHEMAS[name].to_schema(), df)  # one query; pandera runs only to report
    return (fast, []) if fast is not None else _report(name, df)


def validate_all(
    frames: Mapping[str, pl.DataFrame],
) -> dict[str, tuple[pl.DataFrame | None, list[Finding]]]:
    """:func:`validate` of several tables, the queries of their contracts run side by side.

    >>> validate_all({})
    {}
    """
    frames = {n: f.collect() if isinstance(f, pl.LazyFrame) else f for n, f in frames.items()}
    ready = {n: with_optional_columns(n, f) for n, f in frames.items()
             if not _structure(n, f.columns)}
    fast = passing_all([(SCHEMAS[n].to_schema(), f) for n, f in ready.items()])
    passed = {n: out for n, out in zip(ready, fast, strict=True) if out is not None}
    return {n: (passed[n], []) if n in passed
            else _report(n, ready[n]) if n in ready else validate(n, f)
            for n, f in frames.items()}


def _report(name: str, df: pl.DataFrame) -> tuple[pl.DataFrame | None, list[Finding]]:
    """pandera's run of the contract on a frame with the dataset's columns, as findings."""
    model = SCHEMAS[name]
    try:
        out = model.validate(df, lazy=True)
    except SchemaErrors as exc:
        return None, _findings(name, df, exc.failure_cases)
    except SchemaError as exc:  # raised eagerly for some structural problems
        return None, [
            Finding(
                "error",
                name,
                "",
                str(getattr(exc, "column_name", "") or ""),
                "schema",
                "",
                str(exc).splitlines()[0],
            )
        ]
    return out, []


def _findings(
    name: str, df: pl.DataFrame, cases: pl.DataFrame, *, offset: int = 0
) -> list[Finding]:
    keys = key_of(name, df).to_list()
    out: list[Finding] = []
    for row in cases.iter_rows(named=True):
        idx = row.get("index")
        key = (
            keys[idx]
            if idx is not None and 0 <= idx < len(keys) and keys[idx]
            else (f"row {offset + idx + 1}" if idx is not None else "")
        )
        column = row.get("column") or ""
        if row.get("schema_context") == "DataFrameSchema":
            column = ""
        check = str(row.get("check") or "")
        value = "" if row.get("failure_case") is None else str(row["failure_case"])
        out.append(
            Finding("error", name, key, column, check, value[:200], _explain(check, column, value))
        )
    return sorted(set(out))


def _explain(check: str, column: str, value: str) -> str:
    where = f"column '{column}'" if column else "row"
    if check == "column_in_schema" or check == "column_in_dataframe":
        return (
            f"column '{value}' is not expected here"
            if check == "column_in_schema"
            else (f"required column '{value}' is missing")
        )
    if check.startswith("coerce_dtype"):
        return f"{where} holds a value that cannot be read as {check.split('(', 1)[-1].rstrip(')')}"
    if check == "field_uniqueness":
        return f"{where} must be unique; this value appears more than once"
    if check == "not_nullable":
        return f"{where} must not be empty"
    return f"{where} fails check '{check}'"


# --------------------------------------------------------------------------- chunked validation
#: Rows per slice in :func:`validate_lazy` (about 300 MB of a shipments ledger).
CHUNK_ROWS = 1_000_000
#: Keys hashed per pass of the cross-slice uniqueness check (about 0.5 GB of hash table).
KEY_ROWS_PER_PASS = 20_000_000


def _is_unique_check(check: str) -> bool:
    return check == "field_uniqueness" or check.startswith("unique_")


def _unique_sets(name: str) -> list[tuple[str, ...]]:
    """Column sets that must be unique: ``unique=True`` columns and the primary key."""
    schema = SCHEMAS[name].to_schema()
    sets = [(c,) for c, spec in schema.columns.items() if spec.unique]
    pk = PRIMARY_KEYS[name]
    return sets if pk in sets else [*sets, pk]


@functools.cache
def _slice_schema(name: str) -> object:
    """The contract without its uniqueness checks (run across slices instead)."""
    schema = SCHEMAS[name].to_schema()
    schema = schema.update_columns(
        {c: {"unique": False} for c, spec in schema.columns.items() if spec.unique}
    )
    schema = copy.copy(schema)
    schema.checks = [c for c in schema.checks if not _is_unique_check(str(c.name or ""))]
    return schema


def _duplicates(name: str, lf: pl.LazyFrame, rows: int) -> list[Finding]:
    """Uniqueness across the whole frame with bounded memory.

    Each unique column set is hashed to ``u64``; the hashes are counted with a streaming
    ``group_by`` in ``ceil(rows / KEY_ROWS_PER_PASS)`` passes (one hash partition each),
    so only one partition's table is held at a time. Rows whose hash repeats (a few, on
    valid data none) are collected and run through the full contract, which reports
    true duplicates in exactly the format of :func:`validate` and ignores hash
    collisions.
    """
    names = set(lf.collect_schema().names())
    passes = max(1, -(-rows // KEY_ROWS_PER_PASS))
    suspects: list[pl.Expr] = []
    for cols in _unique_sets(name):
        if not set(cols) <= names:
            continue
        h = (pl.col(cols[0]) if len(cols) == 1 else pl.struct(cols)).hash().alias("__h")
        keyed = (lf if len(cols) > 1 else lf.filter(pl.col(cols[0]).is_not_null())).select(h)
        found = []
        for part in range(passes):
            q = keyed if passes == 1 else keyed.filter(pl.col("__h") % passes == part)
            found.append(
                q.group_by("__h")
                .agg(pl.len().alias("__n"))
                .filter(pl.col("__n") > 1)
                .select("__h")
                .collect()
            )
        hashes = pl.concat(found).get_column("__h")
        if hashes.len():
            suspects.append(h.is_in(hashes.implode()))
    if not suspects:
        return []
    rows_df = lf.filter(pl.any_horizontal(suspects)).collect()
    _, found_all = validate(name, rows_df)
    return [f for f in found_all if _is_unique_check(f.check)]


def validate_lazy(
    name: str, frame: pl.DataFrame | pl.LazyFrame, *, chunk_rows: int = CHUNK_ROWS
) -> tuple[pl.LazyFrame | None, list[Finding]]:
    """Run the contract of ``name`` on a frame of any size, one slice at a time.

    Same checks and findings as :func:`validate`, in bounded memory: the frame is
    taken in slices of ``chunk_rows`` (``LazyFrame.slice`` collected one at a time,
    or zero-copy slices of a ``DataFrame``), each slice is checked at
    full depth by pandera, and row keys come from the slice (a row without an id is
    ``row N``, counted over the whole frame). Checks that slicing would miss, the
    uniqueness of ``unique`` columns and of the primary key, run across the whole frame
    on hashed keys (see ``_duplicates``). A frame that fits in one slice is simply
    handed to :func:`validate`.

    Parameters
    ----------
    name : str
        Dataset name, one of :data:`DATASETS`.
    frame : DataFrame or LazyFrame
        The table; a LazyFrame (e.g. ``pl.scan_parquet``) may be far larger than memory.
        It is evaluated once per slice (a Parquet scan reads only that slice's row
        groups; put costly queries in a file first) and a few more times for the keys.
    chunk_rows : int
        Rows per slice.

    Returns
    -------
    tuple
        ``(lazy, findings)``: the frame cast to the contract's dtypes as a LazyFrame
        (``None`` when there is an error), and every finding, sorted.

    Examples
    --------
    >>> import polars as pl
    >>> ids = pl.DataFrame({"entity_id": ["a", "b", "a"], "name": ["A", "B", "A2"],
    ...     "native_name": None, "kind": "company", "country": "CN", "parent_id": None,
    ...     "aliases": [[], [], []], "notes": None})
    >>> _, found = validate_lazy("entities", ids.lazy(), chunk_rows=2)
    >>> [(f.key, f.check) for f in found]
    [('a', 'field_uniqueness')]
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    if not isinstance(frame, pl.DataFrame | pl.LazyFrame):
        raise TypeError(f"expected a polars DataFrame or LazyFrame, got {type(frame).__name__}")
    structure = _structure(name, frame.collect_schema().names())
    if structure:
        return None, structure
    frame = with_optional_columns(name, frame)
    lf, slices = _slices(frame, chunk_rows)
    first = next(slices, None)
    second = next(slices, None)
    if second is None:  # one slice: the plain contract
        whole = first if first is not None else lf.collect()
        out, found = validate(name, whole)
        return (None if out is None else out.lazy()), found
    findings = _slice_findings(name, itertools.chain((first, second), slices))
    if findings is None:  # structural: the same for every slice; reported once
        return None, validate(name, first)[1]
    findings.update(_duplicates(name, lf, _rows(lf)))
    if any(f.severity == "error" for f in findings):
        return None, sorted(findings)
    return lf.select([pl.col(c).cast(t) for c, t in columns(name).items()]), sorted(findings)


def _slices(frame: pl.DataFrame | pl.LazyFrame, chunk_rows: int) -> tuple[pl.LazyFrame, Any]:
    """The frame as a LazyFrame, and an iterator over its collected slices."""
    if isinstance(frame, pl.DataFrame):
        return frame.lazy(), iter(frame.iter_slices(chunk_rows))
    # one bounded slice at a time (``collect_batches`` runs ahead of a slow consumer and
    # can buffer the whole result); a scan reads only the row groups of a slice
    total = _rows(frame)
    slices = (
        frame.slice(start, chunk_rows).collect(engine="streaming")
        for start in range(0, max(total, 1), chunk_rows)
    )
    return frame, slices


def _rows(lf: pl.LazyFrame) -> int:
    return lf.select(pl.len()).collect(engine="streaming").item()


def _slice_findings(name: str, slices: Any) -> set[Finding] | None:
    """Findings of the contract without uniqueness checks, slice by slice (None: structural)."""
    schema = _slice_schema(name)
    findings: set[Finding] = set()
    offset = 0
    for chunk in slices:  # lazily: one slice at a time
        if passing(schema, chunk) is not None:
            offset += chunk.height
            continue
        try:
            schema.validate(chunk, lazy=True)  # type: ignore[attr-defined]
        except SchemaErrors as exc:
            findings.update(_findings(name, chunk, exc.failure_cases, offset=offset))
        except SchemaError:
            return None
        offset += chunk.height
    return findings
