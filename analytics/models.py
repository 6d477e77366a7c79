"""Pandera models of the datasets: the one source of truth for columns, types and row checks.

Every table is a :class:`pandera.polars.DataFrameModel` that is ``strict`` (no column
more) and ``coerce`` (CSV text becomes the declared type). Units live in each field's
description; ``datapackage.json`` and ``docs/data-dictionary.md`` are generated from
these classes. Checks shared by several tables are made by factories
(``_source_checks``, ``_triplet_check``), never copied. Columns added after the first
releases are optional (``required=False``): older releases lack them, and readers fill
them with nulls. The dated records (approvals, shipments, lab_compute) are in
:mod:`analytics.event_models`, the supporting tables (parameters, evidence) in
:mod:`analytics.support_models`; the registry and the validation engine in
:mod:`analytics.schemas`.

>>> checks = ControlRules.to_schema().columns["source_ids"].checks
>>> sorted(c.name for c in checks)
['at_least_one_source', 'source_id_format']
"""

from __future__ import annotations

from typing import Any

import pandera.polars as pa
import polars as pl

from analytics.vocab import (
    CHIP_SPECS,
    CLAUSE_KINDS,
    CONFIDENCE,
    COUNTRY,
    ENTITY_KINDS,
    ENTITY_LIST_PRECISION,
    LICENCE_POLICIES,
    RELEASE_PRECISION,
    SLUG,
    SOURCE_DATE_PRECISION,
    SOURCE_ID,
    SOURCE_TYPES,
    URL,
    VALUE_BASIS,
)

EARLIEST = pl.date(2000, 1, 1)

StrList = pl.List(pl.String)


def _desc(text: str, unit: str | None = None) -> str:
    return f"{text} [{unit}]" if unit else text


def _figure(text: str, unit: str, *, positive: bool = False) -> Any:
    """A figure column: a number, at least 0 (above 0 when ``positive``), that may be empty."""
    return pa.Field(nullable=True, description=_desc(text, unit), **{"gt" if positive else "ge": 0})


def _end(side: str, what: str, unit: str) -> Any:
    """The ``low`` or ``high`` end of a triplet of figures."""
    pct = "5th" if side == "low" else "95th"
    return _figure(f"{side.capitalize()} end of {what}: {pct} percentile, or a stated bound", unit)


def _basis(stem: str) -> Any:
    """The basis column of the chip figure ``stem``."""
    return pa.Field(nullable=True, isin=VALUE_BASIS, description=f"Basis of {stem}")


def _optional(text: str, **checks: Any) -> Any:
    """A column added after the first releases: files of older releases lack it."""
    return pa.Field(nullable=True, required=False, description=f"{text} (optional)", **checks)


def _triplet_ok(data: pa.PolarsData, stem: str) -> pl.LazyFrame:
    """``low <= central <= high`` wherever both sides of a pair are present."""
    lo, mid, hi = pl.col(f"{stem}_low"), pl.col(stem), pl.col(f"{stem}_high")
    ok = (
        (lo.is_null() | mid.is_null() | (lo <= mid))
        & (mid.is_null() | hi.is_null() | (mid <= hi))
        & (lo.is_null() | hi.is_null() | (lo <= hi))
    )
    return data.lazyframe.select(ok)


def _all_or_none(data: pa.PolarsData, *cols: str) -> pl.LazyFrame:
    nulls = pl.sum_horizontal([pl.col(c).is_null().cast(pl.Int8) for c in cols])
    return data.lazyframe.select((nulls == 0) | (nulls == len(cols)))


def _ids_match(data: pa.PolarsData, pattern: str) -> pl.LazyFrame:
    col = pl.col(data.key)
    return data.lazyframe.select(
        col.list.eval(pl.element().str.contains(pattern)).list.all().fill_null(True)
    )


def _non_empty_list(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col(data.key).list.len() >= 1)


class _Base(pa.DataFrameModel):
    class Config:
        strict = True
        coerce = True


