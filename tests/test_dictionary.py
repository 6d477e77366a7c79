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


def test_new_datasets_are_described_with_their_keys():
    text = dictionary.render()
    assert "| [`evidence`](#evidence) |" in text and "| [`parameters`](#parameters) |" in text
    assert "- `source_id` -> `sources.source_id`" in text
    assert "- `entity_list_source_ids` (each item) -> `sources.source_id`" in text
    assert "`derivation_when_not_stated`, `quote_when_stated`" in text
    assert "`exported_pre_control`" in text and "`proposed`" in text


def test_a_release_describes_evidence_and_parameters_in_its_datapackage(released_root):
    import json

    package = json.loads(
        (released_root / "releases" / "2026-11-29" / "datapackage.json").read_text())
    by_name = {r["name"]: r for r in package["resources"]}
    assert list(by_name) == list(schemas.DATASETS)
    evidence = by_name["evidence"]["schema"]
    assert evidence["primaryKey"] == ["evidence_id"]
    assert evidence["foreignKeys"] == [
        {"fields": "source_id", "reference": {"resource": "sources", "fields": "source_id"}}]
    basis = next(f for f in evidence["fields"] if f["name"] == "basis")
    assert basis["constraints"] == {"required": True, "enum": ["assumed", "derived", "stated"]}
    params = by_name["parameters"]["schema"]
    assert params["foreignKeys"] == [
        {"fields": "chip_id", "reference": {"resource": "chips", "fields": "chip_id"}}]
    assert by_name["parameters"]["bytes"] == (
        released_root / "releases" / "2026-11-29" / "parameters.csv").stat().st_size
