"""Uncertainty triplets: fit a lognormal to (low, central, high), sample it, add samples.

A triplet ``x_low, x, x_high`` is the 5th, 50th and 95th percentile of our belief.
Aggregates never add percentiles: :func:`sum_intervals` draws from each item's fitted
lognormal (items independent), adds the draws and reports percentiles of the sum.
Everything is vectorised over rows and samples and seeded with a numpy ``Generator``,
so a run with the same seed and rows reproduces exactly.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

#: 95th percentile of the standard normal: a 5-95 range spans +-Z95 sigma.
Z95 = 1.6448536269514722
PERCENTILES = (5.0, 50.0, 95.0)
_BLOCK_CELLS = 1 << 18  # draws per block in sum_intervals (about 2 MB of float64)


def _np() -> Any:
    import numpy as np

    return np


def fit_lognormal(low: Any, central: Any, high: Any) -> tuple[Any, Any]:
    """Lognormal parameters ``(mu, sigma)`` of ``ln X`` for each triplet, vectorised.

    - ``mu = ln(central)``; when ``central`` is missing, the midpoint of ``ln(low)`` and
      ``ln(high)`` (with ``sigma = (ln high - ln low) / (2 x 1.6449)``, so the fit has
      exactly ``low`` and ``high`` as its 5th and 95th percentiles).
    - With ``central``, ``sigma`` comes from the wider of the sides present
      (``ln(high/central)`` or ``ln(central/low)``, divided by 1.6449): an asymmetric
      triplet is never made narrower than stated.
    - A point (all equal, or only ``central``, or a lone bound) has ``sigma = 0``.
    - Zeros: a zero central (or a zero lone value) is a point at 0 (``mu = -inf``); a zero
      ``low`` with a positive ``central`` leaves only the high side; a zero ``low`` with
      no ``central`` takes ``high / 2`` as the median and the high side for ``sigma``.
    - All missing: ``mu = sigma = nan``.

    Missing values are ``nan`` (or ``None``). Negative values or ``low > central``,
    ``central > high``, ``low > high`` raise ``ValueError``.

    Parameters
    ----------
    low, central, high : array-like of float
        5th, 50th and 95th percentiles; broadcast against each other.

    Returns
    -------
    tuple of numpy.ndarray
        ``(mu, sigma)``, one value per triplet.

    Examples
    --------
    >>> mu, sigma = fit_lognormal([10.0], [100.0], [1000.0])
    >>> float(mu[0]), round(float(sigma[0]), 4)
    (4.605170185988092, 1.3999)
    >>> fit_lognormal([None], [5.0], [None])[1].tolist()
    [0.0]
    """
    np = _np()
    lo, c, hi = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (low, central, high)))
    lo, c, hi = (np.atleast_1d(v).astype(float, copy=True) for v in (lo, c, hi))
    _check(lo, c, hi)
    cols = {k: pl.Series(k, v, nan_to_null=True) for k, v in zip("lch", (lo, c, hi), strict=True)}
    mu, sigma = lognormal_params(pl.col("l"), pl.col("c"), pl.col("h"))
    fit = pl.DataFrame(cols).select(mu.alias("mu"), sigma.alias("sigma"))
    return (
        fit.get_column("mu").to_numpy().astype(float),
        fit.get_column("sigma").to_numpy().astype(float),
    )


def lognormal_params(low: pl.Expr, central: pl.Expr, high: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The lognormal fit of :func:`fit_lognormal` as polars expressions ``(mu, sigma)``.

    The one definition of the fit: :func:`fit_lognormal` evaluates it on arrays and
    :func:`analytics.aggregation.quarterly` inside its aggregation. Nulls are missing
    values; the triplet is not checked here (see :func:`fit_lognormal`).

    Parameters
    ----------
    low, central, high : Expr
        ``Float64`` expressions of the 5th, 50th and 95th percentile.

    Returns
    -------
    tuple of Expr
        ``mu`` and ``sigma`` of ``ln X``; both null when all three are null.

    Examples
    --------
    >>> import polars as pl
    >>> mu, sigma = lognormal_params(pl.col("lo"), pl.col("c"), pl.col("hi"))
    >>> df = pl.DataFrame({"lo": [40.0, None], "c": [None, 7.0], "hi": [160.0, None]})
    >>> [round(v, 4) for v in df.select(sigma.alias("s"))["s"]]
    [0.4214, 0.0]
    """
    lo, c, hi = low, central, high
    has_lo, has_c, has_hi = lo.is_not_null(), c.is_not_null(), hi.is_not_null()
    # central known: mu = ln c, sigma from the wider usable side (0 -> -inf: a point at zero)
    up = pl.when(has_hi & (c > 0)).then((hi / c).log())
    down = pl.when(has_lo & (lo > 0) & (c > 0)).then((c / lo).log())
    sigma_c = pl.max_horizontal(up, down).fill_null(0.0) / Z95
    # central missing, both bounds: log midpoint (low > 0) or high / 2 (low == 0)
    mu_b = pl.when(lo > 0).then((lo.log() + hi.log()) / 2).otherwise((hi / 2).log())
    sigma_b = (
        pl.when(hi <= 0)
        .then(0.0)
        .when(lo > 0)
        .then((hi / lo).log() / (2 * Z95))
        .otherwise(math.log(2.0) / Z95)
    )
    both = ~has_c & has_lo & has_hi
    one = ~has_c & (has_lo ^ has_hi)  # a lone bound is a point at that bound
    lone = pl.coalesce(lo, hi).log()
    mu = pl.when(has_c).then(c.log()).when(both).then(mu_b).when(one).then(lone)
    sigma = pl.when(has_c).then(sigma_c).when(both).then(sigma_b).when(one).then(0.0)
    return mu, sigma


