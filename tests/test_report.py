"""The scripted report: self-contained pages, charts as files, determinism, all-or-nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analytics import execution, pages, paths, report
from analytics.cli import main
from analytics.errors import ChipSupplyError, NotebookError
from analytics.vocab import DATASETS

RELEASE = "2026-11-29"
NO_DATA = "2000-01-01"  # a release that does not exist
PAGES = (
    "01-policy-timeline.html",
    "02-approvals-vs-shipments.html",
    "03-export-controls.html",
    "04-lab-compute.html",
    "05-release-changes.html",
    "06-china-compute.html",
)
NOTEBOOK_OK = """# %% [markdown]
# # Fine
# Does a notebook run?

# %% tags=["parameters"]
release = "latest"

# %%
print("release", release)
"""
NOTEBOOK_FAILS = """# %% [markdown]
# # Broken
# What happens when a cell fails?

# %% tags=["parameters"]
release = "latest"

# %%
raise ValueError(f"boom in {release}")

# %%
print("never reached")
"""


def _have_release(release: str) -> bool:
    from analytics.registry import releases

    return release in releases()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    if not _have_release(RELEASE):
        pytest.skip(f"release {RELEASE} is not in {paths.releases_dir()}")
    return report.render(RELEASE, out=tmp_path_factory.mktemp("report") / RELEASE,
                         progress=False)


# --------------------------------------------------------------------------- unit
def test_script_json_escapes_what_ends_a_script():
    text = report.script_json({"name": "</script><img src=x onerror=a()>&\u2028\u2029"})
    assert not re.search("[<>&\u2028\u2029]", text)
    assert "\\u003c/script\\u003e" in text and "\\u0026" in text and "\\u2028" in text
    import json

    assert json.loads(text)["name"].startswith("</script><img")


def test_sanitize_html_keeps_tables_and_escapes_scripts():
    dirty = ('<div><style>td{color:red}</style><table><tr><td onclick="x()">a</td>'
             '<td><img src=x onerror=alert(1)><script>alert(2)</script></td></tr></table></div>')
    clean = report.sanitize_html(dirty)
    assert "<table><tbody><tr><td>a</td>" in clean
    assert "<script" not in clean and "<img" not in clean and "onclick" not in clean
    assert "color:red" not in clean
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in clean


def test_page_refuses_a_script_that_would_close_its_element():
    with pytest.raises(ChipSupplyError):
        pages.page("t", "", scripts=("var s = '</script>';",))


def test_a_page_runs_only_its_own_scripts():
    page = pages.page("t", "<p>x</p>", scripts=("var a = 1;",))
    policy = re.search(r'Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "script-src 'sha256-" in policy and "unsafe-inline" not in policy.split("style")[0]
    assert "default-src 'none'" in policy
    assert "script-src 'none'" in pages.csp(())


def test_chart_data_comes_from_the_chart_and_leaves_its_spec():
    import altair as alt
    import polars as pl

    from analytics.charts_base import offer_data

    df = pl.DataFrame({"x": [1.0, float("nan")], "ids": [["a", "b"], []]})
    spec = offer_data(alt.Chart(df).mark_point().encode(x="x:Q"), df).to_dict()
    data = report.chart_data(spec)
    assert "usermeta" not in spec
    assert data.columns == ["x", "ids"] and data["x"].to_list() == [1.0, None]
    assert data["ids"].to_list() == ["a;b", ""]
    bare = {"datasets": {"d1": [{"a": 1}], "d2": [{"b": 1}, {"b": 2}]}}
    assert report.chart_data(bare).columns == ["b"]


def test_markdown_outputs_render_sanitized(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(Markdown(...))")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/markdown": "**bold** <script>x()</script>",
                              "text/plain": "<IPython.core.display.Markdown object>"})]
    nb.cells = [cell]
    slots: dict[str, str] = {}
    report._clean_outputs(nb, "x", tmp_path, slots)
    body = report._body_html(nb, slots)
    assert "<strong>bold</strong>" in body and "<script" not in body
    assert "IPython.core.display" not in body


def test_read_notebook_injects_release_after_parameters(tmp_path):
    path = tmp_path / "01-ok.py"
    path.write_text(NOTEBOOK_OK, encoding="utf-8")
    nb, at = execution.read_notebook(path, "2026-01-30")
    assert at == 2
    assert "parameters" in nb.cells[1].metadata["tags"]
    assert "release = '2026-01-30'" in nb.cells[2].source
    assert nb.cells[2].metadata["tags"] == ["injected-parameters"]


def test_swap_in_replaces_a_report_whole(tmp_path):
    out, new = tmp_path / "out", tmp_path / "new"
    out.mkdir()
    (out / "old.html").write_text("old")
    new.mkdir()
    (new / "index.html").write_text("new")
    report._swap_in(new, out)
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_refuses_to_replace_a_folder_that_is_not_a_report(tmp_path):
    (tmp_path / "keep.txt").write_text("precious")
    (tmp_path / "01-ok.py").write_text(NOTEBOOK_OK, encoding="utf-8")
    with pytest.raises(ChipSupplyError, match="not a report folder"):
        report.render(RELEASE, out=tmp_path, progress=False, notebooks_dir=tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "precious"


@pytest.mark.slow
def test_failing_cell_names_notebook_cell_and_error_and_writes_nothing(released_root, tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    (nbs / "01-ok.py").write_text(NOTEBOOK_OK, encoding="utf-8")
    (nbs / "02-broken.py").write_text(NOTEBOOK_FAILS, encoding="utf-8")
    out = tmp_path / "reports" / RELEASE
    with pytest.raises(NotebookError) as caught:
        report.render(RELEASE, out=out, progress=False, notebooks_dir=nbs)
    err = caught.value
    assert (err.notebook, err.cell, err.ename) == ("02-broken.py", 3, "ValueError")
    assert err.evalue == f"boom in {RELEASE}"
    assert "02-broken.py, cell 3" in str(err) and "ValueError: boom" in str(err)
    assert not out.exists()
    assert list((tmp_path / "reports").iterdir()) == []  # no temporary folder left either


@pytest.mark.slow
def test_failed_report_exits_2_with_the_error(released_root, tmp_path, monkeypatch, capsys):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    (nbs / "02-broken.py").write_text(NOTEBOOK_FAILS, encoding="utf-8")
    monkeypatch.setattr(paths, "NOTEBOOKS_DIR", nbs)
    assert main(["report", "--release", "2026-11-29", "--out", str(tmp_path / "out"),
                 "--jobs", "1"]) == 2
    assert "02-broken.py, cell 3" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


NOTEBOOK_COUNTS = """# %% [markdown]
# # Counting
# Does a kernel verify the release again?

