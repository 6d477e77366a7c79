"""Every path the package uses, resolved on call and never created on import.

The data root defaults to the repository's ``data/`` folder and moves with the
``CHIP_SUPPLY_DATA_DIR`` environment variable; downloaded releases live in the
user cache (``CHIP_SUPPLY_CACHE_DIR`` moves it) and come from
``CHIP_SUPPLY_DATA_URL``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
REPORTS_DIR = REPO_ROOT / "reports"
DOCS_DIR = REPO_ROOT / "docs"

DATA_DIR_ENV = "CHIP_SUPPLY_DATA_DIR"
CACHE_DIR_ENV = "CHIP_SUPPLY_CACHE_DIR"
DATA_URL_ENV = "CHIP_SUPPLY_DATA_URL"


def data_dir() -> Path:
    """Root of the data tree: ``draft/``, ``releases/``, ``registry.txt``."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override).expanduser().resolve() if override else REPO_ROOT / "data"


def draft_dir() -> Path:
    """The editable working copy of every dataset."""
    return data_dir() / "draft"


def releases_dir() -> Path:
    """Folder holding one immutable sub-folder per release date."""
    return data_dir() / "releases"


def release_dir(release: str) -> Path:
    """Folder of one release, e.g. ``data/releases/2026-11-29``."""
    return releases_dir() / release


def registry_path() -> Path:
    """The pooch-format registry: ``<path> sha256:<hex>`` for every released file."""
    return data_dir() / "registry.txt"


def changelog_path() -> Path:
    """The changelog that release cutting appends to."""
    return data_dir() / "CHANGELOG.md"


def cache_dir() -> Path:
    """Where releases fetched from ``CHIP_SUPPLY_DATA_URL`` are kept."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "chip-supply"


def data_url() -> str | None:
    """Base URL that mirrors the ``data/`` tree, or ``None`` when unset."""
    url = os.environ.get(DATA_URL_ENV, "").strip()
    return url.rstrip("/") + "/" if url else None


class UnsafePathError(OSError):
    """A path the readers refuse: not a regular file, a link, or outside its tree."""


def open_regular(path: Path | str, root: Path | str | None = None) -> BinaryIO:
    """Open ``path`` for reading only when it is a regular file (inside ``root`` if given).

    Symbolic links, FIFOs, sockets, devices and anything outside ``root`` are refused
    before a byte is read, and the error names the path and what it is, never content.

    Parameters
    ----------
    path : Path or str
        The file.
    root : Path or str, optional
        The tree the file must lie in (after resolving every link of its folders).

    Returns
    -------
    BinaryIO
        The open file.

    Raises
    ------
    UnsafePathError
        The path is not a regular file inside ``root``.
    FileNotFoundError
        Nothing is there.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.csv").write_text("x")
    >>> (d / "link.csv").symlink_to(d / "a.csv")
    >>> with open_regular(d / "a.csv", d) as fh:
    ...     fh.read()
    b'x'
    >>> try:
    ...     open_regular(d / "link.csv", d)
    ... except UnsafePathError as exc:
    ...     print(str(exc).split("; ")[0].endswith("link.csv is a symbolic link"))
    True
    """
    path = Path(path)
    what = _kind(path)
    if what is not None:
        raise UnsafePathError(f"{path} is {what}; the data tree holds only regular files")
    if root is not None and not path.resolve().is_relative_to(Path(root).resolve()):
        raise UnsafePathError(f"{path} lies outside {root}; the readers open files inside it only")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePathError(f"{path} is not a regular file; the data tree holds only those")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path | str, root: Path | str | None = None) -> bytes:
    """The bytes of a regular file inside ``root`` (see :func:`open_regular`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.txt").write_text("abc")
    >>> read_regular(d / "a.txt", d)
    b'abc'
    """
    with open_regular(path, root) as fh:
        return fh.read()


def _kind(path: Path) -> str | None:
    """What a path is when it is not a regular file (``None`` when it is, or is absent)."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISREG(mode):
        return None
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "not a regular file"