def _check(lo: Any, c: Any, hi: Any) -> None:
    np = _np()
    with np.errstate(invalid="ignore"):
        neg = int(((lo < 0) | (c < 0) | (hi < 0)).sum())
        bad = int(((lo > c) | (c > hi) | (lo > hi)).sum())
    if neg:
        raise ValueError(f"{neg} triplet(s) hold negative values; expected low, central, high >= 0")
    if bad:
        raise ValueError(
            f"{bad} triplet(s) are out of order; expected low <= central <= high "
            "(5th <= 50th <= 95th percentile)"
        )


def _triplet(df: pl.DataFrame | pl.LazyFrame, stem: str) -> pl.DataFrame:
    names = df.collect_schema().names()
    cols = [f"{stem}_low", stem, f"{stem}_high"]
    if not any(c in names for c in cols):
        raise ValueError(f"expected any of {cols} in the frame; found columns {names}")
    exprs = [(pl.col(c) if c in names else pl.lit(None)).cast(pl.Float64).alias(c) for c in cols]
    return df.select(exprs) if isinstance(df, pl.DataFrame) else df.select(exprs).collect()


def _arrays(tri: pl.DataFrame, stem: str) -> tuple[Any, Any, Any]:
    return tuple(
        tri.get_column(c).to_numpy().astype(float) for c in (f"{stem}_low", stem, f"{stem}_high")
    )  # type: ignore[return-value]


def _draw(rng: Any, mu: Any, sigma: Any, point: Any, n: int) -> Any:
    """Draws of shape (rows, n): exp(mu + sigma z); point rows are exactly their value."""
    np = _np()
    out = rng.standard_normal((mu.shape[0], n))
    out *= sigma[:, None]
    out += mu[:, None]
    np.exp(out, out=out)
    fixed = sigma == 0
    if fixed.any():
        out[fixed] = point[fixed, None]
    return out


def _points(lo: Any, c: Any, hi: Any) -> Any:
    np = _np()
    return np.where(~np.isnan(c), c, np.where(~np.isnan(lo), lo, hi))


