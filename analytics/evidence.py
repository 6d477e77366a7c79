"""Evidence for every figure: find a number in a quote, and measure what the quotes cover.

Each numeric figure of ``chips``, ``approvals``, ``shipments``, ``lab_compute`` and
``parameters`` must be either *stated* by the verbatim quote of an ``evidence`` row (the
quote contains the number as the document writes it) or marked *derived* / *assumed*
there with a derivation that says how. :func:`coverage` lists every figure with its status;
:func:`findings_frame` turns the unsupported ones into error findings.

Numbers are matched the way documents write them: ``400,000``, ``400k``, ``0.4 million``,
``$12bn``, ``3.3e24``, ``3.3 x 10^24``, ``40万``, ``six years``, and at any power of 1000
(``4.8 TB/s`` states ``4,800`` GB/s; ``4.6 PF`` states ``4,600`` TFLOPS), within 1.5%; "no",
"none" and "not ... any" state zero.

>>> stated_in("ByteDance, Alibaba and Tencent may buy more than 400,000 H200", 400000)
True
>>> stated_in("memory bandwidth of 4.8 TB/s", 4800)
True
>>> stated_in("revenue of $12bn", 12_000_000_000)
True
>>> stated_in("about 3.3e24 FLOP", 3.3e24)
True
>>> stated_in("40万颗", 400_000)
True
>>> stated_in("1,979 teraFLOPS", 989)
False
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import polars as pl

# the figures that need evidence: dataset -> (key column, numeric columns)
FIGURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "chips": ("chip_id", (
        "bf16_dense_tflops", "fp8_dense_tflops", "int8_dense_tops", "fp4_dense_tflops",
        "memory_gb", "memory_bw_gbps", "interconnect_gbps", "tdp_w", "die_area_mm2",
        "tpp_stated",
    )),
    "approvals": ("event_id", ("quantity_units",)),
    "shipments": ("record_id", (
        "units_low", "units", "units_high", "value_usd_low", "value_usd", "value_usd_high",
    )),
    "lab_compute": ("record_id", (
        "chip_count_low", "chip_count", "chip_count_high", "gpu_hours_low", "gpu_hours",
        "gpu_hours_high", "training_flop_low", "training_flop", "training_flop_high",
    )),
    "parameters": ("parameter_id", ("value_low", "value", "value_high")),
}
TOLERANCE = 0.015
STATUSES = ("stated", "derived", "assumed", "unmatched", "missing")

_MULTIPLIERS = {
    "thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "mil": 1e6,
    "billion": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12, "t": 1e12,
    "千": 1e3, "万": 1e4, "萬": 1e4, "亿": 1e8, "億": 1e8,
}
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a": 1, "an": 1,
          "half a": 0.5, "dozen": 12}
_NUMBER = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s*(?:e|E)(?P<exp>[+-]?\d+)"
    r"|\s*(?:x|×|\*)\s*10\s*(?:\^|\*\*)?\s*(?P<exp10>[+-]?\d+)"
    r"|\s*(?P<mult>thousand|million|billion|trillion|mn|bn|tn|mil|[kKmMbBtT](?![a-zA-Z])"
    r"|[千万萬亿億]))?"
)
_WORD_NUMBER = re.compile(
    r"\b(?P<word>half a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|an?)"
    r"\s+(?P<mult>thousand|million|billion|trillion)\b",
    re.IGNORECASE,
)
#: A number written as a word on its own ("six years", "two of its processors").
_BARE_WORD = re.compile(
    r"\b(?P<word>one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen)\b",
    re.IGNORECASE,
)
#: Words that state zero: "no H20 sales", "none so far", "not generated any revenue".
_ZERO = re.compile(r"\b(?:zero|none|nil|no)\b|\bnot\b(?:\W+\w+){0,4}?\W+any\b",
                   re.IGNORECASE)


def numbers_in(text: str) -> list[float]:
    """Every number a text states, with its multiplier applied.

    Parameters
    ----------
    text : str
        A quote.

    Returns
    -------
    list of float
        The numbers in order of appearance; a multiplied number also appears bare
        (``"12bn"`` gives ``12e9`` and ``12``), so a figure stored in another unit still
        matches.

    Examples
    --------
    >>> numbers_in("more than 400,000 chips, about $12bn, 3.3e24 FLOP")
    [400000.0, 12000000000.0, 12.0, 3.3e+24]
    >>> numbers_in("two million units; six years")
    [2000000.0, 2.0, 6.0]
    >>> numbers_in("There were no H20 sales")
    [20.0, 0.0]
    """
    out: list[float] = []
    for m in _NUMBER.finditer(text or ""):
        value = float(m["num"].replace(",", ""))
        if m["exp"] or m["exp10"]:
            out.append(value * 10.0 ** int(m["exp"] or m["exp10"]))
            continue
        mult = m["mult"]
        if mult:
            factor = _MULTIPLIERS.get(mult) or _MULTIPLIERS.get(mult.lower(), 1.0)
            out += [value * factor, value]
        else:
            out.append(value)
    for m in _WORD_NUMBER.finditer(text or ""):
        out.append(_WORDS[m["word"].lower()] * _MULTIPLIERS[m["mult"].lower()])
    out += [float(_WORDS[m["word"].lower()]) for m in _BARE_WORD.finditer(text or "")]
    if _ZERO.search(text or ""):
        out.append(0.0)
    return out


def stated_in(text: str, figure: float, *, tolerance: float = TOLERANCE) -> bool:
    """Whether a text states ``figure``, at any power of 1000, within ``tolerance``.

    Parameters
    ----------
    text : str
        A quote.
    figure : float
        The figure a table stores.
    tolerance : float, default 0.015
        Largest relative difference still counted as the same number.

    Returns
    -------
    bool

    Examples
    --------
    >>> stated_in("4.6 PF of FP8", 4600.0)
    True
    >>> stated_in("4.6 PF of FP8", 5033.2)
    False
    """
    if figure is None or (isinstance(figure, float) and math.isnan(figure)):
        return False
    target = abs(float(figure))
    if target == 0:
        return any(n == 0 for n in numbers_in(text))
    for n in numbers_in(text):
        if n == 0:
            continue
        k = round(math.log(target / abs(n), 1000))
        if abs(abs(n) * 1000.0**k - target) <= tolerance * target:
            return True
    return False


def figures(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Every non-empty numeric figure of the fact tables, one row each.

    Parameters
    ----------
    tables : mapping of str to polars.DataFrame
        Dataset name to table; datasets not in :data:`FIGURES` are ignored, and a
        listed column a table lacks is skipped.

    Returns
    -------
    polars.DataFrame
        ``dataset``, ``record_key``, ``field``, ``value`` (Float64), sorted.

    Examples
    --------
    >>> approvals = pl.DataFrame({"event_id": ["APR-048", "APR-001"],
    ...                           "quantity_units": [400000, None]})
    >>> figures({"approvals": approvals}).rows()
    [('approvals', 'APR-048', 'quantity_units', 400000.0)]
    """
    parts = []
    for name, (key, cols) in FIGURES.items():
        df = tables.get(name)
        if df is None:
            continue
        present = [c for c in cols if c in df.columns]
        if not present or key not in df.columns:
            continue
        parts.append(
            df.select(
                pl.lit(name).alias("dataset"), pl.col(key).cast(pl.String).alias("record_key"),
                *[pl.col(c).cast(pl.Float64) for c in present],
            )
            .unpivot(index=["dataset", "record_key"], variable_name="field", value_name="_v")
            .drop_nulls("_v")
            .rename({"_v": "value"})
        )
    schema = {"dataset": pl.String, "record_key": pl.String, "field": pl.String,
              "value": pl.Float64}
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).sort("dataset", "record_key", "field")


