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

    Examples
    --------
    >>> round(training_days(3.3e24, {"bf16_dense_tflops": 989.0}, 2048, mfu=0.33), 1)
    57.1
    >>> [round(d) for d in training_days(3.3e24, 989.0, 2048, mfu=(0.2, 0.4))]
    [47, 94]
    """
    peak = _bf16_peak(chip, chips) * 1e12
    return _evaluate(
        lambda flop, count, mfu: flop / (count * peak * mfu) / SECONDS_PER_DAY,
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

    Examples
    --------
    >>> round(implied_mfu(3.3e24, {"bf16_dense_tflops": 989.0}, 2.788e6), 3)
    0.332
    """
    peak = _bf16_peak(chip, chips) * 1e12
    return _evaluate(
        lambda flop, gpu_hours: flop / (gpu_hours * 3600.0 * peak), flop=flop, gpu_hours=gpu_hours
    )
