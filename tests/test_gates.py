"""The two gates for known chips, buyers and dates of the released data."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import analytics
from analytics import supply_checks
from analytics.gates import CHINA_GATES, COLUMNS, US_GATES, gate_matrix

RELEASE = "2026-11-29"
H20, H200, B200 = "nvidia_h20_96gb", "nvidia_h200_sxm_141gb", "nvidia_b200_hgx"
ASCEND = "huawei_ascend_910c"


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    names = ("chips", "control_rules", "approvals", "entities")
    t = {n: analytics.load(n, release=RELEASE) for n in names}
    t["classification"] = analytics.classify(t["chips"], t["control_rules"],
                                             entities=t["entities"])
    return t


def _gate(tables: dict[str, pl.DataFrame], chip: str, buyer: str, on: str) -> dict:
    m = gate_matrix([chip], [buyer], [on], classification=tables["classification"],
                    chips=tables["chips"], approvals=tables["approvals"],
                    entities=tables["entities"])
    assert m.height == 1
    return m.row(0, named=True)


@pytest.mark.parametrize(
    ("on", "us_gate", "event"),
    [("2025-01-15", "not_controlled", None), ("2025-05-01", "licence_required", "APR-015"),
     ("2025-09-01", "licence_granted", "APR-026")],
)
def test_h20_for_bytedance_through_2025(tables, on, us_gate, event) -> None:
    row = _gate(tables, H20, "bytedance", on)
    assert row["us_class"] == "none"
    assert row["us_gate"] == us_gate
    if event:
        assert event in row["event_ids"]


def test_h20_in_september_2025_carries_the_revenue_share_and_beijing_discourages(tables):
    row = _gate(tables, H20, "bytedance", "2025-09-01")
    assert "15%" in row["conditions"]
    assert "APR-027" in row["conditions"]
    assert row["china_gate"] == "discouraged"
    assert {"APR-027", "APR-028"} <= set(row["event_ids"])


def test_h200_in_february_2026_is_licensed_and_conditionally_approved(tables):
    row = _gate(tables, H200, "bytedance", "2026-02-15")
    assert row["us_gate"] in ("case_by_case", "licence_granted")
    assert row["china_gate"] == "conditionally_approved"
    assert "APR-048" in row["event_ids"]
    assert row["us_class"] == "3A090.a"


def test_b200_is_presumed_denied(tables):
    row = _gate(tables, B200, "alibaba", "2026-02-15")
    assert row["us_gate"] == "presumption_of_denial"
    assert "APR-033" in row["event_ids"]


def test_ascend_has_no_us_gate(tables):
    row = _gate(tables, ASCEND, "deepseek", "2026-02-15")
    assert (row["us_class"], row["us_gate"]) == ("not_us", "not_applicable")


def test_every_answer_cites_its_sources(tables):
    chips = [H20, H200, B200]
    m = gate_matrix(chips, ["bytedance", "deepseek", "tencent"],
                    ["2023-01-01", "2025-05-01", "2026-02-15"],
                    classification=tables["classification"], chips=tables["chips"],
                    approvals=tables["approvals"], entities=tables["entities"])
    assert m.height == 27
    assert m["us_gate"].is_in(US_GATES).all() and m["china_gate"].is_in(CHINA_GATES).all()
    assert (m["source_ids"].list.len() > 0).all()
    assert (m["event_ids"].list.len() > 0).all()
    sources = set(analytics.load("sources", release=RELEASE)["source_id"])
    assert set(m["source_ids"].explode().to_list()) <= sources


def test_an_entity_list_listing_denies_the_buyer(tables):
    entities = tables["entities"].with_columns(
        pl.when(pl.col("entity_id") == "bytedance").then(pl.lit(dt.date(2025, 6, 1)))
        .otherwise(None).alias("entity_list_date"),
        pl.when(pl.col("entity_id") == "bytedance").then(pl.lit(["src-listing"]))
        .otherwise(None).alias("entity_list_source_ids"),
    )
    m = gate_matrix([H20], ["bytedance"], ["2025-05-01", "2025-09-01"],
                    classification=tables["classification"], chips=tables["chips"],
                    approvals=tables["approvals"], entities=entities)
    assert m["us_gate"].to_list() == ["licence_required", "presumption_of_denial"]
    assert "src-listing" in m["source_ids"][1]


def test_an_unknown_chip_is_a_clear_error(tables):
    with pytest.raises(KeyError, match="not in the chips table"):
        _gate(tables, "no_such_chip", "bytedance", "2025-01-01")


def test_h200_in_february_2026_states_the_group_approval_as_a_bound(tables):
    row = _gate(tables, H200, "tencent", "2026-02-15")
    assert "at least 400,000 combined; " in row["conditions"]  # a bound stays a bound
    assert "APR-048" in row["event_ids"]
    assert row["us_gate"] == "licence_granted" and "APR-051" in row["event_ids"]


def test_a_listed_non_us_designer_still_has_no_us_gate(tables):
    # Huawei is on the Entity List, but its own Ascend is not a US export
    entities = tables["entities"].with_columns(
        pl.when(pl.col("entity_id") == "huawei").then(pl.lit(dt.date(2019, 5, 16)))
        .otherwise(None).alias("entity_list_date"))
    m = gate_matrix([ASCEND], ["huawei"], ["2026-02-15"], classification=tables["classification"],
                    chips=tables["chips"], approvals=tables["approvals"], entities=entities)
    assert m.row(0, named=True)["us_gate"] == "not_applicable"


def test_a_listing_known_to_the_month_says_so_and_cites_its_sources(tables):
    entities = tables["entities"].with_columns(
        pl.when(pl.col("entity_id") == "bytedance").then(pl.lit(dt.date(2025, 3, 1)))
        .otherwise(None).alias("entity_list_date"),
        pl.when(pl.col("entity_id") == "bytedance").then(pl.lit("month"))
        .otherwise(None).alias("entity_list_precision"),
        pl.when(pl.col("entity_id") == "bytedance").then(pl.lit(["src-a", "src-b"]))
        .otherwise(None).alias("entity_list_source_ids"),
    )
    row = gate_matrix([H200], ["bytedance"], ["2026-02-15"],
                      classification=tables["classification"], chips=tables["chips"],
                      approvals=tables["approvals"], entities=entities).row(0, named=True)
    assert row["us_gate"] == "presumption_of_denial"
    assert "ByteDance on the US Entity List since 2025-03" in row["conditions"]
    assert {"src-a", "src-b"} <= set(row["source_ids"])


def test_gate_status_opens_the_release_itself():
    row = analytics.gate_status(H20, "bytedance", "2025-05-01", release=RELEASE)
    assert row.height == 1 and row.columns == list(COLUMNS)
    assert row.item(0, "us_gate") == "licence_required"
    assert "APR-015" in row.item(0, "event_ids") and row.item(0, "source_ids").len() > 0
    assert "H20" in row.item(0, "verdict")
    assert "for ByteDance on 2025-05-01: a US licence is required" in row.item(0, "verdict")


# --------------------------------------------------------------------------- deliveries
def _delivery(record_id: str, chip: str, buyers: list[str], start: str, end: str,
              vendor: str = "nvidia") -> dict:
    return {"record_id": record_id, "record_type": "delivery",
            "period_start": dt.date.fromisoformat(start),
            "period_end": dt.date.fromisoformat(end), "chip_ids": [chip],
            "vendor_id": vendor, "buyer_ids": buyers, "destination": "CN", "units": 10_000}


def _findings(tables, rows: list[dict]) -> list[str]:
    shp = analytics.load("shipments", release=RELEASE)
    extra = pl.DataFrame(rows).with_columns(pl.col("buyer_ids").cast(pl.List(pl.String)))
    t = {n: tables[n].lazy() for n in ("chips", "control_rules", "approvals", "entities")}
    t["shipments"] = pl.concat([shp, extra], how="diagonal_relaxed").lazy()
    out = supply_checks.delivery_without_approval(t)
    return sorted(pl.concat(out).collect()["key"].to_list()) if out else []


def test_deliveries_are_checked_by_the_gates(tables):
    rows = [
        # Huawei Ascend delivered in China: not a US export (as SHP-047, SHP-311, SHP-312)
        _delivery("SHP-901", "huawei_ascend_910b", ["bytedance"], "2024-01-01", "2024-07-31",
                  vendor="huawei"),
        # licensed H200s (as SHP-203/204 under APR-051 and APR-053)
        _delivery("SHP-903", H200, ["bytedance"], "2026-07-01", "2026-08-31"),
        # an H200 before any US licence or permit: the gate is closed
        _delivery("SHP-904", H200, ["tencent"], "2025-03-01", "2025-03-31"),
        # an H20 after the is-informed letter, before the July 2025 permit
        _delivery("SHP-905", H20, ["alibaba"], "2025-05-01", "2025-06-30"),
    ]
    assert _findings(tables, rows) == ["SHP-904", "SHP-905"]


def test_the_drafts_entity_list_listings_reach_the_gate():
    row = analytics.gate_status(H200, "zhipu_ai", "2026-02-15", release="draft").row(
        0, named=True)
    assert row["us_gate"] == "presumption_of_denial"
    assert "on the US Entity List since 2025-01-16" in row["conditions"]
    zhipu = analytics.load("entities", release="draft").filter(
        pl.col("entity_id") == "zhipu_ai").row(0, named=True)
    assert set(zhipu["entity_list_source_ids"]) <= set(row["source_ids"])
    before = analytics.gate_status(H20, "zhipu_ai", "2024-06-01", release="draft")
    assert before.item(0, "us_gate") == "not_controlled"  # listed only from January 2025


@pytest.fixture(scope="module")
def book():
    from analytics.gates import GateBook

    t = analytics.Release.open("latest").tables()
    classes = analytics.classify(t["chips"], t["control_rules"], entities=t["entities"])
    return GateBook.of(classification=classes, chips=t["chips"], approvals=t["approvals"],
                       entities=t["entities"])


_FIELDS = ("us_class", "us_gate", "us_open", "china_gate", "event_ids")


def _fields(answer: dict) -> tuple:
    return tuple(str(answer[f]) for f in _FIELDS)


def test_buyers_no_decision_or_listing_names_are_answered_as_no_named_buyer(book):
    distinct = book.distinct_buyers()
    assert {"deepseek", "huawei", "bytedance"} <= distinct  # named in decisions or listed
    assert {"baidu", "meituan", "xiaomi"}.isdisjoint(distinct)
    days = [dt.date(2022, 10, 7), dt.date(2023, 11, 17), dt.date(2025, 4, 15),
            dt.date(2026, 1, 14), dt.date(2026, 8, 1)]
    for chip in book.chips:
        for on in days:
            unnamed = _fields(book.answer(chip, None, on))
            for buyer in book.entities:
                if buyer not in distinct:
                    assert _fields(book.answer(chip, buyer, on)) == unnamed, (chip, buyer, on)


def test_an_answer_changes_only_on_its_change_days(book):
    buyers = [None, "deepseek", "bytedance", "huawei", "baidu", "alibaba"]
    for chip in book.chips:
        for buyer in buyers:
            days = book.changes(chip, buyer)
            starts = [dt.date(2019, 1, 1), *days]
            ends = [d - dt.timedelta(days=1) for d in days] + [dt.date(2027, 1, 1)]
            for first, last in zip(starts, ends, strict=True):
                assert _fields(book.answer(chip, buyer, first)) == \
                    _fields(book.answer(chip, buyer, last)), (chip, buyer, first, last)
    assert dt.date(2025, 4, 9) in book.changes(H20, None)  # the H20 licence requirement
