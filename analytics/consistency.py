"""Cross-dataset consistency: every check that needs more than one table, run in one pass.

Each check is a small function (:mod:`analytics.record_checks`,
:mod:`analytics.supply_checks`) that takes the tables (polars ``DataFrame`` or
``LazyFrame``) and returns a ``LazyFrame`` of finding rows; :func:`check` builds them all
and collects them in one pass, so the work stays vectorised and runs on lazy inputs too.
Types, enums, ranges, keys and row rules are the pandera contract's job
(:mod:`analytics.schemas`); a check whose columns are missing or mistyped is skipped
because the contract has already reported it.

>>> import polars as pl
>>> chips = pl.DataFrame({"chip_id": ["x"], "bf16_dense_tflops": [312.0],
...     "fp8_dense_tflops": [None], "int8_dense_tops": [624.0], "fp4_dense_tflops": [None],
...     "tpp_stated": [4000.0]})
>>> [f.check for f in check({"chips": chips})]
['tpp_mismatch']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

import polars as pl

from analytics.checkrows import FIELDS
from analytics.errors import Finding
from analytics.evidence_checks import EVIDENCE_CHECKS
from analytics.record_checks import (
    after_release_date,
    before_chip_release,
    dangling_references,
    quantity_scope_mismatch,
    text_safety,
    tpp_mismatch,
)
from analytics.rules import as_date
from analytics.supply_checks import delivery_without_approval, holdings_exceed_shipments
from analytics.vocab import DATASETS

Frame = pl.DataFrame | pl.LazyFrame

CHECKS: tuple[Callable[..., list[pl.LazyFrame]], ...] = (
    dangling_references,
    after_release_date,
    before_chip_release,
    delivery_without_approval,
    holdings_exceed_shipments,
    quantity_scope_mismatch,
    tpp_mismatch,
    text_safety,
    *EVIDENCE_CHECKS,
)


def _first_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


def _lazy(tables: Mapping[str, Frame | None]) -> dict[str, pl.LazyFrame]:
    return {n: t.lazy() for n, t in tables.items() if t is not None}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=dict.fromkeys(FIELDS, pl.String))


def findings_frame(
    tables: Mapping[str, Frame | None], *, release_date: date | str | None = None
) -> pl.DataFrame:
    """Every consistency finding as one sorted frame (columns of :class:`Finding`).

    Cheaper than :func:`check` when there are very many findings; a check that fails
    to run becomes an error finding rather than an exception. When any table is a
    LazyFrame (e.g. ``pl.scan_parquet`` of a ledger larger than memory) the checks run
    one after another on the streaming engine, so memory stays bounded.

    Parameters
    ----------
    tables : mapping of str to DataFrame or LazyFrame
        Datasets by name; a missing table or column skips the checks that need it.
    release_date : date or str, optional
        Date of the knowledge snapshot; ``None`` skips the date checks.

    Returns
    -------
    DataFrame
        Columns :data:`analytics.checkrows.FIELDS`, all text, sorted.

    Examples
    --------
    >>> import polars as pl
    >>> apr = pl.DataFrame({"event_id": ["APR-001"], "chip_ids": [["h9"]]})
    >>> findings_frame({"approvals": apr, "chips": pl.DataFrame({"chip_id": ["h20"]})}).select(
    ...     "key", "check").row(0)
    ('APR-001', 'dangling_reference')
    """
    t = _lazy(tables)
    t = {n: t[n] for n in DATASETS if n in t} | {n: f for n, f in t.items() if n not in DATASETS}
    rd = None if release_date is None else as_date(release_date)
    plans: list[pl.LazyFrame] = []
    failed: list[tuple[str, str]] = []
    lazy_input = any(isinstance(f, pl.LazyFrame) for f in tables.values())
    for fn in CHECKS:
        try:
            plans += fn(t, release_date=rd, in_memory=not lazy_input)
        except Exception as exc:  # noqa: BLE001 - report, never crash
            failed.append((fn.__name__, _first_line(exc)))
    frames: list[pl.DataFrame] = []
    # LazyFrames may be larger than memory: run their plans one after another on the
    # streaming engine, so that only one plan's state is held at a time
    try:
        if lazy_input:
            frames = [plan.collect(engine="streaming") for plan in plans]
        else:
            frames = pl.collect_all(plans) if plans else []
    except Exception:  # noqa: BLE001 - one bad plan must not hide the others
        frames = []
        for plan in plans:
            try:
                frames.append(plan.collect())
            except Exception as exc:  # noqa: BLE001
                failed.append(("consistency", _first_line(exc)))
    broken = pl.DataFrame(
        {
            "severity": ["error"] * len(failed), "dataset": [""] * len(failed),
            "key": [""] * len(failed), "column": [""] * len(failed),
            "check": ["consistency_check_failed"] * len(failed),
            "value": [name for name, _ in failed],
            "message": [f"check {n} could not run: {why}" for n, why in failed],
        },
        schema=dict.fromkeys(FIELDS, pl.String),
    )
    out = pl.concat([_empty(), *frames, broken], how="vertical_relaxed")
    return out.unique().sort(list(FIELDS))


def check(
    tables: Mapping[str, Frame | None], *, release_date: date | str | None = None
) -> list[Finding]:
    """Run every cross-dataset check on ``tables`` (name -> DataFrame or LazyFrame).

    Parameters
    ----------
    tables
        Datasets by name; a missing table or column skips the checks that need it.
    release_date
        Date of the knowledge snapshot; nothing may be dated after it. ``None`` skips
        the date checks.

    Returns
    -------
    list of Finding
        Sorted; ``dangling_reference``, ``after_release_date``, ``before_chip_release``,
        ``delivery_without_approval``, ``holdings_exceed_shipments``,
        ``quantity_scope_mismatch``, ``tpp_mismatch``, ``html_in_text``,
        ``formula_in_text``, ``oversized_field``, and the evidence checks of
        :mod:`analytics.evidence_checks` (``figure_without_evidence``,
        ``evidence_without_record``, ``evidence_unknown_field``,
        ``approval_without_evidence``).

    Examples
    --------
    >>> import polars as pl
    >>> apr = pl.DataFrame({"event_id": ["APR-001"], "summary": ["@SUM(A1)"]})
    >>> [(f.key, f.check) for f in check({"approvals": apr})]
    [('APR-001', 'formula_in_text')]
    """
    df = findings_frame(tables, release_date=release_date)
    return sorted(Finding(*row) for row in df.select(FIELDS).iter_rows())
