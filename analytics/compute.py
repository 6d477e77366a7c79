"""Derived chip metrics: TPP, performance density, rule-vintage classification, H100e and FLOP.

Formulas (see ``docs`` and the dataset notes):

- TPP = dense TOPS x bit length, maximum over BF16 (x16), FP8 (x8), INT8 (x8) and FP4 (x4).
- Performance density = TPP / applicable die area (mm2).
- Classification and licence policy come from the ``control_rules`` rows, never from
  constants here: a clause holds when all its non-null thresholds hold (minimums
  inclusive, maximums exclusive).
- H100 equivalents: units x dense INT8 TOPS / 1979 (``h100e_int8``) or units x dense BF16
  TFLOP/s / 989.4 (``h100e_bf16``); the basis is always in the column name.
- Training time = FLOP / (chips x dense BF16 peak x MFU).

Frame functions take a :class:`polars.DataFrame` or :class:`polars.LazyFrame` and return
the same kind; a LazyFrame stays lazy until the caller collects it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import polars as pl

Frame = pl.DataFrame | pl.LazyFrame
Interval = tuple[float, float]

#: Throughput column -> (name in ``tpp_basis``, bit length).
PRECISIONS: dict[str, tuple[str, int]] = {
    "bf16_dense_tflops": ("bf16", 16),
    "fp8_dense_tflops": ("fp8", 8),
    "int8_dense_tops": ("int8", 8),
    "fp4_dense_tflops": ("fp4", 4),
}

#: H100 SXM reference figures of the two H100-equivalent conventions.
H100_INT8_TOPS = 1979.0
H100_BF16_TFLOPS = 989.4
H100E_BASES: dict[str, tuple[str, float]] = {
    "int8": ("int8_dense_tops", H100_INT8_TOPS),
    "bf16": ("bf16_dense_tflops", H100_BF16_TFLOPS),
}

#: control_rules threshold column -> (chip column it tests, True for a minimum).
THRESHOLDS: dict[str, tuple[str, bool]] = {
    "tpp_min": ("tpp", True),
    "tpp_max": ("tpp", False),
    "pd_min": ("performance_density", True),
    "pd_max": ("performance_density", False),
    "interconnect_min_gbps": ("interconnect_gbps", True),
    "dram_bw_min_gbps": ("memory_bw_gbps", True),
    "dram_bw_max_gbps": ("memory_bw_gbps", False),
}

#: Licence policies from most to least restrictive; the most restrictive that holds wins.
POLICY_ORDER = (
    "presumption_of_denial",
    "licence_required",
    "case_by_case",
    "presumption_of_approval",
)

TRIPLET_SUFFIXES = ("_low", "", "_high")
SECONDS_PER_DAY = 86_400.0


# --------------------------------------------------------------------------- frame utilities
def _lazy(df: Frame) -> tuple[pl.LazyFrame, bool]:
    """The frame as a LazyFrame, and whether the caller gave a LazyFrame."""
    if isinstance(df, pl.LazyFrame):
        return df, True
    if isinstance(df, pl.DataFrame):
        return df.lazy(), False
    raise TypeError(f"expected a polars DataFrame or LazyFrame, got {type(df).__name__}")


def _like(lf: pl.LazyFrame, lazy: bool) -> Frame:
    return lf if lazy else lf.collect()


def _with_missing(lf: pl.LazyFrame, cols: Mapping[str, pl.DataType]) -> pl.LazyFrame:
    """Add each absent column of ``cols`` as nulls of its dtype."""
    have = lf.collect_schema().names()
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in cols.items() if c not in have]
    return lf.with_columns(missing) if missing else lf


def _count_stem(names: list[str]) -> str:
    stems = [
        s for s in ("units", "chip_count") if any(f"{s}{x}" in names for x in TRIPLET_SUFFIXES)
    ]
    if len(stems) != 1:
        raise ValueError(
            "expected one count triplet: units_low/units/units_high or "
            f"chip_count_low/chip_count/chip_count_high; found {stems or 'neither'}"
        )
    return stems[0]


def _chip_key(names: list[str]) -> pl.Expr:
    """``chip_id``, or the single item of ``chip_ids`` (null when it names 0 or 2+ chips)."""
    if "chip_id" in names:
        return pl.col("chip_id")
    if "chip_ids" in names:
        ids = pl.col("chip_ids")
        return pl.when(ids.list.len() == 1).then(ids.list.first())
    raise ValueError("expected a 'chip_id' (or 'chip_ids') column to look chips up by")


# --------------------------------------------------------------------------- TPP and density
def tpp(chips: Frame) -> Frame:
    """Add ``tpp`` (bit x TOP/s) and ``tpp_basis`` (the precision that gave it).

    ``tpp = max(bf16_dense_tflops*16, fp8_dense_tflops*8, int8_dense_tops*8,
    fp4_dense_tflops*4)`` over the dense figures present; null when all are null. Ties go
    to the first of bf16, fp8, int8, fp4. Absent throughput columns count as null.

    Parameters
    ----------
    chips : DataFrame or LazyFrame
        Rows with any of the four dense throughput columns.

    Returns
    -------
    DataFrame or LazyFrame
        ``chips`` with ``tpp`` and ``tpp_basis`` (replaced when present).

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"chip_id": ["h100"], "bf16_dense_tflops": [989.0],
    ...                    "fp8_dense_tflops": [1979.0], "int8_dense_tops": [1979.0]})
    >>> tpp(df).select("tpp", "tpp_basis").row(0)
    (15832.0, 'fp8')
    """
    lf, lazy = _lazy(chips)
    lf = _with_missing(lf, dict.fromkeys(PRECISIONS, pl.Float64))
    terms = {name: pl.col(c).cast(pl.Float64) * bits for c, (name, bits) in PRECISIONS.items()}
    best = pl.max_horizontal(list(terms.values()))
    basis = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
    for name, term in terms.items():
        basis = basis.when(term == best).then(pl.lit(name))
    return _like(lf.with_columns(best.alias("tpp"), basis.alias("tpp_basis")), lazy)


def performance_density(chips: Frame) -> Frame:
    """Add ``performance_density`` = ``tpp`` / ``die_area_mm2`` (TPP per mm2).

    Adds ``tpp`` first when the frame lacks it. Null when the die area is unknown.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"chip_id": ["h20"], "bf16_dense_tflops": [148.0],
    ...                    "int8_dense_tops": [296.0], "die_area_mm2": [814.0]})
    >>> round(performance_density(df).item(0, "performance_density"), 2)
    2.91
    """
    lf, lazy = _lazy(chips)
    if "tpp" not in lf.collect_schema().names():
        lf = tpp(lf)
    lf = _with_missing(lf, {"die_area_mm2": pl.Float64})
    area = pl.col("die_area_mm2").cast(pl.Float64)
    dens = pl.when(area > 0).then(pl.col("tpp") / area)
    return _like(lf.with_columns(dens.alias("performance_density")), lazy)


# --------------------------------------------------------------------------- classification
def _clause_state() -> pl.Expr:
    """1 = all non-null thresholds hold, -1 = one fails, 0 = undecided (an input is null)."""
    states = []
    for thr, (inp, is_min) in THRESHOLDS.items():
        t, x = pl.col(thr), pl.col(inp)
        ok = x >= t if is_min else x < t
        states.append(
            pl.when(t.is_null()).then(1).when(x.is_null()).then(0).when(ok).then(1).otherwise(-1)
        )
    return pl.min_horizontal(states).cast(pl.Int8)


def _n_thresholds() -> pl.Expr:
    return pl.sum_horizontal([pl.col(t).is_not_null().cast(pl.Int8) for t in THRESHOLDS])


def classify(chips: Frame, rules: Frame | None = None) -> Frame:
    """Classify every chip under every rule vintage in ``rules``.

    Thresholds come only from the ``control_rules`` rows. Per rule vintage
    (``rule_id``): a clause holds when all its non-null thresholds hold (minimum
    inclusive, maximum exclusive); classification clauses with the same ``eccn_class``
    are alternatives; classes are tried in sort order (``3A090.a`` before ``3A090.b``).
    A class whose clauses cannot be decided because an input is null makes the answer
    ``unknown`` unless an earlier class already holds. Classification clauses without
    any threshold (e.g. an HBM clause) cannot be tested on a chip's specs and are
    ignored; vintages with no testable classification clause give no rows.

    ``china_licence_policy`` comes from the vintage's ``licence_policy`` clauses whose
    ``destinations`` include ``CN`` (or are empty), whose ``applies_to`` holds the
    chip's class and whose thresholds hold; the most restrictive wins. It is null when
    the vintage sets none for the chip (always for class ``none``) and ``unknown`` when
    a missing input decides it.

    Parameters
    ----------
    chips : DataFrame or LazyFrame
        ``chips`` rows (``chip_id``, dense throughputs, ``die_area_mm2``,
        ``interconnect_gbps``, ``memory_bw_gbps`` [GB/s], optional ``source_ids``).
    rules : DataFrame or LazyFrame, optional
        ``control_rules`` rows; default ``analytics.load("control_rules")``.

    Returns
    -------
    DataFrame or LazyFrame (the kind of ``chips``)
        One row per chip and vintage, sorted by ``chip_id``, ``effective_date``,
        ``rule_id``: ``chip_id, rule_id, rule_name, effective_date, superseded_date,
        tpp, performance_density, eccn_class, china_licence_policy, chip_source_ids,
        rule_source_ids``.

    Examples
    --------
    >>> import polars as pl
    >>> chips = pl.DataFrame({"chip_id": ["h20"], "int8_dense_tops": [296.0],
    ...                       "die_area_mm2": [814.0]})
    >>> rules = pl.DataFrame({"rule_id": ["r"], "clause": ["3A090.a.1"],
    ...     "clause_kind": ["classification"], "eccn_class": ["3A090.a"],
    ...     "tpp_min": [4800.0], "effective_date": [None]})
    >>> classify(chips, rules).select("chip_id", "rule_id", "eccn_class").row(0)
    ('h20', 'r', 'none')
    """
    if rules is None:
        from analytics.datasets import load

        rules = load("control_rules")
    c, lazy = _lazy(chips)
    r, _ = _lazy(rules)
    c = performance_density(c)
    c = _with_missing(
        c,
        {
            "interconnect_gbps": pl.Float64,
            "memory_bw_gbps": pl.Float64,
            "source_ids": pl.List(pl.String),
        },
    ).select(
        "chip_id",
        "tpp",
        "performance_density",
        pl.col("interconnect_gbps").cast(pl.Float64),
        pl.col("memory_bw_gbps").cast(pl.Float64),
        pl.col("source_ids").alias("chip_source_ids"),
    )
    r = _with_missing(
        r,
        {
            **dict.fromkeys(THRESHOLDS, pl.Float64),
            "rule_name": pl.String,
            "effective_date": pl.Date,
            "superseded_date": pl.Date,
            "eccn_class": pl.String,
            "applies_to": pl.List(pl.String),
            "licence_policy": pl.String,
            "destinations": pl.List(pl.String),
            "source_ids": pl.List(pl.String),
        },
    ).with_columns([pl.col(t).cast(pl.Float64) for t in THRESHOLDS])

    testable = (pl.col("clause_kind") == "classification") & (_n_thresholds() > 0)
    cls_rules = r.filter(testable)
    vintages = (
        r.join(cls_rules.select("rule_id").unique(), on="rule_id", how="semi")
        .group_by("rule_id")
        .agg(
            pl.col("rule_name").min(),
            pl.col("effective_date").min(),
            pl.col("superseded_date").max(),
            pl.col("source_ids").explode().drop_nulls().unique().sort().alias("rule_source_ids"),
        )
    )

    # class state per chip, vintage and class: OR over clauses = max of states
    states = (
        c.join(cls_rules, how="cross")
        .with_columns(_clause_state().alias("state"))
        .group_by("chip_id", "rule_id", "eccn_class")
        .agg(pl.col("state").max())
    )
    open_state = pl.col("state") >= 0
    first_cls = pl.col("eccn_class").filter(open_state).min()
    decided = states.group_by("chip_id", "rule_id").agg(
        first_cls.alias("first_class"),
        pl.col("state").filter(pl.col("eccn_class") == first_cls).max().alias("first_state"),
    )
    eccn = (
        pl.when(pl.col("first_class").is_null())
        .then(pl.lit("none"))
        .when(pl.col("first_state") == 1)
        .then(pl.col("first_class"))
        .otherwise(pl.lit("unknown"))
    )
    base = (
        c.join(vintages, how="cross")
        .join(decided, on=["chip_id", "rule_id"], how="left")
        .with_columns(eccn.alias("eccn_class"))
        .drop("first_class", "first_state")
    )

    # licence policy: clause state x applicability, most restrictive holding policy wins
    pol = r.filter(
        (pl.col("clause_kind") == "licence_policy")
        & (
            pl.col("destinations").is_null()
            | (pl.col("destinations").list.len() == 0)
            | pl.col("destinations").list.contains("CN")
        )
    ).select("rule_id", "applies_to", "licence_policy", *THRESHOLDS)
    applies = (
        pl.when(pl.col("applies_to").list.contains(pl.col("eccn_class")))
        .then(1)
        .when(pl.col("eccn_class") == "unknown")
        .then(0)
        .otherwise(-1)
    )
    rank = pl.col("licence_policy").replace_strict(
        {p: len(POLICY_ORDER) - i for i, p in enumerate(POLICY_ORDER)},
        default=0,
        return_dtype=pl.Int8,
    )
    policy = (
        base.select(
            "chip_id",
            "rule_id",
            "eccn_class",
            "tpp",
            "performance_density",
            "interconnect_gbps",
            "memory_bw_gbps",
        )
        .join(pol, on="rule_id", how="inner")
        .with_columns(
            pl.min_horizontal(applies, _clause_state()).alias("pstate"), rank.alias("rank")
        )
        .group_by("chip_id", "rule_id")
        .agg(
            pl.col("rank").filter(pl.col("pstate") == 1).max().alias("true_rank"),
            pl.col("rank").filter(pl.col("pstate") == 0).max().alias("open_rank"),
        )
    )
    by_rank = {len(POLICY_ORDER) - i: p for i, p in enumerate(POLICY_ORDER)}
    tr, orank = pl.col("true_rank"), pl.col("open_rank")
    china = (
        pl.when(tr.is_not_null() & (orank.is_null() | (orank <= tr)))
        .then(tr.replace_strict(by_rank, default=None, return_dtype=pl.String))
        .when(orank.is_not_null())
        .then(pl.lit("unknown"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    out = (
        base.join(policy, on=["chip_id", "rule_id"], how="left")
        .with_columns(china.alias("china_licence_policy"))
        .select(
            "chip_id",
            "rule_id",
            "rule_name",
            "effective_date",
            "superseded_date",
            "tpp",
            "performance_density",
            "eccn_class",
            "china_licence_policy",
            "chip_source_ids",
            "rule_source_ids",
        )
        .sort("chip_id", "effective_date", "rule_id", nulls_last=True)
    )
    return _like(out, lazy)


# --------------------------------------------------------------------------- H100e and fleet FLOP/s
def _chip_figures(chips: Frame, cols: list[str]) -> pl.LazyFrame:
    lf, _ = _lazy(chips)
    lf = _with_missing(lf, dict.fromkeys(cols, pl.Float64))
    return lf.select(
        pl.col("chip_id").alias("__chip"),
        *[pl.col(x).cast(pl.Float64).alias(f"__{x}") for x in cols],
    )


def h100e(units: Frame, chips: Frame, *, basis: str = "int8") -> Frame:
    """Add H100 equivalents of a unit or chip-count triplet, named by basis.

    ``basis="int8"``: units x ``int8_dense_tops`` / 1979 -> ``h100e_int8_low``,
    ``h100e_int8``, ``h100e_int8_high``. ``basis="bf16"``: units x
    ``bf16_dense_tflops`` / 989.4 -> ``h100e_bf16*``. Strict: a chip without the basis
    figure gives null (no fallback to another precision); so does a row whose chip is
    unknown or whose ``chip_ids`` names several chips.

    Parameters
    ----------
    units : DataFrame or LazyFrame
        Rows with ``chip_id`` (or a one-item ``chip_ids``) and any of
        ``units_low/units/units_high`` or ``chip_count_low/chip_count/chip_count_high``.
    chips : DataFrame or LazyFrame
        ``chips`` rows.
    basis : {"int8", "bf16"}

    Examples
    --------
    >>> import polars as pl
    >>> chips = pl.DataFrame({"chip_id": ["h20"], "int8_dense_tops": [296.0]})
    >>> units = pl.DataFrame({"chip_id": ["h20"], "units": [1979]})
    >>> h100e(units, chips).item(0, "h100e_int8")
    296.0
    """
    if basis not in H100E_BASES:
        raise ValueError(f"basis must be one of {sorted(H100E_BASES)}, got {basis!r}")
    col, ref = H100E_BASES[basis]
    lf, lazy = _lazy(units)
    names = lf.collect_schema().names()
    stem = _count_stem(names)
    lf = lf.with_columns(_chip_key(names).alias("__chip")).join(
        _chip_figures(chips, [col]), on="__chip", how="left", maintain_order="left"
    )
    peak = pl.col(f"__{col}")
    out = [
        (pl.col(f"{stem}{sfx}").cast(pl.Float64) * peak / ref).alias(f"h100e_{basis}{sfx}")
        for sfx in TRIPLET_SUFFIXES
        if f"{stem}{sfx}" in names
    ]
    return _like(lf.with_columns(out).drop("__chip", f"__{col}"), lazy)


def fleet_compute(holdings: Frame, chips: Frame) -> Frame:
    """Dense BF16 FLOP/s and both H100e intervals of chip holdings.

    Adds ``flops_bf16_low/flops_bf16/flops_bf16_high`` (count x dense BF16 TFLOP/s x
    1e12, in FLOP/s), ``h100e_int8_low/_/_high`` and ``h100e_bf16_low/_/_high``. Rows
    without a ``chip_id`` (or with an unknown chip, or a missing basis figure) keep nulls.

    Parameters
    ----------
    holdings : DataFrame or LazyFrame
        ``lab_compute``-style rows: ``chip_id`` and ``chip_count_low/chip_count/
        chip_count_high`` (``units*`` also works).
    chips : DataFrame or LazyFrame

    Examples
    --------
    >>> import polars as pl
    >>> chips = pl.DataFrame({"chip_id": ["h800"], "bf16_dense_tflops": [989.0],
    ...                       "int8_dense_tops": [1979.0]})
    >>> lc = pl.DataFrame({"chip_id": ["h800"], "chip_count": [2048]})
    >>> fleet_compute(lc, chips).select("flops_bf16", "h100e_int8").row(0)
    (2.025472e+18, 2048.0)
    """
    lf, lazy = _lazy(holdings)
    names = lf.collect_schema().names()
    stem = _count_stem(names)
    lf = _with_missing(lf, {f"{stem}{s}": pl.Int64 for s in TRIPLET_SUFFIXES})
    lf = lf.with_columns(_chip_key(names).alias("__chip")).join(
        _chip_figures(chips, ["bf16_dense_tflops", "int8_dense_tops"]),
        on="__chip",
        how="left",
        maintain_order="left",
    )
    bf16, int8 = pl.col("__bf16_dense_tflops"), pl.col("__int8_dense_tops")
    measures = {
        "flops_bf16": bf16 * 1e12,
        "h100e_int8": int8 / H100_INT8_TOPS,
        "h100e_bf16": bf16 / H100_BF16_TFLOPS,
    }
    out = [
        (pl.col(f"{stem}{sfx}").cast(pl.Float64) * factor).alias(f"{name}{sfx}")
        for name, factor in measures.items()
        for sfx in TRIPLET_SUFFIXES
    ]
    lf = lf.with_columns(out).drop("__chip", "__bf16_dense_tflops", "__int8_dense_tops")
    return _like(lf, lazy)


# --------------------------------------------------------------------------- training arithmetic
def _bf16_peak(chip: Any, chips: Frame | None) -> float:
    """Dense BF16 TFLOP/s of ``chip``: a number, a mapping/row, a 1-row frame or a chip_id."""
    if isinstance(chip, bool):
        raise TypeError("chip must be a number, a mapping, a one-row frame or a chip_id")
    if isinstance(chip, int | float):
        value: Any = chip
    elif isinstance(chip, str):
        if chips is None:
            from analytics.datasets import load

            chips = load("chips")
        lf, _ = _lazy(chips)
        found = lf.filter(pl.col("chip_id") == chip).select("bf16_dense_tflops").collect()
        if found.height != 1:
            raise ValueError(f"chip_id {chip!r}: expected one row in chips, found {found.height}")
        value = found.item()
    elif isinstance(chip, pl.DataFrame | pl.LazyFrame):
        df = chip.collect() if isinstance(chip, pl.LazyFrame) else chip
        if df.height != 1:
            raise ValueError(f"expected a one-row chips frame, got {df.height} rows")
        value = df.row(0, named=True).get("bf16_dense_tflops")
    elif isinstance(chip, Mapping):
        value = chip.get("bf16_dense_tflops")
    else:
        raise TypeError(f"cannot read a BF16 peak from {type(chip).__name__}")
    if value is None or not value > 0:
        raise ValueError(f"bf16_dense_tflops must be a positive number, got {value!r}")
    return float(value)


def _interval(x: Any, name: str) -> Interval:
    if isinstance(x, tuple | list):
        if len(x) != 2:
            raise ValueError(f"{name}: expected a (low, high) pair, got {x!r}")
        lo, hi = float(x[0]), float(x[1])
    else:
        lo = hi = float(x)
    if not lo <= hi:
        raise ValueError(f"{name}: low {lo} is above high {hi}")
    if lo < 0:
        raise ValueError(f"{name}: expected non-negative values, got {x!r}")
    return lo, hi


def _evaluate(f: Any, **args: Any) -> float | Interval:
    """Apply the monotone ``f`` to every corner of the argument intervals; hull of the results."""
    is_range = any(isinstance(v, tuple | list) for v in args.values())
    pairs = {k: _interval(v, k) for k, v in args.items()}
    try:
        values = [
            f(**dict(zip(pairs, combo, strict=True)))
            for combo in itertools.product(*pairs.values())
        ]
    except ZeroDivisionError:
        raise ValueError(
            f"a divisor among {sorted(args)} is zero; expected positive values"
        ) from None
    return (min(values), max(values)) if is_range else values[0]


def training_days(
    flop: float | Interval,
    chip: Any,
    count: float | Interval,
    *,
    mfu: float | Interval,
    chips: Frame | None = None,
) -> float | Interval:
    """Days to train ``flop`` FLOP on ``count`` chips at ``mfu`` of dense BF16 peak.

    ``days = flop / (count x bf16_dense_tflops x 1e12 x mfu) / 86400``. Any of ``flop``,
    ``count`` and ``mfu`` may be a ``(low, high)`` pair; the result is then a
    ``(low, high)`` pair (ordered), else a float. ``chip`` is a BF16 TFLOP/s number, a
    mapping or one-row frame with ``bf16_dense_tflops``, or a ``chip_id`` looked up in
    ``chips`` (default ``analytics.load("chips")``).

    Examples
    --------
    >>> round(training_days(3.3e24, {"bf16_dense_tflops": 989.0}, 2048, mfu=0.33), 1)
    57.1
    >>> [round(d) for d in training_days(3.3e24, 989.0, 2048, mfu=(0.2, 0.4))]
    [47, 94]
    """
    peak = _bf16_peak(chip, chips) * 1e12
    return _evaluate(
        lambda flop, count, mfu: flop / (count * peak * mfu) / SECONDS_PER_DAY,
        flop=flop,
        count=count,
        mfu=mfu,
    )


def max_training_flop(
    chip: Any,
    count: float | Interval,
    days: float | Interval,
    *,
    mfu: float | Interval,
    chips: Frame | None = None,
) -> float | Interval:
    """Largest training run (FLOP) ``count`` chips finish in ``days`` at ``mfu``.

    ``flop = count x bf16_dense_tflops x 1e12 x mfu x days x 86400``; pairs in, pair out,
    as in :func:`training_days`.

    Examples
    --------
    >>> f"{max_training_flop(989.0, 2048, 57.1, mfu=0.33):.2e}"
    '3.30e+24'
    """
    peak = _bf16_peak(chip, chips) * 1e12
    return _evaluate(
        lambda count, days, mfu: count * peak * mfu * days * SECONDS_PER_DAY,
        count=count,
        days=days,
        mfu=mfu,
    )


def implied_mfu(
    flop: float | Interval, chip: Any, gpu_hours: float | Interval, *, chips: Frame | None = None
) -> float | Interval:
    """Model FLOP utilisation implied by ``flop`` over ``gpu_hours`` of dense BF16 peak.

    ``mfu = flop / (gpu_hours x 3600 x bf16_dense_tflops x 1e12)``; pairs in, pair out.

    Examples
    --------
    >>> round(implied_mfu(3.3e24, {"bf16_dense_tflops": 989.0}, 2.788e6), 3)
    0.332
    """
    peak = _bf16_peak(chip, chips) * 1e12
    return _evaluate(
        lambda flop, gpu_hours: flop / (gpu_hours * 3600.0 * peak), flop=flop, gpu_hours=gpu_hours
    )


# --------------------------------------------------------------------------- quarterly sums
Z95 = 1.6448536269514722  # 95th percentile of the standard normal (as analytics.uncertainty)
QUARTERLY_METHODS = ("moments", "sample")


def _item_terms(stem: str, names: list[str]) -> dict[str, pl.Expr]:
    """Per row: the lognormal fitted to the triplet, as the terms that add up per group.

    The fit is :func:`analytics.uncertainty.fit_lognormal` written as polars expressions
    (5th/50th/95th percentiles; wider side when a central figure is given; log midpoint
    of a range; a point for a lone figure or equal bounds; zeros as there). Terms:
    ``mean`` and ``var`` of a spread item (``exp(mu + s^2/2)`` and
    ``(exp(s^2) - 1) exp(2 mu + s^2)``), ``point`` (a point's value, exactly), ``q5``,
    ``q50``, ``q95`` (a spread item's own percentiles), ``missing`` and ``invalid``.
    """
    f = pl.Float64
    lo, c, hi = (
        (pl.col(x).cast(f) if x in names else pl.lit(None, dtype=f))
        for x in (f"{stem}_low", stem, f"{stem}_high")
    )
    has_lo, has_c, has_hi = lo.is_not_null(), c.is_not_null(), hi.is_not_null()
    # central known: sigma from the wider usable side
    up = pl.when(has_hi & (c > 0)).then((hi / c).log())
    down = pl.when(has_lo & (lo > 0) & (c > 0)).then((c / lo).log())
    sigma_c = pl.max_horizontal(up, down).fill_null(0.0) / Z95
    # range only: log midpoint (low > 0) or high / 2 as the median (low == 0)
    mu_b = pl.when(lo > 0).then((lo.log() + hi.log()) / 2).otherwise((hi / 2).log())
    sigma_b = (
        pl.when(hi <= 0)
        .then(0.0)
        .when(lo > 0)
        .then((hi / lo).log() / (2 * Z95))
        .otherwise(math.log(2.0) / Z95)
    )
    both = ~has_c & has_lo & has_hi
    sigma = pl.when(has_c).then(sigma_c).when(both).then(sigma_b).otherwise(0.0)
    mu = pl.when(has_c).then(c.log()).otherwise(mu_b)
    s2 = sigma * sigma
    spread = pl.when(sigma > 0)
    return {
        "mean": spread.then((mu + s2 / 2).exp()).otherwise(0.0),
        "var": spread.then((s2.exp() - 1) * (2 * mu + s2).exp()).otherwise(0.0),
        "point": spread.then(0.0).otherwise(pl.coalesce(c, lo, hi)),
        "q5": spread.then((mu - Z95 * sigma).exp()),
        "q50": spread.then(mu.exp()),
        "q95": spread.then((mu + Z95 * sigma).exp()),
        "missing": ~(has_lo | has_c | has_hi),
        "invalid": ((lo < 0) | (c < 0) | (hi < 0) | (lo > c) | (c > hi) | (lo > hi)).fill_null(
            False
        ),
    }


def _sum_percentiles(stem: str) -> list[pl.Expr]:
    """5th/50th/95th percentiles of a group's sum from its summed terms.

    Fenton-Wilkinson: the lognormal with the summed mean and variance of the spread
    items, shifted by the sum of the points. Each percentile is then raised to its
    exact lower bound, points plus the largest spread item's own percentile (the sum is
    never below any one of its items); this also keeps the sum from shrinking when a
    very wide item joins a group.
    """
    m, v, pt = pl.col("__mean"), pl.col("__var"), pl.col("__point")
    s = (1 + v / (m * m)).log().sqrt()
    mu = m.log() - s * s / 2
    out = []
    for q, z in (("5", -Z95), ("50", 0.0), ("95", Z95)):
        fw = pl.when(v > 0).then((mu + z * s).exp()).otherwise(m)
        floor = pl.col(f"__q{q}").fill_null(0.0)
        out.append(pt + pl.max_horizontal(fw, floor).alias(f"{stem}_p{q}"))
    return [e.alias(f"{stem}_p{q}") for e, q in zip(out, ("5", "50", "95"), strict=True)]


def quarterly(
    shipments: Frame,
    *,
    by: str | tuple[str, ...] | list[str] = ("buyer_ids", "chip_ids"),
    stem: str = "units",
    method: str = "moments",
    n: int = 10_000,
    seed: int = 0,
) -> Frame:
    """5th, 50th and 95th percentile of the quarterly sum of uncertain figures, per group.

    Rows are grouped by the quarter of ``period_start`` and the ``by`` columns (a list
    column such as ``buyer_ids`` groups by the whole list: a group of buyers stays a
    group); items are independent, and percentiles are never added. Two methods:

    - ``"moments"`` (default, for any size): each row's triplet is fitted with a
      lognormal as :func:`analytics.uncertainty.fit_lognormal` does; its mean
      ``exp(mu + s^2/2)`` and variance ``(exp(s^2) - 1) exp(2 mu + s^2)`` are summed per
      group, and a lognormal with that mean and variance (Fenton-Wilkinson moment
      matching) gives the percentiles. Closed form, one vectorised polars
      aggregation: a LazyFrame stays lazy and runs on the streaming engine.
    - ``"sample"``: Monte Carlo with :func:`analytics.uncertainty.sum_intervals`
      (``n`` draws per row, ``seed``); exact up to sampling noise, but it holds
      ``groups x n`` draws in memory and collects its input. Use it for small data or
      to check ``"moments"``, which agrees within a few percent on realistic groups
      (it is exact for points and for a single item). Points are added exactly, and
      each percentile is at least the points plus the widest item's own percentile.

    A group of points stays a point (p5 = p50 = p95 = their sum). Rows with no figure
    are left out and counted in ``n_missing``.

    Parameters
    ----------
    shipments : DataFrame or LazyFrame
        Rows with ``period_start`` (Date), the ``by`` columns and any of
        ``{stem}_low``, ``{stem}``, ``{stem}_high``.
    by : str or sequence of str
        Group columns besides the quarter.
    stem : str
        The triplet to add, e.g. ``"units"`` or ``"value_usd"``.
    method : {"moments", "sample"}
    n, seed : int
        Draws per row and generator seed of ``method="sample"``.

    Returns
    -------
    DataFrame or LazyFrame
        ``quarter`` (first day), the ``by`` columns, ``{stem}_p5``, ``{stem}_p50``,
        ``{stem}_p95``, ``n_items`` and ``n_missing``, sorted by quarter and ``by``.
        ``"moments"`` returns the kind it was given; ``"sample"`` always a DataFrame.
        For ``"moments"``, a triplet out of order or negative raises ``ValueError`` on a
        DataFrame and leaves its group's percentiles null on a LazyFrame.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> df = pl.DataFrame({"period_start": [dt.date(2025, 1, 5), dt.date(2025, 2, 1),
    ...                                     dt.date(2025, 4, 1)],
    ...     "buyer": ["a", "a", "a"], "units_low": [None, 80.0, None],
    ...     "units": [100.0, 100.0, 7.0], "units_high": [None, 125.0, None]})
    >>> q = quarterly(df, by="buyer")
    >>> q.select("quarter", pl.col("units_p50").round(1), "n_items").rows()
    [(datetime.date(2025, 1, 1), 200.0, 2), (datetime.date(2025, 4, 1), 7.0, 1)]
    >>> q.item(1, "units_p5") == q.item(1, "units_p95") == 7.0
    True
    >>> s = quarterly(df, by="buyer", method="sample", n=20_000, seed=1)
    >>> abs(s.item(0, "units_p95") / q.item(0, "units_p95") - 1) < 0.02
    True
    """
    if method not in QUARTERLY_METHODS:
        raise ValueError(f"method must be one of {QUARTERLY_METHODS}, got {method!r}")
    keys = [by] if isinstance(by, str) else list(by)
    lf, lazy = _lazy(shipments)
    names = lf.collect_schema().names()
    absent = [c for c in ("period_start", *keys) if c not in names]
    if absent:
        raise ValueError(f"expected columns {absent} in the frame; found {names}")
    if not any(f"{stem}{x}" in names for x in TRIPLET_SUFFIXES):
        raise ValueError(f"expected any of {stem}_low, {stem}, {stem}_high in the frame")
    quarter = pl.col("period_start").dt.truncate("1q").alias("quarter")
    group = ["quarter", *keys]
    pct = [f"{stem}_p5", f"{stem}_p50", f"{stem}_p95"]

    if method == "sample":
        from analytics.uncertainty import sum_intervals

        trip = [c for c in (f"{stem}_low", stem, f"{stem}_high") if c in names]
        out = sum_intervals(lf.select(quarter, *keys, *trip), stem, by=group, n=n, seed=seed)
        return out.select(*group, *pct, "n_items", "n_missing").sort(group, nulls_last=True)

    terms = _item_terms(stem, names)
    agg = (
        lf.select(quarter, *keys, *[e.alias(f"__{k}") for k, e in terms.items()])
        .group_by(group)
        .agg(
            pl.col("__mean", "__var", "__point").sum(),
            pl.col("__q5", "__q50", "__q95").max(),
            (~pl.col("__missing")).sum().cast(pl.Int64).alias("n_items"),
            pl.col("__missing").sum().cast(pl.Int64).alias("n_missing"),
            pl.col("__invalid").any().alias("__bad"),
        )
    )
    unknown = pl.col("__bad") | (pl.col("n_items") == 0)
    out = agg.select(
        *group,
        *[
            pl.when(unknown).then(None).otherwise(e).alias(e.meta.output_name())
            for e in _sum_percentiles(stem)
        ],
        "n_items",
        "n_missing",
        "__bad",
    ).sort(group, nulls_last=True)
    if lazy:
        return out.drop("__bad")
    df = out.collect()
    bad = int(df.get_column("__bad").sum())
    if bad:
        raise ValueError(
            f"{bad} group(s) hold a triplet out of order or negative; expected "
            f"0 <= {stem}_low <= {stem} <= {stem}_high (5th <= 50th <= 95th percentile)"
        )
    return df.drop("__bad")
