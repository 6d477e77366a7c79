"""Uncertain figures in frames: sample them, and add them by sampling, never by percentiles.

How one figure is read (its lognormal fit, and its qualifier: ``at_least`` keeps a tail,
``range`` is uniform, a lone ``about`` is spread) is :mod:`analytics.bounds`.
:func:`sample` draws every row of a frame; :func:`sum_intervals` adds the draws per group
(items independent) and reports percentiles of the sum. A group quantity (one row for
several buyers) stays one item: nothing here splits it. Everything is vectorised over
rows and draws and seeded with a numpy ``Generator``, so a run with the same seed and
rows reproduces exactly.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from analytics.bounds import (
    LOGNORMAL,
    QUALIFIER_COLUMNS,
    QUALIFIER_RULES,
    Z95,
    Shapes,
    draws,
    fit_lognormal,
    lognormal_params,
    qualifier_column,
    shapes,
)
from analytics.vocab import QUALIFIER_SPELLINGS

__all__ = ["PERCENTILES", "QUALIFIER_COLUMNS", "QUALIFIER_RULES", "Z95", "fit_lognormal",
           "lognormal_params", "qualifier_column", "sample", "shapes", "sum_intervals"]

PERCENTILES = (5.0, 50.0, 95.0)
_BLOCK_CELLS = 1 << 18  # draws per block in sum_intervals (about 2 MB of float64)


def _np() -> Any:
    import numpy as np

    return np


def _columns(df: pl.DataFrame | pl.LazyFrame, stem: str, keys: list[str],
             qualifier: str | None) -> list[pl.Expr]:
    """The key columns, the triplet as Float64 and the qualifier (current spelling)."""
    names = df.collect_schema().names()
    cols = [f"{stem}_low", stem, f"{stem}_high"]
    if not any(c in names for c in cols):
        raise ValueError(f"expected any of {cols} in the frame; found columns {names}")
    qcol = qualifier or qualifier_column(stem)
    q = pl.col(qcol).cast(pl.String) if qcol in names else pl.lit(None, dtype=pl.String)
    return [
        *(pl.col(k) for k in keys),
        *((pl.col(c) if c in names else pl.lit(None)).cast(pl.Float64).alias(c) for c in cols),
        q.replace(QUALIFIER_SPELLINGS).alias("__qualifier"),
    ]


def _shapes_of(tab: pl.DataFrame, stem: str) -> Shapes:
    lo, c, hi = (tab.get_column(x).to_numpy().astype(float)
                 for x in (f"{stem}_low", stem, f"{stem}_high"))
    return shapes(lo, c, hi, tab.get_column("__qualifier").to_numpy())


def sample(df: pl.DataFrame | pl.LazyFrame, stem: str, *, n: int = 10_000, seed: int = 0,
           qualifier: str | None = None) -> Any:
    """Draw ``n`` samples per row of the triplet ``{stem}_low, {stem}, {stem}_high``.

    Each row is read under its qualifier (``{stem}_qualifier``, see the module
    docstring); without one, the triplet is a lognormal's percentiles. Rows keep the
    frame's order (sort a LazyFrame first: the streaming engine does not promise an
    order). Absent columns count as missing; an all-missing row gives ``nan``.

    Parameters
    ----------
    df : DataFrame or LazyFrame
        Rows with any of ``{stem}_low``, ``{stem}``, ``{stem}_high`` and optionally
        the qualifier column.
    stem : str
        The triplet, e.g. ``"units"``.
    n, seed : int
        Draws per row and generator seed.
    qualifier : str, optional
        The qualifier column, default :func:`qualifier_column` of ``stem``.

    Returns
    -------
    numpy.ndarray
        Shape ``(rows, n)``; the same ``seed`` and rows give the same array.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"units_low": [80.0, None, None], "units": [100.0, 7.0, 100.0],
    ...     "units_high": [125.0, None, None], "units_qualifier": [None, "exact", "at_least"]})
    >>> x = sample(df, "units", n=1000, seed=1)
    >>> x.shape, bool((x[1] == 7.0).all()), bool((x[2] >= 100.0).all())
    ((3, 1000), True, True)
    >>> bool((x == sample(df, "units", n=1000, seed=1)).all())
    True
    """
    np = _np()
    tab = _frame(df.select(_columns(df, stem, [], qualifier)))
    s = _shapes_of(tab, stem)
    rng = np.random.default_rng(seed)
    return draws(rng.standard_normal((tab.height, int(n))), s)


def _frame(df: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return df if isinstance(df, pl.DataFrame) else df.collect()


def sum_intervals(
    df: pl.DataFrame | pl.LazyFrame,
    stem: str,
    *,
    by: str | list[str] | None = None,
    n: int = 10_000,
    seed: int = 0,
    qualifier: str | None = None,
) -> pl.DataFrame:
    """5th, 50th and 95th percentile of the sum of independent uncertain items.

    Draws each row as :func:`sample` does (honouring its qualifier), adds the draws per
    group and takes percentiles of the sums (never adding percentiles). Rows are sorted
    (``by``, then the triplet and qualifier) before sampling, so the input's row order
    does not matter. All-missing rows are left out and counted in ``n_missing``. A
    list column in ``by`` groups by the whole list: a group of buyers stays one group.

    Parameters
    ----------
    df : DataFrame or LazyFrame
        Rows with the ``by`` columns and any of ``{stem}_low``, ``{stem}``, ``{stem}_high``.
    stem : str
        The triplet, e.g. ``"units"``.
    by : str or list of str, optional
        Group columns; one total when ``None``.
    n, seed : int
        Draws per row and generator seed.
    qualifier : str, optional
        As in :func:`sample`.

    Returns
    -------
    DataFrame
        ``by`` columns (if any), ``{stem}_p5``, ``{stem}_p50``, ``{stem}_p95``,
        ``n_items`` and ``n_missing``; sorted by ``by``.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"lab": ["a", "a", "b"], "units": [100.0, 50.0, 10.0]})
    >>> sum_intervals(df, "units", by="lab").rows()
    [('a', 150.0, 150.0, 150.0, 2, 0), ('b', 10.0, 10.0, 10.0, 1, 0)]
    >>> bound = pl.DataFrame({"units": [100_000.0, 50_000.0],
    ...                       "units_qualifier": ["at_least", "exact"]})
    >>> p5, p50, p95 = sum_intervals(bound, "units").row(0)[:3]
    >>> p5 >= 150_000 and p95 > 1.5 * p5
    True
    """
    np = _np()
    keys = [by] if isinstance(by, str) else list(by or [])
    trip = [f"{stem}_low", stem, f"{stem}_high", "__qualifier"]
    lf = df.lazy().select(_columns(df, stem, keys, qualifier)).sort([*keys, *trip],
                                                                   nulls_last=True)
    group_id = pl.struct(keys).rle_id() if keys else pl.lit(0, dtype=pl.UInt32)
    tab = lf.with_columns(group_id.alias("__group")).collect()

    s = _shapes_of(tab, stem)
    group = tab.get_column("__group").to_numpy()
    n_groups = int(group.max()) + 1 if group.size else 0
    ok = ~(np.isnan(s.mu) & (s.kind == LOGNORMAL))
    kept = Shapes(*(a[ok] for a in s))
    totals = _sum_draws(kept, group[ok], max(n_groups, 1), int(n), seed)

    if not keys:
        n_groups = 1  # one total, even over no rows
    have = np.bincount(group[ok], minlength=n_groups)
    count = np.bincount(group, minlength=n_groups)
    pct = _percentiles(totals, have > 0)
    stats = pl.DataFrame({
        **{f"{stem}_p{q}": pct[:, i] for i, q in enumerate((5, 50, 95))},
        "n_items": have.astype(np.int64), "n_missing": (count - have).astype(np.int64),
    }).with_columns(pl.col(f"^{stem}_p(5|50|95)$").fill_nan(None))
    if not keys:
        return stats
    head = tab.select(*keys, "__group").unique("__group", keep="first").sort("__group")
    return pl.concat([head.drop("__group"), stats], how="horizontal").sort(keys, nulls_last=True)


def _percentiles(totals: Any, keep: Any) -> Any:
    """5th/50th/95th percentile of each kept row of ``totals``, ``nan`` elsewhere.

    Works through the groups in blocks of about ``_BLOCK_CELLS`` draws and lets numpy
    partition each block's copy in place, so the extra memory is one block, not two
    copies of every group's draws.
    """
    np = _np()
    n_groups = totals.shape[0]
    pct = np.full((n_groups, 3), np.nan)
    rows = np.flatnonzero(keep[:n_groups])
    step = max(1, _BLOCK_CELLS // max(totals.shape[1], 1))
    for start in range(0, rows.size, step):  # a loop over blocks of groups, not over groups
        idx = rows[start : start + step]
        block = totals[idx]  # a copy: numpy may reorder it
        pct[idx] = np.percentile(block, PERCENTILES, axis=1, overwrite_input=True).T
    return pct


def _sum_draws(s: Shapes, group: Any, n_groups: int, n: int, seed: int) -> Any:
    """Per-group sums of the draws, shape ``(n_groups, n)``, built in blocks of rows.

    Drawing block by block consumes the generator in the same order as one
    ``(rows, n)`` draw, so the sums equal ``sample(...)`` summed by group.
    """
    np = _np()
    rng = np.random.default_rng(seed)
    totals = np.zeros((n_groups, n))
    rows = s.mu.shape[0]
    step = max(1, _BLOCK_CELLS // max(n, 1))
    for start in range(0, rows, step):  # a loop over blocks of rows, not over rows
        sl = slice(start, min(rows, start + step))
        block = draws(rng.standard_normal((sl.stop - sl.start, n)), Shapes(*(a[sl] for a in s)))
        g = group[sl]
        if g[0] == g[-1]:
            totals[g[0]] += block.sum(axis=0)
            continue
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        totals[g[starts]] += np.add.reduceat(block, starts, axis=0)
    return totals
