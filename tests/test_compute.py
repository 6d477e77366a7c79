"""TPP, density, rule-vintage classification, H100e, fleet FLOP/s and training arithmetic.

Chip figures are the dense vendor/third-party figures of the chips dataset research
(section 3 of the TPP method); rule rows follow the Federal Register thresholds
(87 FR 62186, 88 FR 73458, 91 FR 1684) as the control_rules dataset records them.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import compute
from analytics.aggregation import quarterly
from analytics.compute import classify, performance_density, tpp
from analytics.fleet import fleet_compute, h100e
from analytics.training import implied_mfu, max_training_flop, training_days

# --------------------------------------------------------------------------- fixtures
# chip_id, bf16, fp8, int8, fp4, die mm2, interconnect GB/s, DRAM GB/s
_CHIPS = [
    # A800: A100 compute (312 BF16 / 624 INT8 dense), NVLink cut to 400 GB/s, 826 mm2
    ("nvidia_a800_sxm4_80gb", 312.0, None, 624.0, None, 826.0, 400.0, 2039.0),
    # H100 SXM: 989 BF16, 1979 FP8/INT8 dense (sparse datasheet figures halved), 814 mm2
    ("nvidia_h100_sxm5_80gb", 989.0, 1979.0, 1979.0, None, 814.0, 900.0, 3350.0),
    # H800: H100 compute with NVLink 400 GB/s
    ("nvidia_h800_sxm5_80gb", 989.0, 1979.0, 1979.0, None, 814.0, 400.0, 3350.0),
    # H20: 148 BF16, 296 FP8/INT8 dense, 814 mm2, 4.0 TB/s
    ("nvidia_h20_96gb", 148.0, 296.0, 296.0, None, 814.0, 900.0, 4000.0),
    # L20: 119.5 BF16, 239 FP8/INT8 dense, 609 mm2, PCIe 64 GB/s
    ("nvidia_l20_48gb", 119.5, 239.0, 239.0, None, 609.0, 64.0, 864.0),
    # H200 SXM: H100 compute, 4.8 TB/s
    ("nvidia_h200_sxm_141gb", 989.0, 1979.0, 1979.0, None, 814.0, 900.0, 4800.0),
    # B200 (HGX): 2250 BF16, 4500 FP8/INT8 dense, die area undisclosed, 7.7 TB/s
    ("nvidia_b200_hgx", 2250.0, 4500.0, 4500.0, None, None, 1800.0, 7700.0),
]
_CHIP_COLS = [
    "chip_id",
    "bf16_dense_tflops",
    "fp8_dense_tflops",
    "int8_dense_tops",
    "fp4_dense_tflops",
    "die_area_mm2",
    "interconnect_gbps",
    "memory_bw_gbps",
]


@pytest.fixture
def df_chips() -> pl.DataFrame:
    return pl.DataFrame(
        _CHIPS, schema=dict.fromkeys(_CHIP_COLS, pl.Float64) | {"chip_id": pl.String}, orient="row"
    ).with_columns(source_ids=pl.lit(["src-chips"]))


def _rule(
    rule_id: str,
    clause: str,
    kind: str,
    eff: dt.date,
    *,
    cls=None,
    applies=(),
    policy=None,
    **thresholds: float,
) -> dict:
    row = {
        "rule_id": rule_id,
        "clause": clause,
        "rule_name": rule_id,
        "jurisdiction": "US",
        "effective_date": eff,
        "clause_kind": kind,
        "eccn_class": cls,
        "applies_to": list(applies),
        "licence_policy": policy,
        "destinations": ["CN", "MO"] if policy else [],
        "source_ids": [f"src-{rule_id}"],
    }
    return row | {t: thresholds.get(t) for t in compute.THRESHOLDS}


def _rules() -> list[dict]:
    oct22, oct23, jan26 = dt.date(2022, 10, 7), dt.date(2023, 11, 17), dt.date(2026, 1, 15)
    # Oct 2022 (87 FR 62186): 3A090.a = I/O >= 600 GB/s AND bits x TOPS >= 4800
    rows = [
        _rule(
            "us_bis_2022_10",
            "3A090.a",
            "classification",
            oct22,
            cls="3A090.a",
            tpp_min=4800.0,
            interconnect_min_gbps=600.0,
        )
    ]
    for rid, eff in (("us_bis_2023_10", oct23), ("us_bis_2026_01", jan26)):
        # Oct 2023 (88 FR 73458): .a TPP >= 4800, or TPP >= 1600 and PD >= 5.92;
        # .b 2400 <= TPP < 4800 and 1.6 <= PD < 5.92, or TPP >= 1600 and 3.2 <= PD < 5.92
        rows += [
            _rule(rid, "3A090.a.1", "classification", eff, cls="3A090.a", tpp_min=4800.0),
            _rule(
                rid, "3A090.a.2", "classification", eff, cls="3A090.a", tpp_min=1600.0, pd_min=5.92
            ),
            _rule(
                rid,
                "3A090.b.1",
                "classification",
                eff,
                cls="3A090.b",
                tpp_min=2400.0,
                tpp_max=4800.0,
                pd_min=1.6,
                pd_max=5.92,
            ),
            _rule(
                rid,
                "3A090.b.2",
                "classification",
                eff,
                cls="3A090.b",
                tpp_min=1600.0,
                pd_min=3.2,
                pd_max=5.92,
            ),
        ]
    # Jan 2026 (91 FR 1684): case-by-case for TPP < 21,000 and total DRAM bandwidth
    # < 6,500 GB/s; presumption of denial above either line
    both = ("3A090.a", "3A090.b")
    rows += [
        _rule(
            "us_bis_2026_01",
            "policy.case_by_case",
            "licence_policy",
            jan26,
            applies=both,
            policy="case_by_case",
            tpp_max=21000.0,
            dram_bw_max_gbps=6500.0,
        ),
        _rule(
            "us_bis_2026_01",
            "policy.denial.tpp",
            "licence_policy",
            jan26,
            applies=both,
            policy="presumption_of_denial",
            tpp_min=21000.0,
        ),
        _rule(
            "us_bis_2026_01",
            "policy.denial.dram_bw",
            "licence_policy",
            jan26,
            applies=both,
            policy="presumption_of_denial",
            dram_bw_min_gbps=6500.0,
        ),
    ]
    return rows


@pytest.fixture
def df_rules() -> pl.DataFrame:
    return pl.DataFrame(_rules(), schema_overrides=dict.fromkeys(compute.THRESHOLDS, pl.Float64))


def _cls(classified: pl.DataFrame, chip: str, rule: str) -> dict:
    row = classified.filter((pl.col("chip_id") == chip) & (pl.col("rule_id") == rule))
    assert row.height == 1
    return row.row(0, named=True)


# --------------------------------------------------------------------------- TPP / density
def test_tpp_known_values(df_chips):
    out = tpp(df_chips)
    got = dict(zip(out["chip_id"], out["tpp"], strict=True))
    assert got["nvidia_h100_sxm5_80gb"] == 15832.0  # 1979 x 8 (Epoch 1.5832e16)
    assert got["nvidia_h20_96gb"] == 2368.0  # 296 x 8
    assert got["nvidia_l20_48gb"] == 1912.0
    assert got["nvidia_a800_sxm4_80gb"] == 4992.0  # 312 x 16
    assert got["nvidia_b200_hgx"] == 36000.0
    basis = dict(zip(out["chip_id"], out["tpp_basis"], strict=True))
    assert basis["nvidia_h100_sxm5_80gb"] == "fp8"
    assert basis["nvidia_a800_sxm4_80gb"] == "bf16"


def test_tpp_fp4_and_all_null():
    df = pl.DataFrame(
        {
            "chip_id": ["b300", "blank"],
            "fp4_dense_tflops": [13500.0, None],
            "fp8_dense_tflops": [4500.0, None],
        }
    )
    out = tpp(df)
    assert out["tpp"].to_list() == [54000.0, None]  # B300 FP4 13.5 PF x 4
    assert out["tpp_basis"].to_list() == ["fp4", None]


def test_performance_density_known_values(df_chips):
    out = performance_density(df_chips.drop("fp4_dense_tflops"))
    pd_ = dict(zip(out["chip_id"], out["performance_density"], strict=True))
    assert pd_["nvidia_h20_96gb"] == pytest.approx(2.91, abs=0.005)
    assert pd_["nvidia_l20_48gb"] == pytest.approx(3.14, abs=0.005)
    assert pd_["nvidia_h100_sxm5_80gb"] == pytest.approx(19.45, abs=0.005)
    assert pd_["nvidia_b200_hgx"] is None  # die area undisclosed


def test_lazy_in_lazy_out(df_chips, df_rules):
    assert isinstance(tpp(df_chips.lazy()), pl.LazyFrame)
    assert isinstance(performance_density(df_chips.lazy()), pl.LazyFrame)
    lazy = classify(df_chips.lazy(), df_rules.lazy())
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(classify(df_chips, df_rules))


# --------------------------------------------------------------------------- classification
def test_classify_shape_and_columns(df_chips, df_rules):
    out = classify(df_chips, df_rules)
    assert out.height == len(_CHIPS) * 3
    assert out.columns[:3] == ["chip_id", "rule_id", "rule_name"]
    for col in (
        "effective_date",
        "tpp",
        "performance_density",
        "eccn_class",
        "china_licence_policy",
        "chip_source_ids",
        "rule_source_ids",
    ):
        assert col in out.columns
    assert out.select("chip_id", "effective_date").equals(
        out.select("chip_id", "effective_date").sort("chip_id", "effective_date")
    )


@pytest.mark.parametrize(
    ("chip", "rule", "eccn", "policy"),
    [
        # H20 TPP 2368 < 2400 and PD 2.91 < 3.2: below both .b lines
        ("nvidia_h20_96gb", "us_bis_2023_10", "none", None),
        # A800 / H800: NVLink 400 GB/s < 600 escaped Oct 2022; TPP >= 4800 is .a from Oct 2023
        ("nvidia_a800_sxm4_80gb", "us_bis_2022_10", "none", None),
        ("nvidia_a800_sxm4_80gb", "us_bis_2023_10", "3A090.a", None),
        ("nvidia_h800_sxm5_80gb", "us_bis_2022_10", "none", None),
        ("nvidia_h800_sxm5_80gb", "us_bis_2023_10", "3A090.a", None),
        ("nvidia_h100_sxm5_80gb", "us_bis_2022_10", "3A090.a", None),
        # L20 TPP 1912, PD 3.14: none
        ("nvidia_l20_48gb", "us_bis_2023_10", "none", None),
        ("nvidia_l20_48gb", "us_bis_2026_01", "none", None),
        # H200 15,832 / 4,800 GB/s inside the Jan 2026 band; B200 36,000 / 7,700 outside
        ("nvidia_h200_sxm_141gb", "us_bis_2026_01", "3A090.a", "case_by_case"),
        ("nvidia_b200_hgx", "us_bis_2026_01", "3A090.a", "presumption_of_denial"),
    ],
)
def test_classify_known_values(df_chips, df_rules, chip, rule, eccn, policy):
    row = _cls(classify(df_chips, df_rules), chip, rule)
    assert row["eccn_class"] == eccn
    assert row["china_licence_policy"] == policy


def test_classify_reports_rule_dates_and_sources(df_chips, df_rules):
    row = _cls(classify(df_chips, df_rules), "nvidia_h200_sxm_141gb", "us_bis_2026_01")
    assert row["effective_date"] == dt.date(2026, 1, 15)
    assert row["rule_source_ids"] == ["src-us_bis_2026_01"]
    assert row["chip_source_ids"] == ["src-chips"]


def test_classify_follows_threshold_rows(df_chips, df_rules):
    """Thresholds are data: moving the .b.2 density floor below the H20's 2.91 makes it .b."""
    moved = df_rules.with_columns(
        pl.when(pl.col("clause") == "3A090.b.2")
        .then(2.5)
        .otherwise(pl.col("pd_min"))
        .alias("pd_min")
    )
    assert _cls(classify(df_chips, moved), "nvidia_h20_96gb", "us_bis_2023_10")["eccn_class"] == (
        "3A090.b"
    )
    raised = df_rules.with_columns(
        pl.when(pl.col("clause") == "policy.case_by_case")
        .then(4000.0)
        .otherwise(pl.col("dram_bw_max_gbps"))
        .alias("dram_bw_max_gbps")
    )
    row = _cls(classify(df_chips, raised), "nvidia_h200_sxm_141gb", "us_bis_2026_01")
    assert row["china_licence_policy"] is None  # 4800 GB/s no longer inside the band


