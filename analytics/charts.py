"""Altair charts of the datasets and derived tables, in one project theme (``chip_supply``).

Each function takes a (Lazy)Frame, sorts it, and returns an ``alt.Chart`` or
``alt.LayerChart`` with a title, axis titles with units, explicit encoding types and a
tooltip that carries the source ids. altair is imported when a chart is first made.
Render charts to SVG or PNG (``vl_convert``) for pages: the SVG output escapes chart
text, while altair's HTML output does not.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from analytics.compute import Frame

THEME = "chip_supply"
_FONT = "Source Sans Pro, Helvetica, Arial, sans-serif"
_PALETTE = ["#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#30343f", "#f28f3b"]
_UNNAMED = "(no named buyer)"


def _theme() -> dict[str, Any]:
    return {
        "config": {
            "font": _FONT,
            "view": {"continuousWidth": 560, "continuousHeight": 320, "stroke": None},
            "title": {"fontSize": 15, "anchor": "start", "subtitleColor": "#555"},
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#e6e6e6"},
            "legend": {"labelFontSize": 11, "titleFontSize": 12},
            "range": {"category": _PALETTE},
        }
    }


def _alt() -> Any:
    """altair, with the project theme registered (and enabled the first time)."""
    import altair as alt

    if THEME not in alt.theme.names():
        alt.theme.register(THEME, enable=True)(_theme)
    return alt


def _frame(df: Frame) -> pl.DataFrame:
    if isinstance(df, pl.LazyFrame):
        return df.collect()
    if isinstance(df, pl.DataFrame):
        return df
    raise TypeError(f"expected a polars DataFrame or LazyFrame, got {type(df).__name__}")


def _text_lists(df: pl.DataFrame) -> pl.DataFrame:
    """List columns as ``;``-joined text, so tooltips show them as text."""
    lists = [c for c, t in df.schema.items() if isinstance(t, pl.List)]
    return df.with_columns(
        pl.col(c).fill_null([]).list.eval(pl.element().cast(pl.String)).list.join(";")
        for c in lists
    )


def _need(df: pl.DataFrame, cols: list[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs columns {missing}; got {df.columns}")


# --------------------------------------------------------------------------- policy timeline
def policy_timeline(events: Frame, *, title: str = "Policy decisions on AI chips for China") -> Any:
    """Decisions over time by jurisdiction and action, each spanning its date precision.

    ``events`` is :func:`analytics.reconciliation.timeline` output. A bar runs from ``date``
    to ``date_end`` (a month-precision date spans the month); a dot marks ``date``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> ev = pl.DataFrame({"event_id": ["APR-001"], "date": [dt.date(2026, 2, 1)],
    ...     "date_end": [dt.date(2026, 2, 28)], "date_precision": ["month"],
    ...     "jurisdiction": ["US"], "action": ["approve"], "label": ["approve: h200"],
    ...     "source_ids": ["src-a"]})
    >>> type(policy_timeline(ev)).__name__
    'LayerChart'
    """
    alt = _alt()
    df = _text_lists(_frame(events))
    _need(
        df,
        ["event_id", "date", "date_end", "jurisdiction", "action", "source_ids"],
        "policy_timeline",
    )
    df = df.sort("date", "jurisdiction", "event_id")
    tooltip = [
        alt.Tooltip("event_id:N", title="Event"),
        alt.Tooltip("date:T", title="Date", format="%Y-%m-%d"),
        alt.Tooltip("date_end:T", title="Period end", format="%Y-%m-%d"),
        *[
            alt.Tooltip(f"{c}:N", title=t)
            for c, t in (
                ("date_precision", "Precision"),
                ("jurisdiction", "Jurisdiction"),
                ("action", "Action"),
                ("label", "Subject"),
                ("entities", "Entities"),
                ("status_as_reported", "Status"),
                ("summary", "Summary"),
            )
            if c in df.columns
        ],
        alt.Tooltip("source_ids:N", title="Sources"),
    ]
    base = alt.Chart(df).encode(
        x=alt.X("date:T", title="Decision date (bar spans the date's precision period)"),
        y=alt.Y("jurisdiction:N", title="Jurisdiction (ISO country code)", sort="ascending"),
        yOffset=alt.YOffset("action:N", sort="ascending"),
        color=alt.Color("action:N", title="Action", sort="ascending"),
        tooltip=tooltip,
    )
    bars = base.mark_bar(height=6, opacity=0.6).encode(x2=alt.X2("date_end:T"))
    dots = base.mark_point(filled=True, size=40)
    return alt.layer(bars, dots).properties(title=title, height=alt.Step(14))


# ---------------------------------------------------------------- approvals vs deliveries
_MEASURES = {
    "approved_quantity": ("approved", "approval_source_ids"),
    "ordered_units": ("ordered", "order_source_ids"),
    "intent_units": ("purchase intent", "intent_source_ids"),
    "confirmed_delivered": ("confirmed delivered", "delivery_source_ids"),
}


def approvals_vs_deliveries(
    reconciled: Frame, *, title: str = "Approved, ordered and delivered chips by buyer group"
) -> Any:
    """Per approval (buyer group, gate, event): approved, ordered, intended and delivered units.

    ``reconciled`` is :func:`analytics.reconciliation.reconcile` output. Each bar's tooltip
    names the sources of that side (approval, order, intent or delivery). A zero shows as
    a labelled zero.

    Examples
    --------
    >>> import polars as pl
    >>> rec = pl.DataFrame({"event_id": ["APR-048"], "gate": ["cn_import_approval"],
    ...     "buyer_group": ["alibaba;bytedance;tencent"], "chip_group": ["h200"],
    ...     "approved_quantity": [400000], "approved_qualifier": ["at_least"],
    ...     "confirmed_delivered": [0], "approval_source_ids": [["a"]],
    ...     "delivery_source_ids": [["b"]]})
    >>> type(approvals_vs_deliveries(rec)).__name__
    'LayerChart'
    """
    alt = _alt()
    df = _frame(reconciled)
    _need(df, ["event_id", "buyer_group", "approved_quantity"], "approvals_vs_deliveries")
    for col in ("gate", "chip_group", "approved_qualifier"):
        if col not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(col))
    parts = []
    for order, (col, (label, src)) in enumerate(_MEASURES.items()):
        if col not in df.columns:
            continue
        sources = pl.col(src) if src in df.columns else pl.lit([], dtype=pl.List(pl.String))
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
                sources.fill_null([]).list.join(";").alias("source_ids"),
            )
        )
    tidy = (
        pl.concat(parts)
        .filter(pl.col("units").is_not_null())
        .with_columns(
            pl.concat_str(
                pl.col("buyer_group").fill_null(_UNNAMED).str.replace_all(";", ", "),
                pl.lit(" | "),
                pl.col("gate").fill_null("other gate"),
                pl.lit(" | "),
                pl.col("event_id"),
            ).alias("row")
        )
        .sort("row", "measure_order")
    )
    measures = [v[0] for v in _MEASURES.values()]
    base = alt.Chart(tidy).encode(
        y=alt.Y(
            "row:N",
            title=None,
            sort="ascending",
            axis=alt.Axis(labelLimit=420),
        ),
        yOffset=alt.YOffset("measure:N", sort=measures),
        x=alt.X("units:Q", title="Units (chips)"),
        color=alt.Color("measure:N", title="Quantity", sort=measures),
        tooltip=[
            alt.Tooltip("event_id:N", title="Approval"),
            alt.Tooltip("gate:N", title="Gate"),
            alt.Tooltip("buyer_group:N", title="Buyer group"),
            alt.Tooltip("chip_group:N", title="Chips"),
            alt.Tooltip("measure:N", title="Quantity"),
            alt.Tooltip("units:Q", title="Units", format=","),
            alt.Tooltip("approved_qualifier:N", title="Approval qualifier"),
            alt.Tooltip("source_ids:N", title="Sources"),
        ],
    )
    bars = base.mark_bar()
    labels = base.mark_text(align="left", dx=3, fontSize=10).encode(
        text=alt.Text("units:Q", format=",.0f")
    )
    return alt.layer(bars, labels).properties(
        title=alt.Title(title, subtitle="Rows: buyer group | gate | approval event"),
        height=alt.Step(12),
    )


# --------------------------------------------------------------------------- TPP x density
def tpp_density_scatter(
    classified_or_chips: Frame,
    rules: Frame,
    *,
    rule_id: str | None = None,
    title: str = "Total processing performance against performance density",
) -> Any:
    """Chips on TPP x performance density (log-log), with each vintage's classes shaded.

    Points come from :func:`analytics.compute.classify` output (or ``chips``, which are
    classified against ``rules`` here); they are coloured by their class under
    ``rule_id`` (default: the vintage with the latest ``effective_date``). Every
    classification clause of ``rules`` with a TPP or density threshold is a shaded
    rectangle (open bounds run to the plot edge); clauses that also need an interconnect
    rate say so in their tooltip. Licence-policy bands (TPP x DRAM bandwidth) are not
    drawn on these axes. Chips without a die area have no density and are left out.

    Examples
    --------
    >>> import polars as pl
    >>> chips = pl.DataFrame({"chip_id": ["h20"], "int8_dense_tops": [296.0],
    ...                       "die_area_mm2": [814.0], "source_ids": [["s"]]})
    >>> rules = pl.DataFrame({"rule_id": ["r"], "clause": ["3A090.a.1"],
    ...     "clause_kind": ["classification"], "eccn_class": ["3A090.a"],
    ...     "tpp_min": [4800.0], "source_ids": [["fr"]]})
    >>> type(tpp_density_scatter(chips, rules)).__name__
    'LayerChart'
    """
    from analytics.compute import THRESHOLDS, classify

    alt = _alt()
    data = _frame(classified_or_chips)
    r = _frame(rules)
    for col, dtype in {
        **dict.fromkeys(THRESHOLDS, pl.Float64),
        "effective_date": pl.Date,
        "source_ids": pl.List(pl.String),
        "eccn_class": pl.String,
    }.items():
        if col not in r.columns:
            r = r.with_columns(pl.lit(None, dtype=dtype).alias(col))
    models = None
    if "rule_id" not in data.columns:
        if "model" in data.columns:
            models = data.select("chip_id", "model")
        data = classify(data, r)
    if rule_id is None:
        latest = data.sort("effective_date", "rule_id", nulls_last=False).get_column("rule_id")
        rule_id = latest[-1] if latest.len() else None
    pts = data.filter(
        (pl.col("rule_id") == rule_id) & (pl.col("tpp") > 0) & (pl.col("performance_density") > 0)
    )
    if models is not None:
        pts = pts.join(models, on="chip_id", how="left")
    elif "model" not in pts.columns:
        pts = pts.with_columns(pl.col("chip_id").alias("model"))
    if "chip_source_ids" not in pts.columns:
        pts = pts.with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("chip_source_ids"))
    pts = _text_lists(pts).sort("chip_id")

    clauses = r.filter(
        (pl.col("clause_kind") == "classification")
        & pl.any_horizontal(
            pl.col(c).is_not_null() for c in ("tpp_min", "tpp_max", "pd_min", "pd_max")
        )
    )

    def values(frame: pl.DataFrame, *cols: str) -> list[float]:
        return [v for c in cols for v in frame.get_column(c).to_list() if v]

    x_vals = values(pts, "tpp") + values(clauses, "tpp_min", "tpp_max")
    y_vals = values(pts, "performance_density") + values(clauses, "pd_min", "pd_max")
    x_lo, x_hi = min(x_vals, default=1000.0) / 2, max(x_vals, default=10_000.0) * 2
    y_lo, y_hi = min(y_vals, default=1.0) / 2, max(y_vals, default=10.0) * 2
    rects = _text_lists(
        clauses.select(
            "rule_id",
            "clause",
            "eccn_class",
            "effective_date",
            pl.col("tpp_min").fill_null(x_lo).alias("x"),
            pl.col("tpp_max").fill_null(x_hi).alias("x2"),
            pl.col("pd_min").fill_null(y_lo).alias("y"),
            pl.col("pd_max").fill_null(y_hi).alias("y2"),
            pl.when(pl.col("interconnect_min_gbps").is_not_null())
            .then(pl.format("also needs interconnect >= {} GB/s", pl.col("interconnect_min_gbps")))
            .otherwise(pl.lit(""))
            .alias("also"),
            pl.col("source_ids"),
        )
    ).sort("effective_date", "rule_id", "clause", nulls_last=True)

    x_scale = alt.Scale(type="log", domain=[x_lo, x_hi])
    y_scale = alt.Scale(type="log", domain=[y_lo, y_hi])
    shade = (
        alt.Chart(rects)
        .mark_rect(opacity=0.12, stroke="#444", strokeOpacity=0.3)
        .encode(
            x=alt.X(
                "x:Q",
                scale=x_scale,
                title="Total processing performance (TPP, bit x TOP/s)",
                axis=alt.Axis(labelOverlap="greedy", format="~s"),
            ),
            x2=alt.X2("x2:Q"),
            y=alt.Y("y:Q", scale=y_scale, title="Performance density (TPP per mm2 of die)"),
            y2=alt.Y2("y2:Q"),
            color=alt.Color("rule_id:N", title="Rule vintage (shaded)", sort="ascending"),
            tooltip=[
                alt.Tooltip("rule_id:N", title="Rule"),
                alt.Tooltip("clause:N", title="Clause"),
                alt.Tooltip("eccn_class:N", title="Class"),
                alt.Tooltip("x:Q", title="TPP from", format=","),
                alt.Tooltip("x2:Q", title="TPP below", format=","),
                alt.Tooltip("y:Q", title="Density from", format=".2f"),
                alt.Tooltip("y2:Q", title="Density below", format=".2f"),
                alt.Tooltip("also:N", title="Also"),
                alt.Tooltip("source_ids:N", title="Sources"),
            ],
        )
    )
    dots = (
        alt.Chart(pts)
        .mark_point(filled=True, size=60, stroke="black", strokeWidth=0.5)
        .encode(
            x=alt.X("tpp:Q", scale=x_scale),
            y=alt.Y("performance_density:Q", scale=y_scale),
            shape=alt.Shape("eccn_class:N", title=f"Class under {rule_id}", sort="ascending"),
            tooltip=[
                alt.Tooltip("chip_id:N", title="Chip"),
                alt.Tooltip("model:N", title="Model"),
                alt.Tooltip("tpp:Q", title="TPP (bit x TOP/s)", format=",.0f"),
                alt.Tooltip("performance_density:Q", title="Density (TPP/mm2)", format=".2f"),
                alt.Tooltip("eccn_class:N", title=f"Class under {rule_id}"),
                alt.Tooltip("china_licence_policy:N", title="China licence policy"),
                alt.Tooltip("chip_source_ids:N", title="Sources"),
            ],
        )
    )
    return alt.layer(shade, dots).properties(title=title)


# --------------------------------------------------------------------------- fleet compute
_FLEET_TITLES = {
    "h100e_bf16": "H100 equivalents (dense BF16 / 989.4 TFLOP/s)",
    "h100e_int8": "H100 equivalents (dense INT8 / 1979 TOP/s)",
    "flops_bf16": "Dense BF16 peak (FLOP/s)",
}


def fleet_compute(
    fleet: Frame, *, measure: str = "h100e_bf16", title: str = "Compute by lab"
) -> Any:
    """Each lab's estimates of ``measure`` with their 5-95 % interval as a bar.

    ``fleet`` is :func:`analytics.compute.fleet_compute` output (``lab_compute``
    rows). One line per record (lab, subject, name or chip, date); a dot at the central
    figure, a bar from low to high; log scale. Rows with no positive value are left out.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> fl = pl.DataFrame({"record_id": ["LC-006"], "lab_id": ["deepseek"],
    ...     "as_of_date": [dt.date(2025, 5, 14)], "subject": ["cluster"],
    ...     "h100e_bf16_low": [None], "h100e_bf16": [2047.2], "h100e_bf16_high": [None],
    ...     "source_ids": [["arxiv"]]}, schema_overrides={"h100e_bf16_low": pl.Float64,
    ...     "h100e_bf16_high": pl.Float64})
    >>> type(fleet_compute(fl)).__name__
    'LayerChart'
    """
    alt = _alt()
    if measure not in _FLEET_TITLES:
        raise ValueError(f"measure must be one of {sorted(_FLEET_TITLES)}, got {measure!r}")
    df = _frame(fleet)
    _need(df, ["lab_id", "source_ids"], "fleet_compute chart")
    trip = [f"{measure}_low", measure, f"{measure}_high"]
    for col, dtype in {
        **dict.fromkeys(trip, pl.Float64),
        "record_id": pl.String,
        "subject": pl.String,
        "name": pl.String,
        "chip_reported": pl.String,
        "chip_id": pl.String,
        "as_of_date": pl.Date,
    }.items():
        if col not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=dtype).alias(col))
    what = pl.coalesce("name", "chip_reported", "chip_id", pl.lit("holdings"))
    df = (
        _text_lists(df)
        .with_columns(pl.when(pl.col(c) > 0).then(pl.col(c)).alias(c) for c in trip)
        .filter(pl.any_horizontal(pl.col(c).is_not_null() for c in trip))
        .with_columns(
            pl.format(
                "{} | {} ({})",
                pl.col("lab_id"),
                what,
                pl.col("as_of_date").dt.strftime("%Y-%m-%d").fill_null("undated"),
            ).alias("row"),
            pl.col(f"{measure}_low").alias("low"),
            pl.col(measure).alias("central"),
            pl.col(f"{measure}_high").alias("high"),
        )
        .sort("lab_id", "row", "record_id")
    )
    axis = _FLEET_TITLES[measure]
    tooltip = [
        alt.Tooltip("record_id:N", title="Record"),
        alt.Tooltip("lab_id:N", title="Lab"),
        alt.Tooltip("subject:N", title="Subject"),
        alt.Tooltip("chip_id:N", title="Chip"),
        alt.Tooltip("as_of_date:T", title="As of", format="%Y-%m-%d"),
        alt.Tooltip("low:Q", title="5th percentile", format=",.4~g"),
        alt.Tooltip("central:Q", title="Central", format=",.4~g"),
        alt.Tooltip("high:Q", title="95th percentile", format=",.4~g"),
        alt.Tooltip("source_ids:N", title="Sources"),
    ]
    scale = alt.Scale(type="log")
    base = alt.Chart(df).encode(
        y=alt.Y("row:N", title=None, sort=None, axis=alt.Axis(labelLimit=420)),
        color=alt.Color("subject:N", title="Subject", sort="ascending"),
        tooltip=tooltip,
    )
    bars = base.mark_rule(strokeWidth=3, opacity=0.6).encode(
        x=alt.X("low:Q", scale=scale, title=axis), x2=alt.X2("high:Q")
    )
    dots = base.mark_point(filled=True, size=50).encode(
        x=alt.X("central:Q", scale=scale, title=axis)
    )
    return alt.layer(bars, dots).properties(
        title=alt.Title(title, subtitle="Rows: lab | cluster, model or chip (as of)"),
        height=alt.Step(16),
    )


fleet_compute_chart = fleet_compute


# --------------------------------------------------------------------------- release diff
_CHANGE_COLUMNS = ("change", "change_type", "kind", "status", "diff")
_CHANGES = ["added", "removed", "changed"]


def release_diff(diff_frame: Frame, *, title: str = "What changed between releases") -> Any:
    """Rows added, removed and changed per dataset between two releases.

    Accepts either one row per changed key (``dataset`` and a change column named
    ``change``, ``change_type``, ``kind``, ``status`` or ``diff``; optional ``key`` and
    ``source_ids``, which the tooltip lists) or one row per dataset with ``added``,
    ``removed`` and ``changed`` counts.

    Examples
    --------
    >>> import polars as pl
    >>> d = pl.DataFrame({"dataset": ["approvals", "approvals"], "change": ["added", "changed"],
    ...                   "key": ["APR-053", "APR-048"]})
    >>> type(release_diff(d)).__name__
    'LayerChart'
    """
    alt = _alt()
    df = _text_lists(_frame(diff_frame))
    _need(df, ["dataset"], "release_diff")
    change = next((c for c in _CHANGE_COLUMNS if c in df.columns), None)
    if change is not None:
        key = pl.col("key").cast(pl.String) if "key" in df.columns else pl.lit("")
        src = pl.col("source_ids") if "source_ids" in df.columns else pl.lit("")
        counts = (
            df.with_columns(src.fill_null("").str.split(";").alias("__src"))
            .group_by("dataset", pl.col(change).alias("change"))
            .agg(
                pl.len().alias("rows"),
                key.drop_nulls().unique().sort().head(12).str.join(", ").alias("keys"),
                pl.col("__src")
                .explode()
                .drop_nulls()
                .unique()
                .sort()
                .head(13)
                .str.join(";")
                .str.strip_chars(";")
                .alias("source_ids"),
            )
        )
    elif set(_CHANGES) & set(df.columns):
        counts = df.unpivot(
            index="dataset",
            on=[c for c in _CHANGES if c in df.columns],
            variable_name="change",
            value_name="rows",
        ).with_columns(pl.lit("").alias("keys"), pl.lit("").alias("source_ids"))
    else:
        raise ValueError(
            f"release_diff needs a change column ({', '.join(_CHANGE_COLUMNS)}) or "
            f"added/removed/changed counts; got {df.columns}"
        )
    counts = counts.with_columns(pl.col("rows").cast(pl.Int64)).sort("dataset", "change")
    base = alt.Chart(counts).encode(
        y=alt.Y("dataset:N", title="Dataset", sort="ascending"),
        yOffset=alt.YOffset("change:N", sort=_CHANGES),
        x=alt.X("rows:Q", title="Rows (count)"),
        color=alt.Color("change:N", title="Change", sort=_CHANGES),
        tooltip=[
            alt.Tooltip("dataset:N", title="Dataset"),
            alt.Tooltip("change:N", title="Change"),
            alt.Tooltip("rows:Q", title="Rows"),
            alt.Tooltip("keys:N", title="Keys (first 12)"),
            alt.Tooltip("source_ids:N", title="Sources (first 12)"),
        ],
    )
    bars = base.mark_bar()
    labels = base.mark_text(align="left", dx=3, fontSize=10).encode(text=alt.Text("rows:Q"))
    return alt.layer(bars, labels).properties(
        title=alt.Title(title, subtitle="Rows: buyer group | gate | approval event"),
        height=alt.Step(12),
    )
