"""Charts of lab compute estimates and of what changed between releases."""

from __future__ import annotations

from typing import Any

import polars as pl

from analytics import charts_base as cb
from analytics.compute import Frame
from analytics.fleet import H100E_BASES

_FLEET_TITLES = {  # the basis words live with the conversion (analytics.fleet)
    **{f"h100e_{basis}": words for basis, (_, words) in H100E_BASES.items()},
    "flops_bf16": "Dense BF16 peak (FLOP/s)",
}
# log-axis labels: SI prefixes for counts, powers of ten for FLOP/s
_FLEET_LABELS = {"flops_bf16": "'1e' + round(log(datum.value) / LN10)"}
_MARKS = {  # what a row shows: shape of its mark
    "central": "circle",
    "≥ (5th percentile only)": "triangle-right",
    "≤ (95th percentile only)": "triangle-left",
}


def _fleet_rows(df: pl.DataFrame, measure: str) -> pl.DataFrame:
    """Rows with a positive figure, their label, and where the point mark sits."""
    trip = [f"{measure}_low", measure, f"{measure}_high"]
    what = pl.coalesce("name", "chip_reported", "chip_id", pl.lit("holdings"))
    low, mid, high = (pl.col(c) for c in ("low", "central", "high"))
    return (
        cb.text_lists(df)
        .with_columns(pl.when(pl.col(c) > 0).then(pl.col(c)).alias(c) for c in trip)
        .filter(pl.any_horizontal(pl.col(c).is_not_null() for c in trip))
        .with_columns(
            pl.format(
                "{} · {} ({})",
                pl.col("lab_id"),
                what,
                pl.col("as_of_date").dt.strftime("%Y-%m-%d").fill_null("undated"),
            ).alias("row"),
            pl.col(trip[0]).alias("low"),
            pl.col(measure).alias("central"),
            pl.col(trip[2]).alias("high"),
        )
        .with_columns(
            pl.coalesce(mid, low, high).alias("point"),
            pl.when(mid.is_not_null())
            .then(pl.lit("central"))
            .when(low.is_not_null() & high.is_null())
            .then(pl.lit(list(_MARKS)[1]))
            .when(high.is_not_null() & low.is_null())
            .then(pl.lit(list(_MARKS)[2]))
            .otherwise(pl.lit("central"))
            .alias("mark"),
        )
        .sort("lab_id", "row", "record_id")
    )


