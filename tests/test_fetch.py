"""Downloads from a mirror (a local HTTP server on 127.0.0.1) into an empty cache.

The server misbehaves on request: a tampered file, 404, 500, a connection cut half-way,
a stall, a body larger than the manifest says. Every case ends within seconds with a
one-line error and leaves nothing untrusted in the cache; a verified cache is used
without any URL.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest
from conftest import recorded

from analytics import datasets, fetch, paths, release
from analytics.cli import main
from analytics.errors import ChipSupplyError, HashMismatchError, ReleaseNotFoundError
from analytics.hashes import sha256

NAME = "approvals.parquet"
REL = f"releases/2026-11-29/{NAME}"
MANIFEST = "/releases/2026-11-29/datapackage.json"


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; counts requests; misbehaves for the paths in ``server.modes``."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        server = self.server
        server.requests.append(self.path)
        mode = server.modes.get(self.path.lstrip("/"))
        if mode == "500-once":
            server.modes.pop(self.path.lstrip("/"))
            mode = "500"
        if mode in ("404", "500"):
            self.send_error(int(mode))
            return
        if mode is None:
            super().do_GET()
            return
        data = (server.root / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        if mode == "oversized":
            self.send_header("Content-Length", str(len(data) * 100))
        elif mode != "endless":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if mode == "cut":
            self.wfile.write(data[: len(data) // 2])
        elif mode == "stall":
            self.wfile.write(data[:100])
            self.wfile.flush()
            server.stop.wait(10)  # bounded: the fixture sets it when the test ends
        elif mode == "endless":
            deadline = time.monotonic() + 10
            while not server.stop.is_set() and time.monotonic() < deadline:
                try:
                    self.wfile.write(b"x" * 65536)
                except OSError:
                    break
        elif mode == "oversized":
            self.wfile.write(data)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture(autouse=True)
def quick_timeouts(monkeypatch):
    monkeypatch.setattr(fetch, "CONNECT_TIMEOUT", 2.0)
    monkeypatch.setattr(fetch, "READ_TIMEOUT", 0.5)
    monkeypatch.setattr(fetch, "RETRIES", 2)
    monkeypatch.setattr(fetch, "BACKOFF", 0.05)


@pytest.fixture
def server(released_root, tmp_path):
    """``released_root`` moved behind an HTTP server; the local data root keeps the registry."""
    served = tmp_path / "served"
    shutil.copytree(released_root, served)
    shutil.rmtree(released_root / "releases")
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(served))
    )
    httpd.daemon_threads = True
    httpd.root, httpd.requests, httpd.modes = served, [], {}
    httpd.stop = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def remote(server, monkeypatch):
    monkeypatch.setenv("CHIP_SUPPLY_DATA_URL", f"http://127.0.0.1:{server.server_address[1]}")
    return server


def cache_file(tmp_path):
    return tmp_path / "cache" / REL


def untrusted(tmp_path) -> list[str]:
    """Files in the cache that are not verified copies (temporary or partial ones)."""
    cache = tmp_path / "cache"
    return sorted(p.name for p in cache.rglob("*") if p.is_file() and p.name.startswith("."))


def cached_names(tmp_path) -> list[str]:
    folder = cache_file(tmp_path).parent
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_fetches_into_an_empty_cache_and_verifies(remote, tmp_path, tiny_tables):
    assert not (tmp_path / "cache").exists()
    df = datasets.load("approvals", release="2026-11-29")
    assert df.equals(tiny_tables["approvals"].sort("event_id"))
    assert cache_file(tmp_path).read_bytes() == (remote.root / REL).read_bytes()
    assert sha256(cache_file(tmp_path)) == recorded(remote.root, "2026-11-29", NAME)
    assert remote.requests == [MANIFEST, "/" + REL]
    datasets.load("approvals", release="2026-11-29")
    datasets.scan("approvals", release="latest").collect()
    assert remote.requests == [MANIFEST, "/" + REL]  # served from the verified cache


def test_a_verified_cache_is_used_without_a_url(remote, tmp_path, monkeypatch, tiny_tables):
    datasets.load("approvals", release="2026-11-29")
    monkeypatch.delenv("CHIP_SUPPLY_DATA_URL")
    release._OPENED.clear()  # as a new process would start
    assert datasets.load("approvals", release="2026-11-29").equals(
        tiny_tables["approvals"].sort("event_id"))
    env = {k: v for k, v in os.environ.items() if k != "CHIP_SUPPLY_DATA_URL"}
    env["PYTHONPATH"] = str(paths.REPO_ROOT)
    done = subprocess.run([sys.executable, "-m", "analytics.cli", "show", "approvals",
                           "--release", "2026-11-29", "--format", "csv"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("event_id,")


def test_tampered_served_file_is_refused(remote, tmp_path):
    path = remote.root / REL
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(HashMismatchError) as err:
        datasets.load("approvals", release="2026-11-29")
    assert err.value.expected == recorded(remote.root, "2026-11-29", NAME)
    assert err.value.actual == sha256(path)
    assert REL in str(err.value) and "\n" not in str(err.value)
    assert cached_names(tmp_path) == ["datapackage.json"] and untrusted(tmp_path) == []
    assert remote.requests.count("/" + REL) == 1  # a different file is not fetched again


@pytest.mark.parametrize(("mode", "message", "attempts"), [
    ("404", "HTTP 404", 1),
    ("500", "HTTP 500", 3),
    ("cut", "the connection was cut before the end of the file", 3),
    ("stall", "no data for 0.5 s", 3),
])
def test_a_failing_mirror_is_a_one_line_error_and_leaves_nothing(remote, tmp_path, mode,
                                                                  message, attempts):
    remote.modes[REL] = mode
    start = time.monotonic()
    with pytest.raises(ReleaseNotFoundError) as err:
        datasets.load("approvals", release="2026-11-29")
    assert time.monotonic() - start < 15
    text = str(err.value)
    assert message in text and "\n" not in text and REL in text
    assert "nothing was cached" in text
    assert remote.requests.count("/" + REL) == attempts
    assert cached_names(tmp_path) == ["datapackage.json"] and untrusted(tmp_path) == []
    remote.modes.clear()  # the mirror recovers: the same load now succeeds
    assert datasets.load("approvals", release="2026-11-29").height == 3


def test_a_passing_failure_is_retried(remote):
    remote.modes[REL] = "500-once"
    assert datasets.load("approvals", release="2026-11-29").height == 3
    assert remote.requests.count("/" + REL) == 2


@pytest.mark.parametrize("mode", ["oversized", "endless"])
def test_a_body_larger_than_the_manifest_says_is_cut_short(remote, tmp_path, mode):
    remote.modes[REL] = mode
    start = time.monotonic()
    with pytest.raises(ChipSupplyError, match="bytes or more, the manifest says") as err:
        datasets.load("approvals", release="2026-11-29")
    assert time.monotonic() - start < 15 and "\n" not in str(err.value)
    assert cached_names(tmp_path) == ["datapackage.json"] and untrusted(tmp_path) == []
    assert remote.requests.count("/" + REL) == 1


def test_tampered_cache_file_is_downloaded_again_with_a_warning(remote, tmp_path):
    datasets.load("chips", release="2026-11-29")
    cached = tmp_path / "cache" / "releases/2026-11-29/chips.parquet"
    cached.write_bytes(cached.read_bytes()[:-10])
    with pytest.warns(UserWarning, match="altered; downloading it again"):
        df = datasets.load("chips", release="2026-11-29")
    assert df["chip_id"].to_list() == ["vendor_a_x1", "vendor_a_x1c"]
    assert sha256(cached) == recorded(remote.root, "2026-11-29", "chips.parquet")
    assert remote.requests.count("/releases/2026-11-29/chips.parquet") == 2


def test_unreachable_server_names_the_url(server, monkeypatch):
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    monkeypatch.setenv("CHIP_SUPPLY_DATA_URL", f"http://127.0.0.1:{port}/")
    with pytest.raises(ReleaseNotFoundError) as err:
        datasets.load("approvals", release="2026-11-29")
    assert f"http://127.0.0.1:{port}{MANIFEST}" in str(err.value)
    assert "connection refused" in str(err.value)


@pytest.mark.parametrize("url", ["file:///srv/mirror/data/", "ftp://mirror.example/data/",
                                 "mirror.example/data"])
def test_other_url_schemes_are_refused(server, monkeypatch, capsys, url):
    monkeypatch.setenv("CHIP_SUPPLY_DATA_URL", url)
    with pytest.raises(ChipSupplyError, match="unsupported URL scheme"):
        datasets.load("approvals", release="2026-11-29")
    assert main(["show", "approvals", "--release", "2026-11-29"]) == 2
    err = capsys.readouterr().err
    assert "unsupported URL scheme" in err and len(err.strip().splitlines()) == 1
