"""Reading CSV robustly, loading releases with hash checks, snapshots and diffs."""

from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl
import pytest
from conftest import EARLY, LATE, MONTH, UNDATED, frame, write_folder

from analytics.datasets import as_of, diff, load, releases, scan
from analytics.errors import (
    ChipSupplyError,
    DataValidationError,
    HashMismatchError,
    ReleaseNotFoundError,
)
from analytics.registry import latest_release, read_registry
from analytics.tables import read_folder, read_table, write_table


@pytest.fixture
def approvals_csv(tmp_path, tiny_tables):
    path = tmp_path / "approvals.csv"
    write_table(tiny_tables["approvals"], path, "approvals")
    return path


def checks(findings, severity="error"):
    return {f.check for f in findings if f.severity == severity}


# --------------------------------------------------------------------------- read_table
def test_valid_file_reads_typed_and_sorted(approvals_csv, tiny_tables):
    df, findings = read_table(approvals_csv, "approvals")
    assert findings == []
    assert df.equals(tiny_tables["approvals"].sort("event_id"))
    assert df.schema["quantity_units"] == pl.Int64
    assert df.filter(pl.col("event_id") == "APR-002")["source_ids"].to_list() == [[EARLY, LATE]]


def test_lists_are_split_stripped_and_emptied(tmp_path):
    path = tmp_path / "entities.csv"
    path.write_text(
        "entity_id,name,native_name,kind,country,parent_id,aliases,notes\n"
        "x,X,,company,US,, A ; B ;;,\n"
        "y,Y,,lab,CN,,,\n"
    )
    df, findings = read_table(path, "entities")
    assert findings == []
    assert df["aliases"].to_list() == [["A", "B"], []]


def test_header_only_is_an_empty_table(tmp_path):
    path = tmp_path / "shipments.csv"
    path.write_text(",".join(frame("shipments", []).columns) + "\n")
    df, findings = read_table(path, "shipments")
    assert findings == []
    assert df.height == 0 and df.schema["units"] == pl.Int64


@pytest.mark.parametrize(
    ("content", "check", "key"),
    [
        (b"", "empty_file", ""),
        (b"\xef\xbb\xbfevent_id,date\n", "bom", "line 1"),
        (b"event_id;date;summary\nAPR-001;2026-01-01;x\n", "delimiter", "line 1"),
        (b"event_id\tdate\tsummary\n", "delimiter", "line 1"),
    ],
)
def test_structural_problems(tmp_path, content, check, key):
    path = tmp_path / "approvals.csv"
    path.write_bytes(content)
    df, findings = read_table(path, "approvals")
    assert df is None
    assert [(f.check, f.key, f.dataset) for f in findings] == [(check, key, "approvals")]


def test_bom_message_says_what_to_do(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"\xef\xbb\xbfx\n")
    _, [finding] = read_table(tmp_path / "a.csv", "approvals")
    assert "UTF-8 without BOM" in finding.message


def test_missing_file(tmp_path):
    df, [finding] = read_table(tmp_path / "nope.csv", "chips")
    assert df is None and finding.check == "file_missing" and "nope.csv" in finding.message


def test_non_utf8_byte_gives_its_line(approvals_csv):
    lines = approvals_csv.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"Licence", b"Licen\xe7e")  # latin-1 'ç'
    approvals_csv.write_bytes(b"\n".join(lines))
    df, [finding] = read_table(approvals_csv, "approvals")
    assert df is None
    assert (finding.check, finding.key, finding.value) == ("encoding", "line 3", "e7 65 20 72")


def test_ragged_row_gives_malformed_csv_with_line(approvals_csv):
    lines = approvals_csv.read_text().split("\n")
    lines[2] += ",extra"
    approvals_csv.write_text("\n".join(lines))
    df, findings = read_table(approvals_csv, "approvals")
    assert df is None
    assert [(f.check, f.key) for f in findings] == [("malformed_csv", "line 3")]
    assert "21 fields where the header has 20" in findings[0].message


def test_unclosed_quote_is_malformed(approvals_csv):
    approvals_csv.write_text(approvals_csv.read_text() + 'APR-009,"2026-01-01\n')
    df, findings = read_table(approvals_csv, "approvals")
    assert df is None and checks(findings) == {"malformed_csv"}


