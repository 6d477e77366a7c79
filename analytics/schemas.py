"""Pandera contracts of the seven datasets: the one source of truth for columns, types, checks.

Every table is a :class:`pandera.polars.DataFrameModel` that is ``strict`` (no column
more, none less) and ``coerce`` (CSV text becomes the declared type). Units live in
each field's description; ``datapackage.json`` and ``docs/data-dictionary.md`` are
generated from these classes. Validation always runs on collected frames, with
``lazy=True``, so that every failure is reported rather than the first.

Cross-table checks (ids that resolve, dates against the release, text safety) are not
here: they live in :mod:`analytics.consistency`.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from analytics.errors import Finding
from analytics.vocab import (
    APPROVAL_ACTIONS,
    CLAUSE_KINDS,
    CONFIDENCE,
    COUNTRY,
    DATE_PRECISION,
    DESTINATION,
    ENTITY_KINDS,
    LAB_SUBJECTS,
    LICENCE_POLICIES,
    METHODS,
    QUANTITY_QUALIFIERS,
    QUANTITY_SCOPES,
    RELEASE_PRECISION,
    SHIPMENT_RECORD_TYPES,
    SLUG,
    SOURCE_DATE_PRECISION,
    SOURCE_ID,
    SOURCE_TYPES,
    STATUS_AS_REPORTED,
    URL,
    VALUE_BASIS,
)
from analytics.vocab import DATASETS as DATASETS  # table metadata, read here by the readers
from analytics.vocab import FACT_TABLES as FACT_TABLES
from analytics.vocab import FOREIGN_KEYS as FOREIGN_KEYS
from analytics.vocab import PRIMARY_KEYS as PRIMARY_KEYS
from analytics.vocab import ForeignKey as ForeignKey

EARLIEST = pl.date(2000, 1, 1)

StrList = pl.List(pl.String)


def _desc(text: str, unit: str | None = None) -> str:
    return f"{text} [{unit}]" if unit else text


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
    notes: str = pa.Field(nullable=True, description="Free text")


# --------------------------------------------------------------------------- fact tables
class Chips(_Base):
    """An accelerator's specification, each figure tagged with its basis."""

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
    bf16_dense_tflops: float = pa.Field(
        nullable=True, ge=0, description=_desc("Dense BF16 (or FP16) tensor throughput", "TFLOP/s")
    )
    bf16_dense_tflops_basis: str = pa.Field(
        nullable=True, isin=VALUE_BASIS, description="Basis of bf16_dense_tflops"
    )
    fp8_dense_tflops: float = pa.Field(
        nullable=True, ge=0, description=_desc("Dense FP8 tensor throughput", "TFLOP/s")
    )
    fp8_dense_tflops_basis: str = pa.Field(
        nullable=True, isin=VALUE_BASIS, description="Basis of fp8_dense_tflops"
    )
    int8_dense_tops: float = pa.Field(
        nullable=True, ge=0, description=_desc("Dense INT8 tensor throughput", "TOP/s")
    )
    int8_dense_tops_basis: str = pa.Field(
        nullable=True, isin=VALUE_BASIS, description="Basis of int8_dense_tops"
    )
    fp4_dense_tflops: float = pa.Field(
        nullable=True, ge=0, description=_desc("Dense FP4 tensor throughput", "TFLOP/s")
    )
    fp4_dense_tflops_basis: str = pa.Field(
        nullable=True, isin=VALUE_BASIS, description="Basis of fp4_dense_tflops"
    )
    memory_gb: float = pa.Field(nullable=True, ge=0, description=_desc("On-package memory", "GB"))
    memory_gb_basis: str = pa.Field(
        nullable=True, isin=VALUE_BASIS, description="Basis of memory_gb"
    )
    memory_type: str = pa.Field(nullable=True, description="HBM3, HBM3e, GDDR6 ...")
    memory_bw_gbps: float = pa.Field(
        nullable=True, ge=0, description=_desc("Total DRAM bandwidth", "GB/s")
    )
    memory_bw_gbps_basis: str = pa.Field(
        nullable=True, isin=VALUE_BASIS, description="Basis of memory_bw_gbps"
    )
    interconnect_gbps: float = pa.Field(
        nullable=True,
        ge=0,
        description=_desc("Aggregate bidirectional chip-to-chip transfer rate", "GB/s"),
    )
    interconnect_gbps_basis: str = pa.Field(
        nullable=True, isin=VALUE_BASIS, description="Basis of interconnect_gbps"
    )
    tdp_w: float = pa.Field(nullable=True, ge=0, description=_desc("Board or module power", "W"))
    tdp_w_basis: str = pa.Field(nullable=True, isin=VALUE_BASIS, description="Basis of tdp_w")
    die_area_mm2: float = pa.Field(
        nullable=True,
        gt=0,
        description=_desc("Applicable die area (logic dies, 3A090 sense)", "mm2"),
    )
    die_area_mm2_basis: str = pa.Field(
        nullable=True, isin=VALUE_BASIS, description="Basis of die_area_mm2"
    )
    tpp_stated: float = pa.Field(
        nullable=True,
        ge=0,
        description=_desc(
            "TPP as stated by a source, checked against the derived TPP", "bit x TOP/s"
        ),
    )
    source_ids: StrList = pa.Field(description="Sources of the row; ';' in CSV")
    confidence: str = pa.Field(isin=CONFIDENCE, description="Our confidence in the row")
    notes: str = pa.Field(
        nullable=True, description="Conflicts between sources and which figure was kept"
    )

    @pa.check("source_ids", name="at_least_one_source")
    def _sourced(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _non_empty_list(data)

    @pa.check("source_ids", name="source_id_format")
    def _source_fmt(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _ids_match(data, SOURCE_ID)

    @pa.dataframe_check(name="basis_iff_value")
    def _basis(cls, data: pa.PolarsData) -> pl.LazyFrame:
        stems = (
            "bf16_dense_tflops",
            "fp8_dense_tflops",
            "int8_dense_tops",
            "fp4_dense_tflops",
            "memory_gb",
            "memory_bw_gbps",
            "interconnect_gbps",
            "tdp_w",
            "die_area_mm2",
        )
        return data.lazyframe.select(
            pl.all_horizontal(
                [pl.col(s).is_null() == pl.col(f"{s}_basis").is_null() for s in stems]
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
    tpp_min: float = pa.Field(
        nullable=True, ge=0, description=_desc("TPP at or above", "bit x TOP/s")
    )
    tpp_max: float = pa.Field(nullable=True, ge=0, description=_desc("TPP below", "bit x TOP/s"))
    pd_min: float = pa.Field(
        nullable=True, ge=0, description=_desc("Performance density at or above", "TPP/mm2")
    )
    pd_max: float = pa.Field(
        nullable=True, ge=0, description=_desc("Performance density below", "TPP/mm2")
    )
    interconnect_min_gbps: float = pa.Field(
        nullable=True, ge=0, description=_desc("Bidirectional transfer rate at or above", "GB/s")
    )
    dram_bw_min_gbps: float = pa.Field(
        nullable=True, ge=0, description=_desc("Total DRAM bandwidth at or above", "GB/s")
    )
    dram_bw_max_gbps: float = pa.Field(
        nullable=True, ge=0, description=_desc("Total DRAM bandwidth below", "GB/s")
    )
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

    @pa.check("source_ids", name="at_least_one_source")
    def _sourced(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _non_empty_list(data)

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


class Approvals(_Base):
    """A government decision on AI-chip trade with China: one gate, one side."""

    event_id: str = pa.Field(unique=True, str_matches=r"^APR-\d{3,}$", description="Stable id")
    date: pl.Date = pa.Field(
        ge=EARLIEST,
        description="Decision or effective date; first report date when neither is stated",
    )
    date_precision: str = pa.Field(
        isin=DATE_PRECISION, description="Precision of date (first day of the period)"
    )
    jurisdiction: str = pa.Field(str_matches=COUNTRY, description="Government that decided")
    authority_ids: StrList = pa.Field(description="entity_ids of the deciding bodies; ';' in CSV")
    authority_reported: str = pa.Field(description="Authority as the sources name it")
    action: str = pa.Field(isin=APPROVAL_ACTIONS, description="What the decision did")
    chip_ids: StrList = pa.Field(description="chip_ids the decision names; ';' in CSV")
    subject_other: StrList = pa.Field(
        description="Other subjects: rule categories, products not in chips; ';' in CSV"
    )
    entity_ids: StrList = pa.Field(
        description="entity_ids of the companies the decision names; ';' in CSV"
    )
    quantity_units: pl.Int64 = pa.Field(
        nullable=True, ge=0, description=_desc("Quantity the decision sets", "units")
    )
    quantity_qualifier: str = pa.Field(
        nullable=True, isin=QUANTITY_QUALIFIERS, description="How exact quantity_units is"
    )
    quantity_scope: str = pa.Field(
        nullable=True, isin=QUANTITY_SCOPES, description="per_entity, or combined across entity_ids"
    )
    conditions: str = pa.Field(nullable=True, description="Conditions attached, as reported")
    status_as_reported: str = pa.Field(
        isin=STATUS_AS_REPORTED, description="official text, confirmed on record, or reported"
    )
    status_detail: str = pa.Field(nullable=True, description="Who reported or confirmed it")
    summary: str = pa.Field(str_length={"min_value": 1}, description="One sentence")
    source_ids: StrList = pa.Field(description="Sources of the row; ';' in CSV")
    confidence: str = pa.Field(isin=CONFIDENCE, description="Our confidence in the row")
    notes: str = pa.Field(nullable=True, description="Conflicts and corrections")

    @pa.check("source_ids", name="at_least_one_source")
    def _sourced(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _non_empty_list(data)

    @pa.check("source_ids", name="source_id_format")
    def _source_fmt(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _ids_match(data, SOURCE_ID)

    @pa.check("authority_ids", name="at_least_one_authority")
    def _authority(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _non_empty_list(data)

    @pa.dataframe_check(name="quantity_fields_all_or_none")
    def _quantity(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _all_or_none(data, "quantity_units", "quantity_qualifier", "quantity_scope")


class Shipments(_Base):
    """An order, delivery, production, revenue, inventory, charge or enforcement record."""

    record_id: str = pa.Field(unique=True, str_matches=r"^SHP-\d{3,}$", description="Stable id")
    record_type: str = pa.Field(isin=SHIPMENT_RECORD_TYPES, description="What the record measures")
    period_start: pl.Date = pa.Field(ge=EARLIEST, description="First day covered")
    period_end: pl.Date = pa.Field(ge=EARLIEST, description="Last day covered")
    period_precision: str = pa.Field(
        isin=DATE_PRECISION, description="Precision of the period bounds"
    )
    chip_ids: StrList = pa.Field(
        description="chip_ids covered; empty when the record spans a product line; ';' in CSV"
    )
    product_scope: str = pa.Field(description="Products as the source describes them")
    vendor_id: str = pa.Field(str_matches=SLUG, description="entity_id of the chip vendor")
    buyer_ids: StrList = pa.Field(
        description="entity_ids of named buyers; empty for an aggregate; ';' in CSV"
    )
    buyer_scope: str = pa.Field(description="Buyers as the source describes them")
    quantity_scope: str = pa.Field(
        nullable=True, isin=QUANTITY_SCOPES, description="per_entity, or combined across buyer_ids"
    )
    destination: str = pa.Field(
        str_matches=DESTINATION,
        description="ISO code(s) of the destination, 'non_CN' or 'unknown'",
    )
    units_low: pl.Int64 = pa.Field(
        nullable=True, ge=0, description=_desc("5th percentile of units", "units")
    )
    units: pl.Int64 = pa.Field(
        nullable=True, ge=0, description=_desc("Central figure of units", "units")
    )
    units_high: pl.Int64 = pa.Field(
        nullable=True, ge=0, description=_desc("95th percentile of units", "units")
    )
    units_qualifier: str = pa.Field(
        nullable=True, isin=QUANTITY_QUALIFIERS, description="How exact the unit figure is"
    )
    value_usd_low: float = pa.Field(
        nullable=True, ge=0, description=_desc("5th percentile of value", "USD, nominal")
    )
    value_usd: float = pa.Field(
        nullable=True, ge=0, description=_desc("Central figure of value", "USD, nominal")
    )
    value_usd_high: float = pa.Field(
        nullable=True, ge=0, description=_desc("95th percentile of value", "USD, nominal")
    )
    value_qualifier: str = pa.Field(
        nullable=True, isin=QUANTITY_QUALIFIERS, description="How exact the value is"
    )
    method: str = pa.Field(isin=METHODS, description="How the figure was obtained")
    source_ids: StrList = pa.Field(description="Sources of the row; ';' in CSV")
    confidence: str = pa.Field(isin=CONFIDENCE, description="Our confidence in the row")
    notes: str = pa.Field(nullable=True, description="Conflicts and caveats")

    @pa.check("source_ids", name="at_least_one_source")
    def _sourced(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _non_empty_list(data)

    @pa.check("source_ids", name="source_id_format")
    def _source_fmt(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _ids_match(data, SOURCE_ID)

    @pa.dataframe_check(name="period_start_not_after_end")
    def _period(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("period_start") <= pl.col("period_end"))

    @pa.dataframe_check(name="units_triplet_ordered")
    def _units(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _triplet_ok(data, "units")

    @pa.dataframe_check(name="value_usd_triplet_ordered")
    def _value(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _triplet_ok(data, "value_usd")


class LabCompute(_Base):
    """An estimate of a lab's holdings, one cluster, or one training run."""

    record_id: str = pa.Field(unique=True, str_matches=r"^LC-\d{3,}$", description="Stable id")
    as_of_date: pl.Date = pa.Field(ge=EARLIEST, description="Date the estimate refers to")
    date_precision: str = pa.Field(isin=DATE_PRECISION, description="Precision of as_of_date")
    lab_id: str = pa.Field(str_matches=SLUG, description="entity_id of the lab")
    subject: str = pa.Field(isin=LAB_SUBJECTS, description="holdings, cluster or training_run")
    name: str = pa.Field(nullable=True, description="Cluster or model name")
    chip_id: str = pa.Field(
        nullable=True, str_matches=SLUG, description="chip_id, when one chip type is known"
    )
    chip_reported: str = pa.Field(nullable=True, description="Hardware as the source describes it")
    chip_count_low: pl.Int64 = pa.Field(
        nullable=True, ge=0, description=_desc("5th percentile of chip count", "chips")
    )
    chip_count: pl.Int64 = pa.Field(
        nullable=True, ge=0, description=_desc("Central chip count", "chips")
    )
    chip_count_high: pl.Int64 = pa.Field(
        nullable=True, ge=0, description=_desc("95th percentile of chip count", "chips")
    )
    gpu_hours_low: float = pa.Field(
        nullable=True, ge=0, description=_desc("5th percentile of accelerator-hours", "chip-hours")
    )
    gpu_hours: float = pa.Field(
        nullable=True, ge=0, description=_desc("Central accelerator-hours", "chip-hours")
    )
    gpu_hours_high: float = pa.Field(
        nullable=True, ge=0, description=_desc("95th percentile of accelerator-hours", "chip-hours")
    )
    training_flop_low: float = pa.Field(
        nullable=True, ge=0, description=_desc("5th percentile of training compute", "FLOP")
    )
    training_flop: float = pa.Field(
        nullable=True, ge=0, description=_desc("Central training compute", "FLOP")
    )
    training_flop_high: float = pa.Field(
        nullable=True, ge=0, description=_desc("95th percentile of training compute", "FLOP")
    )
    method: str = pa.Field(isin=METHODS, description="How the figure was obtained")
    source_ids: StrList = pa.Field(description="Sources of the row; ';' in CSV")
    confidence: str = pa.Field(isin=CONFIDENCE, description="Our confidence in the row")
    notes: str = pa.Field(nullable=True, description="Conflicts and caveats")

    @pa.check("source_ids", name="at_least_one_source")
    def _sourced(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _non_empty_list(data)

    @pa.check("source_ids", name="source_id_format")
    def _source_fmt(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _ids_match(data, SOURCE_ID)

    @pa.dataframe_check(name="chip_count_triplet_ordered")
    def _count(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _triplet_ok(data, "chip_count")

    @pa.dataframe_check(name="gpu_hours_triplet_ordered")
    def _hours(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _triplet_ok(data, "gpu_hours")

    @pa.dataframe_check(name="training_flop_triplet_ordered")
    def _flop(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _triplet_ok(data, "training_flop")


# --------------------------------------------------------------------------- table metadata
SCHEMAS: dict[str, type[_Base]] = {
    "sources": Sources,
    "entities": Entities,
    "chips": Chips,
    "control_rules": ControlRules,
    "approvals": Approvals,
    "shipments": Shipments,
    "lab_compute": LabCompute,
}

def columns(name: str) -> dict[str, pl.DataType]:
    """Column name to polars dtype, in schema order.

    >>> list(columns("entities"))[:3]
    ['entity_id', 'name', 'native_name']
    >>> columns("approvals")["quantity_units"]
    Int64
    """
    schema = SCHEMAS[name].to_schema()
    return {col: spec.dtype.type for col, spec in schema.columns.items()}


def list_columns(name: str) -> tuple[str, ...]:
    """Columns stored as ``list[str]`` (semicolon-separated in CSV).

    >>> list_columns("approvals")
    ('authority_ids', 'chip_ids', 'subject_other', 'entity_ids', 'source_ids')
    """
    return tuple(c for c, t in columns(name).items() if isinstance(t, pl.List))


def descriptions(name: str) -> dict[str, str]:
    """Column name to its description (with unit), in schema order."""
    schema = SCHEMAS[name].to_schema()
    return {col: spec.description or "" for col, spec in schema.columns.items()}


def key_of(name: str, df: pl.DataFrame) -> pl.Series:
    """The primary key of every row as one string (``rule_id/clause`` for composite keys)."""
    cols = PRIMARY_KEYS[name]
    if not set(cols) <= set(df.columns):
        return pl.Series("key", [f"row {i + 1}" for i in range(df.height)], dtype=pl.String)
    if len(cols) == 1:
        return df.get_column(cols[0]).cast(pl.String).fill_null("").alias("key")
    return (
        df.select(
            pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in cols], separator="/")
        )
        .to_series()
        .alias("key")
    )


def _structure(name: str, present: list[str]) -> list[Finding]:
    """Findings for missing and unexpected columns (the same for every row)."""
    expected = columns(name)
    return [
        Finding("error", name, "", c, "column_in_dataframe", c, f"required column '{c}' is missing")
        for c in expected
        if c not in present
    ] + [
        Finding(
            "error", name, "", c, "column_in_schema", c, f"column '{c}' is not part of the dataset"
        )
        for c in present
        if c not in expected
    ]


def validate(name: str, df: pl.DataFrame) -> tuple[pl.DataFrame | None, list[Finding]]:
    """Run the contract of ``name`` on a collected frame at full depth.

    Returns the coerced frame (``None`` when it failed) and every finding, never only
    the first. Row keys come from the frame's primary key.
    """
    from pandera.errors import SchemaError, SchemaErrors

    if isinstance(df, pl.LazyFrame):  # a LazyFrame would only get name and type checks
        df = df.collect()
    structure = _structure(name, df.columns)
    if structure:  # pandera's coercion would fail on them before reporting
        return None, structure
    model = SCHEMAS[name]
    try:
        out = model.validate(df, lazy=True)
    except SchemaErrors as exc:
        return None, _findings(name, df, exc.failure_cases)
    except SchemaError as exc:  # raised eagerly for some structural problems
        return None, [
            Finding(
                "error",
                name,
                "",
                str(getattr(exc, "column_name", "") or ""),
                "schema",
                "",
                str(exc).splitlines()[0],
            )
        ]
    return out, []


def _findings(
    name: str, df: pl.DataFrame, cases: pl.DataFrame, *, offset: int = 0
) -> list[Finding]:
    keys = key_of(name, df).to_list()
    out: list[Finding] = []
    for row in cases.iter_rows(named=True):
        idx = row.get("index")
        key = (
            keys[idx]
            if idx is not None and 0 <= idx < len(keys) and keys[idx]
            else (f"row {offset + idx + 1}" if idx is not None else "")
        )
        column = row.get("column") or ""
        if row.get("schema_context") == "DataFrameSchema":
            column = ""
        check = str(row.get("check") or "")
        value = "" if row.get("failure_case") is None else str(row["failure_case"])
        out.append(
            Finding("error", name, key, column, check, value[:200], _explain(check, column, value))
        )
    return sorted(set(out))


def _explain(check: str, column: str, value: str) -> str:
    where = f"column '{column}'" if column else "row"
    if check == "column_in_schema" or check == "column_in_dataframe":
        return (
            f"column '{value}' is not expected here"
            if check == "column_in_schema"
            else (f"required column '{value}' is missing")
        )
    if check.startswith("coerce_dtype"):
        return f"{where} holds a value that cannot be read as {check.split('(', 1)[-1].rstrip(')')}"
    if check == "field_uniqueness":
        return f"{where} must be unique; this value appears more than once"
    if check == "not_nullable":
        return f"{where} must not be empty"
    return f"{where} fails check '{check}'"


# --------------------------------------------------------------------------- chunked validation
#: Rows per slice in :func:`validate_lazy` (about 300 MB of a shipments ledger).
CHUNK_ROWS = 1_000_000
#: Keys hashed per pass of the cross-slice uniqueness check (about 0.5 GB of hash table).
KEY_ROWS_PER_PASS = 20_000_000


def _is_unique_check(check: str) -> bool:
    return check == "field_uniqueness" or check.startswith("unique_")


def _unique_sets(name: str) -> list[tuple[str, ...]]:
    """Column sets that must be unique: ``unique=True`` columns and the primary key."""
    schema = SCHEMAS[name].to_schema()
    sets = [(c,) for c, spec in schema.columns.items() if spec.unique]
    pk = PRIMARY_KEYS[name]
    return sets if pk in sets else [*sets, pk]


def _slice_schema(name: str) -> object:
    """The contract without its uniqueness checks (run across slices instead)."""
    import copy

    schema = SCHEMAS[name].to_schema()
    schema = schema.update_columns(
        {c: {"unique": False} for c, spec in schema.columns.items() if spec.unique}
    )
    schema = copy.copy(schema)
    schema.checks = [c for c in schema.checks if not _is_unique_check(str(c.name or ""))]
    return schema


def _duplicates(name: str, lf: pl.LazyFrame, rows: int) -> list[Finding]:
    """Uniqueness across the whole frame with bounded memory.

    Each unique column set is hashed to ``u64``; the hashes are counted with a streaming
    ``group_by`` in ``ceil(rows / KEY_ROWS_PER_PASS)`` passes (one hash partition each),
    so only one partition's table is held at a time. Rows whose hash repeats (a few, on
    valid data none) are collected and run through the full contract, which reports
    true duplicates in exactly the format of :func:`validate` and ignores hash
    collisions.
    """
    names = set(lf.collect_schema().names())
    passes = max(1, -(-rows // KEY_ROWS_PER_PASS))
    suspects: list[pl.Expr] = []
    for cols in _unique_sets(name):
        if not set(cols) <= names:
            continue
        h = (pl.col(cols[0]) if len(cols) == 1 else pl.struct(cols)).hash().alias("__h")
        keyed = (lf if len(cols) > 1 else lf.filter(pl.col(cols[0]).is_not_null())).select(h)
        found = []
        for part in range(passes):
            q = keyed if passes == 1 else keyed.filter(pl.col("__h") % passes == part)
            found.append(
                q.group_by("__h")
                .agg(pl.len().alias("__n"))
                .filter(pl.col("__n") > 1)
                .select("__h")
                .collect()
            )
        hashes = pl.concat(found).get_column("__h")
        if hashes.len():
            suspects.append(h.is_in(hashes.implode()))
    if not suspects:
        return []
    rows_df = lf.filter(pl.any_horizontal(suspects)).collect()
    _, found_all = validate(name, rows_df)
    return [f for f in found_all if _is_unique_check(f.check)]


def validate_lazy(
    name: str, frame: pl.DataFrame | pl.LazyFrame, *, chunk_rows: int = CHUNK_ROWS
) -> tuple[pl.LazyFrame | None, list[Finding]]:
    """Run the contract of ``name`` on a frame of any size, one slice at a time.

    Same checks and findings as :func:`validate`, in bounded memory: the frame is
    taken in slices of ``chunk_rows`` (``LazyFrame.slice`` collected one at a time,
    or zero-copy slices of a ``DataFrame``), each slice is checked at
    full depth by pandera, and row keys come from the slice (a row without an id is
    ``row N``, counted over the whole frame). Checks that slicing would miss, the
    uniqueness of ``unique`` columns and of the primary key, run across the whole frame
    on hashed keys (see ``_duplicates``). A frame that fits in one slice is simply
    handed to :func:`validate`.

    Parameters
    ----------
    name : str
        Dataset name, one of :data:`DATASETS`.
    frame : DataFrame or LazyFrame
        The table; a LazyFrame (e.g. ``pl.scan_parquet``) may be far larger than memory.
        It is evaluated once per slice (a Parquet scan reads only that slice's row
        groups; put costly queries in a file first) and a few more times for the keys.
    chunk_rows : int
        Rows per slice.

    Returns
    -------
    tuple
        ``(lazy, findings)``: the frame cast to the contract's dtypes as a LazyFrame
        (``None`` when there is an error), and every finding, sorted.

    Examples
    --------
    >>> import polars as pl
    >>> ids = pl.DataFrame({"entity_id": ["a", "b", "a"], "name": ["A", "B", "A2"],
    ...     "native_name": None, "kind": "company", "country": "CN", "parent_id": None,
    ...     "aliases": [[], [], []], "notes": None})
    >>> _, found = validate_lazy("entities", ids.lazy(), chunk_rows=2)
    >>> [(f.key, f.check) for f in found]
    [('a', 'field_uniqueness')]
    """
    import itertools

    from pandera.errors import SchemaError, SchemaErrors

    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    if isinstance(frame, pl.DataFrame | pl.LazyFrame):
        structure = _structure(name, frame.collect_schema().names())
        if structure:
            return None, structure
    if isinstance(frame, pl.DataFrame):
        lf, slices = frame.lazy(), iter(frame.iter_slices(chunk_rows))
    elif isinstance(frame, pl.LazyFrame):
        # one bounded slice at a time (``collect_batches`` runs ahead of a slow consumer
        # and can buffer the whole result); a scan reads only the row groups of a slice
        lf = frame
        total = lf.select(pl.len()).collect(engine="streaming").item()
        slices = (
            lf.slice(start, chunk_rows).collect(engine="streaming")
            for start in range(0, max(total, 1), chunk_rows)
        )
    else:
        raise TypeError(f"expected a polars DataFrame or LazyFrame, got {type(frame).__name__}")

    first = next(slices, None)
    second = next(slices, None)
    if second is None:  # one slice: the plain contract
        whole = first if first is not None else lf.collect()
        out, found = validate(name, whole)
        return (None if out is None else out.lazy()), found

    schema = _slice_schema(name)
    findings: set[Finding] = set()
    offset = 0
    for chunk in itertools.chain((first, second), slices):  # lazily: one slice at a time
        try:
            schema.validate(chunk, lazy=True)  # type: ignore[attr-defined]
        except SchemaErrors as exc:
            findings.update(_findings(name, chunk, exc.failure_cases, offset=offset))
        except SchemaError:  # structural: the same for every slice; report it once
            return None, validate(name, chunk)[1]
        offset += chunk.height
    findings.update(_duplicates(name, lf, offset))
    if any(f.severity == "error" for f in findings):
        return None, sorted(findings)
    return lf.select([pl.col(c).cast(t) for c, t in columns(name).items()]), sorted(findings)
