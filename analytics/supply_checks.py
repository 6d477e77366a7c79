"""Checks of supply against the gates: deliveries that needed a licence, holdings
larger than the shipments that could have supplied them.

>>> import polars as pl
>>> delivery_without_approval({}) == [] and holdings_exceed_shipments({}) == []
True
"""

from __future__ import annotations

import polars as pl

from analytics.checkrows import check_doc, finding_rows, has, key, text
from analytics.compute import classify
from analytics.gates import GateBook
from analytics.rules import is_china_bound, is_granting
from analytics.vocab import SUPPLY_RECORD_TYPES

_GATE_TABLES = {
    "chips": ("chip_id", "vendor_id"),
    "control_rules": ("rule_id", "clause_kind", "effective_date", "superseded_date"),
    "approvals": ("event_id", "date", "jurisdiction", "action", "chip_ids", "entity_ids"),
    "entities": ("entity_id", "country"),
}


def _exports_into_china(shp: pl.LazyFrame) -> pl.LazyFrame:
    """Deliveries of more than zero units into China, one row per chip and buyer (null:
    no buyer named): ``key, _chip, _buyer, _ps, _pe, _dest``."""
    buyers = pl.when(pl.col("buyer_ids").list.len() > 0).then(pl.col("buyer_ids")).otherwise(
        pl.lit([None], dtype=pl.List(pl.String)))
    return (
        shp.filter(
            (pl.col("record_type") == "delivery")
            & (pl.coalesce("units", "units_low", "units_high") > 0)
            & is_china_bound("destination")
        )
        .select(
            key("shipments", shp), pl.col("chip_ids").alias("_chip"), buyers.alias("_buyer"),
            pl.col("period_start").alias("_ps"), pl.col("period_end").alias("_pe"),
            pl.col("destination").alias("_dest"),
        )
        .explode("_chip")
        .explode("_buyer")
        .filter(pl.col("_chip").is_not_null())
    )


def _asked(book: GateBook) -> pl.Expr:
    """The buyer to ask the gates about: ``_buyer`` when the gates can tell it apart
    (:meth:`analytics.gates.GateBook.distinct_buyers`), else no named buyer; a buyer the
    tables do not hold stays, and gets no answer."""
    buyer = pl.col("_buyer")
    return (
        pl.when(buyer.is_in(pl.Series(sorted(book.distinct_buyers()), dtype=pl.String)
                            .implode())).then(buyer)
        .when(buyer.is_in(pl.Series(sorted(book.entities), dtype=pl.String).implode()))
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(buyer)
    )


def _gate_book(t: dict[str, pl.LazyFrame]) -> GateBook | None:
    """The gates of the tables, or ``None`` when a table or column they need is missing."""
    frames = {}
    for name, cols in _GATE_TABLES.items():
        lf = t.get(name)
        if lf is None or not has(lf, *cols):
            return None
        frames[name] = lf.collect()
    if "buyer_ids" not in t["shipments"].collect_schema():
        return None
    if not has(t["approvals"], "date", dtype=pl.Date):
        return None
    frames["entities"] = frames["entities"].with_columns(
        *(pl.lit(None).alias(c) for c in ("name", "parent_id")
          if c not in frames["entities"].columns))
    classes = classify(frames["chips"], frames["control_rules"], entities=frames["entities"])
    return GateBook.of(classification=classes, chips=frames["chips"],
                       approvals=frames["approvals"], entities=frames["entities"])


def _spans(book: GateBook, combos: pl.DataFrame) -> pl.DataFrame:
    """Each (chip, buyer, day) of ``combos`` with the span of its answer: ``_pair`` and
    ``_since``, the last day on or before it that the answer can change (null: before the
    first; :meth:`analytics.gates.GateBook.changes`). Chips and buyers the tables do not
    hold are left out."""
    pairs = combos.select("_chip", "_buyer").unique().with_row_index("_pair")
    known = [(i, c, b) for i, c, b in pairs.iter_rows()
             if c in book.chips and (b is None or b in book.entities)]
    changes = pl.DataFrame(
        [(i, day) for i, c, b in known for day in book.changes(c, b)],
        schema={"_pair": pl.UInt32, "_since": pl.Date}, orient="row").sort("_since")
    days = (
        pl.concat([combos.select("_chip", "_buyer", pl.col(c).alias("_day"))
                   for c in ("_ps", "_pe")])
        .unique()
        .join(pairs, on=["_chip", "_buyer"], nulls_equal=True)
        .filter(pl.col("_pair").is_in(pl.Series([i for i, _, _ in known], dtype=pl.UInt32)
                                      .implode()))
        .sort("_day")
    )
    return days.join_asof(changes, left_on="_day", right_on="_since", by="_pair",
                          strategy="backward", check_sortedness=False)  # sorted above


