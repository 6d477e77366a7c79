"""``show`` and ``diff`` for people, in a 100-column terminal."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from analytics import terminal
from analytics.datasets import diff
from analytics.terminal import cell_width
from analytics.vocab import DATASETS, OPTIONAL_DATASETS

WIDTH = 100
RELEASES = ("2026-01-30", "2026-11-29")


def _have(*releases: str) -> None:
    from analytics.registry import releases as known

    if not set(releases) <= set(known()):
        pytest.skip(f"releases {releases} are not here")


def _load(name: str) -> pl.DataFrame:
    """The dataset in the latest release here, or in the draft when releases predate it."""
    import analytics

    if name in OPTIONAL_DATASETS:
        return analytics.load(name, release="draft")
    _have(RELEASES[1])
    return analytics.load(name, release=RELEASES[1])


def _fits(text: str, width: int = WIDTH) -> None:
    wide = [ln for ln in text.splitlines() if cell_width(ln) > width]
    assert wide == [], wide[:3]


@pytest.mark.parametrize("name", DATASETS)
def test_show_fits_100_columns_and_prints_the_key_columns(name):
    df = _load(name)
    text = terminal.show_text(df, name, width=WIDTH)
    _fits(text)
    head = text.splitlines()[0].split()
    assert head[0] == terminal.KEY_COLUMNS[name][0]
    assert "null" not in text.split() and "\x1b" not in text
    assert text.splitlines()[-1].startswith(f"{df.height:,} rows")


@pytest.mark.parametrize("name", DATASETS)
def test_show_all_fits_100_columns(name):
    df = _load(name).head(5)
    text = terminal.show_text(df, name, all_columns=True, width=WIDTH)
    _fits(text)
    assert f"{df.width} columns" in text.splitlines()[-1]


def test_wide_tables_become_one_block_per_row():
    df = pl.DataFrame({f"column_{i}": [f"value {i} " * 4] for i in range(12)})
    text = terminal.show_text(df, all_columns=True, width=WIDTH)
    _fits(text)
    lines = text.splitlines()
    assert lines[0].startswith("─") and lines[1].split()[:3] == ["column_0", "value", "0"]


def test_long_text_wraps_and_is_cut_with_an_ellipsis():
    summary = "The US required a licence for Nvidia's China-compliant H20, " * 4
    df = pl.DataFrame({"event_id": ["APR-015"], "summary": [summary]})
    text = terminal.show_text(df, all_columns=True, width=40)
    _fits(text, 40)
    body = text.splitlines()[2:-1]
    assert len(body) == terminal.MAX_LINES and body[-1].endswith("…")
    assert terminal.wrap("字节跳动字节跳动", 6) == ["字节跳", "动字节", "跳动"]


def test_control_sequences_in_the_data_never_reach_the_terminal():
    df = pl.DataFrame({"event_id": ["APR-1\x1b[2J"], "summary": ["\x1b]0;owned\x07 text \x9b31m"],
                       "ids": [["a\x1b[1m"]]})
    for text in (terminal.show_text(df, all_columns=True, width=WIDTH),
                 terminal.show_text(df.with_columns(pl.lit("x" * 300).alias("notes")),
                                    all_columns=True, width=40)):
        assert not any(ch in text for ch in "\x1b\x07\x9b")
        assert "\\x1b[2J" in text


def test_diff_shows_what_added_and_removed_rows_say_and_changes_side_by_side():
    old = pl.DataFrame({"event_id": ["APR-1", "APR-2"], "date": [dt.date(2026, 1, 1)] * 2,
                        "summary": ["Approved", "Gone \x1b[2J"], "source_ids": [["a"], ["b"]]})
    new = pl.DataFrame({"event_id": ["APR-1", "APR-3"], "date": [dt.date(2026, 1, 1)] * 2,
                        "summary": ["Approved at least 400,000 " * 6, "Denied"],
                        "source_ids": [["a", "c"], ["d"]]})
    text = terminal.diff_text(diff("approvals", old, new), old, new, width=WIDTH)
    _fits(text)
    assert "\x1b" not in text
    added = text.split("  + APR-3\n")[1].split("\n\n")[0]
    assert "summary     Denied" in added and "source_ids  d" in added
    assert "event_id" not in added  # the key is the block's title
    removed = text.split("  - APR-2\n")[1]
    assert "Gone \\x1b[2J" in removed
    changed = text.split("  ~ APR-1\n")[1].splitlines()
    first = [ln for ln in changed if ln.lstrip().startswith("source_ids")][0]
    assert first.split() == ["source_ids", "a", "→", "a;", "c"]
    summary = [ln for ln in changed if "→" in ln and "summary" in ln][0]
    assert summary.split()[:3] == ["summary", "Approved", "→"]


def test_diff_of_two_releases_fits_100_columns():
    _have(*RELEASES)
    import analytics

    for name in (n for n in DATASETS if n not in OPTIONAL_DATASETS):
        old, new = (analytics.load(name, release=r) for r in RELEASES)
        text = terminal.diff_text(diff(name, *RELEASES), old, new, width=WIDTH)
        _fits(text)
        d = diff(name, *RELEASES)
        assert text.count("\n  + ") == len(d.added) and text.count("\n  ~ ") == len(d.changed)
