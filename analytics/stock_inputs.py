"""What enters the stock model: records, their units and chips, quarters and the useful life.

:func:`stock_derivations` shows, for every ``shipments`` row with a ``stock_channel``,
how it enters :func:`analytics.stock.compute_stock` (whose docstring sets out the
rules): whether its units come from the units triplet or from value / a sourced price,
which chips it counts as, and why a record is left out.

>>> quarter_label(2026 * 4)
'2026Q1'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from analytics.bounds import draws as draws_of
from analytics.bounds import shapes
from analytics.fleet import REFERENCE_CHIP, basis_figure, reference_figure
from analytics.vocab import QUALIFIER_SPELLINGS, STOCK_CHANNELS

CHANNELS = STOCK_CHANNELS
FIRST_QUARTER, LAST_QUARTER = "2022Q1", "2026Q4"
#: ``parameters.name`` of the useful-life assumption behind retirement.
USEFUL_LIFE = "ai_accelerator_useful_life_years"
BASIS = "8bit"
MEASURES = ("units", "h100e", "flops")
#: Channels whose unnamed chips are any of the vendor's parts that are not China-specific.
_NOT_CHINA_SPECIFIC = ("smuggled", "exported_pre_control")
_TRIPLETS = ("units_low", "units", "units_high", "units_qualifier", "value_usd_low",
             "value_usd", "value_usd_high", "value_qualifier")


# --------------------------------------------------------------------------- quarters
def quarter_label(index: int) -> str:
    """A quarter number (``year x 4 + quarter - 1``) as text.

    Parameters
    ----------
    index : int
        The quarter number, e.g. from :func:`quarter_index`.

    Returns
    -------
    str
        ``"2025Q4"`` and the like.

    Examples
    --------
    >>> quarter_label(2025 * 4 + 3)
    '2025Q4'
    """
    return f"{index // 4}Q{index % 4 + 1}"


def quarter_index(label: str) -> int:
    """The quarter number of a label such as ``"2025Q4"`` (the inverse of :func:`quarter_label`).

    Parameters
    ----------
    label : str
        ``"2025Q4"`` and the like.

    Returns
    -------
    int
        ``year x 4 + quarter - 1``.

    Examples
    --------
    >>> quarter_label(quarter_index("2025Q4"))
    '2025Q4'
    """
    return int(label[:4]) * 4 + int(label[5]) - 1


def _day(d: Any) -> np.datetime64:
    return np.datetime64(d, "D")


def _quarter_start(index: int) -> np.datetime64:
    return _day(dt.date(index // 4, index % 4 * 3 + 1, 1))


def _weights(starts: Any, ends: Any, first: int, last: int) -> np.ndarray:
    """Share of each period (inclusive days) in each quarter ``first..last``: (rows, Q)."""
    bounds = np.array([_quarter_start(q) for q in range(first, last + 2)])
    ps = np.asarray(starts, dtype="datetime64[D]")[:, None]
    pe = np.asarray(ends, dtype="datetime64[D]")[:, None] + 1
    days = (np.minimum(pe, bounds[None, 1:]) - np.maximum(ps, bounds[None, :-1])).astype(float)
    days = np.clip(days, 0, None)
    return days / np.maximum((pe - ps).astype(float), 1.0)


# --------------------------------------------------------------------------- inputs
def missing_stock_inputs(tables: Mapping[str, pl.DataFrame | None]) -> list[str]:
    """What the stock model needs that ``tables`` lack (empty when it can run).

    Releases cut before the stock inputs existed have no ``parameters`` and no
    ``shipments.stock_channel``: the notebook says so and shows what it can.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        The datasets of one release.

    Returns
    -------
    list of str
        A phrase per missing input.

    Examples
    --------
    >>> import polars as pl
    >>> missing_stock_inputs({"shipments": pl.DataFrame({"record_id": ["SHP-001"]})})[:2]
    ['the parameters dataset (prices, the useful-life assumption)', 'shipments.stock_channel']
    """
    out = []
    params, shp = tables.get("parameters"), tables.get("shipments")
    if params is None:
        out.append("the parameters dataset (prices, the useful-life assumption)")
    elif not params.filter(pl.col("name") == USEFUL_LIFE).height:
        out.append(f"the {USEFUL_LIFE} row of parameters")
    if shp is None or "stock_channel" not in shp.columns:
        out.append("shipments.stock_channel")
    elif not shp.get_column("stock_channel").is_not_null().any():
        out.append("shipments rows with a stock_channel")
    out += [f"the {n} dataset" for n in ("chips", "approvals") if tables.get(n) is None]
    return out


def _chip_figures(chips: pl.DataFrame) -> dict[str, tuple[float, float]]:
    """Per chip with both figures: (H100e per unit on the 8-bit basis, BF16 FLOP/s per unit)."""
    cols = [c for c in ("bf16_dense_tflops", "fp8_dense_tflops", "int8_dense_tops")
            if c not in chips.columns]
    figs = chips.with_columns(pl.lit(None, dtype=pl.Float64).alias(c) for c in cols).select(
        "chip_id", basis_figure(BASIS).alias("h"),
        (pl.col("bf16_dense_tflops").cast(pl.Float64) * 1e12).alias("f")).rows()
    ref = next((h for c, h, _ in figs if c == REFERENCE_CHIP and h), None)
    if ref is None:
        ref = reference_figure(chips, BASIS)  # raises, naming what is missing
    return {c: (h / ref, f) for c, h, f in figs if h is not None and f is not None}


def _chips_of(rec: dict, chips: list[dict], figures: dict) -> tuple[list[str], str]:
    """The chips a record counts as, and how they were chosen (``chips``: table rows)."""
    named = [c for c in rec["chip_ids"] or [] if c]
    if named:
        return named, "the named chip" if len(named) == 1 else "any mix of the named chips"
    start, channel = rec["period_start"], rec["stock_channel"]
    ids = [c["chip_id"] for c in chips
           if c["vendor_id"] == rec["vendor_id"] and c["release_date"] is not None
           and c["release_date"] < start and c["chip_id"] in figures
           and not (channel in _NOT_CHINA_SPECIFIC and c["china_specific"])
           and not (channel == "china_specific" and not c["china_specific"])]
    return ids, f"no chip named: any mix of {rec['vendor_id']}'s parts released before {start}"


def _price(rec: dict, prices: list[dict]) -> dict | None:
    """The price row for a value-only record: its one chip, the most overlapping period."""
    if len(rec["chip_ids"] or []) != 1:
        return None
    ps, pe = rec["period_start"], rec["period_end"]
    best, best_days = None, 0
    for row in (r for r in prices if r["chip_id"] == rec["chip_ids"][0]):
        days = (min(pe, row["period_end"]) - max(ps, row["period_start"])).days + 1
        if days > best_days or (days == best_days and best and row["period_start"]
                                > best["period_start"]):
            best, best_days = row, days
    return best


@dataclass
class Prepared:
    """The model's inputs as arrays: one row per usable record, one column per draw.

    Made by :func:`prepare`; read by :func:`analytics.stock.compute_stock`.
    """

    rows: list[dict]  # stock_derivations without the sampled columns, one per record
    used: np.ndarray  # mask of usable ``rows``
    units: np.ndarray  # (R, N) units of the usable records
    per_unit: np.ndarray  # (2, R, N) H100e and FLOP/s per unit
    channel: np.ndarray  # (R,) channel index
    weights: np.ndarray  # (R, Q) share of each flow in each quarter
    life: np.ndarray  # (N,) useful life in years
    first: int  # quarter number of column 0 of ``weights``
    figures: dict[str, tuple[float, float]]


def _records(tables: Mapping[str, pl.DataFrame]) -> list[dict]:
    shp = tables["shipments"]
    shp = shp.with_columns(pl.lit(None, dtype=pl.String).alias(c)
                           for c in _TRIPLETS if c not in shp.columns)
    return (shp.filter(pl.col("stock_channel").is_not_null())
            .select("record_id", "stock_channel", "period_start", "period_end", "chip_ids",
                    "vendor_id", *_TRIPLETS)
            .sort("record_id").rows(named=True))


def _describe(rec: dict, prices: list[dict], chips: list[dict], figures: dict) -> dict:
    """How one record enters the model (a row of :func:`stock_derivations`)."""
    ids, how = _chips_of(rec, chips, figures)
    have = [figures[c] for c in ids if c in figures]
    out = {"record_id": rec["record_id"], "channel": rec["stock_channel"],
           "period_start": rec["period_start"], "period_end": rec["period_end"],
           "chips": ids, "chips_how": how, "price_id": None, "units_from": None,
           "h100e_per_unit_low": min((h for h, _ in have), default=None),
           "h100e_per_unit_high": max((h for h, _ in have), default=None),
           "flops_per_unit_low": min((f for _, f in have), default=None),
           "flops_per_unit_high": max((f for _, f in have), default=None), "reason": None}
    has_units = any(rec[c] is not None for c in ("units_low", "units", "units_high"))
    has_value = any(rec[c] is not None for c in ("value_usd_low", "value_usd", "value_usd_high"))
    word = {k: QUALIFIER_SPELLINGS.get(rec[k] or "exact", rec[k] or "exact")
            for k in ("units_qualifier", "value_qualifier")}
    if has_units:
        out["units_from"] = f"units ({word['units_qualifier']})"
    elif has_value:
        price = _price(rec, prices)
        if price is None:
            out["reason"] = "only a value, and no sourced price of its one chip for its period"
        else:
            out["price_id"] = price["parameter_id"]
            out["units_from"] = (f"value_usd ({word['value_qualifier']}) / price "
                                 f"{price['parameter_id']} ({price['value_qualifier'] or 'exact'})")
    else:
        out["reason"] = "no units and no value"
    if out["reason"] is None and not have:
        out["reason"] = "no chip with dense 8-bit and BF16 figures to convert it"
    return out


#: Columns of :func:`stock_derivations` before the sampled ones.
DERIVATION_SCHEMA = {
    "record_id": pl.String, "channel": pl.String, "period_start": pl.Date,
    "period_end": pl.Date, "chips": pl.List(pl.String), "chips_how": pl.String,
    "price_id": pl.String, "units_from": pl.String, "h100e_per_unit_low": pl.Float64,
    "h100e_per_unit_high": pl.Float64, "flops_per_unit_low": pl.Float64,
    "flops_per_unit_high": pl.Float64, "reason": pl.String,
}


_UNITS = ("units_low", "units", "units_high", "units_qualifier")
_VALUE = ("value_usd_low", "value_usd", "value_usd_high", "value_qualifier")
_PARAM = ("value_low", "value", "value_high", "value_qualifier")


def _units(recs: list[dict], rows: list[dict], params: list[dict], n: int,
           seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Units draws of the usable records (the units triplet, or value / price) and the
    useful life's draws: one draw of every quantity under its qualifier
    (:func:`analytics.uncertainty.shapes`), in one block."""
    by_id = {p["parameter_id"]: p for p in params}
    life = next(p for p in params if p["name"] == USEFUL_LIFE)
    by_units = np.array([r["price_id"] is None for r in rows], dtype=bool)
    items = ([[rec[c] for c in _UNITS] for rec, u in zip(recs, by_units, strict=True) if u]
             + [[rec[c] for c in _VALUE] for rec, u in zip(recs, by_units, strict=True) if not u]
             + [[by_id[r["price_id"]][c] for c in _PARAM] for r in rows if r["price_id"]]
             + [[life[c] for c in _PARAM]])
    lo, c, hi = (np.array([x[i] for x in items], dtype=float) for i in range(3))
    shape = shapes(lo, c, hi, [x[3] for x in items])
    out_all = draws_of(np.random.default_rng(seed).standard_normal((len(items), n)), shape)
    n_units, n_value = int(by_units.sum()), int((~by_units).sum())
    out = np.empty((len(recs), n))
    out[by_units] = out_all[:n_units]
    out[~by_units] = out_all[n_units:n_units + n_value] / out_all[n_units + n_value:-1]
    return out, out_all[-1]


