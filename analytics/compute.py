"""Derived chip metrics: TPP, performance density and rule-vintage classification.

Formulas (see ``docs`` and the dataset notes):

- TPP = dense TOPS x bit length, maximum over BF16 (x16), FP8 (x8), INT8 (x8) and FP4 (x4).
- Performance density = TPP / applicable die area (mm2).
- Classification and licence policy come from the ``control_rules`` rows, never from
  constants here: a clause holds when all its non-null thresholds hold (minimums
  inclusive, maximums exclusive).

H100 equivalents and fleet FLOP/s are in :mod:`analytics.fleet`, training arithmetic in
:mod:`analytics.training`, quarterly sums in :mod:`analytics.aggregation`.

Frame functions take a :class:`polars.DataFrame` or :class:`polars.LazyFrame` and return
the same kind; a LazyFrame stays lazy until the caller collects it.
"""

from __future__ import annotations

import polars as pl

from analytics.rules import (
    CHINA,
    PRECISIONS,
    Frame,
    add_missing_columns,
    as_lazy,
    is_us_design,
    like,
    policy_of_rank,
    policy_rank,
    tpp_basis,
    unknown_policies,
)
from analytics.rules import tpp as tpp_expr
from analytics.vocab import POLICY_ORDER

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
    lf, lazy = as_lazy(chips)
    lf = add_missing_columns(lf, dict.fromkeys(PRECISIONS, pl.Float64))
    return like(lf.with_columns(tpp_expr(), tpp_basis()), lazy)


def performance_density(chips: Frame) -> Frame:
    """Add ``performance_density`` = ``tpp`` / ``die_area_mm2`` (TPP per mm2).

    Adds ``tpp`` first when the frame lacks it. Null when the die area is unknown.

    Parameters
    ----------
    chips : DataFrame or LazyFrame
        Rows with dense throughputs (or ``tpp``) and ``die_area_mm2``.

    Returns
    -------
    DataFrame or LazyFrame
        ``chips`` with ``performance_density`` (and ``tpp``, ``tpp_basis``).

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"chip_id": ["h20"], "bf16_dense_tflops": [148.0],
    ...                    "int8_dense_tops": [296.0], "die_area_mm2": [814.0]})
    >>> round(performance_density(df).item(0, "performance_density"), 2)
    2.91
    """
    lf, lazy = as_lazy(chips)
    if "tpp" not in lf.collect_schema().names():
        lf = tpp(lf)
    lf = add_missing_columns(lf, {"die_area_mm2": pl.Float64})
    area = pl.col("die_area_mm2").cast(pl.Float64)
    dens = pl.when(area > 0).then(pl.col("tpp") / area)
    return like(lf.with_columns(dens.alias("performance_density")), lazy)


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


