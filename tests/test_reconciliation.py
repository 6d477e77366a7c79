"""Approvals against shipments, and the policy timeline.

Inline rows follow the approvals and shipments research (events APR-043, APR-048,
APR-049, APR-053; records SHP-031 to SHP-035).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from analytics.reconciliation import reconcile, timeline

L = pl.List(pl.String)
H200 = "nvidia_h200_sxm_141gb"
RELEASE = "2026-11-29"


@pytest.fixture
def df_approvals() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_id": ["APR-043", "APR-044", "APR-048", "APR-049", "APR-053"],
            "date": [
                dt.date(2026, 1, 13),
                dt.date(2026, 1, 14),
                dt.date(2026, 1, 28),
                dt.date(2026, 1, 30),
                dt.date(2026, 5, 1),
            ],
            "date_precision": ["day", "day", "day", "day", "month"],
            "jurisdiction": ["US", "CN", "CN", "CN", "US"],
            "authority_ids": [
                ["us_bis"],
                ["cn_gacc"],
                ["cn_miit", "cn_mofcom"],
                ["cn_miit", "cn_mofcom"],
                ["us_bis"],
            ],
            "action": ["permit", "deny", "conditional_approval", "conditional_approval", "approve"],
            "chip_ids": [[H200, "amd_mi325x"], [H200], [H200], [H200], [H200]],
            "subject_other": [["category:chips at or below H200"], [], [], [], []],
            # APR-048: >400,000 combined for ByteDance, Alibaba, Tencent (Reuters)
            # APR-053: up to 75,000 each for about ten firms (reported)
            "entity_ids": [
                ["nvidia", "amd"],
                [],
                ["bytedance", "alibaba", "tencent"],
                ["deepseek"],
                ["bytedance", "alibaba", "tencent", "jd_com"],
            ],
            "quantity_units": [None, None, 400_000, None, 75_000],
            "quantity_qualifier": [None, None, "at_least", None, "at_most"],
            "quantity_scope": [None, None, "combined", None, "per_entity"],
            "status_as_reported": ["official", "reported", "reported", "reported", "reported"],
            "summary": ["BIS case-by-case", "customs block", "first batch", "DeepSeek", "caps"],
            "source_ids": [
                ["govinfo-20260115-h200-rule"],
                ["myind-20260114-h200-customs"],
                ["businesstimes-20260128-h200-first-batch"],
                ["tradingpedia-20260130-deepseek-h200"],
                ["congero-undated-h200-channel"],
            ],
        },
        schema_overrides={"entity_ids": L, "subject_other": L},
    )


@pytest.fixture
def df_shipments() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": ["SHP-027", "SHP-031", "SHP-032", "SHP-033", "SHP-035", "SHP-099"],
            "record_type": [
                "sales_estimate",
                "purchase_intent",
                "purchase_intent",
                "purchase_intent",
                "delivery",
                "order",
            ],
            "period_end": [
                dt.date(2026, 2, 17),
                dt.date(2026, 1, 24),
                dt.date(2026, 1, 24),
                dt.date(2026, 12, 31),
                dt.date(2026, 2, 24),
                dt.date(2026, 1, 28),
            ],
            "chip_ids": [[H200]] * 6,
            "vendor_id": ["nvidia"] * 6,
            "buyer_ids": [[], ["alibaba"], ["bytedance"], ["bytedance"], [], ["tencent"]],
            "quantity_scope": [None, "per_entity", "per_entity", "per_entity", None, None],
            "destination": ["CN"] * 6,
            "units_low": [40_000, None, None, None, None, None],
            "units": [None, 200_000, 200_000, 20_000, 0, 1_000],
            "units_high": [80_000, None, None, None, None, None],
            "method": ["reported"] * 6,
            # SHP-035: "none so far" (Commerce testimony, 24 Feb 2026)
            "source_ids": [
                ["heise"],
                ["up2info"],
                ["up2info"],
                ["digitimes"],
                ["tradevae-20260224-no-h200-received"],
                ["test-fixture-order"],
            ],  # SHP-099: synthetic, exercises orders
        },
        schema_overrides={"buyer_ids": L},
    )


@pytest.fixture
def df_entities() -> pl.DataFrame:
    cn = ["alibaba", "bytedance", "tencent", "jd_com", "deepseek", "cn_gacc", "cn_miit"]
    us = ["nvidia", "amd", "intel", "us_bis"]
    return pl.DataFrame({"entity_id": cn + us, "country": ["CN"] * len(cn) + ["US"] * len(us)})


def _row(out: pl.DataFrame, event: str) -> dict:
    rows = out.filter(pl.col("event_id") == event)
    assert rows.height == 1
    return rows.row(0, named=True)


def test_group_approval_stays_one_row(df_approvals, df_shipments, df_entities):
    out = reconcile(df_approvals, df_shipments, entities=df_entities)
    row = _row(out, "APR-048")
    assert row["buyer_group"] == "alibaba;bytedance;tencent"
    assert row["buyer_ids"] == ["alibaba", "bytedance", "tencent"]
    assert (row["approved_quantity"], row["approved_qualifier"], row["approved_scope"]) == (
        400_000,
        "at_least",
        "combined",
    )
    assert row["gate"] == "cn_import_approval"
    assert row["authority_ids"] == ["cn_miit", "cn_mofcom"]
    assert out.filter(pl.col("approved_quantity") == 400_000).height == 1  # never split


def test_zero_confirmed_deliveries_with_both_sides_sources(df_approvals, df_shipments, df_entities):
    row = _row(reconcile(df_approvals, df_shipments, entities=df_entities), "APR-048")
    assert row["confirmed_delivered"] == 0
    assert row["delivery_record_ids"] == ["SHP-035"]
    assert row["delivery_source_ids"] == ["tradevae-20260224-no-h200-received"]
    assert row["approval_source_ids"] == ["businesstimes-20260128-h200-first-batch"]
    assert row["headroom"] == 400_000 and row["headroom_qualifier"] == "at_least"
    assert row["delivered_through"] == dt.date(2026, 2, 24)


def test_orders_and_intents(df_approvals, df_shipments, df_entities):
    row = _row(reconcile(df_approvals, df_shipments, entities=df_entities), "APR-048")
    # Alibaba 200k + ByteDance max(200k, 20k): restated demand is not added twice
    assert row["intent_units"] == 400_000
    assert row["intent_record_ids"] == ["SHP-031", "SHP-032", "SHP-033"]
    assert row["ordered_units"] == 1_000 and row["order_record_ids"] == ["SHP-099"]
    # a sales estimate is neither an order nor a delivery
    assert "SHP-027" not in row["delivery_record_ids"]


def test_a_bound_stays_a_bound_in_every_sum(df_approvals, df_shipments, df_entities):
    from analytics.formatting import readable

    shp = df_shipments.with_columns(
        pl.Series("units_qualifier", ["exact", "exact", "at_least", "exact", None, "at_least"]))
    row = _row(reconcile(df_approvals, shp, entities=df_entities), "APR-048")
    # "more than 1,000" ordered; 200k + at least 200k intended; zero delivered, exactly
    assert (row["ordered_units"], row["ordered_units_qualifier"]) == (1_000, "at_least")
    assert (row["intent_units"], row["intent_units_qualifier"]) == (400_000, "at_least")
    assert (row["confirmed_delivered"], row["confirmed_delivered_qualifier"]) == (0, "exact")
    assert row["headroom"] == 400_000
    apr = reconcile(df_approvals, shp, entities=df_entities).filter(
        pl.col("event_id") == "APR-048").select("ordered_units", "ordered_units_qualifier",
                                                "intent_units", "intent_units_qualifier")
    assert readable(apr)[0].row(0) == ("≥ 1,000", "≥ 400,000")
    # an approval without a matching record has no quantity and no qualifier
    assert _row(reconcile(df_approvals, shp, entities=df_entities),
                "APR-049")["ordered_units_qualifier"] is None


def test_no_headroom_against_deliveries_known_only_as_a_bound(df_approvals, df_shipments,
                                                              df_entities):
    shp = df_shipments.with_columns(pl.lit("at_least").alias("units_qualifier"))
    row = _row(reconcile(df_approvals, shp, entities=df_entities), "APR-048")
    assert row["confirmed_delivered_qualifier"] == "at_least"
    assert row["headroom"] is None and row["headroom_qualifier"] is None


def test_gates_scopes_and_headroom(df_approvals, df_shipments, df_entities):
    out = reconcile(df_approvals, df_shipments, entities=df_entities, vendors=["amd"])
    assert "APR-044" not in out["event_id"].to_list()  # a denial grants nothing
    us = _row(out, "APR-053")
    assert us["gate"] == "us_export_licence"
    assert us["buyer_group"] == "alibaba;bytedance;jd_com;tencent"
    assert us["headroom"] is None  # per-entity cap vs group deliveries: not comparable
    assert us["confirmed_delivered"] is None  # SHP-035 ended before 2026-05-01
    bis = _row(out, "APR-043")
    assert bis["buyer_group"] is None  # vendors (shipments' and the keyword's) are not buyers
    # AMD is seated in the US: a seller even without the vendors keyword
    plain = reconcile(df_approvals, df_shipments, entities=df_entities)
    assert _row(plain, "APR-043")["buyer_group"] is None
    ds = _row(out, "APR-049")
    assert ds["confirmed_delivered"] == 0 and ds["approved_quantity"] is None


def test_vendor_keyword_and_lazy(df_approvals, df_shipments, df_entities):
    lazy = reconcile(df_approvals.lazy(), df_shipments.lazy(), entities=df_entities.lazy(),
                     vendors=["amd"])
    assert isinstance(lazy, pl.LazyFrame)
    out = lazy.collect()
    assert out.equals(reconcile(df_approvals, df_shipments, entities=df_entities, vendors=["amd"]))
    keys = out.select("buyer_group", "chip_group", "date", "event_id")
    assert keys.equals(keys.sort("buyer_group", "chip_group", "date", "event_id", nulls_last=True))


def test_timeline(df_approvals):
    out = timeline(df_approvals)
    assert out["event_id"].to_list() == ["APR-043", "APR-044", "APR-048", "APR-049", "APR-053"]
    last = out.row(4, named=True)
    assert last["date_end"] == dt.date(2026, 5, 31)  # month precision spans the month
    assert out.row(0, named=True)["date_end"] == dt.date(2026, 1, 13)
    assert last["entities"] == "alibaba;bytedance;jd_com;tencent"
    assert last["source_ids"] == "congero-undated-h200-channel"
    assert out.row(0, named=True)["label"] == "permit: amd_mi325x, nvidia_h200_sxm_141gb"
    q = df_approvals.with_columns(
        pl.lit("quarter").alias("date_precision"), pl.lit(dt.date(2025, 10, 1)).alias("date")
    )
    assert timeline(q)["date_end"].to_list()[0] == dt.date(2025, 12, 31)
    assert isinstance(timeline(df_approvals.lazy()), pl.LazyFrame)


# --------------------------------------------------------------------------- on the release
def _release_tables() -> dict[str, pl.DataFrame]:
    from analytics import datasets

    if RELEASE not in datasets.releases():
        pytest.skip(f"release {RELEASE} has not been cut yet")
    names = ("approvals", "shipments", "chips", "entities")
    return {n: datasets.load(n, release=RELEASE) for n in names}


def test_release_h200_group_approval_has_no_confirmed_deliveries():
    t = _release_tables()
    out = reconcile(t["approvals"], t["shipments"], chips=t["chips"], entities=t["entities"])
    row = _row(out, "APR-048")
    assert row["buyer_group"] == "alibaba;bytedance;tencent"
    assert row["chip_ids"] == [H200]
    assert row["approved_quantity"] == 400_000
    assert row["approved_qualifier"] == "at_least"
    assert row["approved_scope"] == "combined"
    assert row["confirmed_delivered"] == 0
    assert row["approval_source_ids"] and row["delivery_source_ids"]


def test_entities_seated_outside_china_are_not_buyers():
    apr = pl.DataFrame({"event_id": ["APR-001"], "date": [dt.date(2025, 12, 8)],
                        "jurisdiction": ["US"], "action": ["permit"],
                        "chip_ids": [["h200"]], "entity_ids": [["bytedance", "intel"]],
                        "source_ids": [["a-src"]]})
    shp = pl.DataFrame(schema={"record_id": pl.String, "record_type": pl.String,
                               "period_end": pl.Date, "chip_ids": pl.List(pl.String),
                               "vendor_id": pl.String, "buyer_ids": pl.List(pl.String),
                               "destination": pl.String, "units": pl.Int64,
                               "method": pl.String, "source_ids": pl.List(pl.String)})
    ent = pl.DataFrame({"entity_id": ["bytedance", "intel"], "country": ["CN", "US"]})
    assert reconcile(apr, shp, entities=ent)["buyer_group"].to_list() == ["bytedance"]
    with pytest.raises(TypeError, match="entities"):
        reconcile(apr, shp)  # without entities, Intel would pass for a Chinese buyer
    with pytest.raises(TypeError, match="entities table"):
        reconcile(apr, shp, entities=None)


def test_non_cn_delivery_is_not_a_delivery_into_china(df_approvals, df_shipments, df_entities):
    delivery = df_shipments.filter(pl.col("record_id") == "SHP-035")
    elsewhere = delivery.with_columns(
        record_id=pl.lit("SHP-900"), destination=pl.lit("non_CN")
    )
    before = reconcile(df_approvals, df_shipments, entities=df_entities)
    after = reconcile(df_approvals, pl.concat([df_shipments, elsewhere]), entities=df_entities)
    assert before.equals(after)
    assert not any("SHP-900" in ids for ids in after["delivery_record_ids"].to_list())


def test_release_non_cn_copy_of_a_delivery_is_listed_nowhere():
    t = _release_tables()
    shp = t["shipments"]
    delivery = shp.filter(pl.col("record_id") == "SHP-035")  # zero H200s delivered, Feb 2026
    copy = delivery.with_columns(record_id=pl.lit("SHP-999"), destination=pl.lit("non_CN"))
    out = reconcile(t["approvals"], pl.concat([shp, copy]), chips=t["chips"],
                    entities=t["entities"])
    original = delivery.item(0, "record_id")
    assert any(original in ids for ids in out["delivery_record_ids"].to_list())
    assert not any("SHP-999" in ids for ids in out["delivery_record_ids"].to_list())


@pytest.mark.parametrize(("terms", "expected"), [
    ([None, "exact"], "exact"),
    (["exact", "at_least", "at_least"], "at_least"),
    (["at_most", "exact"], "at_most"),
    (["at_least", "at_most"], "about"),  # a lower and an upper bound bound nothing together
    (["range", "exact"], "about"),
    (["approx"], "about"),
    (["about", "at_least"], "at_least"),
])
def test_the_qualifier_of_a_sum(terms, expected):
    from analytics.bounds import sum_qualifier

    df = pl.DataFrame({"q": terms}, schema={"q": pl.String})
    assert df.select(sum_qualifier("q")).item() == expected
