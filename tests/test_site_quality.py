"""How the example site reads beyond its content: every page kind at a desktop and a phone width, in the light and
the dark palette, with real table headers, keyboard access to wide tables and axe-core's accessibility rules.

The example site is built once by the real CLI from the repository's mkdocs.yml (conftest's example_site), served
under a sub-path by a real HTTP server and driven in Debian's headless Chromium. Pages are discovered in the built
site, never assumed. One survey per (width, palette) opens each page kind once and records everything the checks
below assert, so that the harness costs one page load per page kind and view.

axe-core comes from npm, pinned by tests/js/package-lock.json; `make test` installs it with `npm ci`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from browsing import RecordedContext, record
from conftest import EXAMPLE_MKDOCS_YML, REPO_ROOT, read_mkdocs_yml, run_modelcards

pytestmark = pytest.mark.browser

AXE_JS = REPO_ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": 1440, "phone": 390}
PALETTES = {"light": "default", "dark": "slate"}  # the reader's system preference -> Material's scheme


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
    # The same header as the plugin's build: the repository link, but no edit button on generated files.
    assert (generated["repo_url"], generated["edit_uri"]) == (read_mkdocs_yml()["repo_url"], "")

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


# --- every page kind, at both widths, in both palettes ---------------------------------------------------------

def page_kinds(site_dir: Path) -> dict[str, str]:
    """One page of each kind the example site has, as a path under the site's root (``#...`` for a section).

    The model is the one with the most pre-built comparisons (the example's rollback model); the other pages are the
    first of their folder, so a renamed example still gives every kind.
    """
    def first(folder: str) -> str:
        pages = sorted(p.parent.relative_to(site_dir).as_posix() + "/"
                       for p in (site_dir / folder).glob("*/index.html"))
        assert pages, f"the example site has no page under {folder}/"
        return pages[0]

    models = [p.parent for p in (site_dir / "models").glob("*/index.html")]
    def comparisons(model: Path) -> list[str]:  # the pre-built comparisons' anchors on its compare page
        return re.findall(r'<h2 id="([^"]*\.\.\.[^"]*)"', (model / "compare/index.html").read_text("utf-8"))

    model = max(sorted(models), key=lambda m: len(comparisons(m)))
    model_path = model.relative_to(site_dir).as_posix() + "/"
    compare = comparisons(model)[0]
    versions = sorted(yaml.safe_load((REPO_ROOT / "cards" / f"{model.name}.yml").read_text("utf-8"))["versions"],
                      key=lambda v: v["date"])
    assert len(versions) >= 2, f"{model.name} has fewer than two versions"
    kinds = {
        "catalog (home)": "",
        "model": model_path,
        # The second version's section, with its folded details open (#version-N counts from the newest).
        "version section": f"{model_path}#version-{len(versions) - 1}",
        "compare page": f"{model_path}compare/",
        # A pre-built comparison: a section of the model's compare page.
        "comparison": f"{model_path}compare/#{compare}",
        "model crosswalk": f"{model_path}crosswalk/",
        "crosswalk matrix": "crosswalk/",
        "owners": "owners/",
        "owner": first("owners"),
        "runs": "runs/",
        "run (MLflow)": first("runs/mlflow"),
        "run (DVC)": first("runs/dvc"),
        "datasets": "datasets/",
        "dataset": first("datasets"),
        "tags": "tags/",
        "tag": first("tags"),
        "lineage overview": "lineage/",
        "lineage health": "lineage/health/",
        "policy": "policy/",
        "recent changes": "changes/",
        "reference page": "reference/card-format/",
    }
    for kind, path in kinds.items():
        assert (site_dir / path.split("#")[0] / "index.html").is_file(), f"{kind}: no page {path}"
    return kinds


# What axe checks: the article, where our templates, modelcards.css and modelcards.js render. Everything around it
# is Material's own chrome (header with the palette toggle and search box, tabs, navigation sidebars, footer,
# back-to-top button, skip link): its markup is Material's, not the project's, and a finding there goes to
# Material. Inside the article, Material adds the edit button and the permalink sign after each heading: left out
# for the same reason.
AXE_CONTEXT = {"include": [[".md-content"]], "exclude": [[".md-content__button"], [".headerlink"]]}
# In the dark palette only the rules whose outcome depends on colours run again: the others read the markup,
# which is the same in both palettes (the light run at the same width has checked it).
COLOUR_RULES = ["color-contrast", "link-in-text-block"]

# Everything the checks assert about one page, read in one round trip (axe runs separately: it is asynchronous).
# - overflow: the page is wider than the viewport, or an element of the article sticks out of it with no
#   scrolling container around it; scrolling containers a keyboard cannot reach (no tabindex) or a screen reader cannot name.
# - svgText: each text of an inline SVG with its fill and the fill of what it is drawn on (the last shape before
#   it, in its group or an enclosing one, whose box holds it; else the page's background), and whether it sits in
#   one of the project's diagrams or charts.
SURVEY_JS = """() => {
    const width = document.documentElement.clientWidth;
    const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    // A scrolling box clips an element only if it holds the element's containing block: an absolutely placed
    // element escapes every scroller between it and its positioned ancestor (offsetParent).
    const held = el => {
        const position = getComputedStyle(el).position;
        if (position === 'fixed') return false;
        const start = position === 'absolute' ? el.offsetParent : el.parentElement;
        for (let p = start; p; p = p.parentElement) if (scrolls(p)) return true;
        return false;
    };
    const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
        ' "' + el.textContent.trim().slice(0, 40) + '"';
    const content = document.querySelector('.md-content');
    const sticking = [...content.querySelectorAll('*')].filter(el => {
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.right > width + 1 && !held(el);
    }).map(name);
    const unreachable = [...content.querySelectorAll('*')].filter(el =>
        scrolls(el) && el.scrollWidth > el.clientWidth + 1 && el.offsetParent !== null &&
        !(el.tabIndex >= 0 && (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))).map(name);

    const SHAPES = 'rect,polygon,ellipse,circle,path';
    const rgb = s => {  // null for none, transparent or anything not a colour
        const m = s && s.match(/rgba?\\(([^)]+)\\)/);
        if (!m) return null;
        const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
        return p.length > 3 && p[3] === 0 ? null : p.slice(0, 3);
    };
    const lum = c => {
        const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
    const pageBg = el => {
        for (let p = el; p; p = p.parentElement) { const c = rgb(getComputedStyle(p).backgroundColor); if (c) return c; }
        return [255, 255, 255];
    };
    const holds = (shape, box) => {
        const b = shape.getBBox();
        return b.x <= box.x + 1 && b.y <= box.y + 1 &&
               b.x + b.width >= box.x + box.width - 1 && b.y + b.height >= box.y + box.height - 1;
    };
    const under = text => {
        const box = text.getBBox();
        for (let node = text; node && node.tagName.toLowerCase() !== 'svg'; node = node.parentElement) {
            for (let sibling = node.previousElementSibling; sibling; sibling = sibling.previousElementSibling) {
                const shapes = sibling.matches(SHAPES) ? [sibling] : [...sibling.querySelectorAll(SHAPES)];
                for (const shape of shapes.reverse()) {
                    const fill = rgb(getComputedStyle(shape).fill);
                    if (fill && holds(shape, box)) return fill;
                }
            }
        }
        return pageBg(text.closest('svg'));
    };
    const svgText = [...content.querySelectorAll('svg text')]
        .filter(t => t.textContent.trim() && t.getBBox().width > 0)
        .map(t => {
            const fg = rgb(getComputedStyle(t).fill) || [0, 0, 0], bg = under(t);
            return {text: t.textContent.trim().slice(0, 40), ratio: Math.round(ratio(fg, bg) * 100) / 100,
                    fg: fg.join(','), bg: bg.join(','), diagram: !!t.closest('.mc-lineage, .mc-chart, .mc-plot')};
        });
    return {scheme: document.body.getAttribute('data-md-color-scheme'),
            pageWidth: document.documentElement.scrollWidth, width,
            sticking: sticking.slice(0, 5), unreachable: unreachable.slice(0, 5), svgText};
}"""

AXE_RUN_JS = """([context, rules]) => axe.run(context, rules ? {runOnly: rules, resultTypes: ['violations']}
                                                          : {resultTypes: ['violations']})"""


@dataclass(frozen=True)
class PageSurvey:
    url: str
    scheme: str
    page_width: int
    viewport_width: int
    sticking_out: list[str]
    unreachable_scrollers: list[str]
    svg_text: list[dict]
    axe_serious: list[str]


TABLES_READY_JS = """() =>
    [...document.querySelectorAll('.md-content table:not([class])')]
        .every(table => table.closest('.md-typeset__scrollwrap'))
    && [...document.querySelectorAll('.md-typeset__scrollwrap')].every(wrap => wrap.hasAttribute('tabindex'))"""

VIEWS = [(width, palette) for width in WIDTHS for palette in PALETTES]


@pytest.fixture(scope="module")
def surveys(browser, example_site: str, example_site_dir: Path) -> dict[tuple[str, str], dict[str, PageSurvey]]:
    """(width, palette) -> page kind -> what the checks need, each page opened once per view."""
    assert AXE_JS.is_file(), f"{AXE_JS} missing: run `make test` (it runs npm ci --prefix tests/js)"
    kinds = page_kinds(example_site_dir)
    found: dict[tuple[str, str], dict[str, PageSurvey]] = {}
    for width, palette in VIEWS:
        context = browser.new_context(viewport={"width": WIDTHS[width], "height": 900}, color_scheme=palette)
        context.add_init_script(path=str(AXE_JS))
        browsing = record(context)
        page = browsing.new_page()
        found[width, palette] = {}
        for kind, path in kinds.items():
            response = page.goto(example_site + path, wait_until="load")
            # A section of the page just surveyed is a same-document navigation: no response, nothing to check.
            assert ("#" in path and response is None) or (response and response.status == 200), example_site + path
            if "#" in path:  # a section as a link opens it: with its folded details unfolded
                page.evaluate("() => document.querySelectorAll('.md-content details').forEach(d => d.open = true)")
            # Material's bundle wraps tables and modelcards.js labels the wrappers on document$: wait for both.
            page.wait_for_function(TABLES_READY_JS)
            facts = page.evaluate(SURVEY_JS)
            axe = page.evaluate(AXE_RUN_JS, [AXE_CONTEXT, COLOUR_RULES if palette == "dark" else None])
            found[width, palette][kind] = PageSurvey(
                url=page.url, scheme=facts["scheme"], page_width=facts["pageWidth"],
                viewport_width=facts["width"], sticking_out=facts["sticking"],
                unreachable_scrollers=facts["unreachable"], svg_text=facts["svgText"],
                axe_serious=[f"{v['id']} ({v['impact']}): {v['help']}: "
                             + "; ".join(n["html"][:160] for n in v["nodes"][:3])
                             for v in axe["violations"] if v["impact"] in ("serious", "critical")])
        context.close()
        assert not browsing.script_errors, "\n".join(browsing.script_errors)
    return found


def view_id(view: tuple[str, str]) -> str:
    return f"{view[0]}-{view[1]}"


@pytest.mark.parametrize("view", VIEWS, ids=view_id)
def test_every_page_kind_is_shown_in_the_palette_the_reader_asked_for(surveys, view):
    wrong = {kind: s.scheme for kind, s in surveys[view].items() if s.scheme != PALETTES[view[1]]}
    assert wrong == {}


@pytest.mark.parametrize("view", VIEWS, ids=view_id)
def test_no_page_overflows_sideways_and_wide_data_scrolls_by_keyboard(surveys, view):
    problems = []
    for kind, s in surveys[view].items():
        if s.page_width > s.viewport_width or s.sticking_out:
            problems.append(f"{kind}: page is {s.page_width} px wide in {s.viewport_width} px; outside any "
                            f"scrolling container: {s.sticking_out}")
        if s.unreachable_scrollers:
            problems.append(f"{kind}: scrolls sideways but not by keyboard, or unnamed: {s.unreachable_scrollers}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("view", VIEWS, ids=view_id)
def test_axe_finds_no_serious_or_critical_violation_in_our_markup(surveys, view):
    problems = [f"{kind} ({s.url}): {finding}" for kind, s in surveys[view].items() for finding in s.axe_serious]
    assert not problems, "\n".join(problems)


def low_contrast_svg_text(surveys, width: str, diagrams: bool) -> dict[str, list[dict]]:
    low = {}
    for kind, s in surveys[width, "dark"].items():
        found = [t for t in s.svg_text if t["diagram"] == diagrams and t["ratio"] < 4.5]
        if found:
            low[kind] = found[:5]
    return low


@pytest.mark.parametrize("width", WIDTHS)
def test_in_the_dark_palette_our_svg_text_contrasts_at_least_4_5_to_1(surveys, width):
    assert any(s.svg_text for s in surveys[width, "dark"].values()), "no SVG text found on any page"
    assert low_contrast_svg_text(surveys, width, diagrams=False) == {}


@pytest.mark.parametrize("width", WIDTHS)
def test_in_the_dark_palette_lineage_diagram_and_chart_text_contrasts_at_least_4_5_to_1(surveys, width):
    assert any(t["diagram"] for s in surveys[width, "dark"].values() for t in s.svg_text), "no diagram text found"
    assert low_contrast_svg_text(surveys, width, diagrams=True) == {}


# --- README screenshots -----------------------------------------------------------------------------------------

def test_readme_shows_the_screenshots_the_script_makes():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"!\[[^\]]*\]\((docs/images/[^)]+\.png)\)", readme)
    script = (REPO_ROOT / "scripts" / "screenshots.py").read_text(encoding="utf-8")
    assert "docs/images/{catalog,model}-{desktop,phone}.png" in script
    assert sorted(shown) == sorted(f"docs/images/{page}-{device}.png" for page in ("catalog", "model")
                                   for device in ("desktop", "phone"))
    for path in shown:
        data = (REPO_ROOT / path).read_bytes()
        assert data.startswith(b"\x89PNG"), path
        width = int.from_bytes(data[16:20], "big")  # the PNG header's IHDR: width, then height
        assert width == (1440 if "desktop" in path else 390), f"{path} is {width} px wide"
