"""Random corruption of a valid release folder: validate reports it or it was harmless,
never raises and never writes."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import quality, read_folder
from analytics.schemas import DATASETS

BASE = Path(__file__).parent / "corpus" / "base"
# the folder's datasets: every one but those added after its release (evidence, parameters)
FILES = [f"{n}.csv" for n in DATASETS if (BASE / f"{n}.csv").is_file()]
CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "-1", "1e9", "2099-01-01", "1999-12-31", "nvidia", "APR-015", "x;y",
                     "<b>", "=1+1", "\"", ",", "\n", "true", "NaN", "combined", "low"]),
)
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@st.composite
def corruptions(draw):
    file = draw(st.sampled_from(FILES))
    kind = draw(st.sampled_from(["cell", "delete_line", "flip", "truncate", "insert"]))
    return file, kind, draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6)), draw(CELLS), \
        draw(st.integers(1, 255))


def corrupt(path: Path, kind: str, a: int, b: int, cell: str, byte: int) -> None:
    raw = path.read_bytes()
    if kind == "cell":
        lines = raw.decode("utf-8").split("\n")
        i = a % max(len(lines) - 1, 1)
        fields = lines[i].split(",")
        fields[b % len(fields)] = cell
        lines[i] = ",".join(fields)
        path.write_bytes("\n".join(lines).encode("utf-8"))
    elif kind == "delete_line":
        lines = raw.split(b"\n")
        del lines[a % len(lines)]
        path.write_bytes(b"\n".join(lines))
    elif kind == "flip":
        i = a % len(raw)
        path.write_bytes(raw[:i] + bytes([raw[i] ^ byte]) + raw[i + 1:])
    elif kind == "truncate":
        path.write_bytes(raw[: a % len(raw)])
    else:
        i = a % (len(raw) + 1)
        path.write_bytes(raw[:i] + cell.encode("utf-8") + raw[i:])


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def write_manifest(folder: Path) -> None:
    resources = [{"name": p.stem, "path": p.name, "bytes": p.stat().st_size,
                  "hash": hashlib.sha256(p.read_bytes()).hexdigest()}
                 for p in sorted(folder.glob("*.csv"))]
    (folder / "datapackage.json").write_text(json.dumps({"resources": resources}))


def run(corruption, *, manifest: bool, suite: bool = False):
    file, kind, a, b, cell, byte = corruption
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "release"
        shutil.copytree(BASE, folder)
        if manifest:
            write_manifest(folder)
        original = (folder / file).read_bytes()
        corrupt(folder / file, kind, a, b, cell, byte)
        changed = (folder / file).read_bytes() != original
        before = digest(folder)
        result = quality.validate_folder(folder, release_date="2026-11-29", suite=suite)
        assert digest(folder) == before, "validate wrote into its input"
        readable = result.valid and len(read_folder(folder)[0]) == len(FILES)
        return result, changed, readable


@settings(max_examples=25, **SETTINGS)
@given(corruptions())
def test_any_corruption_is_reported_or_harmless(corruption):
    result, changed, readable = run(corruption, manifest=False)
    assert isinstance(result, quality.Result)
    assert not [f for f in result.findings if f.check == "consistency_check_failed"]
    if not changed:
        assert result.valid
    if result.valid:
        # harmless: the corrupted folder still reads into all its tables, which pass the
        # contracts and the cross-dataset checks (only warnings remain)
        assert readable
        assert all(f.severity == "warning" for f in result.findings)


@settings(max_examples=20, **SETTINGS)
@given(corruptions())
def test_with_a_manifest_every_changed_byte_is_an_error(corruption):
    result, changed, _ = run(corruption, manifest=True)
    if changed:
        assert not result.valid
        assert any(f.check in ("manifest_hash", "manifest_bytes") for f in result.errors)
    else:
        assert result.valid


@settings(max_examples=3, **SETTINGS)
@given(corruptions())
def test_the_full_suite_survives_corruption(corruption):
    result, _, _ = run(corruption, manifest=False, suite=True)
    assert json.loads(result.to_json())["valid"] is result.valid
    assert result.to_text().splitlines()[-1].startswith(result.release)
