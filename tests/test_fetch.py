"""Fetching a release over HTTP (a local server on 127.0.0.1) into an empty cache."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
import warnings

import pytest
from conftest import recorded

from analytics import datasets
from analytics.errors import HashMismatchError, ReleaseNotFoundError
from analytics.hashes import sha256

NAME = "approvals.parquet"
REL = f"releases/2026-11-29/{NAME}"
MANIFEST = "/releases/2026-11-29/datapackage.json"


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; counts requests; can cut a file off after half its bytes."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.requests.append(self.path)
        if self.server.cut_off and self.path.endswith(".parquet"):
            data = (self.server.root / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(released_root, tmp_path):
    """``released_root`` moved behind an HTTP server; the local data root keeps the registry."""
    served = tmp_path / "served"
    shutil.copytree(released_root, served)
    shutil.rmtree(released_root / "releases")
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(served))
    )
    httpd.root, httpd.requests, httpd.cut_off = served, [], False
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def remote(server, monkeypatch):
    monkeypatch.setenv("CHIP_SUPPLY_DATA_URL", f"http://127.0.0.1:{server.server_address[1]}")
    return server


def cache_file(tmp_path):
    return tmp_path / "cache" / REL


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


def test_tampered_served_file_is_refused(remote, tmp_path):
    path = remote.root / REL
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(HashMismatchError) as err:
        datasets.load("approvals", release="2026-11-29")
    assert err.value.expected == recorded(remote.root, "2026-11-29", NAME)
    assert err.value.actual == sha256(path)
    assert REL in str(err.value.path)
    assert not cache_file(tmp_path).exists()


def test_download_cut_off_leaves_nothing_to_trust(remote, tmp_path, tiny_tables):
    remote.cut_off = True
    with pytest.raises((ReleaseNotFoundError, HashMismatchError)):
        datasets.load("approvals", release="2026-11-29")
    folder = cache_file(tmp_path).parent
    assert not cache_file(tmp_path).exists()
    assert [p.name for p in folder.iterdir()] == ["datapackage.json"]  # verified
    remote.cut_off = False
    assert datasets.load("approvals", release="2026-11-29").equals(
        tiny_tables["approvals"].sort("event_id")
    )


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
    assert f"http://127.0.0.1:{port}/{MANIFEST[1:]}" in str(err.value)


def test_missing_on_server_is_release_not_found(remote):
    (remote.root / REL).unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ReleaseNotFoundError, match="404"):
            datasets.load("approvals", release="2026-11-29")
