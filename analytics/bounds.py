"""One uncertain figure: its lognormal fit, and how to draw it under its qualifier.

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

:func:`shapes` reads rows into these shapes and :func:`draws` turns standard normal
draws into samples of them; :mod:`analytics.uncertainty` samples frames and adds them.

>>> import numpy as np
>>> float(draws(np.zeros((1, 1)), shapes([1.0], [2.0], [4.0]))[0, 0])  # the median
2.0
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
#: Kinds of :class:`Shapes`: a lognormal (or point), a lower bound, an upper bound, a range.
LOGNORMAL, AT_LEAST, AT_MOST, RANGE = 0, 1, 2, 3


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


def sum_qualifier(qualifier: str | pl.Expr) -> pl.Expr:
    """The qualifier of a sum of figures, from theirs: an aggregation.

    A sum is ``at_least`` when a term is (and none ``at_most``), ``at_most`` in the mirror
    case, ``about`` when a term is ``about`` or a ``range`` (its central figure) or when
    lower and upper bounds meet (they bound nothing together), and ``exact`` otherwise;
    no qualifier reads as ``exact``. The result keeps the input column's name.

    Examples
    --------
    >>> df = pl.DataFrame({"g": [1, 1, 2, 2, 3], "q": ["exact", "at_least", None, "approx",
    ...                                               "exact"]})
    >>> df.group_by("g").agg(sum_qualifier("q")).sort("g")["q"].to_list()
    ['at_least', 'about', 'exact']
    """
    q = pl.col(qualifier) if isinstance(qualifier, str) else qualifier
    name = q.meta.output_name(raise_if_undetermined=False) or "qualifier"
    q = q.fill_null("exact").replace(QUALIFIER_SPELLINGS)
    lower, upper = (q == "at_least").any(), (q == "at_most").any()
    return (
        pl.when(lower & upper).then(pl.lit("about"))
        .when(lower).then(pl.lit("at_least"))
        .when(upper).then(pl.lit("at_most"))
        .when(q.is_in(["about", "range"]).any()).then(pl.lit("about"))
        .otherwise(pl.lit("exact"))
        .alias(name)
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
    kind = np.select([rng_, at_least, at_most], [RANGE, AT_LEAST, AT_MOST], LOGNORMAL)
    mid = np.where(has_c, c, (lo + hi) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(at_least & has_hi & (bound_lo > 0), np.log(hi / bound_lo) / Z95_HALF, np.nan)
        down = np.where(at_most & has_lo & (lo > 0), np.log(bound_hi / lo) / Z95_HALF, np.nan)
    tail = np.where(np.isnan(up), down, up)
    tail = np.where(np.isnan(tail), math.log(BOUND_TAIL) / Z95_HALF, tail)
    return Shapes(kind, mu, np.nan_to_num(sigma), _points(lo, c, hi), np.where(
        kind == AT_MOST, np.nan, np.where(kind == AT_LEAST, bound_lo, lo)),
        mid, np.where(kind == AT_MOST, bound_hi, hi), tail)


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
        if kind == LOGNORMAL:
            x = np.exp(col(s.mu) + col(s.sigma) * zz)
            fixed = (s.sigma[rows] == 0) | np.isnan(s.mu[rows])
            x[fixed] = col(s.point)[fixed]
        elif kind == AT_LEAST:
            x = col(s.low) * np.exp(col(s.tail) * np.abs(zz))
        elif kind == AT_MOST:
            x = col(s.high) * np.exp(-col(s.tail) * np.abs(zz))
        else:
            x = _range_draws(zz, col(s.low), col(s.mid), col(s.high))
        out[rows] = x
    out[np.isnan(s.mu) & (s.kind == LOGNORMAL)] = np.nan
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


