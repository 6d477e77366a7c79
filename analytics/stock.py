"""China's AI compute stock: quarterly, by channel, in units, H100 equivalents and FLOP/s.

Every input comes from the datasets; every assumption is stated here and in the
notebook that shows the stock:

- **Flows.** Each ``shipments`` row with a ``stock_channel`` (``exported_pre_control``,
  ``china_specific``, ``under_licence``, ``smuggled``, ``domestic``) is one flow; the
  rows are chosen in the data not to overlap (each row's notes say why it is used).
  Units are its ``units`` triplet read under its qualifier (:mod:`analytics.uncertainty`:
  a lower bound keeps its tail, a stated range is uniform). Where only ``value_usd`` is
  known, units = value / price, the price a ``parameters`` row of kind ``price`` for the
  record's chip whose period overlaps the record's most (:func:`analytics.stock_derivations` shows
  which); a record with neither is left out and listed with the reason.
- **Chips.** A record naming one chip counts as that chip; naming several, as any mix
  of them (per-unit figures uniform between the weakest and the strongest); naming none,
  as any mix of its vendor's parts released before its period begins (China-specific
  parts only in that channel, none in the smuggled and pre-control channels).
- **Timing.** A flow is spread evenly over the days of its period and summed by quarter.
- **Retirement** (an assumption): straight-line over the useful life in ``parameters``
  (``ai_accelerator_useful_life_years``, hyperscaler depreciation lives of 5-6 years),
  sampled once per draw: a chip counts ``max(0, 1 - age / life)``, its age taken from
  the middle of its arrival quarter to the end of the quarter shown.
- **H200 scenario.** ``h200_delivered_share`` delivers that share of the H200 quantity
  Beijing approved (Chinese granting decisions naming the H200 with a quantity, such as
  "at least 400,000 combined", sampled as a bound; overlapping buyer groups count once),
  net of the H200 deliveries recorded after the approval, spread evenly over the
  quarters after the approval's quarter to the last quarter shown, in ``under_licence``.
- **Measures.** H100 equivalents on the 8-bit basis (:func:`analytics.fleet.h100e`,
  named in the ``basis`` column) and dense BF16 FLOP/s.
- **Sums** are sampled: ``draws`` joint draws of every quantity; each channel's and the
  total's percentiles come from the summed draws, never from added percentiles.

>>> CHANNELS[0], TOTAL
('exported_pre_control', 'total')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from analytics.fleet import H100E_BASES
from analytics.rules import is_granting
from analytics.stock_inputs import (
    BASIS,
    CHANNELS,
    FIRST_QUARTER,
    MEASURES,
    Prepared,
    prepare,
    quarter_index,
    quarter_label,
    stock_tables,
)
from analytics.uncertainty import sample

TOTAL = "total"
H200 = "nvidia_h200_sxm_141gb"


def _approved_h200(approvals: pl.DataFrame) -> pl.DataFrame:
    """Chinese granting decisions naming the H200 with a quantity; of decisions whose
    buyer groups overlap, only the largest counts (a group is never counted twice)."""
    apr = approvals.filter(
        (pl.col("jurisdiction") == "CN") & is_granting("action")
        & pl.col("chip_ids").list.contains(H200) & pl.col("quantity_units").is_not_null()
    ).sort("quantity_units", "date", descending=[True, False])
    kept, seen = [], set()
    for row in apr.iter_rows(named=True):
        group = set(row["entity_ids"] or [])
        if not group & seen:
            kept.append(row["event_id"])
        seen |= group
    return apr.filter(pl.col("event_id").is_in(kept))


def _scenario(tables: Mapping[str, pl.DataFrame], prep: Prepared, share: float, draws: int,
              seed: int) -> np.ndarray:
    """H200 units the scenario adds per quarter, shape (Q, N): zero when ``share`` is 0."""
    q_all = prep.weights.shape[1]
    extra = np.zeros((q_all, draws))
    if share == 0:
        return extra
    apr = _approved_h200(tables["approvals"])
    if not apr.height:
        return extra
    approved = sample(apr, "quantity_units", n=draws, seed=seed + 5,
                      qualifier="quantity_qualifier").sum(axis=0)
    since = apr.get_column("date").min()
    ok = [r for r, u in zip(prep.rows, prep.used, strict=True) if u]
    recorded = np.array([r["chips"] == [H200] and r["channel"] == "under_licence"
                         and r["period_start"] >= since for r in ok], dtype=bool)
    delivered = prep.units[recorded].sum(axis=0)
    start = since.year * 4 + (since.month - 1) // 3 + 1 - prep.first
    if start >= q_all:
        return extra
    extra[start:] = np.clip(share * approved - delivered, 0, None) / (q_all - start)
    return extra


def _retention(q_all: int, life: np.ndarray) -> np.ndarray:
    """(N, Q, Q): share of a chip that arrived in quarter q still counted at quarter t.

    A chip's share depends only on its age (``t - q`` quarters, from the middle of its
    arrival quarter): one row per lag, gathered into the matrix.
    """
    lag = np.arange(q_all)[:, None] - np.arange(q_all)[None, :]
    age = (np.arange(q_all) + 0.5) / 4.0  # years
    per_lag = np.clip(1.0 - age[None, :] / life[:, None], 0.0, 1.0)
    per_lag = np.concatenate([per_lag, np.zeros((life.size, 1))], axis=1)  # lag < 0: none
    return per_lag[:, np.where(lag >= 0, lag, q_all)]


def compute_stock(
    tables: Mapping[str, pl.DataFrame] | None = None,
    *,
    release: str | None = None,
    h200_delivered_share: float = 0.0,
    draws: int = 2000,
    seed: int = 0,
) -> pl.DataFrame:
    """China's AI compute stock by quarter and channel, with its uncertainty.

    The model and its assumptions are set out in the module docstring.

    Parameters
    ----------
    tables : mapping of str to DataFrame, optional
        ``shipments`` (with ``stock_channel``), ``parameters``, ``chips`` and
        ``approvals`` of one release.
    release : str, optional
        Instead of ``tables``: a release to open (:meth:`analytics.Release.open`).
    h200_delivered_share : float
        Share (0 to 1) of the approved H200 quantity delivered after the approval.
    draws, seed : int
        Joint draws of every quantity, and the generator seed.

    Returns
    -------
    polars.DataFrame
        One row per quarter (``"2022Q1"`` to ``"2026Q4"``) and channel (the five
        channels, then ``total``): ``quarter, channel, units_p5, units_p50, units_p95,
        h100e_p5, h100e_p50, h100e_p95, flops_p5, flops_p50, flops_p95, basis,
        h200_delivered_share``. ``flops`` is dense BF16 FLOP/s; ``basis`` names the
        H100e basis.

    Raises
    ------
    ValueError
        The tables predate the stock inputs (see :func:`missing_stock_inputs`), or the
        share is outside 0 to 1.

    Examples
    --------
    >>> out = compute_stock(release="draft", draws=200)
    >>> out.filter(pl.col("channel") == "total").height
    20
    >>> row = out.filter((pl.col("quarter") == "2025Q4") & (pl.col("channel") == "total"))
    >>> bool(row.item(0, "h100e_p5") < row.item(0, "h100e_p50") < row.item(0, "h100e_p95"))
    True
    """
    flows, prep = _flows(tables, release, h200_delivered_share, draws, seed)  # (N, m, C, Q)
    q_all = flows.shape[-1]
    keep = _retention(q_all, prep.life)  # (N, Q, Q)
    stock = np.matmul(flows.reshape(draws, -1, q_all), keep.transpose(0, 2, 1))
    shown = quarter_index(FIRST_QUARTER) - prep.first
    labels = [quarter_label(quarter_index(FIRST_QUARTER) + q) for q in range(q_all - shown)]
    return _summary(stock.reshape(flows.shape)[..., shown:], h200_delivered_share, "quarter",
                    labels)


def _flows(tables: Mapping[str, pl.DataFrame] | None, release: str | None, share: float,
           draws: int, seed: int) -> tuple[np.ndarray, Prepared]:
    """Arrivals per draw, measure, channel and quarter (N, m, C, Q), scenario included."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"h200_delivered_share must be between 0 and 1, got {share!r}")
    tables = stock_tables(tables, release)
    prep = prepare(tables, draws, seed)
    x = prep.units[None] * np.concatenate([np.ones((1, *prep.units.shape)), prep.per_unit])
    spread = np.eye(len(CHANNELS))[:, prep.channel, None] * prep.weights[None]  # (C, R, Q)
    n_r, q_all = prep.weights.shape
    by_quarter = spread.transpose(0, 2, 1).reshape(-1, n_r) @ x.transpose(1, 0, 2).reshape(n_r, -1)
    flows = np.ascontiguousarray(  # (C*Q, m*N) -> (N, m, C, Q)
        by_quarter.reshape(len(CHANNELS), q_all, len(MEASURES), draws).transpose(3, 2, 0, 1))
    extra = _scenario(tables, prep, share, draws, seed)  # (Q, N)
    if extra.any():
        h, f = prep.figures[H200]
        flows[:, :, CHANNELS.index("under_licence")] += (
            np.array([1.0, h, f])[None, :, None] * extra.T[:, None, :])
    return flows, prep


