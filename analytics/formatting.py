"""Figures as people read them: numbers, quantities with qualifiers, intervals, units.

One home for the text of a figure, shared by the charts' labels, the report's tables
(:mod:`analytics.tables_html`) and the terminal (:mod:`analytics.terminal`):
``≥ 400,000 combined``, ``≤ 75,000 per company``, ``2,000 (1,500–3,000)``,
``3.3×10²⁴``. :func:`readable` turns a frame into text columns: a figure and its
qualifier, scope and 5th/95th percentiles become one column, lists become text, and an
empty cell stays empty (``None``), for the caller to show as ``—``.

>>> quantity_text(400000, "at_least", "combined")
'≥ 400,000 combined'
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from analytics.frames import list_to_text, triplet_columns
from analytics.rules import starts_like_formula

#: Sign before a quantity for each qualifier of :data:`analytics.vocab.QUANTITY_QUALIFIERS`.
QUALIFIER_SIGNS = {"exact": "", "about": "≈ ", "approx": "≈ ", "at_least": "≥ ",
                   "at_most": "≤ ", "range": ""}
#: Words after a quantity for each scope of :data:`analytics.vocab.QUANTITY_SCOPES`.
SCOPE_WORDS = {"per_entity": " per company", "combined": " combined"}
EMPTY = "—"
SIGNIFICANT = 4  # significant digits of a fractional figure
SCIENTIFIC_FROM = 1e12  # figures at least this large (FLOP, FLOP/s) are written as a×10ⁿ
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")

# Units by column name, for derived columns and the datasets' naming habits; the
# datasets' own units are in their schemas' descriptions (a test keeps both in step).
_UNIT_SUFFIXES = (
    ("_tflops", "TFLOP/s"), ("_tops", "TOP/s"), ("_gbps", "GB/s"), ("_gb", "GB"),
    ("_mm2", "mm²"), ("_w", "W"), ("_usd", "USD, nominal"), ("_flop", "FLOP"),
    ("_hours", "chip-hours"), ("_days", "days"),
)
_UNIT_NAMES = {
    "tpp": "bit × TOP/s", "tpp_stated": "bit × TOP/s", "tpp_min": "bit × TOP/s",
    "tpp_max": "bit × TOP/s", "performance_density": "TPP/mm²", "pd_min": "TPP/mm²",
    "pd_max": "TPP/mm²", "units": "units", "quantity_units": "units",
    "approved_quantity": "units", "ordered_units": "units", "intent_units": "units",
    "confirmed_delivered": "units", "headroom": "units", "chip_count": "chips",
    "chips": "chips",
}
_UNIT_PREFIXES = (("flops_", "FLOP/s"), ("h100e_", "H100e"))
# words of a column name that a label writes otherwise; unit words are left out
_WORDS = {
    "bf16": "BF16", "fp8": "FP8", "fp4": "FP4", "int8": "INT8", "tpp": "TPP", "tdp": "TDP",
    "h100e": "H100e", "mfu": "MFU", "flop": "FLOP", "flops": "FLOP/s", "gpu": "GPU",
    "pd": "density", "bw": "bandwidth", "dram": "DRAM", "eccn": "ECCN", "id": "id",
    "tflops": "", "tops": "", "gbps": "", "gb": "", "mm2": "", "w": "", "usd": "",
}
_SOURCE_COLUMN = re.compile(r"(^|_)source_ids?$")
_ID_LIST = re.compile(r"^[\w.\-]+(;[\w.\-]+)+$")  # "alibaba;bytedance": ids joined as text
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# --------------------------------------------------------------------------- one figure
def number_text(value: float | int | None) -> str | None:
    """A number with thousands separators and sensible significant figures.

    Whole numbers keep every digit; fractions keep four significant digits; figures
    from 10¹² up are written as ``a×10ⁿ`` with three.

    Parameters
    ----------
    value : float, int or None

    Returns
    -------
    str or None
        ``None`` for a missing value (null or NaN).

    Examples
    --------
    >>> [number_text(v) for v in (400000, 989.4, 2.3681, 0.000123456, 15832.7, 3.3e24)]
    ['400,000', '989.4', '2.368', '0.0001235', '15,833', '3.3×10²⁴']
    >>> number_text(None) is None and number_text(float("nan")) is None
    True
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if abs(value) >= SCIENTIFIC_FROM:
        mantissa, exponent = f"{value:.2e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    digits = len(str(int(abs(value)))) if abs(value) >= 1 else 0
    if digits >= SIGNIFICANT:
        return f"{round(value):,}"
    if abs(value) < 1:
        text = f"{value:.{SIGNIFICANT}g}"
        if "e" in text:  # below 1e-4: write the zeros out
            exponent = int(text.split("e")[1])
            text = f"{value:.{SIGNIFICANT - 1 - exponent}f}"
        return text
    return f"{value:,.{SIGNIFICANT - digits}f}".rstrip("0").rstrip(".")


