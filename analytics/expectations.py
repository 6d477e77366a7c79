"""The data-quality suite: what the contracts cannot see, checked by great_expectations.

Completeness of the columns analyses need, the share of low-confidence rows, freshness
of the latest event against the release date, and drift against the previous release
that the changelog does not explain. great_expectations only ever sees the release's own
small tables or polars-computed aggregates, never a large frame, and is imported only
when the suite runs.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from analytics.datasets import diff
from analytics.errors import Finding
from analytics.rules import row_key
from analytics.vocab import FACT_TABLES, PRIMARY_KEYS

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



def _aggregates(
    tables: Mapping[str, pl.DataFrame],
    *,
    release_date: date,
    previous: Mapping[str, pl.DataFrame] | None,
    documented: str | None,
) -> dict[str, tuple[pl.DataFrame, str]]:
    """Small frames for great_expectations, each with the column that names its rows."""
    frames = _completeness(tables)
    for asset, frame, key in (("confidence", _confidence(tables), "dataset"),
                              ("freshness", _freshness(tables, release_date), "stream")):
        if frame is not None:
            frames[asset] = (frame, key)
    if previous:
        frames["drift"] = (_drift(tables, previous, documented), "row")
    return frames


def _completeness(tables: Mapping[str, pl.DataFrame]) -> dict[str, tuple[pl.DataFrame, str]]:
    """Per table: its key and the columns :data:`COMPLETENESS` names (a sample when large)."""
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
            df.select(row_key(name, df.columns).alias(key), *cols).sort(key), key
        )
    return frames


def _confidence(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame | None:
    """One row per fact table: the share of rows of each confidence."""
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
    return pl.DataFrame(rows).sort("dataset") if rows else None


def _freshness(tables: Mapping[str, pl.DataFrame], release_date: date) -> pl.DataFrame | None:
    """One row per stream of :data:`FRESHNESS`: its latest date and its age at release."""
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
    return pl.DataFrame(rows).sort("stream") if rows else None


def _drift(
    tables: Mapping[str, pl.DataFrame], previous: Mapping[str, pl.DataFrame],
    documented: str | None,
) -> pl.DataFrame:
    """One row per row removed or changed since ``previous``, and whether it is documented."""
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
    return pl.DataFrame(
        rows, schema={"row": pl.String, "dataset": pl.String, "key": pl.String,
                      "change": pl.String, "documented": pl.Boolean},
    ).sort("row")


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

    Parameters
    ----------
    tables : mapping of str to polars.DataFrame
        The datasets by name.
    release_date : datetime.date
        The knowledge date that freshness is measured against.
    previous : mapping, optional
        The previous release's tables, to check drift against.
    documented : str, optional
        Changelog text that must name every removed or changed row (drift is then an
        error); ``None`` reports drift as warnings.
    data_docs : Path or str, optional
        Folder to render the Data Docs site into (``index.html``).
    name : str
        Name of the data source in the Data Docs.

    Returns
    -------
    list of Finding
        One per failed expectation row; ``check`` is the expectation's name.

    Examples
    --------
    >>> import datetime as dt, analytics
    >>> tables = analytics.Release.open("latest").tables()
    >>> found = run_suite(tables, release_date=dt.date(2026, 11, 29))
    >>> all(f.check.startswith("expect_") for f in found)
    True
    """
    frames = _aggregates(
        tables, release_date=release_date, previous=previous, documented=documented
    )
    if not frames and data_docs is None:
        return []
    context, source, build_dir = _context(name, data_docs)
    drift_severity = "error" if documented is not None else "warning"
    findings: list[Finding] = []
    # without Data Docs nothing needs storing: one asset serves every frame in turn
    shared = None if build_dir is not None else (
        source.add_dataframe_asset("aggregates").add_batch_definition_whole_dataframe("whole"))
    try:
        for asset_name, (frame, _key) in sorted(frames.items()):
            findings += _run_asset(context, source, asset_name, frame, release_date,
                                   drift_severity=drift_severity, shared=shared)
        if build_dir is not None:
            context.build_data_docs(site_names=[SITE])
            _publish(build_dir, Path(data_docs))
    finally:
        if build_dir is not None:
            shutil.rmtree(build_dir, ignore_errors=True)
    return findings


SITE = "chip_supply"


def _context(name: str, data_docs: Path | str | None) -> tuple[Any, Any, Path | None]:
    """An ephemeral great_expectations context, its pandas source and the docs build folder."""
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
    build_dir = None
    if data_docs is not None:
        build_dir = Path(tempfile.mkdtemp(prefix="data-docs-"))
        context.add_data_docs_site(site_name=SITE, site_config={
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(build_dir)},
        })
    source = context.data_sources.add_pandas(re.sub(r"[^\w-]", "_", name) or "release")
    return context, source, build_dir