# %% tags=["parameters"]
release = "latest"

# %%
import analytics
import analytics.release as door

verified = []
real = door.Release._verify
door.Release._verify = lambda self: verified.append(self.id) or real(self)
tables = {name: analytics.load(name, release=release) for name in analytics.DATASETS}
print(f"kernel verifications: {len(verified)}; tables: {len(tables)}")
"""


def test_missing_release_is_refused_before_any_kernel(released_root, tmp_path, capsys):
    assert main(["report", "--release", NO_DATA, "--out", str(tmp_path / "out")]) == 2
    assert f"release '{NO_DATA}' is not here" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_one_report_verifies_and_validates_the_release_once(released_root, tmp_path,
                                                             monkeypatch):
    from analytics import quality, release, schemas

    counts = dict.fromkeys(("verify", "validate", "contract"), 0)

    def counted(key, fn):
        def wrapper(*args, **kwargs):
            counts[key] += 1
            return fn(*args, **kwargs)
        return wrapper

    verified: list[str] = []
    real_verify = release.Release._verify
    monkeypatch.setattr(release.Release, "_verify",
                        lambda self: verified.append(self.id) or real_verify(self))
    monkeypatch.setattr(quality, "check", counted("validate", quality.check))
    real_all = schemas.validate_all

    def contracts(frames):
        counts["contract"] += len(frames)
        return real_all(frames)

    monkeypatch.setattr(schemas, "validate_all", contracts)
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    for stem in ("01-count", "02-count"):
        (nbs / f"{stem}.py").write_text(NOTEBOOK_COUNTS, encoding="utf-8")
    out = report.render(RELEASE, out=tmp_path / "out", progress=False, notebooks_dir=nbs)
    names = release.Release.open(RELEASE).names
    assert counts == {"verify": 0, "validate": 1, "contract": len(names)}
    # the release once; the one before it once, for the data-quality suite's drift check
    assert sorted(verified) == ["2026-01-30", RELEASE]
    for stem in ("01-count", "02-count"):  # each kernel took the report's verified release
        page = (out / f"{stem}.html").read_text(encoding="utf-8")
        assert f"kernel verifications: 0; tables: {len(DATASETS)}" in page


# --------------------------------------------------------------------------- the real report
@pytest.mark.slow
@pytest.mark.xdist_group("report")
def test_index_pages_and_charts_exist(rendered):
    names = sorted(p.name for p in rendered.glob("*.html"))
    assert names == sorted(["index.html", "sources.html", *PAGES])
    index = (rendered / "index.html").read_text(encoding="utf-8")
    assert f"release {RELEASE}" in index
    for page in (*PAGES, "sources.html"):
        assert f'href="{page}"' in index
    assert "Key numbers" in index and "Data cutoff" in index and "Latest event" in index
    svgs = sorted(p.stem for p in (rendered / "charts").glob("*.svg"))
    for ext in ("png", "csv"):
        assert sorted(p.stem for p in (rendered / "charts").glob(f"*.{ext}")) == svgs
    assert len(svgs) >= 5
    assert {s.rsplit("-", 1)[0] for s in svgs} >= {p.removesuffix(".html") for p in PAGES[:4]}
    for stem in svgs:
        assert (rendered / "charts" / f"{stem}.svg").read_text().lstrip().startswith("<svg")
        assert (rendered / "charts" / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        csv = (rendered / "charts" / f"{stem}.csv").read_text(encoding="utf-8")
        assert csv.count("\n") >= 2 and not re.search(r"(?m)(^|,)[=+@]", csv)
    for page in PAGES:
        text = (rendered / page).read_text(encoding="utf-8")
        charts = re.findall(r'<figure class="chart" id="chart-([^"]+)"', text)
        assert len(charts) == len(list((rendered / "charts").glob(f"{page[:-5]}-*.svg")))
        for name in charts:  # every chart offers its data beside it
            assert f'href="charts/{name}.csv"' in text and f'href="charts/{name}.svg"' in text
        assert "window.vegaEmbed=" in text if charts else True


@pytest.mark.slow
@pytest.mark.xdist_group("report")
def test_index_shows_the_counts_validate_prints(rendered, capsys):
    from analytics import quality

    result = quality.validate_release(RELEASE)
    assert main(["validate", "--release", RELEASE]) in (0, 1)
    assert result.summary() in capsys.readouterr().out
    index = (rendered / "index.html").read_text(encoding="utf-8")
    assert f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)" in index


@pytest.mark.slow
@pytest.mark.xdist_group("report")
def test_key_numbers_keep_qualifiers_dates_and_evidence(rendered):
    index = (rendered / "index.html").read_text(encoding="utf-8")
    cards = re.findall(r'(?s)<div class="key">(.*?)</div></div>', index)
    assert any("≥ 400,000 combined" in c for c in cards)
    assert any("≤ 75,000 per company" in c for c in cards)
    assert any("delivered" in c for c in cards)
    assert any("AI compute stock" in c for c in cards)
    for card in cards:
        if "not estimated" in card:  # the stock, for a release without its inputs
            assert "predates the model" in card
            assert 'href="06-china-compute.html">evidence' in card
            continue
        assert re.search(r"as of \d{4}-\d\d-\d\d", card), card
        assert re.search(r'href="0\d-[a-z-]+\.html">evidence', card), card
        assert 'href="sources.html#' in card
    assert "Chips by class under each US rule vintage" in index


@pytest.mark.slow
@pytest.mark.xdist_group("report")
def test_sources_page_lists_every_source_with_an_anchor(rendered):
    from analytics import datasets

    sources = datasets.load("sources", release=RELEASE)
    page = (rendered / "sources.html").read_text(encoding="utf-8")
    anchors = re.findall(r'<a id="([^"]+)" href="#', page)
    assert sorted(anchors) == sorted(sources.get_column("source_id").to_list())
    assert 'id="source-filter"' in page and "script-src 'sha256-" in page
    linked = set(re.findall(r'href="sources.html#([^"]+)"', "".join(
        (rendered / p).read_text(encoding="utf-8") for p in (*PAGES, "index.html"))))
    assert linked and linked <= set(anchors)


@pytest.mark.slow
@pytest.mark.xdist_group("report")
def test_pages_load_nothing_from_outside(rendered):
    for page in sorted(rendered.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        policy = re.search(r'Content-Security-Policy" content="([^"]+)"', text).group(1)
        assert policy.startswith("default-src 'none'; "), page.name
        scripts = policy.split("; ")[1]  # only the page's own scripts, by hash
        assert re.fullmatch(r"script-src( 'sha256-[A-Za-z0-9+/=]+')+|script-src 'none'",
                            scripts), page.name
        assert not re.search(r"(?i)<script[^>]*\ssrc\s*=", text), page.name
        assert text.count("window.vegaEmbed=") <= 1, page.name  # inlined once per page
        markup = re.sub(r"(?is)(<script\b[^>]*>).*?</script>", r"\1</script>", text)
        assert not re.search(r"(?i)<link\b", markup), page.name
        assert not re.search(r"(?i)<(img|iframe|embed|object|source|video|audio)\b[^>]*"
                             r"\s(src|data|srcset|poster)\s*=\s*[\"']?(?!data:)", markup), page.name
        assert not re.search(r"(?i)@import|url\(\s*[\"']?(https?:)?//", markup), page.name
        assert not re.search(r"(?i)<(img|script|link)\b[^>]*https?://", markup), page.name


@pytest.mark.slow
@pytest.mark.xdist_group("report")
def test_rendering_twice_gives_identical_charts(rendered, tmp_path):
    again = report.render(RELEASE, out=tmp_path / RELEASE, progress=False)
    first = {p.name: p.read_bytes() for p in (rendered / "charts").iterdir()}
    second = {p.name: p.read_bytes() for p in (again / "charts").iterdir()}
    assert first.keys() == second.keys()
    assert [n for n in first if first[n] != second[n]] == []
    for page in (*PAGES, "sources.html"):  # only the index carries the rendering time
        assert (rendered / page).read_bytes() == (again / page).read_bytes(), page
