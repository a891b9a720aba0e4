"""Compare pages: the example site's breast-cancer versions, served by a real HTTP server, in headless Chromium."""

from __future__ import annotations

import json

import pytest
import yaml
from playwright.sync_api import Page

from browsing import ACTIVE_CONTENT_JS, crawl, record
from conftest import REPO_ROOT, StaticServer, run_modelcards, write_project

pytestmark = pytest.mark.browser

MODEL = "breast-cancer-classifier"
CARD = yaml.safe_load((REPO_ROOT / "cards" / f"{MODEL}.yml").read_text(encoding="utf-8"))
CARDS = {path.stem for path in (REPO_ROOT / "cards").glob("*.yml")}
VERSIONS = {v["version"]: v for v in CARD["versions"]}


@pytest.fixture(scope="module")
def site(example_site: str) -> str:
    """The example site, built once for the session by conftest."""
    return example_site


@pytest.fixture(scope="module")
def browsing(browser, site: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield record(context)
    context.close()


def visible_rows(page: Page, heading: str, section: str | None = None) -> list[str]:
    """The first cell of each visible row of the table under ``heading`` (an h3): in the pre-built comparison
    whose heading has the id ``section``, or else in the pair picked in the page."""
    return page.evaluate("""([heading, section]) => {
        const named = h => h.textContent.replace('¶', '').trim() === heading;
        let h;
        if (section) {
            let e = document.getElementById(section).nextElementSibling;
            while (e && e.tagName !== 'H2' && !(e.tagName === 'H3' && named(e))) e = e.nextElementSibling;
            h = e && e.tagName === 'H3' ? e : null;
        } else {
            h = [...document.querySelectorAll('.mc-compare-picked h3')].filter(named).pop();
        }
        if (!h) throw new Error('no heading ' + heading + ' in ' + section);
        let e = h.nextElementSibling;
        while (e && !e.querySelector('table') && !/^H[23]$/.test(e.tagName)) e = e.nextElementSibling;
        if (!e || !e.querySelector('table')) return [];
        return [...e.querySelectorAll('tbody tr')].filter(r => r.offsetParent !== null)
            .map(r => r.cells[0].textContent.trim());
    }""", [heading, section])


def section_text(page: Page, section: str) -> str:
    """What a reader sees of the pre-built comparison under the heading with the id ``section``, up to the next
    comparison's heading."""
    return page.evaluate("""section => {
        const parts = [];
        let e = document.getElementById(section);
        do { parts.push(e.innerText); e = e.nextElementSibling; } while (e && e.tagName !== 'H2');
        return parts.join('\\n');
    }""", section)


def changed_params(before: str, after: str) -> set[str]:
    old, new = VERSIONS[before]["params"], VERSIONS[after]["params"]
    return {key for key in {*old, *new} if str(old.get(key)) != str(new.get(key))}


def test_prebuilt_comparisons_show_only_the_params_that_differ_and_the_toggle_shows_all(browsing, site: str):
    page = browsing.new_page()
    # The model page's "Compare" line leads to the pair's section of the one compare page.
    page.goto(site + f"models/{MODEL}/", wait_until="load")
    page.locator("article a", has_text="1.0.0 → 1.1.0").first.click()
    page.wait_for_url(site + f"models/{MODEL}/compare/#1.0.0...1.1.0")
    heading = page.locator("[id='1.0.0...1.1.0']")
    assert heading.evaluate("h => h.tagName") == "H2"
    assert heading.inner_text().replace("¶", "").strip() == "1.0.0 → 1.1.0"
    assert heading.evaluate("h => { const r = h.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }")

    shown = visible_rows(page, "Params", "1.0.0...1.1.0")
    assert sorted(shown) == sorted(["estimator", "standardize", "C", "max_iter", "n_estimators", "learning_rate",
                                    "max_depth", "subsample", "random_state"])
    assert set(shown) == changed_params("1.0.0", "1.1.0")
    assert visible_rows(page, "Code", "1.0.0...1.1.0") == []  # the same commit, repository and path: hidden
    text = section_text(page, "1.0.0...1.1.0")
    assert "No code fields differ (3 the same)." in text
    assert "a deployment on 2026-02-24 in production replaced 1.0.0 with 1.1.0" in text
    assert "they are consecutive versions" in text
    assert "a rollback on 2026-03-03" not in text  # the next comparison's reasons are not this one's

    toggles = page.get_by_label("Show everything, the rows that are the same too")
    assert toggles.count() == 4  # one in each comparison, in sight where it is read
    toggles.first.check()
    assert all(toggles.nth(index).is_checked() for index in range(4))  # one of them checks all
    everything = visible_rows(page, "Params", "1.0.0...1.1.0")
    assert sorted(everything) == sorted({*VERSIONS["1.0.0"]["params"], *VERSIONS["1.1.0"]["params"]})
    assert visible_rows(page, "Code", "1.0.0...1.1.0") == ["repository", "commit", "path"]
    page.close()


def test_the_compare_page_lists_each_prebuilt_comparison_under_its_anchor(browsing, site: str):
    page = browsing.new_page()
    page.goto(site + f"models/{MODEL}/compare/", wait_until="load")
    sections = page.evaluate("() => [...document.querySelectorAll('article h2')].map(h => h.id)")
    data = json.loads(browsing.context.request.get(site + f"models/{MODEL}/versions.json").text())
    assert sorted(sections[:-1]) == sorted(data["pages"]) and sections[-1] == "pick-two-versions"
    for pair, url in data["pages"].items():
        assert url == f"models/{MODEL}/compare/#{pair}"
    listed = page.evaluate("() => [...document.querySelectorAll('article > ul')][0].querySelectorAll('a').length")
    assert listed == len(data["pages"])
    page.close()


def test_metric_deltas_and_threshold_marks(browsing, site: str):
    page = browsing.new_page()
    page.goto(site + f"models/{MODEL}/compare/#1.1.0...1.2.0", wait_until="load")
    deltas = page.evaluate("""() => {
        const found = {};
        let e = document.getElementById('1.1.0...1.2.0').nextElementSibling;
        for (; e && e.tagName !== 'H2'; e = e.nextElementSibling)
            for (const r of e.querySelectorAll('tr'))
                if (r.querySelector('[data-delta]'))
                    found[r.cells[0].textContent.trim()] = parseFloat(r.querySelector('[data-delta]').dataset.delta);
        return found;
    }""")
    expected = {name: VERSIONS["1.2.0"]["metrics"][name] - VERSIONS["1.1.0"]["metrics"][name]
                for name in VERSIONS["1.2.0"]["metrics"]}
    assert deltas.keys() == expected.keys()
    for name, delta in expected.items():
        assert deltas[name] == pytest.approx(delta, abs=1e-9), name
    recall = [line for line in section_text(page, "1.1.0...1.2.0").splitlines() if line.startswith("recall")]
    assert recall and "fails" in recall[0] and "better" in recall[0]  # 1.1.0's 0.9057 is under the 0.95 gate
    page.close()


def test_rollback_comparison_says_why(browsing, site: str):
    page = browsing.new_page()
    page.goto(site + f"models/{MODEL}/compare/#1.1.0...1.0.0", wait_until="load")
    assert "a rollback on 2026-03-03 in production replaced 1.1.0 with 1.0.0" in section_text(page, "1.1.0...1.0.0")
    page.close()


def test_picker_compares_a_pair_without_a_page(browsing, site: str):
    page = browsing.new_page()
    page.goto(site + f"models/{MODEL}/compare/", wait_until="load")
    page.get_by_label("Version A").select_option("1.2.0")
    page.get_by_label("Version B").select_option("1.1.0")
    page.get_by_role("button", name="Compare").click()
    page.locator(".mc-compare-picked").wait_for()
    assert "#compare=1.2.0...1.1.0" in page.url
    data = json.loads(browsing.context.request.get(site + f"models/{MODEL}/versions.json").text())
    assert "1.2.0...1.1.0" not in data["pages"]  # no pre-built page for this pair
    assert set(visible_rows(page, "Params")) == changed_params("1.2.0", "1.1.0")
    deltas = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.mc-compare-picked tr')]
        .filter(r => r.querySelector('[data-delta]'))
        .map(r => [r.cells[0].textContent.trim(), parseFloat(r.querySelector('[data-delta]').dataset.delta)]))""")
    for name, value in VERSIONS["1.1.0"]["metrics"].items():
        assert deltas[name] == pytest.approx(value - VERSIONS["1.2.0"]["metrics"][name], abs=1e-9), name
    page.get_by_label("Show everything, the rows that are the same too").last.check()
    assert sorted(visible_rows(page, "Params")) == sorted({*VERSIONS["1.1.0"]["params"], *VERSIONS["1.2.0"]["params"]})

    # Every link the script drew resolves, anchors included.
    links = page.evaluate("() => [...document.querySelectorAll('.mc-compare-picked a')].map(a => a.href)")
    assert links
    for link in links:
        target, _, anchor = link.partition("#")
        response = browsing.context.request.get(target)
        assert response.status == 200, link
        if anchor:
            assert f'id="{anchor}"' in response.text(), link

    # Opening the link of a pick shows the same pair.
    page.goto(site + f"models/{MODEL}/compare/#compare=1.2.0...1.1.0", wait_until="load")
    page.locator(".mc-compare-picked").wait_for()
    assert "Version 1.2.0 → 1.1.0" in page.locator(".mc-compare-picked h2").inner_text()
    assert not browsing.script_errors, browsing.script_errors
    page.close()


def test_every_link_on_and_to_compare_pages_resolves(browsing, site: str):
    found = crawl(browsing, site)
    compare_pages = [url for url in found.html_pages(under="models/") if "/compare/" in url]
    models = {url.removeprefix(site + "models/").split("/")[0] for url in found.html_pages(under="models/")}
    # One compare page per model, its pre-built comparisons sections of it: no page per pair.
    assert compare_pages == sorted(site + f"models/{model}/compare/" for model in models if model in CARDS)
    # Links on compare pages, and links to their sections from model pages: the page and the anchor exist.
    problems = [problem for problem in found.problems if "/compare/" in problem]
    assert not problems, "\n".join(problems)


SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def test_hostile_values_stay_text_on_the_page_and_in_the_picker(browser, static_server: StaticServer,
                                                                tmp_path_factory):
    card = f"""
        name: hostile
        title: Hostile
        metrics: [{{name: acc, threshold: 0.9}}]
        versions:
          - version: "1.0"
            date: "2024-01-01"
            metrics: {{acc: 0.95}}
            params: {{payload: {json.dumps(SCRIPT)}, same: {json.dumps(IMG)}}}
            data: [{{dataset: {json.dumps("d")}, version: {json.dumps(IMG)}, digest: {json.dumps(SCRIPT)}}}]
          - version: "{IMG}"
            date: "2024-02-01"
            metrics: {{acc: 0.5}}
            params: {{payload: {json.dumps(IMG)}, same: {json.dumps(IMG)}}}
        deployments:
          - {{environment: {json.dumps(SCRIPT)}, version: "1.0", date: "2024-01-02", by: x}}
          - {{environment: {json.dumps(SCRIPT)}, version: {json.dumps(IMG)}, date: "2024-02-02", by: x}}
    """
    mkdocs_yml = write_project(tmp_path_factory.mktemp("hostile"), {"hostile.yml": card},
                               repo_url="https://git.example.com/ml/hostile")
    run_modelcards("build", "-f", mkdocs_yml, "-d", static_server.root / "hostile", cwd=mkdocs_yml.parent)
    site = static_server.url("/hostile/")
    context = browser.new_context()
    recorded = record(context)
    found = crawl(recorded, site)
    assert not found.problems, "\n".join(found.problems)
    assert found.html_pages(under="models/hostile/compare/") == [site + "models/hostile/compare/"]

    page = recorded.new_page()
    page.goto(site + "models/hostile/compare/", wait_until="load")
    assert page.evaluate(ACTIVE_CONTENT_JS) == []
    [section] = page.evaluate("() => [...document.querySelectorAll('article h2')].map(h => h.id).slice(0, -1)")
    assert section.startswith("1.0..._img_src_x_onerror_alert_1__-")  # the label made anchor-safe, hashed
    assert page.locator(f"[id='{section}']").inner_text().replace("¶", "").strip() == f"1.0 → {IMG}"
    assert visible_rows(page, "Params", section) == ["payload"]  # `same` is the same in both
    assert f"payload\t{SCRIPT}\t{IMG}" in section_text(page, section)

    page.goto(site + "models/hostile/compare/#compare=" + "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E...1.0",
              wait_until="load")
    page.locator(".mc-compare-picked").wait_for()
    page.get_by_label("Show everything, the rows that are the same too").last.check()
    page.wait_for_timeout(300)  # give an injected image time to fail and fire its handler
    assert page.evaluate(ACTIVE_CONTENT_JS) == []
    picked = page.locator(".mc-compare-picked").inner_text()
    assert f"payload\t{IMG}\t{SCRIPT}" in picked and f"same\t{IMG}\t{IMG}" in picked
    assert f"Version {IMG} → 1.0" in picked
    assert not recorded.dialogs and not recorded.script_errors, (recorded.dialogs, recorded.script_errors)
    context.close()


def test_a_model_of_one_version_gets_no_compare_page(tmp_path):
    """Nothing to compare: no page of a picker with one version to pick, no versions.json, no link to either."""
    mkdocs_yml = write_project(tmp_path, {
        "single.yml": """
            name: single
            title: Single
            versions:
              - {version: "1.0", date: "2024-01-01"}
        """,
        "pair.yml": """
            name: pair
            title: Pair
            versions:
              - {version: "1.0", date: "2024-01-01"}
              - {version: "1.1", date: "2024-02-01"}
        """})
    result = run_modelcards("build", "-f", mkdocs_yml, "-d", tmp_path / "site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    site = tmp_path / "site/models"
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("compare/index.html")) == ["pair/compare/index.html"]
    assert not (site / "single/versions.json").exists()
    versions = (site / "pair/versions.json").read_text(encoding="utf-8")  # compact: only the picker reads it
    assert versions.count("\n") == 1 and json.loads(versions)["model"] == "pair"
    assert "compare/" not in (site / "single/index.html").read_text(encoding="utf-8")
    assert 'href="compare/"' in (site / "pair/index.html").read_text(encoding="utf-8")
