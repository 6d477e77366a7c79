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
    entities = pl.DataFrame({"entity_id": ["bytedance", "alibaba", "tencent", "nvidia"],
                             "country": ["CN", "CN", "CN", "US"]})
    rec = reconcile(df_approvals, df_shipments, entities=entities)
    h100 = pl.DataFrame({"chip_id": ["nvidia_h100_sxm5_80gb"], "bf16_dense_tflops": [989.0],
                         "int8_dense_tops": [1979.0]})  # the H100e reference row
    fleet = fleet_compute(df_lab_compute, pl.concat([df_chips, h100], how="diagonal"))
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
        "fleet_compute": charts.fleet_compute(fleet),
        "fleet_compute_flops": charts.fleet_compute(fleet.lazy(), measure="flops_bf16"),
        "release_diff_rows": charts.release_diff(diff_rows),
        "release_diff_counts": charts.release_diff(diff_counts),
    }


@pytest.fixture
def all_charts(df_chips, df_rules, df_approvals, df_shipments, df_lab_compute):
    return _charts(df_chips, df_rules, df_approvals, df_shipments, df_lab_compute)


def _units(spec: dict) -> list[dict]:
    """Every single-view spec in a layered or concatenated chart."""
    parts = spec.get("layer") or spec.get("vconcat") or spec.get("hconcat")
    return [u for part in parts for u in _units(part)] if parts else [spec]


def _encodings(spec: dict) -> list[dict]:
    return [unit.get("encoding", {}) for unit in _units(spec)]


def _colour_pairs(spec: dict) -> set[tuple[str, str]]:
    """(value, colour) of every colour scale (color, fill, stroke) in a chart."""
    pairs = set()
    for enc in _encodings(spec):
        for channel in ("color", "fill", "stroke"):
            scale = enc.get(channel, {}).get("scale", {})
            if "range" in scale:
                pairs |= set(zip(scale["domain"], scale["range"], strict=True))
    return pairs


def _layer_data(spec: dict, unit: dict) -> list[dict]:
    return spec["datasets"][unit["data"]["name"]]


def test_every_chart_validates_and_renders(all_charts):
    import altair as alt

    # the Vega-Lite schema's own $refs use '<...>', which the draft-7 metaschema rejects
    # as uri-references; validate charts against it without checking the schema itself
    validator = jsonschema.Draft7Validator(alt.vegalite.v6.schema.load_schema())
    for name, chart in all_charts.items():
        assert isinstance(chart, alt.Chart | alt.LayerChart | alt.VConcatChart), name
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
    assert "dense BF16 / the H100" in json.dumps(all_charts["fleet_compute"].to_dict())


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
    rect_data = [
        d for d in spec["datasets"].values() if d and "eccn_class" in d[0] and "clause" in d[0]
    ]
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


# --------------------------------------------------------------------------- palette
def test_every_action_has_its_own_colour():
    from analytics import palette
    from analytics.vocab import APPROVAL_ACTIONS

    assert set(palette.ACTION) == set(APPROVAL_ACTIONS)
    assert len(set(palette.ACTION.values())) == len(APPROVAL_ACTIONS) == 12
    for category, vocabulary in palette.VOCABULARIES.items():
        assert set(palette.PALETTES[category]) == set(vocabulary), category
    for name, colours in palette.PALETTES.items():
        assert len(set(colours.values())) == len(colours), name


def test_an_action_keeps_its_colour_from_chart_to_chart(df_approvals):
    wide = timeline(df_approvals)
    revoke = wide.with_columns(
        pl.lit("revoke").alias("action"),
        pl.lit("CN").alias("jurisdiction"),
        pl.col("event_id") + "-r",
    )
    two = [
        charts.policy_timeline(wide.filter(pl.col("action") == "approve")),
        charts.policy_timeline(pl.concat([revoke, wide])),
    ]
    for chart in two:
        assert ("approve", "#117733") in _colour_pairs(chart.to_dict())
    assert ("revoke", "#332288") in _colour_pairs(two[1].to_dict())


def test_no_colour_is_reused_within_a_chart(all_charts):
    for name, chart in all_charts.items():
        pairs = _colour_pairs(chart.to_dict())
        colours = [c for _, c in pairs]
        assert pairs and len(colours) == len(set(colours)), (name, sorted(pairs))


def test_unknown_values_get_spare_colours_unused_in_the_chart():
    from analytics.palette import colours

    domain, range_ = colours("vendor", ["nvidia", "acme", "zeta"])
    assert domain == ["nvidia", "acme", "zeta"] and len(set(range_)) == 3


# --------------------------------------------------------------------------- labels
def test_scatter_labels_the_h20_and_lists_chips_without_density(df_chips, df_rules):
    chart = charts.tpp_density_scatter(df_chips, df_rules)
    spec = chart.to_dict()
    texts = [row["text"] for d in spec["datasets"].values() for row in d if "text" in row]
    assert "H20" in texts and "B200" in texts  # B200 has no die area: in the strip
    assert "3A090.a" in json.dumps(spec) and "3A090.b" in json.dumps(spec)


