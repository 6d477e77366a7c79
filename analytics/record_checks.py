"""Checks of ids, dates, figures and text across the datasets.

Each check takes the tables as LazyFrames (by name) and returns LazyFrames of finding
rows (:mod:`analytics.checkrows`); :func:`analytics.consistency.check` runs them all.

>>> import polars as pl
>>> chips = pl.LazyFrame({"chip_id": ["x"], "bf16_dense_tflops": [312.0],
...     "fp8_dense_tflops": [None], "int8_dense_tops": [624.0], "fp4_dense_tflops": [None],
...     "tpp_stated": [4000.0]})
>>> pl.concat(tpp_mismatch({"chips": chips})).collect()["check"].to_list()
['tpp_mismatch']
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.checkrows import check_doc, finding_rows, has, key, numeric, text
from analytics.rules import (
    PRECISIONS,
    period_start,
    precision_rank,
    public_date,
    starts_like_formula,
    tpp,
)
from analytics.vocab import DATE_PRECISION, EVENT_DATES, FOREIGN_KEYS, FORWARD_RECORD_TYPES

MAX_FIELD_CHARS = 2000
TPP_TOLERANCE = 0.005
HTML = r"<[A-Za-z/!]"


@check_doc
def dangling_references(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """Every id in :data:`analytics.schemas.FOREIGN_KEYS` resolves; list columns explode.


    Examples
    --------
    >>> import polars as pl
    >>> t = {"approvals": pl.LazyFrame({"event_id": ["APR-001"], "chip_ids": [["h9"]]}),
    ...      "chips": pl.LazyFrame({"chip_id": ["h20"]})}
    >>> pl.concat(dangling_references(t)).collect()["value"].to_list()
    ['h9']
    """
    out = []
    for fk in FOREIGN_KEYS:
        src, ref = t.get(fk.dataset), t.get(fk.ref)
        if src is None or ref is None or not has(src, fk.column) or not has(ref, fk.ref_column):
            continue
        many = isinstance(src.collect_schema()[fk.column], pl.List)
        refs = ref.select(pl.col(fk.ref_column).cast(pl.String).alias("_ref")).unique()
        rows = src.select(key(fk.dataset, src), pl.col(fk.column).alias("_v"))
        if many:
            rows = rows.explode("_v")
        rows = (
            rows.with_columns(pl.col("_v").cast(pl.String))
            .filter(pl.col("_v").is_not_null() & (pl.col("_v") != ""))
            .join(refs, left_on="_v", right_on="_ref", how="anti")
            .unique()
        )
        out.append(
            finding_rows(
                rows, fk.dataset, column=fk.column, check="dangling_reference", value=pl.col("_v"),
                message=pl.format(
                    "'{}' in {} is not a {}.{}: add it to {} or correct the id",
                    pl.col("_v"), pl.lit(fk.column), pl.lit(fk.ref), pl.lit(fk.ref_column),
                    pl.lit(fk.ref),
                ),
            )
        )
    return out


@check_doc
def after_release_date(
    t: dict[str, pl.LazyFrame], *, release_date: date | None = None, **_: object
) -> list[pl.LazyFrame]:
    """Nothing in a release is dated after it: sources (end of their precision period,
    accessed_date when undated), events, estimates, rules and chip launches.
    ``release_date`` (a date) is the release's; ``None`` skips the check.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = {"approvals": pl.LazyFrame({"event_id": ["APR-001"], "date": [dt.date(2026, 12, 1)]})}
    >>> out = after_release_date(t, release_date=dt.date(2026, 11, 29))
    >>> pl.concat(out).collect()["key"].to_list()
    ['APR-001']
    """
    if release_date is None:
        return []
    d = pl.lit(release_date, dtype=pl.Date)
    out = []
    src = t.get("sources")
    if src is not None and has(src, "published_date", "accessed_date", dtype=pl.Date) and has(
        src, "date_precision"
    ):
        rows = src.select(
            key("sources", src), public_date().alias("_d"), pl.col("date_precision").alias("_p")
        ).filter(pl.col("_d") > d)
        message = pl.format(
            "source is public only from {} ({} precision), after the release date {}: a "
            "release holds only what was public on its date",
            text(pl.col("_d")), pl.col("_p"), pl.lit(release_date.isoformat()),
        )
        out.append(finding_rows(rows, "sources", column="published_date",
                                check="after_release_date", value=pl.col("_d"), message=message))
    for name, col in EVENT_DATES.items():
        lf = t.get(name)
        if lf is None or not has(lf, col, dtype=pl.Date):
            continue
        rows = lf.select(key(name, lf), pl.col(col).alias("_d")).filter(pl.col("_d") > d)
        out.append(
            finding_rows(
                rows, name, column=col, check="after_release_date", value=pl.col("_d"),
                message=pl.format(
                    "{} {} is after the release date {}: a release holds only what was known then",
                    pl.lit(col), text(pl.col("_d")), pl.lit(release_date.isoformat()),
                ),
            )
        )
    return out


@check_doc
def before_chip_release(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """A shipment's period does not begin before its chip's release (warning).

    Both dates are compared at the coarser of the two precisions; orders and purchase
    intents are exempt, since they may precede a launch.


    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> shp = pl.LazyFrame({"record_id": ["SHP-001"], "record_type": ["delivery"],
    ...     "chip_ids": [["h100"]], "period_start": [dt.date(2020, 1, 1)],
    ...     "period_precision": ["month"]})
    >>> chips = pl.LazyFrame({"chip_id": ["h100"], "release_date": [dt.date(2022, 3, 22)],
    ...     "release_precision": ["day"]})
    >>> out = before_chip_release({"shipments": shp, "chips": chips})
    >>> pl.concat(out).collect()["severity"].to_list()
    ['warning']
    """
    shp, chips = t.get("shipments"), t.get("chips")
    if shp is None or chips is None or not (
        has(shp, "period_start", dtype=pl.Date)
        and has(shp, "chip_ids", dtype=pl.List)
        and has(shp, "record_type", "period_precision")
        and has(chips, "release_date", dtype=pl.Date)
        and has(chips, "chip_id", "release_precision")
    ):
        return []
    launch = chips.select(
        pl.col("chip_id").alias("_chip"), pl.col("release_date").alias("_rel"),
        pl.col("release_precision").alias("_rp"),
    ).filter(pl.col("_rel").is_not_null() & pl.col("_rp").is_in(list(DATE_PRECISION)))
    rows = (
        shp.filter(~pl.col("record_type").is_in(FORWARD_RECORD_TYPES))
        .select(
            key("shipments", shp), pl.col("chip_ids").alias("_chip"),
            pl.col("period_start").alias("_ps"), pl.col("period_precision").alias("_pp"),
        )
        .explode("_chip")
        .join(launch, on="_chip", how="inner")
        .with_columns(
            pl.when(
                precision_rank("_pp") >= precision_rank("_rp")
            )
            .then(pl.col("_pp"))
            .otherwise(pl.col("_rp"))
            .alias("_prec")
        )
        .filter(
            period_start("_ps", "_prec") < period_start("_rel", "_prec")
        )
    )
    message = pl.format(
        "period starts {} but chip {} was released {} ({} precision): check the period or "
        "the chip", text(pl.col("_ps")), pl.col("_chip"), text(pl.col("_rel")), pl.col("_rp"),
    )
    return [finding_rows(rows, "shipments", column="period_start", check="before_chip_release",
                         severity="warning", value=pl.col("_ps"), message=message)]


@check_doc
def quantity_scope_mismatch(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """``combined`` names at least two entities, ``per_entity`` at least one; a quantity
    shared by two or more buyers says which it is.


    Examples
    --------
    >>> import polars as pl
    >>> apr = pl.LazyFrame({"event_id": ["APR-001"], "quantity_scope": ["combined"],
    ...     "entity_ids": [["bytedance"]]})
    >>> pl.concat(quantity_scope_mismatch({"approvals": apr})).collect()["key"].to_list()
    ['APR-001']
    """
    out = []
    for name, ids in (("approvals", "entity_ids"), ("shipments", "buyer_ids")):
        lf = t.get(name)
        if lf is None or not has(lf, "quantity_scope", ids) or not has(lf, ids, dtype=pl.List):
            continue
        n = pl.col(ids).list.len()
        scope = pl.col("quantity_scope")
        s, k = pl.col("_scope"), pl.col("_n")
        bad = ((s == "combined") & (k < 2)) | ((s == "per_entity") & (k < 1))
        rows = lf.select(key(name, lf), scope.alias("_scope"), n.alias("_n")).filter(
            bad.fill_null(False)
        )
        out.append(
            finding_rows(
                rows, name, column="quantity_scope", check="quantity_scope_mismatch",
                value=pl.col("_scope"),
                message=pl.format(
                    "quantity_scope '{}' but {} names {} entit(ies): 'combined' needs at "
                    "least 2, 'per_entity' at least 1",
                    pl.col("_scope"), pl.lit(ids), text(pl.col("_n")),
                ),
            )
        )
        if name == "shipments" and has(lf, "units", "units_low", "units_high"):
            has_q = pl.coalesce("units", "units_low", "units_high").is_not_null()
            rows = lf.select(key(name, lf), n.alias("_n"), has_q.alias("_q"), scope.alias("_s"))
            rows = rows.filter((pl.col("_n") >= 2) & pl.col("_s").is_null() & pl.col("_q"))
            out.append(
                finding_rows(
                    rows, name, column="quantity_scope", check="quantity_scope_mismatch",
                    severity="warning", value=pl.lit(""),
                    message=pl.format(
                        "units shared by {} buyers without a quantity_scope: say whether they "
                        "are per_entity or combined",
                        text(pl.col("_n")),
                    ),
                )
            )
    return out


@check_doc
def tpp_mismatch(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """A stated TPP agrees within 0.5% with the TPP derived from the chip's throughputs.


    Examples
    --------
    >>> import polars as pl
    >>> chips = pl.LazyFrame({"chip_id": ["x"], "bf16_dense_tflops": [312.0],
    ...     "fp8_dense_tflops": [None], "int8_dense_tops": [624.0],
    ...     "fp4_dense_tflops": [None], "tpp_stated": [4992.0]})
    >>> pl.concat(tpp_mismatch({"chips": chips})).collect().height
    0
    """
    chips = t.get("chips")
    if chips is None or not numeric(chips, "tpp_stated", *PRECISIONS):
        return []
    stated = pl.col("tpp_stated").cast(pl.Float64)
    derived = tpp().alias("tpp_derived")
    rows = chips.select(key("chips", chips), stated.alias("_stated"), derived).filter(
        (pl.col("_stated") - pl.col("tpp_derived")).abs() > TPP_TOLERANCE * pl.col("_stated")
    )
    return [
        finding_rows(
            rows, "chips", column="tpp_stated", check="tpp_mismatch", value=pl.col("_stated"),
            message=pl.format(
                "stated TPP {} differs by more than 0.5% from {} derived as max(BF16 x 16, "
                "FP8 x 8, INT8 x 8, FP4 x 4): correct the throughputs or the stated TPP",
                text(pl.col("_stated")), text(pl.col("tpp_derived").round(1)),
            ),
        )
    ]


def _text_columns(lf: pl.LazyFrame) -> list[tuple[str, bool]]:
    out = []
    for col, dtype in lf.collect_schema().items():
        if dtype == pl.String:
            out.append((col, False))
        elif isinstance(dtype, pl.List) and dtype.inner == pl.String:
            out.append((col, True))
    return out


#: The tests of :func:`text_safety`: check name, test of a text expression, message.
TEXT_TESTS = (
    (
        "html_in_text", lambda c: c.str.contains(HTML),
        "text carries HTML markup, which a browser would render or run: remove or rephrase it",
    ),
    (
        "formula_in_text", starts_like_formula,
        "text starts with =, +, -, @, a tab or a carriage return, which a spreadsheet runs "
        "as a formula: rephrase it",
    ),
    (
        "oversized_field", lambda c: c.str.len_chars() > MAX_FIELD_CHARS,
        f"text is longer than {MAX_FIELD_CHARS} characters: shorten it or move it to notes "
        "elsewhere",
    ),
)


#: Rows from which :func:`text_safety` tests distinct values rather than every row: a
#: plan per column costs about a millisecond, and saves more only on longer tables.
DISTINCT_MIN_ROWS = 10_000


@check_doc
def text_safety(
    t: dict[str, pl.LazyFrame], *, in_memory: bool = False, **_: object
) -> list[pl.LazyFrame]:
    """No text cell carries HTML markup or starts like a spreadsheet formula, and none is
    longer than 2,000 characters (:data:`TEXT_TESTS`).

    Tables that may not fit in memory are read once, row by row, in bounded memory. With
    ``in_memory``, the tests of a table of at least :data:`DISTINCT_MIN_ROWS` rows run
    once per distinct value of a column and the rows holding a failing value are found
    by a join; those of a shorter table run once on all its cells in one column. All
    three find the same rows.

    Examples
    --------
    >>> import polars as pl
    >>> apr = pl.LazyFrame({"event_id": ["APR-001"], "summary": ["=HYPERLINK(1)"]})
    >>> pl.concat(text_safety({"approvals": apr})).collect()["check"].to_list()
    ['formula_in_text']
    """
    out = []
    for name, lf in t.items():
        columns = _text_columns(lf)
        if not columns:
            continue
        if not in_memory:
            out.append(_row_findings(lf, name, columns))
        elif lf.select(pl.len()).collect().item() >= DISTINCT_MIN_ROWS:
            failing = _failing_values(lf, columns)
            out += [_distinct_findings(lf, name, col, is_list, bad)
                    for (col, is_list), bad in zip(columns, failing, strict=True)]
        else:
            out.append(_long_findings(lf, name, columns))
    return out


def _which() -> pl.LazyFrame:
    """Test number (``_t0`` ...) to check name and message."""
    return pl.LazyFrame({"_t": [f"_t{i}" for i in range(len(TEXT_TESTS))],
                         "_check": [k for k, _, _ in TEXT_TESTS],
                         "_msg": [m for _, _, m in TEXT_TESTS]})


def _flags(cell: pl.Expr) -> list[pl.Expr]:
    """One flag per test of :data:`TEXT_TESTS` on ``cell``: ``_t0``, ``_t1`` ... (null: no)."""
    return [test(cell).fill_null(False).alias(f"_t{i}")
            for i, (_, test, _) in enumerate(TEXT_TESTS)]


def _failed(flagged: pl.LazyFrame, index: list[str], per: list[str]) -> pl.LazyFrame:
    """One row per test a row failed (its first failing value, per ``per``), with the
    test's check name and message: ``flagged`` holds ``index`` columns and the flags."""
    return (
        flagged.unpivot(index=index, on=[f"_t{i}" for i in range(len(TEXT_TESTS))],
                        variable_name="_t", value_name="_hit")
        .filter(pl.col("_hit"))
        .unique(subset=[*per, "_t"], keep="first", maintain_order=True)
        .join(_which(), on="_t")
    )