def test_classify_boundaries():
    """Minimum inclusive, maximum exclusive: (2399.x, 3.2) -> b.2; TPP exactly 4800 -> a."""
    chips = pl.DataFrame(
        {
            "chip_id": ["at_b2_floor", "at_a_floor", "at_b1_ceiling"],
            "int8_dense_tops": [300.0, 600.0, 599.99],
            "die_area_mm2": [750.0, 10_000.0, 2000.0],
        }
    )
    out = classify(chips, pl.DataFrame(_rules())).filter(pl.col("rule_id") == "us_bis_2023_10")
    got = dict(zip(out["chip_id"], out["eccn_class"], strict=True))
    assert got == {"at_b2_floor": "3A090.b", "at_a_floor": "3A090.a", "at_b1_ceiling": "3A090.b"}


def test_classify_unknown_when_input_missing():
    chips = pl.DataFrame(
        {
            "chip_id": ["no_area_small", "no_area_big", "no_link", "no_bw"],
            "int8_dense_tops": [296.0, 4500.0, 1979.0, 1979.0],
            "die_area_mm2": [None, None, 814.0, 814.0],
            "interconnect_gbps": [900.0, 900.0, None, 900.0],
            "memory_bw_gbps": [4000.0, 7700.0, 3350.0, None],
        },
        schema_overrides={"die_area_mm2": pl.Float64},
    )
    out = classify(chips, pl.DataFrame(_rules()))

    def get(chip, rule):
        return _cls(out, chip, rule)

    # TPP 2368 with unknown area: .a.2 / .b.2 need density -> unknown
    assert get("no_area_small", "us_bis_2023_10")["eccn_class"] == "unknown"
    # TPP 36000 decides .a without density
    assert get("no_area_big", "us_bis_2023_10")["eccn_class"] == "3A090.a"
    # Oct 2022 needs the interconnect figure
    assert get("no_link", "us_bis_2022_10")["eccn_class"] == "unknown"
    assert get("no_link", "us_bis_2023_10")["eccn_class"] == "3A090.a"
    # .a, but the Jan 2026 band needs DRAM bandwidth
    assert get("no_bw", "us_bis_2026_01")["china_licence_policy"] == "unknown"
    # TPP alone puts a chip above the band
    assert get("no_area_big", "us_bis_2026_01")["china_licence_policy"] == "presumption_of_denial"


