"""The benchmark suite runs at tiny sizes, so it cannot rot. No timing target is asserted."""

from __future__ import annotations

import math

import polars as pl
import pytest

from benchmarks import __main__ as cli
from benchmarks import baselines, ledger, suite
from benchmarks.harness import (
    OVER,
    Memory,
    Ratio,
    Results,
    Timing,
    Unavailable,
    format_table,
    parse_sizes,
    ratio,
)


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("bench-cache")


@pytest.fixture(scope="module")
def tables():
    return ledger.make_ledger(1_000, seed=3)


def test_ledger_matches_the_contract(tables):
    from analytics import schemas

    shp = tables["shipments"]
    assert shp.columns == list(schemas.columns("shipments"))
    assert shp.schema == pl.Schema(schemas.columns("shipments"))
    for name, df in tables.items():
        _, findings = schemas.validate(name, df)
        assert findings == [], (name, findings[:3])


def test_ledger_is_realistic_and_seeded(tables):
    shp = tables["shipments"]
    assert shp["record_id"].is_unique().all()
    assert shp["chip_ids"].explode().drop_nulls().n_unique() == ledger.N_CHIPS
    assert shp["buyer_ids"].explode().drop_nulls().n_unique() > 100
    assert shp["destination"].n_unique() > 20
    assert (shp["source_ids"].list.len() >= 1).all()
    lo, mid, hi = shp["units_low"], shp["units"], shp["units_high"]
    assert ((lo <= mid) | lo.is_null() | mid.is_null()).all()
    assert ((mid <= hi) | hi.is_null() | mid.is_null()).all()
    assert (shp["period_start"] <= shp["period_end"]).all()
    assert ledger.make_shipments(1_000, seed=3).equals(shp)
    assert not ledger.make_shipments(1_000, seed=4).equals(shp)


def test_ledger_passes_consistency(tables):
    from analytics import consistency

    findings = consistency.check(tables, release_date=suite.api.RELEASE_DATE)
    assert findings == []


def test_handwritten_checks_find_nothing_on_clean_data_and_catch_a_bad_row(tables):
    counts = baselines.handwritten_checks(tables, release_date=suite.api.RELEASE_DATE)
    assert counts and all(v == 0 for v in counts.values()), {k: v for k, v in counts.items() if v}
    bad = tables["shipments"].with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(-5).otherwise(pl.col("units")).alias("units")
    )
    assert baselines.handwritten_contract(bad)["ge0:units"] == 1


def test_aggregations_agree(tables):
    from analytics.aggregation import quarterly

    shp = tables["shipments"]
    ours = quarterly(shp)
    closed = baselines.closed_form_quarterly(shp)
    assert closed.columns == ours.columns
    assert closed.select("quarter", "buyer_ids", "chip_ids", "n_items").equals(
        ours.select("quarter", "buyer_ids", "chip_ids", "n_items")
    )
    for p in ("units_p5", "units_p50", "units_p95"):
        rel = ((closed[p] - ours[p]).abs() / ours[p]).max()
        assert rel < 1e-9, p
    sampled = baselines.handwritten_quarterly(shp, n=2_000, seed=0)
    keyed = closed.filter(pl.col("n_items") > 0).with_columns(
        pl.col("buyer_ids").list.join(";").alias("buyers"),
        pl.col("chip_ids").list.join(";").alias("chips"),
    )
    both = sampled.join(keyed, on=["quarter", "buyers", "chips"], suffix="_cf")
    assert both.height == sampled.height
    rel = ((both["units_p50"] - both["units_p50_cf"]).abs() / both["units_p50_cf"]).median()
    assert rel < 0.05
    assert (sampled["units_p5"] <= sampled["units_p50"]).all()
    assert (sampled["units_p50"] <= sampled["units_p95"]).all()


