"""Cross-dataset checks on small inline frames built from the valid corpus base."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from analytics import consistency, read_folder

BASE = Path(__file__).parent / "corpus" / "base"
D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def base() -> dict[str, pl.DataFrame]:
    tables, findings = read_folder(BASE)
    assert findings == []
    return tables


def checks(tables, **kw) -> list[tuple[str, str, str, str]]:
    return [(f.check, f.dataset, f.key, f.column) for f in consistency.check(tables, **kw)]


def edit(tables, name, key, **values):
    """Copy of ``tables`` with the row ``key`` of ``name`` changed."""
    df = tables[name]
    col = df.columns[0]
    df = df.with_columns(
        pl.when(pl.col(col) == key).then(pl.lit(v, dtype=df.schema[c]))
        .otherwise(pl.col(c)).alias(c)
        for c, v in values.items()
    )
    return {**tables, name: df}


def add_row(tables, name, **values):
    df = tables[name]
    row = pl.DataFrame([{c: values.get(c) for c in df.columns}], schema=df.schema)
    row = row.with_columns(
        pl.col(c).fill_null(pl.lit([], dtype=t)) for c, t in df.schema.items()
        if isinstance(t, pl.List)
    )
    return {**tables, name: pl.concat([df, row])}


def h200_delivery(tables, start="2025-06-01", end="2025-06-30", dest="CN"):
    return add_row(
        tables, "shipments", record_id="SHP-006", record_type="delivery", period_start=D(start),
        period_end=D(end), period_precision="month", chip_ids=["nvidia_h200_sxm_141gb"],
        product_scope="H200", vendor_id="nvidia", buyer_ids=["bytedance"], buyer_scope="ByteDance",
        quantity_scope="per_entity", destination=dest, units=1000, method="reported",
        source_ids=["trendforce-20240924-h20-halted"], confidence="low",
    )


def test_base_is_consistent(base):
    assert consistency.check(base, release_date="2026-11-29") == []


def test_lazy_frames_give_the_same_findings(base):
    broken = edit(base, "chips", "nvidia_h200_sxm_141gb", tpp_stated=15000.0)
    broken = h200_delivery(broken)
    eager = consistency.check(broken, release_date=D("2026-11-29"))
    lazy = consistency.check({n: t.lazy() for n, t in broken.items()}, release_date="2026-11-29")
    assert eager == lazy
    assert {f.check for f in eager} == {"tpp_mismatch", "delivery_without_approval"}


def test_h200_delivery_before_any_approval_is_named(base):
    found = consistency.check(h200_delivery(base), release_date="2026-11-29")
    assert [(f.severity, f.check, f.dataset, f.key, f.column, f.value) for f in found] == [
        ("error", "delivery_without_approval", "shipments", "SHP-006", "chip_ids",
         "nvidia_h200_sxm_141gb")
    ]
    message = found[0].message
    assert "SHP-006" in message and "nvidia_h200_sxm_141gb" in message
    assert "us_bis_2023_10" in message and "2025-06-30" in message
    assert "first approval 2026-01-13" in message


def test_h200_delivery_after_the_us_permit_passes(base):
    assert checks(h200_delivery(base, "2026-02-01", "2026-02-28"), release_date="2026-11-29") == []


def test_delivery_outside_china_needs_no_approval(base):
    assert checks(h200_delivery(base, dest="non_CN")) == []
    hk = checks(h200_delivery(base, dest="CN+HK"))
    assert hk == [("delivery_without_approval", "shipments", "SHP-006", "chip_ids")]


def test_h20_needs_approval_only_after_the_licence_requirement(base):
    before = edit(base, "shipments", "SHP-005", period_start=D("2025-01-01"),
                  period_end=D("2025-03-31"))
    assert checks(before) == []
    between = edit(base, "shipments", "SHP-005", period_start=D("2025-05-01"),
                   period_end=D("2025-06-30"))
    found = consistency.check(between)
    assert [(f.check, f.key) for f in found] == [("delivery_without_approval", "SHP-005")]
    assert "APR-015" in found[0].message
    after = edit(base, "shipments", "SHP-005", period_start=D("2025-07-01"),
                 period_end=D("2025-09-30"))
    assert checks(after) == []


def test_dangling_references_explode_lists(base):
    t = edit(base, "approvals", "APR-048", entity_ids=["alibaba", "nobody", "tencent"])
    t = edit(t, "lab_compute", "LC-001", chip_id="nvidia_b999")
    found = consistency.check(t)
    assert [(f.check, f.dataset, f.key, f.column, f.value) for f in found] == [
        ("dangling_reference", "approvals", "APR-048", "entity_ids", "nobody"),
        ("dangling_reference", "lab_compute", "LC-001", "chip_id", "nvidia_b999"),
    ]
    assert "entities.entity_id" in found[0].message


def test_missing_table_skips_its_references(base):
    t = {n: df for n, df in base.items() if n != "chips"}
    assert consistency.check(t) == []


def test_after_release_date_uses_the_end_of_a_source_period(base):
    # tomshardware-202504 is month-precision: public from 2025-04-30
    found = checks(base, release_date="2025-04-15")
    assert ("after_release_date", "sources", "tomshardware-202504-h20-writeoff",
            "published_date") in found
    assert ("after_release_date", "approvals", "APR-024", "date") in found
    assert ("after_release_date", "sources", "trendforce-20240924-h20-halted",
            "published_date") not in found
    assert checks(base, release_date="2026-01-30") == []


def test_undated_source_is_public_from_its_access_date(base):
    t = edit(base, "sources", "kesq-20250715-h20-resume", published_date=None,
             date_precision="undated")
    found = checks(t, release_date="2026-01-30")
    assert found == [("after_release_date", "sources", "kesq-20250715-h20-resume",
                      "published_date")]


def test_before_chip_release_compares_at_the_coarser_precision(base):
    # H20 launched in 2024 Q1 (quarter precision): a delivery from 2024-02-15 is fine
    t = edit(base, "shipments", "SHP-005", period_start=D("2024-02-15"))
    assert checks(t) == []
    t = edit(base, "shipments", "SHP-005", period_start=D("2023-12-01"))
    found = consistency.check(t)
    assert [(f.severity, f.check, f.key) for f in found] == [
        ("warning", "before_chip_release", "SHP-005")
    ]
    # an order may precede the launch
    t = edit(base, "shipments", "SHP-004", period_start=D("2023-06-01"))
    assert checks(t) == []


def test_holdings_need_shipments_or_a_note(base):
    t = edit(base, "lab_compute", "LC-001", notes=None)
    found = consistency.check(t)
    assert [(f.severity, f.check, f.key, f.value) for f in found] == [
        ("warning", "holdings_exceed_shipments", "LC-001", "10000")
    ]
    assert "add up to 0" in found[0].message
    # an aggregate delivery of A100 to China up to then supports it
    t = add_row(
        t, "shipments", record_id="SHP-007", record_type="delivery", period_start=D("2020-11-16"),
        period_end=D("2020-12-31"), period_precision="day",
        chip_ids=["nvidia_a100_sxm4_80gb"], product_scope="A100", vendor_id="nvidia",
        buyer_ids=["deepseek"], buyer_scope="DeepSeek", destination="CN", units=10000,
        method="reported", source_ids=["climateerinvest-20250131-deepseek-debates"],
        confidence="medium",
    )
    # deepseek is not high_flyer's parent (it is the other way round): still unsupported
    assert [f.check for f in consistency.check(t)] == ["holdings_exceed_shipments"]
    t = edit(t, "shipments", "SHP-007", buyer_ids=[])
    assert consistency.check(t) == []


def test_quantity_scope_agrees_with_entities(base):
    t = edit(base, "approvals", "APR-048", entity_ids=["alibaba"])
    t = edit(t, "shipments", "SHP-005", quantity_scope="per_entity")
    found = checks(t)
    assert found == [
        ("quantity_scope_mismatch", "approvals", "APR-048", "quantity_scope"),
        ("quantity_scope_mismatch", "shipments", "SHP-005", "quantity_scope"),
    ]
    shared = edit(base, "shipments", "SHP-005", buyer_ids=["alibaba", "tencent"])
    found = consistency.check(shared)
    assert [(f.severity, f.check) for f in found] == [("warning", "quantity_scope_mismatch")]


def test_tpp_within_half_a_percent(base):
    assert checks(edit(base, "chips", "nvidia_h200_sxm_141gb", tpp_stated=15900.0)) == []
    found = consistency.check(edit(base, "chips", "nvidia_h200_sxm_141gb", tpp_stated=16000.0))
    assert [(f.check, f.key, f.value) for f in found] == [
        ("tpp_mismatch", "nvidia_h200_sxm_141gb", "16000.0")
    ]
    assert "15832.0" in found[0].message


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("</script><img src=x onerror=alert(1)>", "html_in_text"),
        ("see <!-- hidden -->", "html_in_text"),
        ("<b>bold</b>", "html_in_text"),
        ("=HYPERLINK(\"http://x\")", "formula_in_text"),
        ("+1 555", "formula_in_text"),
        ("-2+3", "formula_in_text"),
        ("@SUM(A1)", "formula_in_text"),
        ("\tindented", "formula_in_text"),
        ("\rreturn", "formula_in_text"),
        ("x" * 2001, "oversized_field"),
    ],
)
def test_text_safety(base, text, check):
    found = consistency.check(edit(base, "approvals", "APR-024", conditions=text))
    assert [(f.severity, f.check, f.key, f.column) for f in found] == [
        ("error", check, "APR-024", "conditions")
    ]


@pytest.mark.parametrize(
    "text", ["TPP <4800 and >=1600", "a <= b", "x" * 2000, "CN+HK", "H20 -> H200"]
)
def test_harmless_text_passes(base, text):
    assert consistency.check(edit(base, "approvals", "APR-024", conditions=text)) == []


def test_text_safety_looks_inside_lists(base):
    t = edit(base, "entities", "nvidia", aliases=["Nvidia", "<i>NVDA</i>"])
    found = consistency.check(t)
    assert [(f.check, f.key, f.column, f.value) for f in found] == [
        ("html_in_text", "nvidia", "aliases", "<i>NVDA</i>")
    ]


def test_mistyped_columns_are_skipped_not_fatal(base):
    shp = base["shipments"].with_columns(pl.col("period_start").cast(pl.String))
    t = {**base, "shipments": shp}
    found = consistency.check(t, release_date="2026-11-29")
    assert all(f.check != "consistency_check_failed" for f in found)


def test_findings_frame_is_sorted_and_typed(base):
    t = edit(base, "chips", "nvidia_h200_sxm_141gb", tpp_stated=1.0, notes="=1")
    df = consistency.findings_frame(t)
    assert df.columns == list(consistency.FIELDS)
    assert df.get_column("check").to_list() == ["formula_in_text", "tpp_mismatch"]


def test_vectorised_on_a_large_shipments_table(base):
    """1e5 delivery rows: one finding per undelivered-approval row, no per-row Python."""
    n = 100_000
    shp = base["shipments"]
    big = pl.concat([shp.filter(pl.col("record_id") == "SHP-005")] * n).with_columns(
        pl.format("SHP-{}", pl.int_range(pl.len())).alias("record_id"),
        pl.when(pl.int_range(pl.len()) % 1000 == 0)
        .then(pl.lit(D("2025-05-01"))).otherwise(pl.col("period_start")).alias("period_start"),
        pl.when(pl.int_range(pl.len()) % 1000 == 0)
        .then(pl.lit(D("2025-06-30"))).otherwise(pl.col("period_end")).alias("period_end"),
    )
    df = consistency.findings_frame({**base, "shipments": big}, release_date="2026-11-29")
    assert df.get_column("check").unique().to_list() == ["delivery_without_approval"]
    assert df.height == n // 1000


def _text_findings(tables, **options) -> list[tuple]:
    from analytics.record_checks import text_safety

    lazy = {n: f.lazy() for n, f in tables.items()}
    plans = text_safety(lazy, **options)
    found = pl.concat(plans).collect() if plans else pl.DataFrame()
    return sorted(found.rows()) if found.height else []


@pytest.mark.parametrize("path", ["rows", "long", "distinct"])
def test_text_safety_finds_the_same_rows_by_each_path(base, monkeypatch, path):
    from analytics import record_checks

    t = edit(base, "entities", "nvidia", aliases=["Nvidia", "=NVDA", "<i>NVDA</i>", "=x"])
    t = edit(t, "approvals", "APR-024", conditions="<b>bold</b>")
    t = edit(t, "approvals", "APR-043", conditions="<b>bold</b>")  # the same value twice
    t = edit(t, "approvals", "APR-048", summary="x" * 2001)
    if path == "distinct":
        monkeypatch.setattr(record_checks, "DISTINCT_MIN_ROWS", 1)
    found = _text_findings(t, in_memory=path != "rows")
    assert [(r[1], r[2], r[3], r[4], r[5][:12]) for r in found] == [
        ("approvals", "APR-024", "conditions", "html_in_text", "<b>bold</b>"),
        ("approvals", "APR-043", "conditions", "html_in_text", "<b>bold</b>"),
        ("approvals", "APR-048", "summary", "oversized_field", "xxxxxxxxxxxx"),
        ("entities", "nvidia", "aliases", "formula_in_text", "=NVDA"),
        ("entities", "nvidia", "aliases", "html_in_text", "<i>NVDA</i>"),
    ]
    assert found == _text_findings(t)  # the same rows, values and messages as row by row
