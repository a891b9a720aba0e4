"""The regulatory crosswalk: every example model's page lists all nine EU AI Act Annex IV points and the five NIST
AI RMF items with a status, each finding links to the section that holds it, gaps name the field to fill, and
the matrix has one row per model. Sites are built by the real CLI; pages are read as built HTML."""

from __future__ import annotations

import html
import posixpath
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urldefrag

import pytest

from conftest import REPO_ROOT, run_modelcards, write_project

ANNEX_IV_TITLES = [
    "1. General description of the AI system",
    "2. Elements of the AI system and the process of its development",
    "3. Monitoring, functioning and control of the AI system",
    "4. Appropriateness of the performance metrics",
    "5. Risk management system (Art. 9)",
    "6. Changes over the lifecycle",
    "7. Harmonised standards applied",
    "8. EU declaration of conformity (Art. 47)",
    "9. Post-market monitoring (Art. 72)",
]
NIST_TITLES = [
    "GOVERN 1.6: Inventory of AI systems",
    "MEASURE 2.1: Test sets, metrics and tools documented",
    "MEASURE 2.11: Fairness and bias evaluated",
    "MANAGE 1.1: Go/no-go decision",
    "MANAGE 4.1: Post-deployment monitoring, override and decommissioning",
]
STATUSES = {"covered", "partial", "missing"}


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def sections(page: str) -> dict[str, str]:
    """Each h3 of a crosswalk page (its text, without the permalink sign) -> the HTML up to the next heading."""
    parts = re.split(r"(<h[23][^>]*>.*?</h[23]>)", page, flags=re.S)
    found = {}
    for heading, body in zip(parts[1::2], parts[2::2]):
        if heading.startswith("<h3"):
            found[text(heading).removesuffix("¶").strip()] = body
    return found


def status_of(section: str) -> str:
    """The status chip that opens a requirement's section."""
    return re.search(r'class="mc-coverage mc-coverage-(\w+)"', section).group(1)


def broken_links(site: Path, page: Path) -> list[str]:
    """Relative links on ``page`` whose target page, or element id, does not exist in the built ``site``."""
    problems = []
    here = page.parent.relative_to(site).as_posix()
    for href in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8")):
        href = html.unescape(href)
        if re.match(r"^[a-z]+:", href) or href.startswith("/"):
            continue
        target, fragment = urldefrag(href)
        path = posixpath.normpath(posixpath.join(here, target)) if target else here
        is_file = "." in posixpath.basename(path) and path != "."
        file = site / path if is_file else site / path / "index.html"  # a file, or a page's folder
        if not file.is_file():
            problems.append(f"{page.relative_to(site)}: {href} -> no page {path}")
        elif fragment and f'id="{unquote(fragment)}"' not in file.read_text(encoding="utf-8"):
            problems.append(f"{page.relative_to(site)}: {href} -> no id {unquote(fragment)!r} on {path}")
    return problems


@pytest.fixture(scope="module")
def example_site(example_site_dir: Path) -> Path:
    """The example site's folder, built once for the session (with --strict) by conftest."""
    return example_site_dir


def example_models() -> list[str]:
    return sorted(p.stem for p in (REPO_ROOT / "cards").glob("*.yml"))


@pytest.mark.parametrize("model", example_models())
def test_the_crosswalk_lists_all_nine_annex_iv_points_and_five_nist_items_for_each_example_model(example_site, model):
    page = (example_site / "models" / model / "crosswalk" / "index.html").read_text(encoding="utf-8")
    found = sections(page)

    assert [title for title in found if title[0].isdigit()] == ANNEX_IV_TITLES
    assert [title for title in found if not title[0].isdigit()] == NIST_TITLES
    assert {status_of(body) for body in found.values()} <= STATUSES
    summary = re.search(r"(\d) of 9 Annex IV points and (\d) of 5 NIST items are covered", text(page))
    assert summary, text(page)[:500]
    assert int(summary.group(1)) == sum(status_of(found[t]) == "covered" for t in ANNEX_IV_TITLES)
    model_page = text((example_site / "models" / model / "index.html").read_text(encoding="utf-8"))
    assert (f"Regulatory crosswalk {summary.group(1)} of 9 EU AI Act Annex IV points and {summary.group(2)} of 5 "
            "NIST AI RMF items covered") in model_page