def test_pandas_pipeline_computes_the_same(tables):
    import numpy as np

    shp = tables["shipments"]
    pan = baselines.pandas_pipeline(baselines.to_pandas(shp))
    ours = baselines.closed_form_quarterly(shp)
    assert len(pan) == ours.height
    for p in ("units_p5", "units_p50", "units_p95"):
        assert np.allclose(
            np.sort(pan[p].to_numpy()), np.sort(ours[p].to_numpy()), rtol=1e-9, equal_nan=True
        )
    sampled = baselines.pandas_pipeline_sampled(baselines.to_pandas(shp), n=50)
    assert len(sampled) == baselines.handwritten_quarterly(shp, n=50).height


def test_contracts_take_large_ledger_ids():
    from analytics import schemas

    shp = ledger.make_shipments(1_500, seed=2)
    assert shp["record_id"][-1] == "SHP-1499"
    assert schemas.validate("shipments", shp)[1] == []


def test_ratio_marks_over_target():
    assert Ratio("slow", 2.01, 2.0).status == OVER
    assert Ratio("fine", 2.0, 2.0).status == "ok"
    assert Ratio("speed-up", 2.9, 3.0, at_least=True).status == OVER
    assert Ratio("speed-up", 3.1, 3.0, at_least=True).status == "ok"
    assert Ratio("broken", float("nan"), 2.0).over
    zero = ratio("x", Timing.of("a", [1.0]), Timing.of("b", [0.0]), 1.0)
    assert zero.over and not math.isfinite(zero.value)


def test_table_shows_every_ratio_target_and_marker():
    res = Results()
    a, b = Timing.of("ours", [0.3, 0.2, 0.4]), Timing.of("ref", [0.1, 0.1, 0.1])
    res.extend([a, b, ratio("ours / ref", a, b, 1.5), ratio("fast", b, a, 1.5)])
    res.add(Memory("mem", 3 * 1024**3, 1024**3, 2 * 1024**3))
    res.add(Unavailable("report", "no release"))
    text = format_table(res)
    line = next(ln for ln in text.splitlines() if ln.startswith("ours / ref"))
    assert "3.00x" in line and "<= 1.5x" in line and OVER in line
    fast = next(ln for ln in text.splitlines() if ln.startswith("fast"))
    assert "0.33x" in fast and OVER not in fast
    assert "report: not available: no release" in text
    assert "3.00 GiB" in text
    assert text.splitlines()[-1] == f"2 ratios, 1 {OVER}: ours / ref"


def test_sizes_parse():
    assert parse_sizes("1e5,1e6,1e7") == [100_000, 1_000_000, 10_000_000]


def test_whole_suite_runs_at_tiny_sizes(tiny_cache, capsys):
    cfg = suite.Config.tiny(tiny_cache)
    res = suite.run(cfg)
    failed = [u for u in res.rows if isinstance(u, Unavailable) and "failed" in u.reason]
    assert failed == []
    names = {r.name for r in res.ratios}
    for expected in ("import analytics / import polars", "sum_intervals / numpy",
                     "validate / hand-written @1e3 [issue 6: 1e6, 1e7]",
                     "validate / hand-written @1e3 [issue 3: 1e6]",
                     "aggregate / hand-written @1e3",
                     "pandas pipeline / ours @1e3 (speed-up)",
                     "peak memory above imports / table size @1e3"):
        assert expected in names
    for r in res.ratios:
        assert math.isfinite(r.value) and r.value >= 0, r
    assert all(len(t.runs) >= 1 and t.median >= 0 for t in res.rows if isinstance(t, Timing))
    text = format_table(res)
    for r in res.ratios:
        assert r.name in text
    assert text.count(OVER) >= len(res.over)
    assert res.to_dict()["over_target"] == [r.name for r in res.over]


def test_command_line_runs_one_benchmark(tiny_cache, capsys):
    code = cli.main(["--only", "intervals", "--repeat", "1", "--cache", str(tiny_cache)])
    out = capsys.readouterr().out
    assert code == 0
    assert "sum_intervals / numpy" in out and "<= 1.5x" in out


def test_command_line_rejects_unknown_benchmark(capsys):
    assert cli.main(["--only", "nope"]) == 2
