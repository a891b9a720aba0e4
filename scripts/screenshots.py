"""Screenshots of the example site for the README: the catalog and a model page, on a desktop and on a phone.

    .venv/bin/python scripts/screenshots.py            # writes docs/images/{catalog,model}-{desktop,phone}.png

Builds the example site with the real CLI into a temporary folder, serves it on a free port of 127.0.0.1 and
photographs the top of each page (the viewport, not the full page, to keep the files small) in Debian's headless
Chromium through Playwright. The dates on the pages come from SOURCE_DATE_EPOCH (default: the last commit's time),
so a rerun on the same commit gives the same pictures.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
# No background requests (the pages make none of their own), no GPU: the same pixels on every run.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]
MODEL = "breast-cancer-classifier"
PAGES = {"catalog": "", "model": f"models/{MODEL}/"}
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def build_example_site(site_dir: Path) -> None:
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", subprocess.run(
        ["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip())
    modelcards = Path(sys.executable).parent / "modelcards"
    result = subprocess.run([str(modelcards), "build", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site_dir)],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:  # the build's own report says why
        sys.exit(f"modelcards build failed (exit {result.returncode}):\n{result.stderr}")


def photograph(base_url: str, out_dir: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for device, viewport in VIEWPORTS.items():
            context = browser.new_context(viewport=viewport, device_scale_factor=1, color_scheme="light")
            page = context.new_page()
            for name, path in PAGES.items():
                response = page.goto(base_url + path, wait_until="load")
                if response is None or response.status != 200:
                    sys.exit(f"the example site has no page {path}: is {MODEL} still an example card?")
                page.wait_for_timeout(300)  # Material's scripts and ours have laid the page out
                target = out_dir / f"{name}-{device}.png"
                page.screenshot(path=str(target), animations="disabled", caret="hide")
                written.append(target)
            context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"folder for the PNG files (default: {OUT_DIR})")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="modelcards-screenshots-") as scratch:
        site_dir = Path(scratch, "site")
        build_example_site(site_dir)
        handler = functools.partial(_QuietHandler, directory=str(site_dir))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)  # port 0: a free port
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            written = photograph(f"http://127.0.0.1:{server.server_address[1]}/", args.out)
        finally:
            server.shutdown()
            server.server_close()
    for path in written:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
