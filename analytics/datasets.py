"""Read, load, snapshot and compare the seven datasets of a release or of the draft.

Every read is checked: CSV files against their contract (:mod:`analytics.schemas`),
released files against the sha256 in ``data/registry.txt``. Bad input never raises
while reading; it becomes :class:`~analytics.errors.Finding` rows that say where the
problem is and what to do. Loading raises when the findings hold an error.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
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
from analytics.rules import public_date

log = logging.getLogger(__name__)

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EXPECTED = {
    pl.Date: "a date YYYY-MM-DD",
    pl.Int64: "a whole number",
    pl.Float64: "a number",
    pl.Boolean: "true or false",
}
# (path, size, mtime_ns) -> "sha256:<hex>", so that repeated loads do not rehash
_VERIFIED: dict[tuple[str, int, int], str] = {}


# --------------------------------------------------------------------------- hashes, registry
def sha256(path: Path | str) -> str:
    """``sha256:<hex>`` of a file, remembered per (path, size, mtime) in this process.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256(p)[:19]
    'sha256:ba7816bf8f01'
    """
    path = Path(path)
    st = path.stat()
    memo = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if memo not in _VERIFIED:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _VERIFIED[memo] = f"sha256:{digest.hexdigest()}"
    return _VERIFIED[memo]


def read_registry(path: Path | str | None = None) -> dict[str, str]:
    """``releases/<date>/<file>`` -> ``sha256:<hex>`` from a pooch-format registry file."""
    path = Path(path) if path else paths.registry_path()
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.lstrip().startswith("#"):
            out[parts[0]] = parts[1] if ":" in parts[1] else f"sha256:{parts[1]}"
    return out


def releases() -> list[str]:
    """Release dates known here: in ``data/registry.txt`` or as local folders, sorted."""
    found = {key.split("/")[1] for key in read_registry() if key.startswith("releases/")}
    if paths.releases_dir().is_dir():
        found |= {p.name for p in paths.releases_dir().iterdir() if p.is_dir()}
    return sorted(r for r in found if DATE_RE.match(r))


def latest_release() -> str:
    """The newest release date; :class:`ReleaseNotFoundError` when there is none."""
    known = releases()
    if not known:
        raise ReleaseNotFoundError(
            f"no release found: {paths.registry_path()} lists none and "
            f"{paths.releases_dir()} holds none. Cut one with `chip-supply release DATE`."
        )
    return known[-1]


def _resolve(release: str) -> str:
    return latest_release() if release == "latest" else release


def _check_name(name: str) -> None:
    from analytics.schemas import DATASETS

    if name not in DATASETS:
        raise ChipSupplyError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")


# --------------------------------------------------------------------------- reading CSV
def read_table(path: Path | str, name: str) -> tuple[pl.DataFrame | None, list[Finding]]:
    """Read one dataset CSV and run its contract, never raising on bad input.

    Every cell is read as text (the csv module checks the structure line by line), then
    list columns are split on ``;``, and dates, numbers and booleans are parsed; a cell
    that cannot be parsed is a ``coerce_dtype`` finding naming the type and the value.
    Then the pandera contract runs on the typed frame.

    Returns the typed, validated frame (``None`` when an error was found) and the
    findings. A finding's key is the row id, or ``line <n>`` of the file when no id
    could be read. The file is never modified.
    """
    from analytics import schemas

    path = Path(path)

    def bad(check: str, message: str, *, key: str = "", column: str = "", value: Any = "") -> list:
        return [Finding("error", name, key, column, check, str(value), message)]

    if not path.is_file():
        return None, bad("file_missing", f"{path} does not exist", value=path.name)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, bad("unreadable", f"{path} cannot be read: {exc.strerror or exc}",
                         value=path.name)
    if not raw:
        return None, bad("empty_file", f"{path.name} is 0 bytes; it needs at least the header row")
    if raw.startswith(codecs.BOM_UTF8):
        return None, bad("bom", f"{path.name} starts with a byte-order mark; "
                         "save it as UTF-8 without BOM", key="line 1")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return None, bad("encoding", f"byte {exc.start} is not UTF-8; save the file as UTF-8",
                         key=f"line {line}", value=raw[exc.start:exc.start + 4].hex(" "))
    header, rows, lines, findings = _records(text, name)
    if "\r\n" in text:
        findings.append(Finding("warning", name, "line 1", "", "line_endings", "CRLF",
                                f"{path.name} uses Windows line endings; save it with \\n"))
    if header is None or any(f.severity == "error" for f in findings):
        return None, findings
    frame = pl.DataFrame(
        [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in header],
        schema=dict.fromkeys(header, pl.String),
        orient="col",
    ).with_columns(pl.when(pl.all() != "").then(pl.all()))  # empty cell -> null
    expected = list(schemas.columns(name))
    present = [c for c in expected if c in header]
    if not set(header) - set(expected) and present != header:
        findings.append(Finding("warning", name, "line 1", "", "column_order", ",".join(header),
                                "columns are not in schema order: " + ",".join(expected)))
    frame, coerce_findings = _coerce(frame, name, lines)
    missing = [c for c in expected if c not in header and c not in schemas.optional_columns(name)]
    extra = [c for c in header if c not in expected]
    if missing or extra:  # pandera cannot coerce a frame with missing columns: say it here
        findings += coerce_findings
        for col in missing:
            findings.append(Finding("error", name, "line 1", col, "column_in_dataframe", col,
                                    f"required column '{col}' is missing; the header must be: "
                                    + ",".join(expected)))
        for col in extra:
            findings.append(Finding("error", name, "line 1", col, "column_in_schema", col,
                                    f"column '{col}' is not part of the dataset; "
                                    "remove it or fix its name"))
        return None, sorted(findings)
    out, contract = schemas.validate(name, frame)
    reported = {(f.key, f.column) for f in coerce_findings}
    contract = [
        _explained(f, lines) for f in contract
        if not (f.check == "not_nullable" and (f.key, f.column) in reported)
    ]
    findings += coerce_findings + contract
    if any(f.severity == "error" for f in findings):
        return None, sorted(findings)
    return out, sorted(findings)


def _records(
    text: str, name: str
) -> tuple[list[str] | None, list[list[str]], list[int], list[Finding]]:
    """Split CSV text into header and rows, checking the structure line by line."""

    def finding(line: int, check: str, message: str, value: str = "", severity: str = "error"):
        return Finding(severity, name, f"line {line}", "", check, value[:200], message)

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    findings: list[Finding] = []
    start = 1
    try:
        for row in reader:
            here, start = start, reader.line_num + 1
            if header is None:
                header = row
                if len(row) == 1 and (";" in row[0] or "\t" in row[0]):
                    sep = "';'" if ";" in row[0] else "a tab"
                    findings.append(finding(1, "delimiter", f"the header is split by {sep}; "
                                            "fields must be separated by commas", row[0]))
                    return header, rows, lines, findings
                dupes = sorted({c for c in row if row.count(c) > 1})
                if dupes:
                    findings.append(finding(1, "duplicate_column",
                                            f"column(s) {', '.join(dupes)} appear twice",
                                            ",".join(dupes)))
                continue
            if not row:
                findings.append(
                    finding(here, "blank_line", "blank line skipped", severity="warning")
                )
                continue
            if len(row) != len(header):
                cut = reader.line_num == text.count("\n") + 1 and not text.endswith("\n")
                if cut and len(row) < len(header):
                    findings.append(finding(here, "truncated", "the file ends in the middle of "
                                            "this row: it was cut off; restore the whole file",
                                            ",".join(row)))
                else:
                    findings.append(finding(here, "malformed_csv", f"{len(row)} fields where the "
                                            f"header has {len(header)}; check commas and quotes",
                                            ",".join(row)))
                continue
            rows.append(row)
            lines.append(here)
    except csv.Error as exc:
        findings.append(finding(reader.line_num, "malformed_csv",
                                f"cannot parse CSV ({exc}); check the quotes"))
    if header is None:
        findings.append(finding(1, "empty_file", "the file holds no header row"))
    return header, rows, lines, findings


def _row_keys(name: str, df: pl.DataFrame, lines: list[int]) -> list[str]:
    from analytics.schemas import key_of

    keys = key_of(name, df).to_list()
    pairs = zip(keys, lines, strict=True)
    return [k if k and not k.startswith("row ") else f"line {ln}" for k, ln in pairs]


def _coerce(df: pl.DataFrame, name: str, lines: list[int]) -> tuple[pl.DataFrame, list[Finding]]:
    """Turn CSV text into the schema's types; every cell that cannot be read is a finding."""
    from analytics.schemas import columns

    exprs, findings = [], []
    for col, dtype in columns(name).items():
        if col not in df.columns:
            continue
        s = pl.col(col)
        if isinstance(dtype, pl.List):
            exprs.append(
                s.str.split(";")
                .list.eval(pl.element().str.strip_chars())
                .list.eval(pl.element().filter(pl.element() != ""))
                .fill_null(pl.lit([], dtype=pl.List(pl.String)))
            )
        elif dtype == pl.Boolean:
            exprs.append(s.str.strip_chars().str.to_lowercase().replace_strict(
                {"true": True, "false": False}, default=None, return_dtype=pl.Boolean))
        elif dtype == pl.Date:
            exprs.append(s.str.strip_chars().str.to_date("%Y-%m-%d", strict=False))
        elif dtype in (pl.Int64, pl.Float64):
            exprs.append(s.str.strip_chars().cast(dtype, strict=False))
    out = df.with_columns(exprs)
    keys = None
    for col, dtype in columns(name).items():
        if col not in df.columns or dtype not in _EXPECTED:
            continue
        failed = (df.get_column(col).is_not_null() & out.get_column(col).is_null()).arg_true()
        if failed.len():
            keys = keys or _row_keys(name, df, lines)
        for i in failed.to_list():
            value = df.get_column(col)[i]
            findings.append(Finding("error", name, keys[i], col, f"coerce_dtype('{dtype}')", value,
                                    f"expected {_EXPECTED[dtype]}, found {value!r}"))
    return out, findings


