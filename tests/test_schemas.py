"""The contracts: id patterns beyond 999 rows, and chunked validation of any size."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from analytics import schemas
from benchmarks import ledger


@pytest.fixture(scope="module")
def shipments() -> pl.DataFrame:
    return ledger.make_shipments(2_500, seed=5)


def _bad(shp: pl.DataFrame) -> pl.DataFrame:
    """Known bad rows: a negative unit, a reversed triplet, a missing id, duplicate ids
    (one pair inside a slice, one pair far apart)."""
    row = pl.int_range(pl.len())
    out = pl.concat([shp, shp.slice(7, 1), shp.slice(2_400, 1)])
    return out.with_columns(
        pl.when(row == 10).then(-5).otherwise(pl.col("units")).alias("units"),
        pl.when(row == 20).then(10**9).otherwise(pl.col("units_low")).alias("units_low"),
        pl.when(row == 1_234).then(None).otherwise(pl.col("record_id")).alias("record_id"),
    )


def test_id_patterns_take_more_than_three_digits():
    for name, col, ok, bad in (
        ("shipments", "record_id", "SHP-1000000", "SHP-12"),
        ("lab_compute", "record_id", "LC-1234", "LC-1a"),
        ("approvals", "event_id", "APR-0042", "APR-42"),
    ):
        column = schemas.SCHEMAS[name].to_schema().columns[col]
        column.validate(pl.DataFrame({col: [ok]}))
        with pytest.raises(Exception):  # noqa: B017 - pandera's error type varies by check
            column.validate(pl.DataFrame({col: [bad]}))


def test_clean_ledger_passes_in_slices(shipments):
    lazy, found = schemas.validate_lazy("shipments", shipments.lazy(), chunk_rows=600)
    assert found == []
    assert lazy.collect().equals(shipments)


@pytest.mark.parametrize("chunk_rows", [500, 999, 2_000, 1_000_000])
def test_slices_find_what_validate_finds(shipments, chunk_rows):
    bad = _bad(shipments)
    _, expected = schemas.validate("shipments", bad)
    checks = {(f.key, f.check) for f in expected}
    assert ("SHP-0010", "greater_than_or_equal_to(0)") in checks
    assert ("SHP-0020", "units_triplet_ordered") in checks
    assert ("row 1235", "not_nullable") in checks
    assert ("SHP-0007", "field_uniqueness") in checks
    assert ("SHP-2400", "field_uniqueness") in checks
    for frame in (bad, bad.lazy()):
        lazy, found = schemas.validate_lazy("shipments", frame, chunk_rows=chunk_rows)
        assert lazy is None
        assert found == expected


def test_duplicate_keys_across_slices_are_found(shipments):
    # the copy of the first row lands in the last slice: no single slice sees both
    dup = pl.concat([shipments, shipments.head(1)])
    _, found = schemas.validate_lazy("shipments", dup.lazy(), chunk_rows=1_000)
    assert [(f.key, f.column, f.check, f.value) for f in found] == [
        ("SHP-0000", "record_id", "field_uniqueness", "SHP-0000")
    ]


def test_composite_key_duplicates_across_slices():
    rules = pl.DataFrame(
        {
            "rule_id": [f"r_{i}" for i in range(5)] + ["r_0"],
            "clause": ["3A090.a"] * 6,
            "clause_kind": ["classification"] * 6,
            "eccn_class": ["3A090.a"] * 6,
        }
    )
    full = pl.DataFrame(
        {
            c: rules[c] if c in rules.columns else pl.Series([None] * 6)
            for c in schemas.columns("control_rules")
        }
    )
    _, expected = schemas.validate("control_rules", full)
    _, found = schemas.validate_lazy("control_rules", full.lazy(), chunk_rows=2)
    assert [f for f in found if f.check == "unique_rule_clause"] == [
        f for f in expected if f.check == "unique_rule_clause"
    ]
    assert {f.key for f in found if f.check == "unique_rule_clause"} == {"r_0/3A090.a"}
    assert {(f.key, f.check) for f in found} == {(f.key, f.check) for f in expected}


def test_parquet_scan_in_slices(tmp_path, shipments):
    path = tmp_path / "shipments.parquet"
    _bad(shipments).write_parquet(path, row_group_size=300)
    _, expected = schemas.validate("shipments", _bad(shipments))
    _, found = schemas.validate_lazy("shipments", pl.scan_parquet(path), chunk_rows=700)
    assert found == expected


def test_extra_column_reported_once(shipments):
    extra = shipments.with_columns(pl.lit(1).alias("comment"))
    _, expected = schemas.validate("shipments", extra)
    _, found = schemas.validate_lazy("shipments", extra.lazy(), chunk_rows=500)
    assert found == expected
    assert [(f.check, f.value) for f in found] == [("column_in_schema", "comment")]


def test_validate_lazy_rejects_bad_arguments(shipments):
    with pytest.raises(ValueError, match="chunk_rows"):
        schemas.validate_lazy("shipments", shipments, chunk_rows=0)
    with pytest.raises(TypeError):
        schemas.validate_lazy("shipments", shipments.to_dicts())


def test_validate_reports_missing_and_extra_columns_instead_of_raising():
    df = pl.DataFrame({"entity_id": ["nvidia"], "colour": ["green"]})
    out, findings = schemas.validate("entities", df)
    assert out is None
    checks = {(f.check, f.column) for f in findings}
    assert ("column_in_dataframe", "name") in checks
    assert ("column_in_schema", "colour") in checks


# --------------------------------------------------------------------------- shared checks
RELEASE = "2026-11-29"


def _release(name: str) -> pl.DataFrame:
    from analytics import datasets

    if RELEASE not in datasets.releases():
        pytest.skip(f"release {RELEASE} has not been cut yet")
    return datasets.load(name, release=RELEASE)


def test_every_fact_table_checks_its_source_ids():
    for name in schemas.FACT_TABLES:
        checks = schemas.SCHEMAS[name].to_schema().columns["source_ids"].checks
        assert sorted(c.name for c in checks) == ["at_least_one_source", "source_id_format"]
    rules = _release("control_rules")
    bad = rules.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit(["Not An Id"]))
        .otherwise(pl.col("source_ids"))
        .alias("source_ids")
    )
    _, found = schemas.validate("control_rules", bad)
    assert [f.check for f in found] == ["source_id_format"]


def test_released_lab_compute_lacks_the_optional_columns_and_still_validates():
    lab = _release("lab_compute")
    optional = schemas.optional_columns("lab_compute")
    assert set(optional) == {"chip_count_qualifier", "gpu_hours_qualifier",
                             "training_flop_qualifier", "supersedes", "overlaps"}
    older = lab.drop([c for c in optional if c in lab.columns])
    out, found = schemas.validate("lab_compute", older)
    assert found == []
    assert out.columns == list(schemas.columns("lab_compute"))
    assert out.select(list(optional)).null_count().row(0) == (lab.height,) * len(optional)


def test_qualifiers_and_subjects_of_the_data_work():
    lab = _release("lab_compute").head(5)
    words = ["exact", "about", "at_least", "range", "approx"]  # approx: the older 'about'
    newer = lab.with_columns(
        subject=pl.Series(["holdings", "cluster", "training_run", "purchase", "budget"]),
        chip_count_qualifier=pl.Series(words),
        supersedes=pl.Series([["LC-001"], None, [], None, None], dtype=pl.List(pl.String)),
    )
    assert schemas.validate("lab_compute", newer)[1] == []
    wrong = newer.with_columns(overlaps=pl.Series([["lc1"]] * 5, dtype=pl.List(pl.String)))
    assert {f.check for f in schemas.validate("lab_compute", wrong)[1]} == {"record_id_format"}


def test_evidence_model():
    ev = pl.DataFrame({
        "evidence_id": ["EV-SHP-0001", "EV-SHP-0002"], "dataset": ["shipments"] * 2,
        "record_key": ["SHP-004", "SHP-004"], "field": ["units", None],
        "source_id": ["reuters-20260128-h200"] * 2, "quote": ["more than 400,000", None],
        "locator": [None, "para 3"], "basis": ["stated", "derived"],
        "derivation": [None, "units = value_usd / price (chips.price of nvidia_h200)"],
    })
    assert schemas.validate("evidence", ev)[1] == []
    assert "evidence" in schemas.DATASETS and "evidence" in schemas.OPTIONAL_DATASETS
    bad = ev.with_columns(evidence_id=pl.Series(["EV-SHP-1", "EV-SHP-0002"]),
                          derivation=pl.Series([None, None], dtype=pl.String))
    checks = sorted(f.check for f in schemas.validate("evidence", bad)[1])
    assert checks == ["derivation_when_not_stated", "str_matches('^EV-[A-Z0-9]+-\\d{4}$')"]
    unquoted = ev.with_columns(quote=pl.Series([" ", None]),
                               dataset=pl.Series(["evidence", "shipments"]))
    found = schemas.validate("evidence", unquoted)[1]
    assert sorted((f.key, f.column, f.check.split("(")[0]) for f in found) == [
        ("EV-SHP-0001", "", "quote_when_stated"), ("EV-SHP-0001", "dataset", "isin"),
    ]


def _parameters() -> pl.DataFrame:
    return pl.DataFrame({
        "parameter_id": ["PRC-001", "ASM-005", "EST-009"],
        "kind": ["price", "assumption", "published_estimate"],
        "name": ["unit price of nvidia_h20_96gb", "ai_accelerator_useful_life_years",
                 "AI compute China acquires in 2026"],
        "chip_id": ["nvidia_h20_96gb", None, None],
        "period_start": [dt.date(2023, 12, 1), None, None],
        "period_end": [dt.date(2024, 3, 31), None, dt.date(2026, 12, 31)],
        "value_low": [12000.0, 5.0, 150000.0], "value": [None, 5.5, 320000.0],
        "value_high": [15000.0, 6.0, 600000.0], "value_qualifier": ["range"] * 3,
        "unit": ["USD per unit", "years", "B300-equivalents"], "scope": [None, None, "flow"],
        "source_ids": [["dunyanews-undated-reuters-h20-preorders"], ["a"], ["b"]],
        "confidence": ["medium", "medium", "low"], "notes": [None, None, None],
    })


def test_parameters_model():
    params = _parameters()
    assert schemas.validate("parameters", params)[1] == []
    bad = params.with_columns(
        parameter_id=pl.Series(["ASM-001", "ASM-005", "EST-9"]),
        value_low=pl.Series([16000.0, None, 150000.0]),
        value=pl.Series([None, None, 320000.0]), value_high=pl.Series([15000.0, None, 600000.0]),
        period_start=pl.Series([dt.date(2024, 4, 1), None, None]),
        kind=pl.Series(["price", "assumption", "estimate"]),
        source_ids=pl.Series([["a"], [], ["b"]]),
    )
    got = {(f.key, f.check.split("(")[0]) for f in schemas.validate("parameters", bad)[1]}
    assert got == {
        ("ASM-001", "id_prefix_matches_kind"), ("ASM-001", "value_triplet_ordered"),
        ("ASM-001", "period_start_not_after_end"), ("ASM-005", "has_a_value"),
        ("ASM-005", "at_least_one_source"), ("EST-9", "str_matches"), ("EST-9", "isin"),
        ("EST-9", "id_prefix_matches_kind"),
    }


def test_entity_list_columns_are_optional_and_checked():
    ents = _release("entities")
    assert schemas.validate("entities", ents)[1] == []  # a release cut before them
    listed = ents.head(3).with_columns(
        entity_list_date=pl.Series([dt.date(2019, 5, 16), None, None]),
        entity_list_precision=pl.Series(["day", None, "month"]),
        entity_list_citation=pl.Series(["84 FR 22961", None, None]),
        entity_list_source_ids=pl.Series([["thompsonhine-201905-huawei-entity-list"], [], None],
                                         dtype=pl.List(pl.String)),
    )
    found = schemas.validate("entities", listed)[1]
    assert [(f.key, f.check) for f in found] == [(listed["entity_id"][2],
                                                   "entity_list_date_sourced")]


def test_new_vocabulary_of_approvals_and_shipments():
    apr = _release("approvals").head(1).with_columns(action=pl.lit("proposed"))
    assert schemas.validate("approvals", apr)[1] == []
    shp = _release("shipments").head(2).with_columns(
        stock_channel=pl.Series(["smuggled", "grey_market"]))
    found = schemas.validate("shipments", shp)[1]
    assert [(f.column, f.value) for f in found] == [("stock_channel", "grey_market")]
