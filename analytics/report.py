"""Render the HTML report of a release: the notebooks' pages, a front page, sources, charts.

The notebooks are executed by :mod:`analytics.execution` against the release, opened
once through its door (:class:`analytics.Release`): the report verifies it once,
validates it once (the same :func:`analytics.quality.validate_release` result that
``chip-supply validate`` prints), and hands it to the notebooks' kernels. Pages are
rendered with nbconvert (code hidden); their shell, the front page (key numbers, data
cutoff, validation) and the sources page are in :mod:`analytics.pages`. Charts are
drawn by vega-embed from a spec kept in a ``<script type="application/json">`` block
whose ``<``, ``>`` and ``&`` are escaped, with vl-convert's SVG kept inside the
container as a fallback; the Content-Security-Policy forbids every request and runs
only the page's own scripts, so a page opens offline and data cannot run as script.
Each chart is also saved as ``charts/<notebook>-<n>.svg``, ``.png`` and ``.csv`` (its
data, spreadsheet formulas neutralised), linked beside it. The output folder is
written whole or not at all.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import polars as pl

from analytics import pages as pg
from analytics import paths, quality
from analytics.charts_base import DATA_META
from analytics.display import CHART_MIME, VL_VERSION
from analytics.errors import ChipSupplyError
from analytics.execution import execute_notebook, notebook_paths
from analytics.formatting import csv_text
from analytics.key_numbers import cutoff, key_numbers
from analytics.pages import MARKER
from analytics.release import Release
from analytics.vocab import DATASETS, PRIMARY_KEYS

# Cell HTML may keep only these tags (the formatted tables need the table ones).
SAFE_TAGS = frozenset(
    "a abbr b br code details div em i li ol p pre small span strong sub summary sup table "
    "tbody td tfoot th thead tr ul".split()
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
def _chart_html(spec: dict, svg: str, name: str) -> str:
    files = " · ".join(
        f'<a href="charts/{name}.{ext}"{" download" if ext == "csv" else ""}>{label}</a>'
        for ext, label in (("csv", "data (CSV)"), ("svg", "SVG"), ("png", "PNG"))
    )
    return (
        f'<figure class="chart" id="chart-{name}">'
        f'<script type="application/json" class="chart-spec">{script_json(spec)}</script>'
        '<div class="chart-view"></div>'
        f'<div class="chart-fallback">{svg}</div>'
        f'<figcaption class="chart-files">Download: {files}</figcaption></figure>'
    )


def chart_data(spec: dict) -> pl.DataFrame:
    """The rows a chart draws: those its function attached (``usermeta``), else its largest
    inline dataset. Takes the attached rows out of ``spec``."""
    meta = (spec.get("usermeta") or {}).pop(DATA_META, None)
    if spec.get("usermeta") == {}:
        del spec["usermeta"]
    if meta is not None:
        return pl.DataFrame(meta["rows"], schema=meta["columns"], orient="row", strict=False,
                            infer_schema_length=None)
    inline = [*spec.get("datasets", {}).values(), (spec.get("data") or {}).get("values") or []]
    rows = max(inline, key=len)
    return pl.DataFrame(rows, infer_schema_length=None, strict=False) if rows else pl.DataFrame()


def _save_chart(spec: dict, svg: str | None, charts_dir: Path, name: str) -> tuple[str, list[Path]]:
    """Write a chart's SVG, PNG and CSV; its HTML container."""
    import vl_convert as vlc

    data = chart_data(spec)
    if svg is None:
        svg = vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)
    files = [charts_dir / f"{name}.{ext}" for ext in ("svg", "png", "csv")]
    files[0].write_text(svg, encoding="utf-8")
    files[1].write_bytes(vlc.svg_to_png(svg, scale=2))
    files[2].write_text(csv_text(data), encoding="utf-8")
    return _chart_html(spec, svg, name), files


