"""Uncertain figures: fit, sample and add them, honouring how exact the source says they are.

A triplet ``x_low, x, x_high`` is the 5th, 50th and 95th percentile of our belief. A
``{stem}_qualifier`` column, when present, says how to read it (:data:`QUALIFIER_RULES`):

- ``exact`` (or no qualifier): the triplet as percentiles (a lognormal fitted to it), a
  lone figure as a point.
- ``about`` (``approx``, the older spelling): as ``exact``, but a lone figure ``N`` is
  spread: a lognormal with its 5th and 95th percentiles at ``N / 1.25`` and
  ``N x 1.25`` (:data:`ABOUT_SPREAD`): a rounded figure, read as within a quarter of
  the truth either way.
- ``at_least``: a distribution that starts at the bound and has a real upper tail: the
  bound times ``exp(s |Z|)`` (a half-lognormal), with ``s`` set so that the 95th
  percentile is twice the bound (:data:`BOUND_TAIL`), or ``x_high`` when the row gives
  one. Twice the bound because a source that knew of twice as much would say so: "more
  than 400,000" is read as 400,000 to about 800,000 at 95% belief, never as 400,000.
- ``at_most``: the mirror: the bound times ``exp(-s |Z|)``, 5th percentile at half the
  bound (or ``x_low``).
- ``range``: uniform between the stated ends (a stated range is not a percentile
  interval); with a central figure inside it, half the mass on each side of it. An end
  the source leaves open ("10,000 to several hundred thousand, median 140,000") is a
  bound's tail from the central figure on that side.

Aggregates never add percentiles: :func:`sum_intervals` draws every item (items
independent), adds the draws and reports percentiles of the sum. A group quantity (one
row for several buyers) stays one item: nothing here splits it. Everything is
vectorised over rows and draws and seeded with a numpy ``Generator``, so a run with the
same seed and rows reproduces exactly.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import polars as pl

from analytics.vocab import QUALIFIER_SPELLINGS

#: 95th percentile of the standard normal: a 5-95 range spans +-Z95 sigma.
Z95 = 1.6448536269514722
#: 95th percentile of ``|Z|`` (the half-normal): the tail width of a bound.
Z95_HALF = 1.959963984540054
PERCENTILES = (5.0, 50.0, 95.0)
#: ``about N`` without a stated range: 5th and 95th percentiles at N / 1.25 and N x 1.25.
ABOUT_SPREAD = 1.25
#: A bound's tail: ``at least N`` has its 95th percentile at 2N, ``at most N`` its 5th at N/2.
BOUND_TAIL = 2.0
#: How each qualifier is read (see the module docstring).
QUALIFIER_RULES = {
    "exact": "the triplet as 5th/50th/95th percentiles (lognormal); a lone figure is a point",
    "about": f"as exact; a lone figure N spreads to N/{ABOUT_SPREAD}..N*{ABOUT_SPREAD} (5th-95th)",
    "at_least": f"starts at the bound; 95th percentile at {BOUND_TAIL:g}x the bound or x_high",
    "at_most": f"ends at the bound; 5th percentile at the bound / {BOUND_TAIL:g} or x_low",
    "range": "uniform between the stated ends (half on each side of a stated central)",
}
#: Triplet stem -> its qualifier column where that is not ``{stem}_qualifier``.
QUALIFIER_COLUMNS = {"value_usd": "value_qualifier"}
_BLOCK_CELLS = 1 << 18  # draws per block in sum_intervals (about 2 MB of float64)
_LOGNORMAL, _AT_LEAST, _AT_MOST, _RANGE = 0, 1, 2, 3


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


def qualifier_column(stem: str) -> str:
    """The column that qualifies a triplet: ``{stem}_qualifier`` (``value_qualifier`` for
    ``value_usd``).

    Parameters
    ----------
    stem : str

    Returns
    -------
    str

    Examples
    --------
    >>> qualifier_column("units"), qualifier_column("value_usd")
    ('units_qualifier', 'value_qualifier')
    """
    return QUALIFIER_COLUMNS.get(stem, f"{stem}_qualifier")


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


class Shapes(NamedTuple):
    """Per row: how to draw it. ``kind`` 0 lognormal, 1 at least, 2 at most, 3 range."""

    kind: Any
    mu: Any
    sigma: Any
    point: Any
    low: Any
    mid: Any
    high: Any
    tail: Any


def shapes(low: Any, central: Any, high: Any, qualifier: Any = None) -> Shapes:
    """How to draw each row of a triplet under its qualifier (rules: the module docstring).

    Parameters
    ----------
    low, central, high : array-like of float
        The triplet (``nan`` for missing).
    qualifier : array-like of str or None, optional
        ``exact``, ``about``, ``at_least``, ``at_most``, ``range`` (``approx`` = about);
        missing or ``None``: exact.

    Returns
    -------
    Shapes
        Arrays per row; :func:`draws` turns them into samples.

    Examples
    --------
    >>> s = shapes([None], [100.0], [None], ["at_least"])
    >>> int(s.kind[0]), float(s.low[0]), round(float(s.tail[0]), 4)
    (1, 100.0, 0.3537)
    """
    np = _np()
    lo, c, hi = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (low, central, high))
    lo, c, hi = np.broadcast_arrays(lo, c, hi)
    q = np.full(lo.shape, None, dtype=object) if qualifier is None else np.asarray(
        [QUALIFIER_SPELLINGS.get(x, x) for x in np.atleast_1d(np.asarray(qualifier, dtype=object))],
        dtype=object)
    has_lo, has_c, has_hi = ~np.isnan(lo), ~np.isnan(c), ~np.isnan(hi)
    about = ((q == "about") | (q == "range")) & has_c & ~has_lo & ~has_hi
    spread = np.where(about, c * ABOUT_SPREAD, hi)
    mu, sigma = fit_lognormal(np.where(about, c / ABOUT_SPREAD, lo), c, spread)
    bound_lo, bound_hi = np.where(has_lo, lo, c), np.where(has_hi, hi, c)
    rng_ = (q == "range") & (has_lo | has_hi) & (has_c | (has_lo & has_hi))
    at_least = ((q == "at_least") | ((q == "range") & has_lo & ~has_c & ~has_hi)) & ~np.isnan(
        bound_lo)
    at_most = ((q == "at_most") | ((q == "range") & has_hi & ~has_c & ~has_lo)) & ~np.isnan(
        bound_hi)
    kind = np.select([rng_, at_least, at_most], [_RANGE, _AT_LEAST, _AT_MOST], _LOGNORMAL)
    mid = np.where(has_c, c, (lo + hi) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(at_least & has_hi & (bound_lo > 0), np.log(hi / bound_lo) / Z95_HALF, np.nan)
        down = np.where(at_most & has_lo & (lo > 0), np.log(bound_hi / lo) / Z95_HALF, np.nan)
    tail = np.where(np.isnan(up), down, up)
    tail = np.where(np.isnan(tail), math.log(BOUND_TAIL) / Z95_HALF, tail)
    return Shapes(kind, mu, np.nan_to_num(sigma), _points(lo, c, hi), np.where(
        kind == _AT_MOST, np.nan, np.where(kind == _AT_LEAST, bound_lo, lo)),
        mid, np.where(kind == _AT_MOST, bound_hi, hi), tail)


def _phi(z: Any) -> Any:
    """Standard normal CDF (Abramowitz and Stegun 7.1.26; error under 1.5e-7)."""
    np = _np()
    x = np.abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (
        -1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-x * x)
    return 0.5 * (1.0 + np.sign(z) * erf)


def draws(z: Any, s: Shapes) -> Any:
    """Samples of each row from standard normal draws ``z`` of shape ``(rows, n)``.

    One normal draw per sample, whatever the row's shape, so a block of rows consumes
    the generator the same way under any qualifier. ``z`` is overwritten.

    Parameters
    ----------
    z : numpy.ndarray
        Standard normal draws, one row per row of ``s``.
    s : Shapes
        From :func:`shapes`.

    Returns
    -------
    numpy.ndarray
        ``(rows, n)``; rows with no figure are ``nan``.

    Examples
    --------
    >>> import numpy as np
    >>> x = draws(np.array([[-1.0, 0.0, 2.0]]), shapes([None], [10.0], [None], ["at_least"]))
    >>> bool((x >= 10.0).all() and x[0, 2] > x[0, 0])
    True
    """
    np = _np()
    out = np.empty_like(z)
    for kind in np.unique(s.kind).tolist():
        rows = np.flatnonzero(s.kind == kind)
        zz, col = z[rows], (lambda a, r=rows: a[r, None])
        if kind == _LOGNORMAL:
            x = np.exp(col(s.mu) + col(s.sigma) * zz)
            fixed = (s.sigma[rows] == 0) | np.isnan(s.mu[rows])
            x[fixed] = col(s.point)[fixed]
        elif kind == _AT_LEAST:
            x = col(s.low) * np.exp(col(s.tail) * np.abs(zz))
        elif kind == _AT_MOST:
            x = col(s.high) * np.exp(-col(s.tail) * np.abs(zz))
        else:
            x = _range_draws(zz, col(s.low), col(s.mid), col(s.high))
        out[rows] = x
    out[np.isnan(s.mu) & (s.kind == _LOGNORMAL)] = np.nan
    return out


def _range_draws(z: Any, lo: Any, mid: Any, hi: Any) -> Any:
    """Uniform between the ends, half on each side of ``mid``; an open end is a bound's tail."""
    np = _np()
    u = _phi(z)
    open_tail = np.exp(math.log(BOUND_TAIL) / Z95_HALF * z)  # 95th of the half at 2x mid
    below = np.where(np.isnan(lo), mid * open_tail, lo + (mid - lo) * 2 * u)
    above = np.where(np.isnan(hi), mid * open_tail, mid + (hi - mid) * (2 * u - 1))
    return np.where(z < 0, below, above)


def _points(lo: Any, c: Any, hi: Any) -> Any:
    np = _np()
    return np.where(~np.isnan(c), c, np.where(~np.isnan(lo), lo, hi))


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
    ok = ~(np.isnan(s.mu) & (s.kind == _LOGNORMAL))
    kept = Shapes(*(a[ok] for a in s))
    totals = _sum_draws(kept, group[ok], max(n_groups, 1), int(n), seed)

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
