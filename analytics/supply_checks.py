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
from analytics.rules import CHINA, is_china_bound, is_granting
from analytics.vocab import SUPPLY_RECORD_TYPES

#: Classes that mean "not in any controlled class".
UNCLASSED = ("none", "unknown")


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
    if apr is not None and has(apr, "action", "chip_ids", "event_id") and has(
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
    need = ("rule_id", "clause_kind", "effective_date", "superseded_date")
    if not has(chips, "chip_id") or not has(rules, *need):
        return None
    return (
        classify(chips, rules)
        .filter(pl.col("eccn_class").is_not_null() & ~pl.col("eccn_class").is_in(UNCLASSED))
        .select(
            pl.col("chip_id").alias("_chip"),
            pl.col("effective_date").cast(pl.Date).alias("_from"),
            pl.col("superseded_date").cast(pl.Date).alias("_until"),
            pl.format("{} ({})", pl.col("rule_id"), pl.col("eccn_class")).alias("_rule"),
        )
        .filter(pl.col("_from").is_not_null())
    )


def _exports_into_china(
    shp: pl.LazyFrame, chips: pl.LazyFrame | None, ents: pl.LazyFrame | None
) -> pl.LazyFrame:
    """Deliveries of more than zero units into China, one row per chip: ``key, _chip,
    _ps, _pe, _dest``. A chip designed in China (its vendor is seated there) is not an
    export into China and is left out when ``chips`` and ``entities`` are given."""
    deliveries = (
        shp.filter(
            (pl.col("record_type") == "delivery")
            & (pl.coalesce("units", "units_low", "units_high") > 0)
            & is_china_bound("destination")
        )
        .select(
            key("shipments", shp), pl.col("chip_ids").alias("_chip"),
            pl.col("period_start").alias("_ps"), pl.col("period_end").alias("_pe"),
            pl.col("destination").alias("_dest"),
        )
        .explode("_chip")
        .filter(pl.col("_chip").is_not_null())
    )
    if chips is None or ents is None or not (
        has(chips, "chip_id", "vendor_id") and has(ents, "entity_id", "country")
    ):
        return deliveries
    domestic = (
        chips.select(pl.col("chip_id").alias("_chip"), pl.col("vendor_id").alias("_vendor"))
        .join(
            ents.select(pl.col("entity_id").alias("_vendor"), pl.col("country").alias("_cc")),
            on="_vendor", how="inner",
        )
        .filter(pl.col("_cc") == CHINA)
        .select("_chip")
    )
    return deliveries.join(domestic, on="_chip", how="anti")


def _first_us_grant(apr: pl.LazyFrame | None) -> pl.LazyFrame:
    """Per chip, the date of the first granting US approval naming it: ``_chip, _ok``."""
    if apr is None or not (
        has(apr, "jurisdiction", "action", "chip_ids") and has(apr, "date", dtype=pl.Date)
    ):
        return pl.LazyFrame(schema={"_chip": pl.String, "_ok": pl.Date})
    return (
        apr.filter((pl.col("jurisdiction") == "US") & is_granting("action"))
        .select(pl.col("chip_ids").alias("_chip"), pl.col("date").alias("_ok"))
        .explode("_chip")
        .group_by("_chip")
        .agg(pl.col("_ok").min())
    )


@check_doc
def delivery_without_approval(t: dict[str, pl.LazyFrame], **_: object) -> list[pl.LazyFrame]:
    """A delivery into China of a chip that needed a licence has a US approval naming it,
    dated on or before the end of the delivery period.

    Chips whose vendor is a Chinese entity are not exports into China and are skipped.


    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> shp = pl.LazyFrame({"record_id": ["SHP-001", "SHP-002"],
    ...     "record_type": ["delivery"] * 2, "destination": ["CN", "non_CN"],
    ...     "chip_ids": [["h20"]] * 2, "units": [1000] * 2, "units_low": [None] * 2,
    ...     "units_high": [None] * 2, "period_start": [dt.date(2025, 6, 1)] * 2,
    ...     "period_end": [dt.date(2025, 6, 30)] * 2})
    >>> apr = pl.LazyFrame({"event_id": ["APR-001"], "jurisdiction": ["US"],
    ...     "action": ["license_required"], "chip_ids": [["h20"]],
    ...     "date": [dt.date(2025, 4, 9)]})
    >>> out = delivery_without_approval({"shipments": shp, "approvals": apr})
    >>> pl.concat(out).collect()["key"].to_list()
    ['SHP-001']
    """
    shp, apr = t.get("shipments"), t.get("approvals")
    need = (
        "record_type", "destination", "chip_ids", "units", "units_low", "units_high",
        "period_start", "period_end",
    )
    if shp is None or not has(shp, *need):
        return []
    if not has(shp, "period_start", "period_end", dtype=pl.Date):
        return []
    required = _licence_required(t)
    if required is None:
        return []
    deliveries = _exports_into_china(shp, t.get("chips"), t.get("entities"))
    needing = (
        deliveries.join(required, on="_chip", how="inner")
        .filter(
            (pl.col("_from") <= pl.col("_ps"))
            & (pl.col("_until").is_null() | (pl.col("_ps") < pl.col("_until")))
        )
        .group_by("key", "_chip", "_ps", "_pe", "_dest")
        .agg(pl.col("_rule").min())
    )
    granted = _first_us_grant(apr)
    rows = needing.join(granted, on="_chip", how="left").filter(
        pl.col("_ok").is_null() | (pl.col("_ok") > pl.col("_pe"))
    )
    return [
        finding_rows(
            rows, "shipments", column="chip_ids", check="delivery_without_approval",
            value=pl.col("_chip"),
            message=pl.format(
                "delivery {} of {} into {} ({} to {}) while {} required a US licence, "
                "but no US approval naming {} is dated on or before {}{}",
                pl.col("key"), pl.col("_chip"), pl.col("_dest"), text(pl.col("_ps")),
                text(pl.col("_pe")), pl.col("_rule"), pl.col("_chip"), text(pl.col("_pe")),
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