def _run_asset(context: Any, source: Any, asset_name: str, frame: pl.DataFrame,
               release_date: date, *, drift_severity: str, shared: Any = None) -> list[Finding]:
    """Run the expectations of one aggregate frame; its findings.

    With a ``shared`` batch definition the suite runs on a batch of it and nothing is
    stored; without, through an asset and a checkpoint of its own, whose stored results
    the Data Docs show.
    """
    import great_expectations as gx

    expectations = _expectations(asset_name, frame, drift_severity=drift_severity)
    if not expectations:
        return []
    suite = gx.ExpectationSuite(name=f"{asset_name}")
    if shared is None:
        suite = context.suites.add(suite)
    severities = {}
    for exp, severity in expectations:
        exp.meta = {"severity": severity}
        suite.add_expectation(exp)
        severities[exp.expectation_type] = severity
    data = {"dataframe": _numbers_only(frame).to_pandas()}
    how = {"result_format": "COMPLETE", "unexpected_index_column_names": [ROW]}
    if shared is not None:
        results = shared.get_batch(batch_parameters=data).validate(suite, result_format=how)
        runs = [results]
    else:
        batch = source.add_dataframe_asset(asset_name).add_batch_definition_whole_dataframe(
            f"{asset_name}_all")
        vd = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{asset_name}_check", data=batch, suite=suite))
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=f"{asset_name}_checkpoint", validation_definitions=[vd], actions=[],
            result_format=how))
        runs = list(checkpoint.run(batch_parameters=data).run_results.values())
    return [
        finding
        for run in runs
        for er in run.results if not er.success
        for finding in _failures(er, asset_name, frame, release_date, severities)
    ]


ROW = "row_number"


def _numbers_only(frame: pl.DataFrame) -> pl.DataFrame:
    """What great_expectations sees of an aggregate: row numbers, figures and flags.

    Text from the data (keys, names) never reaches it, so no page it renders can show
    a contributor's text; findings take their keys from ``frame`` by row number. A text
    column is reduced to whether it is filled.
    """
    return frame.with_row_index(ROW).select(
        pl.col(ROW).cast(pl.Int64),
        *(pl.when(pl.col(c).is_not_null()).then(True).alias(c) if t in (pl.String, pl.Date)
          else pl.col(c) for c, t in frame.schema.items() if c not in (ROW,)),
    )


def _failures(er: Any, asset_name: str, frame: pl.DataFrame, release_date: date,
              severities: dict[str, str]) -> list[Finding]:
    """Findings of one failed expectation: one per failed row (one for completeness)."""
    config = er.expectation_config
    column = config.kwargs.get("column", "")
    result = dict(er.result or {})
    failed_rows = [frame.row(int(r[ROW]), named=True)
                   for r in result.get("unexpected_index_list") or [] if ROW in r]
    completeness = asset_name.endswith("_completeness")
    if completeness:
        failed_rows = failed_rows[:1] or [{}]
    out = []
    for row in failed_rows:
        dataset, fkey, value, message = _message(
            asset_name, column, row, result, frame, release_date
        )
        out.append(Finding(
            severities.get(config.type, "warning"), dataset, fkey,
            column if completeness else "", config.type, value, message,
        ))
    return out


def _publish(built: Path, target: Path) -> None:
    """Copy a rendered site into ``target``, replacing an earlier copy of the same files."""
    target.mkdir(parents=True, exist_ok=True)
    if not (built / "index.html").is_file():
        (built / "index.html").write_text(
            "<!doctype html><title>Data Docs</title><p>No expectation was run.</p>\n",
            encoding="utf-8",
        )
    for page in built.rglob("*.html"):
        page.write_text(offline(page.read_text(encoding="utf-8")), encoding="utf-8")
    for sheet in built.rglob("*.css"):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        sheet.write_text(re.sub(rf"url\(\s*{_REMOTE}[^)]*\)", "none", text, flags=re.I),
                         encoding="utf-8")
    shutil.copytree(built, target, dirs_exist_ok=True)


#: What a Data Docs page may load: its own styles, images and fonts, nothing else.
CSP = ("default-src 'none'; style-src 'self' 'unsafe-inline' file:; "
       "img-src 'self' data: file:; font-src 'self' file:; base-uri 'none'; form-action 'none'")
_REMOTE = r"""["']?(?:https?:)?//"""
_STRIP = (
    re.compile(r"<script\b[^>]*>.*?</script\s*>", re.I | re.S),
    re.compile(r"<script\b[^>]*/?>", re.I),
    re.compile(rf"<link\b[^>]*\bhref\s*=\s*{_REMOTE}[^>]*>", re.I),
    re.compile(rf"<img\b[^>]*\bsrc\s*=\s*{_REMOTE}[^>]*>", re.I),
    re.compile(rf"@import\s+url\(\s*{_REMOTE}[^)]*\)\s*;?", re.I),
)


def offline(html: str) -> str:
    """A great_expectations page that works offline and loads nothing from elsewhere.

    Scripts (the CDN libraries and the inline code that needs them), remote stylesheets
    and images go; a Content-Security-Policy allows only the site's own styles, images
    and fonts, so nothing a page shows can run or call out.

    Examples
    --------
    >>> page = ('<html><head><script src="https://cdn.example/x.js"></script></head>'
    ...         '<body><img src="https://s3.example/logo.png">ok</body></html>')
    >>> out = offline(page)
    >>> "https://" in out, "Content-Security-Policy" in out, out.endswith("ok</body></html>")
    (False, True, True)
    """
    for pattern in _STRIP:
        html = pattern.sub("", html)
    html = re.sub(rf"url\(\s*{_REMOTE}[^)]*\)", "none", html, flags=re.I)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    head = re.search(r"<head\b[^>]*>", html, flags=re.I)
    return html[:head.end()] + meta + html[head.end():] if head else meta + html

