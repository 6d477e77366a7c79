"""Charts of decisions: the policy timeline and approvals against deliveries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl

from analytics import charts_base as cb
from analytics.compute import Frame
from analytics.formatting import quantity_text
from analytics.vocab import APPROVAL_ACTIONS

_STEP = 28  # px per timeline lane: a label fits above or below a mark
_WIDTH = 520
_STATUS_RANK = {"official": 0, "confirmed": 1, "reported": 2}
_UNNAMED = "(no named buyer)"


# --------------------------------------------------------------------------- policy timeline
def _lanes(df: pl.DataFrame) -> list[str]:
    """Lanes that hold an event: jurisdictions by event count, actions in vocabulary order."""
    counts = df.group_by("jurisdiction").len()
    order = {a: i for i, a in enumerate(APPROVAL_ACTIONS)}
    lanes = (
        df.select("jurisdiction", "action", "lane")
        .unique()
        .join(counts, on="jurisdiction")
        .with_columns(pl.col("action").replace_strict(order, default=99).alias("rank"))
        .sort(["len", "jurisdiction", "rank", "action"], descending=[True, False, False, False])
    )
    return lanes.get_column("lane").to_list()


def _event_label(row: dict[str, Any]) -> str:
    """What an event's direct label says: its chips and quantity, or its subject."""
    chips = cb.chip_names(row.get("chips"))
    qty = quantity_text(
        row.get("quantity_units"), row.get("quantity_qualifier"), row.get("quantity_scope")
    )
    if chips:
        return f"{chips} {qty}".strip()
    subject = (row.get("label") or "").partition(": ")[2]
    return subject if len(subject) <= 24 else subject[:23].rstrip() + "…"


def _label_priority(row: dict[str, Any]) -> tuple:
    """Quantities first, then decisions naming chips, then official rules; by certainty."""
    return (
        row.get("quantity_units") is None,
        not row.get("chips"),
        _STATUS_RANK.get(row.get("status_as_reported") or "", 3),
        row["date"],
    )


def _clusters(rows: list[dict[str, Any]], px: Any) -> list[list[dict[str, Any]]]:
    """Events of one lane closer than 10 px, chained: they share one label."""
    out: list[list[dict[str, Any]]] = []
    for r in sorted(rows, key=lambda r: (r["lane"], r["date"])):
        last = out[-1][-1] if out else None
        if last and last["lane"] == r["lane"] and px(r["date"]) - px(last["date_end"]) < 10:
            out[-1].append(r)
        else:
            out.append([r])
    return out


def _cluster_text(texts: list[str]) -> str:
    """Distinct texts, each left out where another one begins with it."""
    unique = list(dict.fromkeys(t for t in texts if t))
    return "; ".join(t for t in unique if not any(o != t and o.startswith(t) for o in unique))


def _timeline_labels(
    df: pl.DataFrame, lanes: list[str], domain: tuple[dt.date, dt.date], labels: Any
) -> pl.DataFrame:
    """Direct labels placed in their events' lane where they touch nothing else."""
    span = (domain[1] - domain[0]).days

    def px(d: dt.date) -> float:
        return (d - domain[0]).days / span * _WIDTH

    rows = df.with_columns(pl.col("lane").replace_strict(lanes, range(len(lanes)))).to_dicts()
    marks = [
        cb.Box(
            px(r["date"]) - 4,
            (r["lane"] + 0.5) * _STEP - 4,
            px(r["date_end"]) + 4,
            (r["lane"] + 0.5) * _STEP + 4,
        )
        for r in rows
    ]
    if labels == "auto":
        wanted = [r for r in rows if r.get("chips") or r.get("status_as_reported") == "official"]
    else:
        wanted = [r for r in rows if r["event_id"] in set(labels or ())]
    groups = sorted(_clusters(wanted, px), key=lambda g: min(map(_label_priority, g)))
    texts = [_cluster_text([_event_label(r) for r in g]) for g in groups]
    spots = cb.place_labels(
        [
            (px(g[0]["date"]), px(g[-1]["date_end"]), (g[0]["lane"] + 0.5) * _STEP, t)
            for g, t in zip(groups, texts, strict=True)
        ],
        width=_WIDTH,
        height=len(lanes) * _STEP,
        blocked=marks,
        places=("right", "left", "above", "below", "above_left", "below_left"),
    )
    kept = [
        {
            "lane": lanes[g[0]["lane"]],
            "text": t,
            "place": s[3],
            "date": {
                "right": g[-1]["date_end"],
                "left": g[0]["date"],
                "above_left": g[-1]["date_end"],
                "below_left": g[-1]["date_end"],
            }.get(s[3], g[0]["date"] + (g[-1]["date_end"] - g[0]["date"]) / 2),
            "event_id": ", ".join(r["event_id"] for r in g),
        }
        for g, t, s in zip(groups, texts, spots, strict=True)
        if s is not None
    ]
    schema = {
        "lane": pl.String,
        "text": pl.String,
        "place": pl.String,
        "date": pl.Date,
        "event_id": pl.String,
    }
    return pl.DataFrame(kept, schema=schema)