def test_classify_ignores_untestable_clause(df_chips, df_rules):
    hbm = _rule("us_bis_2024_12", "3A090.c", "classification", dt.date(2024, 12, 2), cls="3A090.c")
    rules = pl.concat([df_rules, pl.DataFrame([hbm], schema=df_rules.schema)])
    out = classify(df_chips, rules)
    assert set(out["rule_id"]) == {"us_bis_2022_10", "us_bis_2023_10", "us_bis_2026_01"}


# --------------------------------------------------------------------------- H100e and fleet
def test_h100e_8bit_and_bf16(df_chips):
    units = pl.DataFrame(
        {
            "chip_id": ["nvidia_h20_96gb", "nvidia_h100_sxm5_80gb"],
            "units_low": [None, 10],
            "units": [1_000_000, 20],
            "units_high": [None, 30],
        }
    )
    eight = h100e(units, df_chips)
    assert eight["h100e_8bit"].to_list() == pytest.approx([1_000_000 * 296 / 1979, 20.0])
    assert eight["h100e_8bit_low"].to_list()[1] == pytest.approx(10.0)
    assert eight["h100e_8bit_low"].to_list()[0] is None
    bf16 = h100e(units, df_chips, basis="bf16")
    # the BF16 basis divides by the H100 row's own figure (989.0 in the chips table)
    assert bf16["h100e_bf16"].to_list() == pytest.approx([1_000_000 * 148 / 989.0, 20.0])
    assert not any(c.startswith("h100e_8bit") for c in bf16.columns)


