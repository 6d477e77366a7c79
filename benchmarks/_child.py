"""Child process for peak-memory runs: ``python -m benchmarks._child LEDGER_DIR [--streaming]``.

Imports everything first and records the resident memory reached by then, then loads
the ledger, validates it (contracts slice by slice, then consistency) and aggregates it
(``analytics.quarterly``, closed form); with ``--streaming`` it never loads the ledger but
runs the same on LazyFrames over the Parquet parts, and prints one JSON line with its own peak
resident memory (``VmHWM``, which sees polars' native allocations that ``tracemalloc``
cannot).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path


def _rss() -> int:
    """High-water mark of this process's own resident memory, in bytes.

    ``VmHWM`` belongs to the address space created at ``exec``; ``ru_maxrss`` would also
    carry the parent's peak from before the fork, which is wrong when the parent is big.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _resident() -> int:
    """Current resident memory of this process, in bytes."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return _rss()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks._child")
    p.add_argument("root", type=Path)
    p.add_argument("--streaming", action="store_true")
    args = p.parse_args(argv)

    import numpy  # noqa: F401
    import pandera.polars  # noqa: F401
    import polars as pl

    from analytics import consistency
    from analytics.aggregation import quarterly as quarterly_of
    from benchmarks import api, ledger
    baseline = _rss()
    out: dict = {"baseline_bytes": baseline}
    t0 = time.perf_counter()
    if not args.streaming:
        tables = ledger.read_tables(args.root)
        # the table's in-memory size, two ways: what it occupies once loaded (resident
        # memory added by reading it), and polars' estimate of its buffers
        out["table_resident_bytes"] = _resident() - baseline
        out["table_bytes"] = int(sum(df.estimated_size() for df in tables.values()))
        out["rows"] = tables["shipments"].height
        findings = api.validate(tables)  # contracts slice by slice, then consistency
        agg, how = api.quarterly(tables["shipments"])  # closed form (moments)
        out |= {"findings": len(findings), "groups": agg.height, "aggregate": how}
    else:
        # beyond memory: LazyFrames only; nothing ever holds the ledger
        lazy = ledger.read_tables(args.root, lazy=True)
        shp = lazy["shipments"]
        out["rows"] = shp.select(pl.len()).collect(engine="streaming").item()
        t = time.perf_counter()
        findings = api.contracts(lazy)  # schemas.validate_lazy: slices + keys across them
        out["contract_s"] = time.perf_counter() - t
        out["contract_findings"] = len(findings)
        t = time.perf_counter()
        frame = consistency.findings_frame(lazy, release_date=api.RELEASE_DATE)
        out["consistency_s"] = time.perf_counter() - t
        out["findings"] = len(findings) + frame.height
        t = time.perf_counter()
        agg = quarterly_of(shp).collect(engine="streaming")
        out["aggregate_s"] = time.perf_counter() - t
        out["groups"] = agg.height
        out["aggregate"] = "quarterly(LazyFrame, method='moments'), streaming engine"
    out["wall_s"] = time.perf_counter() - t0
    out["peak_self_bytes"] = _rss()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
