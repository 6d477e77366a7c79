"""docs/data-dictionary.md is generated from the schemas and kept up to date."""

from __future__ import annotations

from analytics import dictionary, schemas


def test_dictionary_is_up_to_date():
    text = dictionary.OUTPUT.read_text(encoding="utf-8")
    assert text == dictionary.render(), (
        "docs/data-dictionary.md is out of date: run `python -m analytics.dictionary`"
    )


def test_every_table_and_column_is_described():
    text = dictionary.render()
    for name in schemas.DATASETS:
        assert f"\n## {name}\n" in text
        for col in schemas.columns(name):
            assert f"| `{col}` |" in text, (name, col)
    assert "| `memory_bw_gbps` | number | GB/s |" in text
    assert "`case_by_case`" in text and "`presumption_of_denial`" in text
    assert "- `chip_ids` (each item) -> `chips.chip_id`" in text
    assert ">= 2000-01-01" in text


def test_main_writes_the_file(tmp_path):
    out = tmp_path / "dd.md"
    assert dictionary.main([str(out)]) == 0
    assert out.read_text(encoding="utf-8") == dictionary.render()