def _failing_values(lf: pl.LazyFrame, columns: list[tuple[str, bool]]) -> list[pl.DataFrame]:
    """The distinct values of each text column (list elements for a list column) that
    fail a test, with a flag per test (``_t0`` ...): one query per column, run together."""
    plans = []
    for col, is_list in columns:
        cell = pl.col(col)
        tests = _flags(cell)
        plans.append(
            lf.select(cell.explode() if is_list else cell).unique().drop_nulls()
            .with_columns(tests).filter(pl.any_horizontal(t.meta.output_name() for t in tests)))
    return pl.collect_all(plans)


def _distinct_findings(lf: pl.LazyFrame, name: str, col: str, is_list: bool,
                       bad: pl.DataFrame) -> pl.LazyFrame:
    """Findings of one text column from its failing values ``bad``: the rows holding one
    are picked by membership, and only they are keyed and joined; the first failing
    element of a row is the value shown."""
    cell = pl.col(col)
    values = bad.get_column(col).implode()
    holds = cell.list.eval(pl.element().is_in(values)).list.any() if is_list else cell.is_in(values)
    rows = lf.select(key(name, lf), cell).filter(holds.fill_null(False)).with_row_index("_r")
    joined = (rows.explode(col) if is_list else rows).join(
        bad.lazy(), on=col, how="inner", maintain_order="left")
    hits = _failed(joined, ["_r", "key", col], ["_r"])
    return finding_rows(hits, name, column=col, check=pl.col("_check"),
                        value=text(cell).str.slice(0, 80), message=pl.col("_msg"))