def test_a_b300_is_worth_its_fp8_figure_not_its_cut_int8(df_chips):
    # Blackwell Ultra: dense FP8 4,500 TFLOP/s, dense INT8 cut to 157.5 TOP/s
    b300 = pl.DataFrame([("nvidia_b300_hgx", 2250.0, 4500.0, 157.5, 13500.0, None, 1800.0,
                          8000.0)], schema=df_chips.drop("source_ids").schema, orient="row")
    chips = pl.concat([df_chips.drop("source_ids"), b300])
    out = h100e(pl.DataFrame({"chip_id": ["nvidia_b300_hgx"], "units": [1]}), chips)
    assert out.item(0, "h100e_8bit") == pytest.approx(4500 / 1979)
    assert out.item(0, "h100e_8bit") > 2


def test_h100e_needs_the_h100_row():
    chips = pl.DataFrame({"chip_id": ["nvidia_h20_96gb"], "int8_dense_tops": [296.0]})
    with pytest.raises(ValueError, match="nvidia_h100_sxm5_80gb"):
        h100e(pl.DataFrame({"chip_id": ["nvidia_h20_96gb"], "units": [1]}), chips)


def test_h100e_strict_when_basis_missing(df_chips):
    chips = pl.concat([df_chips.select("chip_id", "bf16_dense_tflops", "int8_dense_tops",
                                       "fp8_dense_tflops"),
                       pl.DataFrame({"chip_id": ["ascend_910c"], "bf16_dense_tflops": [800.0]}
                                    )], how="diagonal")
    out = h100e(pl.DataFrame({"chip_id": ["ascend_910c"], "units": [100]}), chips)
    assert out["h100e_8bit"].to_list() == [None]  # no fallback to another precision


def test_h100e_chip_ids_and_errors(df_chips):
    units = pl.DataFrame(
        {
            "chip_ids": [["nvidia_h20_96gb"], ["nvidia_h20_96gb", "nvidia_l20_48gb"]],
            "units": [1979, 5],
        }
    )
    assert h100e(units, df_chips)["h100e_8bit"].to_list() == [296.0, None]
    with pytest.raises(ValueError, match="basis"):
        h100e(units, df_chips, basis="fp8")
    with pytest.raises(ValueError, match="larger of FP8 and INT8"):
        h100e(units, df_chips, basis="int8")
    with pytest.raises(ValueError, match="count triplet"):
        h100e(pl.DataFrame({"chip_id": ["x"]}), df_chips)


