"""Charts of China's compute stock: each channel's median with its 5-95% band, by quarter.

>>> sorted(STOCK_CHANNEL_COLOURS)[:2]
['china_specific', 'domestic']
"""

from __future__ import annotations

from typing import Any

import polars as pl

from analytics import charts_base as cb
from analytics.compute import Frame

#: Channel colours (Paul Tol's bright scheme, as the project palette); the total is black.
STOCK_CHANNEL_COLOURS = {
    "exported_pre_control": "#BBBBBB",
    "china_specific": "#4477AA",
    "under_licence": "#228833",
    "smuggled": "#EE6677",
    "domestic": "#CCBB44",
    "total": "#000000",
}
_MEASURES = {
    "units": ("Chips in service", ",.0f"),
    "h100e": ("H100 equivalents", ",.0f"),
    "flops": ("Dense BF16 FLOP/s", ".2e"),
}
_NEEDED = ["quarter", "channel", "basis"]


def _rows(stock: pl.DataFrame, measure: str, channels: list[str] | None) -> pl.DataFrame:
    """One row per quarter, channel (and scenario) with the quarter's last day as a date."""
    out = stock if channels is None else stock.filter(pl.col("channel").is_in(channels))
    year, q = pl.col("quarter").str.slice(0, 4).cast(pl.Int32), pl.col("quarter").str.slice(5, 1)
    end = pl.date(year, q.cast(pl.Int32) * 3, 1).dt.month_end()
    return out.with_columns(
        end.alias("quarter_end"),
        pl.col(f"{measure}_p5").alias("low"), pl.col(f"{measure}_p50").alias("mid"),
        pl.col(f"{measure}_p95").alias("high"),
        pl.format("{} of the approved H200s delivered",
                  (pl.col("h200_delivered_share") * 100).round(0).cast(pl.Int64).cast(pl.String)
                  + "%").alias("scenario"),
    ).sort("quarter", "channel")


def stock_chart(
    stock: Frame,
    *,
    measure: str = "h100e",
    channels: list[str] | None = None,
    title: str = "China's AI compute stock by channel",
) -> Any:
    """Each channel's median stock by quarter, with its 5th-95th percentile band.

    Several scenarios (values of ``h200_delivered_share``) are drawn side by side.

    Parameters
    ----------
    stock : DataFrame or LazyFrame
        :func:`analytics.compute_stock` output (several scenarios may be stacked).
    measure : {"h100e", "units", "flops"}
        The figure drawn; the H100e basis is named in the axis title.
    channels : list of str, optional
        The channels (and ``total``) to draw; default all.
    title : str

    Returns
    -------
    altair.FacetChart
        One panel per scenario: a band and a line per channel; the tooltip gives the
        three percentiles and the basis.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"quarter": ["2025Q4", "2026Q1"], "channel": ["total"] * 2,
    ...     "h100e_p5": [1.0, 2.0], "h100e_p50": [2.0, 3.0], "h100e_p95": [4.0, 5.0],
    ...     "basis": ["H100 equivalents, dense 8-bit"] * 2, "h200_delivered_share": [0.0] * 2})
    >>> spec = stock_chart(df).to_dict()
    >>> "8-bit" in spec["spec"]["layer"][0]["encoding"]["y"]["title"]
    True
    """
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {sorted(_MEASURES)}, got {measure!r}")
    df = cb.frame(stock)
    cb.need(df, [*_NEEDED, f"{measure}_p5", f"{measure}_p50", f"{measure}_p95"], "stock_chart")
    df = cb.with_missing(df, {"h200_delivered_share": pl.Float64}).with_columns(
        pl.col("h200_delivered_share").fill_null(0.0))
    rows = _rows(df, measure, channels)
    alt = cb.alt()
    label, fmt = _MEASURES[measure]
    if measure == "h100e":
        label = rows.get_column("basis").drop_nulls().first() or label
    domain = [c for c in STOCK_CHANNEL_COLOURS if c in set(rows.get_column("channel"))]
    colour = alt.Color("channel:N", title="Channel", scale=alt.Scale(
        domain=domain, range=[STOCK_CHANNEL_COLOURS[c] for c in domain]))
    x = alt.X("quarter_end:T", title="Quarter (end)", axis=alt.Axis(format="%Y"))
    tips = cb.tooltip(("quarter:N", "Quarter"), ("channel:N", "Channel"),
                      ("low:Q", "5th percentile", fmt), ("mid:Q", "Median", fmt),
                      ("high:Q", "95th percentile", fmt), ("basis:N", "Basis"))
    base = alt.Chart().encode(x=x, color=colour)
    band = base.mark_area(opacity=0.18).encode(
        y=alt.Y("low:Q", title=label, axis=alt.Axis(format="~s")), y2="high:Q", tooltip=tips)
    line = base.mark_line(point=alt.OverlayMarkDef(size=14)).encode(y="mid:Q", tooltip=tips)
    panels = alt.layer(band, line, data=rows.drop("quarter_end").with_columns(
        rows.get_column("quarter_end").cast(pl.String))).properties(width=360, height=300)
    order = rows.sort("h200_delivered_share").get_column("scenario").unique(maintain_order=True)
    column = alt.Column("scenario:N", title=None, sort=order.to_list())
    subtitle = "Median with its 5th-95th percentile band, by sampling"
    return panels.facet(column=column).properties(title=alt.Title(title, subtitle=subtitle))


