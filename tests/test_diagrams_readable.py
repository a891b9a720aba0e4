"""Diagrams and plots people can read: the example site, served under a sub-path, in Debian's headless Chromium.

Lineage text is at least the page's small text, the full-size view pans and zooms with the vendored library,
a node's details show on keyboard focus and on tap, the diagrams' links are in the accessibility tree, every
SVG text has a WCAG contrast of at least 4.5:1 in the light and the dark palette, and nothing is fetched from
another host.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import expect

from conftest import EXAMPLE_MKDOCS_YML, REPO_ROOT, StaticServer, run_modelcards

pytestmark = pytest.mark.browser

SUB_PATH = "diagrams/docs/"
SVG = "{http://www.w3.org/2000/svg}"
DARK = "slate"  # Material's dark scheme, set on <body> as its palette toggle does

# Material's small text: what its tables are set in (0.64rem); read from the page, never assumed.
SMALL_TEXT_JS = """() => {
  const table = document.querySelector('.md-typeset table:not([class])');
  return table ? parseFloat(getComputedStyle(table).fontSize) : null;
}"""
# Each <text>'s size on screen: its font size in the SVG's units times the SVG's scale to screen pixels.
TEXT_SIZES_JS = """(root) => [...root.querySelectorAll('svg text')].map(t => ({
  text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a}))"""
# Each <text>'s computed fill and the colour behind it: the filled shape of its node, or else the page.
TEXT_COLOURS_JS = """(root) => {
  const parse = c => {
    const m = /rgba?\\(([^)]*)\\)/.exec(c || '');
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return {rgb: p.slice(0, 3), a: p.length > 3 ? p[3] : 1};
  };
  const pageBackground = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) return c.rgb;
    }
    return [255, 255, 255];
  };
  return [...root.querySelectorAll('svg text')].map(t => {
    let behind = null;
    const node = t.closest('g.node');
    for (const shape of node ? node.querySelectorAll('path, polygon, ellipse, rect') : []) {
      const c = parse(getComputedStyle(shape).fill);
      if (c && c.a > 0) { behind = c.rgb; break; }
    }
    return {text: t.textContent, fill: parse(getComputedStyle(t).fill).rgb,
            behind: behind || pageBackground(t.closest('svg').parentElement)};
  });
}"""


def contrast(a: list[float], b: list[float]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours with channels in 0..255."""
    def luminance(rgb: list[float]) -> float:
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (v / 255 for v in rgb)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_matches_the_wcag_examples() -> None:
    assert contrast([0, 0, 0], [255, 255, 255]) == pytest.approx(21)
    assert contrast([0x77, 0x77, 0x77], [255, 255, 255]) == pytest.approx(4.48, abs=0.01)


@pytest.fixture(scope="module")
def example(static_server: StaticServer) -> tuple[Path, str]:
    site_dir = static_server.root / SUB_PATH
    run_modelcards("build", "-f", EXAMPLE_MKDOCS_YML, "-d", site_dir)
    return site_dir, static_server.url(SUB_PATH)


@pytest.fixture(scope="module")
def model_pages(example: tuple[Path, str]) -> list[str]:
    site_dir, base = example
    names = sorted(path.parent.name for path in site_dir.glob("models/*/index.html"))
    assert len(names) >= 3
    return [f"{base}models/{name}/" for name in names]


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield context
    context.close()


def _dark(page) -> None:
    page.evaluate(f"document.body.setAttribute('data-md-color-scheme', '{DARK}')")


def test_lineage_text_is_no_smaller_than_the_pages_small_text(desktop, model_pages: list[str]) -> None:
    page = desktop.new_page()
    for url in model_pages:
        page.goto(url)
        # Older versions' plots sit in closed folds, lazy-loaded: open them as a reader would, or they never load.
        page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        small = page.evaluate(SMALL_TEXT_JS)
        assert small and small > 10, url
        sizes = page.locator(".mc-lineage").evaluate(TEXT_SIZES_JS)
        assert len(sizes) > 5, url
        too_small = [(s["text"], round(s["px"], 1)) for s in sizes if s["px"] < small - 0.05]
        assert too_small == [], f"{url}: smaller than the page's small text ({small}px)"


