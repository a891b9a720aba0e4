"""The example site's deployment monitoring page in Debian's headless Chromium, served under a sub-path.

Reached the way a reader does, from the model page's link; its alert row, its links (the model page, the
Evidently report downloads) under the sub-path, its charts in light and dark palettes, and its width at 390 px.
"""

from __future__ import annotations

import pytest

from conftest import EXAMPLE_SUB_PATH

pytestmark = pytest.mark.browser

MODEL = "models/breast-cancer-classifier/"
OVERFLOW_JS = """() => {
    const scrolls = e => { for (let a = e.parentElement; a; a = a.parentElement) {
        const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
    const wide = [...document.querySelectorAll('article table, article pre, article svg')]
        .filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !scrolls(e))
        .map(e => e.tagName + ': ' + (e.textContent || '').slice(0, 60));
    return {page: document.documentElement.scrollWidth, view: innerWidth, wide};
}"""


@pytest.fixture(scope="module")
def site(example_site: str) -> str:
    return example_site  # the session's one build of the example, served under a sub-path


@pytest.fixture(scope="module")
def context(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(5000)
    yield context
    context.close()


@pytest.fixture(scope="module")
def monitoring_url(context, site: str) -> str:
    """The deployment page, followed from the model page's monitoring link."""
    page = context.new_page()
    page.goto(site + MODEL)
    link = page.locator("a[href*='monitoring/production-']").first
    href = link.get_attribute("href")
    link.click()
    page.wait_for_load_state()
    assert page.url.startswith(site + MODEL + "monitoring/production-"), (href, page.url)
    url = page.url
    page.close()
    return url


def test_the_drift_alert_row_is_visible_and_open(context, monitoring_url: str):
    page = context.new_page()
    page.goto(monitoring_url)
    row = page.locator("#alerts ~ div table tbody tr, #alerts ~ table tbody tr").filter(has_text="drift_share").first
    assert row.is_visible()
    cells = [" ".join(t.split()) for t in row.locator("td").all_inner_texts()]
    assert cells[0] == "2026-06-30" and cells[1] == "drift_share" and cells[-1] == "open", cells
    assert page.locator("svg.mc-monitoring-chart").count() >= 2
    page.close()


def test_every_link_of_the_page_resolves_under_the_sub_path(context, site: str, monitoring_url: str):
    page = context.new_page()
    page.goto(monitoring_url)
    hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
    internal = sorted({h.split("#")[0] for h in hrefs if h.startswith(site.split(EXAMPLE_SUB_PATH)[0])})
    assert site + MODEL in internal  # back to the model page
    downloads = page.locator("a[download]").evaluate_all("links => links.map(a => a.href)")
    # the example commits its snapshots' JSON only; a report, when there is one, is a file beside the page
    assert all(d.startswith(site + MODEL) and d.endswith(".html") for d in downloads), downloads
    assert len(internal) >= 3, internal  # the model page, the page itself, the nav's pages
    broken = []
    for url in internal + downloads:
        assert url.startswith(site), f"{url} leaves the sub-path {EXAMPLE_SUB_PATH}"
        response = context.request.get(url)
        if response.status != 200:
            broken.append(f"{url}: {response.status}")
    assert not broken, broken
    page.close()


@pytest.mark.parametrize("scheme", ["default", "slate"])
@pytest.mark.parametrize("width", [1440, 390])
def test_charts_read_in_both_palettes_and_nothing_overflows(context, monitoring_url: str, width: int, scheme: str,
                                                           tmp_path):
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(monitoring_url)
    page.evaluate("scheme => document.body.setAttribute('data-md-color-scheme', scheme)", scheme)
    found = page.evaluate(OVERFLOW_JS)
    assert found["page"] <= found["view"] and found["wide"] == [], found
    # Chart text is drawn in the page's text colour, so it contrasts with the page's background in both palettes.
    colours = page.evaluate("""() => {
        const svg = document.querySelector('svg.mc-monitoring-chart');
        return {text: getComputedStyle(svg.querySelector('text')).fill,
                page: getComputedStyle(document.querySelector('.md-typeset')).color,
                background: getComputedStyle(document.body).backgroundColor};
    }""")
    assert colours["text"] == colours["page"] != colours["background"], colours
    page.screenshot(path=str(tmp_path / f"monitoring-{width}-{scheme}.png"), full_page=True)
    page.close()
