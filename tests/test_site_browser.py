"""The built site, served under a sub-path by a real HTTP server and driven in Debian's headless Chromium.

The example site is built from the repository's own mkdocs.yml and cards/; model names are discovered from
the built catalog, never assumed. Sites whose content the tests must control (the catalog controls and the
escaping checks) are built from throwaway projects.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page
from playwright.sync_api import Error as PlaywrightError

from browsing import ACTIVE_CONTENT_JS, Crawl, RecordedContext, crawl, heading_text, record
from conftest import REPO_ROOT, StaticServer, read_mkdocs_yml, run_modelcards, write_project

pytestmark = pytest.mark.browser

# --- the example site (built once and served under a sub-path by conftest's example_site) --------------------

@pytest.fixture(scope="module")
def example_browsing(browser, example_site: str):
    """One recorded browser context for everything done on the example site."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield record(context)
    context.close()


@pytest.fixture(scope="module")
def example_crawl(example_browsing: RecordedContext, example_site: str) -> Crawl:
    return crawl(example_browsing, example_site)


@dataclass(frozen=True)
class CatalogModel:
    title: str
    url: str  # absolute, as the catalog links it


def catalog_models(page: Page) -> list[CatalogModel]:
    """The models the catalog on the current page lists: the link in each row's first cell."""
    rows = page.evaluate("""() => [...document.querySelectorAll('.mc-catalog table tbody tr')].map(row => {
        const link = row.cells[0].querySelector('a');
        return link ? [link.textContent.trim(), link.href] : null;
    })""")
    assert rows and all(rows), f"{page.url}: catalog rows without a model link: {rows}"
    return [CatalogModel(title, url) for title, url in rows]


@dataclass(frozen=True)
class SearchOutcome:
    model: CatalogModel
    result_urls: list[str]
    landed_on: str | None
    landed_heading: str | None


def search_for(page: Page, model: CatalogModel) -> SearchOutcome:
    """Type the model's title into Material's header search and click the result that links to its page."""
    query = page.locator("input.md-search__input")
    query.click()
    query.fill("")
    query.press_sequentially(model.title, delay=10)
    wanted = urlsplit(model.url).path
    results = page.locator(".md-search-result__list a.md-search-result__link")
    try:
        results.first.wait_for(state="visible", timeout=5000)
        page.wait_for_function(
            "path => [...document.querySelectorAll('.md-search-result__list a')]"
            ".some(a => new URL(a.href).pathname === path)", arg=wanted, timeout=3000)
    except PlaywrightError:
        pass  # reported below with the results that did show
    urls = results.evaluate_all("links => links.map(a => a.href)")
    match = next((i for i, url in enumerate(urls) if urlsplit(url).path == wanted), None)
    if match is None:
        return SearchOutcome(model, urls, None, None)
    with page.expect_navigation():
        results.nth(match).click()
    return SearchOutcome(model, urls, page.url, heading_text(page))


@pytest.fixture(scope="module")
def example_searches(example_browsing: RecordedContext, example_site: str) -> list[SearchOutcome]:
    page = example_browsing.new_page()
    page.goto(example_site)
    models = catalog_models(page)
    outcomes = [search_for(page, model) for model in models[:6]]
    page.close()
    return outcomes


def test_crawl_every_internal_link_and_fragment_resolves(example_crawl: Crawl, example_browsing: RecordedContext):
    pages = example_crawl.html_pages()
    assert len(pages) >= 5, f"crawl from {example_crawl.start} reached only {pages}"
    assert example_crawl.html_pages(under="models/"), f"no model page reached: {pages}"
    assert not example_crawl.problems, (
        f"{len(example_crawl.problems)} broken link(s) on {len(pages)} crawled pages:\n"
        + "\n".join(example_crawl.problems))
    assert not example_browsing.script_errors, "script errors:\n" + "\n".join(example_browsing.script_errors)


def test_header_search_finds_each_model_by_title_and_opens_its_page(example_searches: list[SearchOutcome]):
    assert example_searches, "the catalog lists no models"
    failures = []
    for outcome in example_searches:
        expected_path = urlsplit(outcome.model.url).path
        if outcome.landed_on is None:
            failures.append(f"searching {outcome.model.title!r}: no result links to {expected_path}; "
                            f"results: {outcome.result_urls}")
        elif urlsplit(outcome.landed_on).path != expected_path or outcome.landed_heading != outcome.model.title:
            failures.append(f"searching {outcome.model.title!r}: clicking the result landed on "
                            f"{outcome.landed_on} titled {outcome.landed_heading!r}")
    assert not failures, "\n".join(failures)


