"""Render the HTML report of a release: the notebooks' pages, an index, charts as files.

The notebooks are executed by :mod:`analytics.execution` against the release, opened
once through its door (:class:`analytics.Release`): the report verifies and validates
it once, reads the sources table from it, and hands it to the notebooks' kernels.
Pages are rendered with nbconvert (code hidden). Charts are drawn by vega-embed from a
spec kept in a ``<script type="application/json">`` block whose ``<``, ``>`` and ``&``
are escaped, with vl-convert's SVG kept inside the container as a fallback; the Vega,
Vega-Lite and vega-embed scripts are inlined once per page and a Content-Security-Policy
forbids every request, so a page opens offline and data cannot run as script. Each
chart is also saved as ``charts/<notebook>-<n>.svg`` and ``.png``. The output folder is
written whole or not at all.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import sys
import tempfile
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from analytics import paths, quality
from analytics.display import CHART_MIME, VL_VERSION
from analytics.errors import ChipSupplyError
from analytics.execution import execute_notebook, notebook_paths
from analytics.release import Release
from analytics.vocab import FACT_TABLES

MARKER = "chip-supply-report"  # written into index.html; an --out folder must carry it

CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:"
)
# Cell HTML may keep only these tags (polars' DataFrame repr needs the table ones).
SAFE_TAGS = frozenset(
    "a abbr b br code div em i li ol p pre small span strong sub sup table tbody td tfoot th "
    "thead tr ul".split()
)
SAFE_ATTRIBUTES = {"*": ["class", "title"], "a": ["href"], "td": ["colspan", "rowspan"],
                   "th": ["colspan", "rowspan"]}

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                 "\u2029": "\\u2029"}


# --------------------------------------------------------------------------- escaping
def script_json(value: Any) -> str:
    """JSON that is safe inside an HTML ``<script>`` element.

    >>> script_json({"name": "</script><b>&"})
    '{"name": "\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group()], text)


def sanitize_html(fragment: str) -> str:
    """Keep only table and text markup of a cell's HTML output; escape everything else.

    >>> sanitize_html('<table><tr><td onclick="x()">a<script>b</script></td></tr></table>')
    '<table><tbody><tr><td>a&lt;script&gt;b&lt;/script&gt;</td></tr></tbody></table>'
    """
    import bleach

    fragment = re.sub(r"(?is)<style\b.*?</style\s*>", "", fragment)
    return bleach.clean(
        fragment, tags=SAFE_TAGS, attributes=SAFE_ATTRIBUTES, protocols={"http", "https"},
        strip_comments=True,
    )



# --------------------------------------------------------------------------- outputs
def _chart_html(spec: dict, svg: str, chart_id: str) -> str:
    return (
        f'<figure class="chart" id="{chart_id}">'
        f'<script type="application/json" class="chart-spec">{script_json(spec)}</script>'
        '<div class="chart-view"></div>'
        f'<div class="chart-fallback">{svg}</div></figure>'
    )


def _clean_outputs(nb: Any, stem: str, charts_dir: Path) -> list[Path]:
    """Turn chart outputs into chart containers (+ SVG/PNG files); sanitize all other HTML."""
    import vl_convert as vlc

    written: list[Path] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data is None:
                continue
            if CHART_MIME in data:
                spec, svg = data[CHART_MIME], data.get("image/svg+xml")
                if svg is None:
                    svg = vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)
                name = f"{stem}-{len(written) // 2 + 1}"
                (charts_dir / f"{name}.svg").write_text(svg, encoding="utf-8")
                (charts_dir / f"{name}.png").write_bytes(vlc.svg_to_png(svg, scale=2))
                written += [charts_dir / f"{name}.svg", charts_dir / f"{name}.png"]
                out["data"] = {"text/html": _chart_html(spec, svg, f"chart-{name}")}
            elif "text/html" in data:
                out["data"] = {"text/html": sanitize_html(data["text/html"])}
            else:  # images are data: URLs; anything else (svg, js, widgets) is shown as text
                out["data"] = {k: v for k, v in data.items() if k in ("image/png", "text/plain")}
            out["metadata"] = {}
    return written


def _body_html(nb: Any) -> str:
    """The notebook's outputs as an HTML fragment (nbconvert, code hidden)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="basic", exclude_input=True, exclude_input_prompt=True,
        exclude_output_prompt=True, sanitize_html=False,
    )
    body, _ = exporter.from_notebook_node(nb)
    return body


def _question(nb: Any) -> tuple[str, str]:
    """Title and question of a notebook: its first markdown cell's heading and text."""
    md = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    lines = [ln.strip() for ln in md.strip().splitlines() if ln.strip()]
    title = next((ln.lstrip("#").strip() for ln in lines if ln.startswith("#")), "")
    text = " ".join(ln for ln in lines if not ln.startswith("#"))
    return title, text



