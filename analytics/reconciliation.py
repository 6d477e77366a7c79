"""Approvals against shipments: what each gate allowed, what was ordered and delivered.

Two gates stand between a chip and a Chinese buyer: the US export licence and the
Chinese import approval. :func:`reconcile` puts each approval next to the orders and
deliveries of the same buyers and chips; :func:`timeline` turns approvals into tidy
events for charting. A group quantity (``quantity_scope = combined``) stays one row for
the whole group: it is never split across buyers.

:func:`reconcile` matching, in full:

The buyer group of an approval is its ``entity_ids`` seated in mainland China, Hong
Kong or Macau (the ``entities`` country: :func:`analytics.rules.is_buyer_country`),
minus the vendors (every ``vendor_id`` in ``shipments`` and ``chips`` plus ``vendors``),
kept whole: ``"alibaba;bytedance;tencent"``. A US chip designer an approval names
(NVIDIA, AMD, Intel) is a seller, never a Chinese buyer.

A shipment record of type ``order``, ``purchase_intent`` or ``delivery`` to a
destination that names mainland China (``CN``, ``CN+HK``; never ``non_CN``: see
:func:`analytics.rules.is_china_bound`) matches an approval when its chips are a
non-empty subset of the approval's chips and either its named buyers are a non-empty
subset of the group, or it names no buyer and the approval names none either. An
aggregate delivery of zero units (no buyer named) also matches every group: zero to all
Chinese buyers is zero to each group. Deliveries count only when their period ends on or
after the approval date and their ``method`` is confirmed (``disclosed`` or
``reported``). A shipment quantity ``per_entity`` over several buyers counts once per
buyer. Deliveries add up; orders and purchase intents restate demand, so for each buyer
set only the largest figure of each kind counts before sets are added (every matched
record id is still listed).
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from analytics.bounds import sum_qualifier
from analytics.rules import (
    Frame,
    add_missing_columns,
    as_lazy,
    is_buyer_country,
    is_china_bound,
    like,
    list_to_text,
    period_end,
)
from analytics.vocab import CONFIRMED_METHODS, FORWARD_RECORD_TYPES, GRANTING_ACTIONS

#: Jurisdiction of an approval -> the gate it decides.
GATES = {"US": "us_export_licence", "CN": "cn_import_approval"}

_STR_LIST = pl.List(pl.String)


def _sorted_set(col: str) -> pl.Expr:
    return pl.col(col).fill_null([]).list.drop_nulls().list.unique().list.sort()


def _subset(a: str, b: str) -> pl.Expr:
    """Every item of list column ``a`` is in list column ``b``."""
    return pl.col(a).list.set_difference(pl.col(b)).list.len() == 0


def _sum_or_null(values: pl.Expr) -> pl.Expr:
    return pl.when(values.count() > 0).then(values.sum())


def _ids(col: str, mask: pl.Expr) -> pl.Expr:
    return pl.col(col).filter(mask).explode().drop_nulls().unique().sort()


def reconcile(
    approvals: Frame,
    shipments: Frame,
    *,
    entities: Frame,
    chips: Frame | None = None,
    actions: Iterable[str] = GRANTING_ACTIONS,
    vendors: Iterable[str] = (),
    confirmed_methods: Iterable[str] = CONFIRMED_METHODS,
) -> Frame:
    """One row per approval event: the gate, the quantity, and the matching shipments.

    How buyers, chips and quantities match is set out in the module docstring.

    Parameters
    ----------
    approvals, shipments : DataFrame or LazyFrame
        Rows of the two datasets.
    entities : DataFrame or LazyFrame
        ``entities`` rows of the same release (required: a buyer is an entity seated in
        mainland China, Hong Kong or Macau, and only this table says where one sits).
    chips : DataFrame or LazyFrame, optional
        ``chips`` rows; their ``vendor_id`` values are left out of buyer groups too
        (pass it so that a Chinese chip designer with no shipment record is not taken
        for a buyer).
    actions : iterable of str
        Approval actions kept; default the granting ones (approve, conditional_approval,
        permit).
    vendors : iterable of str
        More entity ids to leave out of buyer groups.
    confirmed_methods : iterable of str
        Delivery ``method`` values that count as confirmed.

    Returns
    -------
    DataFrame or LazyFrame (the kind of ``approvals``)
        Sorted by ``buyer_group``, ``chip_group``, ``date``, ``event_id``. Columns:
        ``event_id, date, date_precision, jurisdiction, gate`` (``us_export_licence``,
        ``cn_import_approval``, else null), ``action, authority_ids, buyer_group,
        buyer_ids, chip_group, chip_ids, approved_quantity, approved_qualifier,
        approved_scope, status_as_reported, approval_source_ids, ordered_units,
        ordered_units_qualifier, order_record_ids, order_source_ids, intent_units,
        intent_units_qualifier, intent_record_ids, intent_source_ids, confirmed_delivered,
        confirmed_delivered_qualifier, delivered_through, delivery_record_ids,
        delivery_source_ids, headroom, headroom_qualifier``. ``headroom`` =
        ``approved_quantity - confirmed_delivered`` when both are known and comparable
        (a combined quantity, or a group of one buyer) and the deliveries are exact; its
        qualifier is the approval's. Each summed quantity has its qualifier
        (``ordered_units_qualifier`` ...: :func:`analytics.bounds.sum_qualifier` of the
        records counted), so that a bound stays a bound.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> apr = pl.DataFrame({"event_id": ["APR-001"], "date": [dt.date(2026, 1, 28)],
    ...     "jurisdiction": ["CN"], "action": ["conditional_approval"],
    ...     "chip_ids": [["h200"]], "entity_ids": [["bytedance", "alibaba"]],
    ...     "quantity_units": [400000], "quantity_qualifier": ["at_least"],
    ...     "quantity_scope": ["combined"], "source_ids": [["a-src"]]})
    >>> shp = pl.DataFrame({"record_id": ["SHP-001"], "record_type": ["delivery"],
    ...     "period_end": [dt.date(2026, 2, 24)], "chip_ids": [["h200"]],
    ...     "vendor_id": ["nvidia"], "buyer_ids": [[]], "destination": ["CN"],
    ...     "units": [0], "method": ["reported"], "source_ids": [["s-src"]]},
    ...     schema_overrides={"buyer_ids": pl.List(pl.String)})
    >>> ent = pl.DataFrame({"entity_id": ["bytedance", "alibaba", "nvidia"],
    ...                     "country": ["CN", "CN", "US"]})
    >>> reconcile(apr, shp, entities=ent).select("buyer_group", "gate",
    ...     "confirmed_delivered", "headroom").row(0)
    ('alibaba;bytedance', 'cn_import_approval', 0, 400000)
    """
    a, lazy = as_lazy(approvals)
    s, _ = as_lazy(shipments)
    a = add_missing_columns(a, _APPROVAL_COLUMNS)
    s = add_missing_columns(s, _SHIPMENT_COLUMNS)
    sellers = _sellers(s, vendors, chips, entities)
    apr = _approval_groups(a, actions, sellers)
    matched = _matches(apr, _china_shipments(s), confirmed_methods)
    out = _with_headroom(apr.join(_sides(matched), on="event_id", how="left"))
    return like(out, lazy)


_APPROVAL_COLUMNS = {
    "date_precision": pl.String,
    "authority_ids": _STR_LIST,
    "entity_ids": _STR_LIST,
    "chip_ids": _STR_LIST,
    "quantity_units": pl.Int64,
    "quantity_qualifier": pl.String,
    "quantity_scope": pl.String,
    "status_as_reported": pl.String,
    "source_ids": _STR_LIST,
}
_SHIPMENT_COLUMNS = {
    "buyer_ids": _STR_LIST,
    "chip_ids": _STR_LIST,
    "quantity_scope": pl.String,
    "units": pl.Int64,
    "units_high": pl.Int64,
    "units_qualifier": pl.String,
    "method": pl.String,
    "source_ids": _STR_LIST,
    "vendor_id": pl.String,
    "destination": pl.String,
}
#: Columns of :func:`reconcile`, in order.
RECONCILE_COLUMNS = (
    "event_id", "date", "date_precision", "jurisdiction", "gate", "action", "authority_ids",
    "buyer_group", "buyer_ids", "chip_group", "chip_ids", "approved_quantity",
    "approved_qualifier", "approved_scope", "status_as_reported", "approval_source_ids",
    "ordered_units", "ordered_units_qualifier", "order_record_ids", "order_source_ids",
    "intent_units", "intent_units_qualifier", "intent_record_ids", "intent_source_ids",
    "confirmed_delivered", "confirmed_delivered_qualifier", "delivered_through",
    "delivery_record_ids", "delivery_source_ids", "headroom", "headroom_qualifier",
)
_MATCHED_TYPES = ("order", "purchase_intent", "delivery")


def _sellers(
    s: pl.LazyFrame, vendors: Iterable[str], chips: Frame | None, entities: Frame
) -> pl.LazyFrame:
    """One row, column ``__vendors``: every entity id that is not a Chinese buyer.

    Vendors (of shipments, chips and ``vendors``) and every entity seated outside
    mainland China, Hong Kong and Macau, or whose seat the table does not give.
    """
    if entities is None:
        raise TypeError(
            "reconcile needs the entities table of the same release (entities=...): "
            "only it says which entities an approval names are Chinese buyers"
        )
    parts = [
        s.select(pl.col("vendor_id").cast(pl.String)),
        pl.LazyFrame({"vendor_id": list(vendors)}, schema={"vendor_id": pl.String}),
        as_lazy(entities)[0]
        .filter(~is_buyer_country("country").fill_null(False))
        .select(pl.col("entity_id").cast(pl.String).alias("vendor_id")),
    ]
    if chips is not None:
        parts.append(as_lazy(chips)[0].select(pl.col("vendor_id").cast(pl.String)))
    return (
        pl.concat(parts)
        .drop_nulls()
        .unique()
        .select(pl.col("vendor_id").sort().implode().alias("__vendors"))
    )


def _approval_groups(
    a: pl.LazyFrame, actions: Iterable[str], sellers: pl.LazyFrame
) -> pl.LazyFrame:
    """The kept approvals with their buyer set, chip set, group names and gate."""
    return (
        a.filter(pl.col("action").is_in(list(actions)))
        .join(sellers, how="cross")
        .with_columns(
            _sorted_set("entity_ids")
            .list.set_difference(pl.col("__vendors"))
            .list.sort()
            .alias("buyer_ids"),
            _sorted_set("chip_ids").alias("chip_ids"),
        )
        .with_columns(
            list_to_text("buyer_ids", empty=None).alias("buyer_group"),
            list_to_text("chip_ids", empty=None).alias("chip_group"),
            pl.col("jurisdiction")
            .replace_strict(GATES, default=None, return_dtype=pl.String)
            .alias("gate"),
        )
        .drop("__vendors")
    )


def _china_shipments(s: pl.LazyFrame) -> pl.LazyFrame:
    """Orders, purchase intents and deliveries into China, with their counted quantity."""
    n_buyers = pl.col("s_buyers").list.len()
    per_entity = (pl.col("quantity_scope") == "per_entity") & (n_buyers > 1)
    return (
        s.filter(pl.col("record_type").is_in(_MATCHED_TYPES) & is_china_bound("destination"))
        .select(
            "record_id",
            "record_type",
            "period_end",
            "method",
            pl.col("source_ids").alias("s_sources"),
            _sorted_set("buyer_ids").alias("s_buyers"),
            _sorted_set("chip_ids").alias("s_chips"),
            pl.col("units").cast(pl.Int64).alias("s_units"),
            pl.col("units_high").cast(pl.Int64).alias("s_units_high"),
            pl.col("units_qualifier").alias("s_qualifier"),
            pl.col("quantity_scope"),
        )
        .with_columns(
            (pl.col("s_units") * pl.when(per_entity).then(n_buyers).otherwise(1)).alias("qty")
        )
    )


def _matches(
    apr: pl.LazyFrame, shp: pl.LazyFrame, confirmed_methods: Iterable[str]
) -> pl.LazyFrame:
    """Every (approval, shipment) pair that matches; restated demand keeps its largest."""
    n_buyers, a_n = pl.col("s_buyers").list.len(), pl.col("buyer_ids").list.len()
    zero_aggregate = (
        (pl.col("record_type") == "delivery")
        & (n_buyers == 0)
        & (pl.col("s_units") == 0)
        & (pl.col("s_units_high").is_null() | (pl.col("s_units_high") == 0))
    )
    buyers_match = (
        ((n_buyers > 0) & (a_n > 0) & _subset("s_buyers", "buyer_ids"))
        | ((n_buyers == 0) & (a_n == 0))
        | zero_aggregate
    )
    chips_match = (pl.col("s_chips").list.len() > 0) & _subset("s_chips", "chip_ids")
    delivery_ok = (pl.col("record_type") != "delivery") | (
        (pl.col("period_end") >= pl.col("date")) & pl.col("method").is_in(list(confirmed_methods))
    )
    demand = pl.col("record_type").is_in(FORWARD_RECORD_TYPES)
    restated = demand & (
        pl.col("qty") < pl.col("qty").max().over("event_id", "record_type", "s_buyers")
    )
    return (
        apr.select("event_id", "date", "buyer_ids", "chip_ids")
        .join(shp, how="cross")
        .filter(chips_match & buyers_match & delivery_ok)
        .with_columns(
            pl.when(restated)
            .then(pl.lit(None, dtype=pl.Int64))
            .otherwise(pl.col("qty"))
            .alias("qty")
        )
    )


def _sides(matched: pl.LazyFrame) -> pl.LazyFrame:
    """Per approval: ordered, intended and delivered quantities with their records."""
    kinds = {"order": "order", "intent": "purchase_intent", "delivery": "delivery"}
    units = {"order": "ordered_units", "intent": "intent_units", "delivery": "confirmed_delivered"}
    aggs = []
    for name, record_type in kinds.items():
        mask = pl.col("record_type") == record_type
        counted = mask & pl.col("qty").is_not_null()
        aggs += [
            _sum_or_null(pl.col("qty").filter(mask)).alias(units[name]),
            pl.when(counted.any()).then(sum_qualifier(pl.col("s_qualifier").filter(counted)))
            .alias(f"{units[name]}_qualifier"),
            pl.col("record_id").filter(mask).sort().alias(f"{name}_record_ids"),
            _ids("s_sources", mask).alias(f"{name}_source_ids"),
        ]
    delivered = (pl.col("record_type") == "delivery") & pl.col("qty").is_not_null()
    aggs.append(pl.col("period_end").filter(delivered).max().alias("delivered_through"))
    return matched.group_by("event_id").agg(aggs)


def _with_headroom(joined: pl.LazyFrame) -> pl.LazyFrame:
    """Rename the approval's quantity columns, fill empty id lists, add the headroom."""
    comparable = (
        ((pl.col("approved_scope") == "combined") | (pl.col("buyer_ids").list.len() == 1))
        & (pl.col("confirmed_delivered_qualifier").fill_null("exact") == "exact")
    )
    headroom = pl.when(comparable).then(pl.col("approved_quantity") - pl.col("confirmed_delivered"))
    empty = pl.lit([], dtype=_STR_LIST)
    kinds, ids = ("order", "intent", "delivery"), ("record", "source")
    id_lists = [f"{k}_{x}_ids" for k in kinds for x in ids]
    return (
        joined.rename(
            {
                "quantity_units": "approved_quantity",
                "quantity_qualifier": "approved_qualifier",
                "quantity_scope": "approved_scope",
                "source_ids": "approval_source_ids",
            }
        )
        .with_columns(pl.col(c).fill_null(empty) for c in id_lists)
        .with_columns(headroom.alias("headroom"))
        .with_columns(
            pl.when(pl.col("headroom").is_not_null())
            .then(pl.col("approved_qualifier"))
            .alias("headroom_qualifier")
        )
        .select(RECONCILE_COLUMNS)
        .sort("buyer_group", "chip_group", "date", "event_id", nulls_last=True)
    )


