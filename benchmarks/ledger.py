"""Seeded synthetic shipment ledgers, shaped exactly like the ``shipments`` contract.

A ledger is a release-shaped set of tables: a large ``shipments`` table plus the small
``sources``, ``entities`` and ``chips`` tables its ids point at (and empty
``control_rules``, ``approvals`` and ``lab_compute``), so that the contracts and the
cross-dataset consistency checks both run on it. Every id is synthetic (``bench_...``)
so no generated row can be mistaken for a curated fact; the shapes are realistic:
about 20 chips from 5 vendors, 500 buyers in 30 countries, twelve record types,
ordered ``units_low <= units <= units_high`` and value triplets, periods of a day to a
year, one to three sources per row.

Tables are written as Parquet to ``benchmarks/.cache/ledger-<rows>-<seed>/`` and reused.

>>> tables = make_ledger(1_000, seed=1)
>>> tables["shipments"].height
1000
>>> bool((tables["shipments"]["units_low"] <= tables["shipments"]["units"]).all())
True
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
RELEASE_DATE = date(2026, 11, 29)

N_CHIPS = 20
N_VENDORS = 5
N_BUYERS = 500
N_SOURCES = 2_000
COUNTRIES = (
    "CN", "HK", "SG", "MY", "TW", "US", "JP", "KR", "IN", "VN", "TH", "ID", "AE", "SA", "DE",
    "NL", "GB", "FR", "IL", "CA", "MX", "BR", "AU", "CH", "SE", "FI", "PL", "TR", "PH", "KZ",
)
DESTINATIONS = (*COUNTRIES, "CN+HK", "non_CN", "unknown")
RECORD_TYPES = (
    "order", "purchase_intent", "delivery", "sales_estimate", "production", "production_halt",
    "inventory", "revenue", "charge", "forgone_revenue", "seizure", "smuggling",
)
RECORD_WEIGHTS = (0.22, 0.05, 0.35, 0.08, 0.06, 0.01, 0.04, 0.08, 0.02, 0.02, 0.03, 0.04)
PRECISIONS = ("day", "month", "quarter", "year")
PRECISION_WEIGHTS = (0.4, 0.35, 0.2, 0.05)
METHODS = ("disclosed", "reported", "estimated", "alleged", "derived")
CONFIDENCE = ("high", "medium", "low")
QUALIFIERS = ("exact", "at_least", "at_most", "approx")
EPOCH = date(1970, 1, 1)
SOURCE_TYPES = ("news_report", "company_filing", "analyst_estimate")


def _day(d: date) -> int:
    return (d - EPOCH).days


def _strings(values: tuple[str, ...] | list[str], idx: np.ndarray) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(pl.Series(idx, dtype=pl.UInt32))


def _lists(values: list[str], idx: np.ndarray, lengths: np.ndarray) -> pl.Series:
    """A ``list[str]`` Series whose i-th list holds ``lengths[i]`` items of ``values[idx]``."""
    import pyarrow as pa

    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = _strings(values, idx[: offsets[-1]]).to_arrow()
    arr = pa.LargeListArray.from_arrays(pa.array(offsets), flat.cast(pa.large_string()))
    return pl.Series(pl.from_arrow(arr)).cast(pl.List(pl.String))


def _pick(rng: np.random.Generator, n: int, k: int,
          p: tuple[float, ...] | None = None) -> np.ndarray:
    probs = None if p is None else np.asarray(p) / np.sum(p)
    return rng.choice(k, size=n, p=probs).astype(np.uint32)


def _triplet(rng: np.random.Generator, central: np.ndarray, *, spread: float) -> tuple:
    """Ordered ``low <= central <= high`` around ``central`` (as float arrays)."""
    low = central * rng.uniform(1 - spread, 1.0, central.size)
    high = central * rng.uniform(1.0, 1 + 2 * spread, central.size)
    return np.floor(low), central, np.ceil(high)


def _masked(values: np.ndarray, null: np.ndarray, dtype: pl.DataType) -> pl.Series:
    return pl.Series(values).cast(dtype).scatter(np.flatnonzero(null), None)


def entity_ids() -> tuple[list[str], list[str]]:
    """Vendor ids and buyer ids of every ledger."""
    vendors = [f"bench_vendor_{i:02d}" for i in range(N_VENDORS)]
    buyers = [f"bench_buyer_{i:03d}" for i in range(N_BUYERS)]
    return vendors, buyers


def chip_ids() -> list[str]:
    return [f"bench_chip_{i:02d}" for i in range(N_CHIPS)]


def source_ids() -> list[str]:
    return [f"bench-{2022 + i % 4}{1 + i % 12:02d}01-s{i:04d}" for i in range(N_SOURCES)]


def make_chips(*, seed: int = 0) -> pl.DataFrame:
    """About 20 synthetic accelerators from 5 vendors, released 2020-2021."""
    from analytics.schemas import columns

    rng = np.random.default_rng(seed + 1)
    vendors, _ = entity_ids()
    bf16 = rng.uniform(100, 2500, N_CHIPS).round(1)
    area = rng.uniform(300, 850, N_CHIPS).round(0)
    basis = "vendor_spec"
    data = {
        "chip_id": chip_ids(),
        "vendor_id": [vendors[i % N_VENDORS] for i in range(N_CHIPS)],
        "model": [f"Bench {i:02d}" for i in range(N_CHIPS)],
        "architecture": [f"arch{i % 4}" for i in range(N_CHIPS)],
        "release_date": [date(2020 + i % 2, 1 + i % 12, 1) for i in range(N_CHIPS)],
        "release_precision": ["month"] * N_CHIPS,
        "china_specific": [i % 3 == 0 for i in range(N_CHIPS)],
        "process_node": ["N4"] * N_CHIPS,
        "bf16_dense_tflops": bf16,
        "bf16_dense_tflops_basis": [basis] * N_CHIPS,
        "fp8_dense_tflops": bf16 * 2,
        "fp8_dense_tflops_basis": [basis] * N_CHIPS,
        "int8_dense_tops": bf16 * 2,
        "int8_dense_tops_basis": [basis] * N_CHIPS,
        "fp4_dense_tflops": [None] * N_CHIPS,
        "fp4_dense_tflops_basis": [None] * N_CHIPS,
        "memory_gb": rng.choice([48.0, 80.0, 96.0, 141.0], N_CHIPS),
        "memory_gb_basis": [basis] * N_CHIPS,
        "memory_type": ["HBM3"] * N_CHIPS,
        "memory_bw_gbps": rng.uniform(1000, 8000, N_CHIPS).round(0),
        "memory_bw_gbps_basis": [basis] * N_CHIPS,
        "interconnect_gbps": rng.choice([400.0, 900.0], N_CHIPS),
        "interconnect_gbps_basis": [basis] * N_CHIPS,
        "tdp_w": rng.uniform(300, 1000, N_CHIPS).round(0),
        "tdp_w_basis": [basis] * N_CHIPS,
        "die_area_mm2": area,
        "die_area_mm2_basis": [basis] * N_CHIPS,
        "tpp_stated": [None] * N_CHIPS,
        "source_ids": [[source_ids()[i]] for i in range(N_CHIPS)],
        "confidence": ["high"] * N_CHIPS,
        "notes": [None] * N_CHIPS,
    }
    return _conform("chips", pl.DataFrame(data, schema_overrides=columns("chips")))


def make_entities() -> pl.DataFrame:
    """5 vendors and 500 buyers spread over 30 countries."""
    vendors, buyers = entity_ids()
    ids = vendors + buyers
    n = len(ids)
    return _conform("entities", pl.DataFrame({
        "entity_id": ids,
        "name": [i.replace("_", " ").title() for i in ids],
        "native_name": [None] * n,
        "kind": ["company"] * len(vendors) + [("lab", "company")[i % 2] for i in range(N_BUYERS)],
        "country": ["US"] * len(vendors) + [COUNTRIES[i % len(COUNTRIES)] for i in range(N_BUYERS)],
        "parent_id": [None] * n,
        "aliases": [[] for _ in range(n)],
        "notes": [None] * n,
    }))


def make_sources() -> pl.DataFrame:
    """2,000 sources published 2022-2025, all public before the ledger's release date."""
    ids = source_ids()
    n = len(ids)
    published = [date(2022 + i % 4, 1 + i % 12, 1) for i in range(n)]
    return _conform("sources", pl.DataFrame({
        "source_id": ids,
        "title": [f"Synthetic source {i}" for i in range(n)],
        "publisher": ["Bench Wire"] * n,
        "url": [f"https://example.org/bench/{i}" for i in range(n)],
        "published_date": published,
        "date_precision": ["month"] * n,
        "accessed_date": [RELEASE_DATE] * n,
        "source_type": [SOURCE_TYPES[i % 3] for i in range(n)],
        "language": ["en"] * n,
        "quote": [f"Synthetic quote number {i}." for i in range(n)],
        "notes": [None] * n,
    }))


