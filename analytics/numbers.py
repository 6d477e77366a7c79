"""Find a number in a quote the way documents write it.

Numbers are matched as documents write them: ``400,000``, ``400k``, ``0.4 million``,
``$12bn``, ``3.3e24``, ``3.3 x 10^24``, ``40万``, ``six years``, and at any power of 1000
(``4.8 TB/s`` states ``4,800`` GB/s; ``4.6 PF`` states ``4,600`` TFLOPS), within 1.5%; "no",
"none" and "not ... any" state zero.

>>> quotes = {"more than 400,000 H200": 400_000, "4.8 TB/s": 4_800, "$12bn": 12e9,
...           "about 3.3e24 FLOP": 3.3e24, "40万颗": 400_000, "1,979 teraFLOPS": 989}
>>> [stated_in(quote, figure) for quote, figure in quotes.items()]
[True, True, True, True, True, False]
"""

from __future__ import annotations

import math
import re

#: Largest relative difference between a quoted number and a figure still counted as equal.
TOLERANCE = 0.015

_MULTIPLIERS = {
    "thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "mil": 1e6,
    "billion": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12, "t": 1e12,
    "千": 1e3, "万": 1e4, "萬": 1e4, "亿": 1e8, "億": 1e8,
}
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a": 1, "an": 1,
          "half a": 0.5, "dozen": 12}
_NUMBER = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s*(?:e|E)(?P<exp>[+-]?\d+)"
    r"|\s*(?:x|×|\*)\s*10\s*(?:\^|\*\*)?\s*(?P<exp10>[+-]?\d+)"
    r"|\s*(?P<mult>thousand|million|billion|trillion|mn|bn|tn|mil|[kKmMbBtT](?![a-zA-Z])"
    r"|[千万萬亿億]))?"
)
_WORD_NUMBER = re.compile(
    r"\b(?P<word>half a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|an?)"
    r"\s+(?P<mult>thousand|million|billion|trillion)\b",
    re.IGNORECASE,
)
#: A number written as a word on its own ("six years", "two of its processors").
_BARE_WORD = re.compile(
    r"\b(?P<word>one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen)\b",
    re.IGNORECASE,
)
#: Words that state zero: "no H20 sales", "none so far", "not generated any revenue".
_ZERO = re.compile(r"\b(?:zero|none|nil|no)\b|\bnot\b(?:\W+\w+){0,4}?\W+any\b",
                   re.IGNORECASE)


def numbers_in(text: str) -> list[float]:
    """Every number a text states, with its multiplier applied.

    Parameters
    ----------
    text : str
        A quote.

    Returns
    -------
    list of float
        The numbers in order of appearance; a multiplied number also appears bare
        (``"12bn"`` gives ``12e9`` and ``12``), so a figure stored in another unit still
        matches.

    Examples
    --------
    >>> numbers_in("more than 400,000 chips, about $12bn, 3.3e24 FLOP")
    [400000.0, 12000000000.0, 12.0, 3.3e+24]
    >>> numbers_in("two million units; six years")
    [2000000.0, 2.0, 6.0]
    >>> numbers_in("There were no H20 sales")
    [20.0, 0.0]
    """
    out: list[float] = []
    for m in _NUMBER.finditer(text or ""):
        value = float(m["num"].replace(",", ""))
        if m["exp"] or m["exp10"]:
            out.append(value * 10.0 ** int(m["exp"] or m["exp10"]))
            continue
        mult = m["mult"]
        if mult:
            factor = _MULTIPLIERS.get(mult) or _MULTIPLIERS.get(mult.lower(), 1.0)
            out += [value * factor, value]
        else:
            out.append(value)
    for m in _WORD_NUMBER.finditer(text or ""):
        out.append(_WORDS[m["word"].lower()] * _MULTIPLIERS[m["mult"].lower()])
    out += [float(_WORDS[m["word"].lower()]) for m in _BARE_WORD.finditer(text or "")]
    if _ZERO.search(text or ""):
        out.append(0.0)
    return out


def stated_in(text: str, figure: float, *, tolerance: float = TOLERANCE) -> bool:
    """Whether a text states ``figure``, at any power of 1000, within ``tolerance``.

    Parameters
    ----------
    text : str
        A quote.
    figure : float
        The figure a table stores.
    tolerance : float, default 0.015
        Largest relative difference still counted as the same number.

    Returns
    -------
    bool

    Examples
    --------
    >>> stated_in("4.6 PF of FP8", 4600.0)
    True
    >>> stated_in("4.6 PF of FP8", 5033.2)
    False
    """
    if figure is None or (isinstance(figure, float) and math.isnan(figure)):
        return False
    target = abs(float(figure))
    if target == 0:
        return any(n == 0 for n in numbers_in(text))
    for n in numbers_in(text):
        if n == 0:
            continue
        k = round(math.log(target / abs(n), 1000))
        if abs(abs(n) * 1000.0**k - target) <= tolerance * target:
            return True
    return False