def test_file_cut_mid_line_is_truncated(approvals_csv):
    text = approvals_csv.read_text()
    approvals_csv.write_text(text[: len(text) - 30])
    df, findings = read_table(approvals_csv, "approvals")
    assert df is None
    assert [(f.check, f.key) for f in findings] == [("truncated", "line 4")]


def test_missing_and_extra_columns(approvals_csv):
    df = pl.read_csv(approvals_csv, infer_schema=False).drop("notes")
    df = df.with_columns(extra=pl.lit("x"))
    df.write_csv(approvals_csv)
    out, findings = read_table(approvals_csv, "approvals")
    assert out is None
    got = {(f.check, f.value) for f in findings}
    assert got == {("column_in_dataframe", "notes"), ("column_in_schema", "extra")}
    missing = next(f for f in findings if f.check == "column_in_dataframe")
    assert "required column 'notes' is missing" in missing.message


def test_wrong_types_name_the_value_and_the_type(approvals_csv):
    df = pl.read_csv(approvals_csv, infer_schema=False).with_columns(
        quantity_units=pl.when(pl.col("event_id") == "APR-001").then(pl.lit("400k")),
        date=pl.when(pl.col("event_id") == "APR-003").then(pl.lit("2026-02-30"))
        .otherwise(pl.col("date")),
    )
    df.write_csv(approvals_csv)
    out, findings = read_table(approvals_csv, "approvals")
    assert out is None
    bad = {(f.key, f.column, f.value): f.message for f in findings}
    assert bad[("APR-001", "quantity_units", "400k")] == "expected a whole number, found '400k'"
    assert bad[("APR-003", "date", "2026-02-30")] == (
        "expected a date YYYY-MM-DD, found '2026-02-30'"
    )
    assert not any(f.check == "not_nullable" and f.column == "date" for f in findings)


def test_bad_boolean(tmp_path, tiny_tables):
    path = tmp_path / "chips.csv"
    write_table(tiny_tables["chips"], path, "chips")
    path.write_text(path.read_text().replace(",true,", ",yes,"))
    _, findings = read_table(path, "chips")
    assert [(f.key, f.column, f.value) for f in findings] == [
        ("vendor_a_x1c", "china_specific", "yes")
    ]


def test_contract_findings_carry_key_or_line(approvals_csv):
    df = pl.read_csv(approvals_csv, infer_schema=False).with_columns(
        action=pl.when(pl.col("event_id") == "APR-002").then(pl.lit("approve_maybe"))
        .otherwise(pl.col("action")),
        event_id=pl.when(pl.col("event_id") == "APR-003").then(None).otherwise(pl.col("event_id")),
    )
    df.write_csv(approvals_csv)
    out, findings = read_table(approvals_csv, "approvals")
    assert out is None
    got = {(f.key, f.column, f.check) for f in findings}
    assert ("APR-002", "action", "isin(['approve', 'conditional_approval', 'permit', "
            "'license_required', 'restrict', 'deny', 'revoke', 'guidance', 'discourage', "
            "'investigate', 'revenue_share'])") in got or any(
        k == "APR-002" and c == "action" and ch.startswith("isin") for k, c, ch in got)
    assert ("line 4", "event_id", "not_nullable") in got


def test_reading_never_modifies_the_file(approvals_csv):
    approvals_csv.write_bytes(approvals_csv.read_bytes() + b"APR-9,broken\n")
    before = hashlib.sha256(approvals_csv.read_bytes()).hexdigest()
    read_table(approvals_csv, "approvals")
    assert hashlib.sha256(approvals_csv.read_bytes()).hexdigest() == before


# --------------------------------------------------------------------------- read_folder
def test_read_folder_reads_all_seven(tmp_path, tiny_tables):
    tables, findings = read_folder(write_folder(tmp_path / "d", tiny_tables))
    assert findings == [] and sorted(tables) == sorted(tiny_tables)


def test_read_folder_reports_missing_file(tmp_path, tiny_tables):
    folder = write_folder(tmp_path / "d", tiny_tables)
    (folder / "chips.csv").unlink()
    tables, findings = read_folder(folder)
    assert "chips" not in tables
    assert [(f.dataset, f.check) for f in findings] == [("chips", "file_missing")]


def test_manifest_catches_truncation_at_a_line_boundary(released_root):
    folder = released_root / "releases" / "2026-11-29"
    path = folder / "approvals.csv"
    text = path.read_text()
    path.write_text(text[: text.rstrip("\n").rfind("\n") + 1])  # last row gone, still valid CSV
    tables, findings = read_folder(folder)
    assert tables["approvals"].height == 2  # the contract alone cannot see it
    assert checks(findings) == {"manifest_bytes", "manifest_hash"}
    assert {f.dataset for f in findings} == {"approvals"}


