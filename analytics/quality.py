"""Validate a release, the draft or a folder: contracts, cross-dataset checks, data quality.

One pass reports everything: the pandera contract of every table, the cross-dataset
checks of :mod:`analytics.consistency`, and the data-quality suite of
:mod:`analytics.expectations`. A release is read through its door
(:class:`analytics.Release`), the same verified tables the notebooks and the report read;
the draft and other folders are read from their CSV files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import polars as pl

from analytics import paths, schemas
from analytics.advice import advise
from analytics.consistency import check as cross_checks
from analytics.errors import (
    CannotValidateError,
    Finding,
    IntegrityError,
    ReleaseNotFoundError,
    printable,
)
from analytics.expectations import run_suite
from analytics.integrity import refused, same_tables
from analytics.registry import exact, release_order, releases
from analytics.release import Release
from analytics.vocab import DATASETS

Tables = dict[str, pl.DataFrame]


@dataclass
class Result:
    """Outcome of one validation: ``valid`` when no finding is an error."""

    release: str
    findings: list[Finding] = field(default_factory=list)
    data_docs: Path | None = None

    def __post_init__(self) -> None:
        self.findings = sorted(set(self.findings))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "release": self.release,
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        """``{"valid": bool, "release": ..., "findings": [...]}``."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def summary(self) -> str:
        verdict = "valid" if self.valid else "INVALID"
        return (
            f"{self.release}: {verdict}: {len(self.errors)} error(s), "
            f"{len(self.warnings)} warning(s)"
        )

    def to_text(self) -> str:
        """Findings grouped by dataset, one line each, and a one-line summary at the end.

        >>> r = Result("2026-11-29", [Finding("error", "chips", "x", "tpp_stated",
        ...     "tpp_mismatch", "1", "stated TPP differs")])
        >>> print(r.to_text())
        chips
          error   x.tpp_stated: tpp_mismatch: stated TPP differs (value: 1)
        2026-11-29: INVALID: 1 error(s), 0 warning(s)
        """
        lines: list[str] = []
        by_dataset: dict[str, list[Finding]] = {}
        for f in self.findings:
            by_dataset.setdefault(f.dataset or "(release)", []).append(f)
        for dataset in sorted(by_dataset):
            lines.append(printable(dataset))
            for f in by_dataset[dataset]:
                where = f.key or "-"
                if f.column:
                    where += f".{f.column}"
                value = f" (value: {f.value})" if f.value else ""
                lines.append(printable(f"  {f.severity:<7} {where}: {f.check}: {f.message}"
                                       f"{value}"))
        lines.append(printable(self.summary()))
        return "\n".join(lines)


# --------------------------------------------------------------------------- the one validation
def check(rel: Release) -> tuple[Tables, list[Finding]]:
    """Contracts and cross-dataset checks of one release or folder: its single validation.

    A release's verified tables are checked against their contracts here; a folder's CSV
    files were checked while they were read. A table with a contract error still goes
    through the cross-dataset checks, so one error never hides the table's others.

    Parameters
    ----------
    rel : Release
        An opened release, draft or folder.

    Returns
    -------
    tuple
        The tables (with their contract errors) and every finding.

    Examples
    --------
    >>> import analytics
    >>> tables, findings = check(analytics.Release.open("latest"))
    >>> [f for f in findings if f.severity == "error"]
    []
    """
    if rel.kind == "folder":
        tables, findings = rel.read()
        tables, findings = dict(tables), list(findings)
    else:
        tables, findings = {}, []
        raw = rel.tables()
        for name, (valid, found) in schemas.validate_all(raw).items():
            findings += [advise(f, raw[name]) for f in found]
            tables[name] = valid if valid is not None else raw[name]
    return tables, findings + cross_checks(tables, release_date=rel.date)


