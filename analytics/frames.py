"""Frame helpers every module shares: lazy in and out, missing columns, triplets, list text.

The bottom floor beside :mod:`analytics.rules`: it imports only polars.

>>> import polars as pl
>>> lf, lazy = as_lazy(pl.DataFrame({"ids": [["b", "a"]]}))
>>> like(lf.select(list_to_text("ids", sort=True)), lazy)["ids"].to_list()
['a;b']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

Frame = pl.DataFrame | pl.LazyFrame

#: Separator of list items written as text (CSV cells, labels, group names).
LIST_SEPARATOR = ";"
#: Suffixes of an uncertainty triplet: 5th percentile, central figure, 95th percentile.
TRIPLET_SUFFIXES = ("_low", "", "_high")


def _col(col: str | pl.Expr) -> pl.Expr:
    return pl.col(col) if isinstance(col, str) else col


def as_lazy(frame: Frame) -> tuple[pl.LazyFrame, bool]:
    """The frame as a LazyFrame, and whether the caller gave a LazyFrame.

    Parameters
    ----------
    frame : DataFrame or LazyFrame

    Returns
    -------
    tuple
        ``(lazy_frame, was_lazy)``; pass ``was_lazy`` to :func:`like`.

    Examples
    --------
    >>> import polars as pl
    >>> lf, lazy = as_lazy(pl.DataFrame({"a": [1]}))
    >>> type(lf).__name__, lazy
    ('LazyFrame', False)
    """
    if isinstance(frame, pl.LazyFrame):
        return frame, True
    if isinstance(frame, pl.DataFrame):
        return frame.lazy(), False
    raise TypeError(f"expected a polars DataFrame or LazyFrame, got {type(frame).__name__}")


def like(lf: pl.LazyFrame, lazy: bool) -> Frame:
    """``lf`` as the kind the caller gave: itself when ``lazy``, else collected.

    Parameters
    ----------
    lf : LazyFrame
    lazy : bool

    Returns
    -------
    DataFrame or LazyFrame

    Examples
    --------
    >>> import polars as pl
    >>> like(pl.LazyFrame({"a": [1]}), False).shape
    (1, 1)
    """
    return lf if lazy else lf.collect()


def add_missing_columns(lf: Frame, cols: Mapping[str, Any]) -> Frame:
    """Add each column of ``cols`` (name -> dtype) that ``lf`` lacks, as nulls.

    Parameters
    ----------
    lf : DataFrame or LazyFrame
    cols : mapping of str to polars DataType

    Returns
    -------
    DataFrame or LazyFrame
        The same kind, with every column of ``cols``.

    Examples
    --------
    >>> import polars as pl
    >>> add_missing_columns(pl.DataFrame({"a": [1]}), {"a": pl.Int64, "b": pl.String}).columns
    ['a', 'b']
    """
    have = lf.collect_schema().names()
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in cols.items() if c not in have]
    return lf.with_columns(missing) if missing else lf


def triplet_columns(stem: str) -> tuple[str, str, str]:
    """The columns of an uncertainty triplet: 5th percentile, central, 95th percentile.

    Parameters
    ----------
    stem : str
        E.g. ``units`` or ``chip_count``.

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> triplet_columns("units")
    ('units_low', 'units', 'units_high')
    """
    low, central, high = (f"{stem}{s}" for s in TRIPLET_SUFFIXES)
    return low, central, high


def list_to_text(col: str | pl.Expr, *, sort: bool = False, empty: str | None = "") -> pl.Expr:
    """A list column as ``;``-joined text; an empty or null list becomes ``empty``.

    Parameters
    ----------
    col : str or Expr
        A ``list[str]`` column.
    sort : bool
        Sort the items first.
    empty : str or None
        Text of an empty or null list (``None`` for null, as in a CSV cell).

    Returns
    -------
    Expr
        ``String``, named like ``col``.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"ids": [["b", "a"], []]})
    >>> df.select(list_to_text("ids", sort=True))["ids"].to_list()
    ['a;b', '']
    >>> df.select(list_to_text("ids", empty=None))["ids"].to_list()
    ['b;a', None]
    """
    c = _col(col)
    items = c.list.sort() if sort else c
    return (
        pl.when(c.list.len() > 0)
        .then(items.list.join(LIST_SEPARATOR))
        .otherwise(pl.lit(empty, dtype=pl.String))
    )


def dtype_word(dtype: Any) -> str:
    """A polars dtype in plain words (the Frictionless type names, and ``list``).

    Parameters
    ----------
    dtype : polars DataType (class or instance)

    Returns
    -------
    str
        ``string``, ``integer``, ``number``, ``date``, ``datetime``, ``boolean`` or
        ``list``; else the dtype's own name.

    Examples
    --------
    >>> import polars as pl
    >>> [dtype_word(t) for t in (pl.String, pl.Int64, pl.Float64, pl.Date, pl.List(pl.String))]
    ['string', 'integer', 'number', 'date', 'list']
    """
    if isinstance(dtype, pl.List) or dtype == pl.List:
        return "list"
    if dtype == pl.String:
        return "string"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype == pl.Date:
        return "date"
    if dtype == pl.Datetime:
        return "datetime"
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "number"
    return str(dtype)