def test_shap_plot_text_is_no_smaller_than_the_pages_small_text_and_dark_on_white(
        desktop, example: tuple[Path, str], model_pages: list[str]) -> None:
    site_dir, base = example
    page = desktop.new_page()
    checked = 0
    for url in model_pages:
        page.goto(url)
        # Older versions' plots sit in closed folds, lazy-loaded: open them as a reader would, or they never load.
        page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        small = page.evaluate(SMALL_TEXT_JS)
        for plot in page.locator("img.mc-shap-plot").all():
            plot.scroll_into_view_if_needed()
            source = urljoin(url, plot.get_attribute("src"))
            svg = ET.fromstring((site_dir / urlsplit(source).path.removeprefix("/" + SUB_PATH)).read_bytes())
            scale = plot.evaluate("img => img.decode().then(() => img.getBoundingClientRect().width)") / float(svg.get("viewBox").split()[2])
            # matplotlib's styles, as compact_svg leaves them: a long one became a class of the file's style sheet.
            classes = dict(re.findall(r"\.([\w-]+)\{([^}]*)\}", "".join(svg.find(f".//{SVG}style").itertext())))
            for text in svg.iter(f"{SVG}text"):
                declared = classes.get(text.get("class", ""), "") + ";" + text.get("style", "")
                style = dict(part.strip().split(": ", 1) for part in declared.split(";") if ": " in part)
                size = float(style["font-size"].removesuffix("px")) * scale
                label = "".join(text.itertext())
                assert size >= small - 0.05, f"{source}: {label!r} is {size:.1f}px, small text is {small}px"
                fill = style.get("fill", "#000000")
                rgb = [int(fill[i:i + 2], 16) for i in (1, 3, 5)]
                assert contrast(rgb, [255, 255, 255]) >= 4.5, f"{source}: {label!r} in {fill} on white"
            ground = next(svg.iter(f"{SVG}path"))
            assert "fill: #ffffff" in ground.get("style", ""), "the plot carries its own white ground"
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize("scheme", ["default", DARK])
def test_every_svg_text_has_contrast_against_what_is_behind_it(desktop, model_pages, scheme: str) -> None:
    page = desktop.new_page()
    checked = 0
    for url in model_pages:
        page.goto(url)
        if scheme == DARK:
            _dark(page)
        for root in [*page.locator(".mc-lineage").all(), *page.locator(".mc-chart").all()]:
            holder = root if root.evaluate("e => e.tagName.toLowerCase() !== 'svg'") else root.locator("xpath=..")
            for text in holder.evaluate(TEXT_COLOURS_JS):
                ratio = contrast(text["fill"], text["behind"])
                assert ratio >= 4.5, f"{url} ({scheme}): {text['text']!r} {text['fill']} on {text['behind']}"
                checked += 1
    assert checked > 50


def test_the_rolled_back_deployment_stays_marked_and_readable_in_the_dark(desktop, model_pages) -> None:
    page = desktop.new_page()
    url = next(url for url in model_pages if "breast-cancer" in url)
    page.goto(url)
    _dark(page)
    marked = page.locator(".mc-lineage svg g.node", has_text="rolled back")
    assert marked.count() >= 1
    texts = marked.first.evaluate(TEXT_COLOURS_JS.replace("root.querySelectorAll('svg text')",
                                                           "root.querySelectorAll('text')"))
    assert any("rolled back" in t["text"] for t in texts)
    assert all(contrast(t["fill"], t["behind"]) >= 4.5 for t in texts), texts
    outline = marked.first.locator("polygon, path").first
    assert outline.get_attribute("stroke-dasharray"), "still drawn dashed"
    assert outline.evaluate("e => getComputedStyle(e).stroke") == "rgb(252, 165, 165)", "red, lightened"


def test_the_full_size_view_opens_pans_and_zooms(desktop, model_pages, example) -> None:
    page = desktop.new_page()
    page.goto(model_pages[0])
    link = page.locator("a.mc-lineage-full").first
    # The full-size view is the page's own diagram: no SVG file of its own (issue 15: site size).
    assert link.get_attribute("href") == "#mc-lineage-diagram"
    link.click()
    dialog = page.locator("dialog.mc-lineage-dialog[open]")
    viewport = dialog.locator("svg .svg-pan-zoom_viewport")
    viewport.wait_for()
    before = viewport.get_attribute("transform")
    zoom = dialog.evaluate("d => d.mcPanZoom.getZoom()")
    dialog.get_by_role("button", name="Zoom in").click()
    page.wait_for_function("() => document.querySelector('dialog[open]').mcPanZoom.getZoom() > " + str(zoom))
    # svg-pan-zoom draws a new zoom or pan on the next animation frame, so what is drawn is awaited.
    expect(viewport).not_to_have_attribute("transform", before)
    moved = viewport.get_attribute("transform")
    pan = dialog.evaluate("d => d.mcPanZoom.getPan().x")
    dialog.locator(".mc-lineage-stage").press("ArrowLeft")
    page.wait_for_function("() => document.querySelector('dialog[open]').mcPanZoom.getPan().x > " + str(pan))
    expect(viewport, "arrow keys pan").not_to_have_attribute("transform", moved)
    ids = page.evaluate("() => [...document.querySelectorAll('[id]')].map(e => e.id)")
    assert len(ids) == len(set(ids)), "the copy in the dialog duplicates no id"
    page.keyboard.press("Escape")
    # The dialog's "close" event, which removes it and gives focus back to the link, fires as a queued task.
    expect(page.locator("dialog.mc-lineage-dialog")).to_have_count(0)
    page.wait_for_function("() => document.activeElement.classList.contains('mc-lineage-full')")


