"""A model page as a PDF: the built page printed by headless Chromium, with the site's print stylesheet.

The site is built first (by the caller, as ``modelcards build`` builds it); this module finds the page of a model
in it and has Chromium print that page. Chromium is a program the user installs, like Graphviz: without it the
command fails before anything is built.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .config import Settings
from .errors import EnvironmentProblem
from .site.paths import SitePaths, page_url

# The names Chromium's command has in Debian, in Ubuntu's older packages, and in Google's own package.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
NO_CHROMIUM = "modelcards pdf needs Chromium: apt-get install chromium (or put chromium on PATH)"
PRINT_TIMEOUT_S = 180
# No header/footer lines (date, file:// URL); no calls home to Google's hosts while printing.
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)


def find_chromium() -> str:
    """The path of the first Chromium on PATH; an environment problem (exit 3) when there is none."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise EnvironmentProblem(NO_CHROMIUM)


def model_html(site_dir: Path, settings: Settings, model: str) -> Path:
    """The built HTML file of ``model``'s page in ``site_dir``, wherever the site's settings put pages."""
    url = page_url(SitePaths(settings.page_prefix).model(model), settings.directory_urls)
    return site_dir / (url + "index.html" if url.endswith("/") or not url else url)


def print_to_pdf(chromium: str, page: Path, out: Path) -> None:
    """Print ``page`` (a local HTML file) to ``out`` with headless Chromium; a failure says what Chromium said."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)  # so that a Chromium that exits 0 without printing cannot pass for success
    with tempfile.TemporaryDirectory(prefix="modelcards-chromium-") as profile:  # never the user's own profile
        try:
            result = subprocess.run(
                [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={out}",
                 page.resolve().as_uri()],
                capture_output=True, text=True, timeout=PRINT_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise EnvironmentProblem(f"{chromium} did not print {page} within {PRINT_TIMEOUT_S} s") from None
    if result.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        said = "\n".join(result.stderr.strip().splitlines()[-5:]) or "nothing"
        raise EnvironmentProblem(f"{chromium} exited {result.returncode} without printing {page} to {out}; "
                                 f"it said: {said}")
