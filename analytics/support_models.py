"""Pandera models of the supporting tables: sourced parameters, and the evidence of every figure.

``parameters`` holds the sourced numbers the analyses use beside the records (prices,
assumptions, published whole-China estimates); ``evidence`` holds, per figure or claim
of any other table, the verbatim quote that states it or how it was derived. Both were
added after the first releases: a release cut before them does not ship them. Built on
the shared bases and checks of :mod:`analytics.models`.

>>> "value_triplet_ordered" in [c.name for c in Parameters.to_schema().checks]
True
>>> Evidence.to_schema().columns["basis"].checks[0].statistics["allowed_values"]
('stated', 'derived', 'assumed')
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from analytics.models import EARLIEST, StrList, _Base, _source_checks, _triplet_check
from analytics.vocab import (
    CONFIDENCE,
    EVIDENCE_BASIS,
    EVIDENCE_DATASETS,
    EVIDENCE_ID,
    PARAMETER_ID,
    PARAMETER_KINDS,
    PARAMETER_PREFIXES,
    QUANTITY_QUALIFIERS,
    SLUG,
    SOURCE_ID,
)


def _said(col: str) -> pl.Expr:
    """The text column ``col`` holds more than blanks."""
    return pl.col(col).is_not_null() & (pl.col(col).str.strip_chars() != "")


class Parameters(_Base):
    """A sourced price, assumption or published estimate the analyses use beside the records."""

    _sourced, _source_fmt = _source_checks()

    parameter_id: str = pa.Field(
        unique=True, str_matches=PARAMETER_ID,
        description="Stable id: PRC- (price), ASM- (assumption) or EST- (published estimate)",
    )
    kind: str = pa.Field(
        isin=PARAMETER_KINDS, description="price, assumption or published_estimate"
    )
    name: str = pa.Field(
        str_length={"min_value": 1}, description="What the figure is, e.g. 'unit price of ...'"
    )
    chip_id: str = pa.Field(
        nullable=True, str_matches=SLUG, description="chip_id, when the figure is about one chip"
    )
    period_start: pl.Date = pa.Field(
        nullable=True, ge=EARLIEST, description="First day the figure refers to, when stated"
    )
    period_end: pl.Date = pa.Field(
        nullable=True, ge=EARLIEST, description="Last day (or date) the figure refers to"
    )
    value_low: float = pa.Field(
        nullable=True, description="Low end, in the row's unit: a stated bound or range end"
    )
    value: float = pa.Field(nullable=True, description="Central figure, in the row's unit")
    value_high: float = pa.Field(
        nullable=True, description="High end, in the row's unit: a stated bound or range end"
    )
    value_qualifier: str = pa.Field(
        isin=QUANTITY_QUALIFIERS, description="How exact the figure is"
    )
    unit: str = pa.Field(
        str_length={"min_value": 1}, description="Unit of the three values, e.g. 'USD per unit'"
    )
    scope: str = pa.Field(
        nullable=True, description="What the figure covers: stock or flow, channels, exclusions"
    )
    source_ids: StrList = pa.Field(description="Sources of the row; ';' in CSV")
    confidence: str = pa.Field(isin=CONFIDENCE, description="Our confidence in the row")
    notes: str = pa.Field(nullable=True, description="How the figure was read or derived")

    _value = _triplet_check("value")

    @pa.dataframe_check(name="id_prefix_matches_kind")
    def _prefix(cls, data: pa.PolarsData) -> pl.LazyFrame:
        prefix = pl.col("kind").replace_strict(PARAMETER_PREFIXES, default=None)
        return data.lazyframe.select(
            pl.col("parameter_id").str.starts_with(prefix.fill_null("") + "-").fill_null(False)
        )

    @pa.dataframe_check(name="has_a_value")
    def _valued(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.any_horizontal(pl.col(c).is_not_null() for c in ("value_low", "value", "value_high"))
        )

    @pa.dataframe_check(name="period_start_not_after_end")
    def _period(cls, data: pa.PolarsData) -> pl.LazyFrame:
        s, e = pl.col("period_start"), pl.col("period_end")
        return data.lazyframe.select(s.is_null() | e.is_null() | (s <= e))


class Evidence(_Base):
    """One figure or claim of a row, and the quote that states it or how it was derived."""

    evidence_id: str = pa.Field(
        unique=True, str_matches=EVIDENCE_ID, description="Stable id, e.g. 'EV-SHP-0001'"
    )
    dataset: str = pa.Field(isin=EVIDENCE_DATASETS, description="Dataset of the supported row")
    record_key: str = pa.Field(
        str_length={"min_value": 1}, description="Key of the supported row, e.g. 'SHP-004'"
    )
    field: str = pa.Field(
        nullable=True, description="Column of the figure; empty for the row's claim as a whole"
    )
    source_id: str = pa.Field(str_matches=SOURCE_ID, description="source_id of the document")
    quote: str = pa.Field(
        nullable=True, str_length={"min_value": 1, "max_value": 2000},
        description="Verbatim passage that states the figure as the document states it "
        "(required when basis is stated)",
    )
    locator: str = pa.Field(nullable=True, description="Page, table or section of the quote")
    basis: str = pa.Field(isin=EVIDENCE_BASIS, description="stated, derived or assumed")
    derivation: str = pa.Field(
        nullable=True,
        description="For derived or assumed: the formula and its inputs by field and key, "
        "or the assumption and why",
    )

    @pa.dataframe_check(name="derivation_when_not_stated")
    def _derivation(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("basis") == "stated") | _said("derivation"))

    @pa.dataframe_check(name="quote_when_stated")
    def _quote(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("basis") != "stated") | _said("quote"))