def _gates_of(book: GateBook, combos: pl.DataFrame) -> pl.DataFrame:
    """The US gate at the start and at the end of each (chip, buyer, period).

    One answer per chip, buyer and span between two days its answer can change
    (:func:`_spans`), however many periods fall in the span. ``_buyer`` is the buyer
    asked about: a buyer no decision or listing tells apart is asked as no named buyer
    (:meth:`analytics.gates.GateBook.distinct_buyers`).
    """
    spans = _spans(book, combos)
    asked = spans.group_by("_pair", "_since").agg(
        pl.col("_chip").first(), pl.col("_buyer").first(), pl.col("_day").min())
    rows = []
    for pair, since, chip, buyer, day in asked.iter_rows():
        a = book.answer(chip, buyer, day)
        rows.append((pair, since, a["us_open"], a["us_gate"], ", ".join(a["event_ids"])))
    answers = spans.join(
        pl.DataFrame(rows, orient="row", schema={
            "_pair": pl.UInt32, "_since": pl.Date, "_open": pl.Boolean, "_gate": pl.String,
            "_why": pl.String}),
        on=["_pair", "_since"], nulls_equal=True,
    ).select("_chip", "_buyer", "_day", "_open", "_gate", "_why")
    on = ["_chip", "_buyer"]
    start = answers.select(*on, pl.col("_day").alias("_ps"), pl.col("_open").alias("_open_s"))
    end = answers.rename({"_day": "_pe"})
    out = (
        combos.join(start, on=[*on, "_ps"], how="left", nulls_equal=True)
        .join(end, on=[*on, "_pe"], how="left", nulls_equal=True)
    )
    return out.select(
        *on, "_ps", "_pe",
        (pl.col("_open_s").not_() & pl.col("_open").not_()).fill_null(False).alias("_needs"),
        "_gate", "_why",
    )


def _first_us_grant(apr: pl.LazyFrame) -> pl.LazyFrame:
    """Per chip, the date of the first granting US approval naming it: ``_chip, _ok``
    (context for the message; the gates decide)."""
    return (
        apr.filter((pl.col("jurisdiction") == "US") & is_granting("action"))
        .select(pl.col("chip_ids").alias("_chip"), pl.col("date").alias("_ok"))
        .explode("_chip")
        .group_by("_chip")
        .agg(pl.col("_ok").min())
    )


