"""Property-based tests of the readers: no cell that cannot be real data is ever accepted.

Hypothesis writes arbitrary text, numbers and lists into one cell of a valid one-row
table and reads it back with :func:`analytics.read_table`. A cell is either read exactly
as written (and is then clean: no control character, no bidirectional override, no
stray byte-order mark, not only invisible characters, a finite number in its one
written form, no empty list item) or refused with a finding naming dataset, key and
column.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata

import pytest
from conftest import BASE
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analytics.cells import NUMBER
from analytics.schemas import columns
from analytics.tables import read_table
from analytics.vocab import DATASETS

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def one_row(name: str, key: str) -> tuple[list[str], list[str]]:
    rows = list(csv.reader(io.StringIO((BASE / f"{name}.csv").read_text(encoding="utf-8"))))
    return rows[0], next(r for r in rows[1:] if r[0] == key)


def read_with(tmp_path, name: str, key: str, column: str, cell: str, *, raw: bytes | None = None):
    header, row = one_row(name, key)
    row = list(row)
    row[header.index(column)] = cell
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows([header, row])
    path = tmp_path / f"{name}.csv"
    path.write_bytes(raw if raw is not None else out.getvalue().encode("utf-8"))
    return read_table(path, name)


def clean_text(text: str) -> bool:
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n" for c in text):
        return False
    if re.search("[\u202a-\u202e\u2066-\u2069\ufeff\ufffd\ufffe\uffff]", text):
        return False
    invisible = " \t\n\u200b\u200c\u200d\u2060\u00ad\u180e"
    return not text or not all(c in invisible or c.isspace() for c in text)


def named(findings, dataset, key, column) -> bool:
    return any((f.dataset, f.key, f.column) == (dataset, key, column) and f.message
               for f in findings if f.severity == "error")


TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@SETTINGS
@given(text=TEXT)
@example(text="\x1b]0;owned\x07")
@example(text="\x1b[2J")
@example(text="ab\x00c")
@example(text="\u202egnp.exe")
@example(text="Ali\ufeffbaba")
@example(text="\u200b\u200d")
@example(text="   ")
@example(text="line\rbreak")
def test_text_cell_is_read_exactly_or_refused(tmp_path, text):
    df, findings = read_with(tmp_path, "entities", "alibaba", "notes", text)
    if df is not None:
        value = df.row(0, named=True)["notes"]
        assert value == (text or None)
        assert clean_text(text), repr(text)
    else:
        assert named(findings, "entities", "alibaba", "notes"), findings
    if not clean_text(text):
        assert df is None


NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats().map(lambda x: format(x, "f")),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.floats(allow_nan=False).map(float.hex),
    st.from_regex(r"\A[-+ ]?[0-9_,.]{1,12}([eE][-+]?[0-9]{1,4})?\Z"),
    st.text(max_size=12),
)


@SETTINGS
@given(text=NUMBERS)
@example(text="nan")
@example(text="-inf")
@example(text="1e309")
@example(text="-0")
@example(text="-0.0")
@example(text="0x1.8p3")
@example(text="1_000")
@example(text="1,000")
@example(text=" 7 ")
def test_number_cell_is_a_finite_number_in_its_one_form_or_refused(tmp_path, text):
    df, findings = read_with(tmp_path, "chips", "nvidia_h200_sxm_141gb", "die_area_mm2", text)
    if df is not None:
        value = df.row(0, named=True)["die_area_mm2"]
        stripped = text.strip()
        if not stripped:
            assert value is None
            return
        assert re.fullmatch(NUMBER, stripped), repr(text)
        assert math.isfinite(value) and value == float(stripped)
        assert not (value == 0 and math.copysign(1, value) < 0)
    else:
        assert named(findings, "chips", "nvidia_h200_sxm_141gb", "die_area_mm2"), findings


ITEM = st.text(st.characters(categories=["L", "N"], include_characters="_-"), max_size=8)


@SETTINGS
@given(items=st.lists(ITEM, max_size=5), spaces=st.sampled_from(["", " ", "  "]))
@example(items=["Ali", "", "baba"], spaces="")
@example(items=["Ali", ""], spaces="")
@example(items=["", ""], spaces=" ")
def test_list_cell_has_no_empty_item_or_is_refused(tmp_path, items, spaces):
    cell = (spaces + ";" + spaces).join(items)
    df, findings = read_with(tmp_path, "entities", "alibaba", "aliases", cell)
    if df is not None:
        value = df.row(0, named=True)["aliases"]
        assert "" not in value
        assert value == [i for i in items if i] and (len(items) <= 1 or "" not in items)
    else:
        assert named(findings, "entities", "alibaba", "aliases"), findings


@pytest.mark.parametrize("raw", [b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xc0\xaf", b"\xff"])
def test_lone_surrogates_and_invalid_utf8_are_refused(tmp_path, raw):
    header, row = one_row("entities", "alibaba")
    text = ",".join(header) + "\n" + ",".join(row) + "\n"
    data = text.encode().replace(b"Alibaba", b"Ali" + raw + b"baba", 1)
    df, findings = read_with(tmp_path, "entities", "alibaba", "notes", "", raw=data)
    assert df is None
    assert [(f.dataset, f.key, f.check) for f in findings] == [("entities", "line 2", "encoding")]


@pytest.mark.parametrize("name", DATASETS)
def test_a_header_only_table_is_never_silent(tmp_path, name):
    path = tmp_path / f"{name}.csv"
    path.write_text(",".join(columns(name)) + "\n", encoding="utf-8")
    _, findings = read_table(path, name)
    assert [f.check for f in findings] == ["empty_table"]
