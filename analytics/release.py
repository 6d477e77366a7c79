"""The one door to a release: resolve its name, find its files, verify them once, hand out tables.

Every reader of released data goes through :class:`Release`: :func:`analytics.load`,
:func:`analytics.scan`, ``chip-supply validate --release``, the report and its notebooks.
Opening a release resolves ``"latest"`` (or a bare date to its newest revision) once,
finds each file here, in the cache or at ``CHIP_SUPPLY_DATA_URL``, and checks every
file that is here against ``data/registry.txt`` once; a file fetched later is checked as
it arrives. An opened release is kept for the rest of the process, so the notebooks of a
report do not verify again, and the report hands its verified release to their kernels.

A verified release is not re-validated on every read: its hashes prove it is the
release that was validated when it was cut. ``chip-supply validate`` validates it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
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
    ReleaseNotFoundError,
)
from analytics.hashes import sha256, stamp
from analytics.registry import RELEASE_ID, read_registry, releases, resolve
from analytics.vocab import DATASETS, OPTIONAL_DATASETS, PRIMARY_KEYS

log = logging.getLogger(__name__)

#: Files of a release that the door verifies; anything else in the folder is ignored.
RELEASE_FILES = re.compile(r"^([a-z_]+\.(csv|parquet)|datapackage\.json)$")
# (data root, cache root, data URL, release id) -> opened release
_OPENED: dict[tuple[str, str, str, str], Release] = {}


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
        ``"release"`` (Parquet, verified against the registry) or ``"folder"`` (CSV,
        read and checked against the contracts: the draft or any folder).
    """

    id: str
    folder: Path
    kind: str = "release"
    expected: dict[str, str] = field(default_factory=dict, repr=False)
    _verified: dict[str, tuple[Path, tuple[int, int]]] = field(default_factory=dict, repr=False)
    _frames: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False)
    _read: tuple[dict[str, pl.DataFrame], list[Finding]] | None = field(default=None, repr=False)

    # ----------------------------------------------------------------------- opening
    @classmethod
    def open(cls, release: str | Path = "latest") -> Release:
        """Open a release once per process: resolve it, find its files, verify them.

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
            A file here differs from ``data/registry.txt``.

        Examples
        --------
        >>> import analytics
        >>> rel = analytics.Release.open("latest")
        >>> rel is analytics.Release.open(rel.id), rel.kind
        (True, 'release')
        """
        if isinstance(release, Path) or release == "draft" or (
            not RELEASE_ID.match(release) and Path(release).is_dir()
        ):
            folder = paths.draft_dir() if release == "draft" else Path(release)
            return cls(str(release), folder, kind="folder")
        rid = resolve(release)
        key = (str(paths.data_dir()), str(paths.cache_dir()), paths.data_url() or "", rid)
        if key not in _OPENED:
            rel = cls(rid, paths.release_dir(rid), expected=_expected(rid))
            rel._verify()
            _OPENED[key] = rel
        return _OPENED[key]

    @classmethod
    def adopt(cls, state: dict[str, Any]) -> Release:
        """Take over a release another process of this user has verified (see :meth:`state`).

        A file whose size and modification time are still those recorded is not hashed
        again; any other file is verified when it is read. The report hands its release
        to the notebooks' kernels this way.

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
        key = (str(paths.data_dir()), str(paths.cache_dir()), paths.data_url() or "", rid)
        rel = cls(rid, paths.release_dir(rid), expected=_expected(rid))
        for rel_path, (path, size, mtime) in state["files"].items():
            if rel_path in rel.expected and Path(path).is_file() and stamp(path) == (size, mtime):
                rel._verified[rel_path] = (Path(path), (size, mtime))
        return _OPENED.setdefault(key, rel)

    def state(self) -> dict[str, Any]:
        """The verified files of this release, for :meth:`adopt` in another process.

        Returns
        -------
        dict
            ``{"id": ..., "files": {registry path: [local path, size, mtime_ns]}}``;
            plain JSON.

        Examples
        --------
        >>> import analytics
        >>> sorted(analytics.Release.open("latest").state())
        ['files', 'id']
        """
        files = {k: [str(p), *st] for k, (p, st) in sorted(self._verified.items())}
        return {"id": self.id, "files": files}

    def _verify(self) -> None:
        """Check every file of the release that is here against the registry, once."""
        local = {p.name for p in self.folder.iterdir()} if self.folder.is_dir() else set()
        for name in sorted(n for n in local if RELEASE_FILES.match(n)):
            rel_path = f"releases/{self.id}/{name}"
            if rel_path not in self.expected:
                raise ChipSupplyError(
                    f"{self.folder / name} is not listed in {paths.registry_path()}: every "
                    "released file must be, so that its hash can be checked"
                )
        if not self.expected and not local:
            known = ", ".join(releases()) or "none"
            raise ReleaseNotFoundError(
                f"release {self.id!r} is not here: looked at {self.folder} and "
                f"{paths.registry_path()} (known releases: {known})"
            )
        for rel_path, digest in sorted(self.expected.items()):
            here = paths.data_dir() / rel_path
            cached = paths.cache_dir() / rel_path
            if here.is_file():
                self._accept(rel_path, _checked(here, digest))
            elif cached.is_file() and sha256(cached) == digest:
                self._accept(rel_path, cached)
        log.debug("release %s: %d file(s) verified", self.id, len(self._verified))

    def _accept(self, rel_path: str, path: Path) -> None:
        self._verified[rel_path] = (path, stamp(path))

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
        held = {Path(k).stem for k in self.expected if k.endswith(".parquet")}
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
            Dataset name, or ``datapackage`` with ``ext="json"``.
        ext : str
            ``parquet``, ``csv`` or ``json``.

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
        rel_path = f"releases/{self.id}/{name}.{ext}"
        digest = self.expected.get(rel_path)
        if digest is None:
            raise ReleaseNotFoundError(
                f"release {self.id!r} has no {name}.{ext}: looked at {paths.data_dir() / rel_path}"
                f" and {paths.registry_path()} (known releases: {', '.join(releases()) or 'none'})"
            )
        known = self._verified.get(rel_path)
        if known is not None and known[0].is_file() and stamp(known[0]) == known[1]:
            return known[0]
        here = paths.data_dir() / rel_path
        path = _checked(here, digest) if here.is_file() else _fetch(rel_path, digest, self.id)
        self._accept(rel_path, path)
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
        if frame is None or self._verified[f"releases/{self.id}/{name}.parquet"][0] != path:
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
        """A folder's tables without errors, and every finding; read once.

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

                self._read = read_folder(self.folder)
        return self._read

    def _folder_table(self, name: str) -> pl.DataFrame:
        from analytics.tables import read_table  # reading CSV needs the contracts

        df, findings = read_table(self.folder / f"{name}.csv", name)
        if df is None:
            raise DataValidationError(findings, context=f"{self.id} {name}")
        return df.sort(list(PRIMARY_KEYS[name]), nulls_last=True)


