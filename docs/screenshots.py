"""Render the report and save a screenshot of each page (``make screenshots``).

``python docs/screenshots.py [--release R] [--width 1400] [--out docs/screenshots]``
renders the report of release R into a temporary folder, opens every page in headless
Chromium (``/usr/bin/chromium``, through playwright) with no network, waits until every
chart is drawn, and writes ``<page>.png`` (the top of the page, at most ``--height``
pixels tall) into the output folder, so a reviewer sees what a reader sees.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars"]


def _only(own: str):
    """A route handler that lets the page itself load and nothing else."""
    def gate(route) -> None:
        route.continue_() if route.request.url == own else route.abort()
    return gate


def shoot(folder: Path, out: Path, *, width: int = 1400, height: int = 5000) -> list[Path]:
    """Screenshot every ``*.html`` page of a rendered report into ``out``."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for path in sorted(folder.glob("*.html")):
            page = browser.new_page(viewport={"width": width, "height": 900})
            own = path.resolve().as_uri()
            page.route("**/*", _only(own))
            page.goto(own)
            charts = page.locator("figure.chart").count()
            if charts:
                page.wait_for_function(
                    "n => document.querySelectorAll('figure.chart.live').length === n",
                    arg=charts, timeout=60_000)
            full = page.evaluate("() => document.documentElement.scrollHeight")
            target = out / f"{path.stem}.png"
            page.screenshot(path=str(target), full_page=True,
                            clip={"x": 0, "y": 0, "width": width, "height": min(full, height)})
            written.append(target)
            page.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python docs/screenshots.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--release", default="latest")
    p.add_argument("--width", type=int, default=1400)
    p.add_argument("--height", type=int, default=5000, help="tallest screenshot, px")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "screenshots")
    p.add_argument("--report", type=Path, help="a rendered report folder (default: render one)")
    args = p.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"error: {CHROMIUM} is missing (Debian's chromium package)", file=sys.stderr)
        return 2
    if args.report is not None:
        files = shoot(args.report, args.out, width=args.width, height=args.height)
    else:
        from analytics.report import render

        with tempfile.TemporaryDirectory() as tmp:
            folder = render(args.release, out=Path(tmp) / "report", progress=True)
            files = shoot(folder, args.out, width=args.width, height=args.height)
    for f in files:
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