def make_shipments(rows: int, *, seed: int = 0) -> pl.DataFrame:
    """A shipments ledger of ``rows`` rows, columns and dtypes exactly as the contract.

    Record ids are ``SHP-`` and a zero-padded number of at least three digits.
    """
    rng = np.random.default_rng(seed)
    n = int(rows)
    vendors, buyers = entity_ids()
    chips, sources = chip_ids(), source_ids()
    width = max(3, len(str(max(n - 1, 0))))

    # periods: start 2022-01-01 .. 2026-09-30 (after every chip's release), end within a year
    start = rng.integers(_day(date(2022, 1, 1)), _day(date(2026, 9, 30)), n)
    prec = _pick(rng, n, len(PRECISIONS), PRECISION_WEIGHTS)
    length = np.array([0, 30, 90, 364], dtype=np.int64)[prec]
    end = start + length

    # chip ids: one chip mostly, two distinct chips sometimes, none (a product line) rarely
    n_chips = rng.choice([0, 1, 2], size=n, p=[0.03, 0.87, 0.10])
    first_chip = rng.integers(0, N_CHIPS, n)
    second_chip = (first_chip + rng.integers(1, N_CHIPS, n)) % N_CHIPS
    starts = np.concatenate([[0], np.cumsum(n_chips)[:-1]]).astype(np.int64)
    chip_idx = np.zeros(int(n_chips.sum()) + 1, dtype=np.int64)
    chip_idx[starts[n_chips > 0]] = first_chip[n_chips > 0]
    chip_idx[starts[n_chips == 2] + 1] = second_chip[n_chips == 2]
    vendor = first_chip % N_VENDORS

    # buyers: one named buyer mostly, a group of 2-4 sometimes, none (an aggregate) sometimes
    n_buyers = rng.choice([0, 1, 2, 3, 4], size=n, p=[0.10, 0.78, 0.06, 0.04, 0.02])
    buyer_idx = rng.zipf(1.3, int(n_buyers.sum()) + 1) % N_BUYERS
    scope = np.where(n_buyers > 1, rng.integers(0, 2, n), -1)

    # units and value triplets; some rows give only a range, some give no units at all
    units = np.round(rng.lognormal(7.0, 1.6, n))
    u_low, u_mid, u_high = _triplet(rng, units, spread=0.4)
    range_only = rng.random(n) < 0.15
    no_units = rng.random(n) < 0.08
    price = rng.uniform(8_000, 40_000, n)
    v_low, v_mid, v_high = u_low * price * 0.9, u_mid * price, u_high * price * 1.1
    no_value = rng.random(n) < 0.5

    n_src = rng.choice([1, 2, 3], size=n, p=[0.7, 0.2, 0.1])
    src_idx = rng.integers(0, N_SOURCES, int(n_src.sum()))

    rid = pl.Series(np.arange(n, dtype=np.int64)).cast(pl.String).str.zfill(width)
    df = pl.DataFrame({
        "record_id": ("SHP-" + rid) if n else rid,
        "record_type": _strings(RECORD_TYPES, _pick(rng, n, len(RECORD_TYPES), RECORD_WEIGHTS)),
        "period_start": pl.Series(start).cast(pl.Int32).cast(pl.Date),
        "period_end": pl.Series(end).cast(pl.Int32).cast(pl.Date),
        "period_precision": _strings(PRECISIONS, prec),
        "chip_ids": _lists(chips, chip_idx, n_chips),
        "product_scope": _strings([f"accelerator family {i}" for i in range(8)], first_chip % 8),
        "vendor_id": _strings(vendors, vendor),
        "buyer_ids": _lists(buyers, buyer_idx, n_buyers),
        "buyer_scope": _strings(["named buyer", "named buyers", "unnamed customers"],
                                np.minimum(n_buyers, 2).astype(np.uint32)),
        "quantity_scope": _strings(["per_entity", "combined", ""], np.where(scope < 0, 2, scope)),
        "destination": _strings(DESTINATIONS, _pick(rng, n, len(DESTINATIONS),
                                                   (8, 3, 2, 2, 2) + (1,) * 25 + (2, 2, 2))),
        "units_low": _masked(u_low, no_units, pl.Int64),
        "units": _masked(u_mid, no_units | range_only, pl.Int64),
        "units_high": _masked(u_high, no_units, pl.Int64),
        "units_qualifier": _strings(QUALIFIERS, _pick(rng, n, 4, (5, 2, 1, 2))),
        "value_usd_low": _masked(v_low, no_value, pl.Float64),
        "value_usd": _masked(v_mid, no_value, pl.Float64),
        "value_usd_high": _masked(v_high, no_value, pl.Float64),
        "value_qualifier": _strings(QUALIFIERS, _pick(rng, n, 4, (5, 2, 1, 2))),
        "method": _strings(METHODS, _pick(rng, n, len(METHODS), (3, 4, 3, 1, 1))),
        "source_ids": _lists(sources, src_idx, n_src),
        "confidence": _strings(CONFIDENCE, _pick(rng, n, 3, (3, 5, 2))),
        "notes": _strings(["", "figure rounded by the source", "range from two reports"],
                          _pick(rng, n, 3, (90, 5, 5))),
    })
    df = df.with_columns(
        pl.col("quantity_scope", "notes").replace("", None),
        pl.when(pl.col("units").is_null() & pl.col("units_low").is_null())
        .then(None).otherwise(pl.col("units_qualifier")).alias("units_qualifier"),
        pl.when(pl.col("value_usd_low").is_null())
        .then(None).otherwise(pl.col("value_qualifier")).alias("value_qualifier"),
    )
    return _conform("shipments", df)


