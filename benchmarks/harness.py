"""Timing harness: medians with spread, ratios against targets, peak memory of a child process.

Every measurement is a :class:`Timing` (median, min, max and interquartile range over
repeated runs); every comparison is a :class:`Ratio` printed with its target beside it
and ``OVER TARGET`` when it misses, never hidden. A benchmark that cannot run reports
:class:`Unavailable` with the reason instead of raising.

>>> t = Timing.of("x", [0.3, 0.1, 0.2])
>>> t.median, t.min, t.max
(0.2, 0.1, 0.3)
>>> r = Ratio("ours / polars", 2.6, target=2.5)
>>> r.over, r.status
(True, 'OVER TARGET')
>>> Ratio("pandas / ours", 3.4, target=3.0, at_least=True).status
'ok'
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

OVER = "OVER TARGET"


@dataclass(frozen=True)
class Timing:
    """Wall time of one task over repeated runs, in seconds."""

    name: str
    runs: tuple[float, ...]
    note: str = ""

    @classmethod
    def of(cls, name: str, runs: Sequence[float], *, note: str = "") -> Timing:
        return cls(name, tuple(float(r) for r in runs), note)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def min(self) -> float:
        return min(self.runs)

    @property
    def max(self) -> float:
        return max(self.runs)

    @property
    def iqr(self) -> float:
        """Interquartile range (0 with fewer than 4 runs: min and max show the spread)."""
        if len(self.runs) < 4:
            return 0.0
        q = statistics.quantiles(self.runs, n=4, method="inclusive")
        return q[2] - q[0]


@dataclass(frozen=True)
class Memory:
    """Peak resident memory of a child process, against a reference size, in bytes."""

    name: str
    peak: int
    baseline: int
    reference: int
    note: str = ""


@dataclass(frozen=True)
class Ratio:
    """``value`` = numerator / denominator, with its target.

    ``at_least=False`` means the ratio must stay at or below ``target`` (a slowdown);
    ``at_least=True`` means it must reach ``target`` (a speed-up).
    """

    name: str
    value: float
    target: float
    at_least: bool = False
    note: str = ""

    @property
    def over(self) -> bool:
        """True when the target is missed (also for a ratio that is not a finite number)."""
        if not math.isfinite(self.value):
            return True
        return self.value < self.target if self.at_least else self.value > self.target

    @property
    def status(self) -> str:
        return OVER if self.over else "ok"

    @property
    def target_text(self) -> str:
        return f"{'>=' if self.at_least else '<='} {self.target:g}x"


@dataclass(frozen=True)
class Unavailable:
    """A benchmark that could not run, and why."""

    name: str
    reason: str


Row = Timing | Memory | Ratio | Unavailable


@dataclass
class Results:
    """Everything one run measured, in the order measured."""

    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def extend(self, rows: Sequence[Row]) -> None:
        self.rows.extend(rows)

    @property
    def ratios(self) -> list[Ratio]:
        return [r for r in self.rows if isinstance(r, Ratio)]

    @property
    def over(self) -> list[Ratio]:
        return [r for r in self.ratios if r.over]

    def to_dict(self) -> dict:
        out = []
        for r in self.rows:
            d = {"kind": type(r).__name__.lower(), "name": r.name}
            if isinstance(r, Timing):
                d |= {"median_s": r.median, "min_s": r.min, "max_s": r.max, "iqr_s": r.iqr,
                      "runs": len(r.runs), "note": r.note}
            elif isinstance(r, Memory):
                d |= {"peak_bytes": r.peak, "baseline_bytes": r.baseline,
                      "reference_bytes": r.reference, "note": r.note}
            elif isinstance(r, Ratio):
                d |= {"value": r.value if math.isfinite(r.value) else None, "target": r.target,
                      "at_least": r.at_least, "status": r.status, "note": r.note}
            else:
                d |= {"reason": r.reason}
            out.append(d)
        return {"rows": out, "over_target": [r.name for r in self.over]}


def measure(fn: Callable[[], object], *, repeat: int, warmup: int = 1) -> list[float]:
    """Wall times of ``repeat`` calls of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return runs


def time_it(name: str, fn: Callable[[], object], *, repeat: int, warmup: int = 1,
            note: str = "") -> Timing:
    return Timing.of(name, measure(fn, repeat=repeat, warmup=warmup), note=note)


def time_pair(a: tuple[str, Callable[[], object]], b: tuple[str, Callable[[], object]], *,
              repeat: int, warmup: int = 1, note_a: str = "", note_b: str = "") -> tuple:
    """Time two tasks in alternation (a, b, a, b ...), so that load from other processes
    on the machine falls on both alike; returns their :class:`Timing`."""
    for _ in range(warmup):
        a[1]()
        b[1]()
    runs: tuple[list[float], list[float]] = ([], [])
    for _ in range(max(1, repeat)):
        for i, (_, fn) in enumerate((a, b)):
            t0 = time.perf_counter()
            fn()
            runs[i].append(time.perf_counter() - t0)
    return Timing.of(a[0], runs[0], note=note_a), Timing.of(b[0], runs[1], note=note_b)