def quantity_text(units: float | None, qualifier: str | None, scope: str | None = None) -> str:
    """A quantity as people read it: ``≥ 400,000``, ``≤ 75,000 per company``.

    Parameters
    ----------
    units : float or None
    qualifier : str or None
        One of :data:`analytics.vocab.QUANTITY_QUALIFIERS`.
    scope : str or None
        One of :data:`analytics.vocab.QUANTITY_SCOPES`.

    Returns
    -------
    str
        ``""`` when there is no quantity.

    Examples
    --------
    >>> quantity_text(75000, "at_most", "per_entity")
    '≤ 75,000 per company'
    >>> quantity_text(None, "at_least")
    ''
    """
    text = number_text(units)
    if text is None:
        return ""
    return f"{QUALIFIER_SIGNS.get(qualifier or '', '')}{text}{SCOPE_WORDS.get(scope or '', '')}"


def interval_text(central: float | None, low: float | None = None,
                  high: float | None = None) -> str | None:
    """A central figure with its 5th–95th percentile interval: ``2,000 (1,500–3,000)``.

    Examples
    --------
    >>> interval_text(2000, 1500, 3000), interval_text(None, 10, 20), interval_text(5, 5, 5)
    ('2,000 (1,500–3,000)', '10–20', '5')
    >>> interval_text(None) is None
    True
    """
    mid, lo, hi = number_text(central), number_text(low), number_text(high)
    span = f"{lo or '…'}–{hi or '…'}" if (lo or hi) and not lo == hi == mid else None
    if mid is None:
        return span
    return f"{mid} ({span})" if span else mid


def plain_text(value: Any) -> str | None:
    """Any cell as text: lists ``; ``-joined, dates ISO, booleans yes/no, numbers formatted.

    Text that is ids joined by ``;`` (``alibaba;bytedance``) is spaced like a list.

    Examples
    --------
    >>> import datetime as dt
    >>> [plain_text(v) for v in (["a", "b"], [], dt.date(2026, 1, 28), True, 1234.56, "")]
    ['a; b', None, '2026-01-28', 'yes', '1,235', None]
    >>> plain_text("alibaba;bytedance"), plain_text("a; b;c")
    ('alibaba; bytedance', 'a; b;c')
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value.replace(";", "; ") if _ID_LIST.match(value) else value or None
    if isinstance(value, bool | int | float):
        return number_text(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | pl.Series):
        items = [t for t in (plain_text(v) for v in value) if t]
        return "; ".join(items) or None
    if isinstance(value, dict):
        items = [f"{k}: {plain_text(v) or EMPTY}" for k, v in value.items()]
        return "; ".join(items) or None
    return str(value)


def without_controls(text: str) -> str:
    """``text`` with control characters (ESC, CSI, BEL ...) shown as ``\\x1b`` escapes.

    Tabs and newlines stay. Used before text reaches a terminal.

    >>> without_controls("red \\x1b[31mtext\\x1b[0m\\ttab")
    'red \\\\x1b[31mtext\\\\x1b[0m\\ttab'
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


# --------------------------------------------------------------------------- columns
def unit_of(column: str) -> str:
    """The unit of a column by its name (``""`` when it has none).

    Examples
    --------
    >>> [unit_of(c) for c in ("bf16_dense_tflops", "h100e_bf16_low", "tpp", "model")]
    ['TFLOP/s', 'H100e', 'bit × TOP/s', '']
    """
    for suffix in ("_low", "_high"):
        column = column.removesuffix(suffix)
    if column in _UNIT_NAMES:
        return _UNIT_NAMES[column]
    for prefix, unit in _UNIT_PREFIXES:
        if column.startswith(prefix):
            return unit
    return next((unit for suffix, unit in _UNIT_SUFFIXES if column.endswith(suffix)), "")


def column_label(column: str) -> str:
    """A column's name in words, its unit left for :func:`unit_of`.

    Examples
    --------
    >>> [column_label(c) for c in ("bf16_dense_tflops", "tdp_w", "approved_quantity", "pd_min")]
    ['BF16 dense', 'TDP', 'approved quantity', 'density min']
    >>> column_label("us_bis_2023_10")  # a value made a column name stays as it is
    'us_bis_2023_10'
    """
    parts = column.split("_")
    if any(p.isdigit() for p in parts):  # a value made a column (a pivot's rule_id)
        return column
    words = [_WORDS.get(w, w) for w in parts]
    return " ".join(w for w in words if w) or column


def is_source_column(column: str) -> bool:
    """Whether a column holds source ids (``source_ids``, ``approval_source_ids`` ...)."""
    return bool(_SOURCE_COLUMN.search(column))


@dataclass(frozen=True)
class Column:
    """One column of a readable table: its frame column, label, unit and kind.

    ``kind`` is ``number`` (right-aligned), ``sources`` (source ids), ``date`` or ``text``;
    ``interval`` says that the cells carry a 5th–95th percentile interval.
    """

    name: str
    label: str
    unit: str
    kind: str
    interval: bool = False


def _numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() and dtype != pl.Boolean


def _first(df: pl.DataFrame, names: Sequence[str], dtype: Any = pl.String) -> str | None:
    return next((n for n in names if n in df.columns and df.schema[n] == dtype), None)


