"""Cut an immutable, dated release from the draft: validate, snapshot, write, rename, register.

A release ``D`` holds what was public on ``D`` (:func:`analytics.datasets.as_of`). It is
written into a hidden sibling folder, flushed to disk and renamed into
``data/releases/<D>/`` in one step; then ``data/registry.txt`` is replaced atomically and
``data/CHANGELOG.md`` gets the row-level diff against the previous release. When any
step fails, nothing is left behind.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

import polars as pl

from analytics import paths
from analytics.consistency import check as cross_checks
from analytics.datasets import as_of, diff
from analytics.errors import ChipSupplyError, DataValidationError
from analytics.hashes import sha256
from analytics.registry import read_registry, release_order, releases
from analytics.release import Release
from analytics.schemas import DATASETS, FOREIGN_KEYS, PRIMARY_KEYS, SCHEMAS, columns, descriptions
from analytics.tables import read_folder, write_table

_FIELD_TYPES = {pl.String: "string", pl.Float64: "number", pl.Int64: "integer",
                pl.Date: "date", pl.Boolean: "boolean"}
DATA_LICENSE = {"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0",
                "path": "https://creativecommons.org/licenses/by/4.0/"}


def cut_release(date: str, *, draft: Path | str | None = None, progress: bool = True) -> Path:
    """Cut release ``date`` (``YYYY-MM-DD``) from the draft and return its folder.

    Raises
    ------
    ChipSupplyError
        ``date`` is malformed, already released, or older than the latest release.
    DataValidationError
        The draft breaks a contract or a cross-dataset check; lists every finding.

    Examples
    --------
    ``cut_release("2026-11-29")`` writes ``data/releases/2026-11-29/``.
    """
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    _check_date(date)
    draft = Path(draft) if draft else paths.draft_dir()
    say(f"[1/6] validating the draft in {draft}")
    tables, findings = read_folder(draft)
    if any(f.severity == "error" for f in findings):
        raise DataValidationError(findings, context=f"draft {draft}")
    say(f"[2/6] applying as_of({date}): keeping what was public on {date}")
    snapshot = as_of(tables, date)
    findings = _consistency(snapshot, date, say)
    if any(f.severity == "error" for f in findings):
        raise DataValidationError(findings, context=f"release {date} (cross-dataset)")
    known = releases()
    previous = known[-1] if known else None
    say("[4/6] comparing with " + (f"release {previous}" if previous else "nothing: first release"))
    entry = changelog_entry(snapshot, date, previous)

    final = paths.release_dir(date)
    tmp = final.with_name(f".{date}.partial-{os.getpid()}")
    registry, changelog = paths.registry_path(), paths.changelog_path()
    old_registry = registry.read_bytes() if registry.exists() else None
    old_changelog = changelog.read_bytes() if changelog.exists() else None
    renamed = False
    try:
        say(f"[5/6] writing {len(snapshot)} datasets as CSV and Parquet")
        _write_release(tmp, snapshot, date)
        _check_date(date)  # a concurrent cut may have won the race
        os.rename(tmp, final)
        renamed = True
        _fsync(final.parent)
        say(f"[6/6] registering the files in {registry.name} and {changelog.name}")
        entries = read_registry()
        entries.update(
            {f"releases/{date}/{p.name}": sha256(p) for p in sorted(final.iterdir())}
        )
        _replace(registry, "".join(f"{k} {v}\n" for k, v in sorted(entries.items())).encode())
        head = old_changelog or b"# Changelog\n\nEvery release, newest last, with what changed.\n"
        _replace(changelog, head + b"\n" + entry.encode())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if renamed:
            shutil.rmtree(final, ignore_errors=True)
            _restore(registry, old_registry)
            _restore(changelog, old_changelog)
        raise
    say(f"release {date} written to {final}")
    return final


def _check_date(date: str) -> None:
    try:
        valid = dt.date.fromisoformat(date).isoformat() == date
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ChipSupplyError(f"release name {date!r} is not a date YYYY-MM-DD")
    if paths.release_dir(date).exists() or date in releases():
        raise ChipSupplyError(f"release {date} exists; releases never change, cut a new date")
    known = releases()
    if known and release_order(date) < release_order(known[-1]):
        raise ChipSupplyError(
            f"release {date} is older than the latest release {known[-1]}; "
            "releases are cut in date order"
        )


def _consistency(tables: dict[str, pl.DataFrame], date: str, say) -> list:
    say("[3/6] cross-dataset checks")
    return list(cross_checks(tables, release_date=date))


def changelog_entry(tables: dict[str, pl.DataFrame], date: str, previous: str | None) -> str:
    """Markdown entry for release ``date``: per dataset, rows added, removed and changed."""
    lines = [f"## {date}", ""]
    names = [n for n in DATASETS if n in tables]  # a draft may lack an optional dataset
    if previous is None:
        lines.append("First release.")
        lines.append("")
        lines += [f"- `{n}`: {tables[n].height} rows" for n in names]
        return "\n".join(lines) + "\n"
    lines += [f"Compared with {previous}.", ""]
    for name in names:
        if name not in Release.open(previous).names:
            lines.append(f"- `{name}`: {tables[name].height} rows; a new dataset")
            continue
        d = diff(name, Release.open(previous).table(name), tables[name])
        lines.append(f"- `{name}`: {tables[name].height} rows; {len(d.added)} added, "
                     f"{len(d.removed)} removed, {len(d.changed)} changed")
        if d.added:
            lines.append(f"  - added: {', '.join(d.added)}")
        if d.removed:
            lines.append(f"  - removed: {', '.join(d.removed)}")
        for key, cols in d.changed.items():
            lines.append(f"  - changed {key}: {', '.join(cols)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- writing
def _write_release(folder: Path, tables: dict[str, pl.DataFrame], date: str) -> None:
    folder.mkdir(parents=True)
    for name in (n for n in DATASETS if n in tables):
        df = tables[name].select(list(columns(name)))
        df = df.sort(list(PRIMARY_KEYS[name]), nulls_last=True)
        write_table(df, folder / f"{name}.csv", name)
        df.write_parquet(folder / f"{name}.parquet")
    package = datapackage(date, folder)
    (folder / "datapackage.json").write_text(
        json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    for path in folder.iterdir():
        _fsync(path)
    _fsync(folder)


def datapackage(date: str, folder: Path) -> dict:
    """Frictionless Data Package (v1) descriptor of a release folder, from the schemas.

    Each CSV is a tabular resource with its bytes, sha256, fields, primary key and the
    foreign keys of scalar columns (Frictionless cannot express a key held in a list
    column: those are stated in the field's description). The Parquet copy of each table
    is listed under the resource's ``parquet`` property with its own bytes and sha256.
    """
    return {
        "profile": "tabular-data-package",
        "name": "chip-supply",
        "title": "AI-chip supply into China: sourced, versioned datasets",
        "version": date,
        "licenses": [DATA_LICENSE],
        "resources": [_resource(name, folder) for name in DATASETS
                      if (folder / f"{name}.csv").is_file()],
    }


def _resource(name: str, folder: Path) -> dict:
    csv_path, parquet_path = folder / f"{name}.csv", folder / f"{name}.parquet"
    spec = SCHEMAS[name].to_schema().columns
    lists = {fk.column: fk for fk in FOREIGN_KEYS if fk.dataset == name and fk.many}
    fields = []
    for col, dtype in columns(name).items():
        desc = descriptions(name)[col]
        is_list = isinstance(dtype, pl.List)
        # a list is a ';'-joined cell: typed "string", as Frictionless "array" wants JSON
        fld: dict = {"name": col, "type": "string" if is_list else _FIELD_TYPES[dtype]}
        if is_list:
            desc += " (list, items separated by ';')"
            if col in lists:
                desc += f"; each item is a {lists[col].ref}.{lists[col].ref_column}"
        fld["description"] = desc
        if dtype == pl.Boolean:
            fld.update(trueValues=["true"], falseValues=["false"])
        constraints = {}
        if not spec[col].nullable and not is_list:
            constraints["required"] = True
        if spec[col].unique:
            constraints["unique"] = True
        for check in spec[col].checks:
            if check.name == "isin":
                constraints["enum"] = sorted(check.statistics["allowed_values"])
        if constraints:
            fld["constraints"] = constraints
        fields.append(fld)
    foreign = [
        {"fields": fk.column,
         "reference": {"resource": "" if fk.ref == name else fk.ref, "fields": fk.ref_column}}
        for fk in FOREIGN_KEYS if fk.dataset == name and not fk.many
    ]
    schema: dict = {"fields": fields, "missingValues": [""],
                    "primaryKey": list(PRIMARY_KEYS[name])}
    if foreign:
        schema["foreignKeys"] = foreign
    return {
        "profile": "tabular-data-resource",
        "name": name,
        "path": csv_path.name,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": csv_path.stat().st_size,
        "hash": sha256(csv_path),
        "description": (SCHEMAS[name].__doc__ or "").strip().splitlines()[0],
        "dialect": {"delimiter": ",", "quoteChar": '"', "header": True},
        "schema": schema,
        "parquet": {
            "path": parquet_path.name,
            "mediatype": "application/vnd.apache.parquet",
            "bytes": parquet_path.stat().st_size,
            "hash": sha256(parquet_path),
        },
    }


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(path: Path, content: bytes) -> None:
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


def _restore(path: Path, content: bytes | None) -> None:
    if content is None:
        path.unlink(missing_ok=True)
    else:
        _replace(path, content)
