"""Cutting a release safely: killed at every stage, two cuts at once, nothing lost or half-made.

Each cut here is a separate ``chip-supply release`` process. ``CHIP_SUPPLY_PAUSE_AT``
stops it at a stage, where it is killed with SIGKILL; the next cut must leave the data
tree exactly as an uninterrupted cut would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from analytics import paths
from analytics.journal import STAGES
from analytics.manifest import Manifest
from analytics.publish import cut_release
from analytics.registry import manifest_digests, releases

pytestmark = pytest.mark.xdist_group("cutting")
DATE = "2026-12-01"


def start(root, date, *, pause=None, extra=()):
    env = {**os.environ, "CHIP_SUPPLY_DATA_DIR": str(root),
           "PYTHONPATH": str(paths.REPO_ROOT)}
    env.pop("CHIP_SUPPLY_PAUSE_AT", None)
    if pause:
        env["CHIP_SUPPLY_PAUSE_AT"] = pause
    return subprocess.Popen([sys.executable, "-m", "analytics.cli", "release", date, *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(proc, text, timeout=120.0) -> str:
    """Read the process's stderr until a line holds ``text``; everything read."""
    seen: list[str] = []
    done = threading.Event()

    def read():
        for line in proc.stderr:
            seen.append(line)
            if text in line:
                done.set()
                return
        done.set()

    threading.Thread(target=read, daemon=True).start()
    if not done.wait(timeout) or not any(text in line for line in seen):
        proc.kill()
        pytest.fail(f"never saw {text!r}: {''.join(seen)}")
    return "".join(seen)


def assert_whole(root) -> None:
    """The data tree is consistent: every release registered, logged once, verified; no leftover."""
    leftovers = [p.name for p in (root / "releases").iterdir() if p.name.startswith(".")]
    assert leftovers == [] and not (root / ".release-journal.json").exists()
    digests = manifest_digests()
    assert sorted(p.name for p in (root / "releases").iterdir()) == sorted(digests)
    log = (root / "CHANGELOG.md").read_text().splitlines()
    for release in digests:
        assert sum(line.split(" ")[:2] == ["##", release] for line in log) == 1, release
        folder = root / "releases" / release
        manifest = Manifest.parse((folder / "datapackage.json").read_bytes(), release)
        assert {p.name for p in folder.iterdir()} == {*manifest.files, "datapackage.json"}
    headings = [line.split(" ")[1] for line in log if line.startswith("## ")]
    assert sorted(headings) == sorted(digests)


@pytest.mark.parametrize("stage", STAGES)
def test_killed_at_every_stage_then_the_next_cut_recovers(released_root, stage):
    proc = start(released_root, DATE, pause=stage)
    wait_for(proc, f"paused at {stage}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    # between the crash and the next cut, readers still resolve "latest" to a whole release
    assert releases()[-1] in ("2026-11-29", DATE)
    if stage in ("registered", "logged"):  # published before the kill: the next cut completes it
        with pytest.raises(Exception, match=f"release {DATE} exists"):
            cut_release(DATE, progress=False)
    else:
        assert cut_release(DATE, progress=False) == paths.release_dir(DATE)
    assert releases() == ["2026-01-30", "2026-11-29", DATE]
    assert_whole(released_root)


def test_a_second_cut_waits_for_the_first_and_cleans_up_after_it(released_root):
    first = start(released_root, DATE, pause="written")
    wait_for(first, "paused at written")
    second = start(released_root, "2026-12-02")
    wait_for(second, "waiting for another `chip-supply release` to finish")
    assert (released_root / "releases").exists()
    time.sleep(0.5)
    assert second.poll() is None  # still waiting for the lock
    os.kill(first.pid, signal.SIGKILL)
    first.wait(30)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "removed .2026-12-01.partial" in err
    assert releases() == ["2026-01-30", "2026-11-29", "2026-12-02"]
    assert_whole(released_root)


def test_two_cuts_at_once_lose_nothing(released_root):
    procs = [start(released_root, DATE), start(released_root, DATE),
             start(released_root, "2026-12-02")]
    results = [(p.wait(180), p.stderr.read()) for p in procs]
    # one cut at a time: the later date always lands; at most one cut of the earlier date
    # does, and only if it came before the later one
    assert results[2][0] == 0, results[2][1]
    assert sorted(code for code, _ in results[:2]) in ([0, 2], [2, 2]), results
    for code, err in results[:2]:
        assert code == 0 or f"release {DATE} exists" in err or "older than the latest" in err
    landed = [DATE] if any(code == 0 for code, _ in results[:2]) else []
    assert releases() == ["2026-01-30", "2026-11-29", *landed, "2026-12-02"]
    assert_whole(released_root)
