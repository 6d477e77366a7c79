"""Fleets in common units: H100 equivalents and dense BF16 FLOP/s of unit or chip counts.

- H100 equivalents: units x dense INT8 TOPS / 1979 (``h100e_int8``) or units x dense
  BF16 TFLOP/s / 989.4 (``h100e_bf16``); the basis is always in the column name.
- FLOP/s: units x dense BF16 TFLOP/s x 1e12 (``flops_bf16``).

Frame functions take a :class:`polars.DataFrame` or :class:`polars.LazyFrame` and return
the same kind; a LazyFrame stays lazy until the caller collects it.

>>> import polars as pl
>>> chips = pl.DataFrame({"chip_id": ["h100"], "int8_dense_tops": [1979.0]})
>>> h100e(pl.DataFrame({"chip_id": ["h100"], "units": [8]}), chips).item(0, "h100e_int8")
8.0
"""

from __future__ import annotations

import polars as pl

from analytics.rules import (
    TRIPLET_SUFFIXES,
    Frame,
    add_missing_columns,
    as_lazy,
    like,
)

#: H100 SXM reference figures of the two H100-equivalent conventions.
H100_INT8_TOPS = 1979.0
H100_BF16_TFLOPS = 989.4
H100E_BASES: dict[str, tuple[str, float]] = {
    "int8": ("int8_dense_tops", H100_INT8_TOPS),
    "bf16": ("bf16_dense_tflops", H100_BF16_TFLOPS),
}


def _count_stem(names: list[str]) -> str:
    stems = [
        s for s in ("units", "chip_count") if any(f"{s}{x}" in names for x in TRIPLET_SUFFIXES)
    ]
    if len(stems) != 1:
        raise ValueError(
            "expected one count triplet: units_low/units/units_high or "
            f"chip_count_low/chip_count/chip_count_high; found {stems or 'neither'}"
        )
    return stems[0]


def _chip_key(names: list[str]) -> pl.Expr:
    """``chip_id``, or the single item of ``chip_ids`` (null when it names 0 or 2+ chips)."""
    if "chip_id" in names:
        return pl.col("chip_id")
    if "chip_ids" in names:
        ids = pl.col("chip_ids")
        return pl.when(ids.list.len() == 1).then(ids.list.first())
    raise ValueError("expected a 'chip_id' (or 'chip_ids') column to look chips up by")


def _chip_figures(chips: Frame, cols: list[str]) -> pl.LazyFrame:
    lf, _ = as_lazy(chips)
    lf = add_missing_columns(lf, dict.fromkeys(cols, pl.Float64))
    return lf.select(
        pl.col("chip_id").alias("__chip"),
        *[pl.col(x).cast(pl.Float64).alias(f"__{x}") for x in cols],
    )


def h100e(units: Frame, chips: Frame, *, basis: str = "int8") -> Frame:
    """Add H100 equivalents of a unit or chip-count triplet, named by basis.

    ``basis="int8"``: units x ``int8_dense_tops`` / 1979 -> ``h100e_int8_low``,
    ``h100e_int8``, ``h100e_int8_high``. ``basis="bf16"``: units x
    ``bf16_dense_tflops`` / 989.4 -> ``h100e_bf16*``. Strict: a chip without the basis
    figure gives null (no fallback to another precision); so does a row whose chip is
    unknown or whose ``chip_ids`` names several chips.

    Parameters
    ----------
    units : DataFrame or LazyFrame
        Rows with ``chip_id`` (or a one-item ``chip_ids``) and any of
        ``units_low/units/units_high`` or ``chip_count_low/chip_count/chip_count_high``.
    chips : DataFrame or LazyFrame
        ``chips`` rows.
    basis : {"int8", "bf16"}

    Returns
    -------
    DataFrame or LazyFrame (the kind of ``units``)
        ``units`` with ``h100e_{basis}_low``, ``h100e_{basis}``, ``h100e_{basis}_high``
        (those of the count columns present).

    Examples
    --------
    >>> import polars as pl
    >>> chips = pl.DataFrame({"chip_id": ["h20"], "int8_dense_tops": [296.0]})
    >>> units = pl.DataFrame({"chip_id": ["h20"], "units": [1979]})
    >>> h100e(units, chips).item(0, "h100e_int8")
    296.0
    """
    if basis not in H100E_BASES:
        raise ValueError(f"basis must be one of {sorted(H100E_BASES)}, got {basis!r}")
    col, ref = H100E_BASES[basis]
    lf, lazy = as_lazy(units)
    names = lf.collect_schema().names()
    stem = _count_stem(names)
    lf = lf.with_columns(_chip_key(names).alias("__chip")).join(
        _chip_figures(chips, [col]), on="__chip", how="left", maintain_order="left"
    )
    peak = pl.col(f"__{col}")
    out = [
        (pl.col(f"{stem}{sfx}").cast(pl.Float64) * peak / ref).alias(f"h100e_{basis}{sfx}")
        for sfx in TRIPLET_SUFFIXES
        if f"{stem}{sfx}" in names
    ]
    return like(lf.with_columns(out).drop("__chip", f"__{col}"), lazy)


def fleet_compute(holdings: Frame, chips: Frame) -> Frame:
    """Dense BF16 FLOP/s and both H100e intervals of chip holdings.

    Adds ``flops_bf16_low/flops_bf16/flops_bf16_high`` (count x dense BF16 TFLOP/s x
    1e12, in FLOP/s), ``h100e_int8_low/_/_high`` and ``h100e_bf16_low/_/_high``. Rows
    without a ``chip_id`` (or with an unknown chip, or a missing basis figure) keep nulls.

    Parameters
    ----------
    holdings : DataFrame or LazyFrame
        ``lab_compute``-style rows: ``chip_id`` and ``chip_count_low/chip_count/
        chip_count_high`` (``units*`` also works).
    chips : DataFrame or LazyFrame

    Returns
    -------
    DataFrame or LazyFrame (the kind of ``holdings``)
        ``holdings`` with the nine columns named above.

    Examples
    --------
    >>> import polars as pl
    >>> chips = pl.DataFrame({"chip_id": ["h800"], "bf16_dense_tflops": [989.0],
    ...                       "int8_dense_tops": [1979.0]})
    >>> lc = pl.DataFrame({"chip_id": ["h800"], "chip_count": [2048]})
    >>> fleet_compute(lc, chips).select("flops_bf16", "h100e_int8").row(0)
    (2.025472e+18, 2048.0)
    """
    lf, lazy = as_lazy(holdings)
    names = lf.collect_schema().names()
    stem = _count_stem(names)
    lf = add_missing_columns(lf, {f"{stem}{s}": pl.Int64 for s in TRIPLET_SUFFIXES})
    lf = lf.with_columns(_chip_key(names).alias("__chip")).join(
        _chip_figures(chips, ["bf16_dense_tflops", "int8_dense_tops"]),
        on="__chip",
        how="left",
        maintain_order="left",
    )
    bf16, int8 = pl.col("__bf16_dense_tflops"), pl.col("__int8_dense_tops")
    measures = {
        "flops_bf16": bf16 * 1e12,
        "h100e_int8": int8 / H100_INT8_TOPS,
        "h100e_bf16": bf16 / H100_BF16_TFLOPS,
    }
    out = [
        (pl.col(f"{stem}{sfx}").cast(pl.Float64) * factor).alias(f"{name}{sfx}")
        for name, factor in measures.items()
        for sfx in TRIPLET_SUFFIXES
    ]
    lf = lf.with_columns(out).drop("__chip", "__bf16_dense_tflops", "__int8_dense_tops")
    return like(lf, lazy)