# --------------------------------------------------------------------------- page shell
STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;margin:0}
main{max-width:1100px;margin:0 auto;padding:1rem 1.5rem 4rem}
nav{background:#24292f;padding:.5rem 1.5rem}nav a{color:#fff;margin-right:1rem}
h1,h2,h3{line-height:1.25}a{color:#0969da}.anchor-link{display:none}
table{border-collapse:collapse;margin:.5rem 0;font-size:13px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f6f8fa}pre{white-space:pre-wrap;background:#f6f8fa;padding:.5rem}
.jp-OutputArea-output,.output_subarea{overflow-x:auto}
figure.chart{margin:1rem 0}.chart.live .chart-fallback{display:none}
.status-ok{color:#1a7f37}.status-bad{color:#cf222e}.muted{color:#57606a}
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


def _page(title: str, body: str, *, scripts: tuple[str, ...] = (), nav: str = "") -> str:
    for js in scripts:
        if re.search(r"(?i)</script|<!--", js):
            raise ChipSupplyError("an inlined script contains '</script' or '<!--'")
    inline = "".join(f"<script>{js}</script>\n" for js in scripts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="{MARKER}">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<nav>{nav}</nav>\n<main>\n{body}\n</main>\n{inline}</body>\n</html>\n"
    )


def _nav(pages: list[tuple[str, str]]) -> str:
    links = ['<a href="index.html">Index</a>']
    links += [f'<a href="{html.escape(f)}">{html.escape(t)}</a>' for f, t in pages]
    return "".join(links)


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



# --------------------------------------------------------------------------- index page
def _validation(rel: Release) -> tuple[str, int, int]:
    """(what was checked, errors, warnings) for the release; never raises on bad data.

    The great_expectations suite is left to ``chip-supply validate``: it would double the
    report's time and says nothing the contracts and cross-dataset checks miss.
    """
    kind = ("contract and cross-dataset checks; the data-quality suite runs with "
            "chip-supply validate")
    result = quality.validate_release(rel, suite=False)
    return kind, len(result.errors), len(result.warnings)


def _sources_table(rel: Release) -> tuple[int, str]:
    cited: set[str] = set()
    for name in FACT_TABLES:
        cited.update(rel.table(name).get_column("source_ids").explode().drop_nulls())
    sources = (
        rel.table("sources")
        .filter(pl.col("source_id").is_in(sorted(cited)))
        .sort("published_date", "source_id", nulls_last=True)
    )
    rows = []
    for s in sources.iter_rows(named=True):
        url = s["url"] or ""
        link = (f'<a href="{html.escape(url)}" rel="noreferrer">{html.escape(url)}</a>'
                if re.match(r"^https?://", url) else html.escape(url))
        date = "" if s["published_date"] is None else s["published_date"].isoformat()
        rows.append(
            "<tr>" + "".join(
                f"<td>{v}</td>" for v in (html.escape(s["title"]), html.escape(s["publisher"]),
                                         date, link)
            ) + "</tr>"
        )
    table = (
        "<table><thead><tr><th>Title</th><th>Publisher</th><th>Published</th><th>URL</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return sources.height, table


def _index(release: str, pages: list[dict], validation: tuple[str, int, int],
           sources: tuple[int, str]) -> str:
    kind, errors, warnings = validation
    status = ('<span class="status-ok">valid</span>' if errors == 0
              else '<span class="status-bad">invalid</span>')
    items = "".join(
        f'<li><a href="{html.escape(p["file"])}">{html.escape(p["title"])}</a>'
        f'<br><span class="muted">{html.escape(p["question"])}</span></li>'
        for p in pages
    )
    count, table = sources
    body = (
        f"<h1>AI-chip supply into China: report of release {html.escape(release)}</h1>\n"
        f"<p>Release <strong>{html.escape(release)}</strong>, rendered "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.</p>\n"
        f"<h2>Pages</h2>\n<ul>{items}</ul>\n"
        f"<h2>Validation</h2>\n<p>{status}: {errors} error(s), {warnings} warning(s) "
        f"({html.escape(kind)}).</p>\n"
        f"<h2>Sources cited</h2>\n<p>{count} sources are cited by the rows of this release."
        f"</p>\n{table}\n"
    )
    return _page(f"Report {release}", body, nav=_nav([(p["file"], p["title"]) for p in pages]))



# --------------------------------------------------------------------------- render
def _prepare_out(out: Path) -> Path:
    if out.exists() and any(out.iterdir()):
        index = out / "index.html"
        if not (index.is_file() and MARKER in index.read_text(encoding="utf-8", errors="ignore")):
            raise ChipSupplyError(
                f"{out} exists and is not a report folder; refusing to replace it. "
                "Choose another --out or remove it."
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))


def _swap_in(tmp: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.{os.getpid()}.old")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def render(
    release: str = "latest",
    *,
    out: Path | str | None = None,
    jobs: int = 2,
    progress: bool = True,
    notebooks_dir: Path | str | None = None,
) -> Path:
    """Execute every notebook against ``release`` and write the HTML report.

    The release is opened once (:meth:`analytics.Release.open`), validated once
    (contracts and cross-dataset checks), and handed to every notebook's kernel.

    Parameters
    ----------
    release : str
        Release date or id, or ``"latest"``.
    out : Path or str, optional
        Report folder; default ``reports/<release>/``. Written whole or not at all.
    jobs : int
        Notebooks executed at the same time (one kernel each).
    progress : bool
        Show a progress bar on stderr naming the notebooks that run.
    notebooks_dir : Path or str, optional
        Folder of ``*.py`` notebooks; default ``notebooks/``.

    Returns
    -------
    Path
        The report folder, holding ``index.html``, one page per notebook and
        ``charts/<notebook>-<n>.svg|png``.

    Raises
    ------
    NotebookError
        A cell failed; names the notebook, the cell number and the error.
    ReleaseNotFoundError
        The release is neither here nor downloadable (found before any kernel starts).

    Examples
    --------
    ``analytics.render("2026-11-29")`` writes ``reports/2026-11-29/index.html``.
    """
    nb_dir = Path(notebooks_dir) if notebooks_dir is not None else paths.NOTEBOOKS_DIR
    notebooks = notebook_paths(nb_dir)
    if not notebooks:
        raise ChipSupplyError(f"no notebooks (*.py) in {nb_dir}")
    rel = Release.open(release)
    out = Path(out) if out is not None else paths.REPORTS_DIR / rel.id
    tmp = _prepare_out(out)
    try:
        pages, extras = _run_notebooks(rel, notebooks, nb_dir, tmp / "charts", jobs=jobs,
                                       progress=progress)
        _write_pages(tmp, rel.id, pages, *extras)
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _run_notebooks(
    rel: Release, notebooks: list[Path], nb_dir: Path, charts_dir: Path, *, jobs: int,
    progress: bool,
) -> tuple[list[dict], tuple[str, tuple[str, int, int], tuple[int, str]]]:
    """Execute the notebooks (``jobs`` at a time) while the index's parts are prepared.

    Returns the pages (file, title, question, body) in notebook order, and the Vega
    bundle, the validation summary and the sources table. The first failure stops
    the notebooks not yet started and is raised.
    """
    from tqdm import tqdm

    charts_dir.mkdir()
    state = rel.state()
    bar = tqdm(total=len(notebooks), desc=f"report {rel.id}", unit="notebook",
               file=sys.stderr, disable=not progress)
    running: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def show(path: Path, *, done: bool) -> None:
        with lock:
            (running.discard if done else running.add)(path.stem)
            bar.set_postfix_str(", ".join(sorted(running)))
            if done:
                bar.update(1)

    def run(path: Path) -> dict:
        if stop.is_set():
            return {}
        show(path, done=False)
        nb = execute_notebook(path, rel.id, cwd=nb_dir, state=state)
        _clean_outputs(nb, path.stem, charts_dir)
        title, question = _question(nb)
        show(path, done=True)
        return {"file": f"{path.stem}.html", "title": title or path.stem,
                "question": question, "body": _body_html(nb)}

    with (ThreadPoolExecutor(max_workers=3) as side,
          ThreadPoolExecutor(max_workers=max(1, jobs)) as pool):
        extras = [side.submit(vega_bundle), side.submit(_validation, rel),
                  side.submit(_sources_table, rel)]
        futures = [pool.submit(run, p) for p in notebooks]
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f.exception() for f in futures if f.done() and f.exception()), None)
        if failed is not None:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            bar.close()
            raise failed
        bar.close()
        return [f.result() for f in futures], tuple(f.result() for f in extras)


def _write_pages(tmp: Path, release: str, pages: list[dict], bundle: str,
                 validation: tuple[str, int, int], sources: tuple[int, str]) -> None:
    """One HTML page per notebook and the index, into the report's temporary folder."""
    nav = _nav([(p["file"], p["title"]) for p in pages])
    for p in pages:
        (tmp / p["file"]).write_text(
            _page(p["title"], p["body"], scripts=(bundle, EMBED_JS), nav=nav), encoding="utf-8"
        )
    (tmp / "index.html").write_text(_index(release, pages, validation, sources),
                                    encoding="utf-8")