def _figure_parts(df: pl.DataFrame, col: str) -> dict[str, str | None]:
    """The columns that belong to figure ``col``: its interval bounds, qualifier and scope."""
    low, _, high = triplet_columns(col)
    has_interval = all(c in df.columns and _numeric(df.schema[c]) for c in (low, high))
    stem = col.rsplit("_", 1)[0]
    scopes = [f"{col}_scope", f"{stem}_scope"] + (["quantity_scope"] if col == "units" else [])
    return {
        "low": low if has_interval else None,
        "high": high if has_interval else None,
        "qualifier": _first(df, [f"{col}_qualifier", f"{stem}_qualifier"]),
        "scope": _first(df, scopes),
    }


def _figure_cells(df: pl.DataFrame, col: str, parts: dict[str, str | None]) -> list[str | None]:
    def values(name: str | None) -> list:
        return df.get_column(name).to_list() if name else [None] * df.height

    cells = []
    for mid, lo, hi, qual, scope in zip(*(values(n) for n in (
            col, parts["low"], parts["high"], parts["qualifier"], parts["scope"])), strict=True):
        text = interval_text(mid, lo, hi)
        if text is not None and mid is not None:
            text = (QUALIFIER_SIGNS.get(qual or "", "") + text
                    + SCOPE_WORDS.get(scope or "", ""))
        cells.append(text)
    return cells


def readable(df: pl.DataFrame, *, year_columns: Sequence[str] = ()) -> tuple[
        pl.DataFrame, list[Column]]:
    """The frame as text columns, with each figure's parts in one column.

    A numeric column ``x`` takes in ``x_low`` and ``x_high`` (``x (low–high)``), its
    qualifier (``x_qualifier`` or ``<stem>_qualifier``) and scope (``≥ 400,000
    combined``); those columns are then left out. Lists become ``; ``-joined text,
    dates ISO dates, and an empty cell ``None``.

    Parameters
    ----------
    df : DataFrame
    year_columns : sequence of str
        Integer columns written without thousands separators (besides any column
        whose name contains ``year``).

    Returns
    -------
    tuple
        A frame of ``String`` columns (same row order) and one :class:`Column` each.

    Examples
    --------
    >>> df = pl.DataFrame({"event_id": ["APR-048"], "approved_quantity": [400000],
    ...     "approved_qualifier": ["at_least"], "approved_scope": ["combined"],
    ...     "source_ids": [["a", "b"]], "notes": [None]})
    >>> text, cols = readable(df)
    >>> text.row(0)
    ('APR-048', '≥ 400,000 combined', 'a; b', None)
    >>> [(c.label, c.unit, c.kind) for c in cols][1:3]
    [('approved quantity', 'units', 'number'), ('source ids', '', 'sources')]
    """
    numeric = [c for c, t in df.schema.items() if _numeric(t)]
    bounds = {b for c in numeric for b in triplet_columns(c)[::2]
              if all(x in numeric for x in triplet_columns(c)[::2])}
    merged: set[str] = set(bounds)
    figures: dict[str, dict[str, str | None]] = {}
    for col in (c for c in numeric if c not in bounds):
        parts = _figure_parts(df, col)
        for key in ("qualifier", "scope"):
            if parts[key] in merged:  # an earlier figure has it
                parts[key] = None
        figures[col] = parts
        merged.update(p for p in parts.values() if p)
    out: dict[str, list[str | None]] = {}
    columns: list[Column] = []
    for col, dtype in df.schema.items():
        if col in merged and col not in figures:
            continue
        if col in figures and not ("year" in col or col in year_columns):
            cells = _figure_cells(df, col, figures[col])
            kind = "number"
        else:
            cells = [str(v) if isinstance(v, int) and not isinstance(v, bool) else plain_text(v)
                     for v in df.get_column(col).to_list()]
            kind = ("number" if _numeric(dtype) else "sources" if is_source_column(col)
                    else "date" if dtype in (pl.Date, pl.Datetime) else "text")
        out[col] = cells
        columns.append(Column(col, column_label(col), unit_of(col), kind,
                              interval=bool(figures.get(col, {}).get("low"))))
    frame = pl.DataFrame(out, schema=dict.fromkeys(out, pl.String), strict=False)
    return frame, columns


def csv_text(df: pl.DataFrame) -> str:
    """The frame as CSV that a spreadsheet opens without running a formula.

    Lists become ``;``-joined text; every text cell that starts like a formula
    (:func:`analytics.rules.starts_like_formula`) gets a leading ``'``.

    Examples
    --------
    >>> print(csv_text(pl.DataFrame({"a": ["=1+1", "ok"], "ids": [["x", "y"], []]})), end="")
    a,ids
    '=1+1,x;y
    ok,
    """
    lists = [c for c, t in df.schema.items() if isinstance(t, pl.List)]
    out = df.with_columns(
        list_to_text(pl.col(c).list.eval(pl.element().cast(pl.String)), empty=None).alias(c)
        for c in lists
    )
    out = out.with_columns(
        pl.when(starts_like_formula(c)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c))
        .alias(c)
        for c, t in out.schema.items() if t == pl.String
    )
    return out.write_csv(line_terminator="\n")