def test_fleet_compute_values_and_nulls(df_chips):
    holdings = pl.DataFrame(
        {
            "record_id": ["LC-006", "LC-999"],
            "chip_id": ["nvidia_h800_sxm5_80gb", None],
            # DeepSeek-V3 cluster: 2,048 H800 (arXiv 2505.09343)
            "chip_count_low": [None, 5],
            "chip_count": [2048, 10],
            "chip_count_high": [None, 20],
        }
    )
    out = fleet_compute(holdings, df_chips)
    first = out.row(0, named=True)
    assert first["flops_bf16"] == pytest.approx(2048 * 989e12)
    assert first["h100e_8bit"] == pytest.approx(2048.0)
    assert first["h100e_bf16"] == pytest.approx(2048.0)
    assert first["flops_bf16_low"] is None
    second = out.row(1, named=True)
    assert all(second[c] is None for c in out.columns if c.startswith(("flops_", "h100e_")))
    assert out["record_id"].to_list() == ["LC-006", "LC-999"]
    assert isinstance(fleet_compute(holdings.lazy(), df_chips.lazy()), pl.LazyFrame)


counts = st.integers(min_value=0, max_value=10_000_000)


@settings(max_examples=50, deadline=None)
@given(a=counts, b=counts, c=counts, extra=counts)
def test_more_chips_never_less_compute(a, b, c, extra):
    lo, mid, hi = sorted((a, b, c))
    chips = pl.DataFrame(
        {"chip_id": ["h800", "nvidia_h100_sxm5_80gb"], "bf16_dense_tflops": [989.0] * 2,
         "int8_dense_tops": [1979.0] * 2}
    )
    base = pl.DataFrame(
        {
            "chip_id": ["h800", "h800"],
            "chip_count_low": [lo, lo + extra],
            "chip_count": [mid, mid + extra],
            "chip_count_high": [hi, hi + extra],
        }
    )
    out = fleet_compute(base, chips)
    for stem in ("flops_bf16", "h100e_8bit", "h100e_bf16"):
        for sfx in ("_low", "", "_high"):
            small, big = out[f"{stem}{sfx}"].to_list()
            assert big >= small
        row = out.row(0, named=True)
        assert row[f"{stem}_low"] <= row[stem] <= row[f"{stem}_high"]
    assert max_training_flop(989.0, mid + extra, 30, mfu=0.3) >= max_training_flop(
        989.0, mid, 30, mfu=0.3
    )


# --------------------------------------------------------------------------- training arithmetic
def test_implied_mfu_deepseek_v3():
    # DeepSeek-V3: 2.788M H800 GPU-hours (arXiv 2412.19437); 3.3e24 FLOP (Epoch AI);
    # H800 dense BF16 989 TFLOP/s -> about one third
    mfu = implied_mfu(3.3e24, {"bf16_dense_tflops": 989.0}, 2.788e6)
    assert mfu == pytest.approx(0.3325, abs=0.0005)
    assert 0.30 < mfu < 0.36


def test_chip_by_id_frame_and_row(df_chips):
    by_id = implied_mfu(3.3e24, "nvidia_h800_sxm5_80gb", 2.788e6, chips=df_chips)
    by_row = implied_mfu(
        3.3e24, df_chips.filter(pl.col("chip_id") == "nvidia_h800_sxm5_80gb"), 2.788e6
    )
    assert by_id == pytest.approx(by_row)
    with pytest.raises(ValueError, match="expected one row"):
        implied_mfu(3.3e24, "no_such_chip", 1.0, chips=df_chips)
    with pytest.raises(ValueError, match="positive"):
        implied_mfu(3.3e24, {"bf16_dense_tflops": None}, 1.0)


def test_training_round_trip():
    days = training_days(3.3e24, 989.0, 2048, mfu=0.33)
    assert days == pytest.approx(3.3e24 / (2048 * 989e12 * 0.33) / 86400)
    assert max_training_flop(989.0, 2048, days, mfu=0.33) == pytest.approx(3.3e24)


def test_interval_results_are_ordered():
    lo, hi = training_days(3.3e24, 989.0, 2048, mfu=(0.2, 0.4))
    assert lo < hi
    assert lo == pytest.approx(training_days(3.3e24, 989.0, 2048, mfu=0.4))
    lo, hi = max_training_flop(989.0, (1000, 2048), (30, 60), mfu=(0.2, 0.4))
    assert lo == pytest.approx(1000 * 989e12 * 0.2 * 30 * 86400)
    assert hi == pytest.approx(2048 * 989e12 * 0.4 * 60 * 86400)
    lo, hi = implied_mfu((3.0e24, 3.6e24), 989.0, 2.788e6)
    assert lo < hi
    with pytest.raises(ValueError, match="above high"):
        training_days(1e24, 989.0, 10, mfu=(0.5, 0.2))
    with pytest.raises(ValueError, match="zero"):
        implied_mfu(1e24, 989.0, 0)


