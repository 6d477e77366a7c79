"""The releases known here: the registry of released files, release ids and their order.

A release id is its knowledge date, with a revision number from 2 on when a snapshot of
the same date is corrected (``2026-01-30.2``): releases sort by date, then revision.
"""

from __future__ import annotations

import re
from pathlib import Path

from analytics import paths
from analytics.errors import ReleaseNotFoundError
from analytics.hashes import prefixed

#: A release id: its knowledge date, and a revision number from 2 on (``2026-01-30.2``).
RELEASE_ID = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.([2-9]|[1-9]\d+))?$")


def read_registry(path: Path | str | None = None) -> dict[str, str]:
    """Every released file and its digest, from a pooch-format registry file.

    Parameters
    ----------
    path : Path or str, optional
        Registry file; default ``data/registry.txt``.

    Returns
    -------
    dict
        ``releases/<id>/<file>`` -> ``sha256:<hex>``; empty when the file is absent.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "registry.txt"
    >>> _ = p.write_text("releases/2026-01-30/a.csv sha256:ab\\n# note\\n")
    >>> read_registry(p)
    {'releases/2026-01-30/a.csv': 'sha256:ab'}
    """
    path = Path(path) if path else paths.registry_path()
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.lstrip().startswith("#"):
            out[parts[0]] = prefixed(parts[1])
    return out


def release_order(release: str) -> tuple[str, int]:
    """Sort key of a release id: its date, then its revision (a bare date is revision 1).

    Parameters
    ----------
    release : str
        A release id such as ``2026-01-30`` or ``2026-01-30.2``.

    Returns
    -------
    tuple
        ``(date, revision)``.

    Examples
    --------
    >>> sorted(["2026-01-30.10", "2026-11-29", "2026-01-30", "2026-01-30.2"], key=release_order)
    ['2026-01-30', '2026-01-30.2', '2026-01-30.10', '2026-11-29']
    """
    match = RELEASE_ID.match(release)
    if match is None:
        return release, 0
    return match.group(1), int(match.group(2) or 1)


def releases() -> list[str]:
    """Release ids known here (in ``data/registry.txt`` or as local folders), oldest first.

    Returns
    -------
    list of str
        Ordered by date, then revision.

    Examples
    --------
    >>> import analytics
    >>> all(analytics.release_order(r) for r in analytics.releases())
    True
    """
    found = {key.split("/")[1] for key in read_registry() if key.startswith("releases/")}
    if paths.releases_dir().is_dir():
        found |= {p.name for p in paths.releases_dir().iterdir() if p.is_dir()}
    return sorted((r for r in found if RELEASE_ID.match(r)), key=release_order)


def latest_release() -> str:
    """The newest release id.

    Returns
    -------
    str

    Raises
    ------
    ReleaseNotFoundError
        No release is known here.

    Examples
    --------
    >>> import analytics
    >>> analytics.latest_release() == analytics.releases()[-1]
    True
    """
    known = releases()
    if not known:
        raise ReleaseNotFoundError(
            f"no release found: {paths.registry_path()} lists none and "
            f"{paths.releases_dir()} holds none. Cut one with `chip-supply release DATE`."
        )
    return known[-1]


def resolve(release: str) -> str:
    """The release id a name stands for: ``latest``, or a date's newest revision.

    Parameters
    ----------
    release : str
        ``"latest"``, a date (``2026-01-30``: its newest revision) or a full id
        (``2026-01-30.2``: exactly that revision).

    Returns
    -------
    str
        A release id; a name that matches no release is returned unchanged.

    Examples
    --------
    >>> import analytics
    >>> analytics.resolve("latest") == analytics.latest_release()
    True
    """
    if release == "latest":
        return latest_release()
    if RELEASE_ID.match(release) and "." not in release:
        same_day = [r for r in releases() if release_order(r)[0] == release]
        return same_day[-1] if same_day else release
    return release
