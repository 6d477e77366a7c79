"""``analytics.compute_stock`` on the draft against the same sampling written in plain numpy.

The baseline reads the same tables, applies the same rules (qualifiers, value over price,
chip mixes, even spread, straight-line retirement, sampled totals) with one numpy
expression per rule and no frames beyond reading the inputs: the lower bound of what
the package's model costs.

>>> draws = _draw_row(np.random.default_rng(0).standard_normal(1000), 10.0, None, None,
...                   "at_least")
>>> bool(draws.min() >= 10.0)
True
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl

from analytics.release import Release
from analytics.stock import compute_stock
from benchmarks.harness import Results, ratio, time_pair

DRAWS = 2000
_Z95, _ZH = 1.6448536269514722, 1.959963984540054
_H100 = "nvidia_h100_sxm5_80gb"


def _phi(z: np.ndarray) -> np.ndarray:
    x = np.abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (
        -1.453152027 + t * 1.061405429))))
    return 0.5 * (1.0 + np.sign(z) * (1.0 - poly * np.exp(-x * x)))


def _draw_row(z: np.ndarray, lo: float | None, c: float | None, hi: float | None,
              q: str | None) -> np.ndarray:
    """One row's draws under its qualifier (the rules of analytics.uncertainty)."""
    q = {"approx": "about"}.get(q or "exact", q or "exact")
    tail = math.log(2.0) / _ZH
    if q == "at_least":
        b = lo if lo is not None else c
        s = math.log(hi / b) / _ZH if hi is not None else tail
        return b * np.exp(s * np.abs(z))
    if q == "at_most":
        b = hi if hi is not None else c
        s = math.log(b / lo) / _ZH if lo is not None else tail
        return b * np.exp(-s * np.abs(z))
    if q == "range" and (lo is not None or hi is not None):
        mid = c if c is not None else (lo + hi) / 2
        u = _phi(z)
        below = mid * np.exp(tail * z) if lo is None else lo + (mid - lo) * 2 * u
        above = mid * np.exp(tail * z) if hi is None else mid + (hi - mid) * (2 * u - 1)
        return np.where(z < 0, below, above)
    if lo is None and hi is None:
        if q in ("about", "range"):
            return c * np.exp(math.log(1.25) / _Z95 * z)
        return np.full_like(z, c)
    if c is None:
        return np.exp((math.log(lo) + math.log(hi)) / 2 + math.log(hi / lo) / (2 * _Z95) * z)
    s = max(math.log(hi / c) if hi else 0.0, math.log(c / lo) if lo else 0.0) / _Z95
    return c * np.exp(s * z)


def numpy_stock(tables: dict[str, pl.DataFrame], *, draws: int = DRAWS, seed: int = 0) -> dict:
    """Percentiles of the stock per measure, channel (and total) and quarter, in numpy.

    The H200 scenario is left out (``compute_stock`` is timed at its default, no
    delivery); everything else is the same model.
    """
    rng = np.random.default_rng(seed)
    chips = {r["chip_id"]: r for r in tables["chips"].iter_rows(named=True)}

    def figures(ch: dict) -> tuple[float, float] | None:
        v = [x for x in (ch["fp8_dense_tflops"], ch["int8_dense_tops"]) if x is not None]
        bf16 = ch["bf16_dense_tflops"]
        return (max(v), bf16 * 1e12) if v and bf16 is not None else None

    ref = figures(chips[_H100])[0]
    params = tables["parameters"]
    prices = params.filter(pl.col("kind") == "price").rows(named=True)
    life_row = params.filter(pl.col("name") == "ai_accelerator_useful_life_years").row(
        0, named=True)
    recs = tables["shipments"].filter(pl.col("stock_channel").is_not_null()).sort("record_id")
    channels = ("exported_pre_control", "china_specific", "under_licence", "smuggled",
                "domestic")
    n_q = 2026 * 4 + 4 - 2021 * 4
    flows = np.zeros((3, len(channels), n_q, draws))
    q0 = np.array([dt.date(y, m, 1) for y in range(2021, 2027) for m in (1, 4, 7, 10)]
                  + [dt.date(2027, 1, 1)], dtype="datetime64[D]")
    for r in recs.iter_rows(named=True):
        named = r["chip_ids"] or []
        pool = named or [c for c, ch in chips.items() if ch["vendor_id"] == r["vendor_id"]
                         and ch["release_date"] and ch["release_date"] < r["period_start"]
                         and not (ch["china_specific"] and r["stock_channel"] == "smuggled")]
        per = np.array([figures(chips[c]) for c in pool if figures(chips[c])])
        if r["units"] is not None or r["units_low"] is not None:
            units = _draw_row(rng.standard_normal(draws), r["units_low"], r["units"],
                              r["units_high"], r["units_qualifier"])
        else:
            price = next(p for p in prices if p["chip_id"] == named[0]
                         and p["period_start"] <= r["period_end"]
                         and p["period_end"] >= r["period_start"])
            units = _draw_row(rng.standard_normal(draws), r["value_usd_low"], r["value_usd"],
                              r["value_usd_high"], r["value_qualifier"]) / _draw_row(
                rng.standard_normal(draws), price["value_low"], price["value"],
                price["value_high"], price["value_qualifier"])
        mix = rng.random(draws)
        lo, hi = per.min(axis=0), per.max(axis=0)
        h = (lo[0] + mix * (hi[0] - lo[0])) / ref
        f = lo[1] + mix * (hi[1] - lo[1])
        ps, pe = np.datetime64(r["period_start"]), np.datetime64(r["period_end"]) + 1
        days = np.clip((np.minimum(pe, q0[1:]) - np.maximum(ps, q0[:-1])).astype(float), 0, None)
        w = (days / (pe - ps).astype(float))[:, None]
        flows[:, channels.index(r["stock_channel"])] += w[None] * np.stack(
            [units, units * h, units * f])[:, None]
    life = _draw_row(rng.standard_normal(draws), life_row["value_low"], life_row["value"],
                     life_row["value_high"], life_row["value_qualifier"])
    t = np.arange(n_q)[:, None]
    keep = np.where((t >= t.T)[None], np.clip(1 - (t - t.T + 0.5)[None] / 4 / life[:, None, None],
                                               0, 1), 0.0)
    stock = np.matmul(flows.transpose(3, 0, 1, 2).reshape(draws, -1, n_q),
                      keep.transpose(0, 2, 1)).reshape(draws, 3, len(channels), n_q)
    stock = stock.transpose(1, 2, 3, 0)[:, :, 4:]
    stock = np.concatenate([stock, stock.sum(axis=1, keepdims=True)], axis=1)
    return dict(zip(("p5", "p50", "p95"), np.percentile(stock, [5, 50, 95], axis=-1),
                    strict=True))


def bench_stock(cfg: object, res: Results) -> None:
    """``compute_stock`` at 2,000 draws on the draft against :func:`numpy_stock`."""
    tables = Release.open("draft").tables()
    repeat = max(7, getattr(cfg, "repeat", 3))  # a cheap task: more runs steady the median
    ours, ref = time_pair(
        (f"compute_stock, draft, {DRAWS} draws", lambda: compute_stock(tables, draws=DRAWS)),
        (f"same sampling in plain numpy, draft, {DRAWS} draws",
         lambda: numpy_stock(tables, draws=DRAWS)),
        repeat=repeat)
    res.extend([ours, ref])
    res.add(ratio("compute_stock / numpy", ours, ref, 2.0))