def _explained(f: Finding, lines: list[int]) -> Finding:
    """A contract finding keyed by file line where the row has no id."""
    key = f.key
    if key.startswith("row ") and key[4:].isdigit() and int(key[4:]) <= len(lines):
        key = f"line {lines[int(key[4:]) - 1]}"
    return Finding(f.severity, f.dataset, key, f.column, f.check, f.value, f.message)


def read_folder(folder: Path | str) -> tuple[dict[str, pl.DataFrame], list[Finding]]:
    """Read and check the seven dataset CSVs of a folder laid out like a release.

    When the folder holds a ``datapackage.json``, each listed file's size and sha256 are
    checked against it too (``manifest_bytes``, ``manifest_hash``): that is what catches a
    file truncated at a line boundary. Only tables without errors are returned.
    """
    from analytics.schemas import DATASETS

    folder = Path(folder)
    tables: dict[str, pl.DataFrame] = {}
    findings = _check_manifest(folder)
    for name in DATASETS:
        df, found = read_table(folder / f"{name}.csv", name)
        findings += found
        if df is not None:
            tables[name] = df
    return tables, sorted(findings)


def _check_manifest(folder: Path) -> list[Finding]:
    manifest = folder / "datapackage.json"
    if not manifest.is_file():
        return []
    try:
        resources = json.loads(manifest.read_text(encoding="utf-8"))["resources"]
    except (ValueError, KeyError, TypeError) as exc:
        return [Finding("error", "", "", "", "manifest", "datapackage.json",
                        f"datapackage.json cannot be read: {exc}")]
    out = []
    for res in resources:
        file, name = folder / res.get("path", ""), res.get("name", "")
        if not file.is_file():
            out.append(Finding("error", name, "", "", "manifest_missing", res.get("path", ""),
                               f"datapackage.json lists {res.get('path')}, which is not in "
                               f"{folder}"))
            continue
        if "bytes" in res and file.stat().st_size != res["bytes"]:
            out.append(Finding("error", name, "", "", "manifest_bytes", str(file.stat().st_size),
                               f"{file.name} is {file.stat().st_size} bytes, datapackage.json says "
                               f"{res['bytes']}: the file was cut off or edited"))
        if "hash" in res and sha256(file) != _prefixed(res["hash"]):
            out.append(Finding("error", name, "", "", "manifest_hash", sha256(file),
                               f"{file.name} has {sha256(file)}, datapackage.json says "
                               f"{_prefixed(res['hash'])}: the file changed after release"))
    return out


