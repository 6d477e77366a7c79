"""Validate a release, the draft or a folder: contracts, consistency and the data-quality suite.

One pass reports everything: the pandera contract of every table (read by
:func:`analytics.datasets.read_folder`), the cross-dataset checks of
:mod:`analytics.consistency`, and a great_expectations suite that looks at what the
contracts cannot: completeness of the columns analyses need, the share of low-confidence
rows, freshness of the latest event against the release date, and drift against the
previous release that the changelog does not explain. great_expectations only ever
sees the release's own small tables or polars-computed aggregates, never a large
frame, and is imported only when the suite runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from analytics import paths
from analytics.errors import ChipSupplyError, Finding

# dataset -> nullable column (or row-level "has_*" aggregate) -> least share filled
COMPLETENESS: dict[str, dict[str, float]] = {
    "sources": {"published_date": 0.8},
    "chips": {
        "release_date": 0.9,
        "bf16_dense_tflops": 0.9,
        "memory_bw_gbps": 0.8,
        "die_area_mm2": 0.6,
    },
    "shipments": {"has_figure": 0.95},
    "lab_compute": {"has_figure": 0.95},
}
FIGURES = {
    "shipments": (
        "units_low", "units", "units_high", "value_usd_low", "value_usd", "value_usd_high",
    ),
    "lab_compute": (
        "chip_count_low", "chip_count", "chip_count_high", "gpu_hours_low", "gpu_hours",
        "gpu_hours_high", "training_flop_low", "training_flop", "training_flop_high",
    ),
}
MAX_LOW_CONFIDENCE = 0.5
MAX_STALE_DAYS = 180
SAMPLE_ROWS = 100_000  # completeness of a larger table is measured on a fixed sample
FRESHNESS = (
    ("approvals", "date", "latest approvals event"),
    ("shipments", "period_end", "latest shipments period end"),
    ("sources", "published_date", "latest source publication"),
)


class CannotValidateError(ChipSupplyError):
    """The input could not be validated at all: a missing folder, an unreadable file."""


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
            lines.append(dataset)
            for f in by_dataset[dataset]:
                where = f.key or "-"
                if f.column:
                    where += f".{f.column}"
                value = f" (value: {f.value})" if f.value else ""
                lines.append(f"  {f.severity:<7} {where}: {f.check}: {f.message}{value}")
        lines.append(self.summary())
        return "\n".join(lines)


# --------------------------------------------------------------------------- entry points
def _folder_date(folder: Path) -> date | None:
    try:
        return date.fromisoformat(folder.name)
    except ValueError:
        return None


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
    folder
        Folder holding ``<dataset>.csv`` files (``datapackage.json`` optional).
    release_date
        Date of the knowledge snapshot. Default: the folder's name when it is a date,
        else today.
    previous
        Previous release (folder, or tables by name) to check drift against.
    data_docs
        Folder to render the great_expectations Data Docs into (``index.html``).
    label
        Name of the result (default: the folder path).
    documented
        Changelog text that must explain every removed or changed row; ``None`` means
        drift is reported as warnings only (draft, ad-hoc folders).
    suite
        Run the great_expectations suite (default ``True``).

    Raises
    ------
    CannotValidateError
        The folder is missing, holds no dataset CSV, or a file cannot be read.
    """
    from analytics.consistency import check
    from analytics.datasets import read_folder
    from analytics.schemas import DATASETS

    folder = Path(folder)
    if not folder.is_dir():
        raise CannotValidateError(f"{folder} is not a folder; expected one holding "
                                  f"{', '.join(f'{n}.csv' for n in DATASETS)}")
    if not any((folder / f"{n}.csv").exists() for n in DATASETS):
        raise CannotValidateError(f"{folder} holds none of the dataset files "
                                  f"({', '.join(f'{n}.csv' for n in DATASETS)})")
    try:
        tables, findings = read_folder(folder)
    except OSError as exc:
        where = exc.filename or folder
        raise CannotValidateError(f"cannot read {where}: {exc.strerror or exc}") from exc
    rd = release_date or _folder_date(folder) or date.today()
    rd = rd if isinstance(rd, date) else date.fromisoformat(str(rd))
    findings = list(findings) + check(tables, release_date=rd)
    docs = None
    if suite:
        prev_tables = _previous_tables(previous)
        findings += run_suite(
            tables, release_date=rd, previous=prev_tables, documented=documented,
            data_docs=data_docs, name=label or str(folder),
        )
        docs = Path(data_docs) if data_docs else None
    result = Result(label or str(folder), findings, docs)
    if docs is not None:
        _summary_page(docs, result)
    return result


