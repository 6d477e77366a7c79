"""Shared fixtures: the test data and throwaway data roots built from it.

``tests/corpus/base/`` is a valid folder of real-looking rows (the corpus cases and the
validation tests start from it: :data:`BASE`, :func:`base_tables`); ``_ROWS`` below are
tiny tables whose sources become public at chosen dates, for snapshots and releases.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest

D = dt.date
BASE = Path(__file__).parent / "corpus" / "base"
EARLY = "test-20260110-early"  # public on 2026-01-10
MONTH = "test-202601-month"  # dated January 2026: public only from 2026-01-31
LATE = "test-20260301-late"  # public on 2026-03-01
UNDATED = "test-undated-page"  # undated: public from its accessed date, 2026-11-29

_ROWS: dict[str, list[dict]] = {
    "sources": [
        {"source_id": EARLY, "title": "Early report", "publisher": "Test Wire",
         "url": "https://example.org/early", "published_date": D(2026, 1, 10),
         "date_precision": "day", "source_type": "news_report", "quote": "early"},
        {"source_id": MONTH, "title": "Monthly note", "publisher": "Test Wire",
         "url": "https://example.org/month", "published_date": D(2026, 1, 1),
         "date_precision": "month", "source_type": "analyst_estimate", "quote": "month"},
        {"source_id": LATE, "title": "Late filing", "publisher": "Test Corp",
         "url": "https://example.org/late", "published_date": D(2026, 3, 1),
         "date_precision": "day", "source_type": "company_filing", "quote": "late"},
        {"source_id": UNDATED, "title": "Undated page", "publisher": "Test Blog",
         "url": "https://example.org/undated", "published_date": None,
         "date_precision": "undated", "source_type": "secondary", "quote": "undated"},
    ],
    "entities": [
        {"entity_id": "vendor_a", "name": "Vendor A", "kind": "company", "country": "US",
         "aliases": ["Vendor A Inc", "VA"]},
        {"entity_id": "lab_b", "name": "Lab B", "native_name": "乙实验室", "kind": "lab",
         "country": "CN", "aliases": []},
        {"entity_id": "us_reg", "name": "US Regulator", "kind": "regulator", "country": "US",
         "parent_id": "vendor_a", "aliases": []},
    ],
    "chips": [
        {"chip_id": "vendor_a_x1", "vendor_id": "vendor_a", "model": "X1",
         "release_date": D(2025, 6, 1), "release_precision": "month", "china_specific": False,
         "bf16_dense_tflops": 989.4, "bf16_dense_tflops_basis": "vendor_spec",
         "memory_bw_gbps": 4800.0, "memory_bw_gbps_basis": "vendor_spec",
         "source_ids": [EARLY], "confidence": "high"},
        {"chip_id": "vendor_a_x1c", "vendor_id": "vendor_a", "model": "X1C",
         "release_date": None, "release_precision": "unknown", "china_specific": True,
         "source_ids": [LATE], "confidence": "medium"},
    ],
    "control_rules": [
        {"rule_id": "us_test_2025", "clause": "3A090.a", "rule_name": "Test rule",
         "jurisdiction": "US", "authority_id": "us_reg", "published_date": D(2025, 1, 2),
         "effective_date": D(2025, 1, 2), "clause_kind": "classification",
         "eccn_class": "3A090.a", "applies_to": [], "tpp_min": 4800.0, "destinations": [],
         "rule_text": "TPP of 4800 or more", "source_ids": [EARLY], "confidence": "high"},
        {"rule_id": "us_test_2025", "clause": "policy", "rule_name": "Test rule",
         "jurisdiction": "US", "authority_id": "us_reg", "published_date": D(2025, 1, 2),
         "effective_date": D(2025, 1, 2), "clause_kind": "licence_policy",
         "applies_to": ["3A090.a"], "licence_policy": "licence_required", "destinations": ["CN"],
         "rule_text": "A licence is required", "source_ids": [LATE], "confidence": "high"},
    ],
    "approvals": [
        {"event_id": "APR-001", "date": D(2026, 1, 5), "date_precision": "day",
         "jurisdiction": "CN", "authority_ids": ["us_reg"], "authority_reported": "Regulator",
         "action": "approve", "chip_ids": ["vendor_a_x1"], "subject_other": [],
         "entity_ids": ["lab_b", "vendor_a"], "quantity_units": 400000,
         "quantity_qualifier": "at_least", "quantity_scope": "combined",
         "status_as_reported": "reported",
         "summary": "Approved at least 400,000", "source_ids": [EARLY], "confidence": "medium"},
        {"event_id": "APR-002", "date": D(2026, 1, 20), "date_precision": "day",
         "jurisdiction": "US", "authority_ids": ["us_reg"], "authority_reported": "Regulator",
         "action": "license_required", "chip_ids": [], "subject_other": ["class a"],
         "entity_ids": [], "status_as_reported": "official", "summary": "Licence required",
         "source_ids": [EARLY, LATE], "confidence": "high"},
        {"event_id": "APR-003", "date": D(2026, 2, 27), "date_precision": "month",
         "jurisdiction": "US", "authority_ids": ["us_reg"], "authority_reported": "Regulator",
         "action": "deny", "chip_ids": ["vendor_a_x1c"], "subject_other": [],
         "entity_ids": ["lab_b"], "status_as_reported": "reported", "summary": "Denied",
         "source_ids": [LATE], "confidence": "low"},
    ],
    "shipments": [
        {"record_id": "SHP-001", "record_type": "order", "period_start": D(2026, 1, 1),
         "period_end": D(2026, 1, 31), "period_precision": "month", "chip_ids": ["vendor_a_x1"],
         "product_scope": "X1", "vendor_id": "vendor_a", "buyer_ids": ["lab_b"],
         "buyer_scope": "Lab B", "quantity_scope": "per_entity", "destination": "CN",
         "units_low": 1000, "units": 2000, "units_high": 3000, "units_qualifier": "approx",
         "method": "reported", "source_ids": [EARLY, MONTH], "confidence": "medium"},
    ],
    "lab_compute": [
        {"record_id": "LC-001", "as_of_date": D(2026, 2, 1), "date_precision": "month",
         "lab_id": "lab_b", "subject": "holdings", "chip_id": "vendor_a_x1",
         "chip_count_low": 100, "chip_count": 200, "chip_count_high": 400,
         "method": "estimated", "source_ids": [UNDATED], "confidence": "low"},
    ],
    "parameters": [
        {"parameter_id": "PRC-001", "kind": "price", "name": "unit price of vendor_a_x1",
         "chip_id": "vendor_a_x1", "period_start": D(2026, 1, 1), "period_end": D(2026, 1, 31),
         "value": 25000.0, "value_qualifier": "about", "unit": "USD per unit",
         "source_ids": [EARLY], "confidence": "medium"},
    ],
    "evidence": [
        {"evidence_id": f"EV-T-{i:04d}", "dataset": ds, "record_key": key, "field": col,
         "source_id": src, "quote": quote, "basis": "stated"}
        for i, (ds, key, col, src, quote) in enumerate([
            ("chips", "vendor_a_x1", "bf16_dense_tflops", EARLY, "989.4 TFLOPS of BF16"),
            ("chips", "vendor_a_x1", "memory_bw_gbps", EARLY, "4.8 TB/s of HBM bandwidth"),
            ("approvals", "APR-001", None, EARLY, "Regulator approved the X1 purchases"),
            ("approvals", "APR-001", "quantity_units", EARLY, "at least 400,000 X1"),
            ("approvals", "APR-002", None, EARLY, "A licence is required for class a"),
            ("approvals", "APR-003", None, LATE, "The X1C sale to Lab B was denied"),
            ("shipments", "SHP-001", "units_low", EARLY, "between 1,000 and 3,000 X1"),
            ("shipments", "SHP-001", "units", EARLY, "most likely 2,000 X1"),
            ("shipments", "SHP-001", "units_high", EARLY, "between 1,000 and 3,000 X1"),
            ("lab_compute", "LC-001", "chip_count_low", UNDATED, "100 to 400 X1, about 200"),
            ("lab_compute", "LC-001", "chip_count", UNDATED, "100 to 400 X1, about 200"),
            ("lab_compute", "LC-001", "chip_count_high", UNDATED, "100 to 400 X1, about 200"),
            ("parameters", "PRC-001", "value", EARLY, "about $25,000 per X1"),
        ], start=1)
    ],
}
_DEFAULTS = {"sources": {"accessed_date": D(2026, 11, 29), "language": "en"}}


def frame(name: str, rows: list[dict]) -> pl.DataFrame:
    """A frame of dataset ``name`` in schema order and types; absent columns are null."""
    from analytics.schemas import columns

    cols = columns(name)
    full = [{c: {**_DEFAULTS.get(name, {}), **r}.get(c) for c in cols} for r in rows]
    return pl.DataFrame(full, schema=cols, orient="row")


def build_tables() -> dict[str, pl.DataFrame]:
    return {name: frame(name, rows) for name, rows in _ROWS.items()}


def write_folder(folder: Path, tables: dict[str, pl.DataFrame]) -> Path:
    from analytics.tables import write_table

    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        write_table(df, folder / f"{name}.csv", name)
    return folder


@pytest.fixture(scope="session")
def base_tables() -> dict[str, pl.DataFrame]:
    """The tables of ``tests/corpus/base/``, read and checked once per session."""
    from analytics.tables import read_folder

    return read_folder(BASE)[0]


@pytest.fixture
def tiny_tables() -> dict[str, pl.DataFrame]:
    """Every dataset, valid and tiny, with sources public at different dates."""
    return build_tables()


@pytest.fixture
def data_root(tmp_path, monkeypatch, tiny_tables) -> Path:
    """An empty data root (draft from ``tiny_tables``) that the package points at."""
    root = tmp_path / "data"
    write_folder(root / "draft", tiny_tables)
    monkeypatch.setenv("CHIP_SUPPLY_DATA_DIR", str(root))
    monkeypatch.setenv("CHIP_SUPPLY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CHIP_SUPPLY_DATA_URL", raising=False)
    return root


@pytest.fixture
def no_consistency(monkeypatch) -> None:
    """Cut releases without the cross-dataset checks (they have their own tests)."""
    import analytics.publish

    monkeypatch.setattr(analytics.publish, "_consistency", lambda *args, **kwargs: [])


@pytest.fixture(scope="session")
def _released_template(tmp_path_factory) -> Path:
    """Releases 2026-01-30 and 2026-11-29 cut once per session from the tiny draft."""
    from analytics.publish import cut_release

    root = tmp_path_factory.mktemp("released") / "data"
    write_folder(root / "draft", build_tables())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHIP_SUPPLY_DATA_DIR", str(root))
        cut_release("2026-01-30", progress=False)
        cut_release("2026-11-29", progress=False)
    return root


@pytest.fixture
def released_root(data_root, _released_template) -> Path:
    """``data_root`` holding releases 2026-01-30 and 2026-11-29 of the tiny draft."""
    shutil.rmtree(data_root)
    shutil.copytree(_released_template, data_root)
    return data_root
