"""Finding rows of the cross-dataset checks: the columns, and helpers every check shares.

A check reads LazyFrames, filters the offending rows and turns them into finding rows
with :func:`finding_rows`; a check whose columns are missing or mistyped is skipped
(:func:`has`), because the contract has already reported it.

>>> import polars as pl
>>> lf = pl.LazyFrame({"event_id": ["APR-001"], "date": [None]})
>>> has(lf, "event_id"), has(lf, "event_id", "chip_ids")
(True, False)
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from analytics.rules import row_key

#: Columns of a finding row, as :class:`analytics.errors.Finding`.
FIELDS = ("severity", "dataset", "key", "column", "check", "value", "message")


def has(lf: pl.LazyFrame, *cols: str, dtype: type[pl.DataType] | None = None) -> bool:
    """Whether ``lf`` has every column of ``cols`` (each of ``dtype`` when given).

    Parameters
    ----------
    lf : LazyFrame
    *cols : str
    dtype : polars DataType class, optional

    Returns
    -------
    bool

    Examples
    --------
    >>> import polars as pl
    >>> has(pl.LazyFrame({"d": [None]}, schema={"d": pl.Date}), "d", dtype=pl.Date)
    True
    """
    schema = lf.collect_schema()
    if not all(c in schema for c in cols):
        return False
    return dtype is None or all(isinstance(schema[c], dtype) for c in cols)


def numeric(lf: pl.LazyFrame, *cols: str) -> bool:
    """Whether every column of ``cols`` is in ``lf`` and numeric (or all null); the
    arguments are those of :func:`has` without ``dtype``.

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"a": [1.0], "b": ["x"]})
    >>> numeric(lf, "a"), numeric(lf, "b")
    (True, False)
    """
    schema = lf.collect_schema()
    return all(c in schema and (schema[c].is_numeric() or schema[c] == pl.Null) for c in cols)


def key(name: str, lf: pl.LazyFrame) -> pl.Expr:
    """The row key of dataset ``name`` for the columns ``lf`` has (see :func:`row_key`): a
    ``String`` expression named ``key``.

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"record_id": ["SHP-001"]})
    >>> lf.select(key("shipments", lf)).collect().item()
    'SHP-001'
    """
    return row_key(name, lf.collect_schema().names())


def text(expr: pl.Expr) -> pl.Expr:
    """An expression as text, empty when null, for messages.

    Parameters
    ----------
    expr : Expr

    Returns
    -------
    Expr

    Examples
    --------
    >>> import polars as pl
    >>> pl.DataFrame({"a": [1, None]}).select(text(pl.col("a")))["a"].to_list()
    ['1', '']
    """
    return expr.cast(pl.String).fill_null("")


def finding_rows(
    lf: pl.LazyFrame,
    name: str,
    *,
    column: str | pl.Expr,
    check: str | pl.Expr,
    value: pl.Expr,
    message: pl.Expr,
    severity: str = "error",
) -> pl.LazyFrame:
    """Rows of ``lf`` (already filtered, holding a ``key`` column) as finding rows.

    Parameters
    ----------
    lf : LazyFrame
        The offending rows, with ``key``.
    name : str
        Dataset the findings are about.
    column, check : str or Expr
        Column and check name of every finding (an expression: per row).
    value, message : Expr
        The offending value (cut to 200 characters) and the message.
    severity : {"error", "warning"}

    Returns
    -------
    LazyFrame
        Columns :data:`FIELDS`, all ``String``.

    Examples
    --------
    >>> import polars as pl
    >>> rows = pl.LazyFrame({"key": ["APR-001"], "_v": [3]})
    >>> out = finding_rows(rows, "approvals", column="x", check="c", value=pl.col("_v"),
    ...                    message=pl.lit("why"))
    >>> out.collect().row(0)
    ('error', 'approvals', 'APR-001', 'x', 'c', '3', 'why')
    """
    return lf.select(
        pl.lit(severity).alias("severity"),
        pl.lit(name).alias("dataset"),
        pl.col("key").cast(pl.String).fill_null(""),
        (pl.lit(column) if isinstance(column, str) else column).alias("column"),
        (pl.lit(check) if isinstance(check, str) else check).alias("check"),
        text(value).str.slice(0, 200).alias("value"),
        text(message).alias("message"),
    )


_CHECK_SECTIONS = """
    Parameters
    ----------
    t : dict of str to LazyFrame
        The tables by name; a missing table or column skips the check.
    **options : object
        Options of the run (``release_date``); a check ignores those it does not use.

    Returns
    -------
    list of LazyFrame
        Finding rows (:data:`FIELDS`); empty when the check cannot run.
"""


def check_doc(check: Callable) -> Callable:
    """Give a cross-dataset check the Parameters and Returns every check shares.

    The sections go before the check's own ``Examples``, so each check states only
    what it tests and shows it.

    Parameters
    ----------
    check : callable
        A check ``(t, **options) -> list[LazyFrame]`` whose docstring has ``Examples``.

    Returns
    -------
    callable
        The same function, its docstring completed.

    Examples
    --------
    >>> @check_doc
    ... def no_check(t, **options):
    ...     \"\"\"Finds nothing.
    ...
    ...     Examples
    ...     --------
    ...     >>> no_check({})
    ...     []
    ...     \"\"\"
    ...     return []
    >>> "Returns" in no_check.__doc__
    True
    """
    doc = check.__doc__ or ""
    at = doc.find("\n    Examples")
    check.__doc__ = (doc[:at] + "\n" + _CHECK_SECTIONS + doc[at:]) if at >= 0 else doc
    return check
