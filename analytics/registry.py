"""The releases known here: the registry of release manifests, release ids and their order.

``data/registry.txt`` lists one line per release in pooch's registry format,
``releases/<id>/datapackage.json sha256:<hex>``: the digest of the release's manifest,
which lists every file with its own digest and size (:mod:`analytics.manifest`). A
comment line above a revision says what it corrected. A registry of the older format,
one line per file, is still read; its file lines must agree with the manifests.

A release id is its knowledge date, with a revision number from 2 on when a snapshot of
the same date is corrected (``2026-01-30.2``; the first revision's full id is
``2026-01-30.1``, its folder ``2026-01-30``): releases sort by date, then revision.
"""

from __future__ import annotations

import re
from pathlib import Path

from analytics import paths
from analytics.errors import ChipSupplyError, ReleaseNotFoundError
from analytics.hashes import prefixed

#: A release id: its knowledge date, and a revision number from 2 on (``2026-01-30.2``).
RELEASE_ID = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.([2-9]|[1-9]\d+))?$")
_LINE = re.compile(r"^(releases/([^/\s]+)/([^/\s]+))\s+((?:sha256:)?[0-9a-f]{64})\s*$")
HEADER = (
    "# The manifest of every release and its sha256, oldest first. A manifest\n"
    "# (datapackage.json) lists each file of its release with its sha256 and size.\n"
    "# Pooch registry format: <path> <hash>. Released files never change.\n"
)


def read_registry(path: Path | str | None = None) -> dict[str, str]:
    """Every line of the registry: a released path and its digest.

    Parameters
    ----------
    path : Path or str, optional
        Registry file; default ``data/registry.txt``.

    Returns
    -------
    dict
        ``releases/<id>/<file>`` -> ``sha256:<hex>``; empty when the file is absent.

    Raises
    ------
    ChipSupplyError
        The file is not UTF-8 text or a line is not ``<path> sha256:<hex>``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "registry.txt"
    >>> _ = p.write_text("releases/2026-01-30/datapackage.json " + "ab" * 32 + "\\n# note\\n")
    >>> read_registry(p) == {"releases/2026-01-30/datapackage.json": "sha256:" + "ab" * 32}
    True
    """
    path = Path(path) if path else paths.registry_path()
    if not path.is_file():
        return {}
    raw = paths.read_regular(path, path.parent)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ChipSupplyError(
            f"{path}: line {line} is not UTF-8 (byte 0x{raw[exc.start]:02x}): restore the "
            "registry from version control; it is written only by `chip-supply release`"
        ) from None
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line.strip())
        if match is None:
            raise ChipSupplyError(
                f"{path}: line {number} is not '<releases/ID/FILE> sha256:<64 hex digits>': "
                "restore the registry from version control"
            )
        out[match.group(1)] = prefixed(match.group(4))
    return out


def manifest_digests(path: Path | str | None = None) -> dict[str, str]:
    """The registered releases and the sha256 of each one's manifest.

    Returns
    -------
    dict
        Release id -> ``sha256:<hex>`` of ``releases/<id>/datapackage.json``.

    Examples
    --------
    >>> import analytics
    >>> sorted(manifest_digests()) == analytics.releases()
    True
    """
    out = {}
    for key, digest in read_registry(path).items():
        _, release, name = key.split("/")
        if name == "datapackage.json" and RELEASE_ID.match(release):
            out[release] = digest
    return out


def format_registry(digests: dict[str, str], notes: dict[str, str] | None = None) -> str:
    """The registry's text: a header, then one line per release manifest in release order.

    Parameters
    ----------
    digests : dict
        Release id -> sha256 of its manifest.
    notes : dict, optional
        Release id -> a one-line comment written above its line (what a revision corrects).

    Returns
    -------
    str

    Examples
    --------
    >>> text = format_registry({"2026-01-30.2": "sha256:b", "2026-01-30": "sha256:a"},
    ...                        {"2026-01-30.2": "revises 2026-01-30: dates"})
    >>> text.splitlines()[3:]
    ['releases/2026-01-30/datapackage.json sha256:a', '# 2026-01-30.2 revises 2026-01-30: dates', \
'releases/2026-01-30.2/datapackage.json sha256:b']
    """
    notes = notes or {}
    lines = [HEADER]
    for release in sorted(digests, key=release_order):
        if release in notes:
            lines.append(f"# {release} {' '.join(notes[release].split())}\n")
        lines.append(f"releases/{release}/datapackage.json {digests[release]}\n")
    return "".join(lines)


def registry_notes(path: Path | str | None = None) -> dict[str, str]:
    """The comments written above release lines: ``{release: note}``.

    Examples
    --------
    >>> isinstance(registry_notes(), dict)
    True
    """
    path = Path(path) if path else paths.registry_path()
    if not path.is_file():
        return {}
    notes = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = re.match(r"^#\s+(\d{4}-\d{2}-\d{2}(?:\.\d+)?)\s+(.+)$", line)
        if match and RELEASE_ID.match(match.group(1)):
            notes[match.group(1)] = match.group(2)
    return notes


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
    """Release ids listed in ``data/registry.txt``, oldest first.

    A release folder the registry does not list (a cut that was interrupted) is not a
    release: the next ``chip-supply release`` finishes or removes it.

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
    found = {key.split("/")[1] for key in read_registry()}
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
        (``2026-01-30.2``: exactly that revision; ``2026-01-30.1``: the first one).

    Returns
    -------
    str
        A release id; a name that matches no release is returned unchanged.

    Examples
    --------
    >>> import analytics
    >>> analytics.resolve("latest") == analytics.latest_release()
    True
    >>> resolve("2026-01-30.1")
    '2026-01-30'
    """
    if release == "latest":
        return latest_release()
    if re.match(r"^\d{4}-\d{2}-\d{2}\.1$", release):
        return release[:-2]
    if RELEASE_ID.match(release) and "." not in release:
        same_day = [r for r in releases() if release_order(r)[0] == release]
        return same_day[-1] if same_day else release
    return release


def exact(release: str) -> str:
    """The name that opens exactly ``release``, never a later revision of its date: the
    id itself, and a bare date in full (``.1``) when a revision of it was cut.

    Examples
    --------
    >>> exact("2026-01-30"), exact("2026-01-30.2"), exact("2026-11-29")
    ('2026-01-30.1', '2026-01-30.2', '2026-11-29')
    """
    match = RELEASE_ID.match(release)
    if match is None or match.group(2) is not None:
        return release
    revised = any(release_order(r) > (release, 1) and release_order(r)[0] == release
                  for r in releases())
    return f"{release}.1" if revised else release
