"""What to do about a contract finding: each says the rule in words and how to fix the cell.

pandera names a failed check by its call (``greater_than_or_equal_to(0)``); a check on
whole rows reports the row. :func:`advise` turns these into findings a contributor can
act on: the column and the cells concerned, the rule, and what to change.
"""

from __future__ import annotations

import re
from dataclasses import replace

import polars as pl

from analytics.errors import Finding, printable
from analytics.rules import row_key

_BOUNDS = {
    "greater_than_or_equal_to": "≥", "greater_than": ">",
    "less_than_or_equal_to": "≤", "less_than": "<", "equal_to": "=",
}


def advise(f: Finding, frame: pl.DataFrame | None = None) -> Finding:
    """The finding with a message that says the rule and what to do (and its column).

    Parameters
    ----------
    f : Finding
        A contract finding (others are returned unchanged).
    frame : polars.DataFrame, optional
        The table it was found in, to name the cells of a check on whole rows.

    Returns
    -------
    Finding

    Examples
    --------
    >>> f = Finding("error", "shipments", "SHP-1", "units", "greater_than_or_equal_to(0)",
    ...             "-5", "column 'units' fails check 'greater_than_or_equal_to(0)'")
    >>> advise(f).message
    'units must be ≥ 0: correct the figure or empty it'
    """
    check, col = f.check, f.column
    call = re.match(r"^(\w+)\((.*)\)$", check, flags=re.S)
    func, arg = (call.group(1), call.group(2)) if call else (check, "")
    if col and func in _BOUNDS:
        return replace(f, message=f"{col} must be {_BOUNDS[func]} {arg}: correct the figure "
                                  "or empty it")
    if col and func == "in_range":
        return replace(f, message=f"{col} must lie in [{arg}]: correct the figure or empty it")
    if col and func == "isin":
        allowed = ", ".join(re.findall(r"'([^']*)'", arg)) or arg
        return replace(f, message=f"{col} must be one of {allowed}: write one of them "
                                  "(docs/data-dictionary.md says what each means)")
    if col and func == "str_matches":
        pattern = arg.strip("'\"")
        return replace(f, message=f"{col} must match {pattern}: write it in that form")
    if col and func == "str_length":
        return replace(f, message=f"{col} is longer than the contract allows ({arg}): shorten "
                                  "it, or move detail to notes")
    if col and func == "not_nullable":
        return replace(f, message=f"{col} must not be empty: fill it from the sources")
    if col and func in ("field_uniqueness", "unique"):
        return replace(f, message=f"{col} must be unique and {printable(f.value)[:60]} appears "
                                  "more than once: merge the rows or give each its own id")
    if not col and frame is not None and f.check and "(" not in f.check:
        return _row_check(f, frame)
    return f


def _row_check(f: Finding, frame: pl.DataFrame) -> Finding:
    """A check on whole rows: name the columns its name mentions and show only their cells."""
    if f.check == "basis_iff_value":
        return _basis(f, frame)
    cols = [c for c in frame.columns if c in f.check]
    triplet = re.match(r"^(\w+)_triplet_ordered$", f.check)
    if triplet:
        stem = triplet.group(1)
        cols = [c for c in (f"{stem}_low", stem, f"{stem}_high") if c in frame.columns]
    if not cols:
        return f
    row = _row(frame, f.dataset, f.key)
    value = ", ".join(f"{c}={row.get(c)}" for c in cols) if row else ""
    if triplet:
        message = (f"{cols[0]} ≤ {stem} ≤ {cols[-1]} must hold: put the low, central and "
                   "high figures in order, or empty the ones the source does not state")
    else:
        rule = f.check.replace("_iff_", " exactly when ").replace("_", " ")
        message = (f"the row breaks the rule '{rule}' on {', '.join(cols)}: make these cells "
                   "agree (docs/data-dictionary.md explains the columns)")
    return replace(f, column=cols[0], value=printable(value)[:200], message=message)


def _basis(f: Finding, frame: pl.DataFrame) -> Finding:
    """A figure without its basis, or a basis without its figure: name that column."""
    row = _row(frame, f.dataset, f.key) or {}
    for col in frame.columns:
        basis = f"{col}_basis"
        if basis in row and (row.get(col) is None) != (row.get(basis) is None):
            return replace(
                f, column=col, value=printable(f"{col}={row.get(col)}, {basis}={row.get(basis)}"),
                message=f"{col} and {basis} go together: give the figure with its basis "
                        "(vendor_spec, third_party or derived), or empty both")
    return f


def _row(frame: pl.DataFrame, name: str, key: str) -> dict | None:
    try:
        keys = frame.select(row_key(name, frame.columns)).to_series()
    except (KeyError, pl.exceptions.PolarsError):
        return None
    hits = (keys == key).arg_true()
    return frame.row(hits[0], named=True) if hits.len() else None