# --------------------------------------------------------------------------- entry points
def validate_folder(
    folder: Path | str,
    *,
    release_date: date | str | None = None,
    previous: Path | str | Mapping[str, pl.DataFrame] | None = None,
    data_docs: Path | str | None = None,
    label: str | None = None,
    documented: str | None = None,
    suite: bool = True,
) -> Result:
    """Validate a folder of dataset CSVs laid out like a release; never writes into it.

    Parameters
    ----------
    folder : Path or str
        Folder holding ``<dataset>.csv`` files (``datapackage.json`` optional).
    release_date : date or str, optional
        Date of the knowledge snapshot. Default: the folder's name when it is a date,
        else today.
    previous : Path, str or mapping, optional
        Previous release (folder, release id, or tables by name) to check drift against.
    data_docs : Path or str, optional
        Folder to render the Data Docs into (``index.html``).
    label : str, optional
        Name of the result (default: the folder path).
    documented : str, optional
        Changelog text that must explain every removed or changed row; ``None`` means
        drift is reported as warnings only (draft, ad-hoc folders).
    suite : bool
        Run the data-quality suite (default ``True``).

    Returns
    -------
    Result
        Named by ``label``.

    Raises
    ------
    CannotValidateError
        The folder is missing, holds no dataset CSV, or a file cannot be read.

    Examples
    --------
    >>> from analytics import paths
    >>> validate_folder(paths.draft_dir(), suite=False).release.endswith("draft")
    True
    """
    folder = Path(folder)
    files = ", ".join(f"{n}.csv" for n in DATASETS)
    if not folder.is_dir():
        raise CannotValidateError(f"{folder} is not a folder; expected one holding {files}")
    if not any((folder / f"{n}.csv").exists() for n in DATASETS):
        raise CannotValidateError(f"{folder} holds none of the dataset files ({files})")
    rel = Release.open(folder)
    if release_date is not None:
        rel_date = release_date if isinstance(release_date, date) else date.fromisoformat(
            str(release_date))
    else:
        rel_date = rel.date
    try:
        tables, findings = rel.read()
    except OSError as exc:
        where = exc.filename or folder
        raise CannotValidateError(f"cannot read {where}: {exc.strerror or exc}") from exc
    findings = list(findings) + cross_checks(tables, release_date=rel_date)
    return _finish(tables, findings, rel_date, label or str(folder), suite=suite,
                   previous=previous, documented=documented, data_docs=data_docs)


def validate_release(
    release: str | Release, *, data_docs: Path | str | None = None, suite: bool = True
) -> Result:
    """Validate a release against its date and the release before it.

    Drift against the previous release must be explained by the release's entry in
    ``data/CHANGELOG.md`` (an error otherwise).

    Parameters
    ----------
    release : str or Release
        A release id, ``"latest"``, or a release opened already.
    data_docs, suite
        As for :func:`validate_folder`.

    Returns
    -------
    Result
        Named by the release id.

    Raises
    ------
    CannotValidateError
        The release is neither here nor downloadable.

    Examples
    --------
    >>> validate_release("latest", suite=False).valid
    True
    """
    label = release.id if isinstance(release, Release) else str(release)
    try:
        rel = release if isinstance(release, Release) else _open(release)
        proof = same_tables(rel)
    except IntegrityError as exc:
        return Result(label, [refused(label, exc)])
    tables, findings = check(rel)
    findings += proof
    previous = documented = None
    if suite:
        section = _changelog_section(rel.id)
        base = _compared_with(rel, section)
        previous = _open_or_none(exact(base)) if base else None
        documented = (section or "") if previous else None
    return _finish(tables, findings, rel.date, rel.id, suite=suite, documented=documented,
                   previous=previous.tables() if previous else None, data_docs=data_docs)


def validate_draft(*, data_docs: Path | str | None = None, suite: bool = True) -> Result:
    """Validate ``data/draft`` as of today, with drift against the latest release as warnings.

    Parameters
    ----------
    data_docs, suite
        As for :func:`validate_folder`.

    Returns
    -------
    Result

    Examples
    --------
    >>> validate_draft(suite=False).release
    'draft'
    """
    known = releases()
    latest = _open_or_none(known[-1]) if known and suite else None
    return validate_folder(
        paths.draft_dir(), release_date=date.today(), data_docs=data_docs, label="draft",
        previous=latest.tables() if latest else None, suite=suite,
    )


def _open(release: str) -> Release:
    try:
        return Release.open(release)
    except ReleaseNotFoundError as exc:
        raise CannotValidateError(f"release {release} not found: {exc}") from exc


def _open_or_none(release: str) -> Release | None:
    try:
        return Release.open(release)
    except ReleaseNotFoundError:
        return None


def _finish(tables: Tables, findings: list[Finding], release_date: date, label: str, *,
            suite: bool, previous: Path | str | Mapping[str, pl.DataFrame] | None,
            documented: str | None, data_docs: Path | str | None) -> Result:
    """Add the data-quality suite's findings and write the Data Docs; the result."""
    docs = Path(data_docs) if data_docs and suite else None
    if suite:
        findings = findings + run_suite(
            tables, release_date=release_date, previous=_previous_tables(previous),
            documented=documented, data_docs=docs, name=label,
        )
    result = Result(label, findings, docs)
    if docs is not None:
        _summary_page(docs, result)
    return result


