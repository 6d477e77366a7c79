"""Tables made for reading: a polars frame as a formatted HTML table (great-tables).

Every frame a notebook displays goes through :func:`table_html` (registered by
:func:`analytics.notebook_setup`), so no notebook needs code per table: figures with
thousands separators and their qualifiers (``≥ 400,000 combined``), intervals, units
under the column names, lists as text, ``—`` for an empty cell, source ids as links to
the report's sources page, and long tables folded after their first rows. The cell
text comes from :func:`analytics.formatting.readable`; great-tables lays the table out
and escapes the text.

>>> import polars as pl
>>> html = table_html(pl.DataFrame({"event_id": ["APR-048"], "units": [400000],
...     "units_qualifier": ["at_least"], "notes": [None]}))
>>> "≥ 400,000" in html and "—" in html and "null" not in html and '"APR' not in html
True
"""

from __future__ import annotations

import hashlib
import re
from html import escape
from typing import Any

import polars as pl

from analytics.formatting import EMPTY, Column, readable
from analytics.vocab import SOURCE_ID

SOURCES_PAGE = "sources.html"
MAX_ROWS = 500  # rows shown at most; the rest is counted
LONG_TABLE = 20  # longer tables show PREVIEW_ROWS and fold the whole table
PREVIEW_ROWS = 10
WORD_CHARS = 24  # a column whose cells are all this short never wraps (ids, dates, codes)
PROSE_CHARS = 60  # a column with a cell this long is given room to read (a summary, a quote)
# (text between the two gets a little room: names, scopes)
_SOURCE_ID = re.compile(SOURCE_ID)

#: The tables' stylesheet, scoped to ``.cs-table``: the report's pages carry it, and a
#: notebook's output carries it too (JupyterLab shows it; the report removes it).
TABLE_CSS = """
.cs-table{overflow-x:auto;max-width:100%;margin:.5rem 0 1rem;background:
  linear-gradient(to right,#fff 30%,#fff0) left/2rem 100% no-repeat local,
  linear-gradient(to left,#fff 30%,#fff0) right/2rem 100% no-repeat local,
  radial-gradient(farthest-side at 0 50%,#0003,#0000) left/.8rem 100% no-repeat scroll,
  radial-gradient(farthest-side at 100% 50%,#0003,#0000) right/.8rem 100% no-repeat scroll}
.cs-table table{border-collapse:collapse;font-size:13px;line-height:1.35;
  font-variant-numeric:tabular-nums;margin:0}
.cs-table th,.cs-table td{border:0;border-bottom:1px solid #d8dee4;padding:.3rem .55rem;
  vertical-align:top;text-align:left}
.cs-table thead th{border-bottom:2px solid #8c959f;vertical-align:bottom;font-weight:600;
  background:#f6f8fa}
.cs-table td{max-width:28em;overflow-wrap:break-word}
.cs-table .gt_right{text-align:right;white-space:nowrap}
.cs-table th.gt_right{white-space:normal}
.cs-table .cs-unit{display:block;font-weight:400;color:#57606a;font-size:11px}
.cs-table .cs-sources>*{display:block;white-space:nowrap;font-size:12px;max-width:13em;
  overflow:hidden;text-overflow:ellipsis}
.cs-table .cs-word{white-space:nowrap}
.cs-table .cs-prose{display:block;min-width:14em}
.cs-table .cs-text{display:block;min-width:8em}
.cs-table .cs-note,.cs-table summary{color:#57606a;font-size:12px;margin:.25rem 0}
.cs-table summary{cursor:pointer;color:#0969da}
.cs-table.cs-long:has(>details:not([open])) tbody tr:nth-child(n+@NEXT@){display:none}
.cs-table.cs-long>details:not([open])>summary::after{content:" (showing the first @SHOWN@)"}
.cs-table .cs-empty{color:#57606a;font-style:italic;margin:.25rem 0}
""".replace("@NEXT@", str(PREVIEW_ROWS + 1)).replace("@SHOWN@", str(PREVIEW_ROWS))


def _header(col: Column) -> Any:
    from great_tables import html

    unit = col.unit if col.unit and col.unit not in col.label.split() else ""
    note = " · ".join(t for t in (unit, "central (5–95%)" if col.interval else "") if t)
    small = f'<span class="cs-unit">{escape(note)}</span>' if note else ""
    return html(f"{escape(col.label)}{small}")


def source_links(text: str | None, sources_page: str = SOURCES_PAGE) -> str:
    """``; ``-joined source ids as links to their rows on the sources page (HTML).

    Anything that is not a source id is escaped and left unlinked.

    >>> print(source_links("reuters-20260128; <b>").replace("><", ">\\n<"))
    <span class="cs-sources">
    <a href="sources.html#reuters-20260128" title="reuters-20260128">reuters-20260128</a>
    <span>&lt;b&gt;</span>
    </span>
    """
    if not text:
        return EMPTY
    parts = []
    for sid in text.split("; "):
        parts.append(f'<a href="{sources_page}#{sid}" title="{sid}">{sid}</a>'
                     if _SOURCE_ID.match(sid) else f"<span>{escape(sid)}</span>")
    return f'<span class="cs-sources">{"".join(parts)}</span>'


