"""Checks of the evidence table: every figure supported, every evidence row pointing somewhere.

Cross-dataset checks in the form of :mod:`analytics.record_checks` (tables in, finding
rows out), run by :func:`analytics.consistency.check`; the number matching and coverage
are :mod:`analytics.evidence`. A release without an ``evidence`` table (one cut before it
existed) skips them all, with no finding.

>>> import polars as pl
>>> apr = pl.LazyFrame({"event_id": ["APR-048"], "quantity_units": [400_000]})
>>> ev = pl.LazyFrame({"evidence_id": ["EV-APR-0001"], "dataset": ["approvals"],
...     "record_key": ["APR-048"], "field": ["quantity_units"],
...     "quote": ["over 400,000 H200 chips in total"], "basis": ["stated"],
...     "derivation": [None]}, schema_overrides={"derivation": pl.String})
>>> pl.concat(figure_without_evidence({"approvals": apr, "evidence": ev})).collect().height
0
"""

from __future__ import annotations

import polars as pl

from analytics.checkrows import FIELDS, check_doc, finding_rows, has, text
from analytics.evidence import FIGURES, coverage, findings_frame
from analytics.rules import row_key
from analytics.vocab import EVIDENCE_DATASETS

#: Columns of the evidence table these checks read.
EVIDENCE_COLUMNS = ("evidence_id", "dataset", "record_key", "field", "quote", "basis",
                    "derivation")


def _evidence(t: dict[str, pl.LazyFrame]) -> pl.LazyFrame | None:
    """The evidence table when it is there with the columns the checks read, else None."""
    ev = t.get("evidence")
    return ev if ev is not None and has(ev, *EVIDENCE_COLUMNS) else None


@check_doc
def figure_without_evidence(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """Every numeric figure of :data:`analytics.evidence.FIGURES` is stated by the quote of
    an evidence row, or has a derived or assumed evidence row that says how (error).

    Examples
    --------
    >>> import polars as pl
    >>> shp = pl.LazyFrame({"record_id": ["SHP-004"], "units": [320_000]})
    >>> ev = pl.LazyFrame(schema=dict.fromkeys(EVIDENCE_COLUMNS, pl.String))
    >>> out = pl.concat(figure_without_evidence({"shipments": shp, "evidence": ev})).collect()
    >>> out.select("dataset", "key", "column", "check").row(0)
    ('shipments', 'SHP-004', 'units', 'figure_without_evidence')
    """
    ev = _evidence(t)
    if ev is None:
        return []
    frames = {}
    for name, (key, cols) in FIGURES.items():
        lf = t.get(name)
        if lf is None or not has(lf, key):
            continue
        present = [c for c in cols if has(lf, c) and lf.collect_schema()[c].is_numeric()]
        frames[name] = lf.select(key, *present).collect()
    found = findings_frame(coverage(frames, ev.select(EVIDENCE_COLUMNS).collect()))
    return [found.select(FIELDS).lazy()]


@check_doc
def evidence_without_target(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """An evidence row names a record of its dataset that exists and, when ``field`` is
    given, a column of that dataset (error). An empty ``field`` is a claim about the row
    as a whole.

    Examples
    --------
    >>> import polars as pl
    >>> apr = pl.LazyFrame({"event_id": ["APR-001"], "date": ["2026-01-05"]})
    >>> ev = pl.LazyFrame({"evidence_id": ["EV-APR-0001", "EV-APR-0002"],
    ...     "dataset": ["approvals"] * 2, "record_key": ["APR-001", "APR-999"],
    ...     "field": ["quantity", None], "quote": ["q"] * 2, "basis": ["stated"] * 2,
    ...     "derivation": [None] * 2}, schema_overrides={"derivation": pl.String})
    >>> out = pl.concat(evidence_without_target({"approvals": apr, "evidence": ev}))
    >>> for row in out.collect().sort("key").select("key", "column", "check").rows():
    ...     print(row)
    ('EV-APR-0001', 'field', 'evidence_unknown_field')
    ('EV-APR-0002', 'record_key', 'evidence_without_record')
    """
    ev = _evidence(t)
    if ev is None:
        return []
    out = []
    for name in EVIDENCE_DATASETS:
        lf = t.get(name)
        if lf is None:
            continue
        names = lf.collect_schema().names()
        keys = lf.select(row_key(name, names).alias("_k")).unique()
        rows = ev.filter(pl.col("dataset") == name).select(
            pl.col("evidence_id").alias("key"), pl.col("record_key").alias("_k"),
            pl.col("field").alias("_f"),
        )
        orphans = rows.join(keys, on="_k", how="anti")
        out.append(finding_rows(
            orphans, "evidence", column="record_key", check="evidence_without_record",
            value=pl.col("_k"),
            message=pl.format("{} has no record '{}': correct record_key or the dataset, or "
                              "remove the evidence row", pl.lit(name), pl.col("_k")),
        ))
        strays = rows.filter(pl.col("_f").is_not_null() & ~pl.col("_f").is_in(names))
        out.append(finding_rows(
            strays, "evidence", column="field", check="evidence_unknown_field",
            value=pl.col("_f"),
            message=pl.format("'{}' is not a column of {}: name the column the quote "
                              "supports, or leave field empty for the whole row",
                              pl.col("_f"), pl.lit(name)),
        ))
    return out


@check_doc
def approval_without_evidence(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """Every approvals event has at least one evidence row about the event as a whole
    (``field`` empty) whose quote reports it (warning).

    Examples
    --------
    >>> import polars as pl
    >>> apr = pl.LazyFrame({"event_id": ["APR-001", "APR-002"]})
    >>> ev = pl.LazyFrame({"evidence_id": ["EV-APR-0001"], "dataset": ["approvals"],
    ...     "record_key": ["APR-001"], "field": [None], "quote": ["approved"],
    ...     "basis": ["stated"], "derivation": [None]},
    ...     schema_overrides={"field": pl.String, "derivation": pl.String})
    >>> out = pl.concat(approval_without_evidence({"approvals": apr, "evidence": ev}))
    >>> out.collect().select("key", "severity").rows()
    [('APR-002', 'warning')]
    """
    ev, apr = _evidence(t), t.get("approvals")
    if ev is None or apr is None or not has(apr, "event_id"):
        return []
    claims = ev.filter((pl.col("dataset") == "approvals") & pl.col("field").is_null()).select(
        pl.col("record_key").alias("key")
    )
    rows = apr.select(pl.col("event_id").cast(pl.String).alias("key")).join(
        claims, on="key", how="anti"
    )
    return [finding_rows(
        rows, "approvals", column="", check="approval_without_evidence", severity="warning",
        value=text(pl.col("key")),
        message=pl.lit("no evidence row quotes the report of this decision: add one with "
                       "field empty and the passage that reports who decided what, when"),
    )]


#: The checks of this module, in the order :func:`analytics.consistency.check` runs them.
EVIDENCE_CHECKS = (figure_without_evidence, evidence_without_target, approval_without_evidence)