def _long_findings(lf: pl.LazyFrame, name: str,
                   columns: list[tuple[str, bool]]) -> pl.LazyFrame:
    """Findings of every text column of a short table: its cells in one long column
    (list elements one per row), the tests run once on it."""
    tests = _flags(pl.col("_v"))
    cells = (
        lf.select(key(name, lf), *((pl.col(c) if is_list else pl.concat_list(c)).alias(c)
                                   for c, is_list in columns))
        .with_row_index("_r")
        .unpivot(index=["_r", "key"], variable_name="_col", value_name="_v")
        .explode("_v")
        .drop_nulls("_v")
    )
    flagged = cells.with_columns(tests).filter(
        pl.any_horizontal(t.meta.output_name() for t in tests))
    hits = _failed(flagged, ["_r", "key", "_col", "_v"], ["_r", "_col"])
    return finding_rows(hits, name, column=pl.col("_col"), check=pl.col("_check"),
                        value=pl.col("_v").str.slice(0, 80), message=pl.col("_msg"))


def _row_findings(lf: pl.LazyFrame, name: str,
                  columns: list[tuple[str, bool]]) -> pl.LazyFrame:
    """Findings of every text column of one table from one pass over its rows: a flag per
    column and test (``_h{i}``), then the values shown, read from flagged rows only."""
    hits: list[pl.Expr] = []
    values: list[pl.Expr] = []
    tested: list[tuple[str, str]] = []
    for col, is_list in columns:
        for j, (_, test, _) in enumerate(TEXT_TESTS):
            i = len(tested)
            if is_list:
                cell = pl.col(col)
                hit = cell.list.eval(test(pl.element())).list.any().fill_null(False)
                shown = cell.list.eval(pl.element().filter(test(pl.element()))).list.first()
            else:
                hit = test(pl.col(col)).fill_null(False)
                shown = pl.col(col)
            hits.append(hit.alias(f"_h{i}"))
            values.append(pl.when(pl.col(f"_h{i}")).then(text(shown)).alias(f"_v{i}"))
            tested.append((col, f"_t{j}"))
    which = pl.LazyFrame({"_i": [f"_v{i}" for i in range(len(tested))],
                          "_col": [c for c, _ in tested], "_t": [t for _, t in tested]})
    rows = (
        lf.select(key(name, lf), *(c for c, _ in columns), *hits)
        .filter(pl.any_horizontal(h.meta.output_name() for h in hits))
        .select("key", *values)
        .unpivot(index="key", variable_name="_i", value_name="_v")
        .drop_nulls("_v")
        .join(which, on="_i")
        .join(_which(), on="_t")
    )
    return finding_rows(rows, name, column=pl.col("_col"), check=pl.col("_check"),
                        value=pl.col("_v").str.slice(0, 80), message=pl.col("_msg"))


