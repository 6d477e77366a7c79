"""Cross-dataset consistency: every check that needs more than one table, in one place.

Each check is a small function that takes the tables (polars ``DataFrame`` or
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

from analytics.datasets import public_date
from analytics.errors import Finding
from analytics.schemas import DATASETS, FOREIGN_KEYS, PRIMARY_KEYS

Frame = pl.DataFrame | pl.LazyFrame
FIELDS = ("severity", "dataset", "key", "column", "check", "value", "message")
MAX_FIELD_CHARS = 2000
TPP_TOLERANCE = 0.005
HTML = r"<[A-Za-z/!]"
FORMULA = r"^[=+\-@\t\r]"
APPROVING_ACTIONS = ("approve", "permit", "conditional_approval")
SUPPLY_RECORD_TYPES = ("delivery", "sales_estimate")
FORWARD_RECORD_TYPES = ("order", "purchase_intent")
_UNCLASSED = ("none", "unknown")
_RANK = {"day": 0, "month": 1, "quarter": 2, "year": 3}


# --------------------------------------------------------------------------- helpers
def _schema(lf: pl.LazyFrame) -> pl.Schema:
    return lf.collect_schema()


def _has(lf: pl.LazyFrame, *cols: str, dtype: type[pl.DataType] | None = None) -> bool:
    schema = _schema(lf)
    if not all(c in schema for c in cols):
        return False
    return dtype is None or all(isinstance(schema[c], dtype) for c in cols)


def _numeric(lf: pl.LazyFrame, *cols: str) -> bool:
    schema = _schema(lf)
    return all(c in schema and (schema[c].is_numeric() or schema[c] == pl.Null) for c in cols)


def _key(name: str, lf: pl.LazyFrame) -> pl.Expr:
    cols = PRIMARY_KEYS.get(name, ())
    if cols and _has(lf, *cols):
        return pl.concat_str(
            [pl.col(c).cast(pl.String).fill_null("") for c in cols], separator="/"
        ).alias("key")
    return pl.concat_str(pl.lit("row "), (pl.int_range(pl.len()) + 1).cast(pl.String)).alias("key")


def _out(
    lf: pl.LazyFrame,
    name: str,
    *,
    column: str,
    check: str,
    value: pl.Expr,
    message: pl.Expr,
    severity: str = "error",
) -> pl.LazyFrame:
    """Rows of ``lf`` (already filtered, holding a ``key`` column) as finding rows."""
    return lf.select(
        pl.lit(severity).alias("severity"),
        pl.lit(name).alias("dataset"),
        pl.col("key").cast(pl.String).fill_null(""),
        pl.lit(column).alias("column"),
        pl.lit(check).alias("check"),
        value.cast(pl.String).fill_null("").str.slice(0, 200).alias("value"),
        message.cast(pl.String).fill_null("").alias("message"),
    )


def _s(expr: pl.Expr) -> pl.Expr:
    """An expression as text, empty when null, for messages."""
    return expr.cast(pl.String).fill_null("")


def _lazy(tables: Mapping[str, Frame | None]) -> dict[str, pl.LazyFrame]:
    return {n: t.lazy() for n, t in tables.items() if t is not None}


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _truncate(col: pl.Expr, precision: pl.Expr) -> pl.Expr:
    """Start of the day/month/quarter/year period that holds ``col``."""
    return (
        pl.when(precision == "year")
        .then(col.dt.truncate("1y"))
        .when(precision == "quarter")
        .then(col.dt.truncate("1q"))
        .when(precision == "month")
        .then(col.dt.truncate("1mo"))
        .otherwise(col)
    )


def derived_tpp() -> pl.Expr:
    """TPP from dense throughputs, with the bit lengths of :data:`analytics.compute.PRECISIONS`.

    >>> import polars as pl
    >>> pl.DataFrame({"bf16_dense_tflops": [989.0], "fp8_dense_tflops": [1979.0],
    ...     "int8_dense_tops": [1979.0], "fp4_dense_tflops": [None]}
    ... ).select(derived_tpp()).item()
    15832.0
    """
    from analytics.compute import PRECISIONS

    return pl.max_horizontal(
        [pl.col(c).cast(pl.Float64) * bits for c, (_, bits) in PRECISIONS.items()]
    ).alias("tpp_derived")


# --------------------------------------------------------------------------- the checks
def dangling_references(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """Every id in :data:`analytics.schemas.FOREIGN_KEYS` resolves; list columns explode."""
    out = []
    for fk in FOREIGN_KEYS:
        src, ref = t.get(fk.dataset), t.get(fk.ref)
        if src is None or ref is None or not _has(src, fk.column) or not _has(ref, fk.ref_column):
            continue
        many = isinstance(_schema(src)[fk.column], pl.List)
        refs = ref.select(pl.col(fk.ref_column).cast(pl.String).alias("_ref")).unique()
        rows = src.select(_key(fk.dataset, src), pl.col(fk.column).alias("_v"))
        if many:
            rows = rows.explode("_v")
        rows = (
            rows.with_columns(pl.col("_v").cast(pl.String))
            .filter(pl.col("_v").is_not_null() & (pl.col("_v") != ""))
            .join(refs, left_on="_v", right_on="_ref", how="anti")
            .unique()
        )
        out.append(
            _out(
                rows, fk.dataset, column=fk.column, check="dangling_reference", value=pl.col("_v"),
                message=pl.format(
                    "'{}' in {} is not a {}.{}: add it to {} or correct the id",
                    pl.col("_v"), pl.lit(fk.column), pl.lit(fk.ref), pl.lit(fk.ref_column),
                    pl.lit(fk.ref),
                ),
            )
        )
    return out


# dataset -> date column that must not be after the release date
EVENT_DATES = {
    "approvals": "date",
    "shipments": "period_start",
    "lab_compute": "as_of_date",
    "control_rules": "published_date",
    "chips": "release_date",
}


def after_release_date(
    t: dict[str, pl.LazyFrame], *, release_date: date | None = None, **_: object
) -> list[pl.LazyFrame]:
    """Nothing in a release is dated after it: sources (end of their precision period,
    accessed_date when undated), events, estimates, rules and chip launches."""
    if release_date is None:
        return []
    d = pl.lit(release_date, dtype=pl.Date)
    out = []
    src = t.get("sources")
    if src is not None and _has(src, "published_date", "accessed_date", dtype=pl.Date) and _has(
        src, "date_precision"
    ):
        public = public_date()  # the rule as_of applies when a release is cut
        rows = src.select(
            _key("sources", src), public.alias("_d"), pl.col("date_precision").alias("_p")
        ).filter(pl.col("_d") > d)
        out.append(
            _out(
                rows, "sources", column="published_date", check="after_release_date",
                value=pl.col("_d"),
                message=pl.format(
                    "source is public only from {} ({} precision), after the release date {}: "
                    "a release holds only what was public on its date",
                    _s(pl.col("_d")), pl.col("_p"), pl.lit(release_date.isoformat()),
                ),
            )
        )
    for name, col in EVENT_DATES.items():
        lf = t.get(name)
        if lf is None or not _has(lf, col, dtype=pl.Date):
            continue
        rows = lf.select(_key(name, lf), pl.col(col).alias("_d")).filter(pl.col("_d") > d)
        out.append(
            _out(
                rows, name, column=col, check="after_release_date", value=pl.col("_d"),
                message=pl.format(
                    "{} {} is after the release date {}: a release holds only what was known then",
                    pl.lit(col), _s(pl.col("_d")), pl.lit(release_date.isoformat()),
                ),
            )
        )
    return out


def _rank_of(col: pl.Expr, rank: Mapping[str, int]) -> pl.Expr:
    """``rank[col]`` (0 when absent) as a when/then chain: unlike ``replace_strict``, it
    runs on the streaming engine without holding the whole column."""
    out = pl.when(pl.lit(False)).then(pl.lit(0))
    for name, value in rank.items():
        out = out.when(col == name).then(pl.lit(value))
    return out.otherwise(pl.lit(0))


def before_chip_release(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """A shipment's period does not begin before its chip's release (warning).

    Both dates are compared at the coarser of the two precisions; orders and purchase
    intents are exempt, since they may precede a launch.
    """
    shp, chips = t.get("shipments"), t.get("chips")
    if shp is None or chips is None:
        return []
    if not (
        _has(shp, "period_start", dtype=pl.Date)
        and _has(shp, "chip_ids", dtype=pl.List)
        and _has(shp, "record_type", "period_precision")
        and _has(chips, "release_date", dtype=pl.Date)
        and _has(chips, "chip_id", "release_precision")
    ):
        return []
    launch = chips.select(
        pl.col("chip_id").alias("_chip"), pl.col("release_date").alias("_rel"),
        pl.col("release_precision").alias("_rp"),
    ).filter(pl.col("_rel").is_not_null() & pl.col("_rp").is_in(list(_RANK)))
    rank = dict(_RANK)
    rows = (
        shp.filter(~pl.col("record_type").is_in(FORWARD_RECORD_TYPES))
        .select(
            _key("shipments", shp), pl.col("chip_ids").alias("_chip"),
            pl.col("period_start").alias("_ps"), pl.col("period_precision").alias("_pp"),
        )
        .explode("_chip")
        .join(launch, on="_chip", how="inner")
        .with_columns(
            pl.when(
                _rank_of(pl.col("_pp"), rank) >= _rank_of(pl.col("_rp"), rank)
            )
            .then(pl.col("_pp"))
            .otherwise(pl.col("_rp"))
            .alias("_prec")
        )
        .filter(
            _truncate(pl.col("_ps"), pl.col("_prec")) < _truncate(pl.col("_rel"), pl.col("_prec"))
        )
    )
    return [
        _out(
            rows, "shipments", column="period_start", check="before_chip_release",
            severity="warning", value=pl.col("_ps"),
            message=pl.format(
                "period starts {} but chip {} was released {} ({} precision): "
                "check the period or the chip",
                _s(pl.col("_ps")), pl.col("_chip"), _s(pl.col("_rel")), pl.col("_rp"),
            ),
        )
    ]


def _licence_required(t: dict[str, pl.LazyFrame]) -> pl.LazyFrame | None:
    """Per chip, the periods during which exporting it to China required a US licence.

    Columns ``_chip``, ``_from``, ``_until`` (exclusive, null = open) and ``_rule``.
    A classification clause of ``control_rules`` (thresholds as data: a clause holds when
    every threshold it sets holds, minimum inclusive, maximum exclusive) assigns a class,
    hence a licence requirement, from its effective date; an approvals
    ``license_required`` event naming a chip (H20, MI308) does so from its date.
    """
    parts = []
    chips, rules, apr = t.get("chips"), t.get("control_rules"), t.get("approvals")
    classified = _classified(chips, rules)
    if classified is not None:
        parts.append(classified)
    if apr is not None and _has(apr, "action", "chip_ids", "event_id") and _has(
        apr, "date", dtype=pl.Date
    ):
        parts.append(
            apr.filter(pl.col("action") == "license_required")
            .select(
                pl.col("chip_ids").alias("_chip"), pl.col("date").alias("_from"),
                pl.lit(None, dtype=pl.Date).alias("_until"),
                pl.format("licence requirement {}", pl.col("event_id")).alias("_rule"),
            )
            .explode("_chip")
            .filter(pl.col("_chip").is_not_null())
        )
    return pl.concat(parts, how="vertical_relaxed") if parts else None


def _classified(chips: pl.LazyFrame | None, rules: pl.LazyFrame | None) -> pl.LazyFrame | None:
    """Licence periods from :func:`analytics.compute.classify`."""
    if chips is None or rules is None:
        return None
    from analytics.compute import classify

    need = ("rule_id", "clause_kind", "effective_date", "superseded_date")
    if not _has(chips, "chip_id") or not _has(rules, *need):
        return None
    return (
        classify(chips, rules)
        .filter(pl.col("eccn_class").is_not_null() & ~pl.col("eccn_class").is_in(_UNCLASSED))
        .select(
            pl.col("chip_id").alias("_chip"),
            pl.col("effective_date").cast(pl.Date).alias("_from"),
            pl.col("superseded_date").cast(pl.Date).alias("_until"),
            pl.format("{} ({})", pl.col("rule_id"), pl.col("eccn_class")).alias("_rule"),
        )
        .filter(pl.col("_from").is_not_null())
    )


def delivery_without_approval(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """A delivery into China of a chip that needed a licence has a US approval naming it,
    dated on or before the end of the delivery period.

    Chips whose vendor is a Chinese entity are not exports into China and are skipped.
    """
    shp, apr = t.get("shipments"), t.get("approvals")
    need = (
        "record_type", "destination", "chip_ids", "units", "units_low", "units_high",
        "period_start", "period_end",
    )
    if shp is None or not _has(shp, *need):
        return []
    if not _has(shp, "period_start", "period_end", dtype=pl.Date):
        return []
    required = _licence_required(t)
    if required is None:
        return []
    deliveries = (
        shp.filter(
            (pl.col("record_type") == "delivery")
            & (pl.coalesce("units", "units_low", "units_high") > 0)
            & pl.col("destination").str.contains(r"(^|\+)CN(\+|$)")
        )
        .select(
            _key("shipments", shp), pl.col("chip_ids").alias("_chip"),
            pl.col("period_start").alias("_ps"), pl.col("period_end").alias("_pe"),
            pl.col("destination").alias("_dest"),
        )
        .explode("_chip")
        .filter(pl.col("_chip").is_not_null())
    )
    chips, ents = t.get("chips"), t.get("entities")
    if chips is not None and ents is not None and _has(chips, "chip_id", "vendor_id") and _has(
        ents, "entity_id", "country"
    ):  # a chip designed in China and delivered there is not an export into China
        domestic = (
            chips.select(pl.col("chip_id").alias("_chip"), pl.col("vendor_id").alias("_vendor"))
            .join(
                ents.select(pl.col("entity_id").alias("_vendor"), pl.col("country").alias("_cc")),
                on="_vendor", how="inner",
            )
            .filter(pl.col("_cc") == "CN")
            .select("_chip")
        )
        deliveries = deliveries.join(domestic, on="_chip", how="anti")
    needing = (
        deliveries.join(required, on="_chip", how="inner")
        .filter(
            (pl.col("_from") <= pl.col("_ps"))
            & (pl.col("_until").is_null() | (pl.col("_ps") < pl.col("_until")))
        )
        .group_by("key", "_chip", "_ps", "_pe", "_dest")
        .agg(pl.col("_rule").min())
    )
    if apr is not None and _has(apr, "jurisdiction", "action", "chip_ids") and _has(
        apr, "date", dtype=pl.Date
    ):
        granted = (
            apr.filter((pl.col("jurisdiction") == "US") & pl.col("action").is_in(APPROVING_ACTIONS))
            .select(pl.col("chip_ids").alias("_chip"), pl.col("date").alias("_ok"))
            .explode("_chip")
            .group_by("_chip")
            .agg(pl.col("_ok").min())
        )
    else:
        granted = pl.LazyFrame(schema={"_chip": pl.String, "_ok": pl.Date})
    rows = needing.join(granted, on="_chip", how="left").filter(
        pl.col("_ok").is_null() | (pl.col("_ok") > pl.col("_pe"))
    )
    return [
        _out(
            rows, "shipments", column="chip_ids", check="delivery_without_approval",
            value=pl.col("_chip"),
            message=pl.format(
                "delivery {} of {} into {} ({} to {}) while {} required a US licence, "
                "but no US approval naming {} is dated on or before {}{}",
                pl.col("key"), pl.col("_chip"), pl.col("_dest"), _s(pl.col("_ps")),
                _s(pl.col("_pe")), pl.col("_rule"), pl.col("_chip"), _s(pl.col("_pe")),
                pl.when(pl.col("_ok").is_null())
                .then(pl.lit(""))
                .otherwise(pl.format(" (first approval {})", _s(pl.col("_ok")))),
            ),
        )
    ]


def holdings_exceed_shipments(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """A lab's holdings of a chip do not exceed the deliveries and sales estimates of that
    chip to the lab, its parent or unnamed buyers up to that date, unless a note says why
    (warning)."""
    lc, shp = t.get("lab_compute"), t.get("shipments")
    if lc is None or shp is None:
        return []
    if not (
        _has(lc, "subject", "lab_id", "chip_id", "chip_count", "chip_count_low", "notes")
        and _has(lc, "as_of_date", dtype=pl.Date)
        and _has(shp, "record_type", "chip_ids", "buyer_ids", "units", "units_low", "units_high")
        and _has(shp, "chip_ids", "buyer_ids", dtype=pl.List)
        and _has(shp, "period_start", dtype=pl.Date)
    ):
        return []
    holdings = lc.filter(
        (pl.col("subject") == "holdings")
        & pl.col("chip_id").is_not_null()
        & (pl.col("notes").is_null() | (pl.col("notes").str.strip_chars() == ""))
    ).select(
        _key("lab_compute", lc), pl.col("lab_id").alias("_lab"), pl.col("chip_id").alias("_chip"),
        pl.col("as_of_date").alias("_asof"),
        pl.coalesce("chip_count", "chip_count_low").alias("_count"),
    ).filter(pl.col("_count") > 0)
    ents = t.get("entities")
    if ents is not None and _has(ents, "entity_id", "parent_id"):
        parents = ents.select(
            pl.col("entity_id").alias("_lab"), pl.col("parent_id").cast(pl.String).alias("_parent")
        )
        holdings = holdings.join(parents, on="_lab", how="left")
    else:
        holdings = holdings.with_columns(pl.lit(None, dtype=pl.String).alias("_parent"))
    supply = (
        shp.filter(pl.col("record_type").is_in(SUPPLY_RECORD_TYPES))
        .select(
            pl.col("chip_ids").alias("_chip"),
            pl.when(pl.col("buyer_ids").list.len() == 0)
            .then(pl.lit([None], dtype=pl.List(pl.String)))
            .otherwise(pl.col("buyer_ids"))
            .alias("_buyer"),
            pl.col("period_start").alias("_ps"),
            pl.coalesce("units_high", "units", "units_low").fill_null(0).alias("_units"),
        )
        .explode("_chip")
        .explode("_buyer")
    )
    support = (
        holdings.join(supply, on="_chip", how="inner")
        .filter(
            (pl.col("_ps") <= pl.col("_asof"))
            & (
                pl.col("_buyer").is_null()
                | (pl.col("_buyer") == pl.col("_lab"))
                | (pl.col("_buyer") == pl.col("_parent"))
            )
        )
        .group_by("key")
        .agg(pl.col("_units").sum().alias("_supported"))
    )
    rows = (
        holdings.join(support, on="key", how="left")
        .with_columns(pl.col("_supported").fill_null(0))
        .filter(pl.col("_count") > pl.col("_supported"))
    )
    return [
        _out(
            rows, "lab_compute", column="chip_count", check="holdings_exceed_shipments",
            severity="warning", value=pl.col("_count"),
            message=pl.format(
                "{} holds {} {} by {}, but deliveries and sales estimates to it, its parent or "
                "unnamed buyers add up to {}: add the missing shipments or a note saying why",
                pl.col("_lab"), _s(pl.col("_count")), pl.col("_chip"), _s(pl.col("_asof")),
                _s(pl.col("_supported")),
            ),
        )
    ]


def quantity_scope_mismatch(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """``combined`` names at least two entities, ``per_entity`` at least one; a quantity
    shared by two or more buyers says which it is."""
    out = []
    for name, ids in (("approvals", "entity_ids"), ("shipments", "buyer_ids")):
        lf = t.get(name)
        if lf is None or not _has(lf, "quantity_scope", ids) or not _has(lf, ids, dtype=pl.List):
            continue
        n = pl.col(ids).list.len()
        scope = pl.col("quantity_scope")
        s, k = pl.col("_scope"), pl.col("_n")
        bad = ((s == "combined") & (k < 2)) | ((s == "per_entity") & (k < 1))
        rows = lf.select(_key(name, lf), scope.alias("_scope"), n.alias("_n")).filter(
            bad.fill_null(False)
        )
        out.append(
            _out(
                rows, name, column="quantity_scope", check="quantity_scope_mismatch",
                value=pl.col("_scope"),
                message=pl.format(
                    "quantity_scope '{}' but {} names {} entit(ies): 'combined' needs at "
                    "least 2, 'per_entity' at least 1",
                    pl.col("_scope"), pl.lit(ids), _s(pl.col("_n")),
                ),
            )
        )
        if name == "shipments" and _has(lf, "units", "units_low", "units_high"):
            has_q = pl.coalesce("units", "units_low", "units_high").is_not_null()
            rows = lf.select(_key(name, lf), n.alias("_n"), has_q.alias("_q"), scope.alias("_s"))
            rows = rows.filter((pl.col("_n") >= 2) & pl.col("_s").is_null() & pl.col("_q"))
            out.append(
                _out(
                    rows, name, column="quantity_scope", check="quantity_scope_mismatch",
                    severity="warning", value=pl.lit(""),
                    message=pl.format(
                        "units shared by {} buyers without a quantity_scope: say whether they "
                        "are per_entity or combined",
                        _s(pl.col("_n")),
                    ),
                )
            )
    return out


def tpp_mismatch(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """A stated TPP agrees within 0.5% with the TPP derived from the chip's throughputs."""
    chips = t.get("chips")
    cols = ("bf16_dense_tflops", "fp8_dense_tflops", "int8_dense_tops", "fp4_dense_tflops")
    if chips is None or not _numeric(chips, "tpp_stated", *cols):
        return []
    stated = pl.col("tpp_stated").cast(pl.Float64)
    rows = chips.select(_key("chips", chips), stated.alias("_stated"), derived_tpp()).filter(
        (pl.col("_stated") - pl.col("tpp_derived")).abs() > TPP_TOLERANCE * pl.col("_stated")
    )
    return [
        _out(
            rows, "chips", column="tpp_stated", check="tpp_mismatch", value=pl.col("_stated"),
            message=pl.format(
                "stated TPP {} differs by more than 0.5% from {} derived as max(BF16 x 16, "
                "FP8 x 8, INT8 x 8, FP4 x 4): correct the throughputs or the stated TPP",
                _s(pl.col("_stated")), _s(pl.col("tpp_derived").round(1)),
            ),
        )
    ]