def test_scatter_draws_the_case_by_case_band(df_chips, df_rules):
    band = df_rules.head(1).with_columns(
        pl.lit("us_bis_2023_10").alias("rule_id"),
        pl.lit("policy.case_by_case").alias("clause"),
        pl.lit("licence_policy").alias("clause_kind"),
        pl.lit(None, pl.String).alias("eccn_class"),
        pl.lit(None, pl.Float64).alias("tpp_min"),
        pl.lit(21000.0).alias("tpp_max"),
        pl.lit("case_by_case").alias("licence_policy"),
        pl.lit(6500.0).alias("dram_bw_max_gbps"),
    )
    rules = pl.concat([df_rules, band], how="diagonal")
    spec = charts.tpp_density_scatter(df_chips, rules).to_dict()
    bands = [r for d in spec["datasets"].values() for r in d if "licence_policy" in r]
    assert [b["policy"] for b in bands] == ["case by case: TPP < 21,000 and DRAM < 6,500 GB/s"]
    assert ("case_by_case", "#33BBEE") in _colour_pairs(spec)


def test_timeline_lanes_hold_events_and_labels_name_chips(df_approvals):
    spec = charts.policy_timeline(timeline(df_approvals)).to_dict()
    lanes = spec["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert lanes == ["CN · conditional approval", "US · approve"]
    texts = {row["text"] for d in spec["datasets"].values() for row in d if "text" in row}
    assert "H200 ≥ 400,000 combined" in texts


def test_timeline_labels_can_be_chosen_or_left_out(df_approvals):
    events = timeline(df_approvals)
    chosen = charts.policy_timeline(events, labels=["APR-051"])
    assert [t for layer in chosen.layer[2:] for t in layer.data["text"]] == ["H200"]
    assert len(charts.policy_timeline(events, labels=None).layer) == 2


def test_approvals_show_qualifiers_and_as_of_dates(all_charts):
    spec = all_charts["approvals_vs_deliveries"].to_dict()
    texts = {row["text"] for d in spec["datasets"].values() for row in d if "text" in row}
    assert "≥ 400,000 combined" in texts
    assert "0 delivered as of 2026-02-24" in texts


def test_release_diff_has_its_own_subtitle(all_charts):
    subtitle = all_charts["release_diff_rows"].to_dict()["title"]["subtitle"]
    assert "dataset" in subtitle and "buyer" not in subtitle


# --------------------------------------------------------------------------- lab compute
@pytest.fixture
def df_fleet() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": ["LC-1", "LC-2", "LC-3", "LC-4"],
            "lab_id": ["deepseek", "bytedance", "meta", "tencent"],
            "subject": ["cluster", "holdings", "holdings", "holdings"],
            "h100e_bf16_low": [1000.0, 14958.6, None, None],
            "h100e_bf16": [2047.2, None, 349858.5, None],
            "h100e_bf16_high": [4000.0, None, None, None],
            "source_ids": [["a"], ["b"], ["c"], ["d"]],
        }
    )


def test_fleet_bars_only_where_both_ends_exist(df_fleet):
    spec = charts.fleet_compute(df_fleet).to_dict()
    rule = next(u for u in spec["layer"] if u["mark"]["type"] == "rule")
    data = _layer_data(spec, rule)
    assert [r["record_id"] for r in data] == ["LC-1"]
    assert all(r["high"] is not None and r["low"] is not None for r in data)
    no_bars = charts.fleet_compute(df_fleet.filter(pl.col("record_id") != "LC-1")).to_dict()
    assert [u["mark"]["type"] for u in no_bars["layer"]] == ["point"]


def test_fleet_every_row_has_a_mark_and_missing_labs_are_named(df_fleet):
    spec = charts.fleet_compute(df_fleet).to_dict()
    point = next(u for u in spec["layer"] if u["mark"]["type"] == "point")
    rows = _layer_data(spec, point)
    assert {r["lab_id"] for r in rows} == {"deepseek", "bytedance", "meta"}
    assert all(r["point"] is not None for r in rows)
    assert any("tencent" in line for line in spec["title"]["subtitle"])


def test_fleet_axis_labels_are_sparse(df_fleet):
    spec = charts.fleet_compute(df_fleet).to_dict()
    axis = next(u for u in spec["layer"] if u["mark"]["type"] == "point")["encoding"]["x"]["axis"]
    assert axis["values"] == [1000, 10000, 100000]


def test_theme_font_covers_cjk(all_charts):
    assert "Noto Sans CJK SC" in all_charts["policy_timeline"].to_dict()["config"]["font"]


def test_lab_compute_in_flops_renders_with_ticks_past_64_bit_integers():
    import vl_convert as vlc

    import analytics

    chips, lab = analytics.load("chips", "2026-11-29"), analytics.load("lab_compute", "2026-11-29")
    chart = charts.fleet_compute(fleet_compute(lab, chips), measure="flops_bf16")
    assert max(chart.to_dict()["layer"][0]["encoding"]["x"]["axis"]["values"]) >= 1e19
    assert vlc.vegalite_to_svg(chart.to_dict()).startswith("<svg")