def _source_checks() -> tuple[classmethod, classmethod]:
    """The checks of a fact table's ``source_ids``: at least one, each well formed.

    A factory, called in each model's body: pandera renames a check that several models
    inherit, so every model gets its own pair.
    """

    @pa.check("source_ids", name="at_least_one_source")
    def _sourced(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _non_empty_list(data)

    @pa.check("source_ids", name="source_id_format")
    def _source_fmt(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _ids_match(data, SOURCE_ID)

    return _sourced, _source_fmt


def _triplet_check(stem: str) -> classmethod:
    """The check ``{stem}_low <= {stem} <= {stem}_high`` of a model's triplet."""

    @pa.dataframe_check(name=f"{stem}_triplet_ordered")
    def _ordered(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _triplet_ok(data, stem)

    return _ordered


# --------------------------------------------------------------------------- reference tables
class Sources(_Base):
    """A cited document. Every number in the fact tables points at one or more of these."""

    source_id: str = pa.Field(
        unique=True, str_matches=SOURCE_ID, description="Stable id: publisher-date-topic slug"
    )
    title: str = pa.Field(
        str_length={"min_value": 1},
        description="Headline or document title as shown; '(title from URL)' marks a rebuilt one",
    )
    publisher: str = pa.Field(
        str_length={"min_value": 1},
        description="Who published the page, and whose text it carries, e.g. 'Geo News (Reuters)'",
    )
    url: str = pa.Field(str_matches=URL, description="Address of the page that was read")
    published_date: pl.Date = pa.Field(
        nullable=True,
        ge=EARLIEST,
        description="Publication date shown by the page (first day of the period when coarser)",
    )
    date_precision: str = pa.Field(
        isin=SOURCE_DATE_PRECISION,
        description="Precision of published_date; 'undated' when the page shows no date",
    )
    accessed_date: pl.Date = pa.Field(
        ge=EARLIEST, description="Date by which the page had been read (public by then)"
    )
    source_type: str = pa.Field(isin=SOURCE_TYPES, description="Kind of document")
    language: str = pa.Field(str_matches=r"^[a-z]{2}$", description="ISO 639-1 code of the quote")
    quote: str = pa.Field(
        str_length={"min_value": 1, "max_value": 600},
        description="Verbatim passage (under about 30 words) that supports the rows citing it",
    )
    notes: str = pa.Field(nullable=True, description="Caveats: mirrors, translations, reliability")

    @pa.dataframe_check(name="undated_iff_no_published_date")
    def _undated(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("published_date").is_null() == (pl.col("date_precision") == "undated")
        )


class Entities(_Base):
    """A company, lab, regulator or government body; every alias resolves to one id."""

    entity_id: str = pa.Field(
        unique=True, str_matches=SLUG, description="Stable id, e.g. 'bytedance'"
    )
    name: str = pa.Field(str_length={"min_value": 1}, description="Usual English name")
    native_name: str = pa.Field(nullable=True, description="Name in the entity's own language")
    kind: str = pa.Field(isin=ENTITY_KINDS, description="What sort of body it is")
    country: str = pa.Field(str_matches=COUNTRY, description="ISO 3166-1 alpha-2 country of seat")
    parent_id: str = pa.Field(
        nullable=True, str_matches=SLUG, description="entity_id of the parent, if any"
    )
    aliases: StrList = pa.Field(
        description="Other spellings found in sources ('Bytedance', '字节跳动'); ';' in CSV"
    )
    entity_list_date: pl.Date = _optional(
        "Date the US added the entity to the Entity List", ge=EARLIEST
    )
    entity_list_precision: str = _optional(
        "Precision of entity_list_date", isin=ENTITY_LIST_PRECISION
    )
    entity_list_citation: str = _optional(
        "Federal Register citation of the addition, e.g. '90 FR 4617'"
    )
    entity_list_source_ids: StrList = _optional(
        "Sources of the Entity List addition; ';' in CSV"
    )
    notes: str = pa.Field(nullable=True, description="Free text")

    @pa.check("entity_list_source_ids", name="source_id_format")
    def _listing_fmt(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _ids_match(data, SOURCE_ID)

    @pa.dataframe_check(name="entity_list_date_sourced")
    def _listing(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A listing date has its precision and at least one source; no date, neither."""
        dated = pl.col("entity_list_date").is_not_null()
        sourced = pl.col("entity_list_source_ids").list.len().fill_null(0) > 0
        precise = pl.col("entity_list_precision").is_not_null()
        return data.lazyframe.select((dated == precise) & (dated | ~sourced) & (~dated | sourced))


# --------------------------------------------------------------------------- fact tables
class Chips(_Base):
    """An accelerator's specification, each figure tagged with its basis."""

    _sourced, _source_fmt = _source_checks()

    chip_id: str = pa.Field(
        unique=True, str_matches=SLUG, description="Stable id, e.g. 'nvidia_h200_sxm_141gb'"
    )
    vendor_id: str = pa.Field(str_matches=SLUG, description="entity_id of the designer")
    model: str = pa.Field(str_length={"min_value": 1}, description="Product name")
    architecture: str = pa.Field(nullable=True, description="Micro-architecture (die)")
    release_date: pl.Date = pa.Field(
        nullable=True, ge=EARLIEST, description="Announcement or launch date"
    )
    release_precision: str = pa.Field(
        isin=RELEASE_PRECISION, description="Precision of release_date"
    )
    china_specific: bool = pa.Field(description="Designed for the Chinese market under US rules")
    process_node: str = pa.Field(nullable=True, description="Foundry process as reported")
    bf16_dense_tflops: float = _figure("Dense BF16 (or FP16) tensor throughput", "TFLOP/s")
    bf16_dense_tflops_basis: str = _basis("bf16_dense_tflops")
    fp8_dense_tflops: float = _figure("Dense FP8 tensor throughput", "TFLOP/s")
    fp8_dense_tflops_basis: str = _basis("fp8_dense_tflops")
    int8_dense_tops: float = _figure("Dense INT8 tensor throughput", "TOP/s")
    int8_dense_tops_basis: str = _basis("int8_dense_tops")
    fp4_dense_tflops: float = _figure("Dense FP4 tensor throughput", "TFLOP/s")
    fp4_dense_tflops_basis: str = _basis("fp4_dense_tflops")
    memory_gb: float = _figure("On-package memory", "GB")
    memory_gb_basis: str = _basis("memory_gb")
    memory_type: str = pa.Field(nullable=True, description="HBM3, HBM3e, GDDR6 ...")
    memory_bw_gbps: float = _figure("Total DRAM bandwidth", "GB/s")
    memory_bw_gbps_basis: str = _basis("memory_bw_gbps")
    interconnect_gbps: float = _figure("Aggregate bidirectional chip-to-chip transfer rate", "GB/s")
    interconnect_gbps_basis: str = _basis("interconnect_gbps")
    tdp_w: float = _figure("Board or module power", "W")
    tdp_w_basis: str = _basis("tdp_w")
    die_area_mm2: float = _figure(
        "Applicable die area (logic dies, 3A090 sense)", "mm2", positive=True
    )
    die_area_mm2_basis: str = _basis("die_area_mm2")
    tpp_stated: float = _figure(
        "TPP as stated by a source, checked against the derived TPP", "bit x TOP/s"
    )
    source_ids: StrList = pa.Field(description="Sources of the row; ';' in CSV")
    confidence: str = pa.Field(isin=CONFIDENCE, description="Our confidence in the row")
    notes: str = pa.Field(
        nullable=True, description="Conflicts between sources and which figure was kept"
    )

    @pa.dataframe_check(name="basis_iff_value")
    def _basis(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.all_horizontal(
                [pl.col(s).is_null() == pl.col(f"{s}_basis").is_null() for s in CHIP_SPECS]
            )
        )

    @pa.dataframe_check(name="unknown_iff_no_release_date")
    def _release(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("release_date").is_null() == (pl.col("release_precision") == "unknown")
        )


class ControlRules(_Base):
    """One clause of one export-control rule vintage; thresholds are data, not code.

    A clause holds when every threshold it sets holds (minimums inclusive, maximums
    exclusive). Classification clauses that share ``eccn_class`` within a rule are
    alternatives (OR); a licence-policy clause applies to items of the classes in
    ``applies_to`` that meet its thresholds.
    """

    _sourced, _source_fmt = _source_checks()

    rule_id: str = pa.Field(str_matches=SLUG, description="Rule vintage, e.g. 'us_bis_2023_10'")
    clause: str = pa.Field(
        str_length={"min_value": 1}, description="Clause within the vintage, e.g. '3A090.a.2'"
    )
    rule_name: str = pa.Field(description="Title of the rule")
    jurisdiction: str = pa.Field(str_matches=COUNTRY, description="Issuing country")
    authority_id: str = pa.Field(str_matches=SLUG, description="entity_id of the issuing body")
    citation: str = pa.Field(nullable=True, description="Official citation, e.g. '87 FR 62186'")
    published_date: pl.Date = pa.Field(ge=EARLIEST, description="Publication date")
    effective_date: pl.Date = pa.Field(ge=EARLIEST, description="Date the clause took effect")
    superseded_date: pl.Date = pa.Field(
        nullable=True, ge=EARLIEST, description="Date a later vintage replaced it"
    )
    clause_kind: str = pa.Field(isin=CLAUSE_KINDS, description="classification or licence_policy")
    eccn_class: str = pa.Field(
        nullable=True, description="Class a classification clause assigns, e.g. '3A090.a'"
    )
    applies_to: StrList = pa.Field(
        description="Classes a licence-policy clause applies to; ';' in CSV"
    )
    tpp_min: float = _figure("TPP at or above", "bit x TOP/s")
    tpp_max: float = _figure("TPP below", "bit x TOP/s")
    pd_min: float = _figure("Performance density at or above", "TPP/mm2")
    pd_max: float = _figure("Performance density below", "TPP/mm2")
    interconnect_min_gbps: float = _figure("Bidirectional transfer rate at or above", "GB/s")
    dram_bw_min_gbps: float = _figure("Total DRAM bandwidth at or above", "GB/s")
    dram_bw_max_gbps: float = _figure("Total DRAM bandwidth below", "GB/s")
    licence_policy: str = pa.Field(
        nullable=True,
        isin=LICENCE_POLICIES,
        description="Licence review policy for the destinations",
    )
    destinations: StrList = pa.Field(description="ISO country codes the policy covers; ';' in CSV")
    rule_text: str = pa.Field(
        str_length={"min_value": 1}, description="Verbatim rule text of the clause"
    )
    source_ids: StrList = pa.Field(description="Sources of the row; ';' in CSV")
    confidence: str = pa.Field(isin=CONFIDENCE, description="Our confidence in the row")
    notes: str = pa.Field(nullable=True, description="Free text")

    @pa.dataframe_check(name="unique_rule_clause")
    def _key(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.struct("rule_id", "clause").is_duplicated())

    @pa.dataframe_check(name="effective_before_superseded")
    def _dates(cls, data: pa.PolarsData) -> pl.LazyFrame:
        s, e = pl.col("superseded_date"), pl.col("effective_date")
        return data.lazyframe.select(s.is_null() | (e <= s))

    @pa.dataframe_check(name="threshold_min_below_max")
    def _bounds(cls, data: pa.PolarsData) -> pl.LazyFrame:
        pairs = (
            ("tpp_min", "tpp_max"),
            ("pd_min", "pd_max"),
            ("dram_bw_min_gbps", "dram_bw_max_gbps"),
        )
        return data.lazyframe.select(
            pl.all_horizontal(
                [
                    pl.col(a).is_null() | pl.col(b).is_null() | (pl.col(a) < pl.col(b))
                    for a, b in pairs
                ]
            )
        )

    @pa.dataframe_check(name="class_matches_kind")
    def _kind(cls, data: pa.PolarsData) -> pl.LazyFrame:
        is_class = pl.col("clause_kind") == "classification"
        return data.lazyframe.select(
            pl.when(is_class)
            .then(pl.col("eccn_class").is_not_null())
            .otherwise(
                pl.col("licence_policy").is_not_null() & (pl.col("applies_to").list.len() > 0)
            )
        )