def time_command(name: str, argv: Sequence[str], *, repeat: int, warmup: int = 1,
                 env: dict[str, str] | None = None, note: str = "") -> Timing:
    """Median wall time of a subprocess (start-up included); raises if it fails."""

    def run() -> None:
        proc = subprocess.run(argv, capture_output=True, env=env, check=False)
        if proc.returncode != 0:
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {tail[0]}")

    return time_it(name, run, repeat=repeat, warmup=warmup, note=note)


def ratio(name: str, num: Timing, den: Timing, target: float, *, at_least: bool = False,
          note: str = "") -> Ratio:
    """``num.median / den.median`` as a :class:`Ratio` (``nan`` when ``den`` is zero)."""
    value = num.median / den.median if den.median > 0 else float("nan")
    return Ratio(name, value, target, at_least=at_least, note=note)


def run_child(module: str, args: Sequence[str], *, env: dict[str, str] | None = None,
              timeout: float | None = None) -> tuple[dict, int]:
    """Run ``python -m module args`` and return its JSON output and its peak RSS in bytes.

    The peak comes from the kernel's accounting of that one child (``os.wait4``'s
    ``ru_maxrss``). On Linux it includes the parent's peak from before the fork, so a
    child that can should also report its own ``VmHWM`` (see :mod:`benchmarks._child`).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ if env is None else env)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        proc = subprocess.Popen([sys.executable, "-m", module, *args], stdout=out, stderr=err,
                                env=env, cwd=root)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                raise TimeoutError(f"{module} {' '.join(args)} took longer than {timeout} s")
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if proc.returncode != 0:
            tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{module} {' '.join(args)} exited {proc.returncode}: "
                               + " | ".join(tail))
    lines = [ln for ln in text.splitlines() if ln.startswith("{")]
    return (json.loads(lines[-1]) if lines else {}), usage.ru_maxrss * 1024


# --------------------------------------------------------------------------- printing
def _secs(x: float) -> str:
    if x >= 100:
        return f"{x:.0f} s"
    if x >= 1:
        return f"{x:.2f} s"
    if x >= 1e-3:
        return f"{x * 1e3:.1f} ms"
    return f"{x * 1e6:.0f} us"


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GiB"


def format_table(results: Results, *, header: str = "") -> str:
    """The run as a plain-text table: timings, memory, then every ratio with its target."""
    lines = [header] if header else []
    timings = [r for r in results.rows if isinstance(r, Timing)]
    if timings:
        w = max(len(t.name) for t in timings) + 2
        lines.append(f"{'timing':<{w}}{'median':>10}{'min':>10}{'max':>10}{'IQR':>10}{'runs':>6}")
        for t in timings:
            lines.append(
                f"{t.name:<{w}}{_secs(t.median):>10}{_secs(t.min):>10}{_secs(t.max):>10}"
                f"{_secs(t.iqr):>10}{len(t.runs):>6}" + (f"  {t.note}" if t.note else "")
            )
        lines.append("")
    mems = [r for r in results.rows if isinstance(r, Memory)]
    if mems:
        w = max(len(m.name) for m in mems) + 2
        lines.append(f"{'peak memory (child RSS)':<{w}}{'peak':>12}{'after imports':>15}"
                     f"{'table':>12}")
        for m in mems:
            lines.append(f"{m.name:<{w}}{_bytes(m.peak):>12}{_bytes(m.baseline):>15}"
                         f"{_bytes(m.reference):>12}" + (f"  {m.note}" if m.note else ""))
        lines.append("")
    ratios = results.ratios
    if ratios:
        w = max(len(r.name) for r in ratios) + 2
        lines.append(f"{'ratio':<{w}}{'value':>10}{'target':>12}  status")
        for r in ratios:
            value = f"{r.value:.2f}x" if math.isfinite(r.value) else "n/a"
            lines.append(f"{r.name:<{w}}{value:>10}{r.target_text:>12}  {r.status}"
                         + (f"  ({r.note})" if r.note else ""))
        lines.append("")
    missing = [r for r in results.rows if isinstance(r, Unavailable)]
    if missing:
        for u in missing:
            lines.append(f"{u.name}: not available: {u.reason}")
        lines.append("")
    over = results.over
    lines.append(
        f"{len(ratios)} ratios, {len(over)} {OVER}" + (": " + ", ".join(r.name for r in over)
                                                        if over else "")
    )
    return "\n".join(lines)


def fmt_rows(n: float) -> str:
    """``1e6`` style size label.

    >>> fmt_rows(1_000_000), fmt_rows(2_000)
    ('1e6', '2e3')
    """
    n = int(n)
    exp = len(str(n)) - 1
    mant = n / 10**exp
    return f"{mant:g}e{exp}" if mant != int(mant) else f"{int(mant)}e{exp}"


def parse_sizes(text: str) -> list[int]:
    """``"1e5,1e6"`` -> ``[100000, 1000000]``.

    >>> parse_sizes("1e3, 2e4")
    [1000, 20000]
    """
    return [int(float(s)) for s in text.split(",") if s.strip()]


def data_path(p: Path) -> str:
    """A path as shown in output: relative to the repository when inside it."""
    root = Path(__file__).resolve().parent.parent
    try:
        return str(Path(p).resolve().relative_to(root))
    except ValueError:
        return str(p)
