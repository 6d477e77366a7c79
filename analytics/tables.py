"""Read and write dataset CSV files: structure, types and contract, as findings.

A CSV cell is text; :func:`read_table` checks the file line by line, turns cells into
the schema's types and runs the contract (:mod:`analytics.schemas`). Bad input never
raises here: it becomes :class:`~analytics.errors.Finding` rows that say where the
problem is and what to do. :func:`read_folder` does this for the tables of a
folder laid out like a release, and checks the folder's ``datapackage.json`` when it
has one.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path
from typing import Any

import polars as pl

from analytics import schemas
from analytics.errors import Finding
from analytics.hashes import prefixed, sha256
from analytics.rules import list_to_text, row_key
from analytics.vocab import DATASETS, OPTIONAL_DATASETS, PRIMARY_KEYS

_EXPECTED = {
    pl.Date: "a date YYYY-MM-DD",
    pl.Int64: "a whole number",
    pl.Float64: "a number",
    pl.Boolean: "true or false",
}

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
    keys = df.select(row_key(name, df.columns)).to_series().to_list()
    pairs = zip(keys, lines, strict=True)
    return [k if k and not k.startswith("row ") else f"line {ln}" for k, ln in pairs]


def _coerce(df: pl.DataFrame, name: str, lines: list[int]) -> tuple[pl.DataFrame, list[Finding]]:
    """Turn CSV text into the schema's types; every cell that cannot be read is a finding."""
    exprs, findings = [], []
    for col, dtype in schemas.columns(name).items():
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
    for col, dtype in schemas.columns(name).items():
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
    """Read and check the dataset CSVs of a folder laid out like a release.

    When the folder holds a ``datapackage.json``, each listed file's size and sha256 are
    checked against it too (``manifest_bytes``, ``manifest_hash``): that is what catches a
    file truncated at a line boundary. Only tables without errors are returned.
    """
    folder = Path(folder)
    tables: dict[str, pl.DataFrame] = {}
    findings = _check_manifest(folder)
    for name in DATASETS:
        if name in OPTIONAL_DATASETS and not (folder / f"{name}.csv").is_file():
            continue  # added after the folder's release was cut
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
        if "hash" in res and sha256(file) != prefixed(res["hash"]):
            out.append(Finding("error", name, "", "", "manifest_hash", sha256(file),
                               f"{file.name} has {sha256(file)}, datapackage.json says "
                               f"{prefixed(res['hash'])}: the file changed after release"))
    return out


def write_table(df: pl.DataFrame, path: Path | str, name: str) -> None:
    """Write a dataset as CSV by the conventions: schema order, sorted by key, lists ``;``.

    An optional column the frame lacks (a table of a release cut before the column
    existed) is left out rather than written empty.

    Parameters
    ----------
    df : polars.DataFrame
        The table, typed as :func:`read_table` returns it.
    path : Path or str
        The CSV file to write.
    name : str
        Dataset name.

    Examples
    --------
    >>> import analytics, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "chips.csv"
    >>> write_table(analytics.load("chips"), path, "chips")
    >>> path.read_text().startswith("chip_id,")
    True
    """
    optional = schemas.optional_columns(name)
    cols = [c for c in schemas.columns(name) if c in df.columns or c not in optional]
    out = df.select(cols).sort(list(PRIMARY_KEYS[name]), nulls_last=True)
    out = out.with_columns(list_to_text(c, empty=None) for c in schemas.list_columns(name)
                           if c in cols)
    out.write_csv(path, line_terminator="\n", date_format="%Y-%m-%d")
