"""One integrity chain: registry -> manifest -> every file, refused wherever it breaks.

A copy of the repository's releases is tampered with the way an attacker would: the
Parquet copy of shipments rewritten with SHP-001's units x9, and then each record that
could vouch for it rewritten as well. Every reader refuses, naming the file and both
hashes; once every record is rewritten, validation still proves CSV and Parquet differ.
"""

from __future__ import annotations

import json
import shutil

import polars as pl
import pytest

from analytics import datasets, paths, quality
from analytics.cli import main
from analytics.errors import HashMismatchError, IntegrityError
from analytics.hashes import sha256
from analytics.registry import format_registry, manifest_digests, read_registry

RELEASE = "2026-11-29"
FILE = "shipments.parquet"


@pytest.fixture
def real_root(tmp_path, monkeypatch):
    """A copy of the repository's releases, registry and changelog as the data root."""
    src = paths.REPO_ROOT / "data"
    root = tmp_path / "data"
    shutil.copytree(src / "releases", root / "releases")
    for name in ("registry.txt", "CHANGELOG.md"):
        shutil.copy2(src / name, root / name)
    monkeypatch.setenv("CHIP_SUPPLY_DATA_DIR", str(root))
    monkeypatch.setenv("CHIP_SUPPLY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CHIP_SUPPLY_DATA_URL", raising=False)
    return root


def tamper(root) -> tuple[str, str]:
    """Rewrite the release's shipments.parquet with SHP-001 units x9: (old, new) sha256."""
    path = root / "releases" / RELEASE / FILE
    old = sha256(path)
    df = pl.read_parquet(path)
    df = df.with_columns(
        pl.when(pl.col("record_id") == "SHP-001").then(pl.col("units") * 9)
        .otherwise(pl.col("units")).alias("units")
    )
    df.write_parquet(path)
    return old, sha256(path)


def rewrite_manifest(root, new: str) -> None:
    """Record the tampered file's hash and size in the release's manifest."""
    folder = root / "releases" / RELEASE
    doc = json.loads((folder / "datapackage.json").read_text())
    for res in doc["resources"]:
        if res["parquet"]["path"] == FILE:
            res["parquet"].update(hash=new, bytes=(folder / FILE).stat().st_size)
    (folder / "datapackage.json").write_text(json.dumps(doc, indent=2))


def register(root) -> None:
    digests = manifest_digests()
    digests[RELEASE] = sha256(root / "releases" / RELEASE / "datapackage.json")
    (root / "registry.txt").write_text(format_registry(digests))


def test_untampered_copy_loads(real_root):
    assert datasets.load("shipments", release=RELEASE).height > 0


def test_tampered_parquet_is_refused_by_every_reader(real_root, capsys):
    old, new = tamper(real_root)
    with pytest.raises(HashMismatchError) as err:
        datasets.load("shipments", release=RELEASE)
    assert (err.value.expected, err.value.actual) == (old, new)
    assert all(s in str(err.value) for s in (FILE, old, new))
    assert main(["show", "shipments", "--release", RELEASE]) == 2
    err_text = capsys.readouterr().err
    assert FILE in err_text and old in err_text and new in err_text
    assert "Traceback" not in err_text
    assert main(["validate", "--release", RELEASE, "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(f["dataset"], f["check"], f["value"]) for f in doc["findings"]] == [
        ("shipments", "sha256", new)
    ]
    assert main(["report", "--release", RELEASE, "--out", str(real_root / "r")]) == 2
    assert FILE in capsys.readouterr().err
    assert not (real_root / "r").exists()  # refused before any notebook ran


def test_tampered_parquet_with_its_registry_line_updated_is_refused(real_root):
    old, new = tamper(real_root)
    with (real_root / "registry.txt").open("a") as fh:  # a line of the older format
        fh.write(f"releases/{RELEASE}/{FILE} {new}\n")
    with pytest.raises(HashMismatchError) as err:
        datasets.load("shipments", release=RELEASE)
    message = str(err.value)
    assert FILE in message and old in message and new in message
    assert "disagree" in message


def test_tampered_parquet_with_its_manifest_rewritten_is_refused(real_root):
    _, new = tamper(real_root)
    registered = read_registry()[f"releases/{RELEASE}/datapackage.json"]
    rewrite_manifest(real_root, new)
    with pytest.raises(HashMismatchError) as err:
        datasets.load("shipments", release=RELEASE)
    assert err.value.path.name == "datapackage.json"
    assert err.value.expected == registered
    assert err.value.actual == sha256(real_root / "releases" / RELEASE / "datapackage.json")


def test_every_record_rewritten_still_fails_validation(real_root, capsys):
    tamper(real_root)
    rewrite_manifest(real_root, sha256(real_root / "releases" / RELEASE / FILE))
    register(real_root)
    result = quality.validate_release(RELEASE, suite=False)
    hits = [(f.key, f.column, f.check) for f in result.errors]
    assert ("SHP-001", "units", "csv_parquet_differ") in hits
    assert main(["validate", "--release", RELEASE]) == 1
    assert "csv_parquet_differ" in capsys.readouterr().out


def test_a_file_the_manifest_does_not_list_is_refused(real_root):
    folder = real_root / "releases" / RELEASE
    shutil.copy2(folder / "chips.csv", folder / "gpus.csv")
    with pytest.raises(IntegrityError, match="not listed in the release's manifest"):
        datasets.load("chips", release=RELEASE)


def test_registry_of_the_older_format_still_loads(real_root):
    lines = []
    for release in manifest_digests():
        folder = real_root / "releases" / release
        lines += [f"releases/{release}/{p.name} {sha256(p)}\n" for p in sorted(folder.iterdir())]
    (real_root / "registry.txt").write_text("".join(lines))
    assert datasets.load("chips", release="2026-01-30").height > 0


def test_registry_is_a_pooch_registry(real_root):
    pooch = pytest.importorskip("pooch")
    fetcher = pooch.create(path=real_root / "p", base_url="https://example.org/")
    fetcher.load_registry(real_root / "registry.txt")
    assert set(fetcher.registry) == {f"releases/{r}/datapackage.json" for r in manifest_digests()}
    assert all(v == d.split(":")[1] or v == d for v, d in zip(
        fetcher.registry.values(), read_registry().values(), strict=True))


def test_latin1_byte_in_the_registry_is_a_one_line_error(real_root, capsys):
    raw = (real_root / "registry.txt").read_bytes()
    (real_root / "registry.txt").write_bytes(raw.replace(b"# The", b"# Th\xe9", 1))
    assert main(["releases"]) == 2
    err = capsys.readouterr().err
    assert "line 1 is not UTF-8" in err and len(err.strip().splitlines()) == 1


def test_a_registry_that_drops_the_manifest_is_refused(real_root):
    _, new = tamper(real_root)
    lines = [f"releases/{RELEASE}/{p.name} {sha256(p)}\n"
             for p in sorted((real_root / "releases" / RELEASE).iterdir())
             if p.name != "datapackage.json"]
    (real_root / "registry.txt").write_text("".join(lines))
    with pytest.raises(IntegrityError, match="but not its manifest datapackage.json"):
        datasets.load("shipments", release=RELEASE)
