"""Execute the notebooks against a release in Jupyter kernels.

Each ``notebooks/*.py`` (jupytext ``py:percent``) is read, the release is injected after
its ``parameters`` cell, and a kernel runs it. The kernel imports the same ``analytics``
package as the caller and takes over the caller's verified release
(:meth:`analytics.Release.adopt`), so no notebook verifies the files again. A failing
cell raises :class:`~analytics.errors.NotebookError` naming the notebook and the cell.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import analytics
from analytics import paths
from analytics.errors import NotebookError

KERNEL = "python3"
CELL_TIMEOUT = 600  # seconds


def notebook_paths(notebooks_dir: Path | str | None = None) -> list[Path]:
    """The notebooks a report executes, in file-name order.

    Parameters
    ----------
    notebooks_dir : Path or str, optional
        Default ``notebooks/``.

    Returns
    -------
    list of Path

    Examples
    --------
    >>> notebook_paths()[0].name
    '01-policy-timeline.py'
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else paths.NOTEBOOKS_DIR
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith(("_", ".")))


def read_notebook(
    path: Path, release: str, *, state: dict | None = None, setup: bool = True
) -> tuple[Any, int]:
    """Read a py:percent notebook and inject ``release`` after its ``parameters`` cell.

    Parameters
    ----------
    path : Path
        A ``py:percent`` notebook.
    release : str
        The release id the notebook reads.
    state : dict, optional
        A verified release (:meth:`analytics.Release.state`) the kernel takes over.
    setup : bool
        Also make altair show charts the report's way (:func:`analytics.enable_charts`).

    Returns
    -------
    tuple
        The notebook and the index of the injected cell (cells before it keep their
        numbers; cells after it are one further on).

    Examples
    --------
    >>> nb, at = read_notebook(notebook_paths()[0], "2026-11-29")
    >>> "release = '2026-11-29'" in nb.cells[at].source
    True
    """
    import jupytext
    import nbformat

    nb = jupytext.read(path, fmt="py:percent")
    for i, cell in enumerate(nb.cells):  # stable ids: the same notebook renders the same page
        cell.id = f"cell-{i + 1}"
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    at = tagged[0] + 1 if tagged else 0
    lines = ["# Parameters injected by the report", f"release = {release!r}", "import analytics"]
    if state is not None:
        lines.append(f"analytics.Release.adopt({json.dumps(state)})")
    if setup:
        lines.append("analytics.enable_charts()")
    cell = nbformat.v4.new_code_cell(
        "\n".join(lines), id="injected-parameters", metadata={"tags": ["injected-parameters"]}
    )
    nb.cells.insert(at, cell)
    return nb, at


def execute_notebook(
    path: Path | str, release: str, *, cwd: Path | str | None = None, state: dict | None = None
) -> Any:
    """Execute one notebook against ``release``; the executed notebook, injected cell removed.

    Parameters
    ----------
    path : Path or str
        The notebook.
    release : str
        The release id.
    cwd : Path or str, optional
        Working folder of the kernel (default: the notebook's folder).
    state : dict, optional
        A verified release for the kernel to take over (:meth:`analytics.Release.state`).

    Returns
    -------
    nbformat.NotebookNode

    Raises
    ------
    NotebookError
        A cell failed: names the notebook, the cell (1-based, as in the ``.py`` file)
        and the error.

    Examples
    --------
    ``execute_notebook("notebooks/01-policy-timeline.py", "2026-11-29")`` runs a kernel.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path)
    nb, injected = read_notebook(path, release, state=state)
    client = NotebookClient(
        nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT, record_timing=False,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        resources={"metadata": {"path": str(cwd or path.parent)}},
    )
    try:
        client.execute(env=kernel_env())
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        failed = [i for i in code
                  if any(o.get("output_type") == "error" for o in nb.cells[i].get("outputs", []))]
        unfinished = [i for i in code if nb.cells[i].get("execution_count") is None]
        index = (failed or unfinished or [injected])[0]
        cell = index + 1 - (index > injected)
        ename = getattr(exc, "ename", type(exc).__name__)
        evalue = getattr(exc, "evalue", str(exc).strip().splitlines()[0] if str(exc) else "")
        raise NotebookError(_display_name(path), cell, ename, evalue,
                            nb.cells[index].source) from None
    del nb.cells[injected]
    return nb


def _display_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(paths.REPO_ROOT))
    except ValueError:
        return path.name



def kernel_env() -> dict[str, str]:
    """The environment of a kernel: this one, with this ``analytics`` package first on the path.

    Returns
    -------
    dict

    Examples
    --------
    >>> import analytics, pathlib
    >>> root = str(pathlib.Path(analytics.__file__).parent.parent)
    >>> kernel_env()["PYTHONPATH"].split(os.pathsep)[0] == root
    True
    """
    root = str(Path(analytics.__file__).resolve().parent.parent)
    rest = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != root]
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, *rest])}
