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
    assert found["message"][0].startswith("no evidence quote states this figure (EV-SHP-0002")


def test_a_derivation_must_say_how() -> None:
    approvals = pl.DataFrame({"event_id": ["APR-048"], "quantity_units": [400_000]})
    ev = _evidence([("EV-APR-0001", "approvals", "APR-048", "quantity_units", "", "derived",
                     "  ")])
    assert coverage({"approvals": approvals}, ev)["status"].to_list() == ["unmatched"]


@pytest.mark.parametrize(
    ("quote", "figure"),
    [("There were no H20 sales to China-based customers in the second quarter", 0),
     ("To date, we have not generated any revenue under the H200 licensing program", 0),
     ("increase the useful lives of its servers to six years", 6),
     ("the chip combines two of Huawei's 910B processors", 2)],
)
def test_words_state_small_numbers_and_zero(quote: str, figure: float) -> None:
    assert stated_in(quote, figure)


# --------------------------------------------------------------------------- the validate check
@pytest.fixture(scope="module")
def draft() -> dict[str, pl.DataFrame]:
    from analytics import Release

    return Release.open("draft").tables()


def _evidence_findings(tables: dict[str, pl.DataFrame]) -> list:
    from analytics.consistency import check

    names = ("figure_without_evidence", "evidence_without_record", "evidence_unknown_field",
             "approval_without_evidence")
    return [f for f in check(tables) if f.check in names]


def test_a_quoted_figure_of_the_draft_is_covered(draft) -> None:
    cov = coverage(draft, draft["evidence"])
    row = cov.filter((pl.col("record_key") == "APR-048") & (pl.col("field") == "quantity_units"))
    assert row.select("value", "status", "evidence_id").row(0) == (400000.0, "stated",
                                                                   "EV-APR-0001")
    assert stated_in(draft["evidence"].filter(pl.col("evidence_id") == "EV-APR-0001")["quote"][0],
                     400_000)


def test_a_figure_without_evidence_is_exactly_one_error(draft) -> None:
    assert _evidence_findings(draft) == []
    supports = ((pl.col("record_key") == "APR-048")
                & (pl.col("field") == "quantity_units")).fill_null(False)
    assert draft["evidence"].filter(supports).height >= 1
    ev = draft["evidence"].filter(~supports)
    found = _evidence_findings({**draft, "evidence": ev})
    assert [(f.severity, f.dataset, f.key, f.column, f.check, f.value) for f in found] == [
        ("error", "approvals", "APR-048", "quantity_units", "figure_without_evidence", "400000"),
    ]
    assert found[0].message.startswith("no evidence row supports this figure: add an evidence row")


def test_evidence_points_at_a_record_and_a_column(draft) -> None:
    ev = draft["evidence"].with_columns(
        record_key=pl.when(pl.col("evidence_id") == "EV-APR-0002").then(pl.lit("APR-999"))
        .otherwise(pl.col("record_key")),
        field=pl.when(pl.col("evidence_id") == "EV-CHP-0155").then(pl.lit("fp8_tflops"))
        .otherwise(pl.col("field")),
    )
    found = {(f.severity, f.dataset, f.key, f.column, f.check, f.value)
             for f in _evidence_findings({**draft, "evidence": ev})}
    assert ("error", "evidence", "EV-APR-0002", "record_key", "evidence_without_record",
            "APR-999") in found
    assert ("error", "evidence", "EV-CHP-0155", "field", "evidence_unknown_field",
            "fp8_tflops") in found
    # the figures they supported are now unsupported: each one a finding of its own
    assert ("error", "approvals", "APR-052", "quantity_units", "figure_without_evidence",
            "75000") in found


def test_an_approval_needs_evidence_of_the_claim(draft) -> None:
    ev = draft["evidence"].filter(
        ~((pl.col("record_key") == "APR-048") & pl.col("field").is_null()))
    found = _evidence_findings({**draft, "evidence": ev})
    assert [(f.severity, f.key, f.check) for f in found] == [
        ("warning", "APR-048", "approval_without_evidence")]


def test_a_release_without_evidence_skips_the_check(draft) -> None:
    tables = {n: df for n, df in draft.items() if n != "evidence"}
    assert _evidence_findings(tables) == []


def test_the_drafts_coverage_per_dataset(draft) -> None:
    summary = coverage_summary(coverage(draft, draft["evidence"]))
    assert summary["dataset"].to_list() == [
        "approvals", "chips", "lab_compute", "parameters", "shipments"]
    for row in summary.iter_rows(named=True):
        assert row["unmatched"] == row["missing"] == 0, row
        # the bar: at most a quarter of the figures derived or assumed
        assert row["stated_share"] >= 0.75, row
    approvals = summary.row(0, named=True)
    assert (approvals["figures"], approvals["stated"]) == (3, 3)


# --------------------------------------------------------------------------- the release page
def test_evidence_coverage_of_the_draft(draft) -> None:
    from analytics import evidence_coverage

    table = evidence_coverage(draft)
    assert table.columns == ["dataset", "figures", "stated", "derived", "assumed", "missing",
                             "stated_share"]
    assert table.filter(pl.col("dataset") == "approvals").row(0)[1:] == (3, 3, 0, 0, 0, 1.0)
    assert table["missing"].sum() == 0
    for row in table.iter_rows(named=True):
        assert row["stated"] + row["derived"] + row["assumed"] == row["figures"], row


def test_a_release_before_the_evidence_table() -> None:
    import datetime as dt

    from analytics import ChipSupplyError, Release, data_cutoff, evidence_coverage, load

    rel = Release.open("2026-11-29")
    assert "evidence" not in rel.names and "parameters" not in rel.names
    with pytest.raises(ChipSupplyError, match="release 2026-11-29 has no evidence dataset; "
                       "it first appears in a later release"):
        load("evidence", release="2026-11-29")
    tables = rel.tables()
    assert "evidence" not in tables
    with pytest.raises(ValueError, match="predates"):
        evidence_coverage(tables)
    assert data_cutoff(tables).rows() == [
        ("latest event", dt.date(2026, 5, 31), "approvals", "APR-055"),
        ("latest source", dt.date(2026, 8, 1), "sources", "sec-202608-nvidia-10q-q2-fy2027"),
    ]


@pytest.mark.slow
def test_the_release_page_shows_cutoff_and_coverage(released_root) -> None:
    from analytics import execution, paths

    nb = execution.execute_notebook(paths.NOTEBOOKS_DIR / "05-release-changes.py", "2026-11-29")
    text = "\n".join(
        str(o.get("text") or o.get("data", {}).get("text/plain", ""))
        for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "latest event" in text and "APR-003" in text  # the tiny release's last event
    assert "stated_share" in text and "predates the evidence table" not in text
    old = execution.execute_notebook(paths.NOTEBOOKS_DIR / "05-release-changes.py", "2026-01-30")
    assert any("first release" in str(o.get("text", "")) for c in old.cells
               if c.cell_type == "code" for o in c.outputs)
