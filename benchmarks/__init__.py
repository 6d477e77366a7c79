"""Benchmark suite: synthetic shipment ledgers, a timing harness, and every ratio with its target.

Run ``python -m benchmarks --quick`` (or ``make bench-quick``) for a run at 1e5 rows, with
memory measured at 1e7 where its target is set (about three minutes, and about 7 GiB of
memory), ``python -m benchmarks`` for 1e5, 1e6 and 1e7 rows,
and add ``--huge`` for the 1e8-row streaming run. Modules:

- :mod:`benchmarks.ledger`: seeded synthetic ledgers written as Parquet to ``benchmarks/.cache/``
- :mod:`benchmarks.harness`: medians with spread, ratios against targets, peak memory of a child
- :mod:`benchmarks.baselines`: the same work hand-written in polars, numpy and pandas
- :mod:`benchmarks.suite`: the benchmarks themselves, run against the real ``analytics`` functions
"""
