"""Datasets in a terminal: the key columns, text that fits the width, nothing that acts.

``chip-supply show`` prints a dataset's key columns by default (:data:`KEY_COLUMNS`;
``--columns`` or ``--all`` for others) as a table that fits the terminal's width
(``COLUMNS``): long text wraps onto a few lines and is cut with ``…`` after them, and
when the chosen columns cannot fit side by side, each row is printed as a block of
``column  value`` lines. ``chip-supply diff`` prints the content of every added and
removed row and, for a changed row, each changed field with its old and new value
side by side. Figures read as in :mod:`analytics.formatting` (``≥ 400,000 combined``).
Control characters in the data (ESC, CSI ...) are shown as ``\\x1b`` escapes, never
sent to the terminal.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import unicodedata
from collections.abc import Sequence
from typing import Any

import polars as pl

from analytics.formatting import EMPTY, readable, without_controls
from analytics.rules import row_key
from analytics.vocab import PRIMARY_KEYS

#: Columns ``show`` prints by default; a figure's qualifier, scope and interval join it.
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "sources": ("source_id", "published_date", "publisher", "title"),
    "entities": ("entity_id", "name", "native_name", "kind", "country"),
    "chips": ("chip_id", "model", "vendor_id", "release_date", "china_specific",
              "bf16_dense_tflops", "memory_bw_gbps", "die_area_mm2"),
    "control_rules": ("rule_id", "clause", "effective_date", "eccn_class", "tpp_min", "pd_min",
                      "licence_policy"),
    "approvals": ("event_id", "date", "jurisdiction", "action", "quantity_units",
                  "quantity_qualifier", "quantity_scope", "summary"),
    "shipments": ("record_id", "record_type", "period_start", "product_scope",
                  "buyer_scope", "units_low", "units", "units_high", "units_qualifier",
                  "quantity_scope"),
    "lab_compute": ("record_id", "lab_id", "subject", "as_of_date", "name", "chip_count_low",
                    "chip_count", "chip_count_high", "chip_count_qualifier"),
    "parameters": ("parameter_id", "kind", "chip_id", "period_start", "value_low", "value",
                   "value_high", "value_qualifier", "unit"),
    "evidence": ("evidence_id", "dataset", "record_key", "field", "basis", "source_id",
                 "quote"),
}
MAX_LINES = 3  # lines a table cell may wrap onto before it is cut with …
MIN_WIDTH = 6  # narrowest column of a table; below it rows are printed as blocks
MIN_TEXT = 14  # narrowest column of wrapping text
CODE_WIDTH = 12  # narrowest column of codes and ids (they break after _ and -)
GAP = "  "


def terminal_width(default: int = 100) -> int:
    """The terminal's width: ``COLUMNS`` when set, else the terminal's, else ``default``."""
    return max(40, shutil.get_terminal_size((default, 24)).columns)


def split_columns(names: Sequence[str] | None) -> list[str]:
    """Column names given as ``a,b``, ``a b`` or both.

    >>> split_columns(["chip_id,model", "tdp_w"])
    ['chip_id', 'model', 'tdp_w']
    """
    return [n.strip() for name in names or () for n in name.split(",") if n.strip()]


# --------------------------------------------------------------------------- text width
def cell_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) characters two, combining none.

    >>> cell_width("abc"), cell_width("字节跳动"), cell_width("e\\u0301")
    (3, 8, 1)
    """
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns, ending in … when cut."""
    if cell_width(text) <= width:
        return text
    out, used = "", 0
    for ch in text:
        w = cell_width(ch)
        if used + w > width - 1:
            break
        out, used = out + ch, used + w
    return out + "…"


def _pieces(word: str, width: int) -> list[str]:
    """A word too long for ``width`` split after ``_ - / ;``, else every ``width`` columns."""
    out: list[str] = []
    for seg in re.findall(r"[^_\-/;]+[_\-/;]*|[_\-/;]+", word):
        while cell_width(seg) > width:
            cut = _cut(seg, width + 1)[:-1]  # the longest head that fits
            out.append(cut)
            seg = seg[len(cut):]
        out.append(seg)
    return out


def wrap(text: str, width: int, lines: int | None = MAX_LINES) -> list[str]:
    """``text`` wrapped to ``width`` columns on at most ``lines`` lines (… when cut).

    Words break at spaces; a word longer than a line breaks after ``_``, ``-``, ``/``
    or ``;``, else anywhere. Wide (CJK) characters count two columns.

    >>> wrap("The US required a licence for the H20", 14, 2)
    ['The US', 'required a li…']
    >>> wrap("sales_estimate", 8)
    ['sales_', 'estimate']
    """
    width = max(2, width)
    out: list[str] = []
    for para in text.splitlines() or [""]:
        line = ""
        for word in para.split(" "):
            for k, piece in enumerate(_pieces(word, width) if word else [""]):
                sep = "" if k or not line else " "
                if line and cell_width(line + sep + piece) > width:
                    out.append(line)
                    line = piece
                else:
                    line += sep + piece
        out.append(line)
    if lines is not None and len(out) > lines:
        rest = " ".join(out[lines - 1:])
        out = [*out[:lines - 1], _cut(rest, width) if cell_width(rest) > width else rest + "…"]
        out[-1] = _cut(out[-1], width)
    return out


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(0, width - cell_width(text))
    return space + text if right else text + space


# --------------------------------------------------------------------------- show
def _cells(df: pl.DataFrame) -> tuple[list[str], list[list[str]], list[str]]:
    """Headers, rows of cell text (``—`` when empty, controls escaped), column kinds."""
    text, columns = readable(df)
    headers = [without_controls(c.name) for c in columns]
    rows = [[without_controls(v) if v is not None else EMPTY for v in row]
            for row in text.iter_rows()]
    return headers, rows, [c.kind for c in columns]


def _header_lines(header: str, width: int) -> list[str]:
    """A column name wrapped after its underscores (``bf16_dense_`` / ``tflops``)."""
    lines = [""]
    for seg in re.findall(r"[^_]+_*|_+", header):
        if lines[-1] and cell_width(lines[-1] + seg) > width:
            lines.append("")
        lines[-1] += seg
    return [_cut(ln, width) for ln in lines]


def _widths(headers: list[str], rows: list[list[str]], kinds: list[str],
            width: int) -> list[int] | None:
    """Column widths that fit ``width``; None when they cannot.

    The column whose width most exceeds its share gives way first: wrapping text (it has
    spaces) before codes and ids, the key (first) column after them. Figures and dates
    only wrap their name (after its underscores); text stops at ``MIN_TEXT`` columns,
    codes at ``CODE_WIDTH``.
    """
    fixed = [k in ("number", "date") for k in kinds]
    longest = [max([1, *(cell_width(r[i]) for r in rows)]) for i in range(len(headers))]
    prose = [not fixed[i] and any(" " in r[i] for r in rows) for i in range(len(headers))]
    part = [max(cell_width(seg) for seg in re.findall(r"[^_]+_*|_+", h)) for h in headers]
    natural = [max(n, cell_width(h)) for n, h in zip(longest, headers, strict=True)]
    floor = [max(p, n if f else MIN_TEXT if t else min(n, CODE_WIDTH), MIN_WIDTH)
             for p, n, f, t in zip(part, longest, fixed, prose, strict=True)]
    floor = [min(f, n) for f, n in zip(floor, natural, strict=True)]
    offset = [0 if prose[i] else 12 if i == 0 else 6 for i in range(len(headers))]
    budget = width - len(GAP) * (len(headers) - 1)
    widths = list(natural)
    while sum(widths) > budget:
        give = [i for i in range(len(widths)) if widths[i] > floor[i]]
        if not give:
            return None
        i = max(give, key=lambda j: widths[j] - offset[j])
        widths[i] = max(floor[i], widths[i] - max(1, (sum(widths) - budget) // 4))
    return widths


def _table(headers: list[str], rows: list[list[str]], right: list[bool],
           widths: list[int]) -> list[str]:
    def line(cells: list[list[str]], k: int) -> str:
        parts = [_pad(c[k] if k < len(c) else "", w, r)
                 for c, w, r in zip(cells, widths, right, strict=True)]
        return GAP.join(parts).rstrip()

    head = [_header_lines(h, w) for h, w in zip(headers, widths, strict=True)]
    out = [line(head, k) for k in range(max(len(c) for c in head))]
    out.append(GAP.join("─" * w for w in widths))
    for row in rows:
        cells = [wrap(v, w) for v, w in zip(row, widths, strict=True)]
        out += [line(cells, k) for k in range(max(len(c) for c in cells))]
    return out


def _blocks(headers: list[str], rows: list[list[str]], width: int) -> list[str]:
    """One block per row: ``column  value`` lines, values wrapped under each other."""
    label = min(max(cell_width(h) for h in headers), width // 3)
    out = []
    for row in rows:
        out.append("─" * min(width, 40) + f" {_cut(row[0], width - 42)}")
        for h, v in zip(headers, row, strict=True):
            lines = wrap(v, width - label - len(GAP), lines=None)
            out.append(f"{_pad(_cut(h, label), label)}{GAP}{lines[0]}".rstrip())
            out += [f"{' ' * (label + len(GAP))}{ln}".rstrip() for ln in lines[1:]]
    return out


def show_text(df: pl.DataFrame, dataset: str | None = None, *, all_columns: bool = False,
              width: int | None = None) -> str:
    """A dataset as a person reads it in a terminal of ``width`` columns.

    Parameters
    ----------
    df : DataFrame
    dataset : str, optional
        Its name; picks :data:`KEY_COLUMNS` unless ``all_columns``.
    all_columns : bool
        Every column of ``df`` (as ``--all`` or ``--columns`` ask).
    width : int, optional
        Default :func:`terminal_width`.

    Returns
    -------
    str
        A table, or one block per row when the columns cannot fit side by side, and a
        last line saying what is shown.

    Examples
    --------
    >>> df = pl.DataFrame({"event_id": ["APR-048"], "quantity_units": [400000],
    ...     "quantity_qualifier": ["at_least"], "summary": ["China \\x1b[2Japproved"]})
    >>> print(show_text(df, all_columns=True, width=60))
    event_id  quantity_units  summary
    ────────  ──────────────  ─────────────────────
    APR-048        ≥ 400,000  China \\x1b[2Japproved
    1 row, 4 columns
    """
    width = width or terminal_width()
    keys = [c for c in KEY_COLUMNS.get(dataset or "", ()) if c in df.columns]
    shown = df if all_columns or not keys else df.select(keys)
    headers, rows, kinds = _cells(shown)
    if not rows:
        return f"no rows ({', '.join(headers)})"
    widths = _widths(headers, rows, kinds, width)
    right = [k == "number" for k in kinds]
    body = _table(headers, rows, right, widths) if widths else _blocks(headers, rows, width)
    note = f"{len(rows):,} row{'s' if len(rows) != 1 else ''}, {shown.width} columns"
    if shown.width < df.width:
        note += f" of {df.width} (--all shows every column, --columns a,b chooses)"
    return "\n".join([*body, note])


# --------------------------------------------------------------------------- diff
def exact_text(value: Any) -> str:
    """A value exactly as stored (no rounding), for comparing two versions.

    >>> exact_text(["a", "b"]), exact_text(989.45), exact_text(None), exact_text("\\x07")
    ('a; b', '989.45', '—', '\\\\x07')
    """
    if value is None:
        return EMPTY
    if isinstance(value, list | tuple | pl.Series):
        return "; ".join(exact_text(v) for v in value) or EMPTY
    if isinstance(value, dt.date):
        return value.isoformat()
    return without_controls(str(value)) or EMPTY


def _record(row: dict[str, Any], width: int, indent: int) -> list[str]:
    filled = {k: exact_text(v) for k, v in row.items() if v not in (None, [], "")}
    if not filled:
        return []
    label = min(max(len(k) for k in filled), 24)
    room = width - indent - label - len(GAP)
    out = []
    for k, v in filled.items():
        lines = wrap(v, room, lines=None)
        out.append(f"{' ' * indent}{_pad(_cut(k, label), label)}{GAP}{lines[0]}".rstrip())
        out += [f"{' ' * (indent + label + len(GAP))}{ln}".rstrip() for ln in lines[1:]]
    return out


def _side_by_side(changes: dict[str, tuple[Any, Any]], width: int, indent: int) -> list[str]:
    """Each changed field: name, old value, →, new value, each wrapped in its column."""
    label = min(max(len(c) for c in changes), 24)
    half = max(10, (width - indent - label - len(GAP) - 3) // 2)
    out = []
    for col, (old, new) in changes.items():
        left, right = wrap(exact_text(old), half, None), wrap(exact_text(new), half, None)
        for k in range(max(len(left), len(right))):
            name = _pad(_cut(col, label) if k == 0 else "", label)
            arrow = "→" if k == 0 else " "
            a = _pad(left[k] if k < len(left) else "", half)
            b = right[k] if k < len(right) else ""
            out.append(f"{' ' * indent}{name}{GAP}{a} {arrow} {b}".rstrip())
    return out


def diff_text(d: Any, old: pl.DataFrame, new: pl.DataFrame, *, width: int | None = None) -> str:
    """A release diff as a person reads it: what added and removed rows say, and what changed.

    Parameters
    ----------
    d : analytics.Diff
        :func:`analytics.diff` of one dataset.
    old, new : DataFrame
        The two versions of the dataset that ``d`` compares (rows found by
        :func:`analytics.rules.row_key`, as the diff found them).
    width : int, optional
        Default :func:`terminal_width`.

    Returns
    -------
    str
    """
    width = width or terminal_width()
    out = [d.summary()]
    for title, keys, frame, mark in (("added", d.added, new, "+"),
                                     ("removed", d.removed, old, "-")):
        if not keys:
            continue
        keyed = frame.with_columns(row_key(d.name, frame.columns).alias("__key"))
        shown = keyed.drop(PRIMARY_KEYS.get(d.name, ()), strict=False)
        rows = {r.pop("__key"): r for r in shown.iter_rows(named=True)}
        out += ["", f"{title} ({len(keys)})"]
        for k in keys:
            out.append(f"  {mark} {exact_text(k)}")
            out += _record(rows.get(k, {}), width, indent=6)
    if d.changed:
        out += ["", f"changed ({len(d.changed)}): old → new"]
        for k, cols in d.changed.items():
            out.append(f"  ~ {exact_text(k)}")
            out += _side_by_side(cols, width, indent=6)
    return "\n".join(out)
