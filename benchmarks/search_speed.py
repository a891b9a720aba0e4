"""How long does a reader wait for the site's search, at 1,000 models?

Material's search has no server: each reader's browser downloads ``search/search_index.json`` and builds its
index from it, in a web worker, before the first result shows. So the index's size is what a reader waits
for. For each built site given, this serves it, opens a page in headless Chromium (Debian's ``chromium``),
types the query at once and times from the page's request to the first result shown, ``--repeat`` times in
a fresh browser page each. It prints the index's size and entries, the median wait and the result count.

Build the sites first, for example with ``realistic_build.py --keep DIR`` (``DIR/n1000/site``):

    .venv/bin/python benchmarks/search_speed.py --site before=/tmp/a/n1000/site --site after=/tmp/b/n1000/site \\
        [--query cancer] [--page datasets/] [--repeat 3]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import statistics
import sys
import threading
import time
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(site: Path) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def first_result(browser, url: str, query: str, timeout_s: float) -> tuple[float, str]:
    """Seconds from requesting ``url`` to the first search result for ``query``, and the results' count line."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        started = time.perf_counter()
        page.goto(url, wait_until="domcontentloaded")
        page.keyboard.press("s")  # Material's shortcut: focus the search box
        page.keyboard.type(query)
        page.wait_for_selector(".md-search-result__item", timeout=timeout_s * 1000)
        waited = time.perf_counter() - started
        return waited, page.inner_text(".md-search-result__meta").strip()
    finally:
        page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", action="append", required=True, metavar="LABEL=DIR",
                        help="A built site to measure, under a label (repeatable).")
    parser.add_argument("--query", default="cancer", help="What the reader types (default: %(default)s).")
    parser.add_argument("--page", default="datasets/", help="The page searched from (default: %(default)s).")
    parser.add_argument("--repeat", type=int, default=3, help="Searches per site (default: %(default)s).")
    parser.add_argument("--timeout", type=float, default=180, help="Seconds to wait for a result.")
    args = parser.parse_args()
    sites = [(label, Path(folder)) for label, _, folder in (entry.partition("=") for entry in args.site)]
    if not CHROMIUM.is_file():
        sys.exit(f"benchmark: {CHROMIUM} not found; `make chromium` installs Debian's")
    from playwright.sync_api import sync_playwright

    print(f"{'site':<12}{'index MB':>10}{'entries':>10}{'first result s':>16}  results for {args.query!r}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        for label, site in sites:
            index = site / "search" / "search_index.json"
            entries = len(json.loads(index.read_text(encoding="utf-8"))["docs"])
            server = serve(site)
            url = f"http://127.0.0.1:{server.server_port}/{args.page}"
            waits, shown = [], ""
            for _ in range(args.repeat):
                waited, shown = first_result(browser, url, args.query, args.timeout)
                waits.append(waited)
            server.shutdown()
            print(f"{label:<12}{index.stat().st_size / 1024 ** 2:>10.1f}{entries:>10}"
                  f"{statistics.median(waits):>16.2f}  {shown}")
        browser.close()


if __name__ == "__main__":
    main()
