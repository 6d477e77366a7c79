"""`make lab` opens the notebooks' .py files as notebooks: the settings it ships, served."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("jupyterlab")
pytest.importorskip("jupytext")

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ROOT / "jupyter" / "lab-settings"
PLUGIN = "@jupyterlab/docmanager-extension:plugin"
STARTUP_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.fixture
def lab_server(tmp_path):
    """JupyterLab on 127.0.0.1 with the settings `make lab` uses, isolated from ~/.jupyter."""
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
        f"--port={port}", "--port-retries=0", f"--IdentityProvider.token={token}",
        f"--LabApp.app_settings_dir={SETTINGS}", f"--ServerApp.root_dir={ROOT / 'notebooks'}",
        *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
    ]  # fmt: skip
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                _get(f"{base}/api/status", token)
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    output = (tmp_path / "server.log").read_text()
                    pytest.fail(f"JupyterLab did not start:\n{output}")
                time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def test_make_lab_uses_the_shipped_settings():
    makefile = (ROOT / "Makefile").read_text()
    lab = makefile.split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "--LabApp.app_settings_dir=$(CURDIR)/jupyter/lab-settings" in lab
    overrides = json.loads((SETTINGS / "overrides.json").read_text())
    assert overrides[PLUGIN]["defaultViewers"] == {"python": "Jupytext Notebook"}


@pytest.mark.slow
def test_python_notebooks_open_as_notebooks(lab_server):
    base, token = lab_server
    setting = _get(f"{base}/lab/api/settings/{PLUGIN}", token)
    # the composite setting is the schema default (where overrides land) under user settings
    composite = {
        **setting["schema"]["properties"]["defaultViewers"]["default"],
        **setting["settings"].get("defaultViewers", {}),
    }
    assert composite["python"] == "Jupytext Notebook"

    name = next(p.name for p in sorted((ROOT / "notebooks").glob("01-*.py")))
    model = _get(f"{base}/api/contents/{name}?type=notebook&content=1", token)
    assert model["type"] == "notebook"
    assert model["content"]["cells"] and model["content"]["nbformat"] == 4
