"""Cut an immutable, dated release from the draft: validate, snapshot, write, rename, register.

A release ``D`` holds what was public on ``D`` (:func:`analytics.datasets.as_of`). A
corrected snapshot of a date already released is a revision, ``D.2``, ``D.3``...: the
earlier revision stays as it was. Under the data tree's lock (:mod:`analytics.journal`)
a cut writes the release into a hidden sibling folder, flushes it to disk, journals
itself and renames the folder into ``data/releases/<id>/`` in one step; then
``data/registry.txt`` records the manifest's sha256 and ``data/CHANGELOG.md`` gets the
row-level diff against the release before it. A failure undoes everything; a cut that
was killed is finished or undone by the next one.
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
from analytics.journal import (
    append_changelog,
    clear_journal,
    cut_lock,
    fsync,
    pause,
    recover,
    replace_file,
    write_journal,
)
from analytics.manifest import MANIFEST, revision_block
from analytics.registry import (
    exact,
    format_registry,
    manifest_digests,
    registry_notes,
    release_order,
    releases,
)
from analytics.release import Release
from analytics.schemas import DATASETS, FOREIGN_KEYS, PRIMARY_KEYS, SCHEMAS, columns, descriptions
from analytics.tables import read_folder, write_table

_FIELD_TYPES = {pl.String: "string", pl.Float64: "number", pl.Int64: "integer",
                pl.Date: "date", pl.Boolean: "boolean"}
DATA_LICENSE = {"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0",
                "path": "https://creativecommons.org/licenses/by/4.0/"}


def cut_release(date: str, *, draft: Path | str | None = None, progress: bool = True,
                revision: bool = False, reason: str | None = None) -> Path:
    """Cut release ``date`` (``YYYY-MM-DD``), or a revision of it, from the draft.

    Parameters
    ----------
    date : str
        The knowledge date: not in the future, newer than the latest release's date
        (unless ``revision``), and late enough that some source was public by then.
    draft : Path or str, optional
        Folder of dataset CSVs (default ``data/draft``).
    progress : bool
        Print each step to stderr.
    revision : bool
        Cut the next revision of the release dated ``date`` (``2026-01-30.2``...).
    reason : str, optional
        What the revision corrects and why (required with ``revision``).

    Returns
    -------
    Path
        The new release folder.

    Raises
    ------
    ChipSupplyError
        The date cannot be a knowledge date, is released already (without
        ``revision``) or older than the latest release; a revision without a reason, of
        a date never released, or identical to the revision before it.
    DataValidationError
        The draft breaks a contract or a cross-dataset check; lists every finding.

    Examples
    --------
    ``cut_release("2026-11-29")`` writes ``data/releases/2026-11-29/``;
    ``cut_release("2026-01-30", revision=True, reason="...")`` writes
    ``data/releases/2026-01-30.2/``.
    """
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    check_knowledge_date(date)
    reason = " ".join((reason or "").split())
    if revision and not reason:
        raise ChipSupplyError("a revision needs --reason: say what it corrects and why")
    draft = Path(draft) if draft else paths.draft_dir()
    if not draft.is_dir():
        raise ChipSupplyError(f"draft folder {draft} does not exist")
    with cut_lock(say):
        pause("locked")
        recover(say)
        rid, base = _next_id(date, revision)
        say(f"[1/6] validating the draft in {draft}")
        tables, findings = read_folder(draft)
        if any(f.severity == "error" for f in findings):
            raise DataValidationError(findings, context=f"draft {draft}")
        say(f"[2/6] applying as_of({date}): keeping what was public on {date}")
        snapshot = as_of(tables, date)
        _check_sources(tables, snapshot, date)
        findings = _consistency(snapshot, date, say)
        if any(f.severity == "error" for f in findings):
            raise DataValidationError(findings, context=f"release {rid} (cross-dataset)")
        say("[4/6] comparing with " + (f"release {base}" if base else "nothing: first release"))
        entry = changelog_entry(snapshot, rid, base, reason=reason if revision else None)
        if revision and not _any_change(entry):
            raise ChipSupplyError(f"nothing to revise: the draft as of {date} is the same as "
                                  f"release {base}")
        extra = revision_block(base, reason, base) if revision else (
            {"compared_with": base} if base else {})
        final = _commit(rid, snapshot, entry, extra, say,
                        note=f"revises {base}: {reason}" if revision else None)
    say(f"release {rid} written to {final}")
    return final


def _commit(rid: str, snapshot: dict[str, pl.DataFrame], entry: str, extra: dict, say, *,
            note: str | None) -> Path:
    """Write, journal, rename, register, log; undo everything on failure."""
    final = paths.release_dir(rid)
    tmp = final.with_name(f".{rid}.partial-{os.getpid()}")
    registry, changelog = paths.registry_path(), paths.changelog_path()
    old_registry = registry.read_bytes() if registry.exists() else None
    old_changelog = changelog.read_bytes() if changelog.exists() else None
    renamed = False
    try:
        say(f"[5/6] writing {len(snapshot)} datasets as CSV and Parquet")
        _write_release(tmp, snapshot, rid, extra)
        pause("written")
        write_journal(rid, entry)
        pause("journaled")
        os.rename(tmp, final)
        renamed = True
        fsync(final.parent)
        pause("renamed")
        say(f"[6/6] registering the release in {registry.name} and {changelog.name}")
        digests = manifest_digests()
        digests[rid] = sha256(final / MANIFEST)
        notes = registry_notes()
        if note:
            notes[rid] = note
        replace_file(registry, format_registry(digests, notes).encode())
        pause("registered")
        append_changelog(entry)
        pause("logged")
        clear_journal()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if renamed:
            shutil.rmtree(final, ignore_errors=True)
            _restore(registry, old_registry)
            _restore(changelog, old_changelog)
        clear_journal()
        raise
    return final


def _any_change(entry: str) -> bool:
    return any(line.startswith("  - ") for line in entry.splitlines())


def check_knowledge_date(date: str) -> None:
    """Refuse a release date that cannot be a knowledge date: malformed or in the future.

    "Today" is the latest date anywhere on Earth (UTC+14), so no one's today is refused.

    Examples
    --------
    >>> check_knowledge_date("2026-01-30")
    >>> check_knowledge_date("2026-1-30")
    Traceback (most recent call last):
    analytics.errors.ChipSupplyError: release date '2026-1-30' is not a date YYYY-MM-DD
    """
    try:
        day = dt.date.fromisoformat(date)
        valid = day.isoformat() == date
    except (TypeError, ValueError):
        valid = False
    if not valid:
        hint = "; to correct a released date use --revision" if "." in str(date) else ""
        raise ChipSupplyError(f"release date {str(date)[:40]!r} is not a date YYYY-MM-DD{hint}")
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=14))).date()
    if day > today:
        raise ChipSupplyError(f"release date {date} is in the future: a release holds what "
                              f"was known on its date, and today is {today.isoformat()}")


def _next_id(date: str, revision: bool) -> tuple[str, str | None]:
    """The new release's id and the release its changelog entry is compared with."""
    known = releases()
    same_day = [r for r in known if release_order(r)[0] == date]
    if revision:
        if not same_day:
            raise ChipSupplyError(f"no release dated {date} to revise; known releases: "
                                  f"{', '.join(known) or 'none'}")
        number = release_order(same_day[-1])[1] + 1
        return f"{date}.{number}", same_day[-1]
    if same_day or paths.release_dir(date).exists():
        raise ChipSupplyError(f"release {date} exists; releases never change: cut a new date, "
                              "or a corrected snapshot with --revision --reason")
    if known and date < release_order(known[-1])[0]:
        raise ChipSupplyError(
            f"release {date} is older than the latest release {known[-1]}; "
            "releases are cut in date order (a correction of an older one is a --revision)"
        )
    return date, known[-1] if known else None


