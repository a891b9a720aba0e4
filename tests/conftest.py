"""Shared fixtures: the real `modelcards` CLI, throwaway projects, a static HTTP server and headless Chromium."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_MKDOCS_YML = REPO_ROOT / "mkdocs.yml"
MODELCARDS = Path(sys.executable).parent / "modelcards"
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium phones Google hosts, which would pollute request logs.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def run_modelcards(*args: str | Path, cwd: Path = REPO_ROOT, check: bool = True,
                   timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the installed `modelcards` command; with ``check``, fail the test showing its output."""
    result = subprocess.run([str(MODELCARDS), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"modelcards {' '.join(map(str, args))} exited {result.returncode}\n"
                    f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")
    return result


class _AnyTagLoader(yaml.SafeLoader):
    """Reads mkdocs.yml files that use tags such as ``!ENV`` or ``!!python/name:`` without running them."""


_AnyTagLoader.add_multi_constructor("", lambda loader, suffix, node: None)


def read_mkdocs_yml(path: Path = EXAMPLE_MKDOCS_YML) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_AnyTagLoader)


def write_project(root: Path, cards: dict[str, str], **config: object) -> Path:
    """A project modelled on the example one: ``mkdocs.yml``, an empty ``docs/`` and ``cards/<file>``.

    ``cards`` maps file names to YAML text (dedented); ``config`` overrides top-level mkdocs.yml keys.
    Returns the path of the new mkdocs.yml.
    """
    example = read_mkdocs_yml()
    settings = {
        "site_name": "Test site",
        "docs_dir": "docs",
        "theme": example["theme"],
        "markdown_extensions": example.get("markdown_extensions", []),
        "plugins": ["search", {"modelcards": {"cards_dir": "cards"}}],
        **config,
    }
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "cards").mkdir(parents=True, exist_ok=True)
    for name, text in cards.items():
        (root / "cards" / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    mkdocs_yml = root / "mkdocs.yml"
    mkdocs_yml.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return mkdocs_yml


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass(frozen=True)
class StaticServer:
    """A real HTTP server on 127.0.0.1 serving ``root``; put sites in sub-folders to serve them under a sub-path."""

    root: Path
    base_url: str  # "http://127.0.0.1:<port>", no trailing slash

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"


@pytest.fixture(scope="session")
def static_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    root = tmp_path_factory.mktemp("webroot")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)  # port 0: a free port
    thread = threading.Thread(target=server.serve_forever, name="static-server", daemon=True)
    thread.start()
    try:
        yield StaticServer(root, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# The sub-path the example site is served under: links that forget it break, as they would on a real host.
EXAMPLE_SUB_PATH = "/ml/models/"


@pytest.fixture(scope="session")
def example_site_dir(static_server: StaticServer) -> Path:
    """The repository's example site, built once per test session by the real CLI (``--strict``: the example
    has no warnings) into the static server's root, so that it is served at EXAMPLE_SUB_PATH. Read-only for tests."""
    site_dir = static_server.root / EXAMPLE_SUB_PATH.strip("/")
    run_modelcards("build", "--strict", "-f", EXAMPLE_MKDOCS_YML, "-d", site_dir, timeout=300)
    return site_dir


@pytest.fixture(scope="session")
def example_site(example_site_dir: Path, static_server: StaticServer) -> str:
    """The example site's address under its sub-path, with a trailing slash."""
    return static_server.url(EXAMPLE_SUB_PATH)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (make chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def svg_as_drawn(browser, svg: str):
    """The SVG as Chromium draws it in an <img>, in grey levels: two drawings compare pixel by pixel."""
    import base64
    import io

    from PIL import Image

    page = browser.new_page()
    try:
        page.set_content(f'<img id="drawn" src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}">')
        page.wait_for_function("document.getElementById('drawn').complete")
        return Image.open(io.BytesIO(page.locator("#drawn").screenshot())).convert("L")
    finally:
        page.close()