def _prefixed(digest: str) -> str:
    return digest if ":" in digest else f"sha256:{digest}"


def write_table(df: pl.DataFrame, path: Path | str, name: str) -> None:
    """Write a dataset as CSV by the conventions: schema order, sorted by key, lists ``;``."""
    from analytics.schemas import PRIMARY_KEYS, columns, list_columns

    out = df.select(list(columns(name))).sort(list(PRIMARY_KEYS[name]), nulls_last=True)
    out = out.with_columns(
        pl.when(pl.col(c).list.len() > 0).then(pl.col(c).list.join(";")) for c in list_columns(name)
    )
    out.write_csv(path, line_terminator="\n", date_format="%Y-%m-%d")


# --------------------------------------------------------------------------- loading releases
def _release_file(name: str, release: str, ext: str) -> Path:
    """Local, hash-checked path of ``<name>.<ext>`` of a release, fetching it when absent."""
    rel = f"releases/{release}/{name}.{ext}"
    registry = read_registry()
    local = paths.data_dir() / rel
    expected = registry.get(rel)
    if local.is_file():
        if expected is None:
            raise ChipSupplyError(
                f"{local} is not listed in {paths.registry_path()}: every released file must "
                "be, so that its hash can be checked"
            )
        if sha256(local) != expected:
            raise HashMismatchError(local, expected, sha256(local))
        return local
    if expected is None:
        known = ", ".join(releases()) or "none"
        raise ReleaseNotFoundError(
            f"release {release!r} has no {name}.{ext}: looked at {local} and "
            f"{paths.registry_path()} (known releases: {known})"
        )
    return _fetch(rel, expected, release)