def classify(chips: Frame, rules: Frame, *, entities: Frame | None = None) -> Frame:
    """Classify every chip under every rule vintage in ``rules``: the 3A090 class.

    This is about the rule text: the class a chip's specifications put it in, and the
    licence policy the vintage sets for that class. Whether a licence was required,
    granted or denied for a buyer on a date (is-informed letters, licences, Entity List)
    is the gates' question: :func:`analytics.gate_status`.

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
    a missing input decides it. With ``entities``, a chip whose vendor is seated outside
    the United States (:func:`analytics.rules.is_us_design`) is ``not_applicable``:
    a US licence policy for China governs US designs only (Huawei, Biren, Cambricon
    chips have none); its class is still reported, since the thresholds are about
    specifications.

    Parameters
    ----------
    chips : DataFrame or LazyFrame
        ``chips`` rows (``chip_id``, dense throughputs, ``die_area_mm2``,
        ``interconnect_gbps``, ``memory_bw_gbps`` [GB/s], optional ``source_ids``).
    rules : DataFrame or LazyFrame
        ``control_rules`` rows of the same release as ``chips`` (required: nothing is
        loaded behind the caller's back). A ``licence_policy`` outside
        :data:`analytics.vocab.LICENCE_POLICIES` raises ``ValueError``.
    entities : DataFrame or LazyFrame, optional
        ``entities`` rows (``entity_id``, ``country``) to tell US designs from others;
        without it ``us_design`` is null and no policy is ``not_applicable``.

    Returns
    -------
    DataFrame or LazyFrame (the kind of ``chips``)
        One row per chip and vintage, sorted by ``chip_id``, ``effective_date``,
        ``rule_id``: ``chip_id, rule_id, rule_name, effective_date, superseded_date,
        tpp, performance_density, interconnect_gbps, memory_bw_gbps, eccn_class,
        us_design, china_licence_policy, chip_source_ids, rule_source_ids``.

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
    c, lazy = as_lazy(chips)
    r = _rule_inputs(rules)
    c = _chip_inputs(c)
    testable = (pl.col("clause_kind") == "classification") & (_n_thresholds() > 0)
    cls_rules = r.filter(testable)
    base = (
        c.join(_vintages(r, cls_rules), how="cross")
        .join(_first_class(c, cls_rules), on=["chip_id", "rule_id"], how="left")
        .with_columns(_eccn_class().alias("eccn_class"))
        .drop("first_class", "first_state")
    )
    policy = pl.when(pl.col("us_design").not_()).then(pl.lit(NOT_US)).otherwise(
        pl.col("china_licence_policy"))
    out = (
        base.join(_china_policy(base, r), on=["chip_id", "rule_id"], how="left")
        .join(_us_designs(chips, entities), on="chip_id", how="left")
        .with_columns(policy.alias("china_licence_policy"))
        .select(CLASSIFY_COLUMNS)
        .sort("chip_id", "effective_date", "rule_id", nulls_last=True)
    )
    return like(out, lazy)


#: ``china_licence_policy`` of a chip that is not a US design.
NOT_US = "not_applicable"


def _us_designs(chips: Frame, entities: Frame | None) -> pl.LazyFrame:
    """Per chip: ``us_design`` from its vendor's seat (null without ``entities``)."""
    c = add_missing_columns(as_lazy(chips)[0], {"vendor_id": pl.String})
    if entities is None:
        return c.select("chip_id", pl.lit(None, dtype=pl.Boolean).alias("us_design"))
    seats = as_lazy(entities)[0].select(pl.col("entity_id").alias("vendor_id"),
                                        pl.col("country").alias("vendor_country"))
    return c.select("chip_id", "vendor_id").join(seats, on="vendor_id", how="left").select(
        "chip_id", is_us_design("vendor_country").alias("us_design"))


#: Columns of :func:`classify`, in order.
CLASSIFY_COLUMNS = (
    "chip_id", "rule_id", "rule_name", "effective_date", "superseded_date", "tpp",
    "performance_density", "interconnect_gbps", "memory_bw_gbps", "eccn_class", "us_design",
    "china_licence_policy", "chip_source_ids", "rule_source_ids",
)
_CHIP_INPUTS = {
    "interconnect_gbps": pl.Float64,
    "memory_bw_gbps": pl.Float64,
    "source_ids": pl.List(pl.String),
}
_RULE_INPUTS = {
    **dict.fromkeys(THRESHOLDS, pl.Float64),
    "rule_name": pl.String,
    "effective_date": pl.Date,
    "superseded_date": pl.Date,
    "eccn_class": pl.String,
    "applies_to": pl.List(pl.String),
    "licence_policy": pl.String,
    "destinations": pl.List(pl.String),
    "source_ids": pl.List(pl.String),
}


def _chip_inputs(c: pl.LazyFrame) -> pl.LazyFrame:
    """Per chip: TPP, density, interconnect and DRAM bandwidth, and its sources."""
    return add_missing_columns(performance_density(c), _CHIP_INPUTS).select(
        "chip_id",
        "tpp",
        "performance_density",
        pl.col("interconnect_gbps").cast(pl.Float64),
        pl.col("memory_bw_gbps").cast(pl.Float64),
        pl.col("source_ids").alias("chip_source_ids"),
    )