def _time_axis(domain: tuple[dt.date, dt.date]) -> Any:
    """Ticks a reader can take in: years over long spans, months (spaced) over short."""
    alt = cb.alt()
    months = (domain[1].year - domain[0].year) * 12 + domain[1].month - domain[0].month
    if months > 24:
        ticks = [dt.date(y, 1, 1) for y in range(domain[0].year + 1, domain[1].year + 1)]
        fmt = "%Y"
    else:
        every = max(1, -(-70 * months // _WIDTH))
        ticks = [
            dt.date(domain[0].year + (domain[0].month + i) // 12, (domain[0].month + i) % 12 + 1, 1)
            for i in range(0, months, every)
        ]
        fmt = "%b %Y"
    return alt.Axis(
        values=[alt.DateTime(year=d.year, month=d.month, date=1) for d in ticks], format=fmt
    )


def _timeline_tooltip(df: pl.DataFrame) -> list[Any]:
    optional = (
        ("date_precision", "Precision"),
        ("jurisdiction", "Jurisdiction"),
        ("action", "Action"),
        ("label", "Subject"),
        ("entities", "Entities"),
        ("status_as_reported", "Status"),
        ("summary", "Summary"),
    )
    return [
        *cb.tooltip(
            ("event_id:N", "Event"),
            ("date:T", "Date", "%Y-%m-%d"),
            ("date_end:T", "Period end", "%Y-%m-%d"),
            *[(f"{c}:N", t) for c, t in optional if c in df.columns],
            ("source_ids:N", "Sources"),
        ),
    ]


def _timeline_frame(events: Frame) -> pl.DataFrame:
    """Events with every column the chart reads, and their lane."""
    df = cb.text_lists(cb.frame(events))
    need = ["event_id", "date", "date_end", "jurisdiction", "action", "source_ids"]
    cb.need(df, need, "policy_timeline")
    df = cb.with_missing(
        df,
        {
            "chips": pl.String,
            "label": pl.String,
            "status_as_reported": pl.String,
            "quantity_units": pl.Int64,
            "quantity_qualifier": pl.String,
            "quantity_scope": pl.String,
        },
    )
    lane = pl.concat_str("jurisdiction", pl.lit(" · "), pl.col("action").str.replace_all("_", " "))
    return df.with_columns(lane.alias("lane")).sort("date", "jurisdiction", "event_id")


def _time_domain(df: pl.DataFrame) -> tuple[dt.date, dt.date]:
    """First to last date, with a margin of a fortieth of the span (at least 15 days)."""
    first, last = df.get_column("date").min(), df.get_column("date_end").max()
    if first is None:
        return dt.date(2000, 1, 1), dt.date(2000, 2, 1)
    pad = dt.timedelta(days=max(15, (last - first).days // 40))
    return first - pad, last + pad


def policy_timeline(
    events: Frame,
    *,
    title: str = "Policy decisions on AI chips for China",
    labels: str | Sequence[str] | None = "auto",
) -> Any:
    """Decisions over time, one lane per jurisdiction and action, with direct labels.

    Parameters
    ----------
    events : polars.DataFrame or polars.LazyFrame
        :func:`analytics.reconciliation.timeline` output: ``event_id``, ``date``,
        ``date_end``, ``jurisdiction``, ``action`` and ``source_ids`` at least. A bar
        runs from ``date`` to ``date_end`` (a month-precision date spans the month); a
        dot marks ``date``.
    title : str
        Chart title.
    labels : "auto", sequence of str or None
        Which events carry a direct label: ``"auto"`` labels the decisions that set a
        quantity or name chips, then official rules, as far as labels fit without
        touching; a sequence names the ``event_id`` values to label; ``None`` labels
        none. Every event keeps its tooltip.

    Returns
    -------
    altair.LayerChart
        Lanes only for the jurisdiction-action pairs that occur; colours from
        :data:`analytics.palette.ACTION`.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> ev = pl.DataFrame({"event_id": ["APR-001"], "date": [dt.date(2026, 2, 1)],
    ...     "date_end": [dt.date(2026, 2, 28)], "date_precision": ["month"],
    ...     "jurisdiction": ["US"], "action": ["approve"], "label": ["approve: h200"],
    ...     "chips": ["nvidia_h200_sxm_141gb"], "source_ids": ["src-a"]})
    >>> chart = policy_timeline(ev)
    >>> type(chart).__name__, chart.layer[2].data["text"].to_list()
    ('LayerChart', ['H200'])
    """
    alt = cb.alt()
    df = _timeline_frame(events)
    lanes = _lanes(df)
    domain = _time_domain(df)
    x_scale = alt.Scale(domain=[d.isoformat() for d in domain], nice=False)
    y = alt.Y(
        "lane:N",
        sort=lanes,
        title=None,
        scale=alt.Scale(domain=lanes),
        axis=alt.Axis(labelLimit=200),
    )
    base = alt.Chart(df).encode(
        x=alt.X("date:T", title="Decision date", scale=x_scale, axis=_time_axis(domain)),
        y=y,
        color=cb.colour("action:N", "action", df.get_column("action"), legend=None),
        tooltip=_timeline_tooltip(df),
    )
    bars = base.mark_bar(height=6, opacity=0.6).encode(x2=alt.X2("date_end:T"))
    dots = base.mark_point(filled=True, size=40, opacity=1)
    text = cb.label_layers(
        _timeline_labels(df, lanes, domain, labels),
        alt.X("date:T", scale=x_scale),
        y,
        color="#222",
    )
    chart = alt.layer(bars, dots, *text).properties(
        title=alt.Title(
            title,
            subtitle="One lane per jurisdiction and action; a bar spans a "
            "date known only to the month or quarter",
        ),
        width=_WIDTH,
        height=alt.Step(_STEP),
    )
    return cb.offer_data(chart, df, drop=("lane", "label"))


# ---------------------------------------------------------------- approvals vs deliveries
_MEASURES = {
    "approved_quantity": ("approved", "approval_source_ids"),
    "ordered_units": ("ordered", "order_source_ids"),
    "intent_units": ("purchase intent", "intent_source_ids"),
    "confirmed_delivered": ("confirmed delivered", "delivery_source_ids"),
}


def _tidy_quantities(df: pl.DataFrame) -> pl.DataFrame:
    """One row per approval and quantity, with the label text a reader needs."""
    parts = []
    for order, (col, (label, src)) in enumerate(_MEASURES.items()):
        if col not in df.columns:
            continue
        sources = pl.col(src) if src in df.columns else pl.lit([], dtype=pl.List(pl.String))
        qual_col = "approved_qualifier" if col == "approved_quantity" else f"{col}_qualifier"
        qualifier = pl.col(qual_col) if qual_col in df.columns else pl.lit(None)
        scope = pl.col("approved_scope") if col == "approved_quantity" else pl.lit(None)
        as_of = pl.col("delivered_through") if col == "confirmed_delivered" else pl.lit(None)
        parts.append(
            df.select(
                "event_id",
                "gate",
                "buyer_group",
                "chip_group",
                "approved_qualifier",
                pl.lit(label).alias("measure"),
                pl.lit(order).alias("measure_order"),
                pl.col(col).cast(pl.Float64).alias("units"),
                qualifier.cast(pl.String).alias("qualifier"),
                scope.cast(pl.String).alias("scope"),
                as_of.cast(pl.Date).alias("as_of"),
                sources.fill_null([]).list.join(";").alias("source_ids"),
            )
        )
    tidy = pl.concat(parts).filter(pl.col("units").is_not_null())
    text = [
        quantity_text(u, q, s) + (f" delivered as of {a:%Y-%m-%d}" if a else "")
        for u, q, s, a in tidy.select("units", "qualifier", "scope", "as_of").iter_rows()
    ]
    gate = (
        pl.col("gate")
        .fill_null("other gate")
        .str.replace_all("_", " ")
        .str.replace(r"^us ", "US ")
        .str.replace(r"^cn ", "CN ")
    )
    return tidy.with_columns(
        pl.Series("text", text, dtype=pl.String),
        pl.concat_str(
            pl.col("event_id"),
            pl.lit(" · "),
            gate,
            pl.lit("|"),
            pl.col("buyer_group").fill_null(_UNNAMED).str.replace_all(";", ", "),
        ).alias("row"),
    ).sort("row", "measure_order")


def approvals_vs_deliveries(
    reconciled: Frame, *, title: str = "Approved, ordered and delivered chips by buyer group"
) -> Any:
    """Per approval (event, gate, buyer group): approved, ordered, intended and delivered units.

    Parameters
    ----------
    reconciled : polars.DataFrame or polars.LazyFrame
        :func:`analytics.reconciliation.reconcile` output: ``event_id``, ``buyer_group``
        and ``approved_quantity`` at least; ``approved_qualifier``, ``approved_scope``,
        ``delivered_through`` and the ``*_source_ids`` columns where present.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Bars with a direct label that keeps the quantity's qualifier and scope
        (``≥ 400,000``, ``≤ 75,000 per company``) and the deliveries' as-of date; colours
        from :data:`analytics.palette.QUANTITY`. A zero shows as a labelled zero.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> rec = pl.DataFrame({"event_id": ["APR-048"], "gate": ["cn_import_approval"],
    ...     "buyer_group": ["alibaba;bytedance;tencent"], "chip_group": ["h200"],
    ...     "approved_quantity": [400000], "approved_qualifier": ["at_least"],
    ...     "approved_scope": ["combined"], "confirmed_delivered": [0],
    ...     "delivered_through": [dt.date(2026, 2, 24)], "approval_source_ids": [["a"]],
    ...     "delivery_source_ids": [["b"]]})
    >>> approvals_vs_deliveries(rec).data["text"].to_list()
    ['≥ 400,000 combined', '0 delivered as of 2026-02-24']
    """
    alt = cb.alt()
    df = cb.frame(reconciled)
    cb.need(df, ["event_id", "buyer_group", "approved_quantity"], "approvals_vs_deliveries")
    optional = ("gate", "chip_group", "approved_qualifier", "approved_scope")
    df = cb.with_missing(df, {**dict.fromkeys(optional, pl.String), "delivered_through": pl.Date})
    tidy = _tidy_quantities(df)
    measures = [m for m, _ in _MEASURES.values() if m in set(tidy.get_column("measure"))]
    top = tidy.get_column("units").max() or 1.0
    base = alt.Chart(tidy).encode(
        y=alt.Y(
            "row:N",
            title=None,
            sort="ascending",
            axis=alt.Axis(labelLimit=300, labelExpr="split(datum.label, '|')"),
        ),
        yOffset=alt.YOffset("measure:N", sort=measures, scale=alt.Scale(domain=measures)),
        x=alt.X(
            "units:Q",
            title="Units (chips)",
            scale=alt.Scale(domain=[0, top * 1.45]),
            axis=alt.Axis(format=",d", tickCount=4),
        ),
        tooltip=cb.tooltip(
            ("event_id:N", "Approval"),
            ("gate:N", "Gate"),
            ("buyer_group:N", "Buyer group"),
            ("chip_group:N", "Chips"),
            ("measure:N", "Quantity"),
            ("text:N", "Units"),
            ("source_ids:N", "Sources"),
        ),
    )
    bars = base.mark_bar().encode(
        color=cb.colour("measure:N", "quantity", measures, title="Quantity", sort=measures)
    )
    labels = base.mark_text(align="left", dx=4, baseline="middle", color="#222").encode(
        text="text:N"
    )
    chart = alt.layer(bars, labels).properties(
        title=alt.Title(title, subtitle="Rows: approval event · gate, and the buyer group"),
        width=300,
        height=alt.Step(14),
    )
    return cb.offer_data(chart, tidy, drop=("measure_order", "row", "approved_qualifier"))
