"""Every path the package uses, resolved on call and never created on import.

The data root defaults to the repository's ``data/`` folder and moves with the
``CHIP_SUPPLY_DATA_DIR`` environment variable; downloaded releases live in the
user cache (``CHIP_SUPPLY_CACHE_DIR`` moves it) and come from
``CHIP_SUPPLY_DATA_URL``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
REPORTS_DIR = REPO_ROOT / "reports"
DOCS_DIR = REPO_ROOT / "docs"

DATA_DIR_ENV = "CHIP_SUPPLY_DATA_DIR"
CACHE_DIR_ENV = "CHIP_SUPPLY_CACHE_DIR"
DATA_URL_ENV = "CHIP_SUPPLY_DATA_URL"


def data_dir() -> Path:
    """Root of the data tree: ``draft/``, ``releases/``, ``registry.txt``."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override).expanduser().resolve() if override else REPO_ROOT / "data"


def draft_dir() -> Path:
    """The editable working copy of every dataset."""
    return data_dir() / "draft"


def releases_dir() -> Path:
    """Folder holding one immutable sub-folder per release date."""
    return data_dir() / "releases"


def release_dir(release: str) -> Path:
    """Folder of one release, e.g. ``data/releases/2026-11-29``."""
    return releases_dir() / release


def registry_path() -> Path:
    """The pooch-format registry: ``<path> sha256:<hex>`` for every released file."""
    return data_dir() / "registry.txt"


def changelog_path() -> Path:
    """The changelog that release cutting appends to."""
    return data_dir() / "CHANGELOG.md"


def cache_dir() -> Path:
    """Where releases fetched from ``CHIP_SUPPLY_DATA_URL`` are kept."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "chip-supply"


def data_url() -> str | None:
    """Base URL that mirrors the ``data/`` tree, or ``None`` when unset."""
    url = os.environ.get(DATA_URL_ENV, "").strip()
    return url.rstrip("/") + "/" if url else None
