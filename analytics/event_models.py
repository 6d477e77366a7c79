"""Pandera models of the dated records: approvals, shipments and lab compute estimates.

Built on the shared bases and checks of :mod:`analytics.models`.

>>> "units_triplet_ordered" in [c.name for c in Shipments.to_schema().checks]
True
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from analytics.models import (
    EARLIEST,
    StrList,
    _all_or_none,
    _Base,
    _end,
    _figure,
    _ids_match,
    _non_empty_list,
    _optional,
    _source_checks,
    _triplet_check,
)
from analytics.vocab import (
    APPROVAL_ACTIONS,
    CONFIDENCE,
    COUNTRY,
    DATE_PRECISION,
    DESTINATION,
    LAB_COMPUTE_ID,
    LAB_SUBJECTS,
    METHODS,
    QUANTITY_QUALIFIERS,
    QUANTITY_SCOPES,
    SHIPMENT_RECORD_TYPES,
    SLUG,
    STATUS_AS_REPORTED,
    STOCK_CHANNELS,
)


class Approvals(_Base):
    """A government decision on AI-chip trade with China: one gate, one side."""

    _sourced, _source_fmt = _source_checks()

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
    quantity_units: pl.Int64 = _figure("Quantity the decision sets", "units")
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

    @pa.check("authority_ids", name="at_least_one_authority")
    def _authority(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _non_empty_list(data)

    @pa.dataframe_check(name="quantity_fields_all_or_none")
    def _quantity(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _all_or_none(data, "quantity_units", "quantity_qualifier", "quantity_scope")


class Shipments(_Base):
    """An order, delivery, production, revenue, inventory, charge or enforcement record."""

    _sourced, _source_fmt = _source_checks()

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
    stock_channel: str = _optional(
        "How the chips reach China's stock: exported before a control, a China-specific "
        "part, under a licence, smuggled, or made domestically", isin=STOCK_CHANNELS,
    )
    units_low: pl.Int64 = _end("low", "units", "units")
    units: pl.Int64 = _figure("Central figure of units", "units")
    units_high: pl.Int64 = _end("high", "units", "units")
    units_qualifier: str = pa.Field(
        nullable=True, isin=QUANTITY_QUALIFIERS, description="How exact the unit figure is"
    )
    value_usd_low: float = _end("low", "value", "USD, nominal")
    value_usd: float = _figure("Central figure of value", "USD, nominal")
    value_usd_high: float = _end("high", "value", "USD, nominal")
    value_qualifier: str = pa.Field(
        nullable=True, isin=QUANTITY_QUALIFIERS, description="How exact the value is"
    )
    method: str = pa.Field(isin=METHODS, description="How the figure was obtained")
    source_ids: StrList = pa.Field(description="Sources of the row; ';' in CSV")
    confidence: str = pa.Field(isin=CONFIDENCE, description="Our confidence in the row")
    notes: str = pa.Field(nullable=True, description="Conflicts and caveats")

    @pa.dataframe_check(name="period_start_not_after_end")
    def _period(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("period_start") <= pl.col("period_end"))

    _units = _triplet_check("units")

    _value = _triplet_check("value_usd")


class LabCompute(_Base):
    """An estimate of a lab's holdings, one cluster, or one training run."""

    _sourced, _source_fmt = _source_checks()

    record_id: str = pa.Field(unique=True, str_matches=r"^LC-\d{3,}$", description="Stable id")
    as_of_date: pl.Date = pa.Field(ge=EARLIEST, description="Date the estimate refers to")
    date_precision: str = pa.Field(isin=DATE_PRECISION, description="Precision of as_of_date")
    lab_id: str = pa.Field(str_matches=SLUG, description="entity_id of the lab")
    subject: str = pa.Field(
        isin=LAB_SUBJECTS,
        description="holdings, cluster, training_run, purchase (a flow) or budget",
    )
    name: str = pa.Field(nullable=True, description="Cluster or model name")
    chip_id: str = pa.Field(
        nullable=True, str_matches=SLUG, description="chip_id, when one chip type is known"
    )
    chip_reported: str = pa.Field(nullable=True, description="Hardware as the source describes it")
    chip_count_low: pl.Int64 = _end("low", "chip count", "chips")
    chip_count: pl.Int64 = _figure("Central chip count", "chips")
    chip_count_high: pl.Int64 = _end("high", "chip count", "chips")
    chip_count_qualifier: str = _optional("How exact chip_count is", isin=QUANTITY_QUALIFIERS)
    gpu_hours_low: float = _end("low", "accelerator-hours", "chip-hours")
    gpu_hours: float = _figure("Central accelerator-hours", "chip-hours")
    gpu_hours_high: float = _end("high", "accelerator-hours", "chip-hours")
    gpu_hours_qualifier: str = _optional("How exact gpu_hours is", isin=QUANTITY_QUALIFIERS)
    training_flop_low: float = _end("low", "training compute", "FLOP")
    training_flop: float = _figure("Central training compute", "FLOP")
    training_flop_high: float = _end("high", "training compute", "FLOP")
    training_flop_qualifier: str = _optional("How exact training_flop is", isin=QUANTITY_QUALIFIERS)
    supersedes: StrList = _optional("record_ids of earlier estimates this one replaces; ';' in CSV")
    overlaps: StrList = _optional(
        "record_ids of estimates that count some of the same chips, never to be added up; "
        "';' in CSV"
    )
    method: str = pa.Field(isin=METHODS, description="How the figure was obtained")
    source_ids: StrList = pa.Field(description="Sources of the row; ';' in CSV")
    confidence: str = pa.Field(isin=CONFIDENCE, description="Our confidence in the row")
    notes: str = pa.Field(nullable=True, description="Conflicts and caveats")

    _count = _triplet_check("chip_count")

    _hours = _triplet_check("gpu_hours")

    _flop = _triplet_check("training_flop")

    @pa.check("supersedes", name="record_id_format")
    def _supersedes_fmt(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _ids_match(data, LAB_COMPUTE_ID)

    @pa.check("overlaps", name="record_id_format")
    def _overlaps_fmt(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _ids_match(data, LAB_COMPUTE_ID)


# --------------------------------------------------------------------------- table metadata
