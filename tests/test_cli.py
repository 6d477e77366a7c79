"""The chip-supply command: help, listing, showing, cutting, comparing, delegating."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import EARLY, LATE, write_folder

from analytics.cli import main

SUBCOMMANDS = ("releases", "show", "release", "diff", "validate", "report")


@pytest.mark.parametrize("argv", [[], *([c] for c in SUBCOMMANDS)])
def test_every_help_exits_0(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: chip-supply")
    if argv:
        assert "examples:\n  chip-supply " + argv[0] in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == "chip-supply 0.1.0"


def test_help_does_not_import_polars():
    code = (
        "import sys\nfrom analytics.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('polars', 'pandera', 'pooch', 'numpy') if m in sys.modules]\n"
        "print(heavy, file=sys.stderr)\nsys.exit(1 if heavy else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_releases_lists_row_counts(released_root, capsys):
    assert main(["releases"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["release", "sources", "entities", "chips", "control_rules",
                                "approvals", "shipments", "lab_compute", "parameters",
                                "evidence"]
    assert lines[1].split() == ["2026-01-30", "1", "3", "1", "1", "2", "1", "0", "1", "9"]
    assert lines[2].split() == ["2026-11-29", "(latest)", "4", "3", "2", "2", "3", "1", "1",
                                "1", "13"]


def test_releases_when_there_are_none(data_root, capsys):
    assert main(["releases"]) == 0
    assert "no releases yet" in capsys.readouterr().out


def test_show_table(released_root, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["show", "entities", "--release", "2026-01-30"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["entity_id", "name", "native_name", "kind", "country"]
    assert "乙实验室" in out and "null" not in out
    assert lines[-1] == "3 rows, 5 columns of 12 (--all shows every column, --columns a,b chooses)"


def test_show_prints_figures_with_their_qualifiers_in_100_columns(released_root, capsys,
                                                                   monkeypatch):
    from analytics.terminal import cell_width

    monkeypatch.setenv("COLUMNS", "100")
    assert main(["show", "approvals"]) == 0
    out = capsys.readouterr().out
    assert "≥ 400,000 combined" in out and "quantity_qualifier" not in out
    assert max(cell_width(line) for line in out.splitlines()) <= 100
    assert main(["show", "shipments"]) == 0
    assert "≈ 2,000 (1,000–3,000) per company" in capsys.readouterr().out


def test_show_columns_with_commas_and_all(released_root, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["show", "chips", "--columns", "chip_id,model", "bf16_dense_tflops"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["chip_id", "model", "bf16_dense_tflops"]
    assert lines[2].split() == ["vendor_a_x1", "X1", "989.4"]
    assert main(["show", "chips", "--all"]) == 0
    out = capsys.readouterr().out
    assert "memory_bw_gbps_basis" in out and "2 rows, 31 columns" in out


def test_show_csv_columns_limit(released_root, capsys):
    assert main(["show", "approvals", "--columns", "event_id", "source_ids", "--limit", "2",
                 "--format", "csv"]) == 0
    assert capsys.readouterr().out == (
        f"event_id,source_ids\nAPR-001,{EARLY}\nAPR-002,{EARLY};{LATE}\n"
    )


def test_show_csv_neutralises_formulas(data_root, tiny_tables, capsys):
    payloads = ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2", "@SUM(A1)"]
    approvals = tiny_tables["approvals"].with_columns(
        summary=pl.Series(payloads[:3]),
        conditions=pl.Series([payloads[3], None, "fine"]),
    )
    write_folder(data_root / "draft", {"approvals": approvals})
    assert main(["show", "approvals", "--release", "draft", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["summary"] for r in rows] == ["'" + p for p in payloads[:3]]
    assert [r["conditions"] for r in rows] == ["'@SUM(A1)", "", "fine"]
    assert rows[0]["quantity_units"] == "400000"


def test_show_json(released_root, capsys):
    assert main(["show", "shipments", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["record_id"], row["units"], row["period_start"]) == ("SHP-001", 2000, "2026-01-01")


def test_show_unknown_column_exits_2(released_root, capsys):
    assert main(["show", "chips", "--columns", "tpp"]) == 2
    assert "no column tpp in chips" in capsys.readouterr().err


def test_show_unknown_dataset_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["show", "gpus"])
    assert exit_.value.code == 2


def test_diff_text_and_json(released_root, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["diff", "approvals", "2026-01-30", "2026-11-29"]) == 0
    out = capsys.readouterr().out
    head = "approvals 2026-01-30 -> 2026-11-29: 1 added, 0 removed, 1 changed"
    assert out.splitlines()[0] == head
    added = out.split("  + APR-003\n")[1]  # what the added row says
    assert "      summary             Denied" in added
    assert "      action              deny" in added
    changed = [ln for ln in out.splitlines() if "→" in ln and ln.startswith("      ")]
    assert [ln.split() for ln in changed] == [["source_ids", EARLY, "→", f"{EARLY};", LATE]]
    assert changed[0].index("→") < 60  # old | new side by side
    assert main(["diff", "approvals", "2026-01-30", "2026-11-29", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["added"] == ["APR-003"] and doc["removed"] == []
    assert doc["changed"] == {"APR-002": {"source_ids": {"old": [EARLY], "new": [EARLY, LATE]}}}


def test_release_cuts_and_refuses_an_existing_version(data_root, no_consistency, capsys):
    assert main(["release", "2026-01-30"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(data_root / "releases" / "2026-01-30")
    assert "[5/6] writing 9 datasets" in err
    registry = (data_root / "registry.txt").read_bytes()
    assert main(["release", "2026-01-30"]) == 2
    assert "release 2026-01-30 exists; releases never change" in capsys.readouterr().err
    assert (data_root / "registry.txt").read_bytes() == registry


def test_release_invalid_draft_exits_1_listing_every_finding(data_root, no_consistency, capsys):
    path = data_root / "draft" / "approvals.csv"
    path.write_text(path.read_text().replace("at_least", "roughly").replace("APR-003", "APR-3"))
    assert main(["release", "2026-01-30"]) == 1
    err = capsys.readouterr().err
    assert "error: 2 error(s) in the data; nothing was written" in err
    assert "approvals[APR-001].quantity_qualifier: isin(" in err
    assert "approvals[APR-3].event_id: str_matches(" in err
    assert not (data_root / "releases" / "2026-01-30").exists()
    assert not (data_root / "registry.txt").exists()


def test_release_with_draft_option(data_root, tmp_path, tiny_tables, no_consistency, capsys):
    other = write_folder(tmp_path / "elsewhere", tiny_tables)
    (data_root / "draft" / "chips.csv").unlink()  # the default draft is broken
    assert main(["release", "2026-11-29", "--draft", str(other)]) == 0


# --------------------------------------------------------------------------- could not run
NONSENSE = [
    ["releases"],
    ["show", "chips", "--limit", "-5"],
    ["show", "chips", "--limit", "many"],
    ["show", "chips", "--release", "../../etc"],
    ["show", "chips", "--release", "2099-99-99"],
    ["show", "chips", "--columns", "\x1b[2J"],
    ["release", "2026-13-45"],
    ["release", "2099-01-01"],
    ["release", "latest"],
    ["release", "2026-01-30", "--revision"],
    ["release", "2026-12-01", "--draft", "/nonexistent/draft"],
    ["diff", "chips", "nope", "2026-11-29"],
    ["diff", "chips", "2026-01-30", "../x"],
    ["validate", "--release", "../draft"],
    ["validate", "/nonexistent/folder"],
    ["validate", "--release", "9999-01-01"],
    ["validate", "--draft", "--data-docs", "/proc/self/status"],
    ["report", "--release", "2000-01-01"],
    ["report", "--jobs", "0"],
    ["report", "--jobs", "-1"],
    ["report", "--out", "/etc/hostname"],
    ["report", "--out", "/proc/nope/x"],
]
ENVIRONMENTS = [
    {},
    {"CHIP_SUPPLY_DATA_DIR": "/nonexistent/data"},
    {"CHIP_SUPPLY_DATA_URL": "file:///etc/"},
    {"CHIP_SUPPLY_DATA_URL": "gopher://example.org/"},
    {"CHIP_SUPPLY_CACHE_DIR": "/proc/nope", "CHIP_SUPPLY_DATA_URL": "http://127.0.0.1:9/"},
]


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda e: ",".join(e) or "plain")
def test_nonsense_never_shows_a_traceback(released_root, monkeypatch, capsys, env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for argv in NONSENSE:
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse: a usage error
            code = exit_.code
        out, err = capsys.readouterr()
        if argv == ["releases"] and code == 0:  # a sensible command in a usable environment
            continue
        assert code == 2, (argv, env, out, err)
        assert "Traceback" not in err and err.strip(), (argv, env, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 or lines[0].startswith("usage:"), (argv, env, err)
        assert "\x1b" not in err


def test_data_dir_pointing_nowhere_is_not_an_empty_tree(monkeypatch, capsys):
    monkeypatch.setenv("CHIP_SUPPLY_DATA_DIR", "/nonexistent/data")
    assert main(["releases"]) == 2
    err = capsys.readouterr().err
    assert "CHIP_SUPPLY_DATA_DIR points at /nonexistent/data" in err


def test_limit_and_jobs_are_checked(released_root, capsys):
    for argv in (["show", "chips", "--limit", "-5"], ["report", "--jobs", "0"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "-5 is less than 0" in err and "0 is less than 1" in err
    assert main(["show", "chips", "--limit", "0", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("chip_id,")


def test_report_of_a_missing_release_stops_before_any_notebook(released_root, capsys, tmp_path):
    out = tmp_path / "report"
    assert main(["report", "--release", "2000-01-01", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "release '2000-01-01' is not here" in err and "cell" not in err
    assert not out.exists()


def test_validate_a_missing_draft_exits_2(data_root, capsys):
    import shutil

    shutil.rmtree(data_root / "draft")
    assert main(["validate", "--draft"]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_ctrl_c_during_validate_is_one_line(tmp_path):
    import os
    import signal
    import time

    from analytics import paths

    env = {**os.environ, "PYTHONPATH": str(paths.REPO_ROOT)}
    exe = Path(sys.executable).with_name("chip-supply")  # the installed command
    proc = subprocess.Popen([str(exe), "validate", "--draft"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    status = Path(f"/proc/{proc.pid}/status")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:  # until it is at work:
        rss = re.search(r"VmRSS:\s+(\d+)", status.read_text()) if status.exists() else None
        if rss and int(rss.group(1)) > 150_000:  # polars and pandera loaded (150 MB)
            break
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip() == "error: interrupted; nothing was written"


def test_readme_exit_codes_cover_every_subcommand():
    from analytics import paths

    readme = (paths.REPO_ROOT / "README.md").read_text()
    table = readme.split("### Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in ("`0`", "`1`", "`2`", "`130`"):
        assert code in table
    for command in SUBCOMMANDS:
        assert f"`{command}`" in table, command


def test_validate_all_checks_every_revision_by_its_full_id():
    import analytics
    from analytics import cli

    args = cli.build_parser().parse_args(["validate", "--release", "all"])
    jobs = [r for _, r in cli._validation_jobs(args)]
    assert jobs[:2] == ["2026-01-30.1", "2026-01-30.2"]
    assert len(jobs) == len(set(jobs)) == len(analytics.releases())