# --------------------------------------------------------------------------- files
def _expected(release: str) -> dict[str, str]:
    prefix = f"releases/{release}/"
    return {k: v for k, v in read_registry().items() if k.startswith(prefix)}


def check_dataset(name: str) -> None:
    """Raise :class:`ChipSupplyError` unless ``name`` is one of :data:`analytics.DATASETS`.

    Examples
    --------
    >>> check_dataset("chips")
    """
    if name not in DATASETS:
        raise ChipSupplyError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")


def _checked(path: Path, expected: str) -> Path:
    actual = sha256(path)
    if actual != expected:
        raise HashMismatchError(path, expected, actual)
    return path


def _fetch(rel: str, expected: str, release: str) -> Path:
    """A verified copy of ``rel`` in the cache: kept when intact, else downloaded."""
    cached = paths.cache_dir() / rel
    if cached.is_file():
        if sha256(cached) == expected:
            return cached
        message = (f"{cached} has {sha256(cached)}, registry says {expected}: "
                   "the cached copy was altered; downloading it again")
        log.warning(message)
        warnings.warn(message, stacklevel=4)
    base = paths.data_url()
    if base is None:
        raise ReleaseNotFoundError(
            f"release {release!r} is not here: looked at {paths.data_dir() / rel}, and "
            f"{paths.DATA_URL_ENV} is unset so it cannot be downloaded"
        )
    import pooch

    fetcher = pooch.create(path=paths.cache_dir(), base_url=base, registry={rel: expected},
                           retry_if_failed=0)
    url = base + rel
    try:
        return Path(fetcher.fetch(rel, progressbar=False))
    except ValueError as exc:  # pooch: the downloaded file's hash does not match
        got = re.search(r"but got ([0-9a-f]{64})", str(exc))
        actual = f"sha256:{got.group(1)}" if got else "a different hash"
        raise HashMismatchError(url, expected, actual) from exc
    except OSError as exc:  # requests' errors are OSErrors: offline, refused, cut off, 404
        raise ReleaseNotFoundError(
            f"release {release!r}: could not download {url} ({exc}); nothing was cached"
        ) from exc
