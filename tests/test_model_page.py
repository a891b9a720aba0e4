"""The model page a reviewer decides from: the header, the versions timeline, comparisons and links.

On the repository's example site, built by the real CLI, served by a real HTTP server and read in Debian's
headless Chromium at desktop (1440 px) and phone (390 px) widths; link escaping on a throwaway project.
"""

from __future__ import annotations

import html
import re

import pytest
import yaml

from conftest import EXAMPLE_MKDOCS_YML, REPO_ROOT, StaticServer, run_modelcards, write_project

pytestmark = pytest.mark.browser

BREAST_CANCER = "models/breast-cancer-classifier/"
MODEL_PAGES = [BREAST_CANCER, "models/wine-cultivar-classifier/", "models/diabetes-progression-regressor/"]
WIDTHS = [1440, 390]


@pytest.fixture(scope="module")
def site(static_server: StaticServer) -> str:
    run_modelcards("build", "-f", EXAMPLE_MKDOCS_YML, "-d", static_server.root / "model-page")
    return static_server.url("/model-page/")


@pytest.fixture(scope="module")
def context(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(5000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    yield page
    page.close()


def version_block(page, label: str):
    heading = page.locator("h3").filter(has_text=re.compile(rf"^Version {re.escape(label)}(?![\w.])"))
    return page.locator(".mc-version", has=heading)


def test_the_header_shows_what_runs_where_linked_to_its_version(page, site: str):
    page.goto(site + BREAST_CANCER)
    header = page.locator(".mc-header")
    text = " ".join(header.inner_text().split())
    for expected in ("status: production", "risk tier: high", "policy: passes",
                     "production: 1.2.0 since 2026-04-06, sign-off approved by Dr. Helen Achterberg and Anna Kowalski",
                     "staging: 1.2.0 since 2026-03-24", "Owners: Clinical ML team (owner, clinical-ml@example.com)",
                     "As of "):
        assert expected in text
    live = header.locator("li a")
    assert live.count() == 2
    for index in range(2):
        href = live.nth(index).get_attribute("href")
        assert href.startswith("#version-")
        assert page.locator(href).inner_text().startswith("Version 1.2.0")
    live.first.click()
    assert page.url.endswith("#version-3")
    assert page.locator(".mc-header a.mc-chip[href='#policy']").count() == 1 and page.locator("#policy").count() == 1
    # The drifted June window of the example's monitoring results is still outside its band: one open alert.
    monitoring = page.locator(".mc-header a.mc-chip[href='#monitoring']")
    assert monitoring.inner_text() == "monitoring: 1 open alert"
    assert page.locator("#monitoring").inner_text().startswith("Post-market monitoring")


def test_the_timeline_is_newest_first_and_marks_the_rollback_with_its_date(page, site: str):
    page.goto(site + BREAST_CANCER)
    headings = page.locator(".mc-version h3").all_inner_texts()
    assert [h.rstrip("¶").strip() for h in headings] == ["Version 1.2.0", "Version 1.1.0", "Version 1.0.0"]
    rolled_back = version_block(page, "1.1.0")
    assert rolled_back.locator(".mc-state-rolled_back").inner_text() == "rolled back"
    assert "rolled back in production on 2026-03-03 (back to 1.0.0)" in rolled_back.inner_text()
    assert "fails ≥ 0.95" in rolled_back.locator(".mc-version-metrics").inner_text(), "recall 0.9057 misses the gate"
    live = version_block(page, "1.2.0")
    assert live.locator(".mc-state-deployed").count() == 1
    assert "Approved by Dr. Helen Achterberg (clinical safety reviewer) on 2026-03-30 and Anna Kowalski" \
        in " ".join(live.inner_text().split())


def test_a_version_is_compared_with_the_one_it_replaced_in_production(page, site: str):
    page.goto(site + BREAST_CANCER)
    newest = version_block(page, "1.2.0")
    text = " ".join(newest.inner_text().split())
    # 1.1.0 came in between but was rolled back: 1.2.0 replaced 1.0.0 in production.
    assert "Compared with 1.0.0, which it replaced in production: 2 setting(s) changed; data changed" in text
    assert "recall 0.9811 (+0.0566)" in " ".join(newest.locator(".mc-version-metrics").inner_text().split())
    assert "Compared with 1.0.0, the version before it" in version_block(page, "1.1.0").inner_text()
    newest.locator("details.mc-version-details > summary").click()
    settings = newest.locator("table", has=page.locator("th:text-is('Setting')"))
    assert settings.locator("th").all_inner_texts()[-1] == "Before (1.0.0)"
    shap = newest.locator("details.mc-explanation")
    shap.locator("summary").click()
    assert "Since 1.0.0." in shap.inner_text()


def test_details_are_folded_and_open_from_a_link(page, site: str):
    page.goto(site + BREAST_CANCER)
    details = page.locator(".mc-version details")
    assert details.count() >= 6 and all(not d.evaluate("d => d.open") for d in details.all())
    # A link into a folded section (the lineage and the runs link here) opens it.
    page.goto(site + BREAST_CANCER + "#version-2-explainability")
    assert page.locator("#version-2-explainability").is_visible()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", MODEL_PAGES)
def test_nothing_overflows_outside_a_scroll_container(page, site: str, path: str, width: int):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + path)
    for opened in (False, True):
        if opened:
            page.locator("details").evaluate_all("details => details.forEach(d => d.open = true)")
        found = page.evaluate("""() => {
            const scrolls = e => { for (let a = e.parentElement; a; a = a.parentElement) {
                const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
            const wide = [...document.querySelectorAll('article table, article pre')]
                .filter(e => e.scrollWidth > e.clientWidth + 1 && !scrolls(e))
                .map(e => e.tagName + ': ' + e.innerText.slice(0, 60));
            return {page: document.documentElement.scrollWidth, view: innerWidth, wide};
        }""")
        assert found["page"] <= found["view"], (opened, found)
        assert found["wide"] == [], (opened, found)


def _normalized(text: str) -> str:
    return " ".join(text.split())


def test_printing_keeps_every_versions_changes_and_reason(page, site: str):
    # Neither pypdf nor pdftotext is installed here, so the PDF's text cannot be read back: the test prints the
    # page (page.pdf) to be sure it prints, and reads the text Chromium lays out for print media.
    card = yaml.safe_load((REPO_ROOT / "cards/breast-cancer-classifier.yml").read_text(encoding="utf-8"))
    page.goto(site + BREAST_CANCER)
    page.emulate_media(media="print")
    assert page.pdf(format="A4").startswith(b"%PDF")
    printed = _normalized(page.locator("article").inner_text())
    for version in card["versions"]:
        for key in ("changes", "reason"):
            assert _normalized(version[key]) in printed, (version["version"], key)


LINKS_CARD = """\
name: linked
title: Linked
model_details:
  references:
    - https://example.org/paper.pdf
    - "Design doc at https://docs.example.org/design?id=4&x=\\"y\\", section 2."
    - "javascript:alert(1)"
    - "file:///etc/passwd"
versions:
  - version: "1.0"
    date: "2024-01-01"
    code: {repo: "https://git.example.com/ml/linked", commit: 4be1f0c9a8d7e6f5}
  - version: "2.0"
    date: "2024-02-01"
    code: {repo: "https://git.example.com/ml/linked", commit: "<b>x</b>"}
"""


def test_commits_and_reference_urls_are_links_other_schemes_stay_text(tmp_path):
    no_lineage_checks = {check: "off" for check in ("no_data_version", "no_run")}
    mkdocs_yml = write_project(tmp_path, {"linked.yml": LINKS_CARD}, repo_url="https://git.example.com/ml/linked",
                               plugins=["search", {"modelcards": {"lineage_checks": no_lineage_checks}}])
    run_modelcards("build", "-f", mkdocs_yml, "-d", tmp_path / "site", cwd=tmp_path)
    page = (tmp_path / "site/models/linked/index.html").read_text(encoding="utf-8")
    assert '<a href="https://example.org/paper.pdf">https://example.org/paper.pdf</a>' in page
    assert '<a href="https://docs.example.org/design?id=4&amp;x=">' in page, "a quote ends the URL"
    assert "javascript:alert(1)" in page and 'href="javascript:' not in page
    assert "file:///etc/passwd" in page and 'href="file:' not in page
    assert ('<a href="https://git.example.com/ml/linked/commit/4be1f0c9a8d7e6f5"><code>4be1f0c9a8</code></a>'
            in page)
    assert "<b>x</b>" not in page and html.escape("<b>x</b>") in page
    assert 'href="https://git.example.com/ml/linked/commit/%3Cb%3Ex%3C/b%3E"' in page