def compute_flows(tables: Mapping[str, pl.DataFrame] | None = None, **options: Any
                  ) -> pl.DataFrame:
    """Chips arriving in China per calendar year and channel, before any retirement.

    The same model and draws as :func:`compute_stock` (same ``seed``, same records), so a
    year's arrivals and the stock agree; for comparison with published estimates of what
    China added in a year.

    Parameters
    ----------
    tables : mapping of str to DataFrame, optional
        As in :func:`compute_stock`.
    **options
        ``release``, ``h200_delivered_share``, ``draws``, ``seed``: as in
        :func:`compute_stock`, with the same defaults.

    Returns
    -------
    polars.DataFrame
        One row per year (2022 to 2026) and channel (then ``total``): ``year`` and the
        columns of :func:`compute_stock` after ``quarter``.

    Examples
    --------
    >>> out = compute_flows(release="draft", draws=200)
    >>> row = out.filter((pl.col("year") == "2024") & (pl.col("channel") == "domestic"))
    >>> round(row.item(0, "units_p50"))
    200000
    """
    opts = {"release": None, "h200_delivered_share": 0.0, "draws": 2000, "seed": 0}
    unknown = set(options) - set(opts)
    if unknown:
        raise TypeError(f"compute_flows got unexpected options {sorted(unknown)}; "
                        f"expected some of {sorted(opts)}")
    opts |= options
    share = opts["h200_delivered_share"]
    flows, prep = _flows(tables, opts["release"], share, opts["draws"], opts["seed"])
    year_of = (prep.first + np.arange(flows.shape[-1])) // 4
    years = list(range(quarter_index(FIRST_QUARTER) // 4, int(year_of.max()) + 1))
    by_year = np.stack([flows[..., year_of == y].sum(axis=-1) for y in years], axis=-1)
    return _summary(by_year, share, "year", [str(y) for y in years])


def _summary(values: np.ndarray, share: float, key: str, labels: list[str]) -> pl.DataFrame:
    """Draws (draw, measure, channel, period) as the output frame, with a sampled total;
    rows by period, then channel in :data:`CHANNELS` order, then ``total``."""
    both = np.concatenate([values, values.sum(axis=2, keepdims=True)], axis=2)
    both = np.ascontiguousarray(np.moveaxis(both, 0, -1))  # draws last, for the partition
    pct = np.percentile(both, [5, 50, 95], axis=-1)  # (3, measure, channel, period)
    names = [*CHANNELS, TOTAL]
    cols: dict[str, Any] = {
        key: np.repeat(np.array(labels), len(names)),
        "channel": np.tile(np.array(names), len(labels)),
    }
    for m, measure in enumerate(MEASURES):
        for p, label in enumerate(("p5", "p50", "p95")):
            cols[f"{measure}_{label}"] = pct[p, m].T.reshape(-1)
    cols["basis"] = np.full(len(labels) * len(names), H100E_BASES[BASIS][1])
    cols["h200_delivered_share"] = np.full(len(labels) * len(names), float(share))
    return pl.DataFrame(cols)