def _rule_inputs(rules: Frame) -> pl.LazyFrame:
    """The clauses with every threshold column as Float64; an unknown policy raises."""
    if isinstance(rules, pl.DataFrame) and "licence_policy" in rules.columns:
        unknown = unknown_policies(rules.get_column("licence_policy").unique().to_list())
        if unknown:
            raise ValueError(
                f"unknown licence_policy {unknown} in rules; expected one of {list(POLICY_ORDER)}"
            )
    r, _ = as_lazy(rules)
    r = add_missing_columns(r, _RULE_INPUTS)
    return r.with_columns([pl.col(t).cast(pl.Float64) for t in THRESHOLDS])


def _vintages(r: pl.LazyFrame, cls_rules: pl.LazyFrame) -> pl.LazyFrame:
    """One row per vintage with a testable classification clause: name, dates, sources."""
    return (
        r.join(cls_rules.select("rule_id").unique(), on="rule_id", how="semi")
        .group_by("rule_id")
        .agg(
            pl.col("rule_name").min(),
            pl.col("effective_date").min(),
            pl.col("superseded_date").max(),
            pl.col("source_ids").explode().drop_nulls().unique().sort().alias("rule_source_ids"),
        )
    )


def _first_class(c: pl.LazyFrame, cls_rules: pl.LazyFrame) -> pl.LazyFrame:
    """Per chip and vintage: the first class not ruled out, and whether it holds."""
    states = (  # OR over the clauses of a class = max of their states
        c.join(cls_rules, how="cross")
        .with_columns(_clause_state().alias("state"))
        .group_by("chip_id", "rule_id", "eccn_class")
        .agg(pl.col("state").max())
    )
    first_cls = pl.col("eccn_class").filter(pl.col("state") >= 0).min()
    return states.group_by("chip_id", "rule_id").agg(
        first_cls.alias("first_class"),
        pl.col("state").filter(pl.col("eccn_class") == first_cls).max().alias("first_state"),
    )


def _eccn_class() -> pl.Expr:
    """``none`` when no class is open, the first open class when it holds, else unknown."""
    return (
        pl.when(pl.col("first_class").is_null())
        .then(pl.lit("none"))
        .when(pl.col("first_state") == 1)
        .then(pl.col("first_class"))
        .otherwise(pl.lit("unknown"))
    )


