"""The report's HTML pages: the shell every page shares, the front page, the sources page.

Every page is self-contained: styles and scripts are inline, a Content-Security-Policy
forbids every request and lets run only the page's own scripts, named by their SHA-256
hashes (the Vega bundle and the chart embedding on notebook pages, the text filter on
the sources page). Text from the data is escaped; tables come from
:mod:`analytics.tables_html`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import polars as pl

from analytics import paths
from analytics.display import VL_VERSION
from analytics.errors import ChipSupplyError
from analytics.key_numbers import Cutoff, KeyNumber
from analytics.quality import Result
from analytics.tables_html import SOURCES_PAGE, TABLE_CSS, styled, table_html

MARKER = "chip-supply-report"  # written into index.html; an --out folder must carry it
FONT = ('system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC",'
        '"Noto Sans CJK JP","DejaVu Sans",sans-serif')

STYLE = f"""
body{{font:15px/1.5 {FONT};color:#1f2328;margin:0}}
main{{max-width:1240px;margin:0 auto;padding:1rem 1.5rem 4rem;box-sizing:border-box}}
nav{{background:#24292f;padding:.5rem 1.5rem;display:flex;flex-wrap:wrap;gap:.25rem 1.1rem}}
nav a{{color:#fff;text-decoration:none}}nav a[aria-current]{{text-decoration:underline}}
h1,h2,h3{{line-height:1.25}}a{{color:#0969da}}.anchor-link{{display:none}}
pre{{white-space:pre-wrap;background:#f6f8fa;padding:.5rem;overflow-x:auto}}
.jp-OutputArea-output,.output_subarea{{overflow-x:auto;max-width:100%}}
figure.chart{{margin:1rem 0;max-width:100%;overflow-x:auto}}
.chart.live .chart-fallback{{display:none}}
.chart-files{{font-size:13px;color:#57606a;margin-top:.25rem}}
.nowrap{{white-space:nowrap}}.status-ok{{color:#1a7f37}}.status-bad{{color:#cf222e}}.muted{{color:#57606a}}
.keys{{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:.75rem}}
.key{{border:1px solid #d0d7de;border-radius:6px;padding:.6rem .8rem}}
.key-label{{font-size:13px;color:#57606a}}
.key-value{{font-size:1.35rem;font-weight:600;margin:.15rem 0;overflow-wrap:anywhere}}
.key-detail,.key-meta{{font-size:13px}}.key-meta{{color:#57606a}}
dl.cutoff{{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}}
dl.cutoff dt{{font-weight:600}}dl.cutoff dd{{margin:0}}
.filter{{font:inherit;padding:.35rem .5rem;width:min(30rem,100%);box-sizing:border-box}}
#sources tr:has(:target) td{{background:#fff8c5}}
{TABLE_CSS}
"""

EMBED_JS = """
(function () {
  document.querySelectorAll("figure.chart").forEach(function (box) {
    var spec = JSON.parse(box.querySelector("script.chart-spec").textContent);
    if (typeof vegaEmbed !== "function") { return; }
    vegaEmbed(box.querySelector(".chart-view"), spec,
              {actions: false, renderer: "svg", ast: true})
      .then(function () { box.classList.add("live"); })
      .catch(function (err) { console.warn("chart kept as SVG:", err); });
  });
})();
"""

FILTER_JS = """
(function () {
  var box = document.getElementById("source-filter");
  var count = document.getElementById("source-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#sources tbody tr"));
  function apply() {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var text = row.textContent.toLowerCase();
      var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
      row.hidden = !hit;
      if (hit) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " sources";
  }
  box.hidden = false;
  box.addEventListener("input", apply);
  apply();
})();
"""


# --------------------------------------------------------------------------- shell
def csp(scripts: Sequence[str]) -> str:
    """The Content-Security-Policy of a page whose inline scripts are ``scripts``.

    >>> csp(["alert(1)"]).split("; ")[1]
    "script-src 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
    """
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(js.encode()).digest()).decode()}'"
        for js in scripts
    )
    return (f"default-src 'none'; script-src {hashes or chr(39) + 'none' + chr(39)}; "
            "style-src 'unsafe-inline'; img-src data:")


def page(title: str, body: str, *, scripts: Sequence[str] = (), nav: str = "") -> str:
    """A whole HTML page; only ``scripts`` (inlined, by hash) may run on it."""
    for js in scripts:
        if re.search(r"(?i)</script|<!--", js):
            raise ChipSupplyError("an inlined script contains '</script' or '<!--'")
    inline = "".join(f"<script>{js}</script>\n" for js in scripts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{csp(scripts)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="{MARKER}">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<nav>{nav}</nav>\n<main>\n{body}\n</main>\n{inline}</body>\n</html>\n"
    )


def nav(pages: Sequence[tuple[str, str]], current: str = "") -> str:
    """Links to the front page, every notebook page and the sources page."""
    links = [("index.html", "Key numbers"), *pages, (SOURCES_PAGE, "Sources")]
    return "".join(
        f'<a href="{html.escape(f)}"{" aria-current=page" if f == current else ""}>'
        f"{html.escape(t)}</a>"
        for f, t in links
    )


def vega_bundle() -> str:
    """The Vega, Vega-Lite and vega-embed JavaScript, cached per vl-convert version."""
    import vl_convert as vlc

    cache = paths.cache_dir() / f"vega-bundle-{vlc.get_vega_embed_version()}-vl{VL_VERSION}.js"
    try:
        return cache.read_text(encoding="utf-8")
    except OSError:
        pass
    js = vlc.javascript_bundle(vl_version=VL_VERSION)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(js, encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:
        pass
    return js


# --------------------------------------------------------------------------- front page
def _source_links(ids: Sequence[str], limit: int = 3) -> str:
    shown = [f'<a href="{SOURCES_PAGE}#{html.escape(s)}">{html.escape(s)}</a>'
             for s in ids[:limit]]
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ("sources: " + ", ".join(shown) + more) if shown else "no source"


def _key_card(k: KeyNumber, pages: set[str]) -> str:
    """One figure as a card: label, value, who it concerns, date, rows, evidence, sources."""
    meta = [f"as of {k.as_of.isoformat()}" if k.as_of else "no date"]
    if k.rows:
        more = f" and {len(k.rows) - 3} more" if len(k.rows) > 3 else ""
        meta.append(f"rows {html.escape(', '.join(k.rows[:3]))}{more}")
    if f"{k.page}.html" in pages:
        meta.append(f'<a href="{html.escape(k.page)}.html">evidence</a>')
    if k.source_ids:
        meta.append(_source_links(k.source_ids, 2))
    return (
        f'<div class="key"><div class="key-label">{html.escape(k.label)}</div>'
        f'<div class="key-value">{html.escape(k.value)}</div>'
        f'<div class="key-detail">{html.escape(k.detail)}</div>'
        f'<div class="key-meta">{" · ".join(meta)}</div></div>'
    )


def _breakdown_html(numbers: Sequence[KeyNumber], pages: set[str]) -> str:
    """Figures with a breakdown (chips by class under each rule) as one table."""
    classes = list(dict.fromkeys(c for k in numbers for c, _ in k.breakdown))
    head = "".join(f'<th class="gt_right">{html.escape(c)}</th>' for c in classes)
    rows = []
    for k in numbers:
        counts = dict(k.breakdown)
        cells = "".join(f'<td class="gt_right">{counts.get(c, 0):,}</td>' for c in classes)
        evidence = (f'<a href="{html.escape(k.page)}.html">evidence</a>'
                    if f"{k.page}.html" in pages else "")
        rows.append(
            f"<tr><td>{html.escape(', '.join(k.rows))}<br><small class=muted>"
            f"{html.escape(k.detail)}</small></td>"
            f'<td><span class="cs-word">{k.as_of.isoformat() if k.as_of else "—"}</span></td>'
            f"{cells}<td>{evidence}<br><small>{_source_links(k.source_ids, 2)}</small></td></tr>"
        )
    return (
        "<h3>Chips by class under each US rule vintage</h3>"
        '<div class="cs-table"><table><thead><tr><th>rule</th><th>in force from</th>'
        f"{head}<th>evidence</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cutoff_html(c: Cutoff, release: str) -> str:
    def day(d: object) -> str:
        return d.isoformat() if d is not None else "—"  # type: ignore[attr-defined]

    event = (f"{day(c.event_date)}: {html.escape(c.event_id or '')} "
             f"<span class=muted>{html.escape(c.event_summary or '')}</span>")
    source = (f'{day(c.source_date)}: <a href="{SOURCES_PAGE}#{html.escape(c.source_id or "")}">'
              f"{html.escape(c.source_title or c.source_id or '')}</a>")
    return (
        '<dl class="cutoff">'
        f"<dt>Release</dt><dd>{html.escape(release)}</dd>"
        f"<dt>Latest event</dt><dd>{event}</dd>"
        f"<dt>Latest source</dt><dd>{source}</dd></dl>"
    )


def _validation_html(result: Result, release: str) -> str:
    status = ('<span class="status-ok">valid</span>' if result.valid
              else '<span class="status-bad">invalid</span>')
    text = (f"<p>{status}: {len(result.errors)} error(s), {len(result.warnings)} warning(s): "
            "the contracts, the cross-dataset checks and the data-quality suite, as "
            f"<code>chip-supply validate --release {html.escape(release)}</code> reports "
            "them.</p>")
    if not result.findings:
        return text
    findings = pl.DataFrame([f.to_dict() for f in result.findings])
    return (f"{text}<details><summary>The {len(result.findings)} finding(s)</summary>"
            f"{table_html(findings, style=False)}</details>")


def index_page(release: str, pages: Sequence[Mapping[str, str]], result: Result,
               numbers: Sequence[KeyNumber], cut: Cutoff, n_sources: int) -> str:
    """The front page: key numbers, the data's cutoff, the pages, validation, sources."""
    files = {p["file"] for p in pages}
    items = "".join(
        f'<li><a href="{html.escape(p["file"])}">{html.escape(p["title"])}</a>'
        f'<br><span class="muted">{html.escape(p["question"])}</span></li>'
        for p in pages
    )
    cards = "".join(_key_card(k, files) for k in numbers if not k.breakdown)
    counted = [k for k in numbers if k.breakdown]
    by_class = _breakdown_html(counted, files) if counted else ""
    body = (
        f'<h1>AI-chip supply into China: release <span class="nowrap">'
        f"{html.escape(release)}</span></h1>\n"
        f"<p class=muted>Report of release {html.escape(release)}, rendered "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}. Every figure keeps its "
        "qualifier (≥ at least, ≤ at most, ≈ about) and names its rows and sources.</p>\n"
        f"<h2>Data cutoff</h2>\n{_cutoff_html(cut, release)}\n"
        f'<h2>Key numbers</h2>\n<div class="keys">{cards}</div>\n{by_class}\n'
        f"<h2>Pages</h2>\n<ul>{items}</ul>\n"
        f"<h2>Validation</h2>\n{_validation_html(result, release)}\n"
        f'<h2>Sources</h2>\n<p>{n_sources} sources; every one, searchable, with its quote: '
        f'<a href="{SOURCES_PAGE}">the sources page</a>.</p>\n'
    )
    return page(f"Report {release}", body, nav=nav([(p["file"], p["title"]) for p in pages],
                                                     "index.html"))


# --------------------------------------------------------------------------- sources page
def _anchor(sid: str | None) -> str:
    if not sid:
        return "—"
    s = html.escape(sid)
    return f'<a id="{s}" href="#{s}">{s}</a>'


def _document(title: str | None, publisher: str | None, url: str | None) -> str:
    """A source's title (a link to its address when it is a web address) and publisher."""
    text = html.escape(title or url or "—")
    if url and re.match(r"^https?://", url):
        text = f'<a href="{html.escape(url)}" rel="noreferrer">{text}</a>'
    return f'{text}<br><small class="muted">{html.escape(publisher or "")}</small>'


def sources_page(release: str, sources: pl.DataFrame, cited_by: Mapping[str, list[str]],
                 pages: Sequence[Mapping[str, str]]) -> str:
    """Every source of the release with its quote and the rows citing it, filterable."""
    ordered = sources.sort("published_date", "source_id", descending=[True, False],
                           nulls_last=True)
    documents = [_document(*r) for r in ordered.select("title", "publisher", "url").iter_rows()]
    frame = ordered.select(
        "source_id",
        pl.Series("document", documents, dtype=pl.String),
        "published_date", "source_type", "quote",
        pl.col("source_id").replace_strict(
            {k: "; ".join(v) for k, v in cited_by.items()}, default=None,
            return_dtype=pl.String).alias("cited_by"),
    )
    gt = (styled(frame, table_id="sources")
          .fmt(_anchor, columns="source_id").fmt(lambda v: v, columns="document"))
    table = re.sub(r"(?is)<style\b.*?</style\s*>", "", gt.as_raw_html(inline_css=False))
    body = (
        f"<h1>Sources of release {html.escape(release)}</h1>\n"
        f"<p>{sources.height} sources, newest first, each with the verbatim passage that "
        "supports the rows citing it. Type to filter by any text (title, publisher, date, "
        "quote, row id).</p>\n"
        '<p><input id="source-filter" class="filter" type="search" hidden '
        'placeholder="Filter sources" aria-label="Filter sources"> '
        f'<span id="source-count" class="muted">{sources.height} sources</span></p>\n'
        f'<div class="cs-table" id="sources">{table}</div>\n'
    )
    return page(f"Sources {release}", body, scripts=(FILTER_JS,),
                nav=nav([(p["file"], p["title"]) for p in pages], SOURCES_PAGE))


def cited_by(tables: Mapping[str, pl.DataFrame], keys: Mapping[str, str]) -> dict[str, list[str]]:
    """Source id to the row keys citing it, from every fact table's ``source_ids``.

    ``keys`` maps a dataset to its key column (the first column of its primary key).
    """
    out: dict[str, list[str]] = {}
    for name, key in keys.items():
        df = tables.get(name)
        if df is None or "source_ids" not in df.columns:
            continue
        pairs = df.select(pl.col(key).cast(pl.String), "source_ids").explode("source_ids")
        for k, sid in pairs.drop_nulls().iter_rows():
            out.setdefault(sid, []).append(k)
    return {sid: sorted(set(ks)) for sid, ks in out.items()}

