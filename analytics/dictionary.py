"""Data dictionary generated from the schemas: ``python -m analytics.dictionary`` writes
``docs/data-dictionary.md``.

>>> "| `event_id` |" in render()
True
"""

from __future__ import annotations

import sys
from pathlib import Path

from analytics.paths import DOCS_DIR

OUTPUT = DOCS_DIR / "data-dictionary.md"


def _type(dtype) -> str:
    import polars as pl

    if isinstance(dtype, pl.List):
        return "list[string] (`;` in CSV)"
    return {
        pl.String: "string", pl.Int64: "integer", pl.Float64: "number",
        pl.Date: "date (YYYY-MM-DD)", pl.Boolean: "boolean (true/false)",
    }.get(dtype, str(dtype))


def _unit(description: str) -> tuple[str, str]:
    if description.endswith("]") and " [" in description:
        text, unit = description.rsplit(" [", 1)
        return text, unit[:-1]
    return description, ""


def _rules(spec) -> str:
    out = []
    for check in spec.checks:
        stats = check.statistics or {}
        if check.name == "isin":
            out.append(", ".join(f"`{v}`" for v in sorted(stats["allowed_values"], key=str)))
        elif check.name == "str_matches":
            out.append(f"matches `{stats['pattern']}`")
        elif check.name == "greater_than_or_equal_to":
            out.append(f">= {_value(stats['min_value'])}")
        elif check.name == "greater_than":
            out.append(f"> {_value(stats['min_value'])}")
        elif check.name == "str_length":
            lo, hi = stats.get("min_value"), stats.get("max_value")
            out.append(f"length {lo or 0}..{hi}" if hi else f"length >= {lo}")
        else:
            out.append(check.name)
    if spec.unique:
        out.append("unique")
    out.append("may be empty" if spec.nullable else "required")
    if not spec.required:
        out.append("optional column")
    return "; ".join(out)


def _value(value) -> str:
    import polars as pl

    if isinstance(value, pl.Expr):  # e.g. the earliest date, pl.date(2000, 1, 1)
        value = pl.select(value).item()
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The whole dictionary as Markdown, deterministic for a given set of schemas."""
    from analytics import schemas

    lines = [
        "# Data dictionary",
        "",
        "Generated from `analytics/schemas.py` by `python -m analytics.dictionary`; do not edit",
        "by hand. Every table is one CSV per release (`data/releases/<date>/<table>.csv`),",
        "UTF-8, comma-separated, dates `YYYY-MM-DD`, list cells joined by `;`, empty cell = null.",
        "Uncertain figures are triplets `x_low`, `x`, `x_high` (5th, 50th, 95th percentile),",
        "or, when their qualifier is `range`, `at_least` or `at_most`, the bounds a source states.",
        "`parameters` and `evidence` were added later: releases cut before them do not ship",
        "them, and an optional column is absent from the files of releases cut before it.",
        "",
        "| table | one row is | primary key |",
        "|---|---|---|",
    ]
    for name in schemas.DATASETS:
        doc = (schemas.SCHEMAS[name].__doc__ or "").strip().splitlines()[0]
        keys = ", ".join(f"`{k}`" for k in schemas.PRIMARY_KEYS[name])
        lines.append(f"| [`{name}`](#{name}) | {_cell(doc)} | {keys} |")
    for name in schemas.DATASETS:
        model = schemas.SCHEMAS[name]
        spec = model.to_schema()
        doc = " ".join(line.strip() for line in (model.__doc__ or "").strip().splitlines())
        lines += ["", f"## {name}", "", _cell(doc), ""]
        lines.append("Primary key: " + ", ".join(f"`{k}`" for k in schemas.PRIMARY_KEYS[name]))
        fks = [fk for fk in schemas.FOREIGN_KEYS if fk.dataset == name]
        if fks:
            lines += ["", "Foreign keys:", ""]
            lines += [
                f"- `{fk.column}`{' (each item)' if fk.many else ''} -> "
                f"`{fk.ref}.{fk.ref_column}`" for fk in fks
            ]
        checks = [c.name for c in spec.checks]
        if checks:
            lines += ["", "Row rules: " + ", ".join(f"`{c}`" for c in checks)]
        lines += ["", "| column | type | unit | allowed values / rules | description |",
                  "|---|---|---|---|---|"]
        for col, dtype in schemas.columns(name).items():
            text, unit = _unit(schemas.descriptions(name)[col])
            lines.append(
                f"| `{col}` | {_type(dtype)} | {_cell(unit)} | {_cell(_rules(spec.columns[col]))} "
                f"| {_cell(text)} |"
            )
    return "\n".join(lines) + "\n"


def write(path: Path | str = OUTPUT) -> Path:
    """Write the dictionary to ``path`` (default ``docs/data-dictionary.md``)."""
    path = Path(path)
    path.write_text(render(), encoding="utf-8", newline="\n")
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    print(write(argv[0] if argv else OUTPUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
