"""Row-level domain rules, each defined once as a named polars expression or frame helper.

What counts as a delivery into China, which approval actions grant, how licence policies
rank, the TPP formula, the period a dated row covers, a row's key, how a list becomes
text: every module imports these instead of restating them. This is the bottom floor of
the package: it imports only polars, :mod:`analytics.vocab` and the frame helpers of
:mod:`analytics.frames` (re-exported here: list-to-text, missing columns, triplet
columns, dtype words, lazy in and out).

>>> import polars as pl
>>> shp = pl.DataFrame({"destination": ["CN", "CN+HK", "non_CN"]})
>>> shp.filter(is_china_bound())["destination"].to_list()
['CN', 'CN+HK']
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from analytics.frames import LIST_SEPARATOR as LIST_SEPARATOR  # frame helpers, re-exported
from analytics.frames import TRIPLET_SUFFIXES as TRIPLET_SUFFIXES
from analytics.frames import Frame as Frame
from analytics.frames import add_missing_columns as add_missing_columns
from analytics.frames import as_lazy as as_lazy
from analytics.frames import dtype_word as dtype_word
from analytics.frames import like as like
from analytics.frames import list_to_text as list_to_text
from analytics.frames import triplet_columns as triplet_columns
from analytics.vocab import (
    BUYER_COUNTRIES,
    DATE_PRECISION,
    GRANTING_ACTIONS,
    LICENCE_POLICIES,
    POLICY_ORDER,
    PRIMARY_KEYS,
)

#: ISO code of mainland China.
CHINA = "CN"
#: A destination names China when ``CN`` is one of its ``+``-joined codes.
CHINA_BOUND = r"(^|\+)CN(\+|$)"
#: Characters that make a spreadsheet run a cell as a formula when it starts with one.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The same as a regular expression anchored at the start of a cell.
FORMULA = "^[" + "".join("\\" + c if c in "-\\]^" else c for c in FORMULA_START) + "]"
#: Throughput column -> (name in ``tpp_basis``, bit length) of the TPP formula.
PRECISIONS: dict[str, tuple[str, int]] = {
    "bf16_dense_tflops": ("bf16", 16),
    "fp8_dense_tflops": ("fp8", 8),
    "int8_dense_tops": ("int8", 8),
    "fp4_dense_tflops": ("fp4", 4),
}
#: Licence policy -> rank, higher is more restrictive.
POLICY_RANK: dict[str, int] = {p: len(POLICY_ORDER) - i for i, p in enumerate(POLICY_ORDER)}
#: Date precision -> rank, higher is coarser.
PRECISION_RANK: dict[str, int] = {p: i for i, p in enumerate(DATE_PRECISION)}


def _col(col: str | pl.Expr) -> pl.Expr:
    return pl.col(col) if isinstance(col, str) else col


# --------------------------------------------------------------------------- destinations and gates
def is_china_bound(destination: str | pl.Expr = "destination") -> pl.Expr:
    """True where a destination names mainland China (``CN``, ``CN+HK``), else false.

    ``non_CN``, ``unknown`` and codes without ``CN`` (``HK``, ``MY``) are not China.

    Parameters
    ----------
    destination : str or Expr
        The destination column (``shipments.destination``).

    Returns
    -------
    Expr
        Boolean; null where the destination is null.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"destination": ["CN", "HK+CN", "HK", "non_CN", "unknown"]})
    >>> df.select(is_china_bound())["destination"].to_list()
    [True, True, False, False, False]
    """
    return _col(destination).str.contains(CHINA_BOUND)


def is_granting(action: str | pl.Expr = "action") -> pl.Expr:
    """True where an approval action lets chips through its gate (:data:`GRANTING_ACTIONS`).

    Parameters
    ----------
    action : str or Expr
        The ``approvals.action`` column.

    Returns
    -------
    Expr
        Boolean.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"action": ["approve", "permit", "restrict", "conditional_approval"]})
    >>> df.select(is_granting())["action"].to_list()
    [True, True, False, True]
    """
    return _col(action).is_in(list(GRANTING_ACTIONS))


def is_buyer_country(country: str | pl.Expr = "country") -> pl.Expr:
    """True where an entity is seated in mainland China, Hong Kong or Macau.

    Parameters
    ----------
    country : str or Expr
        The ``entities.country`` column.

    Returns
    -------
    Expr
        Boolean.

    Examples
    --------
    >>> import polars as pl
    >>> ents = pl.DataFrame({"country": ["CN", "HK", "US"]})
    >>> ents.select(is_buyer_country())["country"].to_list()
    [True, True, False]
    """
    return _col(country).is_in(list(BUYER_COUNTRIES))


def policy_rank(policy: str | pl.Expr = "licence_policy") -> pl.Expr:
    """Rank of a licence policy, higher for more restrictive (see :data:`POLICY_RANK`).

    A null policy ranks null; a policy outside :data:`analytics.vocab.LICENCE_POLICIES`
    makes the query raise when it runs, never ranks silently.

    Parameters
    ----------
    policy : str or Expr
        The ``control_rules.licence_policy`` column.

    Returns
    -------
    Expr
        ``Int8``.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"licence_policy": ["presumption_of_denial", "case_by_case", None]})
    >>> df.select(policy_rank())["licence_policy"].to_list()
    [4, 2, None]
    """
    return _col(policy).replace_strict(POLICY_RANK, return_dtype=pl.Int8)


def policy_of_rank(rank: str | pl.Expr) -> pl.Expr:
    """The licence policy of a rank made by :func:`policy_rank` (null stays null).

    Parameters
    ----------
    rank : str or Expr
        A rank column.

    Returns
    -------
    Expr
        ``String``.

    Examples
    --------
    >>> import polars as pl
    >>> pl.DataFrame({"r": [4, 1]}).select(policy_of_rank("r"))["r"].to_list()
    ['presumption_of_denial', 'presumption_of_approval']
    """
    by_rank = {r: p for p, r in POLICY_RANK.items()}
    return _col(rank).replace_strict(by_rank, default=None, return_dtype=pl.String)


def unknown_policies(policies: Any) -> list[str]:
    """The values of ``policies`` that are not licence policies (nulls ignored).

    Parameters
    ----------
    policies : iterable of str or None

    Returns
    -------
    list of str
        Sorted, without repeats.

    Examples
    --------
    >>> unknown_policies(["case_by_case", None, "lenient"])
    ['lenient']
    """
    return sorted({p for p in policies if p is not None and p not in LICENCE_POLICIES})


# --------------------------------------------------------------------------- chips
def tpp_terms() -> dict[str, pl.Expr]:
    """Each dense throughput times its bit length, by precision name (``bf16`` ...).

    Returns
    -------
    dict of str to Expr
        ``Float64`` expressions over the columns of :data:`PRECISIONS`.

    Examples
    --------
    >>> list(tpp_terms())
    ['bf16', 'fp8', 'int8', 'fp4']
    """
    return {name: pl.col(c).cast(pl.Float64) * bits for c, (name, bits) in PRECISIONS.items()}


def tpp() -> pl.Expr:
    """Total processing performance: ``max(BF16 x 16, FP8 x 8, INT8 x 8, FP4 x 4)``.

    Dense throughputs (TOP/s); null figures are ignored; null when all are null. The
    four columns must exist (:func:`add_missing_columns` adds absent ones).

    Returns
    -------
    Expr
        ``Float64`` named ``tpp``.

    Examples
    --------
    >>> import polars as pl
    >>> pl.DataFrame({"bf16_dense_tflops": [989.0], "fp8_dense_tflops": [1979.0],
    ...     "int8_dense_tops": [1979.0], "fp4_dense_tflops": [None]}).select(tpp()).item()
    15832.0
    """
    return pl.max_horizontal(list(tpp_terms().values())).alias("tpp")


def tpp_basis() -> pl.Expr:
    """The precision that gives the TPP (ties to the first of bf16, fp8, int8, fp4).

    Returns
    -------
    Expr
        ``String`` named ``tpp_basis``; null when the TPP is null.

    Examples
    --------
    >>> import polars as pl
    >>> pl.DataFrame({"bf16_dense_tflops": [148.0], "fp8_dense_tflops": [None],
    ...     "int8_dense_tops": [296.0], "fp4_dense_tflops": [None]}).select(tpp_basis()).item()
    'bf16'
    """
    best = tpp()
    basis = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
    for name, term in tpp_terms().items():
        basis = basis.when(term == best).then(pl.lit(name))
    return basis.alias("tpp_basis")


# --------------------------------------------------------------------------- dates
def period_start(date: str | pl.Expr, precision: str | pl.Expr) -> pl.Expr:
    """First day of the day/month/quarter/year period that holds ``date``.

    Parameters
    ----------
    date, precision : str or Expr
        A Date column and its precision (``day``, ``month``, ``quarter``, ``year``).

    Returns
    -------
    Expr
        Date.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> pl.DataFrame({"d": [dt.date(2026, 5, 17)] * 3, "p": ["day", "quarter", "year"]}
    ...     ).select(period_start("d", "p"))["d"].to_list()
    [datetime.date(2026, 5, 17), datetime.date(2026, 4, 1), datetime.date(2026, 1, 1)]
    """
    d, p = _col(date), _col(precision)
    return (
        pl.when(p == "year").then(d.dt.truncate("1y"))
        .when(p == "quarter").then(d.dt.truncate("1q"))
        .when(p == "month").then(d.dt.truncate("1mo"))
        .otherwise(d)
    )


def period_end(date: str | pl.Expr, precision: str | pl.Expr) -> pl.Expr:
    """Last day of the day/month/quarter/year period that starts at ``date``.

    Parameters
    ----------
    date, precision : str or Expr
        A Date column (first day of its period) and its precision.

    Returns
    -------
    Expr
        Date.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> pl.DataFrame({"d": [dt.date(2026, 1, 1)] * 3, "p": ["day", "month", "quarter"]}
    ...     ).select(period_end(pl.col("d"), pl.col("p")))["d"].to_list()
    [datetime.date(2026, 1, 1), datetime.date(2026, 1, 31), datetime.date(2026, 3, 31)]
    """
    d, p = _col(date), _col(precision)
    return (
        pl.when(p == "month").then(d.dt.month_end())
        .when(p == "quarter")
        .then(d.dt.truncate("3mo").dt.offset_by("3mo").dt.offset_by("-1d"))
        .when(p == "year").then(pl.date(d.dt.year(), 12, 31))
        .otherwise(d)
    )


def public_date() -> pl.Expr:
    """When a source became public: the end of its published period, else ``accessed_date``.

    A release holds a source only from this date (``sources`` columns
    ``published_date``, ``date_precision``, ``accessed_date``).

    Returns
    -------
    Expr
        Date.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> src = pl.DataFrame({"published_date": [dt.date(2026, 1, 1), None],
    ...     "date_precision": ["month", "undated"], "accessed_date": [dt.date(2026, 11, 29)] * 2})
    >>> src.select(public_date()).to_series().to_list()
    [datetime.date(2026, 1, 31), datetime.date(2026, 11, 29)]
    """
    pub = pl.col("published_date")
    return (
        pl.when(pub.is_null())
        .then(pl.col("accessed_date"))
        .otherwise(period_end(pub, pl.col("date_precision")))
    )


def precision_rank(precision: str | pl.Expr) -> pl.Expr:
    """Rank of a date precision, higher for coarser (day 0 ... year 3); null when unknown.

    Written as a when/then chain, which runs on the streaming engine.

    Parameters
    ----------
    precision : str or Expr

    Returns
    -------
    Expr
        Integer.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"p": ["day", "year", "unknown"]})
    >>> df.select(precision_rank("p")).to_series().to_list()
    [0, 3, None]
    """
    p = _col(precision)
    out = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.Int8))
    for name, value in PRECISION_RANK.items():
        out = out.when(p == name).then(pl.lit(value, dtype=pl.Int8))
    return out.otherwise(pl.lit(None, dtype=pl.Int8))


# --------------------------------------------------------------------------- keys and text
def row_key(name: str, names: Any = None) -> pl.Expr:
    """The primary key of each row of dataset ``name`` as text (``rule_id/clause``).

    When the key columns are not all in ``names`` (the frame's columns), the key is
    ``row N`` (counted from 1).

    Parameters
    ----------
    name : str
        Dataset name.
    names : iterable of str, optional
        Columns of the frame; default: assume the key columns are there.

    Returns
    -------
    Expr
        ``String`` named ``key``.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"rule_id": ["r1"], "clause": ["3A090.a"]})
    >>> df.select(row_key("control_rules")).item()
    'r1/3A090.a'
    >>> df.select(row_key("approvals", df.columns)).item()
    'row 1'
    """
    cols = PRIMARY_KEYS.get(name, ())
    if cols and (names is None or set(cols) <= set(names)):
        parts = [pl.col(c).cast(pl.String).fill_null("") for c in cols]
        return pl.concat_str(parts, separator="/").alias("key")
    return pl.format("row {}", pl.int_range(pl.len()) + 1).alias("key")


def starts_like_formula(text: str | pl.Expr) -> pl.Expr:
    """True where a text cell starts with a character of :data:`FORMULA_START`.

    Parameters
    ----------
    text : str or Expr
        A ``String`` column.

    Returns
    -------
    Expr
        Boolean.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"t": ["=1+1", "-2", "\\tx", "ok", "a=b"]})
    >>> df.select(starts_like_formula("t"))["t"].to_list()
    [True, True, True, False, False]
    """
    return _col(text).str.contains(FORMULA)




# --------------------------------------------------------------------------- design origin
#: ISO code of the United States: the seat of a vendor whose designs US export rules govern.
UNITED_STATES = "US"


def is_us_design(vendor_country: str | pl.Expr = "vendor_country") -> pl.Expr:
    """True where a chip's vendor is seated in the United States (a US design).

    A US licence policy for China applies to US designs only: a chip designed by a
    vendor seated elsewhere (Huawei, Biren, Cambricon) has no US licence gate of its own.

    Parameters
    ----------
    vendor_country : str or Expr
        The ``entities.country`` of the chip's ``vendor_id``.

    Returns
    -------
    Expr
        Boolean; null where the country is unknown.

    Examples
    --------
    >>> import polars as pl
    >>> pl.DataFrame({"c": ["US", "CN", None]}).select(is_us_design("c"))["c"].to_list()
    [True, False, None]
    """
    return _col(vendor_country) == UNITED_STATES


def as_date(value: dt.date | str) -> dt.date:
    """A date given as a ``date`` or an ISO ``YYYY-MM-DD`` string.

    Examples
    --------
    >>> as_date("2026-01-30"), as_date(dt.date(2026, 1, 30))
    (datetime.date(2026, 1, 30), datetime.date(2026, 1, 30))
    """
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
