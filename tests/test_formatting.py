"""Figures as people read them, and the formatted tables the notebooks and the report show."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest

from analytics import formatting as fm
from analytics import tables_html as th
from analytics.vocab import DATASETS, OPTIONAL_DATASETS, QUANTITY_QUALIFIERS, QUANTITY_SCOPES

RELEASE = "2026-11-29"


# --------------------------------------------------------------------------- figures
@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (7, "7"), (1979, "1,979"), (400000, "400,000"), (-2500, "-2,500"),
    (989.4, "989.4"), (2.368, "2.368"), (0.33333, "0.3333"), (15832.7, "15,833"),
    (12_000_000_000.0, "12,000,000,000"), (3.3e24, "3.3×10²⁴"), (2.788e12, "2.79×10¹²"),
    (0.000123456, "0.0001235"), (1.0, "1"), (float("nan"), None), (None, None),
])
def test_number_text(value, text):
    assert fm.number_text(value) == text


def test_every_qualifier_and_scope_reads_as_a_sign_and_words():
    assert set(QUANTITY_QUALIFIERS) <= set(fm.QUALIFIER_SIGNS)
    assert set(QUANTITY_SCOPES) <= set(fm.SCOPE_WORDS)
    assert fm.quantity_text(400000, "at_least", "combined") == "≥ 400,000 combined"
    assert fm.quantity_text(75000, "at_most", "per_entity") == "≤ 75,000 per company"
    assert fm.quantity_text(1e6, "about") == fm.quantity_text(1e6, "approx") == "≈ 1,000,000"


def test_readable_merges_a_figure_with_its_interval_qualifier_and_scope():
    df = pl.DataFrame({
        "record_id": ["SHP-1", "SHP-2", "SHP-3"], "units_low": [1000, None, 320000],
        "units": [2000, 5, None], "units_high": [3000, None, 330000],
        "units_qualifier": ["approx", "at_least", "range"],
        "quantity_scope": ["per_entity", None, "combined"],
        "source_ids": [["a", "b"], [], None], "year": [2026, 2025, 2024],
        "flag": [True, False, None], "day": [dt.date(2026, 1, 2), None, None],
    })
    text, cols = fm.readable(df)
    assert text.columns == ["record_id", "units", "source_ids", "year", "flag", "day"]
    assert text["units"].to_list() == ["≈ 2,000 (1,000–3,000) per company", "≥ 5",
                                       "320,000–330,000"]
    assert text["source_ids"].to_list() == ["a; b", None, None]
    assert text["year"].to_list() == ["2026", "2025", "2024"]
    assert text["flag"].to_list() == ["yes", "no", None]
    assert text["day"].to_list() == ["2026-01-02", None, None]
    kinds = {c.name: (c.kind, c.interval) for c in cols}
    assert kinds["units"] == ("number", True) and kinds["source_ids"] == ("sources", False)


def test_units_by_name_agree_with_the_schemas():
    from analytics.schemas import descriptions

    spelled = {"mm2": "mm²", "bit x TOP/s": "bit × TOP/s", "TPP/mm2": "TPP/mm²"}
    for name in DATASETS:
        for col, text in descriptions(name).items():
            m = re.search(r"\[([^\]`]+)\]$", text)
            if m:
                assert fm.unit_of(col) == spelled.get(m.group(1), m.group(1)), (name, col)


def test_csv_text_neutralises_every_formula_start():
    df = pl.DataFrame({"t": ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "fine", None],
                       "ids": [["=x", "y"], [], None, ["a"], ["b"], ["c"], ["d"]]})
    rows = fm.csv_text(df).splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == ["'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\tx",
                                               "fine", ""]
    assert rows[0].endswith(",'=x;y") and rows[1].endswith(",")


def test_without_controls_leaves_no_escape_byte():
    text = fm.without_controls("a\x1b[31mred\x1b]0;title\x07\x9b2J\tb\nc")
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert text == "a\\x1b[31mred\\x1b]0;title\\x07\\x9b2J\tb\nc"


# --------------------------------------------------------------------------- HTML tables
def _cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"(?s)<td\b[^>]*>(.*?)</td>", html)]


def test_table_html_shows_no_null_and_no_quoted_string():
    df = pl.DataFrame({"event_id": ["APR-015", "APR-016"], "notes": [None, "x"],
                       "ids": [["a", "b"], None], "units": [400000, None],
                       "units_qualifier": ["at_least", None]})
    cells = _cells(th.table_html(df))
    assert cells == ["APR-015", "—", "a; b", "≥ 400,000", "APR-016", "x", "—", "—"]


def test_table_html_escapes_text_and_links_source_ids():
    df = pl.DataFrame({"summary": ["<script>alert(1)</script>"],
                       "source_ids": [["reuters-20260128-h200", "<b>bad</b>"]]})
    html = th.table_html(df)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert '<a href="sources.html#reuters-20260128-h200"' in html
    assert "<b>bad" not in html and "&lt;b&gt;bad" in html


def test_long_tables_fold_and_empty_ones_say_so():
    long = th.table_html(pl.DataFrame({"n": list(range(30))}))
    assert "<details><summary>All 30 rows</summary></details>" in long
    assert len(_cells(long)) == 30  # once: CSS hides rows past the tenth until opened
    assert f"tr:nth-child(n+{th.PREVIEW_ROWS + 1})" in th.TABLE_CSS
    empty = th.table_html(pl.DataFrame(schema={"dataset": pl.String, "key": pl.String}))
    assert "No rows (columns: dataset, key)." in empty and "<table" not in empty


def test_headers_carry_units_and_intervals():
    html = th.table_html(pl.DataFrame({"tdp_w": [700.0], "h100e_bf16_low": [1.0],
                                       "h100e_bf16": [2.0], "h100e_bf16_high": [3.0]}))
    assert "TDP" in html and '<span class="cs-unit">W</span>' in html
    assert "H100e BF16" in html and ">central (5–95%)</span>" in html and "2 (1–3)" in html


def test_notebook_setup_registers_the_table_formatter():
    class Formatter:
        def __init__(self):
            self.types = {}

        def for_type(self, cls, fn):
            self.types[cls] = fn

    class Shell:
        def __init__(self):
            self.display_formatter = type("D", (), {"formatters": {"text/html": Formatter()}})()

    shell = Shell()
    assert th.register(shell)
    fn = shell.display_formatter.formatters["text/html"].types[pl.DataFrame]
    assert "cs-table" in fn(pl.DataFrame({"a": [1]}))


@pytest.mark.parametrize("name", DATASETS)
def test_every_dataset_renders_readable(name):
    from analytics.registry import releases

    if RELEASE not in releases():
        pytest.skip(f"release {RELEASE} is not here")
    import analytics

    df = analytics.load(name, release="draft" if name in OPTIONAL_DATASETS else RELEASE)
    cells = _cells(th.table_html(df.head(th.LONG_TABLE)))
    assert cells and not [c for c in cells if c in ("null", "None", "nan")]
    assert not [c for c in cells if re.match(r'^["\'\[]', c)], name