def test_the_high_risk_example_covers_every_point_and_the_others_show_their_gaps(example_site):
    def page(model: str) -> dict[str, str]:
        return sections((example_site / "models" / model / "crosswalk" / "index.html").read_text(encoding="utf-8"))

    cancer = page("breast-cancer-classifier")
    assert {title: status_of(body) for title, body in cancer.items()} == dict.fromkeys(cancer, "covered")
    assert "Not required: the model is a research aid" in text(
        (example_site / "models/breast-cancer-classifier/index.html").read_text(encoding="utf-8"))

    diabetes = page("diabetes-progression-regressor")
    monitoring = diabetes[ANNEX_IV_TITLES[8]]
    assert status_of(monitoring) == "partial"
    assert "the plan does not say what happens when a result is out of bounds: monitoring.escalation" in text(monitoring)
    assert status_of(diabetes[ANNEX_IV_TITLES[6]]) == "missing"
    assert "1.2.0 (live in staging) runs without an approval: versions[1.2.0].approvals" in text(
        diabetes[NIST_TITLES[3]])


def test_every_link_on_the_crosswalk_pages_and_the_matrix_resolves_to_a_page_and_anchor(example_site):
    pages = [example_site / "crosswalk" / "index.html",
             *sorted(example_site.glob("models/*/crosswalk/index.html"))]
    assert len(pages) == 1 + len(example_models())
    links = sum(len(re.findall(r'href="[^"#:]*#', p.read_text(encoding="utf-8"))) for p in pages)
    assert links > 100, "the crosswalk pages link the sections holding each finding"
    problems = [problem for page in pages for problem in broken_links(example_site, page)]
    assert not problems, "\n".join(problems)


