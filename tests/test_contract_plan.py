"""The one-query contract plan gives pandera's verdict, and pandera still reports."""

from __future__ import annotations

import datetime as dt
import functools

import pandera.polars as pa
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandera.errors import SchemaError, SchemaErrors
from polars.testing import assert_frame_equal

import analytics
from analytics import contract_plan
from analytics.schemas import SCHEMAS, validate, validate_all, with_optional_columns

SETTINGS = dict(deadline=None, max_examples=150, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def _draft() -> dict[str, pl.DataFrame]:
    tables = analytics.Release.open("draft").tables()
    return {n: with_optional_columns(n, f) for n, f in tables.items()}


@pytest.fixture
def draft() -> dict[str, pl.DataFrame]:
    return _draft()


def pandera_verdict(name: str, df: pl.DataFrame) -> pl.DataFrame | None:
    try:
        return SCHEMAS[name].validate(df, lazy=True)
    except (SchemaErrors, SchemaError):
        return None


def test_every_dataset_of_the_draft_passes_in_one_query_as_pandera_returns_it(draft):
    for name, df in draft.items():
        fast = contract_plan.passing(SCHEMAS[name].to_schema(), df)
        assert fast is not None, name
        assert_frame_equal(fast, pandera_verdict(name, df))


def test_every_check_of_the_datasets_is_recorded_as_an_expression():
    for name, model in SCHEMAS.items():
        recorded = contract_plan._recorded_checks(model.to_schema())
        assert recorded and all(e is not None for e in recorded.values()), name


# one changed cell of the draft: values a contract must refuse and values it must accept
VALUES = st.one_of(
    st.none(), st.sampled_from(["", " ", "x", "<b>", "APR-1", "nvidia", "CN", "non_CN", "exact",
                                "at_least", "2026-01-01", "SRC-9999"]),
    st.integers(-10**6, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
    st.lists(st.sampled_from(["", "x", "nvidia", "reuters-2025-01-01", "APR-001"]), max_size=3),
)


def mutate(df: pl.DataFrame, row: int, column: str, value) -> pl.DataFrame:
    """``df`` with one cell set to ``value``, or to null when it cannot hold it."""
    dtype = df.schema[column]
    fits = {pl.String: str, pl.Date: dt.date, pl.List(pl.String): list}.get(dtype)
    if fits is None:
        fits = (int, float) if dtype.is_numeric() else type(None)
    if not isinstance(value, fits) or isinstance(value, bool):
        value = None
    cell = pl.Series(column, [value], dtype=dtype, strict=False)
    values = df.get_column(column).to_list()
    values[row % df.height] = cell[0]
    return df.with_columns(pl.Series(column, values, dtype=dtype, strict=False))


@settings(**SETTINGS)
@given(name=st.sampled_from(sorted(SCHEMAS)), row=st.integers(0, 10**6),
       col=st.integers(0, 100), value=VALUES, duplicate=st.booleans())
def test_the_plan_passes_exactly_the_frames_pandera_passes(name, row, col, value, duplicate):
    df = _draft()[name]
    if df.height == 0:
        return
    column = df.columns[col % df.width]
    df = mutate(df, row, column, value)
    if duplicate:
        df = pl.concat([df, df.slice(row % df.height, 1)])
    fast = contract_plan.passing(SCHEMAS[name].to_schema(), df)
    slow = pandera_verdict(name, df)
    assert (fast is None) == (slow is None), (name, column, value)
    if fast is not None:
        assert_frame_equal(fast, slow)


def test_validate_all_gives_each_table_what_validate_gives_it(draft):
    tables = dict(draft)
    tables["shipments"] = mutate(tables["shipments"], 0, "units", -5)
    tables["entities"] = pl.concat([tables["entities"], tables["entities"].head(1)])
    together = validate_all(tables)
    assert set(together) == set(tables)
    for name, df in tables.items():
        out, found = validate(name, df)
        assert together[name][1] == found, name
        assert (together[name][0] is None) == (out is None), name
    assert [f.check for f in together["shipments"][1]] == ["greater_than_or_equal_to(0)"]
    assert {f.check for f in together["entities"][1]} == {"field_uniqueness"}


def _schema(check: pa.Check) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({"a": pa.Column(pl.Int64, checks=[check], nullable=True)},
                              coerce=True, strict=True)


def _reads_the_schema(data: pa.PolarsData) -> pl.LazyFrame:
    names = data.lazyframe.collect_schema().names()  # more than a select: not recordable
    return data.lazyframe.select(pl.col(names[0]) < 10)


@pytest.mark.parametrize("check", [
    pa.Check(_reads_the_schema),
    pa.Check(lambda x: x < 10, element_wise=True),
    pa.Check.less_than(10),
])
def test_a_check_the_plan_cannot_record_still_runs_on_the_frame(check):
    schema = _schema(check)
    good, bad = pl.DataFrame({"a": [1, None, 9]}), pl.DataFrame({"a": [1, 12]})
    assert contract_plan.passing(schema, good) is not None
    assert contract_plan.passing(schema, bad) is None
    with pytest.raises(SchemaErrors):
        schema.validate(bad, lazy=True)


def test_a_hash_collision_can_only_send_a_frame_to_pandera(monkeypatch):
    schema = pa.DataFrameSchema({"a": pa.Column(pl.String, unique=True)}, coerce=True)
    df = pl.DataFrame({"a": ["x", "y"]})
    assert contract_plan.passing(schema, df) is not None
    monkeypatch.setattr(pl.Expr, "hash", lambda self, *a, **k: pl.lit(0, dtype=pl.UInt64)
                        .repeat_by(pl.len()).explode())
    assert contract_plan.passing(schema, df) is None
    assert schema.validate(df).height == 2


def test_a_failed_cast_sends_the_frame_to_pandera_which_reports_it():
    df = _draft()["entities"].head(1).with_columns(
        pl.lit("not a date").alias("entity_list_date"))
    assert contract_plan.passing(SCHEMAS["entities"].to_schema(), df) is None
    out, found = validate("entities", df)
    assert out is None
    assert any(f.check.startswith("coerce_dtype") for f in found)
    assert "entity_list_date" in {f.column for f in found}