def empty_table(name: str) -> pl.DataFrame:
    """An empty frame with the columns and dtypes of dataset ``name``."""
    from analytics.schemas import columns

    return pl.DataFrame(schema=columns(name))


def _conform(name: str, df: pl.DataFrame) -> pl.DataFrame:
    from analytics.schemas import columns, with_optional_columns

    df = with_optional_columns(name, df)  # optional columns it does not make: empty
    return df.select([pl.col(c).cast(t) for c, t in columns(name).items()])


def make_ledger(rows: int, *, seed: int = 0) -> dict[str, pl.DataFrame]:
    """Every dataset of a synthetic release whose ``shipments`` has ``rows`` rows."""
    tables = {
        "sources": make_sources(),
        "entities": make_entities(),
        "chips": make_chips(seed=seed),
        "control_rules": empty_table("control_rules"),
        "approvals": empty_table("approvals"),
        "shipments": make_shipments(rows, seed=seed),
        "lab_compute": empty_table("lab_compute"),
    }
    return tables


def ledger_dir(rows: int, *, seed: int = 0, cache: Path | None = None) -> Path:
    """Folder holding the ledger of ``rows`` rows as ``<dataset>.parquet``; written once.

    Ledgers above 1e7 rows are written in parts of 1e7 rows
    (``shipments/part-0000.parquet`` ...) so that they never sit in memory whole.
    """
    root = (cache or CACHE_DIR) / f"ledger-{int(rows)}-{seed}"
    done = root / ".complete"
    if done.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    chunk = 10_000_000
    for name, df in make_ledger(0 if rows > chunk else rows, seed=seed).items():
        if name == "shipments" and rows > chunk:
            continue
        df.sort(df.columns[0]).write_parquet(root / f"{name}.parquet")
    if rows > chunk:
        parts = root / "shipments"
        parts.mkdir(exist_ok=True)
        for k, first in enumerate(range(0, int(rows), chunk)):
            df = make_shipments(min(chunk, int(rows) - first), seed=seed + k)
            # ids must stay unique across parts
            width = max(3, len(str(int(rows) - 1)))
            ids = pl.int_range(first, first + df.height, eager=True)
            ids = ids.cast(pl.String).str.zfill(width)
            df.with_columns(record_id="SHP-" + ids).write_parquet(parts / f"part-{k:04d}.parquet")
            del df
    done.touch()
    return root


def shipments_path(root: Path) -> Path | str:
    """What ``pl.scan_parquet`` needs to read a ledger's shipments (a file or a glob)."""
    parts = root / "shipments"
    return str(parts / "*.parquet") if parts.is_dir() else root / "shipments.parquet"


def read_tables(root: Path, *, lazy: bool = False) -> dict[str, pl.DataFrame | pl.LazyFrame]:
    """The ledger's tables, collected (default) or as LazyFrames."""
    from analytics.schemas import DATASETS, OPTIONAL_DATASETS

    out: dict[str, pl.DataFrame | pl.LazyFrame] = {}
    for name in DATASETS:
        path = shipments_path(root) if name == "shipments" else root / f"{name}.parquet"
        if name in OPTIONAL_DATASETS and not Path(path).exists():
            continue  # a ledger holds the datasets of the first releases
        lf = pl.scan_parquet(path)
        out[name] = lf if lazy else lf.collect()
    return out
