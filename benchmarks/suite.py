"""The benchmarks: each measures the real ``analytics`` functions against a lower bound.

Every benchmark takes a :class:`Config` and a :class:`~benchmarks.harness.Results` and
adds timings, memory and ratios to it; one that cannot run adds an
:class:`~benchmarks.harness.Unavailable` with the reason.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from analytics import paths
from analytics.execution import notebook_paths, read_notebook
from analytics.registry import resolve
from analytics.report import render
from benchmarks import api, baselines, ledger
from benchmarks.harness import (
    Memory,
    Ratio,
    Results,
    Timing,
    Unavailable,
    fmt_rows,
    ratio,
    run_child,
    time_command,
    time_it,
    time_pair,
)

GIB = 1024**3


class Skipped(Exception):
    """A benchmark that does not run in this configuration; the reason is printed."""


@dataclass
class Config:
    """What to run: sizes in rows, repeats, and the optional 1e8 streaming run."""

    sizes: list[int] = field(default_factory=lambda: [100_000, 1_000_000, 10_000_000])
    repeat: int = 5
    import_repeat: int = 10
    pandas_max_rows: int = 1_000_000
    memory_rows: int | None = None  # default: the largest size
    agg_samples: int = 100  # draws per row in the ledger aggregation
    interval_rows: int = 1_000
    interval_samples: int = 10_000
    huge_rows: int | None = None  # 1e8 with --huge
    seed: int = 0
    cache: Path = ledger.CACHE_DIR
    report: bool = True
    report_repeat: int = 2  # each render executes five notebooks

    @classmethod
    def quick(cls) -> Config:
        # memory at 1e7, where its target is set: below that the reader's and thread
        # pools' fixed ~80 MiB and the allocator's retention weigh as much as the table
        # (1e5: 2.3x, 1e6: 1.6x), and the ratio would measure them, not what scales with rows
        return cls(sizes=[100_000], repeat=3, import_repeat=5, pandas_max_rows=100_000,
                   report_repeat=1, memory_rows=10_000_000)

    @classmethod
    def tiny(cls, cache: Path) -> Config:
        """For the tests: every benchmark at 1e3 rows, one run each, no report."""
        return cls(sizes=[1_000], repeat=1, import_repeat=1, pandas_max_rows=1_000,
                   interval_rows=50, interval_samples=200, agg_samples=20, cache=cache,
                   report=False)

    def repeats(self, rows: int) -> int:
        return max(1, min(self.repeat, 3)) if rows >= 10_000_000 else self.repeat


def _tables(cfg: Config, rows: int) -> dict[str, pl.DataFrame]:
    root = ledger.ledger_dir(rows, seed=cfg.seed, cache=cfg.cache)
    return ledger.read_tables(root)


def _at(rows: int) -> str:
    return f"@{fmt_rows(rows)}"


# --------------------------------------------------------------------------- import
def bench_import(cfg: Config, res: Results) -> None:
    """``import analytics`` and ``chip-supply --help`` against ``import polars``."""
    py = sys.executable
    polars = res.add(time_command("import polars", [py, "-c", "import polars"],
                                  repeat=cfg.import_repeat))
    ours = res.add(time_command("import analytics", [py, "-c", "import analytics"],
                                repeat=cfg.import_repeat))
    res.add(ratio("import analytics / import polars", ours, polars, 1.5))
    first = res.add(time_command(
        "import analytics; analytics.load('approvals')",
        [py, "-c", "import analytics; analytics.load('approvals')"], repeat=cfg.import_repeat))
    res.add(ratio("first load / import polars", first, polars, 2.0))
    cli = Path(py).parent / "chip-supply"
    if not cli.exists():
        res.add(Unavailable("chip-supply --help", f"console script not installed at {cli.name}"))
        return
    try:
        helped = res.add(time_command("chip-supply --help", [str(cli), "--help"],
                                      repeat=cfg.import_repeat))
    except RuntimeError as exc:
        res.add(Unavailable("chip-supply --help", str(exc)))
        return
    res.add(ratio("chip-supply --help / import polars", helped, polars, 2.0))


# --------------------------------------------------------------------------- validate
def bench_validate(cfg: Config, res: Results) -> None:
    """Contracts + consistency against the same checks as hand-written polars expressions."""
    for rows in cfg.sizes:
        tables = _tables(cfg, rows)
        rep = cfg.repeats(rows)
        findings = api.validate(tables)
        extra = (f"{len(findings)} findings; contracts side by side (schemas.validate_all), "
                 "in slices above 1e6 rows")
        res.add(time_it(f"validate: contracts {_at(rows)}",
                        lambda t=tables: api.contracts(t), repeat=rep))
        res.add(time_it(f"validate: consistency {_at(rows)}",
                        lambda t=tables: api.consistency(t), repeat=rep))
        ours, hand = time_pair(
            (f"validate: contracts + consistency {_at(rows)}",
             lambda t=tables: api.validate(t)),
            (f"validate: hand-written polars {_at(rows)}",
             lambda t=tables: baselines.handwritten_checks(t, release_date=api.RELEASE_DATE)),
            repeat=rep, note_a=extra)
        res.extend([ours, hand])
        res.add(ratio(f"validate / hand-written {_at(rows)} [issue 3: 1e6]", ours, hand, 2.5))
        res.add(ratio(f"validate / hand-written {_at(rows)} [issue 6: 1e6, 1e7]", ours, hand, 2.0))
        shp = tables["shipments"]
        res.add(time_it(f"contract: hand-written polars {_at(rows)}",
                        lambda s=shp: baselines.handwritten_contract(s), repeat=rep,
                        note="where the time goes: compare with 'contracts'"))
        del tables, shp


def bench_release(cfg: Config, res: Results) -> None:
    """``validate`` of a shipped release (analytics.quality) against its row checks alone.

    The row checks are the contracts and the cross-dataset consistency, which decide
    validity; the rest (proof that CSV and Parquet agree, the great_expectations suite,
    drift against the previous release) is the overhead this ratio bounds. Contracts
    alone are shown for information: since they run as one query per table they are a
    small part of the checks, and a ratio to them would grow whenever they got faster.
    """
    release = api.latest_release()
    tables = api.release_tables(release)
    fn, how = api.release_validator()
    contracts = time_it(f"release {release}: contracts alone", lambda: api.contracts(tables),
                        repeat=cfg.repeat)
    checks = res.add(time_it(f"release {release}: contracts + consistency",
                             lambda: api.validate(tables), repeat=cfg.repeat))
    res.add(Timing.of(contracts.name, contracts.runs,
                      note=f"information: {contracts.median / checks.median:.0%} of the checks"))
    rep = max(1, min(cfg.repeat, 3))
    full = res.add(time_it(f"release {release}: validate ({how})", lambda: fn(release),
                           repeat=rep))
    res.add(ratio("release validate / contracts + consistency", full, checks, 5.0))
    with tempfile.TemporaryDirectory() as tmp:
        docs = time_it(f"release {release}: validate with --data-docs",
                       lambda: fn(release, data_docs=Path(tmp) / "docs"), repeat=rep)
    res.add(Timing.of(docs.name, docs.runs, note=f"information: rendering the Data Docs adds "
                                                  f"{docs.median - full.median:.2f} s"))
    bench_draft(cfg, res)


def bench_draft(cfg: Config, res: Results) -> None:
    """``chip-supply validate --draft`` against importing the libraries it needs."""
    py = sys.executable
    cli = Path(py).parent / "chip-supply"
    if not cli.exists() or not paths.draft_dir().is_dir():
        res.add(Unavailable("validate --draft", "console script or data/draft missing"))
        return
    rep = max(1, min(cfg.repeat, 3))
    libs = "import polars, pandera.polars, great_expectations"
    imports, ours = time_pair(
        ("import polars, pandera, great_expectations", lambda: _run([py, "-c", libs])),
        ("chip-supply validate --draft", lambda: _run([str(cli), "validate", "--draft"])),
        repeat=rep)
    res.extend([ours, imports])
    res.add(ratio("validate --draft / importing its libraries", ours, imports, 1.5))


def _run(argv: list[str]) -> None:
    """Run a command; its exit code may be 1 (findings), never 2 (could not run)."""
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv[-2:])} exited {done.returncode}: "
                           f"{done.stderr.strip()[:200]}")


# --------------------------------------------------------------------------- aggregate
def bench_aggregate(cfg: Config, res: Results) -> None:
    """Quarterly aggregation by buyer and chip with intervals; and the pandas pipeline.

    The ratios use ``quarterly(method="moments")``, the closed form for big data,
    against the same closed form written by hand in polars and in pandas. The Monte Carlo
    variant (``method="sample"``) against hand-written polars + numpy is printed as
    timings, for information, up to ``pandas_max_rows``.
    """
    n = cfg.agg_samples
    for rows in cfg.sizes:
        shp = _tables(cfg, rows)["shipments"]
        rep = cfg.repeats(rows)
        agg, how = api.quarterly(shp)
        ours, hand = time_pair(
            (f"aggregate: analytics {_at(rows)}", lambda s=shp: api.quarterly(s)),
            (f"aggregate: hand-written polars {_at(rows)}",
             lambda s=shp: baselines.closed_form_quarterly(s)),
            repeat=rep, note_a=f"{how}; {agg.height} groups")
        res.extend([ours, hand])
        res.add(ratio(f"aggregate / hand-written {_at(rows)}", ours, hand, 1.3))
        if rows > cfg.pandas_max_rows:
            continue
        mc, mc_hand = time_pair(
            (f"aggregate, Monte Carlo: analytics {_at(rows)}",
             lambda s=shp: api.quarterly(s, method="sample", n=n, seed=cfg.seed)),
            (f"aggregate, Monte Carlo: hand-written polars+numpy {_at(rows)}",
             lambda s=shp: baselines.handwritten_quarterly(s, n=n, seed=cfg.seed)),
            repeat=max(1, min(rep, 3)))
        info = f"information: {mc.median / mc_hand.median:.2f}x hand-written; {n} draws per row"
        res.extend([Timing.of(mc.name, mc.runs, note=info), mc_hand])
        pdf = baselines.to_pandas(shp)
        schema = baselines.pandas_schema()
        pipe, pan = time_pair(
            (f"pipeline: analytics contract + aggregate {_at(rows)}",
             lambda s=shp: (api.contracts({"shipments": s}), api.quarterly(s))),
            (f"pipeline: pandas + pandera.pandas {_at(rows)}",
             lambda p=pdf, sc=schema: baselines.pandas_pipeline(p, schema=sc)),
            repeat=rep)
        res.extend([pipe, pan])
        res.add(ratio(f"pandas pipeline / ours {_at(rows)} (speed-up)", pan, pipe, 3.0,
                      at_least=True))
        del pdf


# --------------------------------------------------------------------------- memory
def bench_memory(cfg: Config, res: Results) -> None:
    """Peak RSS of a child that validates and aggregates the ledger (1e7 rows, also in the
    quick run)."""
    rows = cfg.memory_rows or max(cfg.sizes)
    root = ledger.ledger_dir(rows, seed=cfg.seed, cache=cfg.cache)
    out, peak = run_child("benchmarks._child", [str(root)])
    peak = out.get("peak_self_bytes", peak)
    base, est = out["baseline_bytes"], out["table_bytes"]
    size = out.get("table_resident_bytes") or est
    res.add(Memory(f"validate + aggregate {_at(rows)}", peak, base, size,
                   note=f"'table' = resident size of the loaded tables (polars estimates "
                        f"{est / GIB:.2f} GiB); {out['findings']} findings, {out['groups']} "
                        f"groups; {out['wall_s']:.0f} s"))
    res.add(Ratio(f"peak memory above imports / table size {_at(rows)}", (peak - base) / size,
                  1.5, note=f"{(peak - base) / est:.2f}x polars' estimated_size; "
                            "target set at 1e7"))
    if not cfg.huge_rows:
        return
    rows = cfg.huge_rows
    t0 = time.perf_counter()
    root = ledger.ledger_dir(rows, seed=cfg.seed, cache=cfg.cache)
    gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    out, peak = run_child("benchmarks._child", [str(root), "--streaming"])
    peak = out.get("peak_self_bytes", peak)
    wall = time.perf_counter() - t0
    disk = sum(f.stat().st_size for f in root.rglob("*.parquet"))
    stages = out.get("stage_peak_bytes", {})
    per_stage = ", ".join(f"{k} {v / GIB:.2f} GiB" for k, v in stages.items())
    res.add(Timing.of(f"streaming validate + aggregate {_at(rows)}", [wall],
                      note=f"ledger found or generated in {gen:.0f} s; contracts "
                           f"{out['contract_s']:.0f} s, consistency {out['consistency_s']:.0f} s, "
                           f"aggregate {out['aggregate_s']:.0f} s; peak per stage: {per_stage}"))
    res.add(Memory(f"streaming validate + aggregate {_at(rows)}", peak, out["baseline_bytes"],
                   disk, note=f"'table' = Parquet on disk; {out['findings']} findings; "
                              f"{out['aggregate']}"))
    res.add(Ratio(f"streaming peak / 4 GiB {_at(rows)}", peak / (4 * GIB), 1.0))


# --------------------------------------------------------------------------- intervals
def bench_intervals(cfg: Config, res: Results) -> None:
    """``sum_intervals`` over 1e3 rows x 1e4 samples against plain numpy."""
    rows, n = cfg.interval_rows, cfg.interval_samples
    rng = np.random.default_rng(cfg.seed)
    central = rng.lognormal(8.0, 1.0, rows)
    df = pl.DataFrame({"x_low": central * 0.5, "x": central, "x_high": central * 2.0})
    lo, mid, hi = (df[c].to_numpy() for c in ("x_low", "x", "x_high"))
    label = f"{fmt_rows(rows)} rows x {fmt_rows(n)} samples"
    ours, ref = time_pair(
        (f"sum_intervals {label}", lambda: api.sum_intervals(df, "x", n=n, seed=cfg.seed)),
        (f"plain numpy {label}",
         lambda: baselines.numpy_sum_intervals(lo, mid, hi, n=n, seed=cfg.seed)),
        repeat=cfg.repeat)
    res.extend([ours, ref])
    res.add(ratio("sum_intervals / numpy", ours, ref, 1.5))


# --------------------------------------------------------------------------- report
def bench_report(cfg: Config, res: Results) -> None:
    """The rendered report against executing the same notebooks as plain Python scripts."""
    if not cfg.report:
        raise Skipped("skipped at this size (notebooks need a release)")
    release = api.latest_release()
    tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        rep = max(1, min(cfg.repeat, cfg.report_repeat))
        ours = res.add(time_it(
            f"report {release} (render)",
            lambda: render(release, out=tmp / "out", progress=False), repeat=rep,
            warmup=0))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    runs = [notebooks_as_scripts(release) for _ in range(rep)]
    scripts = res.add(Timing.of(f"notebooks as plain scripts {release}", runs))
    res.add(ratio("report / notebooks as scripts", ours, scripts, 2.0))


def notebooks_as_scripts(release: str = "latest", *, notebooks_dir: Path | None = None) -> float:
    """Seconds to run every notebook as a plain Python script, one after another.

    The baseline the report's wall time is compared with: the same code, no kernel,
    no conversion, no charts drawn.
    """
    import jupytext

    release = resolve(release)
    nb_dir = notebooks_dir if notebooks_dir is not None else paths.NOTEBOOKS_DIR
    with tempfile.TemporaryDirectory() as tmp:
        scripts = []
        for path in notebook_paths(nb_dir):
            nb, _ = read_notebook(path, release, setup=False)
            script = Path(tmp) / path.name
            script.write_text(jupytext.writes(nb, fmt="py:percent"), encoding="utf-8")
            scripts.append(script)
        start = time.perf_counter()
        for script in scripts:
            subprocess.run([sys.executable, str(script)], cwd=nb_dir, check=True,
                           stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


BENCHMARKS: dict[str, Callable[[Config, Results], None]] = {
    "import": bench_import,
    "validate": bench_validate,
    "release": bench_release,
    "aggregate": bench_aggregate,
    "memory": bench_memory,
    "intervals": bench_intervals,
    "report": bench_report,
    "stock": lambda cfg, res: __import__("benchmarks.stock").stock.bench_stock(cfg, res),
}


def run(cfg: Config, *, only: list[str] | None = None, log: Callable[[str], None] | None = None
        ) -> Results:
    """Run the chosen benchmarks (all by default); never raises for one that fails."""
    res = Results()
    for name, fn in BENCHMARKS.items():
        if only and name not in only:
            continue
        if log:
            log(f"[bench] {name} ...")
        t0 = time.perf_counter()
        try:
            fn(cfg, res)
        except Skipped as exc:
            res.add(Unavailable(name, str(exc)))
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the rest
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            res.add(Unavailable(name, f"failed: {type(exc).__name__}: {msg}"))
        if log:
            log(f"[bench] {name} done in {time.perf_counter() - t0:.1f} s")
    return res