def sample(df: pl.DataFrame | pl.LazyFrame, stem: str, *, n: int = 10_000, seed: int = 0) -> Any:
    """Draw ``n`` samples per row from the lognormal fitted to ``{stem}_low, {stem}, {stem}_high``.

    Rows keep the frame's order (sort a LazyFrame first: the streaming engine does not
    promise an order). Absent columns count as missing; an all-missing row gives ``nan``.

    Parameters
    ----------
    df : DataFrame or LazyFrame
        Rows with any of ``{stem}_low``, ``{stem}``, ``{stem}_high``.
    stem : str
        The triplet, e.g. ``"units"``.
    n, seed : int
        Draws per row and generator seed.

    Returns
    -------
    numpy.ndarray
        Shape ``(rows, n)``; the same ``seed`` and rows give the same array.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"units_low": [80.0, None], "units": [100.0, 7.0],
    ...                    "units_high": [125.0, None]})
    >>> x = sample(df, "units", n=1000, seed=1)
    >>> x.shape, bool((x[1] == 7.0).all())
    ((2, 1000), True)
    >>> bool((x == sample(df, "units", n=1000, seed=1)).all())
    True
    """
    np = _np()
    lo, c, hi = _arrays(_triplet(df, stem), stem)
    mu, sigma = fit_lognormal(lo, c, hi)
    rng = np.random.default_rng(seed)
    out = _draw(rng, mu, np.nan_to_num(sigma), _points(lo, c, hi), int(n))
    out[np.isnan(mu)] = np.nan
    return out


def sum_intervals(
    df: pl.DataFrame | pl.LazyFrame,
    stem: str,
    *,
    by: str | list[str] | None = None,
    n: int = 10_000,
    seed: int = 0,
) -> pl.DataFrame:
    """5th, 50th and 95th percentile of the sum of independent uncertain items.

    Samples each row's fitted lognormal (:func:`fit_lognormal`), adds the samples per
    group and takes percentiles of the sums (never adding percentiles). Rows are sorted
    (``by``, then the triplet) before sampling, so the input's row order does not
    matter. All-missing rows are left out and counted in ``n_missing``.

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
    """
    np = _np()
    keys = [by] if isinstance(by, str) else list(by or [])
    names = df.collect_schema().names()
    trip = [f"{stem}_low", stem, f"{stem}_high"]
    exprs = [pl.col(k) for k in keys] + [
        (pl.col(c) if c in names else pl.lit(None)).cast(pl.Float64).alias(c) for c in trip
    ]
    lf = df.lazy().select(exprs).sort([*keys, *trip], nulls_last=True)
    if keys:
        lf = lf.with_columns(pl.struct(keys).rle_id().alias("__group"))
    else:
        lf = lf.with_columns(pl.lit(0, dtype=pl.UInt32).alias("__group"))
    tab = lf.collect()

    lo, c, hi = _arrays(tab, stem)
    group = tab.get_column("__group").to_numpy()
    n_groups = int(group.max()) + 1 if group.size else 0
    mu, sigma = fit_lognormal(lo, c, hi)
    ok = ~np.isnan(mu)
    totals = _sum_draws(
        mu[ok], sigma[ok], _points(lo, c, hi)[ok], group[ok], max(n_groups, 1), int(n), seed
    )

    if not keys:
        n_groups = 1  # one total, even over no rows
    have = np.bincount(group[ok], minlength=n_groups)
    count = np.bincount(group, minlength=n_groups)
    pct = _percentiles(totals, have > 0)
    stats = pl.DataFrame(
        {
            f"{stem}_p5": pct[:, 0],
            f"{stem}_p50": pct[:, 1],
            f"{stem}_p95": pct[:, 2],
            "n_items": have.astype(np.int64),
            "n_missing": (count - have).astype(np.int64),
        }
    ).with_columns(pl.col(f"^{stem}_p(5|50|95)$").fill_nan(None))
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


def _sum_draws(
    mu: Any, sigma: Any, point: Any, group: Any, n_groups: int, n: int, seed: int
) -> Any:
    """Per-group sums of the draws, shape ``(n_groups, n)``, built in blocks of rows.

    Drawing block by block consumes the generator in the same order as one
    ``(rows, n)`` draw, so the sums equal ``sample(...)`` summed by group.
    """
    np = _np()
    rng = np.random.default_rng(seed)
    totals = np.zeros((n_groups, n))
    rows = mu.shape[0]
    step = max(1, _BLOCK_CELLS // max(n, 1))
    for start in range(0, rows, step):  # a loop over blocks of rows, not over rows
        sl = slice(start, min(rows, start + step))
        block = _draw(rng, mu[sl], sigma[sl], point[sl], n)
        g = group[sl]
        if g[0] == g[-1]:
            totals[g[0]] += block.sum(axis=0)
            continue
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        totals[g[starts]] += np.add.reduceat(block, starts, axis=0)
    return totals
