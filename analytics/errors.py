"""Findings and the exceptions that carry them, shared by loading, releasing and validation."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SEVERITIES = ("error", "warning")


def printable(text: str) -> str:
    """Text safe to print on a terminal or in a log line: invisible characters escaped.

    Control characters (a terminal escape sequence, NUL, a line break), format characters
    (bidirectional overrides, zero-width characters, a byte-order mark), surrogates and
    line separators become ``\\x1b``, ``\\u202e`` ...; everything else is kept.

    Examples
    --------
    >>> print(printable("ok \\x1b[2J\\u202eevil 中文"))
    ok \\x1b[2J\\u202eevil 中文
    """
    if text.isprintable():
        return text
    return "".join(
        ch if ch == " " or unicodedata.category(ch) not in _HIDDEN else _escape(ch) for ch in text
    )


_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else (
        f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


@dataclass(frozen=True, order=True)
class Finding:
    """One problem in one place of the data, in words a person can act on.

    ``key`` is the row's id (``APR-048``, ``nvidia_h200_sxm_141gb``) or, when no id
    could be read, ``line <n>`` of the file.
    """

    severity: str
    dataset: str
    key: str
    column: str
    check: str
    value: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.dataset}[{self.key}].{self.column}" if self.column else (
            f"{self.dataset}[{self.key}]"
        )
        return printable(
            f"{self.severity}: {where}: {self.check}: {self.message} (value: {self.value!s})")


class ChipSupplyError(Exception):
    """Base class of every error this package raises on purpose."""


class DataValidationError(ChipSupplyError):
    """The data broke its contract; ``findings`` lists every violation."""

    def __init__(self, findings: list[Finding], *, context: str = "") -> None:
        self.findings = sorted(findings)
        errors = [f for f in self.findings if f.severity == "error"]
        head = f"{context}: " if context else ""
        lines = [f"{head}{len(errors)} error(s) in the data"]
        lines += [f"  {f}" for f in self.findings[:50]]
        if len(self.findings) > 50:
            lines.append(f"  ... and {len(self.findings) - 50} more")
        super().__init__("\n".join(lines))


class IntegrityError(ChipSupplyError):
    """A release's files and records do not agree: something released was altered."""


class HashMismatchError(IntegrityError):
    """A released file differs from what its release's manifest (or the registry) records.

    ``expected`` is the recorded sha256, ``actual`` the file's (or the other record's);
    ``by`` names the record that holds ``expected``.
    """

    def __init__(self, path: Path | str, expected: str, actual: str, *,
                 by: str = "the registry", fix: str = "") -> None:
        self.path, self.expected, self.actual, self.by = Path(path), expected, actual, by
        fix = fix or ("Released files never change: restore it (git checkout -- <file>) "
                      "or delete it so it is fetched again.")
        super().__init__(f"{path}: sha256 mismatch: {by} says {expected}, file has {actual}. "
                         + fix)


class ReleaseNotFoundError(ChipSupplyError):
    """A release is neither on disk nor reachable at the data URL."""


class CannotValidateError(ChipSupplyError):
    """The input could not be validated at all: a missing folder, an unreadable file."""


class NotebookError(ChipSupplyError):
    """A notebook cell raised while the report was executing it."""

    def __init__(self, notebook: str, cell: int, ename: str, evalue: str, source: str = "") -> None:
        self.notebook, self.cell, self.ename, self.evalue = notebook, cell, ename, evalue
        first = source.strip().splitlines()[0] if source.strip() else ""
        where = f"{notebook}, cell {cell}" + (f" ({first[:80]})" if first else "")
        super().__init__(
            f"{where}: {ename}: {evalue}\n"
            f"Open {notebook} in JupyterLab (make lab), run it with release set as in the "
            "report, and fix the cell; no report was written."
        )
