"""China's compute stock on the draft: every quarter, sampled totals, the H200 scenario."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import analytics
from analytics.stock import CHANNELS, TOTAL, compute_stock
from analytics.stock_inputs import missing_stock_inputs, stock_derivations

QUARTERS = [f"{y}Q{q}" for y in range(2022, 2027) for q in range(1, 5)]


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return analytics.Release.open("draft").tables()


@pytest.fixture(scope="module")
def none(tables) -> pl.DataFrame:
    return compute_stock(tables, h200_delivered_share=0.0)


@pytest.fixture(scope="module")
def full(tables) -> pl.DataFrame:
    return compute_stock(tables, h200_delivered_share=1.0)


def _at(out: pl.DataFrame, quarter: str, channel: str = TOTAL) -> dict:
    return out.filter((pl.col("quarter") == quarter) & (pl.col("channel") == channel)).row(
        0, named=True)


def test_every_quarter_and_channel_with_an_ordered_total(none):
    assert none.height == len(QUARTERS) * (len(CHANNELS) + 1)
    assert none.select("quarter").unique(maintain_order=True)["quarter"].to_list() == QUARTERS
    total = none.filter(pl.col("channel") == TOTAL)
    for m in ("units", "h100e", "flops"):
        assert (total[f"{m}_p5"] < total[f"{m}_p50"]).all(), m
        assert (total[f"{m}_p50"] < total[f"{m}_p95"]).all(), m
    assert none["basis"].unique().to_list() == [
        "H100 equivalents, dense 8-bit (larger of FP8 and INT8) / the H100's"]


def test_full_h200_delivery_adds_at_least_300k_h100e_by_2026q4(none, full):
    a, b = _at(none, "2026Q4"), _at(full, "2026Q4")
    assert b["h100e_p50"] - a["h100e_p50"] >= 300_000
    assert b["h100e_p5"] - a["h100e_p5"] >= 300_000  # the approval is a lower bound
    assert _at(full, "2025Q4") == {**_at(none, "2025Q4"), "h200_delivered_share": 1.0}


def test_half_delivery_sits_between(tables, none, full):
    half = _at(compute_stock(tables, h200_delivered_share=0.5), "2026Q4")["h100e_p50"]
    assert _at(none, "2026Q4")["h100e_p50"] < half < _at(full, "2026Q4")["h100e_p50"]


def test_the_total_is_sampled_not_a_sum_of_percentiles(none):
    q = none.filter(pl.col("quarter") == "2025Q4")
    parts = q.filter(pl.col("channel") != TOTAL)
    total = _at(none, "2025Q4")
    assert total["h100e_p95"] < parts["h100e_p95"].sum()
    assert total["h100e_p5"] > parts["h100e_p5"].sum()


def test_seeded_and_frames_in_equal_release_in(tables, none):
    assert compute_stock(tables, seed=0).equals(none)
    assert not compute_stock(tables, seed=1).equals(none)
    assert compute_stock(release="draft", draws=300).equals(compute_stock(tables, draws=300))


def test_units_are_never_negative_and_channels_add_up_in_the_median_order(none):
    for m in ("units", "h100e", "flops"):
        assert (none[f"{m}_p5"] >= 0).all()
    assert _at(none, "2022Q1", "exported_pre_control")["units_p50"] > 0  # High-Flyer's A100s
    assert _at(none, "2024Q4", "smuggled")["units_p95"] > 3 * _at(none, "2024Q4", "smuggled")[
        "units_p5"]  # a wide range stays wide


def test_derivations_say_how_each_record_enters(tables):
    d = stock_derivations(tables, draws=500)
    h20 = d.filter(pl.col("record_id") == "SHP-010").row(0, named=True)
    assert h20["price_id"] == "PRC-004" and "value_usd" in h20["units_from"]
    assert 380_000 < h20["units_p50"] < 470_000  # US$4.6 billion / US$10,000-12,000
    smuggled = d.filter(pl.col("channel") == "smuggled").row(0, named=True)
    assert smuggled["chips_how"].startswith("no chip named")
    assert smuggled["h100e_per_unit_low"] < smuggled["h100e_per_unit_high"]
    assert d["reason"].is_null().all()


def test_a_record_without_price_or_units_is_left_out_with_its_reason(tables):
    shp = tables["shipments"].with_columns(
        pl.when(pl.col("record_id") == "SHP-060").then(pl.lit("smuggled"))
        .otherwise(pl.col("stock_channel")).alias("stock_channel"))
    d = stock_derivations({**tables, "shipments": shp}, draws=200)
    row = d.filter(pl.col("record_id") == "SHP-060").row(0, named=True)
    assert "no sourced price" in row["reason"] and row["units_p50"] is None
    assert compute_stock({**tables, "shipments": shp}, draws=200).height == 120


def test_a_release_before_the_stock_inputs_says_so():
    old = analytics.Release.open("2026-11-29").tables()
    assert "shipments.stock_channel" in missing_stock_inputs(old)
    with pytest.raises(ValueError, match="predate the stock inputs"):
        compute_stock(old)
    with pytest.raises(ValueError, match="between 0 and 1"):
        compute_stock(old, h200_delivered_share=1.5)
    with pytest.raises(TypeError, match="release="):
        compute_stock()


def test_retirement_is_straight_line_over_the_useful_life(tables):
    from analytics.stock import _retention

    keep = _retention(4 * 8, np.array([5.0]))[0]
    assert keep[0, 0] == pytest.approx(1 - 0.125 / 5)
    assert keep[19, 0] == pytest.approx(1 - 4.875 / 5)
    assert keep[20, 0] == 0.0 and keep[0, 1] == 0.0
