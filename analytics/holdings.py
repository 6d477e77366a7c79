"""A lab's holdings on a date from its estimates: never adding two that may count the same chips.

``lab_compute`` rows say which estimates they replace (``supersedes``) and which may
count the same chips (``overlaps``). :func:`best_estimate` keeps, for one lab and date:

1. the estimates of chips held (``holdings``), bought (``purchase``) or clustered
   (``cluster``) dated on or before the date, with a chip count;
2. minus those a later kept estimate supersedes;
3. minus clusters when the lab has a holdings or purchase estimate: a cluster is part
   of a lab's chips, so it never adds to an estimate of them;
4. of each group of estimates linked by ``overlaps``, the largest (the others may be part
   of it; ties go to the one with a chip type, then the latest);

and adds what is left by sampling (:func:`analytics.uncertainty.sum_intervals`, which
reads each count's qualifier: "at least" stays a bound). The ``reasoning`` column says
what was kept, dropped and why.

>>> import datetime as dt, polars as pl
>>> lc = pl.DataFrame({"record_id": ["LC-1", "LC-2"], "lab_id": ["lab"] * 2,
...     "subject": ["holdings", "holdings"], "as_of_date": [dt.date(2024, 1, 1)] * 2,
...     "chip_id": [None, None], "chip_count": [10_000, 50_000],
...     "supersedes": [[], []], "overlaps": [["LC-2"], ["LC-1"]]},
...     schema_overrides={"chip_id": pl.String})
>>> best_estimate(lc, "lab", "2025-01-01")["record_ids"].to_list()
[['LC-2']]
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from analytics.fleet import h100e
from analytics.rules import Frame, add_missing_columns, as_lazy
from analytics.uncertainty import sample, sum_intervals

#: Subjects that estimate a lab's chips (budgets and training runs do not).
CHIP_SUBJECTS = ("holdings", "purchase", "cluster")
_COUNT = ("chip_count_low", "chip_count", "chip_count_high")
_INPUTS = {
    "chip_id": pl.String, "chip_count_low": pl.Float64, "chip_count": pl.Float64,
    "chip_count_high": pl.Float64, "chip_count_qualifier": pl.String,
    "supersedes": pl.List(pl.String), "overlaps": pl.List(pl.String),
    "confidence": pl.String,
}


def _candidates(lab_compute: Frame, lab_id: str, on: dt.date) -> pl.DataFrame:
    lf = add_missing_columns(as_lazy(lab_compute)[0], _INPUTS)
    return (
        lf.filter((pl.col("lab_id") == lab_id) & pl.col("subject").is_in(CHIP_SUBJECTS)
                  & (pl.col("as_of_date") <= on))
        .with_columns(pl.col(c).cast(pl.Float64) for c in _COUNT)
        .filter(pl.any_horizontal(pl.col(c).is_not_null() for c in _COUNT))
        .with_columns(pl.coalesce("chip_count", "chip_count_low", "chip_count_high").alias("_n"))
        .sort("as_of_date", "record_id")
        .collect()
    )


def _groups(ids: list[str], links: dict[str, set[str]]) -> list[list[str]]:
    """Connected groups of ``ids`` under the symmetric ``links`` (ids in input order)."""
    seen: set[str] = set()
    out = []
    for start in ids:
        if start in seen:
            continue
        group, todo = [], [start]
        while todo:
            rid = todo.pop()
            if rid in seen:
                continue
            seen.add(rid)
            group.append(rid)
            todo += [x for x in links.get(rid, ()) if x in ids]
        out.append(sorted(group, key=ids.index))
    return out


def _choose(rows: pl.DataFrame, recorded: bool) -> tuple[list[str], list[str]]:
    """Which estimates to keep, and a sentence per decision; without ``recorded``
    overlaps, every pair may overlap."""
    rows = rows.with_columns(pl.col("supersedes", "overlaps").fill_null([]))
    by_id = {r["record_id"]: r for r in rows.iter_rows(named=True)}
    why: list[str] = []
    superseded = {x for r in by_id.values() for x in r["supersedes"]} & set(by_id)
    if superseded:
        why.append(f"{', '.join(sorted(superseded))} superseded by a later estimate")
    ids = [i for i in by_id if i not in superseded]
    if any(by_id[i]["subject"] != "cluster" for i in ids):
        clusters = [i for i in ids if by_id[i]["subject"] == "cluster"]
        if clusters:
            why.append(f"{', '.join(clusters)} (clusters) are part of the lab's chips, "
                       "not added to its holdings or purchases")
        ids = [i for i in ids if i not in clusters]
    links: dict[str, set[str]] = {i: set() for i in ids}
    for i in ids:
        for j in by_id[i]["overlaps"] if recorded else ids:
            if j in links and j != i:
                links[i].add(j)
                links[j].add(i)
    if not recorded and len(ids) > 1:
        why.append("this release does not record which estimates overlap, so none are added")
    kept = []
    for group in _groups(ids, links):
        best = max(group, key=lambda i: (by_id[i]["_n"], by_id[i]["chip_id"] is not None,
                                         by_id[i]["as_of_date"], i))
        kept.append(best)
        if len(group) > 1:
            others = ", ".join(i for i in group if i != best)
            why.append(f"{others} may count the same chips as {best}: kept {best}, the "
                       f"largest ({by_id[best]['_n']:,.0f}), since the others may be part of it")
    return sorted(kept, key=list(by_id).index), why


def best_estimate(lab_compute: Frame, lab_id: str, on: dt.date | str, *,
                  chips: Frame | None = None, n: int = 10_000, seed: int = 0) -> pl.DataFrame:
    """One lab's chips on a date from its non-overlapping estimates, with the reasoning.

    The rules are set out in the module docstring.

    Parameters
    ----------
    lab_compute : DataFrame or LazyFrame
        ``lab_compute`` rows with ``supersedes`` and ``overlaps`` list columns. In a
        release without ``overlaps`` any two estimates may overlap, so only the largest
        is kept (and the reasoning says so).
    lab_id : str
        The lab, e.g. ``"deepseek"``.
    on : date or ISO str
        Estimates dated on or before it count.
    chips : DataFrame or LazyFrame, optional
        ``chips`` rows: adds H100 equivalents (8-bit basis) of the kept estimates that
        name a chip.
    n, seed : int
        Draws per estimate and generator seed.

    Returns
    -------
    polars.DataFrame
        One row: ``lab_id, date, record_ids`` (kept), ``dropped_ids``,
        ``chip_count_p5, chip_count_p50, chip_count_p95``, ``h100e_8bit_p5,
        h100e_8bit_p50, h100e_8bit_p95`` (null without ``chips`` or when a kept estimate
        names no chip) and ``reasoning``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> lc = pl.DataFrame({"record_id": ["LC-1", "LC-2"], "lab_id": ["lab"] * 2,
    ...     "subject": ["holdings", "cluster"], "as_of_date": [dt.date(2024, 1, 1)] * 2,
    ...     "chip_id": [None, None], "chip_count": [10_000, 2_048],
    ...     "chip_count_qualifier": ["at_least", "exact"]},
    ...     schema_overrides={"chip_id": pl.String})
    >>> out = best_estimate(lc, "lab", "2024-06-30")
    >>> out["record_ids"].to_list(), out.item(0, "chip_count_p5") >= 10_000
    ([['LC-1']], True)
    >>> "clusters" in out.item(0, "reasoning")
    True
    """
    on = on if isinstance(on, dt.date) else dt.date.fromisoformat(str(on))
    rows = _candidates(lab_compute, lab_id, on)
    kept, why = _choose(rows, "overlaps" in as_lazy(lab_compute)[0].collect_schema().names())
    use = rows.filter(pl.col("record_id").is_in(kept))
    counts = sum_intervals(use, "chip_count", n=n, seed=seed).row(0, named=True)
    if not rows.height:
        why.append(f"no estimate of {lab_id}'s chips with a count, dated on or before {on}")
    elif len(kept) > 1:
        why.append(f"{', '.join(kept)} count different chips: added by sampling")
    eight: dict[str, Any] = dict.fromkeys(("p5", "p50", "p95"))
    if chips is not None and use.height:
        eight, note = _h100e(use, chips, n, seed)
        why += note
    return pl.DataFrame([{
        "lab_id": lab_id, "date": on, "record_ids": kept,
        "dropped_ids": [r for r in rows.get_column("record_id").to_list() if r not in kept],
        **{f"chip_count_{p}": counts[f"chip_count_{p}"] for p in ("p5", "p50", "p95")},
        **{f"h100e_8bit_{p}": eight[p] for p in ("p5", "p50", "p95")},
        "reasoning": "; ".join(why) or "one estimate",
    }], schema_overrides={"record_ids": pl.List(pl.String), "dropped_ids": pl.List(pl.String),
                          **{f"{m}_{p}": pl.Float64 for m in ("chip_count", "h100e_8bit")
                             for p in ("p5", "p50", "p95")}})


def _h100e(use: pl.DataFrame, chips: Frame, n: int, seed: int) -> tuple[dict, list[str]]:
    """Percentiles of the kept estimates' H100e (8-bit), or nulls and why."""
    import numpy as np

    conv = h100e(use.with_columns(pl.lit(1.0).alias("units")).select("chip_id", "units"), chips)
    per = conv.get_column("h100e_8bit").to_numpy().astype(float)
    if np.isnan(per).any():
        unnamed = use.filter(pl.Series(np.isnan(per))).get_column("record_id").to_list()
        return dict.fromkeys(("p5", "p50", "p95")), [
            f"{', '.join(unnamed)} {'names' if len(unnamed) == 1 else 'name'} no chip with "
            "an 8-bit figure: no H100 equivalents"]
    total = (sample(use, "chip_count", n=n, seed=seed) * per[:, None]).sum(axis=0)
    return dict(zip(("p5", "p50", "p95"), np.percentile(total, [5, 50, 95]).tolist(),
                    strict=True)), []
