"""Fleets in common units: H100 equivalents and dense BF16 FLOP/s of unit or chip counts.

- H100 equivalents on the 8-bit basis (``h100e_8bit``): units x the chip's dense 8-bit
  throughput, the larger of its FP8 TFLOP/s and INT8 TOP/s (Blackwell Ultra cut dense
  INT8, so its FP8 figure is its 8-bit figure), divided by the H100 row's own 8-bit
  figure in the same ``chips`` table.
- H100 equivalents on the BF16 basis (``h100e_bf16``): units x dense BF16 TFLOP/s / the
  H100 row's dense BF16 TFLOP/s.
- FLOP/s: units x dense BF16 TFLOP/s x 1e12 (``flops_bf16``).

The basis is always in the column name, and :data:`H100E_BASES` says it in words. The
reference is the ``chips`` row :data:`REFERENCE_CHIP`: the figure the table stores,
never a constant here.

Frame functions take a :class:`polars.DataFrame` or :class:`polars.LazyFrame` and return
the same kind; a LazyFrame stays lazy until the caller collects it.

>>> import polars as pl
>>> chips = pl.DataFrame({"chip_id": ["nvidia_h100_sxm5_80gb"], "fp8_dense_tflops": [1979.0],
...                       "int8_dense_tops": [1979.0], "bf16_dense_tflops": [989.0]})
>>> units = pl.DataFrame({"chip_id": ["nvidia_h100_sxm5_80gb"], "units": [8]})
>>> h100e(units, chips).item(0, "h100e_8bit")
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

#: The chip every H100 equivalent is measured against.
REFERENCE_CHIP = "nvidia_h100_sxm5_80gb"
#: Basis -> (chip columns whose larger value is the chip's figure, words for outputs).
H100E_BASES: dict[str, tuple[tuple[str, ...], str]] = {
    "8bit": (("fp8_dense_tflops", "int8_dense_tops"),
             "H100 equivalents, dense 8-bit (larger of FP8 and INT8) / the H100's"),
    "bf16": (("bf16_dense_tflops",), "H100 equivalents, dense BF16 / the H100's"),
}
_FIGURE_COLUMNS = ("bf16_dense_tflops", "fp8_dense_tflops", "int8_dense_tops")


def basis_figure(basis: str) -> pl.Expr:
    """A chip's figure on an H100e basis: the larger of the basis' dense throughputs.

    Parameters
    ----------
    basis : {"8bit", "bf16"}

    Returns
    -------
    Expr
        ``Float64``, null when the chip has none of the figures; the columns must exist.

    Examples
    --------
    >>> import polars as pl
    >>> b300 = pl.DataFrame({"fp8_dense_tflops": [4500.0], "int8_dense_tops": [157.5]})
    >>> b300.select(basis_figure("8bit")).item()
    4500.0
    """
    if basis not in H100E_BASES:
        hint = " (the 8-bit basis is '8bit': the larger of FP8 and INT8)" if basis == "int8" else ""
        raise ValueError(f"basis must be one of {sorted(H100E_BASES)}, got {basis!r}{hint}")
    cols = H100E_BASES[basis][0]
    return pl.max_horizontal([pl.col(c).cast(pl.Float64) for c in cols])


def reference_figure(chips: Frame, basis: str) -> float:
    """The H100 row's own figure on ``basis`` (:data:`REFERENCE_CHIP` in ``chips``).

    Parameters
    ----------
    chips : DataFrame or LazyFrame
        ``chips`` rows; must hold the reference row with the basis figure.
    basis : {"8bit", "bf16"}

    Returns
    -------
    float

    Examples
    --------
    >>> import polars as pl
    >>> chips = pl.DataFrame({"chip_id": ["nvidia_h100_sxm5_80gb"],
    ...                       "bf16_dense_tflops": [989.0]})
    >>> reference_figure(chips, "bf16")
    989.0
    """
    figure = basis_figure(basis)
    lf = add_missing_columns(as_lazy(chips)[0], dict.fromkeys(_FIGURE_COLUMNS, pl.Float64))
    row = lf.filter(pl.col("chip_id") == REFERENCE_CHIP).select(figure.alias("f")).collect()
    if row.height != 1 or row.item() is None or not row.item() > 0:
        raise ValueError(
            f"H100 equivalents need the {REFERENCE_CHIP} row with its {basis} figure in the "
            f"chips frame (found {row.height} row(s)); pass the release's chips table"
        )
    return float(row.item())


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


def _chip_figures(chips: Frame, bases: list[str]) -> pl.LazyFrame:
    """Per chip: ``__chip``, its BF16 TFLOP/s and its figure on each basis (``__fig_{b}``)."""
    lf = add_missing_columns(as_lazy(chips)[0], dict.fromkeys(_FIGURE_COLUMNS, pl.Float64))
    return lf.select(
        pl.col("chip_id").alias("__chip"),
        pl.col("bf16_dense_tflops").cast(pl.Float64).alias("__bf16"),
        *[basis_figure(b).alias(f"__fig_{b}") for b in bases],
    )


def h100e(units: Frame, chips: Frame, *, basis: str = "8bit") -> Frame:
    """Add H100 equivalents of a unit or chip-count triplet, named by basis.

    ``basis="8bit"``: units x the chip's dense 8-bit figure (larger of FP8 and INT8) /
    the H100 row's -> ``h100e_8bit_low``, ``h100e_8bit``, ``h100e_8bit_high``.
    ``basis="bf16"``: units x dense BF16 / the H100 row's -> ``h100e_bf16*``. A chip
    without the basis figure gives null (BF16 never stands in for 8-bit or back); so
    does a row whose chip is unknown or whose ``chip_ids`` names several chips.

    Parameters
    ----------
    units : DataFrame or LazyFrame
        Rows with ``chip_id`` (or a one-item ``chip_ids``) and any of
        ``units_low/units/units_high`` or ``chip_count_low/chip_count/chip_count_high``.
    chips : DataFrame or LazyFrame
        ``chips`` rows, including the H100 reference row (:data:`REFERENCE_CHIP`).
    basis : {"8bit", "bf16"}

    Returns
    -------
    DataFrame or LazyFrame (the kind of ``units``)
        ``units`` with ``h100e_{basis}_low``, ``h100e_{basis}``, ``h100e_{basis}_high``
        (those of the count columns present).

    Examples
    --------
    >>> import polars as pl
    >>> chips = pl.DataFrame({"chip_id": ["nvidia_h100_sxm5_80gb", "nvidia_b300_hgx"],
    ...     "bf16_dense_tflops": [989.0, 2250.0], "fp8_dense_tflops": [1979.0, 4500.0],
    ...     "int8_dense_tops": [1979.0, 157.5]})
    >>> units = pl.DataFrame({"chip_id": ["nvidia_b300_hgx"], "units": [1]})
    >>> round(h100e(units, chips).item(0, "h100e_8bit"), 3)
    2.274
    >>> round(h100e(units, chips, basis="bf16").item(0, "h100e_bf16"), 3)
    2.275
    """
    basis_figure(basis)  # checks the basis
    lf, lazy = as_lazy(units)
    names = lf.collect_schema().names()
    stem = _count_stem(names)
    ref = reference_figure(chips, basis)
    lf = lf.with_columns(_chip_key(names).alias("__chip")).join(
        _chip_figures(chips, [basis]).drop("__bf16"), on="__chip", how="left",
        maintain_order="left",
    )
    fig = pl.col(f"__fig_{basis}")
    out = [
        (pl.col(f"{stem}{sfx}").cast(pl.Float64) * fig / ref).alias(f"h100e_{basis}{sfx}")
        for sfx in TRIPLET_SUFFIXES
        if f"{stem}{sfx}" in names
    ]
    return like(lf.with_columns(out).drop("__chip", f"__fig_{basis}"), lazy)


def fleet_compute(holdings: Frame, chips: Frame) -> Frame:
    """Dense BF16 FLOP/s and H100e intervals on both bases of chip holdings.

    Adds ``flops_bf16_low/flops_bf16/flops_bf16_high`` (count x dense BF16 TFLOP/s x
    1e12, in FLOP/s), ``h100e_8bit_low/_/_high`` and ``h100e_bf16_low/_/_high`` (as
    :func:`h100e`). Rows without a ``chip_id`` (or with an unknown chip, or a missing
    basis figure) keep nulls.

    Parameters
    ----------
    holdings : DataFrame or LazyFrame
        ``lab_compute``-style rows: ``chip_id`` and ``chip_count_low/chip_count/
        chip_count_high`` (``units*`` also works).
    chips : DataFrame or LazyFrame
        ``chips`` rows, including the H100 reference row.

    Returns
    -------
    DataFrame or LazyFrame (the kind of ``holdings``)
        ``holdings`` with the nine columns named above.

    Examples
    --------
    >>> import polars as pl
    >>> chips = pl.DataFrame({"chip_id": ["nvidia_h100_sxm5_80gb", "h800"],
    ...     "bf16_dense_tflops": [989.0, 989.0], "int8_dense_tops": [1979.0, 1979.0]})
    >>> lc = pl.DataFrame({"chip_id": ["h800"], "chip_count": [2048]})
    >>> fleet_compute(lc, chips).select("flops_bf16", "h100e_8bit", "h100e_bf16").row(0)
    (2.025472e+18, 2048.0, 2048.0)
    """
    lf, lazy = as_lazy(holdings)
    names = lf.collect_schema().names()
    stem = _count_stem(names)
    lf = add_missing_columns(lf, {f"{stem}{s}": pl.Int64 for s in TRIPLET_SUFFIXES})
    refs = {b: reference_figure(chips, b) for b in H100E_BASES}
    lf = lf.with_columns(_chip_key(names).alias("__chip")).join(
        _chip_figures(chips, list(refs)), on="__chip", how="left", maintain_order="left"
    )
    measures = {"flops_bf16": (pl.col("__bf16"), 1e-12),
                **{f"h100e_{b}": (pl.col(f"__fig_{b}"), ref) for b, ref in refs.items()}}
    out = [
        (pl.col(f"{stem}{sfx}").cast(pl.Float64) * fig / ref).alias(f"{name}{sfx}")
        for name, (fig, ref) in measures.items()
        for sfx in TRIPLET_SUFFIXES
    ]
    drop = ["__chip", "__bf16", *(f"__fig_{b}" for b in H100E_BASES)]
    return like(lf.with_columns(out).drop(drop), lazy)
