"""The export-controls chart: chips on TPP x performance density against a rule vintage."""

from __future__ import annotations

from typing import Any, NamedTuple

import polars as pl

from analytics import charts_base as cb
from analytics.compute import THRESHOLDS, Frame, classify

_W, _H, _STRIP, _BAND = 520, 340, 60, 16  # plot, no-density strip and policy band, px
_TICKS = [v * 10**e for e in range(-1, 7) for v in (1, 2, 5)]


def _points(data: pl.DataFrame, r: pl.DataFrame, rule_id: str | None) -> tuple[pl.DataFrame, str]:
    """Chips classified under ``rule_id`` (default: the latest vintage), with TPP > 0."""
    extra = [c for c in ("model", "vendor_id", "china_specific") if c in data.columns]
    info = data.select("chip_id", *extra) if "rule_id" not in data.columns else None
    if "rule_id" not in data.columns:
        data = classify(data, r)
    if rule_id is None:
        latest = data.sort("effective_date", "rule_id", nulls_last=False).get_column("rule_id")
        rule_id = latest[-1] if latest.len() else None
    pts = data.filter((pl.col("rule_id") == rule_id) & (pl.col("tpp") > 0))
    if info is not None:
        pts = pts.join(info, on="chip_id", how="left")
    pts = cb.with_missing(
        pts,
        {
            "model": pl.String,
            "vendor_id": pl.String,
            "china_specific": pl.Boolean,
            "chip_source_ids": pl.List(pl.String),
        },
    )
    pts = pts.with_columns(
        pl.col("model").fill_null(pl.col("chip_id")),
        pl.col("vendor_id").fill_null(pl.col("chip_id").str.extract(r"^([a-z0-9]+)")),
        pl.col("chip_id").map_elements(cb.chip_name, return_dtype=pl.String).alias("name"),
        pl.when(pl.col("performance_density") > 0)
        .then("performance_density")
        .alias("performance_density"),
    )
    return cb.text_lists(pts).sort("chip_id"), rule_id


def _bounds(pts: pl.DataFrame, r: pl.DataFrame) -> tuple[float, float, float, float]:
    def values(frame: pl.DataFrame, *cols: str) -> list[float]:
        return [v for c in cols for v in frame.get_column(c).to_list() if v]

    xs = values(pts, "tpp") + values(r, "tpp_min", "tpp_max")
    ys = values(pts, "performance_density") + values(r, "pd_min", "pd_max")
    return (
        min(xs, default=1000.0) / 1.6,
        max(xs, default=10_000.0) * 1.6,
        min(ys, default=1.0) / 1.6,
        max(ys, default=10.0) * 1.6,
    )


def _zones(r: pl.DataFrame, b: tuple[float, float, float, float]) -> pl.DataFrame:
    """Each classification clause with a TPP or density bound as a rectangle."""
    clauses = r.filter(
        (pl.col("clause_kind") == "classification")
        & pl.any_horizontal(
            pl.col(c).is_not_null() for c in ("tpp_min", "tpp_max", "pd_min", "pd_max")
        )
    )
    return cb.text_lists(
        clauses.select(
            "rule_id",
            "clause",
            "eccn_class",
            "effective_date",
            pl.col("tpp_min").fill_null(b[0]).alias("x"),
            pl.col("tpp_max").fill_null(b[1]).alias("x2"),
            pl.col("pd_min").fill_null(b[2]).alias("y"),
            pl.col("pd_max").fill_null(b[3]).alias("y2"),
            pl.when(pl.col("interconnect_min_gbps").is_not_null())
            .then(pl.format("also needs interconnect >= {} GB/s", pl.col("interconnect_min_gbps")))
            .otherwise(pl.lit(""))
            .alias("also"),
            pl.col("source_ids"),
        )
    ).sort("effective_date", "rule_id", "clause", nulls_last=True)