def styled(df: pl.DataFrame, *, sources_page: str = SOURCES_PAGE,
           table_id: str | None = None) -> Any:
    """The frame as a ``great_tables.GT`` with the project's formats.

    Parameters
    ----------
    df : DataFrame
    sources_page : str
        Where source-id links point (``sources.html`` of the report).
    table_id : str, optional
        HTML id of the table; default a digest of the frame's shape and columns.

    Returns
    -------
    great_tables.GT
        Further styling may be chained on it (``.tab_header(...)`` ...).

    Examples
    --------
    >>> import polars as pl
    >>> gt = styled(pl.DataFrame({"tdp_w": [700.0]}))
    >>> "700" in gt.as_raw_html() and "W</span>" in gt.as_raw_html()
    True
    """
    from great_tables import GT

    text, columns = readable(df)
    gt = GT(text, id=table_id or _table_id(df), auto_align=False)
    gt = gt.cols_label(cases={c.name: _header(c) for c in columns})
    numbers = [c.name for c in columns if c.kind == "number"]
    gt = gt.cols_align("left")
    if numbers:
        gt = gt.cols_align("right", columns=numbers)
    for c in columns:
        if c.kind == "sources":
            gt = gt.fmt(lambda v: source_links(v, sources_page), columns=c.name)
        elif c.kind in ("text", "date"):
            width = text.get_column(c.name).str.len_chars().max() or 0
            kind = ("cs-word" if width <= WORD_CHARS else "cs-prose" if width >= PROSE_CHARS
                    else "cs-text")
            gt = gt.fmt(lambda v, k=kind: f'<span class="{k}">{escape(v or "")}</span>',
                        columns=c.name)
    return gt.sub_missing(missing_text=EMPTY)


def _table_id(df: pl.DataFrame) -> str:
    digest = hashlib.sha1(f"{df.columns}{df.shape}".encode()).hexdigest()[:10]
    return f"cs-{digest}"


_NOISE = re.compile(
    r'(?is)<style\b.*?</style\s*>|\s(?:headers|id|scope|style|data-quarto-[a-z-]+)="[^"]*"'
    r'|\s(?:rowspan|colspan)="1"'
)


def _bare(gt: Any) -> str:
    """The table's HTML without great-tables' stylesheet and attributes the page does not use.

    ``TABLE_CSS`` styles the table by its classes; the per-cell ids and ``headers`` would
    only be stripped again by the report's sanitizer, and make its work twice as long.
    """
    return _NOISE.sub("", gt.as_raw_html(inline_css=False)).strip()


def table_html(df: pl.DataFrame, *, sources_page: str = SOURCES_PAGE, style: bool = True) -> str:
    """HTML of a frame made for reading; long frames show their first rows until unfolded.

    Parameters
    ----------
    df : DataFrame
    sources_page : str
        Where source-id links point.
    style : bool
        Prepend :data:`TABLE_CSS` (a notebook's output; the report has it once per page).

    Returns
    -------
    str
        ``<div class="cs-table">`` with the table, or a "No rows." note for an empty frame.
    """
    css = f"<style>{TABLE_CSS}</style>" if style else ""
    if df.width == 0 or df.height == 0:
        cols = ", ".join(df.columns)
        what = f" (columns: {escape(cols)})" if cols else ""
        return f'{css}<div class="cs-table"><p class="cs-empty">No rows{what}.</p></div>'
    shown = df.head(MAX_ROWS)
    full = _bare(styled(shown, sources_page=sources_page))
    more = (f'<p class="cs-note">The first {MAX_ROWS:,} of {df.height:,} rows.</p>'
            if df.height > MAX_ROWS else "")
    if df.height <= LONG_TABLE:
        return f'{css}<div class="cs-table">{full}{more}</div>'
    return (  # rows past PREVIEW_ROWS hide until the details are opened (TABLE_CSS)
        f'{css}<div class="cs-table cs-long">{full}{more}<details><summary>'
        f"All {df.height:,} rows</summary></details></div>"
    )


def register(ipython: Any = None) -> bool:
    """Show polars DataFrames through :func:`table_html` in IPython (a notebook kernel).

    Returns
    -------
    bool
        Whether an IPython shell was there to register with.
    """
    if ipython is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        ipython = get_ipython()
    if ipython is None:
        return False
    ipython.display_formatter.formatters["text/html"].for_type(pl.DataFrame, table_html)
    return True