def test_header_search_finds_a_run_by_its_id(example_browsing: RecordedContext, example_site: str):
    """A run page's tables are left out of search (tests/test_search_index.py); its key facts are not."""
    page = example_browsing.new_page()
    page.goto(example_site + "runs/")
    run_url = page.locator(".mc-catalog table tbody tr td:first-child a").first.evaluate("a => a.href")
    page.goto(run_url)
    run_id = page.locator("td:text-is('Run id') + td code").inner_text()
    outcome = search_for(page, CatalogModel(run_id, run_url))
    page.close()
    assert outcome.landed_on is not None, f"searching {run_id!r}: no result links to its page; {outcome.result_urls}"
    assert urlsplit(outcome.landed_on).path == urlsplit(run_url).path


def test_no_request_leaves_the_host(example_crawl: Crawl, example_searches: list[SearchOutcome],
                                    example_browsing: RecordedContext, example_site: str):
    host = urlsplit(example_site).hostname
    assert any(url.endswith("/search/search_index.json") for url in example_browsing.requests), \
        "the search index was never requested, so the log does not cover search"
    offenders = sorted({url for url in example_browsing.requests
                        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != host})
    assert not offenders, f"{len(offenders)} request(s) to hosts other than {host}:\n" + "\n".join(offenders)


def test_model_pages_link_to_their_card_for_editing(example_crawl: Crawl, example_browsing: RecordedContext):
    config = read_mkdocs_yml()
    repo_url = config["repo_url"].rstrip("/")
    options = next(p["modelcards"] for p in config["plugins"] if isinstance(p, dict) and "modelcards" in p)
    cards_dir = (options or {}).get("cards_dir", "cards")
    # Compare and monitoring pages (models/<name>/compare/, .../monitoring/) hold no key facts: they are about two
    # versions, or one deployment, not the card.
    model_pages = [url for url in example_crawl.html_pages(under="models/")
                   if "/compare/" not in url and "/monitoring/" not in url]
    assert model_pages, "no model pages were crawled"
    page = example_browsing.new_page()
    failures = []
    for url in model_pages:
        page.goto(url)
        card_path = page.evaluate("""() => {
            const row = [...document.querySelectorAll('.mc-facts tr')]
                .find(r => r.cells[0] && r.cells[0].textContent.trim() === 'Card');
            return row ? row.cells[1].querySelector('code').textContent : null;
        }""")
        edit = page.get_by_role("link", name="Edit this card", exact=True)
        hrefs = edit.evaluate_all("links => links.map(a => a.href)")
        button = page.locator("a.md-content__button[rel=edit]").evaluate_all("links => links.map(a => a.href)")
        if not card_path or not card_path.startswith(f"{cards_dir}/") or not (REPO_ROOT / card_path).is_file():
            failures.append(f"{url}: key facts name card {card_path!r}, not a file under {cards_dir}/")
        elif len(hrefs) != 1 or not hrefs[0].startswith(repo_url + "/") or not hrefs[0].endswith("/" + card_path):
            failures.append(f"{url}: 'Edit this card' links {hrefs}, expected one {repo_url}/.../{card_path}")
        elif button != hrefs:
            failures.append(f"{url}: Material's edit button goes to {button}, not to the card {hrefs}")
    page.close()
    assert not failures, "\n".join(failures)


def test_example_catalog_gets_filter_box_and_facets_counting_every_model(example_browsing: RecordedContext,
                                                                         example_site: str):
    page = example_browsing.new_page()
    page.goto(example_site)
    rows = len(catalog_models(page))
    assert page.locator(".mc-catalog input.mc-filter").count() == 1
    assert page.locator(".mc-catalog .mc-count").inner_text() == f"{rows} of {rows} shown"
    legends = page.locator(".mc-facet legend").all_inner_texts()
    assert legends == ["Status", "Risk tier", "Owner", "Tag", "Deployed in", "Policy"]  # the example has a policy
    # Each model has one status, one risk tier and one policy state: those facets' counts add up to the rows.
    for facet in ("status", "risk", "policy"):
        counts = page.locator(f".mc-facet[data-facet={facet}] .mc-facet-count").all_inner_texts()
        assert sum(int(count.strip("()")) for count in counts) == rows, (facet, counts)
    page.close()


# --- catalog filter and sort, on cards whose content the test controls ---------------

CATALOG_CARDS = {
    "alpha.yml": """
        name: alpha
        title: Alpha churn predictor
        summary: Predicts which subscribers cancel.
        owners: [{name: Growth team}]
        status: production
        versions: [{version: "1.9.0", date: "2024-03-01"}]
    """,
    "beta.yml": """
        name: beta
        title: beta fraud scorer
        summary: Scores card payments.
        owners: [{name: Risk team}]
        status: staging
        versions: [{version: "1.10.0", date: "2024-02-01"}]
    """,
    "gamma.yml": """
        name: gamma
        title: Gamma demand forecaster
        summary: Forecasts weekly demand.
        owners: [{name: Supply team}]
        status: draft
        versions: [{version: "0.2.0", date: "2024-01-01"}]
    """,
}