def _summary_page(docs: Path, result: Result) -> None:
    """Write ``index.html``: every finding and a link to each expectation's page.

    great_expectations' own index draws its tables with scripts from CDNs, so offline it
    shows nothing; it is kept as ``gx-index.html`` and this page, which needs no script
    or network, becomes the entry point.
    """
    from html import escape

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
        "(its tables need a network connection).</p></body></html>\n"
    )
    (docs / "index.html").write_text(html, encoding="utf-8")


def _previous_tables(
    previous: Path | str | Mapping[str, pl.DataFrame] | None,
) -> dict[str, pl.DataFrame] | None:
    if previous is None:
        return None
    if isinstance(previous, Mapping):
        return dict(previous)
    from analytics.datasets import read_folder

    folder = Path(previous)
    if not folder.is_dir():
        folder = paths.release_dir(str(previous))
    tables, _ = read_folder(folder)
    return tables


def _changelog_section(release: str) -> str | None:
    """Text of the ``## <release>`` entry of ``data/CHANGELOG.md``, or ``None``."""
    path = paths.changelog_path()
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    match = re.search(rf"^##\s+{re.escape(release)}\b.*?(?=^##\s|\Z)", text, flags=re.M | re.S)
    return match.group(0) if match else None


def validate_release(
    release: str, *, data_docs: Path | str | None = None, suite: bool = True
) -> Result:
    """Validate ``data/releases/<release>`` against its date and the release before it.

    Drift against the previous release must be explained by the release's entry in
    ``data/CHANGELOG.md`` (an error otherwise).
    """
    from analytics.datasets import latest_release, releases

    if release == "latest":
        release = latest_release()
    folder = paths.release_dir(release)
    if not folder.is_dir():
        raise CannotValidateError(
            f"release {release} not found at {folder}; known: {', '.join(releases()) or 'none'}"
        )
    earlier = [r for r in releases() if r < release and paths.release_dir(r).is_dir()]
    previous = earlier[-1] if earlier else None
    documented = (_changelog_section(release) or "") if previous else None
    return validate_folder(
        folder, release_date=release, previous=previous, data_docs=data_docs, label=release,
        documented=documented, suite=suite,
    )


def validate_draft(*, data_docs: Path | str | None = None, suite: bool = True) -> Result:
    """Validate ``data/draft`` as of today, with drift against the latest release as warnings."""
    from analytics.datasets import releases

    known = [r for r in releases() if paths.release_dir(r).is_dir()]
    return validate_folder(
        paths.draft_dir(), release_date=date.today(), previous=known[-1] if known else None,
        data_docs=data_docs, label="draft", suite=suite,
    )


