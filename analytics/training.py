"""Training arithmetic: days to train, the largest run in a time, the MFU a run implies.

``days = FLOP / (chips x dense BF16 peak x MFU) / 86400``. Any figure may be a
``(low, high)`` pair; the answer is then a pair. A chip is a BF16 TFLOP/s number, a
mapping or one-row frame with ``bf16_dense_tflops``, or a ``chip_id`` looked up in the
``chips`` frame the caller passes (never loaded behind the caller's back).

>>> round(training_days(3.3e24, 989.0, 2048, mfu=0.33), 1)
57.1
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import polars as pl

from analytics.rules import Frame, as_lazy

Interval = tuple[float, float]
SECONDS_PER_DAY = 86_400.0


def _days(flop: Any, count: Any, peak: Any, mfu: Any) -> Any:
    """Days to train: the one formula, for numbers and polars expressions alike."""
    return flop / (count * peak * mfu) / SECONDS_PER_DAY


def _mfu(flop: Any, gpu_hours: Any, peak: Any) -> Any:
    """MFU implied by ``flop`` over ``gpu_hours`` at ``peak`` FLOP/s per chip."""
    return flop / (gpu_hours * 3600.0 * peak)


def _bf16_peak(chip: Any, chips: Frame | None) -> float:
    """Dense BF16 TFLOP/s of ``chip``: a number, a mapping/row, a 1-row frame or a chip_id."""
    if isinstance(chip, bool):
        raise TypeError("chip must be a number, a mapping, a one-row frame or a chip_id")
    if isinstance(chip, int | float):
        value: Any = chip
    elif isinstance(chip, str):
        if chips is None:
            raise ValueError(
                f"chip {chip!r} is a chip_id: pass the chips frame it is looked up in "
                "(chips=analytics.load('chips', release=...)), or the chip's BF16 TFLOP/s"
            )
        lf, _ = as_lazy(chips)
        found = lf.filter(pl.col("chip_id") == chip).select("bf16_dense_tflops").collect()
        if found.height != 1:
            raise ValueError(f"chip_id {chip!r}: expected one row in chips, found {found.height}")
        value = found.item()
    elif isinstance(chip, pl.DataFrame | pl.LazyFrame):
        df = chip.collect() if isinstance(chip, pl.LazyFrame) else chip
        if df.height != 1:
            raise ValueError(f"expected a one-row chips frame, got {df.height} rows")
        value = df.row(0, named=True).get("bf16_dense_tflops")
    elif isinstance(chip, Mapping):
        value = chip.get("bf16_dense_tflops")
    else:
        raise TypeError(f"cannot read a BF16 peak from {type(chip).__name__}")
    if value is None or not value > 0:
        raise ValueError(f"bf16_dense_tflops must be a positive number, got {value!r}")
    return float(value)


def _interval(x: Any, name: str) -> Interval:
    if isinstance(x, tuple | list):
        if len(x) != 2:
            raise ValueError(f"{name}: expected a (low, high) pair, got {x!r}")
        lo, hi = float(x[0]), float(x[1])
    else:
        lo = hi = float(x)
    if not lo <= hi:
        raise ValueError(f"{name}: low {lo} is above high {hi}")
    if lo < 0:
        raise ValueError(f"{name}: expected non-negative values, got {x!r}")
    return lo, hi


def _evaluate(f: Any, **args: Any) -> float | Interval:
    """Apply the monotone ``f`` to every corner of the argument intervals; hull of the results."""
    is_range = any(isinstance(v, tuple | list) for v in args.values())
    pairs = {k: _interval(v, k) for k, v in args.items()}
    try:
        values = [
            f(**dict(zip(pairs, combo, strict=True)))
            for combo in itertools.product(*pairs.values())
        ]
    except ZeroDivisionError:
        raise ValueError(
            f"a divisor among {sorted(args)} is zero; expected positive values"
        ) from None
    return (min(values), max(values)) if is_range else values[0]


def training_days(
    flop: float | Interval,
    chip: Any,
    count: float | Interval,
    *,
    mfu: float | Interval,
    chips: Frame | None = None,
) -> float | Interval:
    """Days to train ``flop`` FLOP on ``count`` chips at ``mfu`` of dense BF16 peak.

    ``days = flop / (count x bf16_dense_tflops x 1e12 x mfu) / 86400``. Any of ``flop``,
    ``count`` and ``mfu`` may be a ``(low, high)`` pair; the result is then a
    ``(low, high)`` pair (ordered), else a float. ``chip`` is a BF16 TFLOP/s number, a
    mapping or one-row frame with ``bf16_dense_tflops``, or a ``chip_id`` looked up in
    ``chips`` (required then: a ``chip_id`` without ``chips`` raises ``ValueError``).

    Parameters
    ----------
    flop : float or (float, float)
        Training compute (FLOP).
    chip : float, mapping, one-row frame or str
        The chip or its dense BF16 TFLOP/s.
    count : float or (float, float)
        Number of chips.
    mfu : float or (float, float)
        Model FLOP utilisation (0 to 1).
    chips : DataFrame or LazyFrame, optional
        ``chips`` rows to look a ``chip_id`` up in (required then).

    Returns
    -------
    float or (float, float)
        A pair when any argument is a pair.

    Examples
    --------
    >>> round(training_days(3.3e24, {"bf16_dense_tflops": 989.0}, 2048, mfu=0.33), 1)
    57.1
    >>> [round(d) for d in training_days(3.3e24, 989.0, 2048, mfu=(0.2, 0.4))]
    [47, 94]
    """
    peak = _bf16_peak(chip, chips) * 1e12
    return _evaluate(
        lambda flop, count, mfu: _days(flop, count, peak, mfu),
        flop=flop,
        count=count,
        mfu=mfu,
    )


def max_training_flop(
    chip: Any,
    count: float | Interval,
    days: float | Interval,
    *,
    mfu: float | Interval,
    chips: Frame | None = None,
) -> float | Interval:
    """Largest training run (FLOP) ``count`` chips finish in ``days`` at ``mfu``.

    ``flop = count x bf16_dense_tflops x 1e12 x mfu x days x 86400``; pairs in, pair out,
    as in :func:`training_days`.

    Parameters
    ----------
    chip, count, mfu, chips
        As in :func:`training_days`.
    days : float or (float, float)
        Wall-clock days.

    Returns
    -------
    float or (float, float)
        The FLOP; a pair when any argument is a pair.

    Examples
    --------
    >>> f"{max_training_flop(989.0, 2048, 57.1, mfu=0.33):.2e}"
    '3.30e+24'
    """
    peak = _bf16_peak(chip, chips) * 1e12
    return _evaluate(
        lambda count, days, mfu: count * peak * mfu * days * SECONDS_PER_DAY,
        count=count,
        days=days,
        mfu=mfu,
    )


def implied_mfu(
    flop: float | Interval, chip: Any, gpu_hours: float | Interval, *, chips: Frame | None = None
) -> float | Interval:
    """Model FLOP utilisation implied by ``flop`` over ``gpu_hours`` of dense BF16 peak.

    ``mfu = flop / (gpu_hours x 3600 x bf16_dense_tflops x 1e12)``; pairs in, pair out.

    Parameters
    ----------
    flop, chip, chips
        As in :func:`training_days`.
    gpu_hours : float or (float, float)
        Accelerator-hours.

    Returns
    -------
    float or (float, float)
        The MFU (0 to 1); a pair when any argument is a pair.

    Examples
    --------
    >>> round(implied_mfu(3.3e24, {"bf16_dense_tflops": 989.0}, 2.788e6), 3)
    0.332
    """
    peak = _bf16_peak(chip, chips) * 1e12
    return _evaluate(
        lambda flop, gpu_hours: _mfu(flop, gpu_hours, peak), flop=flop, gpu_hours=gpu_hours
    )


def run_mfu(lab: Frame, chips: Frame, *, lab_id: str, name: str) -> pl.DataFrame:
    """The MFU a lab's training run implies, from its compute and accelerator-hours rows.

    Among the ``lab_compute`` rows of ``lab_id`` whose ``name`` matches the regular
    expression ``name``, the first with ``training_flop`` gives the compute and the first
    with ``gpu_hours`` and a ``chip_id`` gives the hours and the chip; the MFU is
    ``training_flop / (gpu_hours x 3600 x bf16_dense_tflops x 1e12)``.

    Parameters
    ----------
    lab : DataFrame or LazyFrame
        ``lab_compute`` rows, in the order to search (a release's order is by record_id).
    chips : DataFrame or LazyFrame
        ``chips`` rows of the same release.
    lab_id : str
        The lab, e.g. ``"deepseek"``.
    name : str
        Regular expression for the run's ``name``, e.g. ``r"^DeepSeek-V3( |$)"``.

    Returns
    -------
    DataFrame
        One row (none when either figure is missing): ``name, flop_record_id,
        hours_record_id, training_flop, gpu_hours, chip_id, mfu``.

    Examples
    --------
    >>> import polars as pl
    >>> lab = pl.DataFrame({"record_id": ["LC-1", "LC-2"], "lab_id": ["d", "d"],
    ...     "name": ["V3", "V3 run"], "training_flop": [3.3e24, None],
    ...     "gpu_hours": [None, 2.788e6], "chip_id": [None, "h800"]})
    >>> chips = pl.DataFrame({"chip_id": ["h800"], "bf16_dense_tflops": [989.0]})
    >>> round(run_mfu(lab, chips, lab_id="d", name="^V3").item(0, "mfu"), 3)
    0.332
    """
    rows = as_lazy(lab)[0].filter(
        (pl.col("lab_id") == lab_id) & pl.col("name").str.contains(name)
    )
    flop = rows.filter(pl.col("training_flop").is_not_null()).head(1).select(
        "name", pl.col("record_id").alias("flop_record_id"), "training_flop"
    )
    hours = rows.filter(pl.col("gpu_hours").is_not_null() & pl.col("chip_id").is_not_null())
    hours = hours.head(1).select(pl.col("record_id").alias("hours_record_id"), "gpu_hours",
                                 "chip_id")
    peak = pl.col("bf16_dense_tflops").cast(pl.Float64) * 1e12
    return (
        flop.join(hours, how="cross")
        .join(as_lazy(chips)[0].select("chip_id", "bf16_dense_tflops"), on="chip_id", how="left")
        .with_columns(_mfu(pl.col("training_flop"), pl.col("gpu_hours"), peak).alias("mfu"))
        .drop("bf16_dense_tflops")
        .collect()
    )


def training_days_grid(runs: Frame, hardware: Frame, chips: Frame, *, mfu: float) -> pl.DataFrame:
    """Days to train every run on every piece of hardware, at one MFU.

    ``days = training_flop / (chips x bf16_dense_tflops x 1e12 x mfu) / 86400`` for each
    pair (as :func:`training_days`); null where the chip or its BF16 figure is unknown.

    Parameters
    ----------
    runs : DataFrame or LazyFrame
        ``name``, ``record_id``, ``training_flop`` (e.g. ``lab_compute`` rows).
    hardware : DataFrame or LazyFrame
        ``hardware`` (a label), ``chip_id`` and ``chips`` (how many).
    chips : DataFrame or LazyFrame
        ``chips`` rows of the same release.
    mfu : float
        Model FLOP utilisation, e.g. from :func:`run_mfu`.

    Returns
    -------
    DataFrame
        Runs in order, each with every hardware row: ``run, record_id, training_flop,
        hardware, chip_id, chips, days``.

    Examples
    --------
    >>> import polars as pl
    >>> runs = pl.DataFrame({"name": ["V3"], "record_id": ["LC-1"], "training_flop": [3.3e24]})
    >>> hw = pl.DataFrame({"hardware": ["cluster"], "chip_id": ["h800"], "chips": [2048]})
    >>> chips = pl.DataFrame({"chip_id": ["h800"], "bf16_dense_tflops": [989.0]})
    >>> round(training_days_grid(runs, hw, chips, mfu=0.33).item(0, "days"), 1)
    57.1
    """
    peak = pl.col("bf16_dense_tflops").cast(pl.Float64) * 1e12
    days = _days(pl.col("training_flop").cast(pl.Float64), pl.col("chips"), peak, mfu)
    return (
        as_lazy(runs)[0]
        .select(pl.col("name").alias("run"), "record_id", pl.col("training_flop").cast(pl.Float64))
        .with_row_index("_run")
        .join(as_lazy(hardware)[0].select("hardware", "chip_id", "chips")
              .with_row_index("_hardware"), how="cross")
        .join(
            as_lazy(chips)[0].select("chip_id", "bf16_dense_tflops"),
            on="chip_id", how="left", maintain_order="left",
        )
        .with_columns(days.alias("days"))
        .sort("_run", "_hardware")  # the streaming engine does not keep a cross join's order
        .select("run", "record_id", "training_flop", "hardware", "chip_id",
                pl.col("chips").cast(pl.Int64), "days")
        .collect()
    )