def _bands(r: pl.DataFrame, b: tuple[float, float, float, float]) -> pl.DataFrame:
    """Licence-policy clauses with a TPP bound as a band along the top of the plot.

    The band's text names the policy and its bounds where it fits in the band, the
    policy alone where only that fits, and nothing otherwise (the tooltip keeps it).
    """
    top = cb.log_value(_H - _BAND, b[2], b[3], _H)
    policy = cb.text_lists(
        r.filter(
            (pl.col("clause_kind") == "licence_policy")
            & (pl.col("tpp_min").is_not_null() | pl.col("tpp_max").is_not_null())
        )
    )
    rows = []
    for c in policy.sort("tpp_min", nulls_last=False).iter_rows(named=True):
        x, x2 = c["tpp_min"] or b[0], c["tpp_max"] or b[1]
        name = c["licence_policy"].replace("_", " ")
        bound = f"TPP < {x2:,.0f}" if c["tpp_max"] else f"TPP ≥ {x:,.0f}"
        if c.get("dram_bw_max_gbps"):
            bound += f" and DRAM < {c['dram_bw_max_gbps']:,.0f} GB/s"
        room = cb.log_pixels(x2, b[0], b[1], _W) - cb.log_pixels(x, b[0], b[1], _W) - 8
        fits = [t for t in (f"{name}: {bound}", name) if cb.text_width(t, 9) <= room]
        rows.append(
            {
                "rule_id": c["rule_id"],
                "clause": c["clause"],
                "licence_policy": c["licence_policy"],
                "source_ids": c["source_ids"],
                "x": x,
                "x2": x2,
                "y": top,
                "y2": b[3],
                "mx": (x * x2) ** 0.5,
                "my": (top * b[3]) ** 0.5,
                "text": fits[0] if fits else "",
                "policy": f"{name}: {bound}",
            }
        )
    schema = {
        "rule_id": pl.String,
        "clause": pl.String,
        "licence_policy": pl.String,
        "source_ids": pl.String,
        **dict.fromkeys(("x", "x2", "y", "y2", "mx", "my"), pl.Float64),
        "text": pl.String,
        "policy": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def _labels(pts: pl.DataFrame, b: tuple, y_of: Any, height: float, places: tuple) -> pl.DataFrame:
    """One label per position (coincident chips share it), placed where it fits."""
    groups = (
        pts.group_by("tpp", "y_px")
        .agg(
            pl.col("name").unique(maintain_order=True).sort().str.join(", ").alias("text"),
            pl.col("china_specific").fill_null(False).any().alias("cs"),
        )
        .sort(["cs", "tpp"], descending=[True, False])
    )
    anchors = [
        (cb.log_pixels(x, b[0], b[1], _W),) * 2 + (yp, t)
        for x, yp, t in groups.select("tpp", "y_px", "text").iter_rows()
    ]
    marks = [cb.Box(x - 5, y - 5, x + 5, y + 5) for x, _, y, _ in anchors]
    spots = cb.place_labels(anchors, width=_W, height=height, blocked=marks, places=places)
    rows = [
        {"tpp": tpp, "y": y_of(yp), "text": t, "place": s[3]}
        for (_, _, yp, t), tpp, s in zip(anchors, groups.get_column("tpp"), spots, strict=True)
        if s is not None
    ]
    return pl.DataFrame(
        rows, schema={"tpp": pl.Float64, "y": pl.Float64, "text": pl.String, "place": pl.String}
    )


def _point_layer(
    pts: pl.DataFrame, x: Any, y: Any, rule_id: str, vendors: list[str], legend: bool = True
) -> Any:
    alt = cb.alt()
    shown = {} if legend else {"legend": None}
    return (
        alt.Chart(pts)
        .mark_point(filled=True, size=60, stroke="black", strokeWidth=0.6, opacity=1)
        .encode(
            x=x,
            y=y,
            color=cb.colour("vendor_id:N", "vendor", vendors, title="Vendor", **shown),
            shape=alt.Shape(
                "eccn_class:N", title=f"Class under {rule_id}", sort="ascending", **shown
            ),
            tooltip=cb.tooltip(
                ("chip_id:N", "Chip"),
                ("model:N", "Model"),
                ("tpp:Q", "TPP (bit x TOP/s)", ",.0f"),
                ("performance_density:Q", "Density (TPP/mm2)", ".2f"),
                ("eccn_class:N", f"Class under {rule_id}"),
                ("china_licence_policy:N", "China licence policy"),
                ("chip_source_ids:N", "Sources"),
            ),
        )
    )


def _area_layers(zones: pl.DataFrame, bands: pl.DataFrame, xs: Any, ys: Any, y: Any) -> list[Any]:
    alt = cb.alt()
    x = alt.X("x:Q", scale=xs, title=None)
    rect = {"x": x, "x2": alt.X2("x2:Q"), "y": y, "y2": alt.Y2("y2:Q")}
    classes = zones.get_column("eccn_class")
    zone = (
        alt.Chart(zones)
        .mark_rect(fillOpacity=0.16, strokeOpacity=0.7, strokeWidth=1)
        .encode(
            **rect,
            fill=cb.colour("eccn_class:N", "rule_class", classes, title="Class zone"),
            stroke=cb.colour("eccn_class:N", "rule_class", classes, legend=None),
            tooltip=cb.tooltip(
                ("rule_id:N", "Rule"),
                ("clause:N", "Clause"),
                ("eccn_class:N", "Class"),
                ("x:Q", "TPP from", ","),
                ("x2:Q", "TPP below", ","),
                ("y:Q", "Density from", ".2f"),
                ("y2:Q", "Density below", ".2f"),
                ("also:N", "Also"),
                ("source_ids:N", "Sources"),
            ),
        )
    )
    if not bands.height:
        return [zone]
    band = (
        alt.Chart(bands)
        .mark_rect(opacity=0.45)
        .encode(
            **rect,
            fill=cb.colour(
                "licence_policy:N",
                "licence_policy",
                bands.get_column("licence_policy"),
                title="China licence policy (band)",
                legend=None,
            ),
            tooltip=cb.tooltip(
                ("rule_id:N", "Rule"),
                ("clause:N", "Clause"),
                ("policy:N", "Policy"),
                ("source_ids:N", "Sources"),
            ),
        )
    )
    text = (
        alt.Chart(bands)
        .mark_text(fontSize=9, color="#111", baseline="middle")
        .encode(x=alt.X("mx:Q", scale=xs), y=alt.Y("my:Q", scale=ys), text="text:N")
    )
    return [zone, band, text]


def _axis_values(lo: float, hi: float) -> list[float]:
    return [v for v in _TICKS if lo <= v <= hi]


def tpp_density_scatter(
    classified_or_chips: Frame,
    rules: Frame,
    *,
    rule_id: str | None = None,
    title: str = "Total processing performance against performance density",
) -> Any:
    """Chips on TPP x performance density (log-log) against one rule vintage's zones.

    Parameters
    ----------
    classified_or_chips : polars.DataFrame or polars.LazyFrame
        :func:`analytics.compute.classify` output, or ``chips`` (classified against
        ``rules`` here; their ``model``, ``vendor_id`` and ``china_specific`` are used).
    rules : polars.DataFrame or polars.LazyFrame
        ``control_rules`` rows. Every classification clause with a TPP or density bound
        is a zone coloured by its class (an open bound runs to the plot edge); every
        licence-policy clause with a TPP bound is a band along the top of the plot (the
        2026 case-by-case band, with its DRAM-bandwidth condition in words).
    rule_id : str, optional
        The vintage whose classes the points show; default the latest ``effective_date``.
    title : str
        Chart title.

    Returns
    -------
    altair.VConcatChart
        The scatter, with direct labels (chips at one position share a label), over a
        strip of the chips whose die area, hence density, is not known, on the same TPP
        axis. Colours from :data:`analytics.palette.VENDOR`, ``RULE_CLASS`` and
        ``LICENCE_POLICY``.

    Examples
    --------
    >>> import polars as pl
    >>> chips = pl.DataFrame({"chip_id": ["nvidia_h20_96gb"], "int8_dense_tops": [296.0],
    ...                       "die_area_mm2": [814.0], "source_ids": [["s"]]})
    >>> rules = pl.DataFrame({"rule_id": ["r"], "clause": ["3A090.a.1"],
    ...     "clause_kind": ["classification"], "eccn_class": ["3A090.a"],
    ...     "tpp_min": [4800.0], "source_ids": [["fr"]]})
    >>> chart = tpp_density_scatter(chips, rules)
    >>> type(chart).__name__, chart.vconcat[0].layer[-1].data["text"].to_list()
    ('VConcatChart', ['H20'])
    """
    alt = cb.alt()
    r = cb.with_missing(
        cb.frame(rules),
        {
            **dict.fromkeys((*THRESHOLDS, "dram_bw_min_gbps", "dram_bw_max_gbps"), pl.Float64),
            "effective_date": pl.Date,
            "source_ids": pl.List(pl.String),
            "eccn_class": pl.String,
            "licence_policy": pl.String,
        },
    )
    pts, rule_id = _points(cb.frame(classified_or_chips), r, rule_id)
    b = _bounds(pts, r)
    bands = _bands(r, b)
    vendors = pts.get_column("vendor_id").unique().sort().to_list()
    x_scale = alt.Scale(type="log", domain=[b[0], b[1]], nice=False)
    panel = _Panel(b, x_scale, rule_id, vendors)
    main, strip = _main_panel(pts, r, bands, panel), _strip_panel(pts, panel)
    subtitle = f"Points: class under {rule_id}; zones: classification clauses"
    if bands.height:
        subtitle += "; top band: China licence policy by TPP"
    chart = (
        alt.vconcat(main, strip, spacing=6)
        .resolve_scale(x="shared", color="shared", shape="shared")
        .properties(title=alt.Title(title, subtitle=subtitle))
    )
    return cb.offer_data(chart, pts, drop=("name",))


class _Panel(NamedTuple):
    """What both panels share: plot bounds, the TPP scale, the vintage, the vendors."""

    b: tuple[float, float, float, float]
    x_scale: Any
    rule_id: str
    vendors: list[str]


def _main_panel(pts: pl.DataFrame, r: pl.DataFrame, bands: pl.DataFrame, p: _Panel) -> Any:
    """Zones, policy bands, the chips with a density, and their labels."""
    alt = cb.alt()
    b, x_scale, rule_id, vendors = p
    dense = pts.filter(pl.col("performance_density").is_not_null()).with_columns(
        (
            _H
            - pl.col("performance_density").map_elements(
                lambda v: cb.log_pixels(v, b[2], b[3], _H), return_dtype=pl.Float64
            )
        ).alias("y_px")
    )
    y_scale = alt.Scale(type="log", domain=[b[2], b[3]], nice=False)
    y = alt.Y(
        "y:Q",
        scale=y_scale,
        title="Performance density (TPP per mm2 of die)",
        axis=alt.Axis(values=_axis_values(b[2], b[3]), format="~g"),
    )
    px = alt.X("tpp:Q", scale=x_scale, axis=_x_axis(b), title=None)
    py = alt.Y("performance_density:Q", scale=y_scale)
    places = ("right", "left", "above", "below")
    labels = _labels(dense, b, lambda p: cb.log_value(_H - p, b[2], b[3], _H), _H, places)
    return (
        alt.layer(
            *_area_layers(_zones(r, b), bands, x_scale, y_scale, y),
            _point_layer(dense, px, py, rule_id, vendors),
            *cb.label_layers(
                labels, alt.X("tpp:Q", scale=x_scale), alt.Y("y:Q", scale=y_scale), color="#111"
            ),
        )
        .resolve_scale(fill="independent")
        .properties(width=_W, height=_H)
    )


def _strip_panel(pts: pl.DataFrame, p: _Panel) -> Any:
    """The chips without a density, on the same TPP axis, with their labels."""
    alt = cb.alt()
    b, x_scale, rule_id, vendors = p
    flat = pts.filter(pl.col("performance_density").is_null()).with_columns(
        pl.lit(1.0).alias("row"), pl.lit(_STRIP / 2).alias("y_px")
    )
    row_scale = alt.Scale(domain=[0, 2])
    x = alt.X(
        "tpp:Q",
        scale=x_scale,
        axis=_x_axis(b),
        title="Total processing performance (TPP, bit x TOP/s)",
    )
    labels = _labels(flat, b, lambda p: 2 - p / (_STRIP / 2), _STRIP, ("above", "below"))
    title = "Chips with no known die area (no density): TPP only"
    return alt.layer(
        _point_layer(flat, x, alt.Y("row:Q", scale=row_scale, axis=None), rule_id, vendors),
        *cb.label_layers(
            labels,
            alt.X("tpp:Q", scale=x_scale),
            alt.Y("y:Q", scale=row_scale, axis=None),
            color="#111",
        ),
    ).properties(
        width=_W,
        height=_STRIP,
        title=alt.Title(
            title if flat.height else "Every chip has a density", fontSize=11, fontWeight="normal"
        ),
    )


def _x_axis(b: tuple[float, float, float, float]) -> Any:
    return cb.alt().Axis(values=_axis_values(b[0], b[1]), format="~s")
