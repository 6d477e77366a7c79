"""What every chart shares: the ``chip_supply`` theme, colour scales, frame helpers, labels.

Direct labels are placed here, in pixels, before Vega draws anything: each label tries
the right of its mark, then the left (then above and below where asked), and is left
out when every place would touch another label or mark. The charts therefore fix their
plot size and scale domains, so that the pixels computed here are the pixels drawn.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from analytics.compute import Frame
from analytics.palette import colours

THEME = "chip_supply"
# CJK first so that Chinese names render wherever a Noto CJK font is installed
FONT = '"Noto Sans CJK SC", "Noto Sans", "DejaVu Sans", sans-serif'
LABEL_SIZE = 10
_CHIP_SUFFIX = re.compile(r"^(\d+gb|sxm\d*|hgx|per|gpu|rumored)$")


def _theme() -> dict[str, Any]:
    return {
        "config": {
            "font": FONT,
            "view": {"continuousWidth": 520, "continuousHeight": 320, "stroke": None},
            "title": {"fontSize": 15, "anchor": "start", "subtitleColor": "#555", "offset": 8,
                      "subtitlePadding": 5},
            "axis": {
                "labelFontSize": 11,
                "titleFontSize": 12,
                "gridColor": "#e6e6e6",
                "labelOverlap": "greedy",
                "labelPadding": 4,
                "labelSeparation": 6,
            },
            "legend": {
                "labelFontSize": 11,
                "titleFontSize": 11,
                "orient": "top",
                "direction": "horizontal",
                "labelLimit": 200,
            },
            "text": {"fontSize": LABEL_SIZE},
        }
    }


def alt() -> Any:
    """altair, with the project theme registered (and enabled the first time)."""
    import altair

    if THEME not in altair.theme.names():
        altair.theme.register(THEME, enable=True)(_theme)
    return altair


def frame(df: Frame) -> pl.DataFrame:
    """A collected DataFrame of a DataFrame or LazyFrame."""
    if isinstance(df, pl.LazyFrame):
        return df.collect()
    if isinstance(df, pl.DataFrame):
        return df
    raise TypeError(f"expected a polars DataFrame or LazyFrame, got {type(df).__name__}")


def text_lists(df: pl.DataFrame) -> pl.DataFrame:
    """List columns as ``;``-joined text, so tooltips show them as text."""
    lists = [c for c, t in df.schema.items() if isinstance(t, pl.List)]
    return df.with_columns(
        pl.col(c).fill_null([]).list.eval(pl.element().cast(pl.String)).list.join(";")
        for c in lists
    )


#: Key of the chart's top-level ``usermeta`` that carries the rows it draws (see offer_data).
DATA_META = "chip_supply_data"


def offer_data(chart: Any, df: pl.DataFrame, *, drop: Sequence[str] = ()) -> Any:
    """Attach the rows a chart draws to its spec, so the report can offer them as CSV.

    The rows go into the spec's top-level ``usermeta`` (which Vega ignores) under
    :data:`DATA_META` as ``{"columns": [...], "rows": [[...], ...]}``: lists as
    ``;``-joined text, dates as ISO text, NaN as null. Columns in ``drop`` (layout
    helpers) are left out.

    Returns
    -------
    The same chart.
    """
    data = text_lists(df.drop([c for c in drop if c in df.columns]))
    data = data.with_columns(
        pl.col(pl.Date, pl.Datetime).cast(pl.String),
        pl.col(pl.Float32, pl.Float64).fill_nan(None),
    )
    chart.usermeta = {DATA_META: {"columns": data.columns, "rows": [list(r) for r in data.rows()]}}
    return chart


def need(df: pl.DataFrame, cols: list[str], what: str) -> None:
    """Raise a ValueError naming the columns of ``cols`` that ``df`` lacks."""
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs columns {missing}; got {df.columns}")


def with_missing(df: pl.DataFrame, dtypes: dict[str, pl.DataType | type]) -> pl.DataFrame:
    """``df`` with every column of ``dtypes`` it lacks added as nulls of that type."""
    return df.with_columns(
        pl.lit(None, dtype=t).alias(c) for c, t in dtypes.items() if c not in df.columns
    )


def colour(field: str, category: str, values: Iterable[str | None], **kw: Any) -> Any:
    """An ``alt.Color`` on ``field`` whose scale is the palette of ``category``."""
    domain, range_ = colours(category, values)
    return alt().Color(field, scale=alt().Scale(domain=domain, range=range_), **kw)


def tooltip(*fields: tuple[str, ...]) -> list[Any]:
    """Tooltip entries from ``(field:type, title)`` or ``(field:type, title, format)``."""
    a = alt()
    return [a.Tooltip(f[0], title=f[1], **({"format": f[2]} if len(f) > 2 else {})) for f in fields]


def chip_name(chip_id: str) -> str:
    """A short chip name from its id: the vendor and the memory or board suffixes dropped.

    >>> ids = ("nvidia_h200_sxm_141gb", "huawei_ascend_910c", "nvidia_h100_pcie_80gb")
    >>> [chip_name(c) for c in ids]
    ['H200', 'Ascend 910C', 'H100 PCIe']
    """
    words = [w for w in chip_id.split("_")[1:] if not _CHIP_SUFFIX.match(w)] or [chip_id]
    nice = {"pcie": "PCIe", "nvl": "NVL", "pro": "PRO"}
    return " ".join(
        nice.get(w) or (w.upper() if any(ch.isdigit() for ch in w) or len(w) <= 3 else w.title())
        for w in words
    )


def chip_names(ids: str | None) -> str:
    """``;``-joined chip ids as short names, ``", "``-joined (``""`` for none)."""
    return ", ".join(chip_name(c) for c in (ids or "").split(";") if c)


# --------------------------------------------------------------------------- label layout
@dataclass(frozen=True)
class Box:
    """A rectangle in chart pixels (y grows downwards)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def hits(self, other: Box, pad: float = 2.0) -> bool:
        """Whether the two boxes overlap or come closer than ``pad`` pixels."""
        return not (
            self.x1 + pad <= other.x0
            or other.x1 + pad <= self.x0
            or self.y1 + pad <= other.y0
            or other.y1 + pad <= self.y0
        )


