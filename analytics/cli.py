"""The ``chip-supply`` command: list, show, cut, compare, validate and report releases.

All argument handling lives here; the library modules take plain values. Only the
standard library and the vocabularies are imported at the top; each subcommand imports
what it needs when it runs, so ``chip-supply --help`` answers without loading polars.
Exit codes: 0 success, 1 the data is invalid, 2 the command could not run, 130
interrupted (Ctrl-C). No Python traceback reaches the user: every error is one line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from analytics import paths
from analytics.errors import (
    CannotValidateError,
    ChipSupplyError,
    DataValidationError,
    ReleaseNotFoundError,
    printable,
)
from analytics.registry import RELEASE_ID, exact, releases
from analytics.vocab import DATASETS as DATASET_NAMES


# --------------------------------------------------------------------------- subcommands
def cmd_releases(args: argparse.Namespace) -> int:
    import polars as pl

    from analytics.datasets import scan
    from analytics.release import Release

    known = releases()
    if not known:
        print("no releases yet; cut one with `chip-supply release DATE`")
        return 0
    header = ["release", *DATASET_NAMES]
    rows, missing = [], []
    for r in known:
        try:
            shipped = Release.open(r).names  # "-": a dataset added after the release
            counts = [str(scan(n, r).select(pl.len()).collect().item()) if n in shipped else "-"
                      for n in DATASET_NAMES]
        except ReleaseNotFoundError as exc:
            counts = ["?"] * len(DATASET_NAMES)
            missing.append(f"{r}: {exc}")
        rows.append([r + (" (latest)" if r == known[-1] else ""), *counts])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = zip(row, widths, strict=True)
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(cells)))
    for line in missing:
        print(f"not available: {line}", file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from analytics import terminal
    from analytics.datasets import load
    from analytics.formatting import csv_text

    df = load(args.dataset, release=args.release)
    columns = terminal.split_columns(args.columns)
    if columns:
        unknown = [c for c in columns if c not in df.columns]
        if unknown:
            raise ChipSupplyError(f"no column {', '.join(unknown)} in {args.dataset}; "
                                  f"columns: {', '.join(df.columns)}")
        df = df.select(columns)
    if args.limit is not None:
        df = df.head(args.limit)
    if args.format == "json":
        print(df.write_json())
    elif args.format == "csv":
        sys.stdout.write(csv_text(df))
    else:
        print(terminal.show_text(df, args.dataset, all_columns=args.all or bool(columns)))
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from analytics.publish import cut_release

    print(cut_release(args.date, draft=args.draft, progress=True, revision=args.revision,
                      reason=args.reason))
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from analytics.datasets import diff

    d = diff(args.dataset, args.old, args.new)
    if args.format == "json":
        doc = {
            "dataset": d.name, "old": d.old, "new": d.new, "summary": d.summary(),
            "added": list(d.added), "removed": list(d.removed),
            "changed": {k: {c: {"old": o, "new": n} for c, (o, n) in cols.items()}
                        for k, cols in d.changed.items()},
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False, default=str))
    else:
        from analytics import terminal
        from analytics.datasets import load

        old, new = (load(args.dataset, release=r) for r in (args.old, args.new))
        print(terminal.diff_text(d, old, new))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``chip-supply validate``: 0 no error, 1 invalid data, 2 could not run."""
    from analytics import quality

    docs = Path(args.data_docs) if args.data_docs else None
    try:
        if docs is not None:
            writable_folder(docs, "--data-docs")
        jobs = _validation_jobs(args)
        results = []
        for kind, what in jobs:
            target = docs / what if docs is not None and len(jobs) > 1 else docs
            if kind == "folder":
                results.append(quality.validate_folder(what, data_docs=target))
            elif kind == "draft":
                results.append(quality.validate_draft(data_docs=target))
            else:
                results.append(quality.validate_release(what, data_docs=target))
        if docs is not None and len(jobs) > 1:
            quality.data_docs_index(docs, results)
    except (ChipSupplyError, OSError) as exc:
        print(printable(f"error: cannot validate: {_one_line(exc)}"), file=sys.stderr)
        return 2
    _print_results(results, fmt=args.format, docs=docs)
    invalid = any(not r.valid for r in results)
    if args.strict:
        invalid = invalid or any(r.warnings for r in results)
    return 1 if invalid else 0


def _validation_jobs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """What ``validate`` was asked to check: (kind, folder or release id) pairs."""
    if args.path:
        return [("folder", str(args.path))]
    if args.draft:
        return [("draft", "draft")]
    if args.release not in (None, "all", "latest") and not RELEASE_ID.match(
            args.release.removesuffix(".1")):
        raise CannotValidateError(
            f"--release {args.release[:80]!r} is not a release id (YYYY-MM-DD, or YYYY-MM-DD.N "
            "for a revision), 'latest' or 'all'; to validate a folder, give it as PATH")
    if args.release == "all":
        jobs = [("release", exact(r)) for r in releases()]  # a first revision in full
        if not jobs:
            raise CannotValidateError("no release found: data/registry.txt lists none")
        return jobs
    return [("release", args.release or "latest")]


