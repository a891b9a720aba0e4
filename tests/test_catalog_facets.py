"""The faceted catalog and the owners' pages: a project of seven cards built by the real CLI, served by a real
HTTP server under a sub-path and read in Debian's headless Chromium, with and without JavaScript."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page

from browsing import ACTIVE_CONTENT_JS, crawl, heading_text, record
from conftest import StaticServer, run_modelcards, write_project

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)>"
QUOTED = 'Ops" onmouseover="alert(1)'  # would open an attribute if a data-* or href value were left unescaped


def _card(name: str, title: str, *, status: str, risk: str | None, owners: list, tags: list[str],
          deployed: list[str] = (), caveats: bool = False, waived: bool = False) -> str:
    owner_lines = "".join(f"  - {{name: '{owner[0]}', role: {owner[1]}}}\n" if isinstance(owner, tuple)
                          else f"  - name: '{owner}'\n" for owner in owners)
    lines = [f"name: {name}", f"title: {title}", f"summary: The {name} model.", f"status: {status}"]
    if risk:
        lines.append(f"risk_tier: {risk}")
    lines.append("owners:\n" + owner_lines.rstrip("\n"))
    lines.append(f"tags: [{', '.join(tags)}]")
    if caveats:
        lines.append("caveats: [Scores drift after price changes.]")
    if waived:
        lines.append("waivers:\n  - {rule: required_fields, by: Dana Chief, reason: Caveats come with 2.0, "
                     "expires: '2099-12-31'}")
    lines.append('versions:\n  - {version: "1.0.0", date: "2024-01-10"}')
    if deployed:
        lines.append("deployments:\n" + "\n".join(
            f'  - {{environment: {env}, version: "1.0.0", date: "2024-02-0{i + 1}", by: Sam Ops}}'
            for i, env in enumerate(deployed)))
    return "\n".join(lines) + "\n"


CARDS = {
    "alpha.yml": _card("alpha", "Alpha churn", status="production", risk="high", owners=[("Growth team", "owner"), HOSTILE],
                       tags=["churn", "tabular"], deployed=["staging", "production"], caveats=True),
    "beta.yml": _card("beta", "Beta fraud", status="staging", risk="high", owners=["Risk team"], tags=["fraud"],
                      deployed=["staging"]),
    "gamma.yml": _card("gamma", "Gamma credit", status="production", risk="critical", owners=["growth team"],
                       tags=["tabular"], deployed=["staging", "production"], waived=True),
    "delta.yml": _card("delta", "Delta pricing", status="draft", risk="low", owners=["Risk team", QUOTED],
                       tags=["tabular"]),
    "epsilon.yml": _card("epsilon", "Epsilon demand", status="production", risk="medium", owners=["Growth team"],
                         tags=["forecast"], deployed=["staging", "production"]),
    "zeta.yml": _card("zeta", "Zeta routing", status="draft", risk=None, owners=["Supply team"], tags=["forecast"],
                      deployed=["staging", "production"]),
    "eta.yml": _card("eta", "Eta limits", status="production", risk="high", owners=["Risk team"], tags=["fraud"],
                     deployed=["staging", "production"], caveats=True),
}
# The rows of the two tiers with rules: caveats required. Medium, low and no tier have none ("no rules").
POLICY = "high:\n  required_fields: [caveats]\ncritical:\n  required_fields: [caveats]\n"

ALL_TITLES = ["Alpha churn", "Beta fraud", "Delta pricing", "Epsilon demand", "Eta limits", "Gamma credit",
              "Zeta routing"]
# Every facet's values in their order, with the count of models having each, before any choice.
EXPECTED_FACETS = {
    "Status": [("draft", 2), ("staging", 1), ("production", 4)],
    "Risk tier": [("critical", 1), ("high", 3), ("medium", 1), ("low", 1), ("none", 1)],
    "Owner": [(HOSTILE, 1), ("Growth team", 3), (QUOTED, 1), ("Risk team", 3), ("Supply team", 1)],
    "Tag": [("churn", 1), ("forecast", 2), ("fraud", 2), ("tabular", 3)],
    "Deployed in": [("production", 5), ("staging", 6), ("not deployed", 1)],
    "Policy": [("passes", 2), ("failing", 1), ("waived", 1), ("no rules", 3)],
}


@pytest.fixture(scope="module")
def site(static_server: StaticServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    checks_off = {check: "off" for check in ("no_data_version", "no_code_commit", "no_run")}
    root = tmp_path_factory.mktemp("facets-project")
    mkdocs_yml = write_project(root, CARDS, plugins=["search", {"modelcards": {
        "lineage_checks": checks_off, "policy": "policy.yml"}}])
    (root / "policy.yml").write_text(POLICY, encoding="utf-8")
    result = run_modelcards("build", "-f", mkdocs_yml, "-d", static_server.root / "facets" / "site",
                            cwd=root)
    assert "beta.yml" in result.stderr and "policy high/required_fields" in result.stderr  # the failing row
    return static_server.url("/facets/site/")


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    recorded = record(context)
    page = recorded.new_page()
    yield page
    assert not recorded.script_errors, recorded.script_errors
    assert not recorded.dialogs, recorded.dialogs
    context.close()


def facets_shown(page: Page) -> dict[str, list[tuple[str, int]]]:
    """Each facet's legend and its values with their counts, as the page shows them."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.mc-facet')].map(f => [
        f.querySelector('legend').textContent.trim(),
        [...f.querySelectorAll('li')].map(li => [li.querySelector('.mc-facet-label').textContent,
            parseInt(li.querySelector('.mc-facet-count').textContent.replace(/[()]/g, ''), 10)])]))""")


def visible_titles(page: Page) -> list[str]:
    return sorted(page.locator(".mc-catalog tbody tr:visible td:first-child a").all_inner_texts())


def tick(page: Page, facet: str, value: str) -> None:
    page.locator(f".mc-facet[data-facet='{facet}'] input[value='{value}']").check()


def test_without_javascript_every_row_and_every_facet_value_is_visible_text(browser, site: str):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site)
    assert {k: [tuple(v) for v in values] for k, values in facets_shown(page).items()} == EXPECTED_FACETS
    assert page.locator(".mc-facet input").count() == 0  # inert checkboxes would mislead: none until JS runs
    assert visible_titles(page) == ALL_TITLES
    rows = {row.locator("td").first.locator("a").inner_text(): row.inner_text()
            for row in page.locator(".mc-catalog tbody tr").all()}
    # Each facet value as visible text in its row: owners, status, risk tier, environments, policy, tags.
    assert re.search(r"Growth team, <img src=x onerror=alert\(1\)>\s+production\s+high\b", rows["Alpha churn"])
    assert "1.0.0 in production" in rows["Alpha churn"] and "1.0.0 in staging" in rows["Alpha churn"]
    assert "passes" in rows["Alpha churn"] and "churn, tabular" in rows["Alpha churn"]
    assert re.search(r"Supply team\s+draft\s+none\b", rows["Zeta routing"]) and "no rules" in rows["Zeta routing"]
    assert "1 failing" in rows["Beta fraud"] and "passes, 1 waived" in rows["Gamma credit"]
    context.close()


def test_high_risk_in_production_is_a_link_that_survives_a_reload(page: Page, site: str):
    page.goto(site)
    assert visible_titles(page) == ALL_TITLES
    tick(page, "risk", "high")
    assert visible_titles(page) == ["Alpha churn", "Beta fraud", "Eta limits"]
    # Other facets count what the risk choice leaves; the risk facet itself still counts every tier.
    counts = facets_shown(page)
    assert counts["Deployed in"] == [["production", 2], ["staging", 3], ["not deployed", 0]]
    assert counts["Risk tier"] == [[v, n] for v, n in EXPECTED_FACETS["Risk tier"]]
    tick(page, "env", "production")
    assert visible_titles(page) == ["Alpha churn", "Eta limits"]
    assert page.locator(".mc-catalog .mc-count").inner_text() == "2 of 7 shown"
    assert facets_shown(page)["Risk tier"] == [["critical", 1], ["high", 2], ["medium", 1], ["low", 0], ["none", 1]]

    query = parse_qs(urlsplit(page.url).query)
    assert query == {"risk": ["high"], "env": ["production"]}
    page.reload()
    assert visible_titles(page) == ["Alpha churn", "Eta limits"]
    assert page.locator(".mc-facet input:checked").evaluate_all("inputs => inputs.map(i => i.name + '=' + i.value)") \
        == ["risk=high", "env=production"]

    # A shared link: two values of one facet are either of them; the text filter is in the link too.
    page.goto(site + "?risk=high&risk=critical&env=production&text=limits")
    assert visible_titles(page) == ["Eta limits"]
    assert page.locator(".mc-catalog input.mc-filter").input_value() == "limits"
    page.locator(".mc-catalog input.mc-filter").fill("")
    assert visible_titles(page) == ["Alpha churn", "Eta limits", "Gamma credit"]
    # Rewritten in the facet's own order, so one choice is always one link.
    assert parse_qs(urlsplit(page.url).query) == {"risk": ["critical", "high"], "env": ["production"]}
    page.get_by_role("button", name="Clear filters").click()
    assert visible_titles(page) == ALL_TITLES
    assert urlsplit(page.url).query == ""


def test_risk_tier_sorts_by_severity_not_alphabet(page: Page, site: str):
    page.goto(site)
    header = page.locator(".mc-catalog thead th", has_text="Risk tier")
    header.click()
    tiers = lambda: page.locator(".mc-catalog tbody tr td:nth-child(4)").all_inner_texts()  # noqa: E731
    assert tiers() == ["none", "low", "medium", "high", "high", "high", "critical"]
    header.click()
    assert tiers() == ["critical", "high", "high", "high", "medium", "low", "none"]


def test_owner_pages_list_their_models_and_every_link_resolves(page: Page, browser, site: str):
    page.goto(site + "owners/")
    assert heading_text(page) == "Owners"
    owners = page.locator("article table tbody tr td:first-child a").all_inner_texts()
    assert owners == [HOSTILE, "Growth team", QUOTED, "Risk team", "Supply team"]

    page.get_by_role("link", name="Growth team", exact=True).click()
    assert heading_text(page) == "Owner: Growth team"  # "growth team" in gamma's card is the same owner
    rows = page.locator("article table tbody tr").all_inner_texts()
    assert [row.split("\t")[0] for row in rows] == ["Alpha churn", "Epsilon demand", "Gamma credit"]
    assert rows[0].split("\t")[1:] == ["owner", "production", "high", "passes", "1.0.0 in production since 2024-02-02"
                                       "\n1.0.0 in staging since 2024-02-01"]

    # The model page's key facts link each owner to their page, and the catalog's owner cells too.
    page.goto(site + "models/delta/")
    page.locator(".mc-header").get_by_role("link", name=QUOTED).click()
    assert heading_text(page) == f"Owner: {QUOTED}"
    assert page.locator("article table tbody tr td:first-child a").all_inner_texts() == ["Delta pricing"]

    context = browser.new_context()
    recorded = record(context)
    found = crawl(recorded, site)
    assert len(found.html_pages(under="owners/")) == 6, found.html_pages()
    assert not found.problems, "\n".join(found.problems)
    context.close()


@pytest.mark.parametrize("path", ["", "owners/", "models/alpha/", "models/delta/"])
def test_hostile_owner_names_are_text_everywhere(page: Page, site: str, path: str):
    page.goto(site + path)
    assert page.evaluate(ACTIVE_CONTENT_JS) == []
    text = page.locator("article").inner_text()
    assert HOSTILE in text if path != "models/delta/" else QUOTED in text
    if path == "":
        tick(page, "owner", "img-src-x-onerror-alert-1")
        assert visible_titles(page) == ["Alpha churn"]
        assert page.evaluate(ACTIVE_CONTENT_JS) == []


def test_owner_page_names_are_readable_and_never_collide():
    from modelcards.site.paths import owner_page, owner_slugs

    slugs = owner_slugs({"risk team": "Risk team", "a.b": "A.B", "a b": "A B", "équipe données": "Équipe données",
                         "index": "Index", "<>": "<>"})
    assert owner_page(slugs["risk team"]) == "owners/risk-team.md"
    assert slugs["équipe données"] == "equipe-donnees"
    # Two names with one readable form, the index page's name, and a name without letters: a hash each.
    assert re.fullmatch(r"a-b-[0-9a-f]{8}", slugs["a.b"]) and re.fullmatch(r"a-b-[0-9a-f]{8}", slugs["a b"])
    assert slugs["a.b"] != slugs["a b"]
    assert re.fullmatch(r"index-[0-9a-f]{8}", slugs["index"]) and re.fullmatch(r"owner-[0-9a-f]{8}", slugs["<>"])


def test_catalog_links_resolve_under_a_prefix_and_without_directory_urls(browser, static_server: StaticServer,
                                                                          tmp_path_factory: pytest.TempPathFactory):
    # The catalog table is raw HTML, whose links MkDocs does not rewrite: the build writes each page's URL itself.
    checks_off = {check: "off" for check in ("no_data_version", "no_code_commit", "no_run")}
    root = tmp_path_factory.mktemp("facets-prefix")
    mkdocs_yml = write_project(root, CARDS, use_directory_urls=False, plugins=["search", {"modelcards": {
        "lineage_checks": checks_off, "prefix": "models"}}])
    (root / "docs" / "index.md").write_text("# Home\n\n[Models](models/index.md)\n", encoding="utf-8")
    run_modelcards("build", "-f", mkdocs_yml, "-d", static_server.root / "facets" / "flat", cwd=root)
    context = browser.new_context()
    found = crawl(record(context), static_server.url("/facets/flat/"))
    assert "owners/risk-team.html" in " ".join(found.html_pages()), found.html_pages()
    assert not found.problems, "\n".join(found.problems)
    context.close()
