"""The one door to a release: resolve its name, find its files, verify them once, hand out tables.

Every reader of released data goes through :class:`Release`: :func:`analytics.load`,
:func:`analytics.scan`, ``chip-supply validate --release``, the report and its notebooks.
Opening a release resolves ``"latest"`` (or a bare date to its newest revision) once,
reads its manifest (``datapackage.json``, checked against the sha256 that
``data/registry.txt`` records), and checks every file of the release that is here, in
the data tree or in the cache, against the manifest's size and sha256, once; a file
fetched later from ``CHIP_SUPPLY_DATA_URL`` is checked as it arrives. An opened release
is kept for the rest of the process, so the notebooks of a report do not verify again,
and the report hands its verified release to their kernels.

A verified release is not re-validated on every read: its hashes prove it is the
release that was validated when it was cut. ``chip-supply validate`` validates it.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from analytics import paths
from analytics.errors import (
    ChipSupplyError,
    DataValidationError,
    Finding,
    HashMismatchError,
    IntegrityError,
    ReleaseNotFoundError,
)
from analytics.hashes import sha256, stamp
from analytics.manifest import FILE_NAME, MANIFEST, MAX_MANIFEST_BYTES, Entry, Manifest
from analytics.registry import RELEASE_ID, manifest_digests, read_registry, releases, resolve
from analytics.vocab import DATASETS, OPTIONAL_DATASETS, PRIMARY_KEYS

log = logging.getLogger(__name__)

#: The most a file may be when the registry gives no size (its older format, no manifest).
MAX_UNSIZED_BYTES = 2 * 1024**3
# (data root, cache root, release id) -> opened release
_OPENED: dict[tuple[str, str, str], Release] = {}


# --------------------------------------------------------------------------- the door
@dataclass(eq=False)
class Release:
    """One release (or the draft, or a folder of CSVs) and the verified tables it holds.

    Open it with :meth:`open`; read with :meth:`table`, :meth:`tables` or :meth:`scan`.

    Attributes
    ----------
    id : str
        The release id (``2026-11-29``), ``"draft"``, or a folder's path.
    folder : Path
        Where its files live when they are local.
    kind : str
        ``"release"`` (Parquet, verified against its manifest) or ``"folder"`` (CSV,
        read and checked against the contracts: the draft or any folder).
    manifest : Manifest or None
        What the release's ``datapackage.json`` records (``None`` for a folder).
    """

    id: str
    folder: Path
    kind: str = "release"
    manifest: Manifest | None = field(default=None, repr=False)
    _verified: dict[str, tuple[Path, tuple[int, int]]] = field(default_factory=dict, repr=False)
    _frames: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False)
    _read: tuple[dict[str, pl.DataFrame], list[Finding]] | None = field(default=None, repr=False)

    # ----------------------------------------------------------------------- opening
    @classmethod
    def open(cls, release: str | Path = "latest") -> Release:
        """Open a release once per process: resolve it, read its manifest, verify its files.

        Parameters
        ----------
        release : str or Path
            ``"latest"``, a release date or id, ``"draft"`` (the editable CSVs), or a
            folder of dataset CSVs.

        Returns
        -------
        Release
            The same object for the same release for the rest of the process (a draft
            or folder is read afresh each time: it is meant to change).

        Raises
        ------
        ReleaseNotFoundError
            The release is neither here nor downloadable.
        HashMismatchError
            The manifest differs from the registry, or a file from the manifest.

        Examples
        --------
        >>> import analytics
        >>> rel = analytics.Release.open("latest")
        >>> rel is analytics.Release.open(rel.id), rel.kind
        (True, 'release')
        """
        if isinstance(release, Path) or release == "draft" or (
            not RELEASE_ID.match(release) and release != "latest" and Path(release).is_dir()
        ):
            folder = paths.draft_dir() if release == "draft" else Path(release)
            if not folder.is_dir():
                raise ChipSupplyError(f"{folder} is not a folder of dataset CSV files")
            return cls(str(release), folder, kind="folder")
        rid = resolve(release)
        key = (str(paths.data_dir()), str(paths.cache_dir()), rid)
        if key not in _OPENED:
            rel = cls(rid, paths.release_dir(rid), manifest=_manifest(rid))
            rel._verify()
            _OPENED[key] = rel
        return _OPENED[key]

    @classmethod
    def adopt(cls, state: dict[str, Any]) -> Release:
        """Take over a release another process of this user has verified (see :meth:`state`).

        The manifest is checked against the registry again (it is small); a file whose
        size and modification time are still those recorded is not hashed again, any
        other file is verified when it is read. The report hands its release to the
        notebooks' kernels this way.

        Parameters
        ----------
        state : dict
            What :meth:`state` returned.

        Returns
        -------
        Release
            The release, kept for the rest of this process.

        Examples
        --------
        >>> import analytics
        >>> rel = analytics.Release.open("latest")
        >>> analytics.Release.adopt(rel.state()).id == rel.id
        True
        """
        rid = state["id"]
        key = (str(paths.data_dir()), str(paths.cache_dir()), rid)
        rel = cls(rid, paths.release_dir(rid), manifest=_manifest(rid))
        for name, (path, size, mtime) in state["files"].items():
            if name in rel.manifest.files and Path(path).is_file() and (
                stamp(path) == (size, mtime)
            ):
                rel._verified[name] = (Path(path), (size, mtime))
        return _OPENED.setdefault(key, rel)

    def state(self) -> dict[str, Any]:
        """The verified files of this release, for :meth:`adopt` in another process.

        Returns
        -------
        dict
            ``{"id": ..., "files": {file name: [local path, size, mtime_ns]}}``; plain JSON.

        Examples
        --------
        >>> import analytics
        >>> sorted(analytics.Release.open("latest").state())
        ['files', 'id']
        """
        files = {k: [str(p), *st] for k, (p, st) in sorted(self._verified.items())}
        return {"id": self.id, "files": files}

    def _verify(self) -> None:
        """Check every file of the release that is here against the manifest, once."""
        files = self.manifest.files
        if self.folder.is_dir():
            for path in sorted(self.folder.iterdir()):
                if FILE_NAME.match(path.name) and path.name != MANIFEST and (
                    path.name not in files
                ):
                    raise IntegrityError(
                        f"{path} is not listed in the release's manifest ({MANIFEST}): every "
                        "released file must be, so that its size and hash can be checked"
                    )
        for name, entry in sorted(files.items()):
            here = self.folder / name
            cached = paths.cache_dir() / "releases" / self.id / name
            if _exists(here):
                self._accept(name, _checked(here, entry, self.id))
            elif _exists(cached) and _intact(cached, entry):
                self._accept(name, cached)
        log.debug("release %s: %d file(s) verified", self.id, len(self._verified))

    def _accept(self, name: str, path: Path) -> None:
        self._verified[name] = (path, stamp(path))

    # ----------------------------------------------------------------------- reading
    @property
    def names(self) -> tuple[str, ...]:
        """The datasets this release holds, in the package's order.

        Examples
        --------
        >>> import analytics
        >>> analytics.Release.open("latest").names[0]
        'sources'
        """
        if self.kind == "folder":
            return tuple(n for n in DATASETS if n not in OPTIONAL_DATASETS
                         or self.path(n, "csv").is_file())
        held = {Path(k).stem for k in self.manifest.files if k.endswith(".parquet")}
        return tuple(n for n in DATASETS if n in held)

    def require(self, name: str) -> None:
        """Raise :class:`ChipSupplyError` unless this release ships dataset ``name``.

        A dataset added after a release was cut (``evidence``, ``parameters``) is not in
        it: reading it is this error, while :attr:`names`, :meth:`tables` and
        ``chip-supply validate`` simply leave it out.

        Examples
        --------
        >>> import analytics
        >>> try:
        ...     analytics.Release.open("2026-11-29").require("evidence")
        ... except analytics.ChipSupplyError as exc:
        ...     print(exc)
        release 2026-11-29 has no evidence dataset; it first appears in a later release
        """
        check_dataset(name)
        if name not in self.names:
            where = f"release {self.id}" if self.kind == "release" else f"folder {self.folder}"
            raise ChipSupplyError(
                f"{where} has no {name} dataset; it first appears in a later release"
            )

    @property
    def date(self) -> dt.date:
        """The knowledge date: the release's date, a folder's name when it is one, else today.

        Examples
        --------
        >>> import analytics
        >>> analytics.Release.open("2026-11-29").date
        datetime.date(2026, 11, 29)
        """
        match = RELEASE_ID.match(self.folder.name if self.kind == "folder" else self.id)
        return dt.date.fromisoformat(match.group(1)) if match else dt.date.today()

    def path(self, name: str, ext: str = "parquet") -> Path:
        """Local, verified path of ``<name>.<ext>``, fetched into the cache when absent.

        Parameters
        ----------
        name : str
            Dataset name.
        ext : str
            ``parquet`` or ``csv``.

        Returns
        -------
        Path

        Examples
        --------
        >>> import analytics
        >>> analytics.Release.open("2026-11-29").path("chips").name
        'chips.parquet'
        """
        if self.kind == "folder":
            return self.folder / f"{name}.{ext}"
        file = f"{name}.{ext}"
        entry = self.manifest.files.get(file)
        if entry is None:
            raise ReleaseNotFoundError(
                f"release {self.id!r} has no {file}: its manifest does not list it "
                f"(known releases: {', '.join(releases()) or 'none'})"
            )
        known = self._verified.get(file)
        if known is not None and _exists(known[0]) and stamp(known[0]) == known[1]:
            return known[0]
        here = self.folder / file
        path = _checked(here, entry, self.id) if _exists(here) else _fetch(self.id, entry)
        self._accept(file, path)
        return path

    def table(self, name: str) -> pl.DataFrame:
        """One dataset as a DataFrame, sorted by its key.

        Parameters
        ----------
        name : str
            One of :data:`analytics.DATASETS`.

        Returns
        -------
        polars.DataFrame

        Raises
        ------
        DataValidationError
            A draft or folder table breaks its contract.

        Examples
        --------
        >>> import analytics
        >>> analytics.Release.open("latest").table("chips").columns[0]
        'chip_id'
        """
        self.require(name)
        if self.kind == "folder":
            return self._folder_table(name)
        path = self.path(name)
        frame = self._frames.get(name)
        if frame is None or self._verified[f"{name}.parquet"][0] != path:
            frame = pl.read_parquet(path).sort(list(PRIMARY_KEYS[name]), nulls_last=True)
            self._frames[name] = frame
        return frame.clone()

    def tables(self) -> dict[str, pl.DataFrame]:
        """Every dataset of the release by name (see :meth:`table`).

        Returns
        -------
        dict of str to polars.DataFrame

        Examples
        --------
        >>> import analytics
        >>> list(analytics.Release.open("latest").tables())[:2]
        ['sources', 'entities']
        """
        if self.kind == "folder":
            tables, findings = self.read()
            if any(f.severity == "error" for f in findings):
                raise DataValidationError(findings, context=str(self.folder))
            return tables
        return {name: self.table(name) for name in self.names}

    def scan(self, name: str) -> pl.LazyFrame:
        """A lazy query over one dataset (the file is verified; nothing is read yet).

        Parameters
        ----------
        name : str

        Returns
        -------
        polars.LazyFrame

        Examples
        --------
        >>> import analytics
        >>> analytics.Release.open("latest").scan("chips").collect().height > 0
        True
        """
        self.require(name)
        if self.kind == "folder":
            return self._folder_table(name).lazy()
        return pl.scan_parquet(self.path(name))

    def read(self) -> tuple[dict[str, pl.DataFrame], list[Finding]]:
        """A folder's tables and every finding; read once.

        A table with errors is included as far as it could be read, so that the checks
        that follow still see its other rows; :meth:`tables` refuses it.

        Returns
        -------
        tuple
            Tables by name and the findings of :func:`analytics.read_folder`.

        Examples
        --------
        >>> import analytics
        >>> tables, findings = analytics.Release.open("draft").read()
        >>> "chips" in tables
        True
        """
        if self._read is None:
            if self.kind != "folder":
                self._read = (self.tables(), [])
            else:
                from analytics.tables import read_folder  # reading CSV needs the contracts

                self._read = read_folder(self.folder, partial=True)
        return self._read

    def _folder_table(self, name: str) -> pl.DataFrame:
        from analytics.tables import read_table  # reading CSV needs the contracts

        df, findings = read_table(self.folder / f"{name}.csv", name)
        if df is None:
            raise DataValidationError(findings, context=f"{self.id} {name}")
        return df.sort(list(PRIMARY_KEYS[name]), nulls_last=True)


# --------------------------------------------------------------------------- files
def check_dataset(name: str) -> None:
    """Raise :class:`ChipSupplyError` unless ``name`` is one of :data:`analytics.DATASETS`.

    Examples
    --------
    >>> check_dataset("chips")
    """
    if name not in DATASETS:
        raise ChipSupplyError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")


def _exists(path: Path) -> bool:
    """Whether anything is at ``path`` (a link or a pipe too: the readers then refuse it)."""
    return path.is_symlink() or path.exists()


def _manifest(release: str) -> Manifest:
    """The release's manifest, verified against the registry, found here, cached or fetched."""
    digests = manifest_digests()
    digest = digests.get(release)
    listed = Manifest.from_registry(release, read_registry())
    if digest is None and listed is not None:
        if _exists(paths.release_dir(release) / MANIFEST):
            raise IntegrityError(
                f"{paths.registry_path()} lists files of release {release} but not its "
                f"manifest {MANIFEST}, which is here: restore the registry from version control")
        return listed
    if digest is None:
        folder = paths.release_dir(release)
        where = (f"{folder} is here, but {paths.registry_path()} does not list it (a cut "
                 "that was interrupted: the next `chip-supply release` finishes or removes it)"
                 if folder.is_dir() else f"looked at {paths.registry_path()}")
        raise ReleaseNotFoundError(
            f"release {release!r} is not here: {where} "
            f"(known releases: {', '.join(releases()) or 'none'})"
        )
    entry = Entry(MANIFEST, digest, -1)
    here = paths.release_dir(release) / MANIFEST
    if _exists(here):
        path = _checked(here, entry, release, by=str(paths.registry_path()))
    else:
        path = _fetch(release, entry)
    manifest = Manifest.parse(paths.read_regular(path), release, where=str(path))
    manifest.agree_with(read_registry(), where=path, registry=paths.registry_path(),
                        folder=paths.release_dir(release))
    return manifest


