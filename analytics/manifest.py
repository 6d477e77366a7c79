"""A release's manifest: its ``datapackage.json`` lists every file with its sha256 and size.

The registry (``data/registry.txt``) records the sha256 of each release's manifest; the
manifest records the sha256 and byte size of each file of the release, CSV and Parquet.
So one chain verifies everything a release serves: registry -> manifest -> file. The
manifest of a revision (``2026-01-30.2``) also says which release it revises and why.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analytics.errors import HashMismatchError, IntegrityError

MANIFEST = "datapackage.json"
#: The largest manifest a release may have (a download stops beyond it).
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
#: File names a release may hold: ``<dataset>.csv``, ``<dataset>.parquet``, the manifest.
FILE_NAME = re.compile(r"^([a-z][a-z_]*\.(csv|parquet)|datapackage\.json)$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Entry:
    """One file of a release: its name in the release folder, sha256 and size in bytes."""

    name: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Manifest:
    """What a release's ``datapackage.json`` promises.

    Attributes
    ----------
    release : str
        The release id the manifest names (its ``version``).
    files : dict of str to Entry
        Every data file of the release by file name.
    datasets : tuple of str
        The datasets the release ships, in the manifest's order.
    revision_of, reason, compared_with : str or None
        For a revision: the release it corrects, why, and the release its changelog
        entry is compared with.
    """

    release: str
    files: dict[str, Entry] = field(default_factory=dict)
    datasets: tuple[str, ...] = ()
    revision_of: str | None = None
    reason: str | None = None
    compared_with: str | None = None

    @classmethod
    def parse(cls, raw: bytes, release: str, *, where: str = MANIFEST) -> Manifest:
        """Read a manifest's bytes, refusing anything a release manifest cannot hold.

        Parameters
        ----------
        raw : bytes
            The content of ``datapackage.json``.
        release : str
            The release id it must name.
        where : str
            How to name the file in an error.

        Returns
        -------
        Manifest

        Raises
        ------
        IntegrityError
            Not JSON, another release's manifest, a file name outside the release
            folder, a malformed digest or size.

        Examples
        --------
        >>> doc = {"version": "2026-01-30", "resources": [{"name": "chips",
        ...     "path": "chips.csv", "bytes": 3, "hash": "sha256:" + "0" * 64}]}
        >>> m = Manifest.parse(json.dumps(doc).encode(), "2026-01-30")
        >>> m.datasets, m.files["chips.csv"].bytes
        (('chips',), 3)
        """
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise IntegrityError(f"{where} is not a readable manifest ({exc})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("resources"), list):
            raise IntegrityError(f"{where} is not a Data Package: no list of resources")
        if doc.get("version") != release:
            raise IntegrityError(
                f"{where} names release {str(doc.get('version'))[:40]!r}, not {release!r}: "
                "a manifest belongs to exactly one release"
            )
        files: dict[str, Entry] = {}
        names: list[str] = []
        for res in doc["resources"]:
            if not isinstance(res, dict) or not isinstance(res.get("name"), str):
                raise IntegrityError(f"{where}: a resource has no name")
            names.append(res["name"])
            for part in (res, res.get("parquet")):
                if part is not None:
                    entry = _entry(part, where)
                    files[entry.name] = entry
        rev = doc.get("revision") if isinstance(doc.get("revision"), dict) else {}
        return cls(release, files, tuple(names), _text(rev.get("of")), _text(rev.get("reason")),
                   _text(doc.get("compared_with")))


    @classmethod
    def from_registry(cls, release: str, entries: dict[str, str]) -> Manifest | None:
        """A release the registry lists file by file with no manifest (its older format).

        Sizes are unknown (``-1``); ``None`` when the registry lists nothing of it.

        Examples
        --------
        >>> m = Manifest.from_registry("2026-01-30", {"releases/2026-01-30/chips.parquet": "x"})
        >>> m.datasets, m.files["chips.parquet"].bytes
        (('chips',), -1)
        """
        prefix = f"releases/{release}/"
        files = {key[len(prefix):]: Entry(key[len(prefix):], digest, -1)
                 for key, digest in entries.items() if key.startswith(prefix)}
        if not files or MANIFEST in files:
            return None
        names = tuple(n.rsplit(".", 1)[0] for n in sorted(files) if n.endswith(".parquet"))
        return cls(release, files, names)

    def agree_with(self, entries: dict[str, str], *, where: Path, registry: Path,
                   folder: Path) -> None:
        """The registry's per-file lines (its older format) must say what this manifest says.

        Raises
        ------
        IntegrityError
            The registry lists a file the manifest does not.
        HashMismatchError
            The registry and the manifest record different hashes for a file.
        """
        prefix = f"releases/{self.release}/"
        for key, digest in entries.items():
            if not key.startswith(prefix) or key.endswith("/" + MANIFEST):
                continue
            name = key[len(prefix):]
            entry = self.files.get(name)
            if entry is None:
                raise IntegrityError(f"{registry} lists {key}, which the manifest {where} does "
                                     "not: a release serves only the files its manifest lists")
            if entry.sha256 != digest:
                raise HashMismatchError(
                    folder / name, entry.sha256, digest, by=f"the manifest {where}",
                    fix=f"and {registry} says {digest}: the two records of this file disagree, "
                        "so neither is trusted. Restore both from version control.")


def _entry(part: Any, where: str) -> Entry:
    if not isinstance(part, dict):
        raise IntegrityError(f"{where}: a file entry is not an object")
    name, digest, size = part.get("path"), part.get("hash"), part.get("bytes")
    if not isinstance(name, str) or not FILE_NAME.match(name) or name == MANIFEST:
        raise IntegrityError(f"{where}: {str(name)[:80]!r} is not a file name a release holds")
    if isinstance(digest, str) and ":" not in digest:
        digest = f"sha256:{digest}"
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise IntegrityError(f"{where}: {name} has no sha256 digest")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise IntegrityError(f"{where}: {name} has no size in bytes")
    return Entry(name, digest, size)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def revision_block(of: str, reason: str, compared_with: str | None) -> dict[str, Any]:
    """The manifest's properties of a revision (see :attr:`Manifest.revision_of`).

    Examples
    --------
    >>> revision_block("2026-01-30", "dates corrected", "2026-01-30")["revision"]["of"]
    '2026-01-30'
    """
    out: dict[str, Any] = {"revision": {"of": of, "reason": reason}}
    if compared_with:
        out["compared_with"] = compared_with
    return out
