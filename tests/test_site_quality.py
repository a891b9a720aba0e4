"""How the example site reads beyond its content: dark mode, keyboard access to wide tables, real table headers.

The example site is built by the real CLI from the repository's mkdocs.yml, served under a sub-path by a real
HTTP server and driven in Debian's headless Chromium. The settings `generate` and a cards-only folder get are
checked against the example's, so every site the project writes offers the same palette.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from browsing import RecordedContext, record
from conftest import EXAMPLE_MKDOCS_YML, StaticServer, read_mkdocs_yml, run_modelcards

pytestmark = pytest.mark.browser

SUB_PATH = "/quality/"


@pytest.fixture(scope="module")
def example_site(static_server: StaticServer) -> str:
    site_dir = static_server.root / SUB_PATH.strip("/")
    run_modelcards("build", "-f", EXAMPLE_MKDOCS_YML, "-d", site_dir)
    return static_server.url(SUB_PATH)


@pytest.fixture(scope="module")
def browsing(browser, example_site: str):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield record(context)
    context.close()


def first_model_url(browsing: RecordedContext, site: str) -> str:
    """The first model the catalog links (names are discovered, never assumed)."""
    page = browsing.new_page()
    page.goto(site)
    url = page.evaluate("() => document.querySelector('.mc-catalog table tbody tr a').href")
    page.close()
    return url


# --- dark mode ------------------------------------------------------------------------

def test_generated_and_default_configs_offer_the_examples_palette_toggle(tmp_path: Path):
    example_palette = read_mkdocs_yml()["theme"]["palette"]
    schemes = {entry["media"]: entry["scheme"] for entry in example_palette}
    assert schemes == {"(prefers-color-scheme: light)": "default", "(prefers-color-scheme: dark)": "slate"}
    assert all(entry["toggle"]["icon"] and entry["toggle"]["name"] for entry in example_palette)

    run_modelcards("generate", "--out", tmp_path / "out", "-f", EXAMPLE_MKDOCS_YML, timeout=300)
    generated = yaml.safe_load((tmp_path / "out" / "mkdocs.yml").read_text(encoding="utf-8"))
    assert generated["theme"]["palette"] == example_palette
    assert generated["theme"]["font"] is False  # no CDN: the palette adds no request outside the host

    from modelcards.site.standalone import default_mkdocs_yml

    default = yaml.safe_load(default_mkdocs_yml(project_dir=tmp_path, docs_dir=tmp_path / "docs"))
    assert default["theme"]["palette"] == example_palette
    assert default["theme"]["font"] is False


def test_palette_toggle_switches_the_model_page_to_dark_and_back(browsing: RecordedContext, example_site: str):
    page = browsing.new_page()
    page.emulate_media(color_scheme="light")
    page.goto(first_model_url(browsing, example_site))
    assert page.get_attribute("body", "data-md-color-scheme") == "default"
    toggles = page.locator('[data-md-component="palette"] label:visible')
    assert toggles.count() == 1, "one visible palette toggle in the header"
    assert toggles.first.get_attribute("title") == "Switch to dark mode"
    toggles.first.click()
    page.wait_for_function("() => document.body.getAttribute('data-md-color-scheme') === 'slate'", timeout=3000)
    page.reload()  # Material remembers the choice across pages
    assert page.get_attribute("body", "data-md-color-scheme") == "slate"
    page.locator('[data-md-component="palette"] label[title="Switch to light mode"]:visible').click()
    page.wait_for_function("() => document.body.getAttribute('data-md-color-scheme') === 'default'", timeout=3000)
    page.close()
    assert not browsing.script_errors, "\n".join(browsing.script_errors)


def test_first_visit_follows_a_dark_system_preference(browser, example_site: str):
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.goto(example_site)
    assert page.get_attribute("body", "data-md-color-scheme") == "slate"
    context.close()


# --- keyboard access and table headers ----------------------------------------------------------

TABLE_FACTS_JS = """() => ({
    emptyHeaders: [...document.querySelectorAll('article th')].filter(th => !th.textContent.trim())
        .map(th => th.closest('table').querySelector('td') ? th.closest('table').querySelector('td').textContent
                   .trim().slice(0, 40) : '(empty table)'),
    wrappers: [...document.querySelectorAll('.md-typeset__scrollwrap')].map(w => ({
        tabindex: w.getAttribute('tabindex'), role: w.getAttribute('role'), name: w.getAttribute('aria-label')})),
    featureCells: [...document.querySelectorAll('.mc-importance td:nth-child(2) code, .mc-rank-changes td:first-child code')]
        .map(c => getComputedStyle(c).wordBreak + ' ' + getComputedStyle(c).overflowWrap),
})"""


def page_urls(browsing: RecordedContext, site: str) -> dict[str, str]:
    """The catalog, the first model page and the first run page, as the site links them."""
    page = browsing.new_page()
    page.goto(site + "runs/")
    run = page.evaluate("() => [...document.querySelectorAll('article a')].map(a => a.href)"
                        ".find(href => /\\/runs\\/.+/.test(new URL(href).pathname.replace(/\\/runs\\/$/, '')))")
    page.close()
    assert run, "the runs index links no run page"
    return {"catalog": site, "model": first_model_url(browsing, site), "run": run}


def test_wide_tables_are_named_keyboard_regions_and_every_header_cell_has_text(browsing: RecordedContext,
                                                                               example_site: str):
    failures = []
    for kind, url in page_urls(browsing, example_site).items():
        page = browsing.new_page()
        page.goto(url)
        facts = page.evaluate(TABLE_FACTS_JS)
        if not facts["wrappers"]:
            failures.append(f"{kind} {url}: no table wrapper at all")
        for wrapper in facts["wrappers"]:
            if wrapper["tabindex"] != "0" or wrapper["role"] != "region" or not (wrapper["name"] or "").strip():
                failures.append(f"{kind} {url}: table wrapper not a named focusable region: {wrapper}")
        if facts["emptyHeaders"]:
            failures.append(f"{kind} {url}: empty <th> in tables starting {facts['emptyHeaders']}")
        if kind == "model":
            assert facts["featureCells"], "the model page lists no feature names"
            broken = [style for style in facts["featureCells"] if style != "keep-all normal"]
            if broken:
                failures.append(f"{kind}: feature names may break mid-word: {sorted(set(broken))}")
            # Tab reaches a wrapper, and the arrow keys then scroll it.
            page.locator(".md-typeset__scrollwrap").first.focus()
            assert page.evaluate("() => document.activeElement.classList.contains('md-typeset__scrollwrap')")
        page.close()
    assert not failures, "\n".join(failures)
    assert not browsing.script_errors, "\n".join(browsing.script_errors)