def test_the_matrix_has_one_row_per_model_with_each_models_statuses_and_is_in_the_nav(example_site):
    page = (example_site / "crosswalk" / "index.html").read_text(encoding="utf-8")
    table = re.search(r'class="mc-catalog mc-coverage-matrix".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    titles = [text(re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[0]) for row in rows]
    assert titles == ["Breast cancer FNA classifier", "Diabetes progression regressor", "Wine cultivar classifier"]
    for model, row in zip(example_models(), rows):
        cells = re.findall(r'class="mc-coverage-mark mc-coverage mc-coverage-(\w+)" title="\1">', row)
        crosswalk = sections((example_site / "models" / model / "crosswalk" / "index.html").read_text("utf-8"))
        assert cells == [status_of(crosswalk[title]) for title in ANNEX_IV_TITLES + NIST_TITLES], model
        assert [text(cell) for cell in re.findall(r'class="mc-visually-hidden">(.*?)</span>', row)] == cells
    # The nav lists a section's pages on the pages of that section (`navigation.prune`).
    policy_page = (example_site / "policy" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<a href="../crosswalk/" class="md-nav__link', policy_page), "the matrix is in the nav"


# --- throwaway projects: a bare card, and hostile text in every new field --------------------------------------

SCRIPT = "<script>alert(1)</script>"
PAYLOAD = f"{SCRIPT} <img src=x onerror=alert(1)> [click](javascript:alert(1)) *not bold*"
P = '"' + PAYLOAD.replace('"', '\\"') + '"'

CARDS = {
    "bare.yml": """
        name: bare
        title: Bare model
        versions:
          - {version: "1.0", date: "2026-01-01"}
    """,
    "hostile.yml": f"""
        name: hostile
        title: Hostile model
        risk_tier: high
        risk_rationale: {P}
        owners: [{{name: {P}, contact: {P}}}]
        factors: [{{name: {P}}}]
        design_choices: [{{name: {P}, rationale: {P}}}, {{name: {P}}}]
        tradeoffs: [{P}]
        human_oversight: {{description: {P}, measures: [{P}]}}
        risk_management: {{description: {P}, reference: {P}}}
        standards: [{{name: {P}, reference: {P}}}]
        declaration_of_conformity: {{description: {P}}}
        monitoring: {{description: {P}, monitored: [{P}], cadence: {P}, owner: {P}, escalation: {P}}}
        training_data: {{datasets: [hostile-data]}}
        versions:
          - {{version: "1.0", date: "2026-01-01"}}
    """,
    "hostile-data.yml": f"""
        kind: dataset
        name: hostile-data
        source: {P}
        datasheet:
          data_collection: {P}
          data_collection_type: [{P}]
          data_biases: [{P}]
          retention: {P}
        personal_data: {{contains: true, description: {P}, special_categories: [{P}], legal_basis: {P}, dpia: {P}}}
    """,
}


@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crosswalk-project")
    write_project(root, CARDS)
    run_modelcards("build", cwd=root)
    yield root / "site"
    shutil.rmtree(root, ignore_errors=True)


def test_a_card_without_a_monitoring_plan_shows_point_9_missing_with_the_field_to_fill(small_site):
    found = sections((small_site / "models/bare/crosswalk/index.html").read_text(encoding="utf-8"))

    point_9 = found[ANNEX_IV_TITLES[8]]
    assert status_of(point_9) == "missing"
    assert "Post-market monitoring plan missing no post-market monitoring plan: monitoring" in text(point_9)
    assert status_of(found[ANNEX_IV_TITLES[7]]) == "missing"
    assert "no account of the EU declaration of conformity, or why none is required: declaration_of_conformity" \
        in text(found[ANNEX_IV_TITLES[7]])
    assert not broken_links(small_site, small_site / "models/bare/crosswalk/index.html")


@pytest.mark.parametrize("page", ["models/hostile/index.html", "models/hostile/crosswalk/index.html",
                                  "datasets/hostile-data/index.html", "crosswalk/index.html"])
def test_card_text_in_the_new_fields_and_the_crosswalk_is_shown_escaped(small_site, page):
    built = (small_site / page).read_text(encoding="utf-8")

    assert SCRIPT not in built and "<img src=x" not in built and 'href="javascript:' not in built
    assert "<em>not bold</em>" not in built
    if page != "crosswalk/index.html":  # the matrix shows titles and statuses only
        assert PAYLOAD in text(built).replace("\\", "")


def test_the_new_fields_show_on_the_model_and_dataset_pages_under_their_anchors(small_site):
    model = (small_site / "models/hostile/index.html").read_text(encoding="utf-8")
    for anchor in ("key-facts", "design-choices", "human-oversight", "risk-management", "standards",
                   "declaration-of-conformity", "monitoring"):
        assert f'id="{anchor}"' in model, anchor
    dataset = (small_site / "datasets/hostile-data/index.html").read_text(encoding="utf-8")
    assert 'id="datasheet"' in dataset and 'id="personal-data"' in dataset
    assert "Holds personal data." in text(dataset)
    assert not broken_links(small_site, small_site / "models/hostile/crosswalk/index.html")


def test_a_preview_keeps_each_crosswalk_until_a_datasheet_field_it_reads_changes(tmp_path: Path) -> None:
    """Editing a dataset card's description (every model of a catalog of copies reads it) leaves each model's
    crosswalk as it was, so a preview's save does not make them all again; emptying a datasheet field does."""
    from modelcards.build import check_cards
    from modelcards.crosswalk import Crosswalks

    cards = tmp_path / "cards"
    shutil.copytree(REPO_ROOT / "cards", cards)
    dataset = cards / "datasets/breast-cancer-wisconsin.yml"
    original = dataset.read_text()

    def catalog_with(text: str):
        dataset.write_text(text)
        return check_cards([cards], relative_to=tmp_path).catalog

    crosswalks = Crosswalks()
    catalog = catalog_with(original)
    first = crosswalks.of(catalog.models["breast-cancer-classifier"], catalog)
    catalog = catalog_with(re.sub(r"^description: >-\n(?:  .*\n|\n)+", "description: Edited in a preview.\n", original,
                                  count=1, flags=re.M))
    assert catalog.datasets["breast-cancer-wisconsin"].card.description == "Edited in a preview."
    assert crosswalks.of(catalog.models["breast-cancer-classifier"], catalog) is first

    catalog = catalog_with(re.sub(r"^  data_collection: >-\n(?:    .*\n)+", "  data_collection: ''\n", original,
                                  count=1, flags=re.M))
    changed = crosswalks.of(catalog.models["breast-cancer-classifier"], catalog)
    notes = [note.text for item in changed.items for finding in item.findings for note in finding.missing]
    assert "datasheet of breast-cancer-wisconsin does not say how it was collected" in notes
    assert not any("how it was collected" in note.text for item in first.items for finding in item.findings
                   for note in finding.missing)
