"""Child process for peak-memory runs: ``python -m benchmarks._child LEDGER_DIR [--streaming]``.

Imports everything first and records the resident memory reached by then, then loads
the ledger, validates it (contracts slice by slice, then consistency) and aggregates it
(``analytics.quarterly``, closed form); with ``--streaming`` it never loads the ledger but
runs the same on LazyFrames over the Parquet parts (contract slices of
:data:`STREAM_CHUNK_ROWS`, the aggregate written with ``sink_parquet``), and prints one JSON
line with its own peak resident memory (``VmHWM``, which sees polars' native allocations
that ``tracemalloc`` cannot), overall and per stage.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
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


#: Rows per contract slice in the streaming run: small enough that a slice and pandera's
#: coerced copy of it stay far below the 4 GiB target.
STREAM_CHUNK_ROWS = 250_000


#: Ranges of quarters aggregated one after another in the streaming run.
AGGREGATE_PARTS = 4


def quarter_ranges(lf, parts: int) -> list:
    """Filters that split rows into ``parts`` runs of whole quarters (and undated rows)."""
    import datetime as dt

    import polars as pl

    col = pl.col("period_start")
    lo, hi = lf.select(col.min().alias("lo"), col.max().alias("hi")).collect().row(0)
    if lo is None:
        return [pl.lit(True)]
    starts = []
    day = dt.date(lo.year, 3 * ((lo.month - 1) // 3) + 1, 1)
    while day <= hi:
        starts.append(day)
        day = dt.date(day.year + (day.month == 10), day.month % 12 + 3 if day.month < 10 else 1, 1)
    size = -(-len(starts) // parts)
    groups = [starts[i:i + size] for i in range(0, len(starts), size)]
    ends = [g[-1] for g in groups]
    filters = []
    for group, last in zip(groups, ends, strict=True):
        end = dt.date(last.year + (last.month == 10), last.month + 3 if last.month < 10 else 1, 1)
        filters.append((col >= group[0]) & (col < end))
    return [*filters, col.is_null()]


def _reset_peak() -> bool:
    """Start a new high-water mark (Linux ``clear_refs``); ``False`` where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


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
        peaks: dict[str, int] = {}
        t = time.perf_counter()
        _reset_peak()
        findings = api.contracts(lazy, chunk_rows=STREAM_CHUNK_ROWS)  # slices + keys
        out["contract_s"] = time.perf_counter() - t
        out["contract_findings"] = len(findings)
        peaks["contracts"] = _rss()
        t = time.perf_counter()
        _reset_peak()
        frame = consistency.findings_frame(lazy, release_date=api.RELEASE_DATE)
        out["consistency_s"] = time.perf_counter() - t
        out["findings"] = len(findings) + frame.height
        peaks["consistency"] = _rss()
        del frame
        t = time.perf_counter()
        _reset_peak()
        target = Path(tempfile.mkdtemp(prefix="quarterly-"))
        try:
            # groups never span quarters: a few runs over ranges of quarters give the same
            # groups as one run, holding a fraction of the 9.7 million groups at a time
            for i, rows in enumerate(quarter_ranges(shp, AGGREGATE_PARTS)):
                quarterly_of(shp.filter(rows)).sink_parquet(target / f"part-{i}.parquet")
            out["groups"] = pl.scan_parquet(target / "*.parquet").select(pl.len()).collect().item()
        finally:
            shutil.rmtree(target, ignore_errors=True)
        out["aggregate_s"] = time.perf_counter() - t
        peaks["aggregate"] = _rss()
        out["stage_peak_bytes"] = peaks
        out["aggregate"] = (f"quarterly(LazyFrame, method='moments') over {AGGREGATE_PARTS} "
                            "ranges of quarters, sink_parquet")
    out["wall_s"] = time.perf_counter() - t0
    stages = out.get("stage_peak_bytes")
    out["peak_self_bytes"] = max([_rss(), *stages.values()]) if stages else _rss()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
