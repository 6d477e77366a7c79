"""Finding a figure in the quote that states it, and what the evidence covers."""

from __future__ import annotations

import polars as pl
import pytest

from analytics.evidence import coverage, coverage_summary, findings_frame, stated_in


@pytest.mark.parametrize(
    ("quote", "figure"),
    [
        ("more than 400,000 H200 chips", 400_000),
        ("some 400k units", 400_000),
        ("0.4 million accelerators", 400_000),
        ("revenue of $12bn in the year", 12_000_000_000),
        ("$4.6 billion of H20 revenue", 4_600_000_000),
        ("trained with 3.3e24 FLOP", 3.3e24),
        ("about 3.3 x 10^24 FLOP", 3.3e24),
        ("memory bandwidth 4.8 TB/s", 4_800),
        ("4.6 PF dense FP8", 4_600),
        ("2.788M H800 GPU hours", 2_788_000),
        ("采购40万颗H200", 400_000),
        ("two million H20", 2_000_000),
        ("989 TFLOPS", 989.0),
        ("989.4 TFLOPS", 989.0),
    ],
)
def test_a_quote_states_its_figure(quote: str, figure: float) -> None:
    assert stated_in(quote, figure)


@pytest.mark.parametrize(
    ("quote", "figure"),
    [("1,979 teraFLOPS with sparsity", 989.0), ("4.6 PF dense FP8", 5_033.2),
     ("more than 400,000 H200", 75_000), ("", 1.0)],
)
def test_a_quote_that_does_not_state_the_figure(quote: str, figure: float) -> None:
    assert not stated_in(quote, figure)


def _evidence(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, orient="row",
        schema={"evidence_id": pl.String, "dataset": pl.String, "record_key": pl.String,
                "field": pl.String, "quote": pl.String, "basis": pl.String,
                "derivation": pl.String},
    )


def test_coverage_names_each_figure_status() -> None:
    shipments = pl.DataFrame({
        "record_id": ["SHP-001", "SHP-002", "SHP-003", "SHP-004"],
        "units": [1_000_000.0, 50_000.0, 20_000.0, 7.0],
        "value_usd": [None, 4.0e6, None, None],
    })
    ev = _evidence([
        ("EV-SHP-0001", "shipments", "SHP-001", "units", "about one million H20", "stated", None),
        ("EV-SHP-0002", "shipments", "SHP-002", "units", "some 60,000 chips", "stated", None),
        ("EV-SHP-0003", "shipments", "SHP-002", "value_usd", "", "derived",
         "value_usd = units x 80 USD"),
        ("EV-SHP-0004", "shipments", "SHP-003", None, "a claim", "stated", None),
    ])
    cov = coverage({"shipments": shipments}, ev).sort("record_key", "field")
    assert cov.select("record_key", "field", "status").rows() == [
        ("SHP-001", "units", "stated"),
        ("SHP-002", "units", "unmatched"),
        ("SHP-002", "value_usd", "derived"),
        ("SHP-003", "units", "missing"),
        ("SHP-004", "units", "missing"),
    ]
    summary = coverage_summary(cov).row(0, named=True)
    assert (summary["figures"], summary["stated"], summary["missing"]) == (5, 1, 2)
    found = findings_frame(cov)
    assert found.select("key", "column", "value").rows() == [
        ("SHP-002", "units", "50000"), ("SHP-003", "units", "20000"), ("SHP-004", "units", "7"),
    ]
    assert set(found["check"]) == {"figure_without_evidence"}
    assert found["message"][0].startswith("no cited quote states this figure")


def test_a_derivation_must_say_how() -> None:
    approvals = pl.DataFrame({"event_id": ["APR-048"], "quantity_units": [400_000]})
    ev = _evidence([("EV-APR-0001", "approvals", "APR-048", "quantity_units", "", "derived",
                     "  ")])
    assert coverage({"approvals": approvals}, ev)["status"].to_list() == ["unmatched"]