#: US gate colours, from open (green) to closed (red); not a US design in grey.
US_GATE_COLOURS = {
    "not_controlled": "#228833",
    "licence_granted": "#66CCEE",
    "case_by_case": "#CCBB44",
    "licence_required": "#EE7733",
    "presumption_of_denial": "#CC3311",
    "not_applicable": "#BBBBBB",
}


#: Widest y label of :func:`gate_chart`, in pixels: the longest chip model and buyer id.
LABEL_LIMIT = 480


def gate_chart(matrix: Frame, *, title: str = "The US gate for each chip and buyer") -> Any:
    """The US gate of every chip and buyer on each date, with the Chinese gate as text.

    Parameters
    ----------
    matrix : DataFrame or LazyFrame
        :func:`analytics.gate_matrix` output (a ``model`` column, when present, names
        the chips).
    title : str

    Returns
    -------
    altair.Chart
        One cell per (chip and buyer, date), coloured by ``us_gate``, labelled with
        ``china_gate``; the tooltip carries the verdict, conditions, events and sources.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> m = pl.DataFrame({"chip_id": ["h20"], "buyer_id": ["bytedance"],
    ...     "date": [dt.date(2025, 5, 1)], "us_gate": ["licence_required"],
    ...     "china_gate": ["no_restriction"], "verdict": ["..."], "conditions": [None],
    ...     "event_ids": [["APR-015"]], "source_ids": [["src"]]})
    >>> gate_chart(m).to_dict()["layer"][0]["mark"]["type"]
    'rect'
    """
    df = cb.frame(matrix)
    cb.need(df, ["chip_id", "buyer_id", "date", "us_gate", "china_gate", "verdict",
                 "event_ids", "source_ids"], "gate_chart")
    df = cb.with_missing(df, {"model": pl.String, "conditions": pl.String})
    rows = cb.text_lists(df.with_columns(
        pl.format("{} · {}", pl.coalesce("model", "chip_id"), "buyer_id").alias("row"),
        pl.col("date").cast(pl.String).alias("day"),
        pl.col("china_gate").str.replace_all("_", " ").alias("china"),
    ).sort("chip_id", "buyer_id", "date"))
    alt = cb.alt()
    domain = [g for g in US_GATE_COLOURS if g in set(rows.get_column("us_gate"))]
    base = alt.Chart(rows).encode(
        x=alt.X("day:O", title="Date"),
        y=alt.Y("row:N", title=None, sort=rows.get_column("row").unique(
            maintain_order=True).to_list(),
            axis=alt.Axis(labelLimit=LABEL_LIMIT, labelOverlap=False)),  # every row, whole
    )
    tips = cb.tooltip(("row:N", "Chip · buyer"), ("day:O", "Date"), ("us_gate:N", "US gate"),
                      ("china_gate:N", "Chinese gate"), ("verdict:N", "Verdict"),
                      ("conditions:N", "Conditions"), ("event_ids:N", "Events"),
                      ("source_ids:N", "Sources"))
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("us_gate:N", title="US gate", scale=alt.Scale(
            domain=domain, range=[US_GATE_COLOURS[g] for g in domain])), tooltip=tips)
    text = base.mark_text(fontSize=8).encode(text="china:N", tooltip=tips)
    height = 16 * rows.get_column("row").n_unique()
    return alt.layer(cells, text).properties(
        width=90 * rows.get_column("day").n_unique(), height=height,
        title=alt.Title(title, subtitle="Rows: chip · buyer. Colour: the US gate; text: the "
                                        "Chinese gate"))
