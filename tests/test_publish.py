"""Cutting releases: files, datapackage, registry, changelog, refusals, nothing half-written."""

from __future__ import annotations

import hashlib
import json

import polars as pl
import pytest
from conftest import EARLY, write_folder

import analytics.journal as journal
from analytics import datasets, paths
from analytics.errors import ChipSupplyError, DataValidationError
from analytics.hashes import sha256
from analytics.manifest import Manifest
from analytics.publish import cut_release
from analytics.registry import manifest_digests, read_registry, resolve
from analytics.schemas import DATASETS, columns
from analytics.tables import csv_bytes, read_folder, read_table

FILES = sorted(
    [*(f"{n}.csv" for n in DATASETS), *(f"{n}.parquet" for n in DATASETS), "datapackage.json"]
)


def snapshot(root):
    """Every file under the data root with its bytes, to prove nothing changed."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_cut_writes_every_file_and_registers_its_manifest(released_root):
    folder = released_root / "releases" / "2026-01-30"
    assert sorted(p.name for p in folder.iterdir()) == FILES
    manifests = {f"releases/{r}/datapackage.json" for r in ("2026-01-30", "2026-11-29")}
    assert read_registry() == {m: sha256(released_root / m) for m in manifests}
    for release in ("2026-01-30", "2026-11-29"):
        manifest = Manifest.parse((released_root / "releases" / release / "datapackage.json")
                                  .read_bytes(), release)
        assert sorted(manifest.files) == [f for f in FILES if f != "datapackage.json"]
        for name, entry in manifest.files.items():
            path = released_root / "releases" / release / name
            assert (entry.sha256, entry.bytes) == (sha256(path), path.stat().st_size)
    assert not [p for p in (released_root / "releases").iterdir() if p.name.startswith(".")]


def test_release_is_the_snapshot_of_its_date(released_root):
    tables, findings = read_folder(released_root / "releases" / "2026-01-30")
    assert [(f.dataset, f.severity, f.check) for f in findings] == [
        ("lab_compute", "warning", "empty_table")]  # nothing known yet on that day
    assert tables["sources"]["source_id"].to_list() == [EARLY]
    assert tables["approvals"]["event_id"].to_list() == ["APR-001", "APR-002"]
    assert tables["lab_compute"].height == 0
    assert tables["entities"].height == 3


def test_csv_and_parquet_hold_the_same_rows(released_root):
    folder = released_root / "releases" / "2026-11-29"
    for name in DATASETS:
        csv, findings = read_table(folder / f"{name}.csv", name)
        assert findings == []
        assert csv.equals(pl.read_parquet(folder / f"{name}.parquet")), name
        header = (folder / f"{name}.csv").read_text().split("\n", 1)[0]
        assert header == ",".join(columns(name))


def test_csv_follows_the_conventions(released_root):
    text = (released_root / "releases" / "2026-11-29" / "approvals.csv").read_bytes()
    assert not text.startswith(b"\xef\xbb\xbf") and b"\r\n" not in text
    rows = text.decode().splitlines()[1:]
    assert [r.split(",", 1)[0] for r in rows] == ["APR-001", "APR-002", "APR-003"]
    assert f"{EARLY};test-20260301-late" in rows[1]
    assert ',"",' not in text.decode()  # an empty list is an empty cell


def test_datapackage_describes_the_files(released_root):
    folder = released_root / "releases" / "2026-11-29"
    package = json.loads((folder / "datapackage.json").read_text())
    assert package["version"] == "2026-11-29"
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    by_name = {r["name"]: r for r in package["resources"]}
    assert list(by_name) == list(DATASETS)
    for name, res in by_name.items():
        csv = folder / res["path"]
        assert (res["bytes"], res["hash"]) == (csv.stat().st_size, sha256(csv))
        parquet = folder / res["parquet"]["path"]
        assert res["parquet"]["hash"] == sha256(parquet)
        assert [f["name"] for f in res["schema"]["fields"]] == list(columns(name))
    approvals = by_name["approvals"]["schema"]
    fields = {f["name"]: f for f in approvals["fields"]}
    assert approvals["primaryKey"] == ["event_id"]
    assert fields["quantity_units"]["type"] == "integer"
    assert fields["date"]["type"] == "date"
    assert "deny" in fields["action"]["constraints"]["enum"]
    assert fields["event_id"]["constraints"] == {"required": True, "unique": True}
    assert "each item is a sources.source_id" in fields["source_ids"]["description"]
    assert "foreignKeys" not in approvals  # all its references are lists
    assert by_name["control_rules"]["schema"]["primaryKey"] == ["rule_id", "clause"]
    assert by_name["entities"]["schema"]["foreignKeys"] == [
        {"fields": "parent_id", "reference": {"resource": "", "fields": "entity_id"}}
    ]
    assert {"fields": "lab_id", "reference": {"resource": "entities", "fields": "entity_id"}} in (
        by_name["lab_compute"]["schema"]["foreignKeys"]
    )
    assert by_name["chips"]["schema"]["fields"][6]["type"] == "boolean"


def test_datapackage_is_valid_frictionless(released_root):
    frictionless = pytest.importorskip("frictionless")
    package = released_root / "releases" / "2026-11-29" / "datapackage.json"
    report = frictionless.validate(str(package))
    assert report.valid, report.flatten(["type", "note"])


def test_changelog_entries_come_from_the_diff(released_root):
    text = (released_root / "CHANGELOG.md").read_text()
    first, second = text.split("## 2026-01-30")[1].split("## 2026-11-29")
    assert "First release." in first and "- `approvals`: 2 rows" in first
    assert "Compared with 2026-01-30." in second
    assert "- `approvals`: 3 rows; 1 added, 0 removed, 1 changed" in second
    assert "  - added: APR-003" in second
    assert "  - changed APR-002: source_ids" in second
    assert "  - added: us_test_2025/policy" in second


def test_existing_version_is_refused_and_nothing_changes(released_root):
    before = snapshot(released_root)
    with pytest.raises(ChipSupplyError, match="release 2026-11-29 exists; releases never change"):
        cut_release("2026-11-29", progress=False)
    assert snapshot(released_root) == before


def test_older_date_is_refused(released_root):
    with pytest.raises(ChipSupplyError, match="older than the latest release 2026-11-29"):
        cut_release("2026-06-01", progress=False)
    assert not (released_root / "releases" / "2026-06-01").exists()


@pytest.mark.parametrize("bad", ["2026-13-01", "latest", "2026-1-5", ""])
def test_malformed_date_is_refused(data_root, bad):
    with pytest.raises(ChipSupplyError, match="is not a date YYYY-MM-DD"):
        cut_release(bad, progress=False)


def test_invalid_draft_lists_every_finding_and_leaves_nothing(released_root, no_consistency):
    draft = released_root / "draft"
    (draft / "approvals.csv").write_text(
        (draft / "approvals.csv").read_text().replace("license_required", "licensed")
    )
    shipments = (draft / "shipments.csv").read_text()
    (draft / "shipments.csv").write_text(shipments.replace("2000", "2k"))
    before = snapshot(released_root)
    with pytest.raises(DataValidationError) as err:
        cut_release("2026-12-01", progress=False)
    found = {(f.dataset, f.key, f.column) for f in err.value.findings}
    assert found == {("approvals", "APR-002", "action"), ("shipments", "SHP-001", "units")}
    assert snapshot(released_root) == before
    assert not (released_root / "releases" / "2026-12-01").exists()


def test_failure_after_writing_rolls_everything_back(released_root, no_consistency, monkeypatch):
    before = snapshot(released_root)
    real = journal.replace_file

    def fail_on_changelog(path, content):
        if path.name == "CHANGELOG.md":
            raise OSError("disk full")
        real(path, content)

    monkeypatch.setattr(journal, "replace_file", fail_on_changelog)
    with pytest.raises(OSError, match="disk full"):
        cut_release("2026-12-01", progress=False)
    assert snapshot(released_root) == before
    assert sorted(p.name for p in (released_root / "releases").iterdir()) == [
        "2026-01-30", "2026-11-29"
    ]


def test_cut_from_another_draft_folder(data_root, tmp_path, tiny_tables, no_consistency):
    other = write_folder(tmp_path / "other", {
        **tiny_tables, "approvals": tiny_tables["approvals"].filter(pl.col("event_id") == "APR-001")
    })
    folder = cut_release("2026-02-01", draft=other, progress=False)
    assert folder == paths.release_dir("2026-02-01")
    assert datasets.load("approvals")["event_id"].to_list() == ["APR-001"]


def test_consistency_checks_run_on_the_snapshot(data_root, tiny_tables):
    # APR-001 is public in January; the chip it now names is sourced only in March, so
    # the full draft is consistent but the snapshot of 2026-01-30 is not
    approvals = tiny_tables["approvals"].with_columns(
        chip_ids=pl.Series([["vendor_a_x1", "vendor_a_x1c"], [], ["vendor_a_x1c"]])
    )
    write_folder(data_root / "draft", {"approvals": approvals})
    with pytest.raises(DataValidationError) as err:
        cut_release("2026-01-30", progress=False)
    assert [(f.key, f.column, f.value) for f in err.value.findings if f.severity == "error"] == [
        ("APR-001", "chip_ids", "vendor_a_x1c")
    ]
    assert not paths.release_dir("2026-01-30").exists() and not paths.registry_path().exists()


def test_progress_goes_to_stderr(data_root, capsys):
    cut_release("2026-01-30")
    out, err = capsys.readouterr()
    assert out == ""
    assert "[1/6] validating the draft" in err and "[6/6] registering" in err
    assert "[3/6] cross-dataset checks" in err


#: The manifests of the first releases, as cut: their bytes, and so every file's, never change.
FIRST_MANIFESTS = {
    "2026-01-30": "sha256:21494d02a269ab883f8a7fa5bb1e4777522f2e38ee90387e5713109802629b41",
    "2026-11-29": "sha256:53f8b0b2039b4082102fde7b77fcddc540776c9e39651a6cf6f339f7a6ac534e",
}


def test_repository_registry_matches_every_released_byte():
    """A released file that changes by one byte must fail the suite."""
    data = paths.REPO_ROOT / "data"
    digests = manifest_digests(data / "registry.txt")
    assert digests, "data/registry.txt lists no release"
    for release, digest in FIRST_MANIFESTS.items():
        assert digests.get(release) == digest, f"the manifest of {release} changed"
    on_disk = {p.name for p in (data / "releases").iterdir()}
    assert on_disk == set(digests), "a release folder is not registered, or the reverse"
    for release, digest in digests.items():
        folder = data / "releases" / release
        assert sha256(folder / "datapackage.json") == digest, f"{release}: manifest changed"
        manifest = Manifest.parse((folder / "datapackage.json").read_bytes(), release)
        assert {p.name for p in folder.iterdir()} == {*manifest.files, "datapackage.json"}
        for name, entry in manifest.files.items():
            raw = (folder / name).read_bytes()
            assert len(raw) == entry.bytes, f"{release}/{name}: size changed"
            assert "sha256:" + hashlib.sha256(raw).hexdigest() == entry.sha256, (
                f"{release}/{name}: manifest says {entry.sha256}, file has {sha256(folder / name)}"
            )


def test_csv_and_parquet_of_every_repository_release_are_the_same_table():
    data = paths.REPO_ROOT / "data"
    for release in manifest_digests(data / "registry.txt"):
        folder = data / "releases" / release
        for csv in sorted(folder.glob("*.csv")):
            parquet = pl.read_parquet(csv.with_suffix(".parquet"))
            assert csv_bytes(parquet) == csv.read_bytes(), f"{release}/{csv.stem}"


# --------------------------------------------------------------------------- revisions
def _revise_summary(root, text="Approved at least 400,000 (corrected)"):
    path = root / "draft" / "approvals.csv"
    path.write_text(path.read_text().replace("Approved at least 400,000", text))


def test_revision_is_a_new_release_of_the_same_date(released_root, no_consistency):
    old = datasets.load("approvals", release="2026-01-30")
    _revise_summary(released_root)
    folder = cut_release("2026-01-30", revision=True, reason="summary as the source words it",
                         progress=False)
    assert folder.name == "2026-01-30.2"
    assert datasets.releases() == ["2026-01-30", "2026-01-30.2", "2026-11-29"]
    assert datasets.latest_release() == "2026-11-29"
    new = datasets.load("approvals", release="2026-01-30")  # a date: its newest revision
    assert new["summary"][0].endswith("(corrected)")
    assert datasets.load("approvals", release="2026-01-30.2").equals(new)
    assert datasets.load("approvals", release="2026-01-30.1").equals(old)  # full id of the first
    manifest = json.loads((folder / "datapackage.json").read_text())
    assert manifest["version"] == "2026-01-30.2"
    assert manifest["revision"] == {"of": "2026-01-30", "reason": "summary as the source words it"}
    registry = (released_root / "registry.txt").read_text().splitlines()
    i = registry.index("# 2026-01-30.2 revises 2026-01-30: summary as the source words it")
    assert registry[i + 1].startswith("releases/2026-01-30.2/datapackage.json sha256:")
    entry = (released_root / "CHANGELOG.md").read_text().split("## 2026-01-30.2")[1]
    assert entry.startswith(" (revision of 2026-01-30)\n")
    assert "Why: summary as the source words it" in entry
    assert "Compared with 2026-01-30." in entry and "  - changed APR-001: summary" in entry
    _revise_summary(released_root, "Approved at least 400,000 (corrected twice)")
    cut_release("2026-01-30", revision=True, reason="again", progress=False)
    assert resolve("2026-01-30") == "2026-01-30.3"
    text = (released_root / "CHANGELOG.md").read_text()
    assert "## 2026-01-30.3 (revision of 2026-01-30.2)" in text


def test_every_release_validates_after_a_revision(released_root, no_consistency, capsys):
    from analytics.cli import main

    _revise_summary(released_root)
    cut_release("2026-01-30", revision=True, reason="summary", progress=False)
    assert main(["validate", "--release", "all", "--format", "json"]) == 0, capsys.readouterr()
    capsys.readouterr()


@pytest.mark.parametrize(("date", "options", "message"), [
    ("2026-01-30", {"revision": True}, "a revision needs --reason"),
    ("2026-01-29", {"revision": True, "reason": "x"}, "no release dated 2026-01-29 to revise"),
    ("2026-01-30", {"revision": True, "reason": "x"}, "nothing to revise"),
    ("2026-11-29", {}, "release 2026-11-29 exists"),
    ("2026-06-01", {}, "older than the latest release 2026-11-29"),
    ("2099-01-01", {}, "is in the future"),
    ("2026-01-30.2", {}, "use --revision"),
])
def test_refused_cuts_change_nothing(released_root, no_consistency, date, options, message):
    before = snapshot(released_root)
    with pytest.raises(ChipSupplyError, match=message):
        cut_release(date, progress=False, **options)
    assert snapshot(released_root) == before


def test_a_date_before_every_source_is_refused(data_root):
    with pytest.raises(ChipSupplyError, match="no source of the draft was public on 2025-12-01 "
                       r"\(the earliest is dated 2026-01-01\)"):
        cut_release("2025-12-01", progress=False)
    assert not (data_root / "releases").exists()