# --------------------------------------------------------------------------- the GE suite
def _aggregates(
    tables: Mapping[str, pl.DataFrame],
    *,
    release_date: date,
    previous: Mapping[str, pl.DataFrame] | None,
    documented: str | None,
) -> dict[str, tuple[pl.DataFrame, str]]:
    """Small frames for great_expectations, each with the column that names its rows."""
    from analytics.schemas import FACT_TABLES, PRIMARY_KEYS, key_of

    frames: dict[str, tuple[pl.DataFrame, str]] = {}
    for name, targets in COMPLETENESS.items():
        df = tables.get(name)
        if df is None or df.height == 0:
            continue
        if df.height > SAMPLE_ROWS:
            df = df.sample(SAMPLE_ROWS, seed=0)
        cols = [pl.col(c) for c in targets if c in df.columns]
        if name in FIGURES:
            cols.append(
                pl.when(pl.any_horizontal([pl.col(c).is_not_null() for c in FIGURES[name]]))
                .then(pl.lit(True))
                .alias("has_figure")
            )
        key = PRIMARY_KEYS[name][0]
        frames[f"{name}_completeness"] = (
            df.select(key_of(name, df).alias(key), *cols).sort(key), key
        )
    rows = []
    for name in FACT_TABLES:
        df = tables.get(name)
        if df is None or df.height == 0 or "confidence" not in df.columns:
            continue
        counts = df.get_column("confidence").value_counts()
        share = dict(zip(counts["confidence"].to_list(), counts["count"].to_list(), strict=True))
        rows.append({
            "dataset": name, "rows": df.height,
            **{f"share_{c}": share.get(c, 0) / df.height for c in ("high", "medium", "low")},
        })
    if rows:
        frames["confidence"] = (pl.DataFrame(rows).sort("dataset"), "dataset")
    rows = []
    for name, col, what in FRESHNESS:
        df = tables.get(name)
        if df is None or col not in df.columns or df.get_column(col).dtype != pl.Date:
            continue
        dates = df.get_column(col).drop_nulls()
        dates = dates.filter(dates <= release_date)  # future period ends are capped
        if dates.len() == 0:
            continue
        latest = dates.max()
        rows.append({
            "stream": f"{name}.{col}", "dataset": name, "what": what, "latest": latest.isoformat(),
            "days_before_release": (release_date - latest).days,
        })
    if rows:
        frames["freshness"] = (pl.DataFrame(rows).sort("stream"), "stream")
    if previous:
        from analytics.datasets import diff

        rows = []
        for name, df in tables.items():
            old = previous.get(name)
            if old is None:
                continue
            d = diff(name, old, df)
            for key, change in [(k, "removed") for k in d.removed] + [
                (k, "changed") for k in d.changed
            ]:
                ok = documented is not None and re.search(
                    rf"(?<![\w-]){re.escape(key)}(?![\w-])", documented
                ) is not None
                rows.append({"row": f"{name}/{key}", "dataset": name, "key": key,
                             "change": change, "documented": ok})
        frames["drift"] = (
            pl.DataFrame(
                rows, schema={"row": pl.String, "dataset": pl.String, "key": pl.String,
                              "change": pl.String, "documented": pl.Boolean},
            ).sort("row"),
            "row",
        )
    return frames


def _expectations(
    asset: str, frame: pl.DataFrame, *, drift_severity: str
) -> list[tuple[Any, str]]:
    """(expectation, severity) pairs of one aggregate frame."""
    import great_expectations.expectations as gxe

    out: list[tuple[Any, str]] = []
    if asset.endswith("_completeness"):
        name = asset.removesuffix("_completeness")
        for col, mostly in COMPLETENESS[name].items():
            if col in frame.columns:
                exp = gxe.ExpectColumnValuesToNotBeNull(column=col, mostly=mostly)
                out.append((exp, "warning"))
    elif asset == "confidence":
        out.append((
            gxe.ExpectColumnValuesToBeBetween(column="share_low", max_value=MAX_LOW_CONFIDENCE),
            "warning",
        ))
    elif asset == "freshness":
        out.append((
            gxe.ExpectColumnValuesToBeBetween(
                column="days_before_release", max_value=MAX_STALE_DAYS
            ),
            "warning",
        ))
    elif asset == "drift":
        out.append((
            gxe.ExpectColumnValuesToBeInSet(column="documented", value_set=[True]), drift_severity,
        ))
    return out