@check_doc
def delivery_without_approval(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """A delivery into China of a chip whose US gate needed a licence has one: the gates
    (:class:`analytics.gates.GateBook`) are asked at the start and at the end of the
    delivery period for each named buyer (or for no named buyer), and a delivery is
    reported when the gate is closed at both: a licence needed, none granted and no US
    permit in force (``us_open`` of :meth:`analytics.gates.GateBook.answer`).

    A chip designed outside the United States has no US gate (a Huawei Ascend delivered
    in China is not an export), and licences granted (approvals ``approve``) open the
    gate. The check needs ``chips``, ``control_rules``, ``approvals`` and ``entities``.


    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> shp = pl.LazyFrame({"record_id": ["SHP-001", "SHP-002"],
    ...     "record_type": ["delivery"] * 2, "destination": ["CN", "non_CN"],
    ...     "chip_ids": [["h20"]] * 2, "buyer_ids": [[], []], "units": [1000] * 2,
    ...     "units_low": [None] * 2, "units_high": [None] * 2,
    ...     "period_start": [dt.date(2025, 6, 1)] * 2,
    ...     "period_end": [dt.date(2025, 6, 30)] * 2},
    ...     schema_overrides={"buyer_ids": pl.List(pl.String)})
    >>> apr = pl.LazyFrame({"event_id": ["APR-001"], "jurisdiction": ["US"],
    ...     "action": ["license_required"], "chip_ids": [["h20"]], "entity_ids": [["nv"]],
    ...     "date": [dt.date(2025, 4, 9)], "source_ids": [["s"]]})
    >>> chips = pl.LazyFrame({"chip_id": ["h20"], "vendor_id": ["nv"], "model": ["H20"]})
    >>> ents = pl.LazyFrame({"entity_id": ["nv"], "country": ["US"]})
    >>> rules = pl.LazyFrame({"rule_id": ["r"], "clause_kind": ["classification"],
    ...     "effective_date": [dt.date(2023, 11, 17)], "superseded_date": [None]},
    ...     schema_overrides={"superseded_date": pl.Date})
    >>> out = delivery_without_approval({"shipments": shp, "approvals": apr, "chips": chips,
    ...     "entities": ents, "control_rules": rules})
    >>> pl.concat(out).collect()["key"].to_list()
    ['SHP-001']
    """
    shp = t.get("shipments")
    need = (
        "record_type", "destination", "chip_ids", "units", "units_low", "units_high",
        "period_start", "period_end",
    )
    if shp is None or not has(shp, *need):
        return []
    if not has(shp, "period_start", "period_end", dtype=pl.Date):
        return []
    book = _gate_book(t)
    if book is None:
        return []
    deliveries = _exports_into_china(shp).with_columns(_asked(book).alias("_asked"))
    combos = deliveries.select("_chip", pl.col("_asked").alias("_buyer"), "_ps", "_pe")
    gates = _gates_of(book, combos.unique().collect().sort(pl.all(), nulls_last=True)).lazy()
    rows = (
        deliveries.join(gates.rename({"_buyer": "_asked"}), on=["_chip", "_asked", "_ps", "_pe"],
                        how="inner", nulls_equal=True)
        .filter(pl.col("_needs"))
        .group_by("key", "_chip", "_ps", "_pe", "_dest")
        .agg(pl.col("_gate").first(), pl.col("_why").first(),
             pl.col("_buyer").drop_nulls().sort().str.join(", ").alias("_buyers"))
        .join(_first_us_grant(t["approvals"]), on="_chip", how="left")
    )
    return [
        finding_rows(
            rows, "shipments", column="chip_ids", check="delivery_without_approval",
            value=pl.col("_chip"),
            message=pl.format(
                "delivery {} of {} into {} ({} to {}) while the US gate was {} ({}) and no "
                "US licence granted for it{} is dated on or before {}{}",
                pl.col("key"), pl.col("_chip"), pl.col("_dest"), text(pl.col("_ps")),
                text(pl.col("_pe")), pl.col("_gate"), text(pl.col("_why")),
                pl.when(pl.col("_buyers") == "").then(pl.lit(""))
                .otherwise(pl.format(" to {}", pl.col("_buyers"))),
                text(pl.col("_pe")),
                pl.when(pl.col("_ok").is_null())
                .then(pl.lit(""))
                .otherwise(pl.format(" (first approval {})", text(pl.col("_ok")))),
            ),
        )
    ]


def _unexplained_holdings(lc: pl.LazyFrame, ents: pl.LazyFrame | None) -> pl.LazyFrame:
    """Holdings of a named chip without a note: ``key, _lab, _chip, _asof, _count, _parent``."""
    holdings = lc.filter(
        (pl.col("subject") == "holdings")
        & pl.col("chip_id").is_not_null()
        & (pl.col("notes").is_null() | (pl.col("notes").str.strip_chars() == ""))
    ).select(
        key("lab_compute", lc), pl.col("lab_id").alias("_lab"), pl.col("chip_id").alias("_chip"),
        pl.col("as_of_date").alias("_asof"),
        pl.coalesce("chip_count", "chip_count_low").alias("_count"),
    ).filter(pl.col("_count") > 0)
    if ents is None or not has(ents, "entity_id", "parent_id"):
        return holdings.with_columns(pl.lit(None, dtype=pl.String).alias("_parent"))
    parents = ents.select(
        pl.col("entity_id").alias("_lab"), pl.col("parent_id").cast(pl.String).alias("_parent")
    )
    return holdings.join(parents, on="_lab", how="left")


def _supply(shp: pl.LazyFrame) -> pl.LazyFrame:
    """Deliveries and sales estimates per chip and buyer (null: unnamed), high figure."""
    return (
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


@check_doc
def holdings_exceed_shipments(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """A lab's holdings of a chip do not exceed the deliveries and sales estimates of that
    chip to the lab, its parent or unnamed buyers up to that date, unless a note says why
    (warning).


    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> lc = pl.LazyFrame({"record_id": ["LC-001"], "subject": ["holdings"],
    ...     "lab_id": ["lab"], "chip_id": ["h20"], "chip_count": [5000],
    ...     "chip_count_low": [None], "notes": [None], "as_of_date": [dt.date(2025, 6, 1)]},
    ...     schema_overrides={"notes": pl.String, "chip_count_low": pl.Int64})
    >>> shp = pl.LazyFrame({"record_type": ["delivery"], "chip_ids": [["h20"]],
    ...     "buyer_ids": [["lab"]], "units": [1000], "units_low": [None],
    ...     "units_high": [None], "period_start": [dt.date(2025, 1, 1)]})
    >>> out = holdings_exceed_shipments({"lab_compute": lc, "shipments": shp})
    >>> pl.concat(out).collect()["value"].to_list()
    ['5000']
    """
    lc, shp = t.get("lab_compute"), t.get("shipments")
    if lc is None or shp is None:
        return []
    if not (
        has(lc, "subject", "lab_id", "chip_id", "chip_count", "chip_count_low", "notes")
        and has(lc, "as_of_date", dtype=pl.Date)
        and has(shp, "record_type", "chip_ids", "buyer_ids", "units", "units_low", "units_high")
        and has(shp, "chip_ids", "buyer_ids", dtype=pl.List)
        and has(shp, "period_start", dtype=pl.Date)
    ):
        return []
    holdings = _unexplained_holdings(lc, t.get("entities"))
    supply = _supply(shp)
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
        finding_rows(
            rows, "lab_compute", column="chip_count", check="holdings_exceed_shipments",
            severity="warning", value=pl.col("_count"),
            message=pl.format(
                "{} holds {} {} by {}, but deliveries and sales estimates to it, its parent or "
                "unnamed buyers add up to {}: add the missing shipments or a note saying why",
                pl.col("_lab"), text(pl.col("_count")), pl.col("_chip"), text(pl.col("_asof")),
                text(pl.col("_supported")),
            ),
        )
    ]


