"""Data Docs are safe to publish from anyone's pull request and work offline.

Every page is opened in headless Chromium with the network blocked: no page asks for
anything outside the Data Docs folder, every page carries a Content-Security-Policy,
and a key that carries a script payload is never run (great_expectations never sees
the data's text).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from analytics import expectations, quality

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAYLOAD = "APR-<img src=x onerror=window.__xss=1><script>window.__xss=2</script>"


@pytest.fixture(scope="module")
def docs(tmp_path_factory, base_tables) -> Path:
    """Data Docs whose drift page concerns a removed row keyed by a script payload."""
    previous = dict(base_tables)
    approvals = base_tables["approvals"]
    first = approvals.get_column("event_id")[0]
    previous["approvals"] = approvals.with_columns(
        pl.when(pl.col("event_id") == first).then(pl.lit(PAYLOAD)).otherwise(pl.col("event_id"))
        .alias("event_id"))
    target = tmp_path_factory.mktemp("docs")
    findings = expectations.run_suite(base_tables, release_date=dt.date(2026, 2, 1),
                                      previous=previous, documented="", data_docs=target,
                                      name="pr")
    quality._summary_page(target, quality.Result("pr", findings, target))
    assert any(f.key == PAYLOAD for f in findings)  # the finding itself keeps the real key
    return target


def test_pages_hold_no_remote_resource_and_a_policy(docs):
    for sheet in docs.rglob("*.css"):
        assert "://" not in sheet.read_text(encoding="utf-8"), sheet
    pages = sorted(docs.rglob("*.html"))
    assert len(pages) >= 10
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "Content-Security-Policy" in html, page
        assert "<script" not in html.lower(), page
        assert "cdn" not in html.lower() and "amazonaws" not in html, page
        assert "onerror=window" not in html or page.name == "index.html", page


def test_every_page_opens_with_the_network_blocked(docs):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium to run browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    blocked: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(java_script_enabled=True)

        def route(r):
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        for path in sorted(docs.rglob("*.html")):
            page.goto(path.as_uri(), wait_until="load")
            assert page.evaluate("window.__xss") is None, path
            assert page.inner_text("body").strip(), path
        browser.close()
    assert blocked == []


def test_the_entry_page_shows_the_payload_as_text(docs):
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__xss=2&lt;/script&gt;" in index
    assert "<script>" not in index


def test_multi_release_index_has_a_policy(tmp_path):
    path = quality.data_docs_index(tmp_path, [quality.Result("<b>x</b>")])
    html = path.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "&lt;b&gt;x&lt;/b&gt;" in html
