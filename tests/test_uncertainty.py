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
