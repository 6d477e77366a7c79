"""Downloads from a mirror of the data tree: bounded in time and size, verified before use.

:func:`download` fetches one released file over HTTP(S) into the cache. It waits at
most :data:`CONNECT_TIMEOUT` seconds for a connection and :data:`READ_TIMEOUT` seconds
for each piece of data, retries what may pass (a refused or cut connection, a stall,
an HTTP 5xx) with a growing pause, stops reading beyond the size the manifest records,
and writes to a temporary name that is renamed to the real one only after the size and
sha256 match. Whatever fails, nothing untrusted is left in the cache and the error is
one line.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

from analytics.errors import ChipSupplyError, HashMismatchError, ReleaseNotFoundError

CONNECT_TIMEOUT = 10.0  # seconds to establish a connection
READ_TIMEOUT = 30.0  # seconds without a byte before giving up on an attempt
RETRIES = 3  # further attempts after the first
BACKOFF = 1.0  # seconds before the first retry, doubled for each further one
SCHEMES = ("http", "https")
_CHUNK = 1 << 16


class _Transient(Exception):
    """A failure another attempt may not meet (a cut connection, a stall, HTTP 5xx)."""


def check_url(url: str) -> None:
    """Refuse a URL whose scheme the downloader does not speak (``file://``, ``ftp://``...).

    Examples
    --------
    >>> check_url("https://example.org/data/")
    >>> try:
    ...     check_url("file:///srv/data/")
    ... except ChipSupplyError as exc:
    ...     print(str(exc)[:50])
    unsupported URL scheme 'file' in file:///srv/data/
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise ChipSupplyError(
            f"unsupported URL scheme {scheme or '(none)'!r} in {url[:200]}: a mirror of the data "
            "tree is reached over http:// or https://"
        )


def download(url: str, dest: Path | str, *, sha256: str, size: int | None,
             max_bytes: int) -> Path:
    """Download ``url`` to ``dest`` when its size and sha256 are the expected ones.

    Parameters
    ----------
    url : str
        An ``http://`` or ``https://`` address.
    dest : Path or str
        Where the verified file is kept (its folder is created).
    sha256 : str
        ``sha256:<hex>`` the file must have.
    size : int or None
        Bytes the file must have (``None``: not known beforehand).
    max_bytes : int
        Reading stops beyond this many bytes.

    Returns
    -------
    Path
        ``dest``, holding the verified file.

    Raises
    ------
    ChipSupplyError
        Unsupported scheme; the mirror sends more bytes than the manifest records.
    HashMismatchError
        The mirror serves a different file.
    ReleaseNotFoundError
        The file could not be downloaded (HTTP error, no connection, timeouts).
    """
    check_url(url)
    dest = Path(dest)
    last = ""
    for attempt in range(RETRIES + 1):
        if attempt:
            time.sleep(BACKOFF * 2 ** (attempt - 1))
        try:
            return _attempt(url, dest, sha256=sha256, size=size, max_bytes=max_bytes)
        except _Transient as exc:
            last = str(exc)
    tries = f"{RETRIES + 1} attempts" if RETRIES else "1 attempt"
    raise ReleaseNotFoundError(f"could not download {url}: {last} ({tries}); nothing was cached")


def _attempt(url: str, dest: Path, *, sha256: str, size: int | None, max_bytes: int) -> Path:
    import requests

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}-{time.monotonic_ns()}.part")
    try:
        with requests.get(url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                          headers={"Accept-Encoding": "identity"}) as resp:
            _check_status(url, resp)
            length = resp.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise _too_big(url, int(length), size, max_bytes)
            actual, got = _stream(resp, tmp, url, size=size, max_bytes=max_bytes)
        if size is not None and got != size:
            raise _Transient(f"the connection ended after {got} of {size} bytes")
        if actual != sha256:
            raise HashMismatchError(url, sha256, actual, by="the release's manifest",
                                    fix="The mirror serves a different file; nothing was cached.")
        os.replace(tmp, dest)
        return dest
    except requests.exceptions.ConnectTimeout:
        raise _Transient(f"no connection within {CONNECT_TIMEOUT:g} s") from None
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError,
            requests.exceptions.ChunkedEncodingError) as exc:
        raise _Transient(_reason(exc)) from None
    finally:
        tmp.unlink(missing_ok=True)


def _check_status(url: str, resp) -> None:
    code = resp.status_code
    if code == 200:
        return
    what = f"HTTP {code} {resp.reason or ''}".strip()
    if code >= 500 or code == 429:
        raise _Transient(what)
    raise ReleaseNotFoundError(f"could not download {url}: {what}; nothing was cached")


def _stream(resp, tmp: Path, url: str, *, size: int | None, max_bytes: int) -> tuple[str, int]:
    """Write the body to ``tmp`` (never beyond ``max_bytes``); its digest and length."""
    digest, got = hashlib.sha256(), 0
    with tmp.open("xb") as fh:
        for chunk in resp.iter_content(_CHUNK):
            got += len(chunk)
            if got > max_bytes:
                raise _too_big(url, got, size, max_bytes)
            digest.update(chunk)
            fh.write(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    return f"sha256:{digest.hexdigest()}", got


def _too_big(url: str, got: int, size: int | None, max_bytes: int) -> ChipSupplyError:
    expected = f"the manifest says {size}" if size is not None else f"at most {max_bytes}"
    return ChipSupplyError(f"{url} sends {got} bytes or more, {expected}: refused; "
                           "nothing was cached")


def _reason(exc: Exception) -> str:
    """One short line for a requests error (its own text nests whole exception reprs)."""
    import requests

    if isinstance(exc, requests.exceptions.ReadTimeout) or "Read timed out" in str(exc):
        return f"no data for {READ_TIMEOUT:g} s"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in str(exc):
        return "the connection was cut before the end of the file"
    if "Connection refused" in str(exc):
        return "connection refused"
    if "Name or service not known" in str(exc) or "getaddrinfo" in str(exc):
        return "unknown host"
    return "the connection failed"