def text_width(text: str, size: float = LABEL_SIZE) -> float:
    """A generous width estimate of ``text`` in pixels (wide glyphs count double)."""
    return sum(size * (1.0 if ord(ch) > 0x2E80 else 0.58) for ch in text) + 2


_PLACES = {  # name: (dx, dy, align) from the mark's centre
    "right": (7, 0, "left"),
    "left": (-7, 0, "right"),
    "above": (0, -14, "center"),
    "below": (0, 14, "center"),
    "above_left": (4, -14, "right"),
    "below_left": (4, 14, "right"),
}
_FROM = {"right": 1, "left": 0, "above_left": 1, "below_left": 1}  # 1: from x1, 0: from x0


def place_labels(
    anchors: Sequence[tuple[float, float, float, str]],
    *,
    width: float,
    height: float,
    blocked: Sequence[Box] = (),
    places: Sequence[str] = ("right", "left"),
    size: float = LABEL_SIZE,
) -> list[tuple[float, float, str, str] | None]:
    """Place each label ``(x0, x1, y, text)`` in priority order, or ``None`` where none fits.

    ``x0`` to ``x1`` is the span of marks the label names (one mark: ``x0 == x1``); a
    label goes right of ``x1``, left of ``x0``, above or below the span's middle, or
    above or below it ending at ``x1`` (``above_left``, ``below_left``).
    Returns, per anchor, the label's anchor pixel, alignment and place (a key of
    ``places``): the label stays inside
    ``width`` x ``height`` and keeps 2 px from every placed label and ``blocked`` box.

    >>> place_labels([(10, 10, 10, "H20"), (12, 12, 10, "H20 again")], width=200, height=40)
    [(17, 10, 'left', 'right'), None]
    """
    taken = list(blocked)
    placed: list[tuple[float, float, str, str] | None] = []
    for x0, x1, y, text in anchors:
        w, h = text_width(text, size), size * 1.2
        spot = None
        for name in places:
            dx, dy, align = _PLACES[name]
            x = {1: x1, 0: x0}.get(_FROM.get(name, -1), (x0 + x1) / 2) + dx
            left = {"left": x, "right": x - w, "center": x - w / 2}[align]
            box = Box(left, y + dy - h / 2, left + w, y + dy + h / 2)
            inside = box.x0 >= 0 and box.x1 <= width and box.y0 >= 0 and box.y1 <= height
            if inside and not any(box.hits(b) for b in taken):
                taken.append(box)
                spot = (x, y + dy, align, name)
                break
        placed.append(spot)
    return placed


def log_pixels(value: float, lo: float, hi: float, size: float) -> float:
    """Pixel offset of ``value`` on a log scale from ``lo`` to ``hi`` over ``size`` px."""
    return (math.log10(value) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * size


def log_value(pixel: float, lo: float, hi: float, size: float) -> float:
    """Inverse of :func:`log_pixels`."""
    return 10 ** (math.log10(lo) + pixel / size * (math.log10(hi) - math.log10(lo)))


def label_layers(labels: pl.DataFrame, x: Any, y: Any, **text: Any) -> list[Any]:
    """Text layers for placed labels (columns ``text`` and ``place``), one per place.

    ``x`` and ``y`` are the mark's position; each layer moves its labels off the mark
    by the offset :func:`place_labels` used for that place.
    """
    a = alt()
    return [
        a.Chart(labels.filter(pl.col("place") == place))
        .mark_text(align=align, baseline="middle", dx=dx, dy=dy, **text)
        .encode(x=x, y=y, text=a.Text("text:N"))
        for place, (dx, dy, align) in _PLACES.items()
        if labels.filter(pl.col("place") == place).height
    ]