@pytest.fixture(scope="module")
def catalog_site(static_server: StaticServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    # Catalog cards without runs: only the lineage checks would warn, and --strict guards everything else.
    no_lineage_checks = {check: "off" for check in ("no_data_version", "no_code_commit", "no_run")}
    mkdocs_yml = write_project(tmp_path_factory.mktemp("catalog-project"), CATALOG_CARDS,
                               plugins=["search", {"modelcards": {"lineage_checks": no_lineage_checks}}])
    run_modelcards("build", "--strict", "-f", mkdocs_yml, "-d", static_server.root / "teams" / "catalog",
                   cwd=mkdocs_yml.parent)
    return static_server.url("/teams/catalog/")


def visible_titles(page: Page) -> list[str]:
    return page.locator(".mc-catalog tbody tr:visible td:first-child a").all_inner_texts()


def test_catalog_filter_narrows_rows_and_headers_sort_them(browser, catalog_site: str):
    context = browser.new_context()
    recorded = record(context)
    page = recorded.new_page()
    page.goto(catalog_site)
    everything = ["Alpha churn predictor", "beta fraud scorer", "Gamma demand forecaster"]
    assert sorted(visible_titles(page), key=str.lower) == everything
    count = page.locator(".mc-catalog .mc-count")

    box = page.locator(".mc-catalog input.mc-filter")
    box.fill("FRAUD")  # case-insensitive, matches the title of one row only
    assert visible_titles(page) == ["beta fraud scorer"]
    assert count.inner_text() == "1 of 3 shown"
    box.fill("production subscribers")  # every word must match: status cell and summary of one row
    assert visible_titles(page) == ["Alpha churn predictor"]
    box.fill("zebra")
    assert visible_titles(page) == []
    assert count.inner_text() == "0 of 3 shown"
    box.fill("")
    assert sorted(visible_titles(page), key=str.lower) == everything
    assert count.inner_text() == "3 of 3 shown"

    model_header = page.locator(".mc-catalog thead th", has_text="Model")
    model_header.click()
    assert visible_titles(page) == everything  # case-insensitive: beta sorts between Alpha and Gamma
    assert model_header.get_attribute("aria-sort") == "ascending"
    model_header.click()
    assert visible_titles(page) == everything[::-1]
    assert model_header.get_attribute("aria-sort") == "descending"

    version_header = page.locator(".mc-catalog thead th", has_text="Latest version")
    version_header.focus()
    page.keyboard.press("Enter")  # sortable by keyboard too
    assert page.locator(".mc-catalog tbody tr td:nth-child(5)").all_inner_texts() == [
        "0.2.0 (2024-01-01) draft", "1.9.0 (2024-03-01) draft", "1.10.0 (2024-02-01) draft",
    ]  # numeric, not text, order; each with its derived state (no approvals: draft)
    assert model_header.get_attribute("aria-sort") == "none"

    box.fill("team")  # sorting keeps the filter's choice and the filter keeps the sort order
    assert visible_titles(page) == ["Gamma demand forecaster", "Alpha churn predictor", "beta fraud scorer"]
    assert not recorded.script_errors, recorded.script_errors
    context.close()


# --- escaping: card text must show as text, never run -----------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
MD_LINK = "[click](javascript:alert(1))"
ATTR_LIST = "{: onclick=alert(1) }"
PAYLOAD = f"{SCRIPT} {IMG} {MD_LINK} {ATTR_LIST}"
PAYLOADS = (SCRIPT, IMG, MD_LINK, ATTR_LIST)


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


P = _yaml(PAYLOAD)
XSS_CARDS = {
    "evil.yml": f"""
        name: evil-model
        title: {_yaml("Evil " + PAYLOAD)}
        summary: {P}
        owners: [{{name: {P}, contact: {P}, role: {P}}}]
        tags: [xss]
        license: {P}
        model_details:
          framework: {P}
          inputs: [{{name: {P}, type: {P}, description: {P}}}]
          references: [{P}]
          citation: {P}
        intended_use: {{primary_uses: [{P}], out_of_scope: [{P}]}}
        factors: [{{name: {P}, description: {P}}}]
        metrics: [{{name: acc, description: {P}, threshold: 0.9}}]
        training_data: {{datasets: [evil-data], description: {P}, preprocessing: {P}}}
        quantitative_analyses: [{{metric: acc, slice: {P}, value: 0.5}}]
        ethical_considerations: [{{name: {P}, mitigation: {P}}}]
        caveats: [{P}]
        recommendations: [{P}]
        versions:
          - version: "1.0"
            date: "2024-01-01"
            metrics: {{acc: 0.95}}
            params: {{payload: {_yaml(SCRIPT)}, other: {P}}}
            data: [{{dataset: evil-data, version: {P}, digest: {P}}}]
          - version: "2.0"
            date: "2024-02-01"
            changes: {P}
            reason: {P}
            metrics: {{acc: 0.5}}
            params: {{payload: {_yaml(IMG)}, other: {P}}}
            data: [{{dataset: evil-data, version: {P}}}]
            code: {{repo: {P}, commit: {P}, path: {P}}}
            run: {P}
        deployments:
          - {{environment: {P}, version: "2.0", date: "2024-02-02", by: {P}, reason: {P}, rollback_of: "1.0"}}
        custom:
          note: {P}
          {_yaml("key " + SCRIPT)}: {P}
          nested: {{list: [{P}]}}
    """,
    "evil-data.yml": f"""
        kind: dataset
        name: evil-data
        title: {_yaml("Data " + PAYLOAD)}
        description: {P}
        source: {P}
        owner: {{name: {P}, contact: {P}}}
        license: {P}
        tags: [xss]
        versions: [{{version: {P}, digest: {P}, description: {P}}}]
        custom: {{note: {P}}}
    """,
}

@pytest.fixture(scope="module")
def xss_site(static_server: StaticServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    mkdocs_yml = write_project(tmp_path_factory.mktemp("xss-project"), XSS_CARDS,
                               repo_url="https://git.example.com/ml/evil", edit_uri="-/edit/main/docs/")
    run_modelcards("build", "-f", mkdocs_yml, "-d", static_server.root / "xss", cwd=mkdocs_yml.parent)
    return static_server.url("/xss/")


def test_card_text_is_shown_as_text_and_never_runs(browser, xss_site: str):
    context = browser.new_context()
    recorded = record(context)
    site = crawl(recorded, xss_site)
    assert not site.problems, "\n".join(site.problems)
    crosswalk_pages = [url for url in site.html_pages(under="models/") if url.endswith("/crosswalk/")]
    compare_pages = [url for url in site.html_pages(under="models/") if "/compare/" in url]
    model_pages = [url for url in site.html_pages(under="models/") if url not in (*crosswalk_pages, *compare_pages)]
    dataset_pages = [url for url in site.html_pages(under="datasets/") if url != xss_site + "datasets/"]
    assert len(model_pages) == 1 and len(crosswalk_pages) == 1 and len(dataset_pages) == 1, site.html_pages()

    page = recorded.new_page()
    failures = []
    for url in site.html_pages():
        page.goto(url, wait_until="load")
        failures += [f"{url}: {found}" for found in page.evaluate(ACTIVE_CONTENT_JS)]
        if url in (xss_site, *model_pages, *crosswalk_pages, *dataset_pages):
            text = page.locator("article").inner_text()
            failures += [f"{url}: {payload!r} is not shown as text" for payload in PAYLOADS if payload not in text]

    page.goto(model_pages[0], wait_until="load")
    page.locator("details").evaluate_all("details => details.forEach(d => d.open = true)")  # params are folded
    text = page.locator("article").inner_text()
    assert heading_text(page) == "Evil " + PAYLOAD
    assert page.title() == f"Evil {PAYLOAD} - Test site"  # the front matter title, escaped once, not twice
    for shown in (f"payload\t{IMG}\t{SCRIPT}", f"key {SCRIPT}\t{PAYLOAD}"):  # a params row, a custom field row
        if shown not in text:
            failures.append(f"{model_pages[0]}: table row {shown!r} is missing")

    # Material's search renders its results from the index as HTML.
    query = page.locator("input.md-search__input")
    query.click()
    query.press_sequentially("onerror", delay=10)
    page.locator(".md-search-result__list a").first.wait_for(state="visible", timeout=5000)
    page.wait_for_timeout(300)  # give an injected image time to fail and fire its handler
    failures += [f"search results: {found}" for found in page.evaluate(ACTIVE_CONTENT_JS)]
    results = page.locator(".md-search-result__list").inner_text()
    if "Evil <script>alert(1)</script>" not in results:
        failures.append(f"search results do not show the title as text: {results[:300]!r}")

    assert not recorded.dialogs, f"dialogs opened: {recorded.dialogs}"
    assert not failures, "\n".join(failures)
    assert not recorded.script_errors, recorded.script_errors
    context.close()