pos = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    f=st.tuples(pos, pos),
    n=st.tuples(pos, pos),
    m=st.tuples(st.floats(0.01, 1.0), st.floats(0.01, 1.0)),
)
def test_intervals_stay_ordered_training(f, n, m):
    f, n, m = tuple(sorted(f)), tuple(sorted(n)), tuple(sorted(m))
    for value in (
        training_days((f[0] * 1e18, f[1] * 1e18), 989.0, n, mfu=m),
        max_training_flop(989.0, n, f, mfu=m),
        implied_mfu((f[0] * 1e18, f[1] * 1e18), 989.0, n),
    ):
        assert value[0] <= value[1]
        assert all(math.isfinite(v) for v in value)


# --------------------------------------------------------------------------- quarterly sums
def _ledger(rows: int, seed: int) -> pl.DataFrame:
    from benchmarks import ledger

    return ledger.make_shipments(rows, seed=seed)


def test_quarterly_moments_agree_with_sampling():
    # both read the triplets as percentiles: without qualifiers (sampling reads those)
    shp = _ledger(3_000, seed=2).with_columns(pl.col("buyer_ids").list.head(0))
    shp = shp.drop("units_qualifier")
    keys = ["quarter", "buyer_ids", "chip_ids"]
    closed = quarterly(shp)
    sampled = quarterly(shp, method="sample", n=20_000, seed=1)
    assert closed.select(*keys, "n_items", "n_missing").equals(
        sampled.select(*keys, "n_items", "n_missing")
    )
    both = closed.join(sampled, on=keys, suffix="_mc").filter(pl.col("n_items") >= 3)
    assert both.height > 100
    for p in ("p5", "p50", "p95"):
        rel = (pl.col(f"units_{p}_mc") / pl.col(f"units_{p}") - 1).abs()
        assert both.select(rel.max()).item() < 0.05, p
        assert both.select(rel.median()).item() < 0.01, p


def test_quarterly_shape_order_and_kinds():
    shp = _ledger(500, seed=4)
    out = quarterly(shp)
    assert out.columns == [
        "quarter",
        "buyer_ids",
        "chip_ids",
        "units_p5",
        "units_p50",
        "units_p95",
        "n_items",
        "n_missing",
    ]
    assert out.equals(out.sort("quarter", "buyer_ids", "chip_ids"))
    assert out["n_items"].sum() + out["n_missing"].sum() == shp.height
    assert (out["quarter"].dt.day() == 1).all()
    assert set(out["quarter"].dt.month().unique()) <= {1, 4, 7, 10}
    ok = out.filter(pl.col("n_items") > 0)
    assert (ok["units_p5"] <= ok["units_p50"]).all()
    assert (ok["units_p50"] <= ok["units_p95"]).all()
    assert (
        out.filter(pl.col("n_items") == 0)["units_p50"].null_count()
        == out.filter(pl.col("n_items") == 0).height
    )
    lazy = quarterly(shp.lazy())
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(out)
    by_value = quarterly(shp, by="vendor_id", stem="value_usd")
    assert by_value.columns[:2] == ["quarter", "vendor_id"]
    assert isinstance(quarterly(shp.lazy(), method="sample", n=10), pl.DataFrame)


def test_quarterly_points_stay_points_and_single_items_are_exact():
    df = pl.DataFrame(
        {
            "period_start": [dt.date(2025, 1, 2), dt.date(2025, 3, 31), dt.date(2025, 5, 1)],
            "buyer": ["a", "a", "a"],
            "units_low": [None, 3.0, 80.0],
            "units": [7.0, 3.0, 100.0],
            "units_high": [None, 3.0, 125.0],
        }
    )
    out = quarterly(df, by="buyer")
    assert out.row(0) == (dt.date(2025, 1, 1), "a", 10.0, 10.0, 10.0, 2, 0)
    # one lognormal item: its own 5th/50th/95th percentiles (the wider side sets sigma)
    sigma = math.log(125 / 100) / 1.6448536269514722
    q2 = out.row(1, named=True)
    assert q2["units_p50"] == pytest.approx(100.0)
    assert q2["units_p95"] == pytest.approx(125.0)
    assert q2["units_p5"] == pytest.approx(100 * math.exp(-1.6448536269514722 * sigma))


def test_quarterly_rejects_bad_input():
    df = pl.DataFrame(
        {"period_start": [dt.date(2025, 1, 1)], "b": ["x"], "units_low": [5.0], "units": [4.0]}
    )
    with pytest.raises(ValueError, match="out of order"):
        quarterly(df, by="b")
    lazy = quarterly(df.lazy(), by="b").collect()
    assert lazy["units_p50"].to_list() == [None]
    with pytest.raises(ValueError, match="method"):
        quarterly(df, by="b", method="exact")
    with pytest.raises(ValueError, match="expected columns"):
        quarterly(df, by="buyer_ids")