def _text_columns(lf: pl.LazyFrame) -> list[tuple[str, bool]]:
    out = []
    for col, dtype in _schema(lf).items():
        if dtype == pl.String:
            out.append((col, False))
        elif isinstance(dtype, pl.List) and dtype.inner == pl.String:
            out.append((col, True))
    return out


def text_safety(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """No text cell carries HTML markup or starts like a spreadsheet formula, and none is
    longer than 2,000 characters."""
    tests = (
        (
            "html_in_text", lambda c: c.str.contains(HTML),
            "text carries HTML markup, which a browser would render or run: remove or rephrase it",
        ),
        (
            "formula_in_text", lambda c: c.str.contains(FORMULA),
            "text starts with =, +, -, @, a tab or a carriage return, which a spreadsheet runs "
            "as a formula: rephrase it",
        ),
        (
            "oversized_field", lambda c: c.str.len_chars() > MAX_FIELD_CHARS,
            f"text is longer than {MAX_FIELD_CHARS} characters: shorten it or move it to notes "
            "elsewhere",
        ),
    )
    out = []
    for name, lf in t.items():
        for col, is_list in _text_columns(lf):
            for check_name, test, message in tests:
                if is_list:
                    cell = pl.col(col)
                    hit = cell.list.eval(test(pl.element())).list.any().fill_null(False)
                    shown = cell.list.eval(pl.element().filter(test(pl.element()))).list.first()
                else:
                    hit = test(pl.col(col)).fill_null(False)
                    shown = pl.col(col)
                rows = lf.filter(hit).select(_key(name, lf), shown.alias("_v"))
                out.append(
                    _out(
                        rows, name, column=col, check=check_name,
                        value=pl.col("_v").str.slice(0, 80), message=pl.lit(message),
                    )
                )
    return out


CHECKS: tuple[Callable[..., list[pl.LazyFrame]], ...] = (
    dangling_references,
    after_release_date,
    before_chip_release,
    delivery_without_approval,
    holdings_exceed_shipments,
    quantity_scope_mismatch,
    tpp_mismatch,
    text_safety,
)


def _first_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


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
    """
    t = _lazy(tables)
    t = {n: t[n] for n in DATASETS if n in t} | {n: f for n, f in t.items() if n not in DATASETS}
    rd = _as_date(release_date)
    plans: list[pl.LazyFrame] = []
    failed: list[tuple[str, str]] = []
    for fn in CHECKS:
        try:
            plans += fn(t, release_date=rd)
        except Exception as exc:  # noqa: BLE001 - report, never crash
            failed.append((fn.__name__, _first_line(exc)))
    frames: list[pl.DataFrame] = []
    # LazyFrames may be larger than memory: run their plans one after another on the
    # streaming engine, so that only one plan's state is held at a time
    lazy_input = any(isinstance(f, pl.LazyFrame) for f in tables.values())
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
        ``formula_in_text`` and ``oversized_field``.
    """
    df = findings_frame(tables, release_date=release_date)
    return sorted(Finding(*row) for row in df.select(FIELDS).iter_rows())