# --------------------------------------------------------------------------- releases, load, scan
def test_releases_and_latest(released_root):
    assert releases() == ["2026-01-30", "2026-11-29"]
    assert latest_release() == "2026-11-29"


def test_no_release_is_a_clear_error(data_root):
    assert releases() == []
    with pytest.raises(ReleaseNotFoundError, match="no release found"):
        load("approvals")


def test_load_is_validated_and_sorted(released_root, tiny_tables):
    df = load("approvals", release="2026-01-30")
    assert df["event_id"].to_list() == ["APR-001", "APR-002"]
    assert df["source_ids"].to_list() == [[EARLY], [EARLY]]
    latest = load("approvals")
    assert latest.equals(tiny_tables["approvals"].sort("event_id"))
    assert load("control_rules")["clause"].to_list() == ["3A090.a", "policy"]


def test_load_draft(data_root, tiny_tables):
    assert load("shipments", release="draft").equals(tiny_tables["shipments"])


def test_load_invalid_draft_raises_with_findings(data_root):
    path = data_root / "draft" / "approvals.csv"
    path.write_text(path.read_text().replace("APR-002", "APR-2"))
    with pytest.raises(DataValidationError) as err:
        load("approvals", release="draft")
    assert {(f.key, f.column) for f in err.value.findings} == {("APR-2", "event_id")}


def test_unknown_dataset(data_root):
    with pytest.raises(ChipSupplyError, match="unknown dataset 'chip'"):
        load("chip")


def test_scan_is_lazy_and_hash_checked(released_root):
    lf = scan("shipments", release="2026-11-29")
    assert isinstance(lf, pl.LazyFrame)
    assert lf.select(pl.col("units").sum()).collect().item() == 2000


