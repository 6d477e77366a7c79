"""The rendered report in headless Chromium: no console error, no request, charts drawn,
text fields carrying script payloads shown as text, never run; and, at 1400 and 800 px,
chart text that touches no other text, tables without ``null`` or quoted strings, a CSV
beside every chart, a layout that fits the window, and a front page with the cutoff
and the key numbers."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from analytics import paths, report
from analytics.execution import notebook_paths

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RELEASE = "2026-11-29"
PAYLOADS = ("</script><img src=x onerror=window.__xss=1>", "<script>window.__xss=1</script>")
# free-text columns that reach pages: names, titles, notes, summaries, buyer names
TEXT_COLUMNS = {
    "sources": ("title", "publisher", "notes"),
    "entities": ("name", "native_name", "notes"),
    "chips": ("model", "architecture", "notes"),
    "control_rules": ("rule_name", "notes"),
    "approvals": ("authority_reported", "conditions", "status_detail", "summary", "notes"),
    "shipments": ("product_scope", "buyer_scope", "notes"),
    "lab_compute": ("name", "chip_reported", "notes"),
    "parameters": ("name", "notes"),
    "evidence": ("quote", "derivation"),
}


def _need_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium to run browser tests")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def _need_release() -> None:
    from analytics.registry import releases

    if RELEASE not in releases():
        pytest.skip(f"release {RELEASE} is not in {paths.releases_dir()}")


def _with_payloads(name: str, df: pl.DataFrame) -> pl.DataFrame:
    """Append a payload to every text cell (alternating), keeping ids and leading text."""
    row = pl.int_range(pl.len())
    payload = pl.when(row % 2 == 0).then(pl.lit(PAYLOADS[0])).otherwise(pl.lit(PAYLOADS[1]))
    return df.with_columns(
        pl.concat_str([pl.col(c), payload], separator=" ", ignore_nulls=True).alias(c)
        for c in TEXT_COLUMNS.get(name, ())
    )


def build_payload_release(root: Path, release: str) -> Path:
    """A copy of ``release`` under data root ``root`` whose text fields carry payloads.

    Parquet and CSV with their hashes in ``registry.txt``; no ``datapackage.json``.
    """
    from analytics import datasets
    from analytics.hashes import sha256
    from analytics.release import Release
    from analytics.tables import write_table

    folder = root / "releases" / release
    folder.mkdir(parents=True)
    for name in Release.open(release).names:  # the datasets this release ships
        df = _with_payloads(name, datasets.load(name, release=release))
        write_table(df, folder / f"{name}.csv", name)
        df.write_parquet(folder / f"{name}.parquet")
    lines = sorted(f"releases/{release}/{p.name} {sha256(p)}" for p in folder.iterdir())
    (root / "registry.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def browser():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, browser) -> Path:
    _need_release()
    return report.render(RELEASE, out=tmp_path_factory.mktemp("report") / RELEASE,
                         progress=False)


@pytest.fixture(scope="module")
def rendered_with_payloads(tmp_path_factory, browser) -> Path:
    _need_release()
    tmp = tmp_path_factory.mktemp("payloads")
    root = build_payload_release(tmp / "data", RELEASE)
    with pytest.MonkeyPatch.context() as mp:  # the kernels inherit the environment
        mp.setenv(paths.DATA_DIR_ENV, str(root))
        mp.setenv(paths.CACHE_DIR_ENV, str(tmp / "cache"))
        mp.delenv(paths.DATA_URL_ENV, raising=False)
        return report.render(RELEASE, out=tmp / "report", progress=False)


def open_page(browser, page_path: Path) -> dict:
    """Load one page; return console errors, requests and what was drawn."""
    own = page_path.resolve().as_uri()
    errors: list[str] = []
    requests: list[str] = []
    page = browser.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))

    def gate(route):
        requests.append(route.request.url)
        if route.request.url == own:
            route.continue_()
        else:
            route.abort()

    page.route("**/*", gate)
    page.goto(own)
    page.wait_for_load_state("load")
    charts = page.locator("figure.chart").count()
    if charts:
        page.wait_for_function(
            "n => document.querySelectorAll('figure.chart.live').length === n", arg=charts,
            timeout=30_000,
        )
    drawn = page.evaluate(
        """() => [...document.querySelectorAll('figure.chart')].map(
              f => f.querySelectorAll('.chart-view svg, .chart-view canvas').length)"""
    )
    state = {
        "errors": errors,
        "foreign": [u for u in requests if u != own],
        "charts": charts,
        "drawn": drawn,
        "xss": page.evaluate("() => typeof window.__xss"),
        "stray_images": page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length"),
        "text": page.inner_text("body"),
    }
    page.close()
    return state


def _pages(folder: Path) -> list[Path]:
    pages = sorted(folder.glob("*.html"))
    assert {"index.html", "sources.html"} <= {p.name for p in pages}
    assert len(pages) == len(notebook_paths()) + 2
    return pages


def test_pages_load_without_error_or_request_and_draw_every_chart(browser, rendered):
    total = 0
    for page_path in _pages(rendered):
        state = open_page(browser, page_path)
        assert state["errors"] == [], page_path.name
        assert state["foreign"] == [], page_path.name
        assert all(n >= 1 for n in state["drawn"]), (page_path.name, state["drawn"])
        total += state["charts"]
    assert total >= 5


def test_script_payloads_in_the_data_render_as_text(browser, rendered_with_payloads):
    shown_on = []
    for page_path in _pages(rendered_with_payloads):
        state = open_page(browser, page_path)
        assert state["xss"] == "undefined", page_path.name
        assert state["stray_images"] == 0, page_path.name
        assert state["errors"] == [], page_path.name
        assert state["foreign"] == [], page_path.name
        assert all(n >= 1 for n in state["drawn"]), (page_path.name, state["drawn"])
        if any(p in state["text"] for p in PAYLOADS):
            shown_on.append(page_path.name)
    assert {"index.html", "sources.html"} <= set(shown_on)  # titles, publishers as text
    assert len(shown_on) >= 3, shown_on


def test_payload_release_is_a_faithful_copy(tmp_path, monkeypatch):
    _need_release()
    from analytics import datasets

    original = datasets.load("entities", release=RELEASE)
    root = build_payload_release(tmp_path / "data", RELEASE)
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(root))
    entities = datasets.load("entities", release=RELEASE)
    assert entities.get_column("entity_id").equals(original.get_column("entity_id"))
    assert entities.get_column("name").str.ends_with(PAYLOADS[0]).any()
    assert entities.get_column("name").str.ends_with(PAYLOADS[1]).any()


# --------------------------------------------------------------------------- reading
WIDTHS = (1400, 800)
# Ink boxes of every visible SVG text of every chart, from the glyphs' own extents (the
# canvas measures the font's ascent and descent of the text; the text's characters give
# its baseline positions), in page pixels; pairs closer than 1 px are reported.
INK_JS = (Path(__file__).parent / "text_boxes.js").read_text(encoding="utf-8")
QUOTED = re.compile(r"""^(".*"|'.*'|\[["'].*)$""")  # "APR-015", 'x', ["a", "b"]


def read_page(browser, page_path: Path, width: int) -> dict:
    """What a reader sees of one page at ``width`` px."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    own = page_path.resolve().as_uri()
    page.route("**/*", lambda route: route.continue_() if route.request.url == own
               else route.abort())
    page.goto(own)
    charts = page.locator("figure.chart").count()
    if charts:
        page.wait_for_function(
            "n => document.querySelectorAll('figure.chart.live').length === n", arg=charts,
            timeout=30_000,
        )
    state = {
        "touching": page.evaluate(INK_JS),
        "cells": page.evaluate("() => [...document.querySelectorAll('td')].map("
                               "c => c.textContent.trim())"),
        "csv": page.evaluate("""() => [...document.querySelectorAll('figure.chart')].map(
            f => [...f.querySelectorAll('a[href$=".csv"]')].map(a => a.getAttribute('href')))"""),
        "overflow": page.evaluate("() => document.documentElement.scrollWidth") - width,
        "text": page.inner_text("body"),
    }
    page.close()
    return state


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_read_well(browser, rendered, width):
    for page_path in _pages(rendered):
        state = read_page(browser, page_path, width)
        name = f"{page_path.name} at {width} px"
        assert [t for t in state["touching"] if t[2]] == [], name
        assert [c for c in state["cells"] if c in ("null", "None") or QUOTED.match(c)] == [], name
        assert state["overflow"] <= 0, name  # nothing wider than the window
        assert "<IPython.core" not in state["text"], name  # every output rendered
        for links in state["csv"]:
            assert len(links) == 1 and (rendered / links[0]).is_file(), (name, links)


@pytest.mark.parametrize("width", WIDTHS)
def test_front_page_shows_the_cutoff_and_the_key_numbers(browser, rendered, width):
    text = read_page(browser, rendered / "index.html", width)["text"]
    for words in ("Data cutoff", "Latest event", "Latest source", "Key numbers",
                  "≥ 400,000 combined", "≤ 75,000 per company", "H200s delivered",
                  "China's AI compute stock",
                  "Chips by class under each US rule vintage", "warning(s)"):
        assert words in text, words


def test_sources_filter_as_you_type(browser, rendered):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    own = (rendered / "sources.html").resolve().as_uri()
    page.route("**/*", lambda route: route.continue_() if route.request.url == own
               else route.abort())
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(own)
    rows = page.locator("#sources tbody tr")
    total = rows.count()
    page.fill("#source-filter", "deepseek h200")
    shown = [r for r in rows.all() if r.is_visible()]
    assert 0 < len(shown) < total and errors == []
    assert all("deepseek" in r.inner_text().lower() and "h200" in r.inner_text().lower()
               for r in shown)
    assert page.inner_text("#source-count") == f"{len(shown)} of {total} sources"
    page.close()
