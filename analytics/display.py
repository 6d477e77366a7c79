"""Display settings inside a notebook kernel: tables made for reading, offline charts.

Frames are shown as formatted tables (:func:`analytics.tables_html.table_html`), and
charts through :func:`chart_mimebundle`, which hands over the Vega-Lite spec and its
SVG, so JupyterLab draws them without fetching Vega from the network and the report
can draw them interactively.
"""

from __future__ import annotations

from typing import Any

CHART_MIME = "application/vnd.vegalite.v6+json"
VL_VERSION = "6.4"  # the Vega-Lite version of altair 6.3's schema (v6.4.1)


def chart_mimebundle(spec: dict, **metadata: Any) -> dict[str, Any]:
    """altair renderer used by the report: the Vega-Lite spec and its SVG.

    >>> bundle = chart_mimebundle({"mark": "point", "data": {"values": [{"x": 1}]},
    ...     "encoding": {"x": {"field": "x", "type": "quantitative"}}})
    >>> sorted(bundle)
    ['application/vnd.vegalite.v6+json', 'image/svg+xml', 'text/plain']
    """
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)
    title = spec.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    return {CHART_MIME: spec, "image/svg+xml": svg, "text/plain": f"<chart: {text or 'untitled'}>"}


def notebook_setup() -> None:
    """Display settings for the notebooks: tables made for reading, offline charts.

    In a notebook kernel every polars DataFrame is shown as a formatted table
    (:func:`analytics.tables_html.table_html`: figures with their qualifiers, units,
    ``—`` for empty cells, source links, long tables folded); the plain-text view keeps
    whole small tables and long text. Charts go through :func:`chart_mimebundle`, so
    JupyterLab draws their SVG without fetching Vega from the network (the report draws
    them interactively).

    Examples
    --------
    >>> import analytics, polars as pl
    >>> with pl.Config():  # the settings are undone when the block ends
    ...     analytics.notebook_setup()
    ...     pl.Config.state()["POLARS_FMT_MAX_ROWS"]
    '120'
    """
    import polars as pl

    from analytics import tables_html

    enable_charts()
    tables_html.register()
    pl.Config.set_tbl_rows(120)
    pl.Config.set_tbl_cols(30)
    pl.Config.set_fmt_str_lengths(120)
    pl.Config.set_tbl_width_chars(200)
    pl.Config.set_tbl_hide_column_data_types(True)
    pl.Config.set_tbl_hide_dataframe_shape(True)


def enable_charts() -> None:
    """Make altair display charts through :func:`chart_mimebundle` (done by the report).

    Examples
    --------
    >>> import altair as alt
    >>> before = alt.renderers.active
    >>> enable_charts()
    >>> alt.renderers.active
    'chip-supply'
    >>> _ = alt.renderers.enable(before)
    """
    import altair as alt

    alt.renderers.register("chip-supply", chart_mimebundle)
    alt.renderers.enable("chip-supply")

