"""The validate command end to end: results, the great_expectations suite, Data Docs, releases."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import BASE

import analytics
from analytics import expectations, paths, quality
from analytics.cli import main
from analytics.errors import Finding
from analytics.tables import read_folder

RELEASES = ("2026-01-30", "2026-01-30.1", "2026-11-29", "2026-12-06")


def test_result_sorts_and_serialises():
    w = Finding("warning", "approvals", "APR-1", "", "x", "", "late")
    e = Finding("error", "chips", "c", "tpp_stated", "tpp_mismatch", "1", "off")
    r = quality.Result("r", [w, e, w])
    assert r.findings == [e, w] and not r.valid
    doc = json.loads(r.to_json())
    assert doc["valid"] is False and doc["release"] == "r"
    assert [f["check"] for f in doc["findings"]] == ["tpp_mismatch", "x"]
    text = r.to_text().splitlines()
    assert text[0] == "approvals" and text[2] == "chips"
    assert text[-1] == "r: INVALID: 1 error(s), 1 warning(s)"


def test_freshness_is_a_plain_warning(base_tables):
    found = expectations.run_suite(base_tables, release_date=dt.date(2026, 11, 29))
    fresh = [f for f in found if f.key == "approvals.date"]
    assert [(f.severity, f.check, f.value) for f in fresh] == [
        ("warning", "expect_column_values_to_be_between", "2026-01-28")
    ]
    assert "305 days before the release date 2026-11-29" in fresh[0].message
    assert all(f.severity == "warning" for f in found)
    recent = expectations.run_suite(base_tables, release_date=dt.date(2026, 2, 1))
    assert not [f for f in recent if f.key in ("approvals.date", "sources.published_date")]


def test_confidence_share_and_completeness(base_tables):
    found = expectations.run_suite(base_tables, release_date=dt.date(2026, 2, 1))
    low = [f for f in found if "low confidence" in f.message]
    assert [(f.dataset, f.value) for f in low] == [("shipments", "100%")]
    chips = base_tables["chips"].with_columns(pl.lit(None, dtype=pl.Float64).alias("die_area_mm2"))
    found = expectations.run_suite({**base_tables, "chips": chips},
                                   release_date=dt.date(2026, 2, 1))
    gaps = [f for f in found if f.check == "expect_column_values_to_not_be_null"]
    assert [(f.dataset, f.column, f.value) for f in gaps] == [("chips", "die_area_mm2", "0%")]


def test_drift_needs_a_changelog_entry(base_tables):
    new = dict(base_tables)
    new["approvals"] = base_tables["approvals"].filter(pl.col("event_id") != "APR-024")
    new["chips"] = base_tables["chips"].with_columns(
        pl.when(pl.col("chip_id") == "nvidia_h20_96gb").then(pl.lit("HGX H20"))
        .otherwise(pl.col("model")).alias("model")
    )
    day = dt.date(2026, 2, 1)
    found = expectations.run_suite(new, release_date=day, previous=base_tables, documented="")
    drift = [(f.severity, f.dataset, f.key, f.value) for f in found
             if f.check == "expect_column_values_to_be_in_set"]
    assert drift == [("error", "approvals", "APR-024", "removed"),
                     ("error", "chips", "nvidia_h20_96gb", "changed")]
    documented = "## 2026-02-01\n- removed: APR-024\n- changed nvidia_h20_96gb: model\n"
    found = expectations.run_suite(new, release_date=day, previous=base_tables,
                                   documented=documented)
    assert not [f for f in found if f.check == "expect_column_values_to_be_in_set"]
    # a draft or folder: drift is only a warning
    found = expectations.run_suite(new, release_date=day, previous=base_tables)
    assert {f.severity for f in found if f.check == "expect_column_values_to_be_in_set"} == {
        "warning"
    }


def test_the_suite_finds_the_same_with_and_without_data_docs(base_tables, tmp_path):
    new = dict(base_tables)
    new["approvals"] = base_tables["approvals"].filter(pl.col("event_id") != "APR-024")
    new["chips"] = base_tables["chips"].with_columns(
        pl.lit(None, dtype=pl.Float64).alias("die_area_mm2"))
    day = dt.date(2026, 11, 29)  # stale: freshness fails too
    plain = expectations.run_suite(new, release_date=day, previous=base_tables, documented="")
    docs = expectations.run_suite(new, release_date=day, previous=base_tables, documented="",
                                  data_docs=tmp_path / "docs")
    assert sorted(plain) == sorted(docs)
    assert {(f.check, f.dataset) for f in plain} >= {
        ("expect_column_values_to_be_in_set", "approvals"),  # drift
        ("expect_column_values_to_be_between", "approvals"),  # freshness
        ("expect_column_values_to_not_be_null", "chips")}  # completeness
    assert (tmp_path / "docs" / "index.html").is_file()


def test_data_docs_written_and_input_untouched(tmp_path, capsys):
    folder = tmp_path / "in"
    shutil.copytree(BASE, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    docs = tmp_path / "docs"
    code = main(["validate", str(folder), "--data-docs", str(docs)])
    out = capsys.readouterr().out
    assert code == 0
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert index.lstrip().lower().startswith("<!doctype html") and "</html>" in index
    assert any((docs / "validations").rglob("*.html"))
    assert f"Data Docs: {docs / 'index.html'}" in out
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_strict_turns_warnings_into_failure(tmp_path, capsys):
    assert main(["validate", str(BASE)]) == 0
    assert main(["validate", str(BASE), "--strict"]) == 1
    capsys.readouterr()


def test_cannot_run_exits_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["validate", "--release", "1999-01-01"]) == 2
    assert "not found" in capsys.readouterr().err


def test_json_output(capsys):
    assert main(["validate", str(BASE), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"valid", "release", "findings"} and doc["valid"] is True
    assert set(doc["findings"][0]) == {"severity", "dataset", "key", "column", "check", "value",
                                       "message"}


def test_suite_skips_large_tables_by_sampling(base_tables):
    big = pl.concat([base_tables["shipments"]] * 60_000)  # 120,000 rows
    frames = expectations._aggregates({"shipments": big}, release_date=dt.date(2026, 2, 1),
                                 previous=None, documented=None)
    assert frames["shipments_completeness"][0].height == expectations.SAMPLE_ROWS
    assert frames["confidence"][0].height == 1


# --------------------------------------------------------------------------- real releases
def _released(release: str) -> Path:
    folder = paths.release_dir(release.removesuffix(".1"))  # the first revision is the date
    if not (folder / "datapackage.json").is_file():
        pytest.skip(f"release {release} is not cut yet ({folder} missing)")
    return folder


@pytest.mark.parametrize("release", RELEASES)
def test_release_validates_with_data_docs(release, tmp_path, capsys):
    from analytics import cli

    _released(release)
    docs = tmp_path / "docs"
    code = cli.main(["validate", "--release", release, "--data-docs", str(docs)])
    out = capsys.readouterr().out
    assert code == 0, out
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert "<html" in index.lower() and "</html>" in index.lower()
    resolved = analytics.resolve(release)  # a date alone is its newest revision
    assert out.splitlines()[-2].startswith(f"{resolved}: valid")
    # the entry page works offline: no script, no remote resource, every finding listed
    assert "<script" not in index and "https://" not in index.split("</h1>", 1)[1]
    assert f"{resolved}: valid" in index and "gx-index.html" in index
    assert (docs / "gx-index.html").is_file()
    for page in re.findall(r'href="(validations/[^"]+)"', index):
        assert (docs / page).is_file()


def test_latest_release_freshness_warning_is_stated():
    folder = _released("2026-11-29")
    result = quality.validate_release(folder.name)
    fresh = [f for f in result.warnings if f.key == "approvals.date"]
    assert fresh and "days before the release date 2026-11-29" in fresh[0].message


@pytest.mark.parametrize("release", RELEASES)
def test_datapackage_passes_frictionless(release):
    import frictionless

    folder = _released(release)
    report = frictionless.validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:20]


def test_h200_delivery_in_a_copy_of_the_real_release(tmp_path):
    folder = _released("2026-11-29")
    copy = tmp_path / "2026-11-29"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("datapackage.json", "*.parquet"))
    shp = (copy / "shipments.csv").read_text(encoding="utf-8")
    head = shp.splitlines()[0].split(",")
    row = dict.fromkeys(head, "")
    src = read_folder(copy)[0]["sources"].get_column("source_id")[0]
    row.update(record_id="SHP-999", record_type="delivery", period_start="2025-06-01",
               period_end="2025-06-30", period_precision="month",
               chip_ids="nvidia_h200_sxm_141gb", product_scope="H200", vendor_id="nvidia",
               buyer_scope="China (aggregate)", destination="CN", units="1000",
               method="reported", source_ids=src, confidence="low")
    (copy / "shipments.csv").write_text(shp + ",".join(row[c] for c in head) + "\n",
                                        encoding="utf-8")
    result = quality.validate_folder(copy, suite=False)
    hits = [f for f in result.errors if f.check == "delivery_without_approval"]
    assert [(f.key, f.value) for f in hits] == [("SHP-999", "nvidia_h200_sxm_141gb")]


def test_ci_workflow_and_pre_commit_hook():
    import yaml

    root = paths.REPO_ROOT
    flow = yaml.safe_load((root / ".github/workflows/validate.yml").read_text())
    assert flow[True]["pull_request"]["paths"] == ["data/**"]  # YAML reads `on:` as True
    steps = flow["jobs"]["validate"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "chip-supply validate --release all --data-docs" in runs
    assert "chip-supply validate --draft" in runs
    assert any(s.get("with", {}).get("python-version") == "3.11" for s in steps)
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)
    (hook,) = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "chip-supply-validate"
    assert hook["entry"] == "chip-supply validate --draft"
    assert hook["files"] == "^data/draft/" and hook["pass_filenames"] is False


def test_one_contract_error_never_hides_the_tables_other_findings(tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(BASE, folder)
    path = folder / "shipments.csv"
    text = path.read_text(encoding="utf-8")
    text = text.replace(",320000,,330000,", ",-5,,330000,", 1)  # SHP-004: a contract error
    text = text.replace(",reported,trendforce-20240924-h20-halted,low,Deliveries",
                        ",reported,no-such-source,low,Deliveries", 1)  # SHP-005: dangling
    path.write_text(text, encoding="utf-8")
    result = quality.validate_folder(folder, suite=False)
    found = {(f.key, f.column, f.check): f for f in result.errors}
    negative = found[("SHP-004", "units_low", "greater_than_or_equal_to(0)")]
    assert negative.message == "units_low must be ≥ 0: correct the figure or empty it"
    assert any(k == "SHP-005" and c == "source_ids" for k, c, _ in found), sorted(found)


def test_every_finding_says_what_to_do(tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(BASE, folder)
    path = folder / "shipments.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",320000,,330000,", ",340000,,330000,",
                                                              1), encoding="utf-8")
    result = quality.validate_folder(folder, suite=False)
    [triplet] = [f for f in result.errors if f.check == "units_triplet_ordered"]
    assert (triplet.key, triplet.column) == ("SHP-004", "units_low")
    assert triplet.value == "units_low=340000, units=None, units_high=330000"
    assert "put the low, central and high figures in order" in triplet.message
    assert all(":" in f.message for f in result.findings)