def _print_results(results: list, *, fmt: str, docs: Path | None) -> None:
    if fmt == "json":
        if len(results) == 1:
            print(results[0].to_json())
            return
        doc = {
            "valid": all(r.valid for r in results),
            "release": "all",
            "findings": [{**f.to_dict(), "release": r.release} for r in results
                         for f in r.findings],
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    print("\n\n".join(r.to_text() for r in results))
    if docs is not None:
        print(f"Data Docs: {docs / 'index.html'}")


def cmd_report(args: argparse.Namespace) -> int:
    """``chip-supply report``: render and print the index; a failure exits 2."""
    from analytics.release import Release
    from analytics.report import render

    if args.out:
        writable_folder(Path(args.out), "--out")
    Release.open(args.release or "latest")  # a missing or altered release stops here
    out = render(args.release or "latest", out=args.out, jobs=args.jobs)
    print(out / "index.html")
    return 0


def writable_folder(path: Path, option: str) -> None:
    """Refuse an output folder that is a file or that cannot be created or written."""
    if path.exists() and not path.is_dir():
        raise ChipSupplyError(f"{option} {path} is a file, not a folder")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ChipSupplyError(f"{option} {path}: {existing} cannot be written to")


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value
    parse.__name__ = "count"
    return parse


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split("\n")) or type(exc).__name__


# --------------------------------------------------------------------------- parser
DIFF_HELP = "compare a dataset between two releases"
DIFF_DESCRIPTION = ("Rows added, removed and changed (by primary key) between two releases of "
                    "a dataset: what each added and removed row says, and the old and new "
                    "values of each changed column side by side.")
DIFF_EXAMPLES = ("  chip-supply diff approvals 2026-01-30 2026-11-29\n"
                 "  chip-supply diff chips 2026-11-29 draft --format json\n")


def _sub(subs, name: str, func, help: str, description: str, examples: str):
    p = subs.add_parser(name, help=help, description=description,
                        epilog="examples:\n" + examples,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=func)
    return p


