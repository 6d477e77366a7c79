"""File digests: ``sha256:<hex>`` of a file, computed once per file version in a process."""

from __future__ import annotations

import hashlib
from pathlib import Path

from analytics.paths import open_regular

# (path, size, mtime_ns) -> "sha256:<hex>", so that repeated reads do not rehash
_KNOWN: dict[tuple[str, int, int], str] = {}


def stamp(path: Path | str) -> tuple[int, int]:
    """``(size, mtime_ns)`` of an existing file: what changes when the file is rewritten.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> stamp(p)[0]
    3
    """
    st = Path(path).stat()
    return st.st_size, st.st_mtime_ns


def sha256(path: Path | str) -> str:
    """``sha256:<hex>`` of a file, remembered per (path, size, mtime) in this process.

    Parameters
    ----------
    path : Path or str
        An existing file.

    Returns
    -------
    str
        The digest with its algorithm, as in ``data/registry.txt``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256(p)[:19]
    'sha256:ba7816bf8f01'
    """
    path = Path(path)
    memo = (str(path.resolve()), *stamp(path))
    if memo not in _KNOWN:
        digest = hashlib.sha256()
        with open_regular(path) as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _KNOWN[memo] = f"sha256:{digest.hexdigest()}"
    return _KNOWN[memo]


def prefixed(digest: str) -> str:
    """A digest with its algorithm: a bare hex digest is taken as sha256.

    Parameters
    ----------
    digest : str
        ``<hex>`` or ``<algorithm>:<hex>``.

    Returns
    -------
    str

    Examples
    --------
    >>> prefixed("ab12")
    'sha256:ab12'
    """
    return digest if ":" in digest else f"sha256:{digest}"