def _china_policy(base: pl.LazyFrame, r: pl.LazyFrame) -> pl.LazyFrame:
    """Per chip and vintage, ``china_licence_policy``: the most restrictive that holds."""
    pol = r.filter(
        (pl.col("clause_kind") == "licence_policy")
        & (
            pl.col("destinations").is_null()
            | (pl.col("destinations").list.len() == 0)
            | pl.col("destinations").list.contains(CHINA)
        )
    ).select("rule_id", "applies_to", "licence_policy", *THRESHOLDS)
    applies = (
        pl.when(pl.col("applies_to").list.contains(pl.col("eccn_class")))
        .then(1)
        .when(pl.col("eccn_class") == "unknown")
        .then(0)
        .otherwise(-1)
    )
    ranks = (
        base.select(
            "chip_id", "rule_id", "eccn_class", "tpp", "performance_density",
            "interconnect_gbps", "memory_bw_gbps",
        )
        .join(pol, on="rule_id", how="inner")
        .with_columns(
            pl.min_horizontal(applies, _clause_state()).alias("pstate"),
            policy_rank("licence_policy").alias("rank"),
        )
        .group_by("chip_id", "rule_id")
        .agg(
            pl.col("rank").filter(pl.col("pstate") == 1).max().alias("true_rank"),
            pl.col("rank").filter(pl.col("pstate") == 0).max().alias("open_rank"),
        )
    )
    tr, orank = pl.col("true_rank"), pl.col("open_rank")
    china = (
        pl.when(tr.is_not_null() & (orank.is_null() | (orank <= tr)))
        .then(policy_of_rank(tr))
        .when(orank.is_not_null())
        .then(pl.lit("unknown"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return ranks.select("chip_id", "rule_id", china.alias("china_licence_policy"))


#: Minimum threshold of a classification clause -> (chip column it tests, share column).
LINE_MINIMUMS: dict[str, tuple[str, str]] = {
    "tpp_min": ("tpp", "tpp_share"),
    "pd_min": ("performance_density", "pd_share"),
    "interconnect_min_gbps": ("interconnect_gbps", "interconnect_share"),
    "dram_bw_min_gbps": ("memory_bw_gbps", "dram_bw_share"),
}


def share_of_line(classified: Frame, rules: Frame) -> Frame:
    """How close each chip sits under each classification clause it does not meet.

    For every row of :func:`classify` output and every classification clause of its
    vintage for another class, each minimum the clause sets gives a share: ``tpp /
    tpp_min``, ``performance_density / pd_min``, ``interconnect_gbps /
    interconnect_min_gbps`` (the October 2022 test that the A800 and H800 were cut
    to pass) and ``memory_bw_gbps / dram_bw_min_gbps``. ``share_of_line`` is the
    smallest (a clause holds only when every minimum is met). Only rows under the line
    (``share_of_line < 1``) are kept; the closer to 1, the closer the chip sits under it.

    Parameters
    ----------
    classified : DataFrame or LazyFrame
        :func:`classify` output (more columns, e.g. a chip's ``model``, pass through).
    rules : DataFrame or LazyFrame
        The ``control_rules`` rows it was classified with.

    Returns
    -------
    DataFrame or LazyFrame (the kind of ``classified``)
        ``classified``'s columns plus ``clause``, the four minimums, the four shares
        (:data:`LINE_MINIMUMS`) and ``share_of_line``, closest first (then by
        ``chip_id``, ``rule_id``, ``clause``).

    Examples
    --------
    >>> import polars as pl
    >>> classified = pl.DataFrame({"chip_id": ["a800"], "rule_id": ["r22"],
    ...     "eccn_class": ["none"], "tpp": [4992.0], "interconnect_gbps": [400.0]})
    >>> rules = pl.DataFrame({"rule_id": ["r22"], "clause": ["3A090.a"],
    ...     "clause_kind": ["classification"], "eccn_class": ["3A090.a"],
    ...     "tpp_min": [4800.0], "interconnect_min_gbps": [600.0]})
    >>> out = share_of_line(classified, rules)
    >>> out.select("clause", pl.col("share_of_line").round(3)).row(0)
    ('3A090.a', 0.667)
    """
    c, lazy = as_lazy(classified)
    c = add_missing_columns(c, {col: pl.Float64 for col, _ in LINE_MINIMUMS.values()})
    r = add_missing_columns(as_lazy(rules)[0], dict.fromkeys(LINE_MINIMUMS, pl.Float64))
    clauses = r.filter(pl.col("clause_kind") == "classification").select(
        "rule_id", "clause", pl.col("eccn_class").alias("__class"),
        *(pl.col(m).cast(pl.Float64) for m in LINE_MINIMUMS),
    )
    shares = [(pl.col(col).cast(pl.Float64) / pl.col(m)).alias(share)
              for m, (col, share) in LINE_MINIMUMS.items()]
    out = (
        c.join(clauses, on="rule_id")
        .filter(pl.col("eccn_class") != pl.col("__class"))
        .drop("__class")
        .with_columns(shares)
        .with_columns(share_of_line=pl.min_horizontal([s for _, s in LINE_MINIMUMS.values()]))
        .filter(pl.col("share_of_line") < 1)
        .sort(
            "share_of_line", "chip_id", "rule_id", "clause",
            descending=[True, False, False, False],
        )
    )
    return like(out, lazy)