def timeline(approvals: Frame) -> Frame:
    """Approvals as tidy events for charting, with their date precision as an interval.

    ``date_end`` is the last day of the precision period (the date itself for ``day``,
    the month's, quarter's or year's last day otherwise). List columns become
    ``;``-joined strings so that charts and tooltips show them as text.

    Parameters
    ----------
    approvals : DataFrame or LazyFrame
        ``approvals`` rows.

    Returns
    -------
    DataFrame or LazyFrame (the kind of ``approvals``)
        ``event_id, date, date_precision, date_end, jurisdiction, action, label, chips,
        entities, subjects, quantity_units, quantity_qualifier, quantity_scope,
        status_as_reported, summary, source_ids``, sorted by ``date``, ``jurisdiction``,
        ``event_id``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> apr = pl.DataFrame({"event_id": ["APR-051"], "date": [dt.date(2026, 2, 1)],
    ...     "date_precision": ["month"], "jurisdiction": ["US"], "action": ["approve"],
    ...     "chip_ids": [["h200"]], "source_ids": [["src-a", "src-b"]]})
    >>> timeline(apr).select("date_end", "label", "source_ids").row(0)
    (datetime.date(2026, 2, 28), 'approve: h200', 'src-a;src-b')
    """
    a, lazy = as_lazy(approvals)
    a = add_missing_columns(a, _TIMELINE_INPUT)
    what = pl.when(pl.col("chips") != "").then(pl.col("chips")).otherwise(pl.col("subjects"))
    out = (
        a.with_columns(
            period_end("date", "date_precision").alias("date_end"),
            list_to_text("chip_ids", sort=True).alias("chips"),
            list_to_text("entity_ids", sort=True).alias("entities"),
            list_to_text("subject_other", sort=True).alias("subjects"),
            list_to_text("source_ids", sort=True).alias("source_ids"),
        )
        .with_columns(
            pl.concat_str(pl.col("action"), pl.lit(": "), what.str.replace_all(";", ", ")).alias(
                "label"
            )
        )
        .select(TIMELINE_COLUMNS)
        .sort("date", "jurisdiction", "event_id", nulls_last=True)
    )
    return like(out, lazy)


_TIMELINE_INPUT = {
    **{c: _STR_LIST for c in ("chip_ids", "entity_ids", "subject_other", "source_ids")},
    **{c: _APPROVAL_COLUMNS[c] for c in ("date_precision", "quantity_units")},
    **{c: pl.String for c in ("quantity_qualifier", "quantity_scope", "status_as_reported")},
    "summary": pl.String,
}
#: Columns of :func:`timeline`, in order.
TIMELINE_COLUMNS = (
    "event_id", "date", "date_precision", "date_end", "jurisdiction", "action", "label",
    "chips", "entities", "subjects", "quantity_units", "quantity_qualifier", "quantity_scope",
    "status_as_reported", "summary", "source_ids",
)