def _status(value: float, rows: Iterable[dict]) -> tuple[str, str | None]:
    """The best support among a figure's evidence rows, and the evidence id giving it."""
    best: tuple[int, str, str | None] = (len(STATUSES) - 1, "missing", None)
    for r in rows:
        basis = r["basis"]
        if basis == "stated":
            status = "stated" if stated_in(r["quote"], value) else "unmatched"
        elif basis in ("derived", "assumed") and (r.get("derivation") or "").strip():
            status = basis
        else:
            status = "unmatched"
        rank = STATUSES.index(status)
        if rank < best[0]:
            best = (rank, status, r["evidence_id"])
    return best[1], best[2]


def coverage(tables: Mapping[str, pl.DataFrame], evidence: pl.DataFrame) -> pl.DataFrame:
    """Each figure with the evidence that supports it.

    Parameters
    ----------
    tables : mapping of str to polars.DataFrame
        The fact tables (see :func:`figures`).
    evidence : polars.DataFrame
        The ``evidence`` dataset: ``evidence_id``, ``dataset``, ``record_key``,
        ``field``, ``quote``, ``basis``, ``derivation``.

    Returns
    -------
    polars.DataFrame
        The columns of :func:`figures` plus ``status`` (``stated``: a quote states the
        figure; ``derived`` / ``assumed``: a row says how; ``unmatched``: evidence
        rows exist but none states the figure; ``missing``: no evidence row) and
        ``evidence_id`` of the row that gives the status.

    Examples
    --------
    >>> approvals = pl.DataFrame({"event_id": ["APR-048"], "quantity_units": [400000]})
    >>> ev = pl.DataFrame({"evidence_id": ["EV-APR-0001"], "dataset": ["approvals"],
    ...     "record_key": ["APR-048"], "field": ["quantity_units"],
    ...     "quote": ["more than 400,000 H200 chips"], "basis": ["stated"],
    ...     "derivation": [None]})
    >>> coverage({"approvals": approvals}, ev)["status"].to_list()
    ['stated']
    """
    figs = figures(tables)
    by_figure: dict[tuple[str, str, str], list[dict]] = {}
    for r in evidence.filter(pl.col("field").is_not_null()).iter_rows(named=True):
        by_figure.setdefault((r["dataset"], r["record_key"], r["field"]), []).append(r)
    status, ids = [], []
    for ds, key, field, value in figs.iter_rows():
        s, i = _status(value, by_figure.get((ds, key, field), ()))
        status.append(s)
        ids.append(i)
    return figs.with_columns(
        pl.Series("status", status, dtype=pl.String),
        pl.Series("evidence_id", ids, dtype=pl.String),
    )