def build_parser() -> argparse.ArgumentParser:
    from analytics import __version__

    parser = argparse.ArgumentParser(
        prog="chip-supply",
        description="Sourced, versioned datasets on AI-chip supply into China: list, show, "
                    "compare and validate releases, cut new ones, render the report.",
        epilog="Data root: $CHIP_SUPPLY_DATA_DIR (default: the repository's data/). Releases "
               "missing locally are downloaded from $CHIP_SUPPLY_DATA_URL into "
               "$CHIP_SUPPLY_CACHE_DIR. Run `chip-supply COMMAND --help` for details.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _reading_commands(subs)
    _writing_commands(subs)
    return parser


def _reading_commands(subs) -> None:
    """``releases``, ``show`` and ``diff``: they read releases and change nothing."""

    _sub(subs, "releases", cmd_releases, "list releases with row counts per dataset",
         "List every release (local or in data/registry.txt) with its row count per dataset.",
         "  chip-supply releases\n")

    p = _sub(subs, "show", cmd_show, "print one dataset of a release",
             "Print one dataset of a release (validated) as a table, CSV or JSON. The table "
             "shows the key columns, fits the terminal's width (COLUMNS) and shows control "
             "characters in the data as escapes. CSV output "
             "prefixes cells that start with = + - @ with a single quote, so that a "
             "spreadsheet does not run them as formulas.",
             "  chip-supply show approvals\n"
             "  chip-supply show chips --release 2026-01-30 --columns chip_id,model --limit 5\n"
             "  chip-supply show chips --all\n"
             "  chip-supply show shipments --format csv > shipments.csv\n")
    p.add_argument("dataset", choices=DATASET_NAMES, metavar="DATASET",
                   help="one of: " + ", ".join(DATASET_NAMES))
    p.add_argument("--release", default="latest",
                   help="release date, 'latest' (default) or 'draft'")
    p.add_argument("--columns", nargs="+", metavar="COLUMN",
                   help="only these columns (a,b or a b); the table shows the key columns "
                        "by default")
    p.add_argument("--all", action="store_true", help="every column in the table")
    p.add_argument("--limit", type=_count(0), metavar="N",
                   help="only the first N rows (by key); N >= 0")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    p = _sub(subs, "diff", cmd_diff, DIFF_HELP, DIFF_DESCRIPTION, DIFF_EXAMPLES)
    p.add_argument("dataset", choices=DATASET_NAMES, metavar="DATASET")
    p.add_argument("old", metavar="OLD", help="older release date (or 'draft')")
    p.add_argument("new", metavar="NEW", help="newer release date (or 'draft', 'latest')")
    p.add_argument("--format", choices=("text", "json"), default="text")


def _writing_commands(subs) -> None:
    """``release``, ``validate`` and ``report``: they cut, check or render."""
    p = _sub(subs, "release", cmd_release, "cut a new release from the draft",
             "Cut release DATE from the draft: validate it, keep what was public on DATE, "
             "write CSV, Parquet and datapackage.json into data/releases/DATE/, register the "
             "manifest's hash in data/registry.txt and append the diff to data/CHANGELOG.md. "
             "With --revision, cut the next revision of the release dated DATE (DATE.2, "
             "DATE.3 ...) from the draft as of DATE; the earlier revision stays loadable by "
             "its full id. Exit 1 with every finding when the draft is invalid; exit 2 when "
             "DATE cannot be a knowledge date (malformed, in the future, before every "
             "source), is released already or older than the latest release. One cut runs "
             "at a time; nothing is left behind on failure, and a cut that was killed is "
             "finished or undone by the next one.",
             "  chip-supply release 2026-11-29\n"
             "  chip-supply release 2026-12-01 --draft path/to/draft\n"
             "  chip-supply release 2026-01-30 --revision --reason \"dates as known that day\"\n")
    p.add_argument("date", metavar="DATE", help="release date YYYY-MM-DD")
    p.add_argument("--draft", metavar="PATH", help="draft folder (default: data/draft)")
    p.add_argument("--revision", action="store_true",
                   help="cut the next revision of the release dated DATE")
    p.add_argument("--reason", metavar="TEXT", help="what the revision corrects and why")

    p = _sub(subs, "validate", cmd_validate, "validate a release, the draft or a folder",
             "Run the contracts, the cross-dataset checks and the data-quality suite on a "
             "release, on the draft or on a folder of CSVs. Exits non-zero on errors.",
             "  chip-supply validate --release latest\n"
             "  chip-supply validate --release all --format json\n"
             "  chip-supply validate --draft --strict\n"
             "  chip-supply validate path/to/folder --data-docs reports/data-docs\n")
    p.add_argument("path", nargs="?", metavar="PATH", help="folder of dataset CSVs")
    p.add_argument("--release", metavar="R", help="release date, 'latest' or 'all'")
    p.add_argument("--draft", action="store_true", help="validate data/draft")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--data-docs", metavar="DIR", help="write Data Docs (HTML) into DIR")

    p = _sub(subs, "report", cmd_report, "render the HTML report of a release",
             "Execute the notebooks against a release and write a self-contained HTML report "
             "that opens offline.",
             "  chip-supply report\n"
             "  chip-supply report --release 2026-01-30 --out reports/2026-01-30 --jobs 1\n")
    p.add_argument("--release", default="latest", metavar="R", help="release date or 'latest'")
    p.add_argument("--out", metavar="DIR", help="output folder (default: reports/<release>/)")
    p.add_argument("--jobs", type=_count(1), default=2, metavar="N",
                   help="notebooks executed in parallel, at least 1 (default: 2)")


def main(argv: list[str] | None = None) -> int:
    """Run ``chip-supply`` with ``argv``; return the exit code.

    0 success, 1 invalid data, 2 the command could not run, 130 interrupted; every error
    is one line on stderr, never a traceback.
    """
    previous, interrupted = _catch_interrupts(), False
    try:
        args = build_parser().parse_args(argv)
        _check_environment()
        return args.func(args)
    except DataValidationError as exc:
        errors = [f for f in exc.findings if f.severity == "error"]
        print(f"error: {len(errors)} error(s) in the data; nothing was written", file=sys.stderr)
        for finding in exc.findings:
            print(f"  {finding}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `chip-supply show approvals | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        interrupted = True
        print("error: interrupted; nothing was written", file=sys.stderr)
        return 130
    except (ChipSupplyError, OSError) as exc:
        print(printable(f"error: {_one_line(exc)}")[:2000], file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the user gets one line, never a traceback
        print(printable(f"error: unexpected {type(exc).__name__}: {_one_line(exc)}")[:2000],
              file=sys.stderr)
        return 2
    finally:
        if previous is not None:  # after an interrupt, a late second delivery is dropped
            signal.signal(signal.SIGINT, signal.SIG_IGN if interrupted else previous)


def _catch_interrupts() -> object:
    """Make Ctrl-C raise once: polars raises ``KeyboardInterrupt`` for it and Python's own
    handler may deliver the same signal again a moment later, which would cut the one-line
    message with a traceback. A delivery while an interrupt is being handled is dropped.
    Returns the handler to restore (``None`` off the main thread, where none is set)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum: int, frame: object) -> None:
        if not isinstance(sys.exc_info()[1], KeyboardInterrupt):
            raise KeyboardInterrupt

    return signal.signal(signal.SIGINT, interrupt)


def _check_environment() -> None:
    """Refuse a data root or mirror URL set to something that cannot be used."""
    override = os.environ.get(paths.DATA_DIR_ENV)
    if override and not paths.data_dir().is_dir():
        raise ChipSupplyError(f"{paths.DATA_DIR_ENV} points at {override[:200]}, which is not "
                              "a folder; set it to a data tree (draft/, releases/, registry.txt)")
    url = paths.data_url()
    if url is not None:
        from analytics.fetch import check_url

        check_url(url)


if __name__ == "__main__":
    sys.exit(main())