def _clean_outputs(nb: Any, stem: str, charts_dir: Path, slots: dict[str, str]) -> list[Path]:
    """Turn chart outputs into chart containers (+ SVG/PNG/CSV files); sanitize other HTML.

    The HTML of each output goes into ``slots`` and the output keeps only an empty
    placeholder named by a random key, which :func:`_body_html` fills after nbconvert:
    nbconvert then parses a small page instead of every table and SVG. Data cannot name
    a key (the sanitizer keeps no ``id`` and the keys are drawn per report).
    """
    written: list[Path] = []
    charts = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data is None:
                continue
            html_out = None
            if CHART_MIME in data:
                charts += 1
                html_out, files = _save_chart(data[CHART_MIME], data.get("image/svg+xml"),
                                              charts_dir, f"{stem}-{charts}")
                written += files
            elif "text/html" in data:
                html_out = sanitize_html(data["text/html"])
            elif "text/markdown" in data:  # display(Markdown(...)): rendered, then sanitized
                import mistune

                html_out = sanitize_html(mistune.html(data["text/markdown"]))
            else:  # images are data: URLs; anything else (svg, js, widgets) is shown as text
                out["data"] = {k: v for k, v in data.items() if k in ("image/png", "text/plain")}
            if html_out is not None:
                key = f"cs-slot-{secrets.token_hex(12)}"
                slots[key] = html_out
                out["data"] = {"text/html": f'<div id="{key}"></div>'}
            out["metadata"] = {}
    return written


_SLOT = re.compile(r'<div id="(cs-slot-[0-9a-f]{24})"></div>')


def _body_html(nb: Any, slots: dict[str, str]) -> str:
    """The notebook's outputs as an HTML fragment (nbconvert, code hidden), slots filled."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="basic", exclude_input=True, exclude_input_prompt=True,
        exclude_output_prompt=True, sanitize_html=False,
    )
    body, _ = exporter.from_notebook_node(nb)
    return _SLOT.sub(lambda m: slots.pop(m.group(1)), body)


def _question(nb: Any) -> tuple[str, str]:
    """Title and question of a notebook: its first markdown cell's heading and text."""
    md = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    lines = [ln.strip() for ln in md.strip().splitlines() if ln.strip()]
    title = next((ln.lstrip("#").strip() for ln in lines if ln.startswith("#")), "")
    text = " ".join(ln for ln in lines if not ln.startswith("#"))
    return title, text



# --------------------------------------------------------------------------- front page
def _front(rel: Release) -> dict[str, Any]:
    """What the front and sources pages show: key numbers, cutoff, sources, citing rows."""
    tables = rel.tables()
    keys = {name: PRIMARY_KEYS[name][0] for name in DATASETS if name != "sources"}
    return {
        "numbers": key_numbers(tables, rel.date),
        "cutoff": cutoff(tables["approvals"], tables["sources"]),
        "sources": tables["sources"],
        "cited_by": pg.cited_by(tables, keys),
    }


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
    (contracts, cross-dataset checks and the data-quality suite, as
    ``chip-supply validate``), and handed to every notebook's kernel.

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
        The report folder, holding ``index.html`` (key numbers), ``sources.html``, one
        page per notebook and ``charts/<notebook>-<n>.svg|png|csv``.

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
) -> tuple[list[dict], tuple[str, quality.Result, dict[str, Any]]]:
    """Execute the notebooks (``jobs`` at a time) while the front page's parts are prepared.

    Returns the pages (file, title, question, body) in notebook order, and the Vega
    bundle, the validation result and the front page's figures. The first failure
    stops the notebooks not yet started and is raised.
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
        slots: dict[str, str] = {}
        _clean_outputs(nb, path.stem, charts_dir, slots)
        title, question = _question(nb)
        show(path, done=True)
        return {"file": f"{path.stem}.html", "title": title or path.stem,
                "question": question, "body": _body_html(nb, slots)}

    with (ThreadPoolExecutor(max_workers=3) as side,
          ThreadPoolExecutor(max_workers=max(1, jobs)) as pool):
        extras = [side.submit(pg.vega_bundle), side.submit(quality.validate_release, rel),
                  side.submit(_front, rel)]
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
                 result: quality.Result, front: dict[str, Any]) -> None:
    """One HTML page per notebook, the front page and the sources page."""
    links = [(p["file"], p["title"]) for p in pages]
    for p in pages:
        (tmp / p["file"]).write_text(
            pg.page(p["title"], p["body"], scripts=(bundle, pg.EMBED_JS),
                    nav=pg.nav(links, p["file"])),
            encoding="utf-8",
        )
    (tmp / pg.SOURCES_PAGE).write_text(
        pg.sources_page(release, front["sources"], front["cited_by"], pages), encoding="utf-8")
    (tmp / "index.html").write_text(
        pg.index_page(release, pages, result, front["numbers"], front["cutoff"],
                      front["sources"].height),
        encoding="utf-8")
