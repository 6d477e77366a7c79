"""Child process for peak-memory runs: ``python -m benchmarks._child LEDGER_DIR [--streaming]``.

Imports everything first and records the resident memory reached by then, then loads
the ledger, validates it and aggregates it, and prints one JSON line with its own peak
resident memory (``VmHWM``, which sees polars' native allocations that ``tracemalloc``
cannot).
"""

from __future__ import annotations

import argparse
import json
import resource
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks._child")
    p.add_argument("root", type=Path)
    p.add_argument("--streaming", action="store_true")
    p.add_argument("--samples", type=int, default=100)
    args = p.parse_args(argv)

    import numpy  # noqa: F401
    import pandera.polars  # noqa: F401
    import polars as pl

    from benchmarks import api, baselines, ledger

    for name in ("analytics.schemas", "analytics.consistency", "analytics.uncertainty"):
        try:
            api.module(name)
        except api.NotAvailable:
            pass
    baseline = _rss()
    out: dict = {"baseline_bytes": baseline}
    if not args.streaming:
        tables = ledger.read_tables(args.root)
        out["table_bytes"] = int(sum(df.estimated_size() for df in tables.values()))
        out["rows"] = tables["shipments"].height
        with api.ledger_contract() as note:
            findings = api.validate(tables)
        agg, how = api.quarterly(tables["shipments"], n=args.samples)
        out |= {"findings": len(findings), "groups": agg.height, "contract_note": note,
                "aggregate": how}
    else:
        # beyond memory: only lazy queries on the streaming engine; nothing holds the ledger
        lazy = ledger.read_tables(args.root, lazy=True)
        shp = lazy["shipments"]
        out["rows"] = shp.select(pl.len()).collect(engine="streaming").item()
        contract = shp.select(baselines.contract_exprs()).collect(engine="streaming")
        out["contract_violations"] = int(sum(v for v in contract.row(0) if v))
        mod = api.module("analytics.consistency")
        frame = mod.findings_frame(lazy, release_date=api.RELEASE_DATE)
        out["findings"] = frame.height
        agg = baselines.closed_form_quarterly(shp)
        out["groups"] = agg.height
        out["aggregate"] = "closed-form group_by (sum_intervals collects its input)"
    out["peak_self_bytes"] = _rss()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