def test_without_javascript_the_full_size_link_fills_the_window_with_the_diagram_whose_links_work(
        browser, model_pages) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(model_pages[0])
    diagram = page.locator("#mc-lineage-diagram")
    assert diagram.bounding_box()["width"] < 1440  # in the column
    page.locator("a.mc-lineage-full").first.click()
    page.wait_for_url(re.compile(r".*#mc-lineage-diagram$"))
    assert diagram.bounding_box() == {"x": 0, "y": 0, "width": 1440, "height": 900}  # the whole window
    hrefs = diagram.evaluate("""d => [...d.querySelectorAll('svg a')].map(a =>
        a.getAttributeNS('http://www.w3.org/1999/xlink', 'href')).filter(Boolean)""")
    assert len(hrefs) >= 5
    for href in set(hrefs):
        target = urljoin(page.url, href)
        assert context.request.get(target).status == 200, target
    diagram.get_by_role("link", name="Close the full-size view").click()
    page.wait_for_url(re.compile(r".*#mc-lineage-open$"))
    assert diagram.bounding_box()["width"] < 1440
    assert not diagram.get_by_role("link", name="Close the full-size view").is_visible()
    context.close()


def test_a_nodes_details_show_on_keyboard_focus(desktop, model_pages) -> None:
    page = desktop.new_page()
    page.goto(model_pages[0])
    details = page.locator(".mc-node-details").first
    assert details.is_hidden()
    page.locator(".mc-lineage").first.focus()
    page.keyboard.press("Tab")
    title = page.evaluate("""() => {
        const a = document.activeElement.closest('.mc-lineage svg g.node a');
        return a && a.getAttributeNS('http://www.w3.org/1999/xlink', 'title');
    }""")
    assert title, "Tab from the diagram's region moves into its nodes"
    assert details.is_visible()
    assert details.inner_text().splitlines()[0] == title.splitlines()[0]


def test_a_tap_shows_a_nodes_details_and_a_second_tap_opens_its_page(browser, model_pages) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(model_pages[0])
    index = page.evaluate("""() => [...document.querySelectorAll('.mc-lineage svg g.node a')].findIndex(a =>
        (a.getAttributeNS('http://www.w3.org/1999/xlink', 'href') || '').includes('datasets/'))""")
    node = page.locator(".mc-lineage svg g.node a").nth(index)
    node.tap()
    details = page.locator(".mc-node-details").first
    details.wait_for(state="visible")
    assert details.inner_text().startswith("Dataset version: ")
    assert page.url == model_pages[0], "the first tap shows the details, it does not navigate"
    assert details.get_by_role("link", name="Open its page").is_visible()
    node.tap()
    page.wait_for_url(re.compile(r".*/datasets/[^/]+/$"))
    context.close()


def test_the_diagrams_links_are_in_the_accessibility_tree(desktop, model_pages) -> None:
    page = desktop.new_page()
    page.goto(model_pages[0])
    assert page.locator(".mc-lineage svg[role=img], .mc-lineage[role=img]").count() == 0
    labels = page.evaluate("""() => [...document.querySelectorAll('.mc-lineage svg g.node a')]
        .filter(a => a.getAttributeNS('http://www.w3.org/1999/xlink', 'href'))
        .map(a => a.getAttributeNS('http://www.w3.org/1999/xlink', 'title').replace(/\\s+/g, ' ').trim())""")
    assert len(labels) >= 5
    # Chromium's own accessibility tree, as screen readers get it.
    tree = desktop.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    # A node's link is named by its details (Graphviz's xlink:title), its box's text being part of them.
    links = {" ".join(node.get("name", {}).get("value", "").split()) for node in tree
             if node.get("role", {}).get("value") == "link" and not node.get("ignored")}
    assert [label for label in labels if label not in links] == []
    names = [node.get("name", {}).get("value") for node in tree if node.get("role", {}).get("value") == "region"]
    assert any(name and name.startswith("Lineage of ") for name in names), "the scroll region has a name"


def test_no_request_leaves_the_host(desktop, model_pages, example) -> None:
    _, base = example
    host = urlsplit(base).netloc
    seen: set[str] = set()

    def record(route) -> None:
        where = urlsplit(route.request.url).netloc
        seen.add(where)
        route.continue_() if where == host else route.abort()

    desktop.route("**", record)
    page = desktop.new_page()
    for url in model_pages:
        page.goto(url)
        page.locator("a.mc-lineage-full").first.click()
        page.locator("dialog[open] .svg-pan-zoom_viewport").wait_for()
        page.keyboard.press("Escape")
        for plot in page.locator("img.mc-shap-plot").all():
            plot.scroll_into_view_if_needed()
    assert seen == {host}


def test_every_node_colour_has_a_dark_palette_rule() -> None:
    from modelcards.lineage.dot import NODE_STYLES, STATE_STYLES

    css = (REPO_ROOT / "site_templates/assets/modelcards.css").read_text()
    dark = set(re.findall(r'\[data-md-color-scheme="slate"\][^{]*\.mc-lineage[^{]*\[(fill|stroke)="(#[0-9a-f]{6})"\]',
                          css))
    wanted = {(attribute, style[key]) for _, style in NODE_STYLES.values()
              for attribute, key in (("fill", "fillcolor"), ("stroke", "color")) if key in style}
    wanted |= {(attribute, style[key]) for _, style in STATE_STYLES.values()
               for attribute, key in (("fill", "fillcolor"), ("stroke", "color"), ("fill", "fontcolor"))}
    assert wanted - dark == set()
