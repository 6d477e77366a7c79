"""What a CSV cell may hold: the forms of text, numbers and lists that can be real data.

:func:`cell_findings` looks at every cell of a table as the file holds it, before any
conversion, and returns a finding for each cell that cannot be real data: control
characters (a NUL, a terminal escape sequence), bidirectional overrides that make text
read differently from how it is stored, a byte-order mark inside the text, a
replacement character left by a broken conversion, text made only of spaces or
invisible characters, and an empty item in a ``;``-separated list. :data:`NUMBER` and
:data:`INTEGER` are the only number forms read: no NaN, no infinity, no hex, no digit
separators.
"""

from __future__ import annotations

import polars as pl

from analytics.errors import Finding

#: A number as the data writes it: ``1234``, ``-0.5``, ``3.3e24``.
NUMBER = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"
#: A whole number: ``400000``.
INTEGER = r"^-?(0|[1-9][0-9]*)$"
#: A date: ``2026-01-30``.
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

_INVISIBLE = r"\s\x{200B}-\x{200D}\x{2060}\x{FEFF}\x{00AD}\x{180E}"
#: (check, pattern, what is wrong, what to do); a cell matching the pattern is refused.
TEXT_RULES = (
    ("terminal_escape", r"[\x1B\x{9B}]",
     "holds a terminal escape sequence (ESC), which can rewrite a terminal's screen",
     "delete it; type the text as plain characters"),
    ("control_character",
     r"[\x00-\x08\x0B\x0C\x0D\x0E-\x1A\x1C-\x1F\x7F\x{80}-\x{9A}\x{9C}-\x{9F}]",
     "holds a control character (such as NUL or a carriage return)",
     "delete it; only tabs and line breaks may stand inside text"),
    ("bidi_control", r"[\x{202A}-\x{202E}\x{2066}-\x{2069}]",
     "holds a bidirectional override, which makes the text display differently from how "
     "it is stored", "delete it"),
    ("byte_order_mark", r"\x{FEFF}",
     "holds a byte-order mark (U+FEFF) inside the text", "delete it"),
    ("replacement_character", r"[\x{FFFD}\x{FFFE}\x{FFFF}]",
     "holds U+FFFD or a noncharacter: a character was lost in a conversion",
     "copy the text again from the source"),
    ("invisible_only", rf"^[{_INVISIBLE}]+$",
     "shows nothing: it holds only spaces or invisible characters",
     "empty the cell or write the value"),
)


def cell_findings(df: pl.DataFrame, name: str, keys: list[str],
                  list_columns: tuple[str, ...] = ()) -> list[Finding]:
    """Every cell of a text frame (a CSV as read) that cannot be real data, as findings.

    Parameters
    ----------
    df : polars.DataFrame
        The table with every column as text (empty cells null).
    name : str
        Dataset name, for the findings.
    keys : list of str
        Each row's key (its id, or ``line <n>``).
    list_columns : tuple of str
        Columns whose cells are ``;``-separated lists.

    Returns
    -------
    list of Finding
        One per refused cell, naming dataset, key and column.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"id": ["a", "b"], "note": ["ok", "\\x1b]0;owned\\x07"],
    ...                    "ids": ["x;y", "x;;y"]})
    >>> [(f.key, f.column, f.check) for f in cell_findings(df, "t", ["a", "b"], ("ids",))]
    [('b', 'note', 'terminal_escape'), ('b', 'ids', 'empty_list_item')]
    """
    out: list[Finding] = []
    text_cols = [c for c, t in df.schema.items() if t == pl.String]
    for col in text_cols:
        s = df.get_column(col)
        taken = pl.Series([False] * df.height, dtype=pl.Boolean)
        for check, pattern, what, todo in TEXT_RULES:
            hits = s.str.contains(pattern).fill_null(False) & ~taken
            taken = taken | hits
            for i in hits.arg_true().to_list():
                out.append(Finding("error", name, keys[i], col, check, _shown(s[i]),
                                   f"{col} {what}: {todo}"))
        if col in list_columns:
            empty = s.str.split(";").list.eval(
                pl.element().str.strip_chars(_INVISIBLE_CHARS) == ""
            ).list.any().fill_null(False) & ~taken
            for i in empty.arg_true().to_list():
                out.append(Finding("error", name, keys[i], col, "empty_list_item", _shown(s[i]),
                                   f"{col} has an empty item in its ';'-separated list: "
                                   "remove the extra ';'"))
    return out


_INVISIBLE_CHARS = " \t\n\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"


def _shown(value: str) -> str:
    """A cell as a finding shows it: control and format characters as visible escapes."""
    from analytics.errors import printable

    return printable(value)[:200]
