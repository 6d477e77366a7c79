"""Broken inputs: `chip-supply validate` reports each with its finding and changes nothing.

Every case in ``tests/corpus/cases.json`` copies the valid folder ``tests/corpus/base/``,
breaks one thing and expects an exit code and a finding.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BASE

from analytics import cli

CORPUS = BASE.parent
MANIFEST = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))
CASES = {c["case"]: c for c in MANIFEST["cases"]}


def _rewrite_csv(path: Path, edit) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(edit(rows))
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


def _manifest(folder: Path) -> None:
    resources = [
        {"name": p.stem, "path": p.name, "bytes": p.stat().st_size,
         "hash": hashlib.sha256(p.read_bytes()).hexdigest()}
        for p in sorted(folder.glob("*.csv"))
    ]
    (folder / "datapackage.json").write_text(json.dumps({"resources": resources}), encoding="utf-8")


def apply(op: dict, folder: Path) -> None:
    """Apply one corruption of the manifest to ``folder``."""
    kind = op["op"]
    path = folder / op.get("file", "")
    if kind == "replace":
        raw = path.read_bytes()
        old = op["old"].encode()
        assert old in raw, f"{op['old']!r} not in {path.name}"
        new = bytes.fromhex(op["new_hex"]) if "new_hex" in op else op["new"].encode()
        path.write_bytes(raw.replace(old, new, 1))
    elif kind == "prepend":
        path.write_bytes(bytes.fromhex(op["hex"]) + path.read_bytes())
    elif kind == "append":
        path.write_bytes(path.read_bytes() + op["text"].encode())
    elif kind == "write":
        path.write_bytes(op["text"].encode())
    elif kind == "remove":
        path.unlink()
    elif kind == "symlink":
        path.unlink()
        path.symlink_to(op["target"])
    elif kind == "fifo":
        path.unlink()
        os.mkfifo(path)
    elif kind == "remove_folder":
        shutil.rmtree(folder)
    elif kind == "delimiter":
        _rewrite_csv(path, lambda rows: [[";".join(r)] for r in rows])
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('"', ""), encoding="utf-8")
    elif kind == "drop_column":
        def drop(rows):
            i = rows[0].index(op["column"])
            return [r[:i] + r[i + 1:] for r in rows]
        _rewrite_csv(path, drop)
    elif kind == "add_column":
        _rewrite_csv(path, lambda rows: [rows[0] + [op["column"]]] + [
            r + [op["value"]] for r in rows[1:]
        ])
    elif kind == "manifest":
        _manifest(folder)
    elif kind == "drop_last_line":
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"".join(lines[:-1]))
    elif kind == "truncate":
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) - op["drop"]])
    else:  # pragma: no cover - a typo in the manifest
        raise ValueError(f"unknown op {kind}")


def build(case: dict, root: Path) -> Path:
    folder = root / case["case"]
    shutil.copytree(BASE, folder)
    for op in case["ops"]:
        apply(op, folder)
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()
    }


def matches(finding: dict, case: dict) -> bool:
    return (
        finding["dataset"] == case["dataset"]
        and finding["check"].startswith(case["check"])
        and all(finding[f] == case[f] for f in ("key", "column", "value", "severity") if f in case)
    )


def test_manifest_covers_the_required_kinds():
    assert len(CASES) >= 25
    checks = {c.get("check") for c in CASES.values()}
    for needed in (
        "malformed_csv", "delimiter", "bom", "encoding", "empty_file", "column_in_dataframe",
        "column_in_schema", "coerce_dtype", "field_uniqueness", "dangling_reference",
        "units_triplet_ordered", "greater_than_or_equal_to", "after_release_date",
        "quantity_scope_mismatch", "at_least_one_source", "oversized_field", "html_in_text",
        "formula_in_text", "manifest_bytes", "delivery_without_approval",
    ):
        assert needed in checks, needed
    assert {c["exit"] for c in CASES.values()} == {1, 2}


def test_base_is_valid(capsys):
    assert cli.main(["validate", str(BASE), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is True
    assert all(f["severity"] == "warning" for f in doc["findings"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name, tmp_path, capsys):
    case = CASES[name]
    folder = build(case, tmp_path)
    before = snapshot(folder)
    code = cli.main(["validate", str(folder), "--format", "json", *case.get("args", [])])
    out, err = capsys.readouterr()
    assert snapshot(folder) == before, "validate changed its input"
    assert code == case["exit"], out + err
    if code == 2:
        assert "cannot validate" in err and len(err.strip().splitlines()) == 1
        assert "Traceback" not in err
        if case["case"] == "symlinked_file":  # names the path, echoes nothing of the target
            assert "symbolic link" in err and Path("/etc/hostname").read_text().strip() not in err
        return
    doc = json.loads(out)
    assert doc["valid"] is (case.get("severity") == "warning")
    hits = [f for f in doc["findings"] if matches(f, case)]
    assert hits, json.dumps(doc["findings"], indent=1, ensure_ascii=False)
    assert all(f["message"] for f in hits)


@pytest.mark.parametrize("name", ["byte_order_mark", "delivery_without_approval_h200"])
def test_case_through_the_installed_command(name, tmp_path):
    case = CASES[name]
    folder = build(case, tmp_path)
    before = snapshot(folder)
    exe = Path(sys.executable).with_name("chip-supply")
    proc = subprocess.run(
        [str(exe), "validate", str(folder)], capture_output=True, text=True, timeout=300
    )
    assert snapshot(folder) == before
    assert proc.returncode == case["exit"], proc.stderr
    assert case["check"] in proc.stdout
    assert "INVALID" in proc.stdout.splitlines()[-1]