def _check_sources(tables: dict[str, pl.DataFrame], snapshot: dict[str, pl.DataFrame],
                   date: str) -> None:
    """Refuse a date before every source: the snapshot would hold nothing that was known."""
    if snapshot["sources"].height:
        return
    dates = tables["sources"].get_column("published_date").drop_nulls()
    first = f" (the earliest is dated {dates.min()})" if dates.len() else ""
    raise ChipSupplyError(f"no source of the draft was public on {date}{first}: a release "
                          "dated before its data would hold nothing")


def _consistency(tables: dict[str, pl.DataFrame], date: str, say) -> list:
    say("[3/6] cross-dataset checks")
    return list(cross_checks(tables, release_date=date))


def changelog_entry(tables: dict[str, pl.DataFrame], release: str, previous: str | None, *,
                    reason: str | None = None) -> str:
    """Markdown entry for ``release``: per dataset, rows added, removed and changed.

    A revision's heading names the release it revises, and the entry states why.

    Examples
    --------
    ``changelog_entry(tables, "2026-01-30.2", "2026-01-30", reason="...")`` starts with
    ``## 2026-01-30.2 (revision of 2026-01-30)``.
    """
    heading = f"## {release}" + (f" (revision of {previous})" if reason else "")
    lines = [heading, ""]
    if reason:
        lines += [f"Why: {reason}", ""]
    names = [n for n in DATASETS if n in tables]  # a draft may lack an optional dataset
    if previous is None:
        lines.append("First release.")
        lines.append("")
        lines += [f"- `{n}`: {tables[n].height} rows" for n in names]
        return "\n".join(lines) + "\n"
    lines += [f"Compared with {previous}.", ""]
    for name in names:
        if name not in Release.open(exact(previous)).names:
            lines.append(f"- `{name}`: {tables[name].height} rows; a new dataset")
            continue
        d = diff(name, Release.open(exact(previous)).table(name), tables[name])
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
def _write_release(folder: Path, tables: dict[str, pl.DataFrame], release: str,
                   extra: dict) -> None:
    folder.mkdir(parents=True)
    for i, name in enumerate(n for n in DATASETS if n in tables):
        df = tables[name].select(list(columns(name)))
        df = df.sort(list(PRIMARY_KEYS[name]), nulls_last=True)
        write_table(df, folder / f"{name}.csv", name)
        df.write_parquet(folder / f"{name}.parquet")
        if i == 0:
            pause("writing")
    package = {**datapackage(release, folder), **extra}
    (folder / "datapackage.json").write_text(
        json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    for path in folder.iterdir():
        fsync(path)
    fsync(folder)


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


def _restore(path: Path, content: bytes | None) -> None:
    if content is None:
        path.unlink(missing_ok=True)
    else:
        replace_file(path, content)