def _message(asset: str, column: str, row: dict[str, Any], result: dict[str, Any],
             frame: pl.DataFrame, release_date: date) -> tuple[str, str, str, str]:
    """(dataset, key, value, message) of one failed expectation row."""
    if asset.endswith("_completeness"):
        name = asset.removesuffix("_completeness")
        filled = 100 - float(result.get("unexpected_percent") or 0)
        mostly = COMPLETENESS[name][column]
        what = "rows with any figure" if column == "has_figure" else f"column {column}"
        return name, "", f"{filled:.0f}%", (
            f"{what} filled in {filled:.0f}% of rows, expected at least {mostly:.0%}: "
            "fill the gaps from the sources or lower the target with a reason"
        )
    if asset == "confidence":
        share = row.get("share_low")
        return row["dataset"], "", f"{share:.0%}" if share is not None else "", (
            f"{share:.0%} of rows have low confidence (at most {MAX_LOW_CONFIDENCE:.0%} "
            "expected): find stronger sources or say why none exist"
        )
    if asset == "freshness":
        match = frame.filter(pl.col("stream") == row["stream"]).row(0, named=True)
        return match["dataset"], match["stream"], match["latest"], (
            f"the {match['what']} is {match['latest']}, {match['days_before_release']} days before "
            f"the release date {release_date.isoformat()} (more than {MAX_STALE_DAYS}): the "
            "release holds nothing newer, so it is not up to date with its date"
        )
    match = frame.filter(pl.col("row") == row["row"]).row(0, named=True)
    return match["dataset"], match["key"], match["change"], (
        f"row {match['change']} since the previous release without a changelog entry naming "
        "it: describe the change in data/CHANGELOG.md"
    )


def run_suite(
    tables: Mapping[str, pl.DataFrame],
    *,
    release_date: date,
    previous: Mapping[str, pl.DataFrame] | None = None,
    documented: str | None = None,
    data_docs: Path | str | None = None,
    name: str = "release",
) -> list[Finding]:
    """Run the great_expectations suite on aggregates of ``tables``; findings per failure.

    Each failed expectation becomes findings whose ``check`` is the expectation's name.
    With ``data_docs`` the Data Docs site is rendered there (``index.html``).
    """
    frames = _aggregates(
        tables, release_date=release_date, previous=previous, documented=documented
    )
    if not frames and data_docs is None:
        return []
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    site = "chip_supply"
    build_dir = None
    if data_docs is not None:
        build_dir = Path(tempfile.mkdtemp(prefix="data-docs-"))
        context.add_data_docs_site(site_name=site, site_config={
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(build_dir)},
        })
    source = context.data_sources.add_pandas(re.sub(r"[^\w-]", "_", name) or "release")
    findings: list[Finding] = []
    drift_severity = "error" if documented is not None else "warning"
    try:
        for asset_name, (frame, key) in sorted(frames.items()):
            expectations = _expectations(asset_name, frame, drift_severity=drift_severity)
            if not expectations:
                continue
            asset = source.add_dataframe_asset(asset_name)
            batch = asset.add_batch_definition_whole_dataframe(f"{asset_name}_all")
            suite = context.suites.add(gx.ExpectationSuite(name=f"{asset_name}"))
            severities = {}
            for exp, severity in expectations:
                exp.meta = {"severity": severity}
                suite.add_expectation(exp)
                severities[exp.expectation_type] = severity
            vd = context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{asset_name}_check", data=batch, suite=suite)
            )
            actions = [gx.checkpoint.UpdateDataDocsAction(name="docs", site_names=[site])] if (
                build_dir is not None
            ) else []
            checkpoint = context.checkpoints.add(gx.Checkpoint(
                name=f"{asset_name}_checkpoint", validation_definitions=[vd], actions=actions,
                result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [key]},
            ))
            outcome = checkpoint.run(batch_parameters={"dataframe": frame.to_pandas()})
            for run in outcome.run_results.values():
                for er in run.results:
                    if er.success:
                        continue
                    config = er.expectation_config
                    column = config.kwargs.get("column", "")
                    result = dict(er.result or {})
                    failed_rows = result.get("unexpected_index_list") or []
                    if asset_name.endswith("_completeness"):
                        failed_rows = failed_rows[:1] or [{}]
                    for row in failed_rows:
                        dataset, fkey, value, message = _message(
                            asset_name, column, row, result, frame, release_date
                        )
                        findings.append(Finding(
                            severities.get(config.type, "warning"), dataset, fkey,
                            column if asset_name.endswith("_completeness") else "",
                            config.type, value, message,
                        ))
        if build_dir is not None:
            context.build_data_docs(site_names=[site])
            _publish(build_dir, Path(data_docs))
    finally:
        if build_dir is not None:
            shutil.rmtree(build_dir, ignore_errors=True)
    return findings