def _previous_tables(
    previous: Path | str | Mapping[str, pl.DataFrame] | None,
) -> Tables | None:
    if previous is None:
        return None
    if isinstance(previous, Mapping):
        return dict(previous)
    rel = Release.open(Path(previous) if Path(previous).is_dir() else str(previous))
    return rel.read()[0]


def _summary_page(docs: Path, result: Result) -> None:
    """Write ``index.html``: every finding and a link to each expectation's page.

    great_expectations' own index draws its tables with scripts, which the published
    pages do not carry (:func:`analytics.expectations.offline`); it is kept as
    ``gx-index.html`` and this page, which needs no script or network, is the entry point.
    """
    gx_index = docs / "index.html"
    if gx_index.is_file():
        gx_index.replace(docs / "gx-index.html")
    pages = sorted(docs.glob("validations/**/*.html"))
    links = "".join(
        f'<li><a href="{escape(p.relative_to(docs).as_posix())}">{escape(p.stem)}</a></li>'
        for p in pages
    )
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in (
            f.severity, f.dataset, f.key, f.column, f.check, f.value, f.message
        )) + "</tr>"
        for f in result.findings
    )
    style = (
        "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;"
        "padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px "
        "solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}"
    )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>Data Docs: {escape(result.release)}</title><style>{style}</style></head>"
        f"<body><h1>Data Docs: {escape(result.release)}</h1>"
        f"<p><strong>{escape(result.summary())}</strong></p>"
        "<h2>Findings</h2>"
        + (
            "<table><thead><tr><th>severity</th><th>dataset</th><th>key</th><th>column</th>"
            f"<th>check</th><th>value</th><th>message</th></tr></thead><tbody>{rows}"
            "</tbody></table>" if rows else "<p>No finding.</p>"
        )
        + "<h2>Data-quality expectations</h2><p>One page per expectation suite, rendered "
        "by great_expectations:</p>"
        f"<ul>{links}</ul><p><a href=\"gx-index.html\">great_expectations index</a> "
        "(its tables are drawn by scripts, left out so that the pages work offline).</p>"
        "</body></html>\n"
    )
    (docs / "index.html").write_text(html, encoding="utf-8")



def _changelog_section(release: str) -> str | None:
    """Text of the ``## <release>`` entry of ``data/CHANGELOG.md``, or ``None``."""
    path = paths.changelog_path()
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    match = re.search(rf"^##\s+{re.escape(release)}(?=[ \t]|$).*?(?=^##\s|\Z)", text,
                      flags=re.M | re.S)
    return match.group(0) if match else None


def _compared_with(rel: Release, section: str | None) -> str | None:
    """The release ``rel`` was compared with when it was cut (its drift baseline).

    Its manifest says so; for a release cut before manifests did, its changelog entry
    (``Compared with <id>.``); failing both, the release before it in order.
    """
    if rel.manifest is not None and rel.manifest.compared_with:
        return rel.manifest.compared_with
    match = re.search(r"^Compared with (\S+?)\.$", section or "", flags=re.M)
    if match:
        return match.group(1)
    earlier = [r for r in releases() if release_order(r) < release_order(rel.id)]
    return earlier[-1] if earlier and section is None else None


# --------------------------------------------------------------------------- pages
def data_docs_index(target: Path | str, results: list[Result]) -> Path:
    """Write ``index.html`` linking the Data Docs of several results (``validate --release all``).

    Parameters
    ----------
    target : Path or str
        Folder holding one Data Docs folder per result, named by its release.
    results : list of Result

    Returns
    -------
    Path
        The index file.

    Examples
    --------
    >>> import tempfile
    >>> data_docs_index(tempfile.mkdtemp(), [Result("2026-11-29")]).name
    'index.html'
    """
    items = "".join(
        f'<li><a href="{escape(r.release)}/index.html">{escape(r.release)}</a>: '
        f"{escape(r.summary())}</li>" for r in results
    )
    path = Path(target) / "index.html"
    path.write_text(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">"
        "<title>Data Docs</title>"
        f"<h1>Data Docs</h1><ul>{items}</ul></html>\n", encoding="utf-8",
    )
    return path