def prepare(tables: Mapping[str, pl.DataFrame], draws: int, seed: int) -> Prepared:
    """Every record's draws: units, per-unit H100e and FLOP/s, quarter shares, useful life.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        ``shipments``, ``parameters``, ``chips`` (and ``approvals``) of one release.
    draws, seed : int
        Draws per quantity and the generator seed (each quantity has its own offset).

    Returns
    -------
    Prepared

    Raises
    ------
    ValueError
        The tables predate the stock inputs (:func:`missing_stock_inputs`).

    Examples
    --------
    >>> import analytics
    >>> prep = prepare(analytics.Release.open("draft").tables(), 100, 0)
    >>> prep.units.shape[1], bool(prep.life.min() >= 5.0)
    (100, True)
    """
    missing = missing_stock_inputs(tables)
    if missing:
        raise ValueError(f"the stock model needs {'; '.join(missing)}: these tables predate "
                         "the stock inputs (a release cut before them cannot give the stock)")
    chips, params = tables["chips"], tables["parameters"]
    figures = _chip_figures(chips)
    param_rows = params.rows(named=True)
    prices = [p for p in param_rows if p["kind"] == "price"]
    chip_rows = chips.select("chip_id", "vendor_id", "release_date",
                             pl.col("china_specific").fill_null(False)).rows(named=True)
    recs = _records(tables)
    rows = [_describe(r, prices, chip_rows, figures) for r in recs]
    used = np.array([r["reason"] is None for r in rows], dtype=bool)
    ok = [r for r, u in zip(rows, used, strict=True) if u]
    recs = [r for r, u in zip(recs, used, strict=True) if u]
    units, life = _units(recs, ok, param_rows, draws, seed)
    mix = np.random.default_rng(seed + 3).random(units.shape)  # the chip mix, per draw
    per_unit = np.stack([
        lo[:, None] + mix * (hi - lo)[:, None]
        for lo, hi in ((np.array([r[f"{m}_per_unit_low"] for r in ok], dtype=float),
                        np.array([r[f"{m}_per_unit_high"] for r in ok], dtype=float))
                       for m in MEASURES[1:])
    ]).reshape(2, len(ok), draws)
    starts = [r["period_start"] for r in ok]
    first = min([quarter_index(FIRST_QUARTER)] + [d.year * 4 + (d.month - 1) // 3 for d in starts])
    return Prepared(
        rows=rows, used=used, units=units, per_unit=per_unit,
        channel=np.array([CHANNELS.index(r["channel"]) for r in ok], dtype=int),
        weights=_weights(starts, [r["period_end"] for r in ok], first,
                         quarter_index(LAST_QUARTER)).reshape(len(ok), -1),
        life=life, first=first, figures=figures,
    )


def stock_tables(tables: Mapping[str, pl.DataFrame] | None, release: str | None) -> dict:
    """The tables the model reads: those given, or those of ``release`` opened explicitly.

    Parameters
    ----------
    tables : mapping of str to DataFrame, optional
    release : str, optional
        Opened through :meth:`analytics.Release.open` when ``tables`` is ``None``; a
        dataset the release lacks (``parameters`` before it existed) is left out.

    Returns
    -------
    dict of str to DataFrame

    Examples
    --------
    >>> sorted(stock_tables(None, "2026-11-29"))
    ['approvals', 'chips', 'shipments']
    """
    if tables is not None:
        return dict(tables)
    if release is None:
        raise TypeError("pass the tables of one release, or release= to open one")
    from analytics.release import Release

    rel = Release.open(release)
    names = ("shipments", "parameters", "chips", "approvals")
    return {n: rel.table(n) for n in names if n in rel.names}


def stock_derivations(
    tables: Mapping[str, pl.DataFrame] | None = None,
    *,
    release: str | None = None,
    draws: int = 2000,
    seed: int = 0,
) -> pl.DataFrame:
    """How every record with a ``stock_channel`` enters :func:`compute_stock`.

    Parameters
    ----------
    tables : mapping of str to DataFrame, optional
        As in :func:`compute_stock`.
    release : str, optional
        As in :func:`compute_stock`.
    draws, seed : int
        As in :func:`compute_stock` (the same seed gives the same record draws).

    Returns
    -------
    polars.DataFrame
        One row per record: ``record_id, channel, period_start, period_end, chips,
        chips_how`` (named, a mix, or the vendor's parts), ``price_id`` and
        ``units_from`` (the units triplet, or value / the price used), per-unit H100e
        and FLOP/s bounds of the chip mix, ``reason`` (why a record is left out, else
        null) and the record's own ``units_p5, units_p50, units_p95`` (null when left
        out).

    Examples
    --------
    >>> d = stock_derivations(release="draft", draws=200)
    >>> d.filter(pl.col("price_id").is_not_null()).height > 0
    True
    """
    tables = stock_tables(tables, release)
    prep = prepare(tables, draws, seed)
    pct = np.full((len(prep.rows), 3), np.nan)
    if prep.used.any():
        pct[prep.used] = np.percentile(prep.units, [5, 50, 95], axis=1).T
    return pl.DataFrame(prep.rows, schema=DERIVATION_SCHEMA).with_columns(
        pl.Series(f"units_{p}", pct[:, i], nan_to_null=True)
        for i, p in enumerate(("p5", "p50", "p95"))
    )
