"""The package functions each benchmark times, found at run time.

A function that is missing, or that cannot do what a benchmark needs, raises
:class:`NotAvailable` with the reason, and the benchmark prints it instead of crashing.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from datetime import date

import polars as pl

from benchmarks import baselines

RELEASE_DATE = date(2026, 11, 29)
QUARTER_KEYS = ["quarter", "buyers", "chips"]


class NotAvailable(Exception):
    """The package does not (yet) offer what the benchmark needs."""


def module(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            raise NotAvailable(f"{name} does not exist yet") from exc
        raise


@contextlib.contextmanager
def ledger_contract() -> Iterator[str]:
    """The ``shipments`` contract, with ``record_id`` widened if it rejects large ledgers.

    Yields a note: empty when the real contract is used unchanged.
    """
    import pandera.polars as pa

    schemas = module("analytics.schemas")
    real = schemas.SCHEMAS["shipments"]
    probe = pl.DataFrame({"record_id": ["SHP-1000000"]})
    pattern = real.to_schema().columns["record_id"]
    try:
        pattern.validate(probe)
        yield ""
        return
    except Exception:  # noqa: BLE001 - any rejection means ledgers > 999 rows cannot pass
        pass

    class LedgerShipments(real):  # same checks; only the id may have more than 3 digits
        record_id: str = pa.Field(unique=True, str_matches=r"^SHP-\d{3,}$",
                                  description="Stable id")

    schemas.SCHEMAS["shipments"] = LedgerShipments
    try:
        yield r"record_id widened to ^SHP-\d{3,}$"
    finally:
        schemas.SCHEMAS["shipments"] = real


def contracts(tables: dict[str, pl.DataFrame]) -> list:
    """``analytics.schemas.validate`` on every table; every finding."""
    schemas = module("analytics.schemas")
    findings: list = []
    for name, df in tables.items():
        findings += schemas.validate(name, df)[1]
    return findings


def consistency(tables: dict[str, pl.DataFrame | pl.LazyFrame]) -> list:
    mod = module("analytics.consistency")
    if not hasattr(mod, "check"):
        raise NotAvailable("analytics.consistency has no check(tables, release_date=...)")
    return mod.check(tables, release_date=RELEASE_DATE)


def validate(tables: dict[str, pl.DataFrame]) -> list:
    """Contracts plus cross-dataset consistency: what ``chip-supply validate`` runs."""
    return contracts(tables) + consistency(tables)


def quarterly(shipments: pl.DataFrame | pl.LazyFrame, *, n: int, seed: int = 0) -> tuple:
    """The package's quarterly aggregation with intervals, and a note on how it was done."""
    for mod_name, fn_name in (("analytics.compute", "quarterly"),
                              ("analytics.uncertainty", "quarterly"),
                              ("analytics.compute", "aggregate_quarterly")):
        with contextlib.suppress(NotAvailable):
            fn = getattr(module(mod_name), fn_name, None)
            if fn is not None:
                return fn(shipments, n=n, seed=seed), f"{mod_name}.{fn_name}"
    unc = module("analytics.uncertainty")
    if not hasattr(unc, "sum_intervals"):
        raise NotAvailable("analytics.uncertainty has no sum_intervals")
    keyed = baselines.quarter_keys(shipments.lazy())
    out = unc.sum_intervals(keyed, "units", by=QUARTER_KEYS, n=n, seed=seed)
    return out, "uncertainty.sum_intervals on benchmark quarter keys"


def sum_intervals(df: pl.DataFrame, stem: str, *, n: int, seed: int = 0) -> pl.DataFrame:
    unc = module("analytics.uncertainty")
    if not hasattr(unc, "sum_intervals"):
        raise NotAvailable("analytics.uncertainty has no sum_intervals")
    return unc.sum_intervals(df, stem, n=n, seed=seed)


def release_validator():
    """The in-process function behind ``chip-supply validate --release R``."""
    quality = module("analytics.quality")
    for name in ("validate_release", "run_release", "validate", "run"):
        fn = getattr(quality, name, None)
        if callable(fn):
            return fn, f"analytics.quality.{name}"
    raise NotAvailable("analytics.quality offers no validate_release(release) function")


def latest_release() -> str:
    datasets = module("analytics.datasets")
    try:
        known = datasets.releases()
    except Exception as exc:  # noqa: BLE001
        raise NotAvailable(f"analytics.datasets.releases() failed: {exc}") from exc
    if not known:
        raise NotAvailable("no release under data/releases/ yet")
    return known[-1]


def release_tables(release: str) -> dict[str, pl.DataFrame]:
    """Every table of a release, read from its Parquet files (no validation)."""
    paths = module("analytics.paths")
    schemas = module("analytics.schemas")
    folder = paths.release_dir(release)
    out = {}
    for name in schemas.DATASETS:
        f = folder / f"{name}.parquet"
        if not f.exists():
            raise NotAvailable(f"release {release} has no {name}.parquet")
        out[name] = pl.read_parquet(f)
    return out