def test_hash_mismatch_names_file_and_both_hashes(released_root):
    path = released_root / "releases" / "2026-11-29" / "approvals.parquet"
    expected = read_registry()["releases/2026-11-29/approvals.parquet"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    actual = "sha256:" + hashlib.sha256(bytes(data)).hexdigest()
    for call in (load, scan):
        with pytest.raises(HashMismatchError) as err:
            call("approvals", release="2026-11-29")
        assert err.value.path == path
        assert (err.value.expected, err.value.actual) == (expected, actual)
        assert all(s in str(err.value) for s in (str(path), expected, actual))


def test_unregistered_local_file_is_refused(released_root):
    registry = released_root / "registry.txt"
    registry.write_text("".join(
        line + "\n" for line in registry.read_text().splitlines() if "2026-11-29/chips." not in line
    ))
    with pytest.raises(ChipSupplyError, match="not listed in"):
        load("chips", release="2026-11-29")


def test_absent_release_offline_says_where_it_looked(released_root):
    (released_root / "releases" / "2026-01-30" / "chips.parquet").unlink()
    with pytest.raises(ReleaseNotFoundError) as err:
        load("chips", release="2026-01-30")
    message = str(err.value)
    assert "2026-01-30" in message and "chips.parquet" in message
    assert "CHIP_SUPPLY_DATA_URL is unset" in message


def test_unknown_release(released_root):
    with pytest.raises(ReleaseNotFoundError, match="known releases: 2026-01-30, 2026-11-29"):
        load("chips", release="2020-01-01")


def test_verified_hashes_are_remembered(released_root, monkeypatch):
    load("chips")
    calls = []
    real = hashlib.sha256
    monkeypatch.setattr(hashlib, "sha256", lambda *a: calls.append(1) or real(*a))
    load("chips")
    assert calls == []


# --------------------------------------------------------------------------- as_of
def test_as_of_keeps_what_was_public(tiny_tables):
    snap = as_of(tiny_tables, "2026-01-30")
    assert snap["sources"]["source_id"].to_list() == [EARLY]  # MONTH is public from Jan 31
    assert snap["approvals"]["event_id"].to_list() == ["APR-001", "APR-002"]
    assert snap["approvals"]["source_ids"].to_list() == [[EARLY], [EARLY]]
    assert snap["shipments"]["source_ids"].to_list() == [[EARLY]]
    assert snap["chips"]["chip_id"].to_list() == ["vendor_a_x1"]
    assert snap["lab_compute"].height == 0
    assert snap["entities"].equals(tiny_tables["entities"])


def test_as_of_month_precision_counts_from_month_end(tiny_tables):
    snap = as_of(tiny_tables, dt.date(2026, 1, 31))
    assert snap["sources"]["source_id"].to_list() == [EARLY, MONTH]
    assert snap["shipments"]["source_ids"].to_list() == [[EARLY, MONTH]]


def test_as_of_undated_counts_from_accessed_date(tiny_tables):
    assert UNDATED not in as_of(tiny_tables, "2026-11-28")["sources"]["source_id"].to_list()
    snap = as_of(tiny_tables, "2026-11-29")
    assert snap["lab_compute"]["source_ids"].to_list() == [[UNDATED]]
    assert all(snap[n].equals(tiny_tables[n]) for n in tiny_tables)


def test_as_of_filters_evidence_and_parameters(tiny_tables):
    snap = as_of(tiny_tables, "2026-01-30")
    assert set(snap["evidence"]["source_id"]) == {EARLY}
    assert snap["evidence"].height == 9  # the LATE and UNDATED quotes were not public yet
    assert snap["parameters"]["parameter_id"].to_list() == ["PRC-001"]
    early = tiny_tables["parameters"].with_columns(source_ids=pl.lit([LATE]))
    assert as_of({**tiny_tables, "parameters": early}, "2026-01-30")["parameters"].height == 0


def test_as_of_empties_a_figure_known_only_later(tiny_tables):
    """SHP-001 cites EARLY and MONTH; its units were quoted only in MONTH's note."""
    ev = tiny_tables["evidence"].with_columns(
        source_id=pl.when((pl.col("record_key") == "SHP-001") & (pl.col("field") != "units"))
        .then(pl.lit(MONTH)).otherwise(pl.col("source_id"))
    )
    apr = tiny_tables["approvals"]
    tables = {**tiny_tables, "evidence": ev.filter(
        ~((pl.col("record_key") == "APR-001") & (pl.col("field") == "quantity_units")))}
    snap = as_of(tables, "2026-01-30")
    shp = snap["shipments"].row(0, named=True)
    assert (shp["units_low"], shp["units"], shp["units_high"], shp["units_qualifier"]) == (
        None, 2000, None, "approx")  # units stays known, so does its qualifier
    # a figure without any evidence row keeps today's behaviour
    assert snap["approvals"]["quantity_units"].to_list() == apr["quantity_units"].to_list()[:2]
    later = as_of({**tables, "evidence": ev.with_columns(
        source_id=pl.when(pl.col("record_key") == "SHP-001").then(pl.lit(MONTH))
        .otherwise(pl.col("source_id")))}, "2026-01-30")
    shp = later["shipments"].row(0, named=True)
    assert (shp["units_low"], shp["units"], shp["units_high"], shp["units_qualifier"]) == (
        None, None, None, None)
    assert shp["source_ids"] == [EARLY]  # the row itself was public
    assert as_of({**tables, "evidence": ev}, "2026-01-31")["shipments"].equals(
        tiny_tables["shipments"])


def test_as_of_empties_the_drafts_chip_figures_known_only_later():
    from analytics import Release
    from analytics.rules import public_date

    draft = Release.open("draft").tables()
    day = dt.date(2026, 1, 30)
    later = draft["sources"].filter(public_date() > day)["source_id"]
    ev = draft["evidence"].filter((pl.col("dataset") == "chips") & pl.col("field").is_not_null())
    only_later = (
        ev.group_by("record_key", "field")
        .agg(pl.col("source_id").is_in(later.implode()).all().alias("later"))
        .filter("later").sort("record_key", "field")
    )
    snap = as_of(draft, "2026-01-30")
    kept = set(snap["chips"]["chip_id"])
    cases = [(k, f) for k, f in only_later.select("record_key", "field").rows() if k in kept]
    assert cases, "expected a chip figure of the draft quoted only after 2026-01-30"
    for chip, field in cases:
        before = draft["chips"].filter(pl.col("chip_id") == chip)[field].item()
        after = snap["chips"].filter(pl.col("chip_id") == chip)
        assert before is not None and after[field].item() is None, (chip, field)
        if field != "tpp_stated":
            assert after[f"{field}_basis"].item() is None
    # a chip figure with no evidence row at all stays as it is
    quoted = set(ev.select(pl.concat_str("record_key", "field", separator="/"))
                 .to_series())
    untouched = [(c, f) for c in kept for f in ("tdp_w", "memory_gb")
                 if f"{c}/{f}" not in quoted]
    for chip, field in untouched:
        assert (snap["chips"].filter(pl.col("chip_id") == chip)[field].item()
                == draft["chips"].filter(pl.col("chip_id") == chip)[field].item())


def test_as_of_empties_an_entity_listing_known_only_later(tiny_tables):
    ents = tiny_tables["entities"].with_columns(
        entity_list_date=pl.Series([dt.date(2025, 1, 16), dt.date(2026, 2, 1), None]),
        entity_list_precision=pl.Series(["day", "day", None]),
        entity_list_source_ids=pl.Series([[EARLY], [LATE], []]),
    )
    snap = as_of({**tiny_tables, "entities": ents}, "2026-01-30")["entities"]
    assert snap["entity_list_date"].to_list() == [dt.date(2025, 1, 16), None, None]
    assert snap["entity_list_precision"].to_list() == ["day", None, None]
    assert snap["entity_list_source_ids"].to_list() == [[EARLY], [], []]


# --------------------------------------------------------------------------- diff
def test_diff_added_removed_changed(tiny_tables):
    old = tiny_tables["approvals"]
    new = old.filter(pl.col("event_id") != "APR-001").with_columns(
        summary=pl.when(pl.col("event_id") == "APR-002").then(pl.lit("Licence now required"))
        .otherwise(pl.col("summary"))
    )
    new = pl.concat([new, old.filter(pl.col("event_id") == "APR-001").with_columns(
        event_id=pl.lit("APR-004"), entity_ids=pl.lit(["lab_b", "vendor_a"]))])
    new = new.with_columns(
        entity_ids=pl.when(pl.col("event_id") == "APR-003").then(pl.lit(["vendor_a"]))
        .otherwise(pl.col("entity_ids"))
    )
    d = diff("approvals", old, new)
    assert d.added == ("APR-004",) and d.removed == ("APR-001",)
    assert d.changed == {
        "APR-002": {"summary": ("Licence required", "Licence now required")},
        "APR-003": {"entity_ids": (["lab_b"], ["vendor_a"])},
    }
    assert d.summary() == "approvals old -> new: 1 added, 1 removed, 2 changed"
    assert d.to_frame().rows() == [
        ("APR-001", "removed", None, None, None),
        ("APR-002", "changed", "summary", "Licence required", "Licence now required"),
        ("APR-003", "changed", "entity_ids", "lab_b", "vendor_a"),
        ("APR-004", "added", None, None, None),
    ]


def test_diff_of_identical_tables_is_empty(tiny_tables):
    d = diff("control_rules", tiny_tables["control_rules"], tiny_tables["control_rules"][::-1])
    assert not d and d.to_frame().height == 0


def test_diff_between_releases(released_root):
    d = diff("approvals", "2026-01-30", "2026-11-29")
    assert (d.old, d.new, d.added, d.removed) == ("2026-01-30", "2026-11-29", ("APR-003",), ())
    assert d.changed == {"APR-002": {"source_ids": ([EARLY], [EARLY, LATE])}}
    assert "~ APR-002" in d.to_text()


def test_unreadable_file_is_a_finding_not_a_crash(approvals_csv, monkeypatch):
    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(approvals_csv), "read_bytes", refuse)
    df, [finding] = read_table(approvals_csv, "approvals")
    assert df is None and finding.check == "unreadable" and "Permission denied" in finding.message


def test_windows_line_endings_warn_but_read(approvals_csv, tiny_tables):
    approvals_csv.write_bytes(approvals_csv.read_bytes().replace(b"\n", b"\r\n"))
    df, findings = read_table(approvals_csv, "approvals")
    assert df is not None and df.height == tiny_tables["approvals"].height
    assert [(f.severity, f.check) for f in findings] == [("warning", "line_endings")]


def test_manifest_listing_a_missing_file(tmp_path, tiny_tables):
    folder = write_folder(tmp_path / "r", tiny_tables)
    (folder / "datapackage.json").write_text(
        '{"resources": [{"name": "chips", "path": "chips_old.csv", "bytes": 1}]}'
    )
    _, findings = read_folder(folder)
    [missing] = [f for f in findings if f.check == "manifest_missing"]
    assert missing.dataset == "chips" and missing.value == "chips_old.csv"
