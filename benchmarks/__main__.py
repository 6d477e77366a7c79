"""``python -m benchmarks [--quick] [--sizes 1e5,1e6,1e7] [--repeat N] [--only NAME] [--huge]``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

from benchmarks.harness import format_table, parse_sizes


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time the package against hand-written polars, numpy and pandas; print "
        "every ratio with its target (OVER TARGET when missed).",
    )
    p.add_argument("--quick", action="store_true",
                   help="1e5 rows, fewer repeats, memory at 1e7: about three minutes")
    p.add_argument("--sizes", help="ledger sizes in rows, e.g. 1e5,1e6,1e7")
    p.add_argument("--repeat", type=int, help="timed runs per measurement (median reported)")
    p.add_argument("--only", help="comma-separated benchmarks: import, validate, release, "
                   "aggregate, memory, intervals, report")
    p.add_argument("--huge", action="store_true",
                   help="also validate and aggregate 1e8 rows on the streaming engine (slow)")
    p.add_argument("--samples", type=int, help="draws per row in the ledger aggregation")
    p.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    p.add_argument("--cache", type=Path, help="where ledgers are written (benchmarks/.cache/)")
    p.add_argument("--fail-over", action="store_true",
                   help="exit 1 when any ratio is over its target")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from benchmarks import suite

    cfg = suite.Config.quick() if args.quick else suite.Config()
    if args.sizes:
        cfg.sizes = parse_sizes(args.sizes)
    if args.repeat:
        cfg.repeat = args.repeat
        cfg.import_repeat = max(args.repeat, cfg.import_repeat if not args.quick else 1)
    if args.samples:
        cfg.agg_samples = args.samples
    if args.cache:
        cfg.cache = args.cache
    if args.huge:
        cfg.huge_rows = 100_000_000
    only = [s.strip() for s in args.only.split(",")] if args.only else None
    unknown = set(only or ()) - set(suite.BENCHMARKS)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; "
              f"choose from {', '.join(suite.BENCHMARKS)}", file=sys.stderr)
        return 2

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    results = suite.run(cfg, only=only, log=log)
    import polars as pl

    header = (
        f"chip-supply benchmarks: {'quick' if args.quick else 'full'} run, sizes "
        f"{','.join(f'{s:.0e}' for s in cfg.sizes)}, {cfg.repeat} repeats; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, polars {pl.__version__}\n"
    )
    print(format_table(results, header=header))
    if args.json:
        args.json.write_text(json.dumps(results.to_dict(), indent=2))
    return 1 if args.fail_over and results.over else 0


if __name__ == "__main__":
    raise SystemExit(main())