def fleet_compute(
    fleet: Frame, *, measure: str = "h100e_bf16", title: str = "Compute by lab"
) -> Any:
    """Each lab's estimates of ``measure``: a dot at the central figure, the 5-95 % bar.

    Parameters
    ----------
    fleet : polars.DataFrame or polars.LazyFrame
        :func:`analytics.compute.fleet_compute` output (``lab_compute`` rows with
        ``<measure>_low``, ``<measure>`` and ``<measure>_high``).
    measure : {"h100e_bf16", "h100e_8bit", "flops_bf16"}
        The figure drawn, on a log axis.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        One row per record with a positive figure (lab, what it counts, as-of date);
        the bar only where both the 5th and the 95th percentile exist; a record with
        only one bound shows it as a triangle pointing into the open side. The subtitle
        names the labs none of whose records converts. Colours from
        :data:`analytics.palette.LAB_SUBJECT`.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> fl = pl.DataFrame({"record_id": ["LC-006", "LC-024"], "lab_id": ["deepseek", "bytedance"],
    ...     "as_of_date": [dt.date(2025, 5, 14), None], "subject": ["cluster", "holdings"],
    ...     "h100e_bf16_low": [None, 14958.6], "h100e_bf16": [2047.2, None],
    ...     "h100e_bf16_high": [None, None], "source_ids": [["arxiv"], ["ft"]]},
    ...     schema_overrides={"h100e_bf16_high": pl.Float64})
    >>> chart = fleet_compute(fl)
    >>> len(chart.layer), chart.data["mark"].to_list()
    (1, ['≥ (5th percentile only)', 'central'])
    """
    alt = cb.alt()
    if measure not in _FLEET_TITLES:
        raise ValueError(f"measure must be one of {sorted(_FLEET_TITLES)}, got {measure!r}")
    df = cb.frame(fleet)
    cb.need(df, ["lab_id", "source_ids"], "fleet_compute chart")
    texts = ("record_id", "subject", "name", "chip_reported", "chip_id")
    trip = (f"{measure}_low", measure, f"{measure}_high")
    df = cb.with_missing(
        df,
        {
            **dict.fromkeys(trip, pl.Float64),
            **dict.fromkeys(texts, pl.String),
            "as_of_date": pl.Date,
        },
    )
    rows = _fleet_rows(df, measure)
    missing = sorted(set(df.get_column("lab_id")) - set(rows.get_column("lab_id")))
    scale, axis = _fleet_scale(rows, measure)
    base = _fleet_base(rows)
    x = alt.X("point:Q", scale=scale, axis=axis, title=_FLEET_TITLES[measure])
    dots = base.mark_point(filled=True, size=60, opacity=1).encode(
        x=x,
        shape=alt.Shape(
            "mark:N",
            title="Mark",
            legend=None,
            scale=alt.Scale(domain=list(_MARKS), range=list(_MARKS.values())),
        ),
    )
    ranged = rows.filter(pl.col("low").is_not_null() & pl.col("high").is_not_null())
    layers = [dots]
    if ranged.height:  # a rule needs both ends: no bar where one is missing
        layers.insert(
            0,
            base.properties(data=ranged)
            .mark_rule(strokeWidth=3, opacity=0.6)
            .encode(x=alt.X("low:Q", scale=scale), x2=alt.X2("high:Q")),
        )
    chart = alt.layer(*layers).properties(
        title=alt.Title(title, subtitle=_fleet_subtitle(missing)),
        width=280,
        height=alt.Step(18),
    )
    return cb.offer_data(chart, rows, drop=("central", "low", "high", "point", "row"))


def _fleet_scale(rows: pl.DataFrame, measure: str) -> tuple[Any, Any]:
    """A log scale over every figure, with a labelled tick at each power of ten."""
    alt = cb.alt()
    values = rows.select(pl.concat_list("low", "central", "high").explode().drop_nulls())
    lo, hi = (values.min().item() or 1.0) / 2, (values.max().item() or 10.0) * 2
    axis = alt.Axis(
        values=[10.0**e for e in range(-3, 30) if lo <= 10.0**e <= hi],
        labelExpr=_FLEET_LABELS.get(measure, "format(datum.value, '~s')"),
    )
    return alt.Scale(type="log", domain=[lo, hi], nice=False), axis


_FLEET_TOOLTIP = (
    ("record_id:N", "Record"), ("lab_id:N", "Lab"), ("subject:N", "Subject"),
    ("chip_id:N", "Chip"), ("as_of_date:T", "As of", "%Y-%m-%d"),
    ("low:Q", "5th percentile", ",.4~g"), ("central:Q", "Central", ",.4~g"),
    ("high:Q", "95th percentile", ",.4~g"), ("source_ids:N", "Sources"),
)


def _fleet_base(rows: pl.DataFrame) -> Any:
    alt = cb.alt()
    return alt.Chart(rows).encode(
        y=alt.Y("row:N", title=None, sort=None, axis=alt.Axis(labelLimit=340)),
        color=cb.colour("subject:N", "lab_subject", rows.get_column("subject"), title="Subject"),
        tooltip=cb.tooltip(*_FLEET_TOOLTIP),
    )


