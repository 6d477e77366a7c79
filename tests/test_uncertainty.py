"""Lognormal fits of triplets, seeded sampling and sums of independent items."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.uncertainty import (
    Z95,
    fit_lognormal,
    sample,
    sum_intervals,
)
from benchmarks.baselines import numpy_sum_intervals


@pytest.fixture
def df_units() -> pl.DataFrame:
    # shapes of shipments triplets: a central only, a stated range, a full triplet, a zero,
    # and an empty row
    return pl.DataFrame(
        {
            "lab": ["a", "a", "b", "b", "c"],
            "units_low": [None, 40_000.0, 100.0, None, None],
            "units": [20_000.0, None, 200.0, 0.0, None],
            "units_high": [None, 80_000.0, 400.0, None, None],
        }
    )


# --------------------------------------------------------------------------- fitting
def test_fit_symmetric_triplet_hits_percentiles():
    mu, sigma = fit_lognormal([10.0], [100.0], [1000.0])
    assert mu[0] == pytest.approx(np.log(100.0))
    assert sigma[0] == pytest.approx(np.log(10.0) / Z95)


def test_fit_range_without_central_uses_log_midpoint():
    mu, sigma = fit_lognormal([40_000.0], [None], [80_000.0])
    assert np.exp(mu[0]) == pytest.approx(np.sqrt(40_000.0 * 80_000.0))
    assert np.exp(mu[0] + Z95 * sigma[0]) == pytest.approx(80_000.0)
    assert np.exp(mu[0] - Z95 * sigma[0]) == pytest.approx(40_000.0)


def test_fit_takes_the_wider_side():
    mu, sigma = fit_lognormal([90.0], [100.0], [400.0])
    assert sigma[0] == pytest.approx(np.log(4.0) / Z95)
    mu, sigma = fit_lognormal([25.0], [100.0], [None])
    assert sigma[0] == pytest.approx(np.log(4.0) / Z95)


def test_fit_points_and_zeros():
    mu, sigma = fit_lognormal(
        [5.0, None, 0.0, None, None], [5.0, 7.0, 0.0, 0.0, None], [5.0, None, 0.0, None, None]
    )
    assert sigma[:4].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert np.exp(mu[2]) == 0.0 and np.exp(mu[3]) == 0.0
    assert np.isnan(mu[4]) and np.isnan(sigma[4])
    mu, sigma = fit_lognormal([0.0], [10.0], [40.0])  # zero low: the high side only
    assert sigma[0] == pytest.approx(np.log(4.0) / Z95)


def test_fit_rejects_disorder_and_negatives():
    with pytest.raises(ValueError, match="out of order"):
        fit_lognormal([3.0], [2.0], [5.0])
    with pytest.raises(ValueError, match="negative"):
        fit_lognormal([-1.0], [2.0], [5.0])


# --------------------------------------------------------------------------- sampling
def test_sample_shape_points_and_reproducible(df_units):
    x = sample(df_units, "units", n=2000, seed=7)
    assert x.shape == (5, 2000)
    assert (x[0] == 20_000.0).all()  # a point stays a point
    assert (x[3] == 0.0).all()  # a zero stays zero
    assert np.isnan(x[4]).all()
    assert np.array_equal(x, sample(df_units, "units", n=2000, seed=7), equal_nan=True)
    assert not np.array_equal(x[2], sample(df_units, "units", n=2000, seed=8)[2])


def test_sample_percentiles_match_triplet():
    df = pl.DataFrame({"x_low": [100.0], "x": [200.0], "x_high": [400.0]})
    p5, p50, p95 = np.percentile(sample(df, "x", n=200_000, seed=3)[0], [5, 50, 95])
    assert p5 == pytest.approx(100.0, rel=0.02)
    assert p50 == pytest.approx(200.0, rel=0.02)
    assert p95 == pytest.approx(400.0, rel=0.02)


def test_sample_lazy_and_missing_columns():
    lf = pl.LazyFrame({"units": [3.0, 4.0]})
    x = sample(lf, "units", n=10)
    assert (x[:, 0] == [3.0, 4.0]).all()
    with pytest.raises(ValueError, match="expected any of"):
        sample(lf, "value_usd")


# --------------------------------------------------------------------------- sums
def test_sum_of_points_is_exact():
    df = pl.DataFrame({"g": ["x", "x", "y"], "units": [100.0, 50.0, 10.0]})
    out = sum_intervals(df, "units", by="g")
    assert out.rows() == [("x", 150.0, 150.0, 150.0, 2, 0), ("y", 10.0, 10.0, 10.0, 1, 0)]


def test_sum_intervals_columns_groups_and_missing(df_units):
    out = sum_intervals(df_units, "units", by="lab", n=5000)
    assert out.columns == ["lab", "units_p5", "units_p50", "units_p95", "n_items", "n_missing"]
    assert out["lab"].to_list() == ["a", "b", "c"]
    assert out["n_items"].to_list() == [2, 2, 0]
    assert out["n_missing"].to_list() == [0, 0, 1]
    c = out.row(2, named=True)
    assert c["units_p50"] is None
    a = out.row(0, named=True)
    # a 20,000 point plus a 40k-80k range: 60k-100k (1 % Monte Carlo allowance)
    assert a["units_p5"] == pytest.approx(60_000, rel=0.01)
    assert a["units_p50"] == pytest.approx(20_000 + np.sqrt(40_000 * 80_000), rel=0.01)
    assert a["units_p95"] == pytest.approx(100_000, rel=0.01)


def test_sum_is_not_a_sum_of_percentiles():
    df = pl.DataFrame({"x_low": [10.0] * 20, "x": [20.0] * 20, "x_high": [40.0] * 20})
    out = sum_intervals(df, "x", n=20_000).row(0, named=True)
    assert out["x_p5"] > 20 * 10.0 * 1.2  # far above the sum of the 5th percentiles
    assert out["x_p95"] < 20 * 40.0 * 0.8


def test_sum_intervals_equals_summed_samples_and_ignores_row_order(df_units):
    shuffled = df_units.sample(fraction=1.0, shuffle=True, seed=11)
    a = sum_intervals(df_units, "units", n=3000, seed=5)
    b = sum_intervals(shuffled.lazy(), "units", n=3000, seed=5)
    assert a.equals(b)
    canon = df_units.sort("units_low", "units", "units_high", nulls_last=True)
    total = np.nansum(sample(canon, "units", n=3000, seed=5), axis=0)
    assert a.item(0, "units_p50") == pytest.approx(np.percentile(total, 50), rel=1e-12)


def test_sum_intervals_no_rows():
    out = sum_intervals(pl.DataFrame({"units": []}, schema={"units": pl.Float64}), "units")
    assert out.row(0) == (None, None, None, 0, 0)


def test_numpy_reference_agrees():
    lo, c, hi = np.array([1.0, 5.0]), np.array([2.0, 10.0]), np.array([4.0, 20.0])
    df = pl.DataFrame({"x_low": lo, "x": c, "x_high": hi})
    ours = sum_intervals(df, "x", n=4000, seed=2).select("x_p5", "x_p50", "x_p95").row(0)
    ref = numpy_sum_intervals(lo, c, hi, n=4000, seed=2)
    assert np.allclose(ours, ref, rtol=1e-12)


# --------------------------------------------------------------------------- properties
positive = st.floats(min_value=1.0, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def triplets(draw):
    """Triplets symmetric in log space (or ranges without a central), as the data gives."""
    centre = draw(positive)
    spread = draw(st.floats(min_value=1.0, max_value=10.0))
    with_central = draw(st.booleans())
    return centre / spread, (centre if with_central else None), centre * spread


@settings(max_examples=25, deadline=None)
@given(items=st.lists(triplets(), min_size=1, max_size=8), seed=st.integers(0, 2**32 - 1))
def test_sum_range_no_wider_than_sum_of_ranges(items, seed):
    df = pl.DataFrame(items, schema=["x_low", "x", "x_high"], orient="row")
    out = sum_intervals(df, "x", n=20_000, seed=seed).row(0, named=True)
    assert out["x_p5"] <= out["x_p50"] <= out["x_p95"]
    stated = sum(hi - lo for lo, _, hi in items)
    assert out["x_p95"] - out["x_p5"] <= stated * 1.05  # 5 % Monte Carlo allowance


@settings(max_examples=25, deadline=None)
@given(items=st.lists(triplets(), min_size=1, max_size=6), seed=st.integers(0, 2**32 - 1))
def test_seeded_sampling_reproduces(items, seed):
    df = pl.DataFrame(items, schema=["x_low", "x", "x_high"], orient="row")
    a = sample(df, "x", n=500, seed=seed)
    assert np.array_equal(a, sample(df.lazy(), "x", n=500, seed=seed))
    assert sum_intervals(df, "x", n=500, seed=seed).equals(sum_intervals(df, "x", n=500, seed=seed))


@settings(max_examples=25, deadline=None)
@given(items=st.lists(triplets(), min_size=1, max_size=6))
def test_samples_and_percentiles_stay_ordered(items):
    df = pl.DataFrame(items, schema=["x_low", "x", "x_high"], orient="row")
    x = sample(df, "x", n=4000, seed=1)
    p5, p50, p95 = np.percentile(x, [5, 50, 95], axis=1)
    assert (p5 <= p50).all() and (p50 <= p95).all()
    assert (x > 0).all()


# --------------------------------------------------------------------------- qualifiers
def _pct(df: pl.DataFrame, stem: str = "x", n: int = 200_000) -> np.ndarray:
    return np.percentile(sample(df, stem, n=n, seed=4)[0], [5, 50, 95])


def test_at_least_plus_exact_keeps_the_bound_and_a_real_tail():
    df = pl.DataFrame({"units": [100_000.0, 50_000.0], "units_qualifier": ["at_least", "exact"]})
    out = sum_intervals(df, "units", n=20_000, seed=0).row(0, named=True)
    assert out["units_p5"] >= 150_000
    assert out["units_p95"] > 1.5 * out["units_p5"]
    assert out["units_p5"] < out["units_p50"] < out["units_p95"]


def test_at_least_tail_reaches_twice_the_bound_or_the_stated_high():
    df = pl.DataFrame({"x": [100.0], "x_qualifier": ["at_least"]})
    p5, _, p95 = _pct(df)
    assert p5 >= 100.0 and p5 < 105.0
    assert p95 == pytest.approx(200.0, rel=0.02)
    df = pl.DataFrame({"x": [100.0], "x_high": [150.0], "x_qualifier": ["at_least"]})
    assert _pct(df)[2] == pytest.approx(150.0, rel=0.02)
    assert (sample(df, "x", n=5000) >= 100.0).all()


def test_at_most_mirrors_the_lower_bound():
    df = pl.DataFrame({"x": [200_000.0], "x_qualifier": ["at_most"]})
    x = sample(df, "x", n=100_000, seed=2)
    assert (x <= 200_000.0).all()
    assert np.percentile(x, 5) == pytest.approx(100_000.0, rel=0.02)


def test_a_stated_range_is_uniform_not_a_percentile_interval():
    df = pl.DataFrame({"x_low": [320_000.0], "x_high": [330_000.0], "x_qualifier": ["range"]})
    x = sample(df, "x", n=200_000, seed=1)
    assert x.min() >= 320_000.0 and x.max() <= 330_000.0
    p5, p50, p95 = np.percentile(x, [5, 50, 95])
    assert p5 == pytest.approx(320_500.0, abs=100) and p95 == pytest.approx(329_500.0, abs=100)
    assert p50 == pytest.approx(325_000.0, abs=100)


def test_a_range_with_a_median_and_an_open_end():
    # "between 10,000 and several hundred thousand, median about 140,000"
    df = pl.DataFrame({"x_low": [10_000.0], "x": [140_000.0], "x_qualifier": ["range"]})
    x = sample(df, "x", n=200_000, seed=1)
    assert x.min() >= 10_000.0
    assert np.median(x) == pytest.approx(140_000.0, rel=0.02)
    assert 200_000 < np.percentile(x, 95) < 300_000


def test_about_spreads_a_lone_figure_and_approx_is_about():
    for word in ("about", "approx"):
        df = pl.DataFrame({"x": [10_000.0], "x_qualifier": [word]})
        p5, p50, p95 = _pct(df)
        assert p5 == pytest.approx(8_000.0, rel=0.02)
        assert p50 == pytest.approx(10_000.0, rel=0.02)
        assert p95 == pytest.approx(12_500.0, rel=0.02)
    exact = pl.DataFrame({"x": [10_000.0], "x_qualifier": ["exact"]})
    assert (sample(exact, "x", n=100) == 10_000.0).all()


def test_value_usd_reads_value_qualifier():
    df = pl.DataFrame({"value_usd": [1e9], "value_qualifier": ["at_least"]})
    assert (sample(df, "value_usd", n=1000) >= 1e9).all()
    assert sample(df, "value_usd", n=1000).max() > 1.2e9


def test_a_group_quantity_is_one_item_of_its_group():
    df = pl.DataFrame({"buyers": [["alibaba", "bytedance", "tencent"], ["bytedance"]],
                       "units": [400_000.0, 10_000.0], "units_qualifier": ["at_least", "about"]})
    out = sum_intervals(df, "units", by="buyers", n=5000)
    assert out["buyers"].to_list() == [["alibaba", "bytedance", "tencent"], ["bytedance"]]
    assert out["n_items"].to_list() == [1, 1]
    assert out.item(0, "units_p5") >= 400_000


def test_qualified_sums_equal_summed_samples():
    df = pl.DataFrame({"x_low": [None, 10.0, 5.0], "x": [100.0, 40.0, None],
                       "x_high": [None, None, 9.0],
                       "x_qualifier": ["at_least", "range", "range"]})
    canon = df.sort("x_low", "x", "x_high", "x_qualifier", nulls_last=True)
    total = sample(canon, "x", n=3000, seed=9).sum(axis=0)
    out = sum_intervals(df, "x", n=3000, seed=9)
    assert out.item(0, "x_p50") == pytest.approx(np.percentile(total, 50), rel=1e-12)