triplets = st.tuples(
    st.floats(min_value=1.0, max_value=1e6),
    st.floats(min_value=0.34, max_value=1.0),
    st.floats(min_value=1.0, max_value=3.0),
    st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(items=st.lists(triplets, min_size=1, max_size=8), extra=triplets)
def test_quarterly_more_items_never_shrink_the_sum(items, extra):
    def frame(rows):
        return pl.DataFrame(
            {
                "period_start": [dt.date(2025, 2, 1)] * len(rows),
                "g": ["x"] * len(rows),
                "units_low": [None if point else c * lo for c, lo, _, point in rows],
                "units": [c for c, *_ in rows],
                "units_high": [None if point else c * hi for c, _, hi, point in rows],
            }
        )

    before = quarterly(frame(items), by="g").row(0, named=True)
    after = quarterly(frame([*items, extra]), by="g").row(0, named=True)
    for p in ("units_p5", "units_p50", "units_p95"):
        assert after[p] >= before[p] * (1 - 1e-9), p
    assert before["units_p5"] <= before["units_p50"] <= before["units_p95"]
    # a sum is never below its points
    assert before["units_p5"] >= sum(c for c, *_, point in items if point) * (1 - 1e-9)


# --------------------------------------------------------------------------- no hidden loads
def test_classify_needs_the_rules_of_the_callers_release(df_chips):
    with pytest.raises(TypeError, match="rules"):
        classify(df_chips)  # type: ignore[call-arg]


def test_a_chip_id_needs_the_chips_frame():
    with pytest.raises(ValueError, match="chips"):
        training_days(3.3e24, "nvidia_h800_sxm5_80gb", 2048, mfu=0.33)


def test_unknown_licence_policy_raises(df_chips, df_rules):
    odd = df_rules.with_columns(
        pl.when(pl.col("licence_policy").is_not_null())
        .then(pl.lit("lenient"))
        .otherwise(pl.col("licence_policy"))
        .alias("licence_policy")
    )
    with pytest.raises(ValueError, match="lenient"):
        classify(df_chips, odd)
    with pytest.raises(pl.exceptions.InvalidOperationError):
        classify(df_chips.lazy(), odd.lazy()).collect()


# --------------------------------------------------------------------------- notebook metrics
def test_share_of_line_lists_only_lines_a_chip_sits_under(df_chips, df_rules):
    out = compute.share_of_line(classify(df_chips, df_rules), df_rules)
    assert out.height > 0
    assert (out["share_of_line"] < 1).all()
    h20 = out.filter((pl.col("chip_id") == "nvidia_h20_96gb") & (pl.col("clause") == "3A090.a.1"))
    for row in h20.iter_rows(named=True):
        assert row["share_of_line"] == pytest.approx(min(
            x for x in (row["tpp_share"], row["pd_share"]) if x is not None
        ))
    assert out["share_of_line"].to_list() == sorted(out["share_of_line"], reverse=True)


def test_share_of_line_honours_the_2022_interconnect_test(df_chips, df_rules):
    out = compute.share_of_line(classify(df_chips, df_rules), df_rules)
    oct22 = out.filter(pl.col("rule_id") == "us_bis_2022_10")
    for chip in ("nvidia_a800_sxm4_80gb", "nvidia_h800_sxm5_80gb"):
        row = oct22.filter(pl.col("chip_id") == chip).row(0, named=True)
        assert row["interconnect_share"] == pytest.approx(400 / 600)
        assert row["share_of_line"] == pytest.approx(400 / 600)  # the binding test


def test_non_us_designs_have_no_us_licence_policy(df_chips, df_rules):
    ascend = pl.DataFrame([("huawei_ascend_910c", 800.0, None, 1600.0, None, 1331.2, 784.0,
                            3200.0)], schema=df_chips.drop("source_ids").schema, orient="row")
    chips = pl.concat([df_chips.drop("source_ids"), ascend]).with_columns(
        vendor_id=pl.col("chip_id").str.extract(r"^([a-z]+)_"))
    entities = pl.DataFrame({"entity_id": ["nvidia", "huawei"], "country": ["US", "CN"]})
    out = classify(chips, df_rules, entities=entities)
    hw = out.filter(pl.col("chip_id") == "huawei_ascend_910c")
    assert hw["china_licence_policy"].unique().to_list() == ["not_applicable"]
    assert hw["us_design"].unique().to_list() == [False]
    assert (hw.filter(pl.col("rule_id") == "us_bis_2023_10")["eccn_class"] == "3A090.a").all()
    nv = out.filter(pl.col("chip_id") == "nvidia_h200_sxm_141gb")
    assert "not_applicable" not in nv["china_licence_policy"].to_list()
    assert classify(chips, df_rules)["us_design"].is_null().all()


def test_run_mfu_and_training_days_grid_agree_with_the_scalar_functions(df_chips):
    from analytics.training import run_mfu, training_days_grid

    lab = pl.DataFrame({
        "record_id": ["LC-010", "LC-011"], "lab_id": ["deepseek"] * 2,
        "name": ["DeepSeek-V3", "DeepSeek-V3 pre-training"],
        "training_flop": [3.3e24, None], "gpu_hours": [None, 2.788e6],
        "chip_id": [None, "nvidia_h800_sxm5_80gb"],
    })
    v3 = run_mfu(lab, df_chips, lab_id="deepseek", name=r"^DeepSeek-V3( |$)")
    expected = implied_mfu(3.3e24, "nvidia_h800_sxm5_80gb", 2.788e6, chips=df_chips)
    assert v3.item(0, "mfu") == pytest.approx(expected)
    assert v3.select("flop_record_id", "hours_record_id").row(0) == ("LC-010", "LC-011")
    assert run_mfu(lab, df_chips, lab_id="deepseek", name="^V9").is_empty()
    hw = pl.DataFrame({"hardware": ["a", "b"], "chip_id": ["nvidia_h800_sxm5_80gb", "nope"],
                       "chips": [2048, 10]})
    grid = training_days_grid(lab.head(1), hw, df_chips, mfu=expected)
    days = training_days(3.3e24, "nvidia_h800_sxm5_80gb", 2048, mfu=expected, chips=df_chips)
    assert grid["days"].to_list()[0] == pytest.approx(days)
    assert grid["days"].to_list()[1] is None


# --------------------------------------------------------------------------- best estimate
def test_overlapping_estimates_are_never_added():
    import analytics
    from analytics.holdings import best_estimate

    t = analytics.Release.open("draft").tables()
    row = best_estimate(t["lab_compute"], "deepseek", "2025-06-01", chips=t["chips"]).row(
        0, named=True)
    # 10,000 A100 (LC-001), 50,000 Hopper (LC-003) and 50,000 H100 (LC-004) overlap
    assert row["record_ids"] == ["LC-004"]
    assert row["chip_count_p95"] == 50_000  # not 110,000
    assert "may count the same chips as LC-004" in row["reasoning"]
    assert "clusters" in row["reasoning"]
    assert row["h100e_8bit_p50"] == pytest.approx(50_000)
    none = best_estimate(t["lab_compute"], "alibaba", "2025-06-01").row(0, named=True)
    assert none["record_ids"] == [] and "no estimate" in none["reasoning"]


def test_best_estimate_supersedes_keeps_bounds_and_adds_disjoint_estimates():
    from analytics.holdings import best_estimate

    lc = pl.DataFrame({
        "record_id": ["LC-1", "LC-2", "LC-3"], "lab_id": ["x"] * 3,
        "subject": ["holdings", "holdings", "purchase"],
        "as_of_date": [dt.date(2024, 1, 1), dt.date(2025, 1, 1), dt.date(2025, 1, 1)],
        "chip_id": [None] * 3, "chip_count": [100_000, 200_000, 50_000],
        "chip_count_qualifier": ["exact", "at_least", "exact"],
        "supersedes": [[], ["LC-1"], []], "overlaps": [[], [], []],
    }, schema_overrides={"chip_id": pl.String})
    row = best_estimate(lc, "x", "2025-06-30", n=20_000).row(0, named=True)
    assert row["record_ids"] == ["LC-2", "LC-3"] and row["dropped_ids"] == ["LC-1"]
    assert row["chip_count_p5"] >= 250_000 and row["chip_count_p95"] > 300_000
    assert "superseded" in row["reasoning"] and "added by sampling" in row["reasoning"]


def test_training_days_grid_keeps_the_order_of_runs_and_hardware():
    from analytics.training import training_days_grid

    runs = pl.DataFrame({"name": ["a", "b", "c"], "record_id": ["1", "2", "3"],
                         "training_flop": [1e24, 2e24, 3e24]})
    hw = pl.DataFrame({"hardware": ["x", "y", "z", "w"], "chip_id": ["h"] * 4,
                       "chips": [1, 2, 3, 4]})
    chips = pl.DataFrame({"chip_id": ["h"], "bf16_dense_tflops": [989.0]})
    for _ in range(10):
        grid = training_days_grid(runs, hw, chips, mfu=0.3)
        assert grid["run"].to_list() == ["a"] * 4 + ["b"] * 4 + ["c"] * 4
        assert grid["hardware"].to_list() == ["x", "y", "z", "w"] * 3