def _fetch(rel: str, expected: str, release: str) -> Path:
    base = paths.data_url()
    if base is None:
        raise ReleaseNotFoundError(
            f"release {release!r} is not here: looked at {paths.data_dir() / rel}, and "
            f"{paths.DATA_URL_ENV} is unset so it cannot be downloaded"
        )
    cached = paths.cache_dir() / rel
    if cached.is_file():
        if sha256(cached) == expected:
            return cached
        message = (f"{cached} has {sha256(cached)}, registry says {expected}: "
                   "the cached copy was altered; downloading it again")
        log.warning(message)
        warnings.warn(message, stacklevel=3)
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


def _sorted(name: str, df: pl.DataFrame) -> pl.DataFrame:
    from analytics.schemas import PRIMARY_KEYS

    return df.sort(list(PRIMARY_KEYS[name]), nulls_last=True)


def load(name: str, release: str = "latest") -> pl.DataFrame:
    """One dataset of a release as a validated DataFrame, sorted by its key.

    ``release`` is a date, ``"latest"`` or ``"draft"`` (the editable CSVs). A released
    file is read locally when present and its sha256 matches ``data/registry.txt``;
    otherwise it is downloaded from ``CHIP_SUPPLY_DATA_URL`` into the cache and checked.

    Raises
    ------
    HashMismatchError
        A released or downloaded file differs from the registry.
    ReleaseNotFoundError
        The release is neither here nor downloadable.
    DataValidationError
        The data breaks its contract.
    """
    from analytics.schemas import validate

    _check_name(name)
    if release == "draft":
        df, findings = read_table(paths.draft_dir() / f"{name}.csv", name)
        if df is None:
            raise DataValidationError(findings, context=f"draft {name}")
        return _sorted(name, df)
    release = _resolve(release)
    df, findings = validate(name, pl.read_parquet(_release_file(name, release, "parquet")))
    if df is None:
        raise DataValidationError(findings, context=f"{name} of release {release}")
    return _sorted(name, df)


def scan(name: str, release: str = "latest") -> pl.LazyFrame:
    """A lazy query over one dataset of a release (hash-checked, not validated)."""
    _check_name(name)
    if release == "draft":
        return load(name, "draft").lazy()
    return pl.scan_parquet(_release_file(name, _resolve(release), "parquet"))


# --------------------------------------------------------------------------- snapshots
def _as_date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def as_of(tables: dict[str, pl.DataFrame], date: str | dt.date) -> dict[str, pl.DataFrame]:
    """What was public on ``date``: the knowledge snapshot a release holds.

    Keeps the sources public by ``date`` (see :func:`public_date`), trims each fact
    row's ``source_ids`` to them and drops rows left with none; other tables whole.

    >>> import datetime as dt, polars as pl
    >>> src = pl.DataFrame({"source_id": ["a", "b"], "published_date": [dt.date(2026, 1, 1)] * 2,
    ...     "date_precision": ["day", "month"], "accessed_date": [dt.date(2026, 11, 29)] * 2})
    >>> facts = pl.DataFrame({"event_id": ["E1", "E2"], "source_ids": [["a", "b"], ["b"]]})
    >>> snap = as_of({"sources": src, "approvals": facts}, "2026-01-30")
    >>> snap["sources"]["source_id"].to_list(), snap["approvals"]["source_ids"].to_list()
    (['a'], [['a']])
    """
    day = _as_date(date)
    sources = tables["sources"].filter(public_date() <= day)
    public = sources.get_column("source_id").implode()
    out = {}
    for name, df in tables.items():
        if name == "sources":
            out[name] = sources
        elif "source_ids" in df.columns:
            out[name] = df.with_columns(
                pl.col("source_ids").list.eval(pl.element().filter(pl.element().is_in(public)))
            ).filter(pl.col("source_ids").list.len() > 0)
        else:
            out[name] = df
    return out