def _checked(path: Path, entry: Entry, release: str, *, by: str | None = None) -> Path:
    """``path`` when its size and sha256 are the entry's; else :class:`HashMismatchError`."""
    root = paths.cache_dir() if path.is_relative_to(paths.cache_dir()) else paths.data_dir()
    paths.open_regular(path, root).close()
    if not _intact(path, entry):
        size = path.stat().st_size
        note = "" if entry.bytes < 0 or size == entry.bytes else (
            f" It is {size} bytes, the manifest says {entry.bytes}.")
        raise HashMismatchError(path, entry.sha256, sha256(path),
                                by=by or f"the manifest of release {release}",
                                fix=note.strip() + (" " if note else "") + (
                                    "Released files never change: restore it (git checkout "
                                    "-- <file>) or delete it so it is fetched again."))
    return path


def _intact(path: Path, entry: Entry) -> bool:
    if entry.bytes >= 0 and path.stat().st_size != entry.bytes:
        return False
    return sha256(path) == entry.sha256


def _fetch(release: str, entry: Entry) -> Path:
    """A verified copy of one file of ``release`` in the cache: kept when intact, else fetched.

    A verified file in the cache is used without a URL; otherwise the file is downloaded
    from ``CHIP_SUPPLY_DATA_URL`` (see :func:`analytics.fetch.download`).
    """
    rel = f"releases/{release}/{entry.name}"
    cached = paths.cache_dir() / rel
    if _exists(cached):
        paths.open_regular(cached, paths.cache_dir()).close()
        if _intact(cached, entry):
            return cached
        message = (f"{cached} has {sha256(cached)}, the manifest says {entry.sha256}: "
                   "the cached copy was altered; downloading it again")
        log.warning(message)
        warnings.warn(message, stacklevel=4)
    base = paths.data_url()
    if base is None:
        raise ReleaseNotFoundError(
            f"release {release!r} is not here: looked at {paths.data_dir() / rel} and "
            f"{cached}, and {paths.DATA_URL_ENV} is unset so it cannot be downloaded"
        )
    from analytics.fetch import download

    size = entry.bytes if entry.bytes >= 0 else None
    cap = MAX_MANIFEST_BYTES if entry.name == MANIFEST else MAX_UNSIZED_BYTES
    return download(base + rel, cached, sha256=entry.sha256, size=size,
                    max_bytes=size if size is not None else cap)