def coverage_summary(cov: pl.DataFrame) -> pl.DataFrame:
    """Figures per dataset by status, with the share stated.

    Parameters
    ----------
    cov : polars.DataFrame
        The output of :func:`coverage`.

    Returns
    -------
    polars.DataFrame
        One row per dataset: ``figures`` and one count column per status, and
        ``stated_share`` (0 to 1), sorted by dataset.

    Examples
    --------
    >>> cov = pl.DataFrame({"dataset": ["chips", "chips"], "status": ["stated", "derived"]})
    >>> coverage_summary(cov).select("dataset", "figures", "stated", "stated_share").rows()
    [('chips', 2, 1, 0.5)]
    """
    counts = [(pl.col("status") == s).sum().cast(pl.Int64).alias(s) for s in STATUSES]
    return (
        cov.group_by("dataset")
        .agg(pl.len().cast(pl.Int64).alias("figures"), *counts)
        .with_columns((pl.col("stated") / pl.col("figures")).alias("stated_share"))
        .sort("dataset")
    )


def findings_frame(cov: pl.DataFrame) -> pl.DataFrame:
    """An error finding for every figure no evidence supports.

    Parameters
    ----------
    cov : polars.DataFrame
        The output of :func:`coverage`.

    Returns
    -------
    polars.DataFrame
        Finding rows (``severity``, ``dataset``, ``key``, ``column``, ``check``,
        ``value``, ``message``), check ``figure_without_evidence``.

    Examples
    --------
    >>> cov = pl.DataFrame({"dataset": ["approvals"], "record_key": ["APR-048"],
    ...     "field": ["quantity_units"], "value": [400000.0], "status": ["missing"],
    ...     "evidence_id": [None]}, schema_overrides={"evidence_id": pl.String})
    >>> findings_frame(cov)["check"].to_list()
    ['figure_without_evidence']
    """
    bad = cov.filter(pl.col("status").is_in(["missing", "unmatched"]))
    message = (
        pl.when(pl.col("status") == "missing")
        .then(pl.lit("no evidence row supports this figure: add an evidence row whose "
                     "verbatim quote states it, or one marked derived/assumed that says how"))
        .otherwise(pl.format(
            "no evidence quote states this figure ({} and others compared at any power of "
            "1000 within 1.5%): quote the passage that states it, correct the figure, or "
            "mark the evidence derived/assumed with how", pl.col("evidence_id")))
    )
    return bad.select(
        pl.lit("error").alias("severity"),
        pl.col("dataset"),
        pl.col("record_key").alias("key"),
        pl.col("field").alias("column"),
        pl.lit("figure_without_evidence").alias("check"),
        pl.col("value").map_elements(lambda v: f"{v:g}", return_dtype=pl.String).alias("value"),
        message.alias("message"),
    ).sort("dataset", "key", "column")