def _publish(built: Path, target: Path) -> None:
    """Copy a rendered site into ``target``, replacing an earlier copy of the same files."""
    target.mkdir(parents=True, exist_ok=True)
    if not (built / "index.html").is_file():
        (built / "index.html").write_text(
            "<!doctype html><title>Data Docs</title><p>No expectation was run.</p>\n",
            encoding="utf-8",
        )
    shutil.copytree(built, target, dirs_exist_ok=True)


# --------------------------------------------------------------------------- command line
def _index(target: Path, results: list[Result]) -> None:
    from html import escape

    items = "".join(
        f'<li><a href="{escape(r.release)}/index.html">{escape(r.release)}</a>: '
        f"{escape(r.summary())}</li>" for r in results
    )
    (target / "index.html").write_text(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Data Docs</title>"
        f"<h1>Data Docs</h1><ul>{items}</ul></html>\n", encoding="utf-8",
    )


def main_validate(args: Any) -> int:
    """``chip-supply validate``: 0 no error, 1 invalid data, 2 could not run."""
    from analytics.datasets import releases

    path = getattr(args, "path", None)
    release = getattr(args, "release", None)
    draft = bool(getattr(args, "draft", False))
    fmt = getattr(args, "format", "text") or "text"
    strict = bool(getattr(args, "strict", False))
    docs = getattr(args, "data_docs", None)
    docs = Path(docs) if docs else None
    try:
        if path:
            jobs = [("folder", str(path))]
        elif draft:
            jobs = [("draft", "draft")]
        elif release == "all":
            jobs = [("release", r) for r in releases() if paths.release_dir(r).is_dir()]
            if not jobs:
                raise CannotValidateError(f"no release found under {paths.releases_dir()}")
        else:
            jobs = [("release", release or "latest")]
        results = []
        for kind, what in jobs:
            target = docs / what if docs is not None and len(jobs) > 1 else docs
            if kind == "folder":
                results.append(validate_folder(what, data_docs=target))
            elif kind == "draft":
                results.append(validate_draft(data_docs=target))
            else:
                results.append(validate_release(what, data_docs=target))
        if docs is not None and len(jobs) > 1:
            _index(docs, results)
    except ChipSupplyError as exc:
        print(f"error: cannot validate: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot validate: {exc}", file=sys.stderr)
        return 2
    if fmt == "json":
        if len(results) == 1:
            print(results[0].to_json())
        else:
            doc = {
                "valid": all(r.valid for r in results),
                "release": "all",
                "findings": [{**f.to_dict(), "release": r.release} for r in results
                             for f in r.findings],
            }
            print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(r.to_text() for r in results))
        if docs is not None:
            print(f"Data Docs: {docs / 'index.html'}")
    invalid = any(not r.valid for r in results)
    if strict:
        invalid = invalid or any(r.warnings for r in results)
    return 1 if invalid else 0
