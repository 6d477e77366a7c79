"""One release cut at a time, and a cut that died half-way finished or undone on the next run.

``chip-supply release`` holds a lock on ``data/.release.lock`` (an OS file lock, so a
killed process never leaves it held) and writes a journal, ``data/.release-journal.json``,
before it renames the new release folder into place. The rename makes the release
exist; registering it in ``data/registry.txt`` publishes it. So the next cut, under the
lock, reads the journal of a cut that died: a release the registry lists gets the
changelog entry the journal holds; one it does not list is removed. Hidden
``.partial`` folders and release folders the registry does not list are removed too.

Setting ``CHIP_SUPPLY_PAUSE_AT`` to a stage name (:data:`STAGES`) makes a cut stop there
and wait until it is killed: the tests use it to kill a cut at every stage.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from analytics import paths
from analytics.errors import ChipSupplyError
from analytics.registry import RELEASE_ID, read_registry

PAUSE_ENV = "CHIP_SUPPLY_PAUSE_AT"
LOCK_TIMEOUT = 600.0  # seconds a cut waits for another one to finish
#: Where a cut can be stopped by :data:`PAUSE_ENV`, in order.
STAGES = ("locked", "writing", "written", "journaled", "renamed", "registered", "logged")


def pause(stage: str) -> None:
    """Stop here and wait to be killed when ``CHIP_SUPPLY_PAUSE_AT`` names ``stage``.

    Examples
    --------
    >>> pause("written")  # the variable is unset: returns at once
    """
    if os.environ.get(PAUSE_ENV) == stage:
        print(f"paused at {stage}", file=sys.stderr, flush=True)
        while True:
            time.sleep(60)


def lock_path() -> Path:
    return paths.data_dir() / ".release.lock"


def journal_path() -> Path:
    return paths.data_dir() / ".release-journal.json"


@contextlib.contextmanager
def cut_lock(say: Callable[[str], None]) -> Iterator[None]:
    """Hold the data tree's release lock; wait for another cut up to :data:`LOCK_TIMEOUT`.

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["CHIP_SUPPLY_DATA_DIR"] = tempfile.mkdtemp()
    >>> with cut_lock(print):
    ...     lock_path().is_file()
    True
    >>> del os.environ["CHIP_SUPPLY_DATA_DIR"]
    """
    import fcntl

    root = paths.data_dir()
    if not root.is_dir():
        raise ChipSupplyError(f"data folder {root} does not exist (check {paths.DATA_DIR_ENV})")
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline, told = time.monotonic() + LOCK_TIMEOUT, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ChipSupplyError(
                        f"another `chip-supply release` holds {lock_path()} for more than "
                        f"{LOCK_TIMEOUT:g} s; let it finish, then cut again"
                    ) from None
                if not told:
                    say("waiting for another `chip-supply release` to finish")
                    told = True
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_journal(release: str, entry: str) -> None:
    """Record the cut in progress: the release id and the changelog entry it will append."""
    replace_file(journal_path(), json.dumps({"release": release, "changelog": entry}).encode())


def clear_journal() -> None:
    journal_path().unlink(missing_ok=True)


def recover(say: Callable[[str], None]) -> None:
    """Finish or undo a cut that died: the journal, ``.partial`` folders, unlisted folders.

    Call it holding :func:`cut_lock`.
    """
    registered = {key.split("/")[1] for key in read_registry()}
    journal = _read_journal()
    if journal is not None:
        release, entry = journal
        if release in registered:
            if not _logged(release):
                append_changelog(entry)
                say(f"finished the interrupted cut of {release}: changelog entry written")
        else:
            shutil.rmtree(paths.release_dir(release), ignore_errors=True)
            say(f"undid the interrupted cut of {release}: it was never registered")
        clear_journal()
    folder = paths.releases_dir()
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") and ".partial" in path.name:
            shutil.rmtree(path, ignore_errors=True)
            say(f"removed {path.name}: a release folder left half-written")
        elif path.is_dir() and RELEASE_ID.match(path.name) and path.name not in registered:
            shutil.rmtree(path, ignore_errors=True)
            say(f"removed releases/{path.name}: a release folder the registry does not list "
                "(a cut that was interrupted)")


def _read_journal() -> tuple[str, str] | None:
    path = journal_path()
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        release, entry = str(doc["release"]), str(doc["changelog"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        clear_journal()  # written atomically, so only a hand-made file is unreadable
        return None
    return (release, entry) if RELEASE_ID.match(release) else None


def _logged(release: str) -> bool:
    path = paths.changelog_path()
    if not path.is_file():
        return False
    heading = f"## {release}"
    return any(line == heading or line.startswith(heading + " ")
               for line in path.read_text(encoding="utf-8").splitlines())


def append_changelog(entry: str) -> None:
    """Append a release's entry to ``data/CHANGELOG.md`` (atomically)."""
    path = paths.changelog_path()
    head = path.read_bytes() if path.exists() else (
        b"# Changelog\n\nEvery release, newest last, with what changed.\n")
    replace_file(path, head + b"\n" + entry.encode())


def replace_file(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` atomically: temp file, fsync, ``os.replace``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def fsync(path: Path) -> None:
    """Flush a file or folder to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
