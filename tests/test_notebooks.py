"""Every notebook executes against both releases, with charts drawn and no error."""

from __future__ import annotations

import pytest

from analytics import execution, paths
from analytics.display import CHART_MIME

RELEASES = ("2026-01-30", "2026-11-29")
NOTEBOOKS = [p.name for p in execution.notebook_paths()]


def test_every_notebook_opens_with_its_question_and_a_parameters_cell():
    import jupytext

    assert NOTEBOOKS == [
        "01-policy-timeline.py",
        "02-approvals-vs-shipments.py",
        "03-export-controls.py",
        "04-lab-compute.py",
        "05-release-changes.py",
        "06-china-compute.py",
    ]
    for name in NOTEBOOKS:
        nb = jupytext.read(paths.NOTEBOOKS_DIR / name, fmt="py:percent")
        first = nb.cells[0]
        assert first.cell_type == "markdown" and first.source.startswith("# "), name
        assert "?" in first.source, f"{name} must open with the question it answers"
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert [c.source for c in params] == ['release = "latest"'], name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), name


@pytest.mark.slow
@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes_against_release(name, release):
    from analytics.registry import releases

    if release not in releases():
        pytest.skip(f"release {release} is not in {paths.releases_dir()}")
    nb = execution.execute_notebook(paths.NOTEBOOKS_DIR / name, release)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"], name
    charts = [o for o in outputs if CHART_MIME in o.get("data", {})]
    first_release = release == releases()[0]  # 05 has nothing to compare the first release with
    if not (name == "05-release-changes.py" and first_release):
        assert charts, f"{name} drew no chart"
    for out in charts:
        assert out.data["image/svg+xml"].lstrip().startswith("<svg")
        assert out.data[CHART_MIME]["$schema"].startswith(
            "https://vega.github.io/schema/vega-lite/v6"
        )