def _fleet_subtitle(missing: list[str]) -> list[str]:
    """The subtitle's lines: what a row is, then the labs without a figure, wrapped."""
    lines = [
        "Rows: lab · cluster, model or chip (as of)",
        "Dot: central figure; bar: 5th to 95th percentile; ▶ only a 5th, ◀ only a 95th",
    ]
    words = ["No convertible figure for:", *[f"{m}," for m in missing[:-1]], *missing[-1:]]
    for word in words if missing else []:
        if len(lines) == 2 or len(lines[-1]) + len(word) > 80:
            lines.append(word)
        else:
            lines[-1] += " " + word
    return lines


fleet_compute_chart = fleet_compute


# --------------------------------------------------------------------------- release diff
_CHANGE_COLUMNS = ("change", "change_type", "kind", "status", "diff")
_CHANGES = ["added", "removed", "changed"]


def _change_counts(df: pl.DataFrame) -> pl.DataFrame:
    change = next((c for c in _CHANGE_COLUMNS if c in df.columns), None)
    if change is not None:
        key = pl.col("key").cast(pl.String) if "key" in df.columns else pl.lit("")
        src = pl.col("source_ids") if "source_ids" in df.columns else pl.lit("")
        return (
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
    if set(_CHANGES) & set(df.columns):
        return df.unpivot(
            index="dataset",
            on=[c for c in _CHANGES if c in df.columns],
            variable_name="change",
            value_name="rows",
        ).with_columns(pl.lit("").alias("keys"), pl.lit("").alias("source_ids"))
    raise ValueError(
        f"release_diff needs a change column ({', '.join(_CHANGE_COLUMNS)}) or "
        f"added/removed/changed counts; got {df.columns}"
    )


def release_diff(diff_frame: Frame, *, title: str = "What changed between releases") -> Any:
    """Rows added, removed and changed per dataset between two releases.

    Parameters
    ----------
    diff_frame : polars.DataFrame or polars.LazyFrame
        Either one row per changed key (``dataset`` and a change column named
        ``change``, ``change_type``, ``kind``, ``status`` or ``diff``; optional ``key``
        and ``source_ids``, which the tooltip lists) or one row per dataset with
        ``added``, ``removed`` and ``changed`` counts.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Labelled bars, colours from :data:`analytics.palette.CHANGE`.

    Examples
    --------
    >>> import polars as pl
    >>> d = pl.DataFrame({"dataset": ["approvals", "approvals"], "change": ["added", "changed"],
    ...                   "key": ["APR-053", "APR-048"]})
    >>> release_diff(d).to_dict()["title"]["subtitle"]
    'Rows: dataset; bars: rows added, removed and changed'
    """
    alt = cb.alt()
    df = cb.text_lists(cb.frame(diff_frame))
    cb.need(df, ["dataset"], "release_diff")
    counts = (
        _change_counts(df).with_columns(pl.col("rows").cast(pl.Int64)).sort("dataset", "change")
    )
    changes = [c for c in _CHANGES if c in set(counts.get_column("change"))] + sorted(
        set(counts.get_column("change")) - set(_CHANGES)
    )
    top = counts.get_column("rows").max() or 1
    base = alt.Chart(counts).encode(
        y=alt.Y("dataset:N", title="Dataset", sort="ascending"),
        yOffset=alt.YOffset("change:N", sort=changes, scale=alt.Scale(domain=changes)),
        x=alt.X("rows:Q", title="Rows (count)", scale=alt.Scale(domain=[0, top * 1.2])),
        color=cb.colour("change:N", "change", changes, title="Change", sort=changes),
        tooltip=cb.tooltip(
            ("dataset:N", "Dataset"),
            ("change:N", "Change"),
            ("rows:Q", "Rows"),
            ("keys:N", "Keys (first 12)"),
            ("source_ids:N", "Sources (first 12)"),
        ),
    )
    bars = base.mark_bar()
    labels = base.mark_text(align="left", dx=4, baseline="middle").encode(text="rows:Q")
    chart = alt.layer(bars, labels).properties(
        title=alt.Title(title, subtitle="Rows: dataset; bars: rows added, removed and changed"),
        width=360,
        height=alt.Step(14),
    )
    return cb.offer_data(chart, counts)
