"""Every chart validates against the Vega-Lite schema and renders to SVG."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from analytics import charts
from analytics.compute import classify
from analytics.fleet import fleet_compute
from analytics.reconciliation import reconcile, timeline

jsonschema = pytest.importorskip("jsonschema")
vl_convert = pytest.importorskip("vl_convert")

L = pl.List(pl.String)
H200 = "nvidia_h200_sxm_141gb"


@pytest.fixture
def df_chips() -> pl.DataFrame:
    # dense figures from the chips research: H20, H200, L20, B200 (no die area)
    return pl.DataFrame(
        {
            "chip_id": ["nvidia_h20_96gb", H200, "nvidia_l20_48gb", "nvidia_b200_hgx"],
            "model": ["H20", "H200 SXM", "L20", "B200"],
            "bf16_dense_tflops": [148.0, 989.0, 119.5, 2250.0],
            "int8_dense_tops": [296.0, 1979.0, 239.0, 4500.0],
            "die_area_mm2": [814.0, 814.0, 609.0, None],
            "interconnect_gbps": [900.0, 900.0, 64.0, 1800.0],
            "memory_bw_gbps": [4000.0, 4800.0, 864.0, 7700.0],
            "source_ids": [["src-h20"], ["src-h200"], ["src-l20"], ["src-b200"]],
        }
    )


@pytest.fixture
def df_rules() -> pl.DataFrame:
    eff = dt.date(2023, 11, 17)
    base = {
        "rule_id": "us_bis_2023_10",
        "effective_date": eff,
        "clause_kind": "classification",
        "source_ids": ["govinfo-20231025-3a090"],
        "interconnect_min_gbps": None,
    }
    rows = [
        base
        | {
            "clause": "3A090.a.1",
            "eccn_class": "3A090.a",
            "tpp_min": 4800.0,
            "tpp_max": None,
            "pd_min": None,
            "pd_max": None,
        },
        base
        | {
            "clause": "3A090.a.2",
            "eccn_class": "3A090.a",
            "tpp_min": 1600.0,
            "tpp_max": None,
            "pd_min": 5.92,
            "pd_max": None,
        },
        base
        | {
            "clause": "3A090.b.1",
            "eccn_class": "3A090.b",
            "tpp_min": 2400.0,
            "tpp_max": 4800.0,
            "pd_min": 1.6,
            "pd_max": 5.92,
        },
        base
        | {
            "clause": "3A090.b.2",
            "eccn_class": "3A090.b",
            "tpp_min": 1600.0,
            "tpp_max": None,
            "pd_min": 3.2,
            "pd_max": 5.92,
        },
        base
        | {
            "rule_id": "us_bis_2022_10",
            "effective_date": dt.date(2022, 10, 7),
            "clause": "3A090.a",
            "eccn_class": "3A090.a",
            "tpp_min": 4800.0,
            "tpp_max": None,
            "pd_min": None,
            "pd_max": None,
            "interconnect_min_gbps": 600.0,
            "source_ids": ["govinfo-20221013-3a090"],
        },
    ]
    return pl.DataFrame(rows, schema_overrides={"interconnect_min_gbps": pl.Float64})


@pytest.fixture
def df_approvals() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_id": ["APR-048", "APR-051"],
            "date": [dt.date(2026, 1, 28), dt.date(2026, 2, 1)],
            "date_precision": ["day", "month"],
            "jurisdiction": ["CN", "US"],
            "authority_ids": [["cn_miit"], ["us_bis"]],
            "action": ["conditional_approval", "approve"],
            "chip_ids": [[H200], [H200]],
            "entity_ids": [["bytedance", "alibaba", "tencent"], ["nvidia"]],
            "quantity_units": [400_000, None],
            "quantity_qualifier": ["at_least", None],
            "quantity_scope": ["combined", None],
            # a script payload in a text field must stay inert text in the SVG
            "summary": ["</script><img src=x onerror=alert(1)>", "small quantities"],
            "source_ids": [["businesstimes-20260128-h200-first-batch"], ["boursorama-h200"]],
        }
    )


@pytest.fixture
def df_shipments() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": ["SHP-035"],
            "record_type": ["delivery"],
            "period_end": [dt.date(2026, 2, 24)],
            "chip_ids": [[H200]],
            "vendor_id": ["nvidia"],
            "buyer_ids": [[]],
            "destination": ["CN"],
            "units": [0],
            "method": ["reported"],
            "source_ids": [["tradevae-20260224-no-h200-received"]],
        },
        schema_overrides={"buyer_ids": L},
    )


@pytest.fixture
def df_lab_compute() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": ["LC-006", "LC-020"],
            "as_of_date": [dt.date(2025, 5, 14), dt.date(2025, 1, 1)],
            "lab_id": ["deepseek", "deepseek"],
            "subject": ["cluster", "holdings"],
            "name": ["DeepSeek-V3 training cluster", None],
            "chip_id": [H200, None],
            "chip_count_low": [None, 1000],
            "chip_count": [2048, 2000],
            "chip_count_high": [None, 4000],
            "source_ids": [["arxiv-2505-09343"], ["test-src"]],
        }
    )


def _charts(df_chips, df_rules, df_approvals, df_shipments, df_lab_compute):
    rec = reconcile(df_approvals, df_shipments)
    diff_rows = pl.DataFrame(
        {
            "dataset": ["approvals", "approvals", "chips"],
            "change": ["added", "changed", "removed"],
            "key": ["APR-053", "APR-048", "nvidia_b30a_rumored"],
        }
    )
    diff_counts = pl.DataFrame(
        {"dataset": ["approvals"], "added": [5], "removed": [0], "changed": [2]}
    )
    return {
        "policy_timeline": charts.policy_timeline(timeline(df_approvals)),
        "approvals_vs_deliveries": charts.approvals_vs_deliveries(rec),
        "tpp_density_scatter_chips": charts.tpp_density_scatter(df_chips, df_rules),
        "tpp_density_scatter_classified": charts.tpp_density_scatter(
            classify(df_chips, df_rules), df_rules.lazy(), rule_id="us_bis_2022_10"
        ),
        "fleet_compute": charts.fleet_compute(fleet_compute(df_lab_compute, df_chips)),
        "fleet_compute_flops": charts.fleet_compute(
            fleet_compute(df_lab_compute, df_chips).lazy(), measure="flops_bf16"
        ),
        "release_diff_rows": charts.release_diff(diff_rows),
        "release_diff_counts": charts.release_diff(diff_counts),
    }


@pytest.fixture
def all_charts(df_chips, df_rules, df_approvals, df_shipments, df_lab_compute):
    return _charts(df_chips, df_rules, df_approvals, df_shipments, df_lab_compute)


def _encodings(spec: dict) -> list[dict]:
    layers = spec.get("layer", [spec])
    return [layer.get("encoding", {}) for layer in layers]


def test_every_chart_validates_and_renders(all_charts):
    import altair as alt

    # the Vega-Lite schema's own $refs use '<...>', which the draft-7 metaschema rejects
    # as uri-references; validate charts against it without checking the schema itself
    validator = jsonschema.Draft7Validator(alt.vegalite.v6.schema.load_schema())
    for name, chart in all_charts.items():
        assert isinstance(chart, alt.Chart | alt.LayerChart), name
        spec = chart.to_dict()  # altair validates here
        validator.validate(spec)
        svg = vl_convert.vegalite_to_svg(chart.to_json())
        assert "<svg" in svg, name


def test_titles_types_units_and_sources_in_tooltips(all_charts):
    for name, chart in all_charts.items():
        spec = chart.to_dict()
        assert spec.get("title"), name
        tooltips, axis_titles = [], []
        for enc in _encodings(spec):
            for channel, field in enc.items():
                items = field if isinstance(field, list) else [field]
                for item in items:
                    if "field" in item and channel not in ("x2", "y2"):
                        assert item.get("type") in {
                            "quantitative",
                            "nominal",
                            "temporal",
                            "ordinal",
                        }, (name, channel)
                if channel in ("x", "y") and "title" in field:
                    axis_titles.append(field["title"])
            tooltips += [t["field"] for t in enc.get("tooltip", [])]
        assert any(f.endswith("source_ids") for f in tooltips), name
        assert axis_titles, name


def test_axis_titles_carry_units(all_charts):
    text = json.dumps(all_charts["tpp_density_scatter_chips"].to_dict())
    assert "bit x TOP/s" in text and "TPP per mm2" in text
    assert "Units (chips)" in json.dumps(all_charts["approvals_vs_deliveries"].to_dict())
    assert "989.4" in json.dumps(all_charts["fleet_compute"].to_dict())


def test_theme_registered():
    import altair as alt

    charts.policy_timeline(
        pl.DataFrame(
            {
                "event_id": ["APR-1"],
                "date": [dt.date(2026, 1, 1)],
                "date_end": [dt.date(2026, 1, 1)],
                "jurisdiction": ["US"],
                "action": ["permit"],
                "source_ids": ["s"],
            }
        )
    )
    assert charts.THEME in alt.theme.names()


def test_threshold_regions_come_from_rules(df_chips, df_rules):
    spec = charts.tpp_density_scatter(df_chips, df_rules).to_dict()
    rect_data = [d for d in spec["datasets"].values() if d and "clause" in d[0]]
    assert len(rect_data) == 1
    clauses = {(r["rule_id"], r["clause"]): r for r in rect_data[0]}
    assert len(clauses) == 5
    b1 = clauses[("us_bis_2023_10", "3A090.b.1")]
    assert (b1["x"], b1["x2"], b1["y"], b1["y2"]) == (2400.0, 4800.0, 1.6, 5.92)
    assert "600" in clauses[("us_bis_2022_10", "3A090.a")]["also"]


def test_script_payload_stays_text_in_svg(df_approvals):
    svg = vl_convert.vegalite_to_svg(charts.policy_timeline(timeline(df_approvals)).to_json())
    assert "<script" not in svg and "<img" not in svg


def test_bad_inputs():
    with pytest.raises(ValueError, match="needs columns"):
        charts.policy_timeline(pl.DataFrame({"event_id": ["APR-1"]}))
    with pytest.raises(ValueError, match="change column"):
        charts.release_diff(pl.DataFrame({"dataset": ["a"], "n": [1]}))
    with pytest.raises(ValueError, match="measure"):
        charts.fleet_compute(
            pl.DataFrame({"lab_id": ["x"], "source_ids": [["s"]]}), measure="h100e"
        )