# --------------------------------------------------------------------------- diffs
def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | pl.Series):
        return ";".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class Diff:
    """Row-level difference of one dataset between two versions, by primary key.

    ``changed`` maps a key to ``{column: (old, new)}``; lists compare as lists.
    """

    name: str
    old: str
    new: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def summary(self) -> str:
        """One line, e.g. ``approvals 2026-01-30 -> 2026-11-29: 3 added, 0 removed, 1 changed``."""
        return (f"{self.name} {self.old} -> {self.new}: {len(self.added)} added, "
                f"{len(self.removed)} removed, {len(self.changed)} changed")

    def to_frame(self) -> pl.DataFrame:
        """Tidy: one row per added or removed key and per changed cell (values as text)."""
        rows = [(k, "added", None, None, None) for k in self.added]
        rows += [(k, "removed", None, None, None) for k in self.removed]
        rows += [
            (k, "changed", c, _cell(o), _cell(n))
            for k, cols in self.changed.items() for c, (o, n) in cols.items()
        ]
        return pl.DataFrame(
            rows, schema=dict.fromkeys(["key", "change", "column", "old", "new"], pl.String),
            orient="row",
        ).sort("key", "change", "column", nulls_last=True)

    def to_text(self) -> str:
        """Human-readable listing: ``+`` added, ``-`` removed, ``~`` changed with old -> new."""
        lines = [self.summary()]
        lines += [f"  + {k}" for k in self.added]
        lines += [f"  - {k}" for k in self.removed]
        for k, cols in self.changed.items():
            lines.append(f"  ~ {k}")
            lines += [f"      {c}: {_cell(o)!r} -> {_cell(n)!r}" for c, (o, n) in cols.items()]
        return "\n".join(lines)


def diff(name: str, old: str | pl.DataFrame, new: str | pl.DataFrame) -> Diff:
    """Compare two versions (release dates, ``"draft"``, or frames) of one dataset by key.

    >>> import polars as pl
    >>> a = pl.DataFrame({"entity_id": ["x", "y"], "name": ["X", "Y"]})
    >>> b = pl.DataFrame({"entity_id": ["y", "z"], "name": ["Why", "Z"]})
    >>> d = diff("entities", a, b)
    >>> d.added, d.removed, d.changed
    (('z',), ('x',), {'y': {'name': ('Y', 'Why')}})
    """
    from analytics.schemas import key_of

    labels = [v if isinstance(v, str) else label for v, label in ((old, "old"), (new, "new"))]
    a, b = (v if isinstance(v, pl.DataFrame) else load(name, v) for v in (old, new))
    a = a.with_columns(key_of(name, a).alias("__key"))
    b = b.with_columns(key_of(name, b).alias("__key"))
    ka, kb = set(a["__key"].to_list()), set(b["__key"].to_list())
    cols = [c for c in a.columns if c in b.columns and c != "__key"]
    joined = a.select("__key", *cols).join(
        b.select("__key", *cols), on="__key", how="inner", suffix="__new"
    ).sort("__key")
    flags = joined.select(
        "__key", *(pl.col(c).ne_missing(pl.col(f"{c}__new")).alias(c) for c in cols)
    )
    changed: dict[str, dict[str, tuple[Any, Any]]] = {}
    for row, flag in zip(joined.iter_rows(named=True), flags.iter_rows(named=True), strict=True):
        cells = {c: (row[c], row[f"{c}__new"]) for c in cols if flag[c]}
        if cells:
            changed[row["__key"]] = cells
    return Diff(name, labels[0], labels[1], tuple(sorted(kb - ka)), tuple(sorted(ka - kb)), changed)
