"""Builds per audience: what is marked for a higher audience is in no file of a lower audience's site.

The example project is copied, and an internal field, an internal custom key, an internal version and a
restricted dataset card are planted in it, each holding unique marker strings. The real ``modelcards build
--audience public`` and ``--audience internal`` run; then every file of each site (pages, search index,
sitemap, DOT, SVG, CSV, JSON, downloads) is scanned for every spelling of every marker.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from conftest import REPO_ROOT, run_modelcards, write_project

# Unique, and no part of any other text of the example.
FIELD_MARKER = "Zqx-internal-rationale-41f7"
CUSTOM_MARKER = "Zqx-internal-cost-centre-9c2d"
VERSION_MARKER = "Zqx-internal-version-note-5b1e"
DATASET_NAME = "zqx-restricted-notes-7a3c"
DATASET_TEXTS = ("Zqx restricted pathology notes 0d8e", "Zqx-restricted-source-62ab", "zqx-restricted-alias-e4f0")
DATASET_DIGEST = "5f3c9e1a7b2d4c6e8f0a1b3c5d7e9f21"
HIDDEN_RUN = "9f5cb4b790494f498aa90e5e0ae0b34d"  # breast-cancer-classifier 1.0.0's run, used by no other version

INTERNAL = (FIELD_MARKER, CUSTOM_MARKER, VERSION_MARKER, HIDDEN_RUN)
RESTRICTED = (DATASET_NAME, *DATASET_TEXTS, DATASET_DIGEST)
MODEL_CARD = "cards/breast-cancer-classifier.yml"


def plant(project: Path) -> None:
    """The marks, written as an author would, into a copy of the example."""
    card = project / MODEL_CARD
    text = card.read_text(encoding="utf-8")
    text = re.sub(r"risk_rationale: >-\n(  .*\n)+", f"risk_rationale: {FIELD_MARKER}\n", text, count=1)
    text = text.replace('  - version: "1.0.0"\n', f'  - version: "1.0.0"\n    audience: internal\n', 1)
    text = text.replace('      First version: logistic regression',
                        f'      {VERSION_MARKER}. First version: logistic regression', 1)
    for label in ("1.1.0", "1.2.0"):  # the restricted dataset joins two visible versions
        start = text.index(f'  - version: "{label}"')
        data = text.index("    data:\n", start) + len("    data:\n")
        text = text[:data] + (f'      - {{dataset: {DATASET_NAME}, version: "1", digest: {DATASET_DIGEST}, '
                              'role: evaluation}\n') + text[data:]
    text = text.replace("custom:\n", f"custom:\n  cost_centre: {CUSTOM_MARKER}\n", 1)
    text += "field_audience:\n  risk_rationale: internal\n  custom.cost_centre: internal\n"
    card.write_text(text, encoding="utf-8")
    (project / "cards/datasets/restricted-notes.yml").write_text(
        f"kind: dataset\nname: {DATASET_NAME}\ntitle: {DATASET_TEXTS[0]}\naudience: restricted\n"
        f"source: {DATASET_TEXTS[1]}\naliases: [{DATASET_TEXTS[2]}]\n"
        f'versions:\n  - {{version: "1", digest: {DATASET_DIGEST}, rows: 12}}\n', encoding="utf-8")


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    project = tmp_path_factory.mktemp("audience")
    for name in ("cards", "runs", "artifacts", "pipelines", "monitoring", "docs"):
        shutil.copytree(REPO_ROOT / name, project / name)
    shutil.copy(REPO_ROOT / "policy.yml", project)
    config = (REPO_ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    # The repository's SHAP cache: the same model and data files, so the explanations need not be computed again.
    config = config.replace("      cards_dir: cards\n",
                            f"      cards_dir: cards\n      cache_dir: {REPO_ROOT / '.modelcards-cache'}\n", 1)
    (project / "mkdocs.yml").write_text(config, encoding="utf-8")
    # In git, as in CI: the planting commit's message and field diffs quote the marked values.
    # (Approved versions are frozen, so the versions' marks are there from the first commit.)
    plant(project)
    card = project / MODEL_CARD
    planted = card.read_text(encoding="utf-8")
    card.write_text(planted.replace(f"risk_rationale: {FIELD_MARKER}\n", "risk_rationale: to follow\n"),
                    encoding="utf-8")
    git("init", "-q", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "The example, with marks", cwd=project)
    card.write_text(planted, encoding="utf-8")
    git("commit", "-q", "-am", f"Risk rationale: {FIELD_MARKER}", cwd=project)
    built = {}
    for audience in ("public", "internal"):
        result = run_modelcards("build", "--audience", audience, "-d", project / f"site-{audience}", cwd=project,
                                timeout=900)
        assert f"for the {audience} audience" in result.stderr
        built[audience] = project / f"site-{audience}"
    return built


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=Ana Lima", "-c", "user.email=ana@example.com", *args], cwd=cwd,
                   check=True, capture_output=True)


def spellings(value: str) -> set[str]:
    """As a value can be written in a page, a URL, JSON or an SVG title."""
    return {value, html.escape(value), quote(value, safe=""), json.dumps(value)[1:-1], value.replace("-", "&#45;")}


def files_holding(site: Path, values: tuple[str, ...], scanned: bool = True) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    files = [path for path in site.rglob("*") if path.is_file()]
    if scanned:  # a site: the files a search engine and a reader's browser get
        assert {"search_index.json", "sitemap.xml", "sitemap.xml.gz"} <= {path.name for path in files}
        assert {".dot", ".svg", ".csv", ".json"} <= {path.suffix for path in files}
    for path in files:
        raw = path.read_bytes()
        content = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8", errors="replace")
        hits = [value for value in values if any(spelling in content for spelling in spellings(value))]
        if hits:
            found[path.relative_to(site).as_posix()] = hits
    return found


def test_the_public_site_holds_no_value_marked_internal_or_restricted_in_any_file(sites):
    assert files_holding(sites["public"], INTERNAL + RESTRICTED) == {}


def test_the_internal_site_holds_the_internal_values_and_no_restricted_one(sites):
    assert files_holding(sites["internal"], RESTRICTED) == {}
    found = files_holding(sites["internal"], INTERNAL)
    seen = {value for values in found.values() for value in values}
    assert seen == set(INTERNAL)
    page = "models/breast-cancer-classifier/index.html"
    assert set(found[page]) >= {FIELD_MARKER, CUSTOM_MARKER, VERSION_MARKER}
    assert set(found["search/search_index.json"]) >= {FIELD_MARKER, CUSTOM_MARKER, VERSION_MARKER}


def test_a_dataset_card_holding_personal_data_is_internal_by_default(sites):
    assert not (sites["public"] / "datasets/diabetes-progression/index.html").exists()  # personal_data.contains
    assert (sites["internal"] / "datasets/diabetes-progression/index.html").exists()
    assert (sites["public"] / "datasets/wine-cultivars/index.html").exists()


def test_a_run_only_the_internal_version_uses_has_a_page_only_in_the_internal_site(sites):
    run_page = Path("runs/mlflow") / HIDDEN_RUN / "index.html"
    assert not (sites["public"] / run_page).exists()
    assert (sites["internal"] / run_page).exists()
    public_runs = (sites["public"] / "runs/index.html").read_text(encoding="utf-8")
    assert "aac663fb" in public_runs  # the visible versions' runs stay


def test_the_public_model_page_keeps_the_visible_versions_and_says_the_history_is_left_out(sites):
    text = _text(sites["public"] / "models/breast-cancer-classifier/index.html")
    assert "1.1.0" in text and "1.2.0" in text
    assert "This site is the public build: the card's change history is left out of it" in text
    assert "Edit this" not in text  # the card file holds every field
    changes = _text(sites["public"] / "changes/index.html")
    assert "This site is the public build: the cards' change history is left out of it" in changes


def test_an_export_for_an_audience_holds_nothing_above_it(sites):
    project = sites["public"].parent
    run_modelcards("export", "--format", "json", "--audience", "public", "--out", project / "export-public",
                   cwd=project)
    assert files_holding(project / "export-public", INTERNAL + RESTRICTED, scanned=False) == {}
    run_modelcards("export", "--format", "json", "--out", project / "export-all", cwd=project)
    assert set(INTERNAL) | set(RESTRICTED) <= {value for values in files_holding(
        project / "export-all", INTERNAL + RESTRICTED, scanned=False).values() for value in values}


def inline_svg(page: Path) -> str:
    """The lineage diagram a model page holds."""
    text = page.read_text(encoding="utf-8")
    start = text.index('<div class="mc-lineage"')
    return text[start:text.index("</svg>", start)]


def test_the_hidden_dataset_is_a_redacted_box_joining_the_versions_it_connected(sites):
    lineage = sites["public"] / "lineage/model"
    assert "1 dataset not shown" in inline_svg(sites["public"] / "models/breast-cancer-classifier/index.html")
    model_dot = (lineage / "breast-cancer-classifier.dot").read_text(encoding="utf-8")
    dots = sorted(sites["public"].rglob("*.dot"))
    # One box, wired to both versions the dataset was declared by; no link, no name.
    box_id, box = re.search(r'"(hidden:\d+)" \[([^\]]*label="1 dataset not shown"[^\]]*)\]', model_dot).groups()
    assert "URL" not in box and "Not shown to this audience" in box
    assert re.findall(rf'"{box_id}" -> "model:breast-cancer-classifier@1\.(\d)\.0"', model_dot) == ["1", "2"]
    # The internal version and what only it has (its run, its deployments) are one box too.
    assert re.search(r'label="3 deployments, 1 model version, 1 run not shown"', "\n".join(
        path.read_text(encoding="utf-8") for path in dots))
    internal_dots = "\n".join(path.read_text(encoding="utf-8") for path in sites["internal"].rglob("*.dot"))
    assert "not shown" in internal_dots and "breast-cancer-classifier 1.0.0" in internal_dots


def _text(page: Path) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))).split())


# --- bad marks ---------------------------------------------------------------------------

def test_bad_marks_are_errors_at_their_line_with_the_expected_values(tmp_path: Path):
    write_project(tmp_path, {
        "m.yml": """\
            name: m
            title: M
            audience: secret
            field_audience: {summary: top}
            versions:
              - {version: "1.0", date: "2026-01-01", audience: hidden}
        """,
        "n.yml": """\
            name: n
            title: N
            risk_rationale: why
            custom: {cost_centre: x}
            field_audience:
              risk_rational: internal
              custom.cost_center: internal
              title: internal
              model_details.architectur: internal
              owners.name: internal
              human_oversight.description: internal
        """})
    result = run_modelcards("validate", "cards", cwd=tmp_path, check=False)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    expected = "expected one of: public, internal, restricted"
    for line in ("cards/m.yml:3:11: error: audience: found string 'secret', " + expected,
                 "cards/m.yml:4:27: error: field_audience.summary: found string 'top', " + expected,
                 "cards/m.yml:6:52: error: versions[0].audience: found string 'hidden', " + expected):
        assert line in lines
    for start, end in (
            ("cards/n.yml:6:18: error: field_audience.risk_rational: found 'risk_rational', expected a field of the "
             "card: ", "(did you mean 'risk_rationale'?)"),
            ("cards/n.yml:7:23: error: field_audience.custom.cost_center: found custom key 'cost_center', expected "
             "one of the card's custom keys: cost_centre", "(did you mean 'cost_centre'?)"),
            ("cards/n.yml:8:10: error: field_audience.title: found 'title', which every page of the card shows",
             "(mark the whole card with 'audience:' instead)"),
            ("cards/n.yml:9:30: error: field_audience.model_details.architectur: found 'model_details.architectur', "
             "expected a field of 'model_details': ", "(did you mean 'model_details.architecture'?)"),
            ("cards/n.yml:10:16: error: field_audience.owners.name: found 'owners.name', but 'owners' is not a "
             "section with fields of its own", "expected 'owners' alone")):
        assert any(line.startswith(start) and line.endswith(end) for line in lines), (start, lines)
    assert not [line for line in lines if line.startswith("cards/n.yml:11:")]  # a field of an optional section


def test_a_bad_audience_setting_is_an_error_at_its_line(tmp_path: Path):
    config = write_project(tmp_path, {"m.yml": "name: m\ntitle: M\n"})
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["plugins"][1]["modelcards"]["audience_default"] = "everyone"
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = run_modelcards("build", cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert ("error: plugins.modelcards.audience_default: found 'everyone', expected one of public, internal, "
            "restricted") in result.stderr


# --- levels from the settings, whole cards, base models ------------------------------------------------------

def test_the_default_and_the_setting_decide_what_an_unmarked_card_is(tmp_path: Path):
    """``audience_default: internal`` with ``audience: public`` in mkdocs.yml (no flag): only what is marked
    public is built; a hidden base model is neither named nor linked, and its node is a redacted box."""
    write_project(tmp_path, {
        "base.yml": """\
            name: zqx-base-model-77c1
            title: Zqx base model title 2f9a
            versions: [{version: "1.0", date: "2026-01-01"}]
        """,
        "tuned.yml": """\
            name: tuned
            title: Tuned model
            audience: public
            risk_rationale: Zqx internal rationale 90be
            field_audience: {risk_rationale: internal}
            model_details: {base_model: zqx-base-model-77c1}
            versions: [{version: "1.0", date: "2026-02-01"}]
        """,
        "people.yml": """\
            kind: dataset
            name: people
            audience: public
            description: Pseudonymised, and cleared for the public site.
            personal_data: {contains: true}
        """,
        "patients.yml": """\
            kind: dataset
            name: zqx-patients-31d0
            personal_data: {contains: true}
        """},
        plugins=["search", {"modelcards": {"cards_dir": "cards", "audience_default": "internal",
                                           "audience": "public", "policy": "policy.yml"}}])
    (tmp_path / "policy.yml").write_text("default:\n  required_fields: [risk_rationale]\n", encoding="utf-8")
    result = run_modelcards("build", "-d", tmp_path / "site", cwd=tmp_path)
    assert "for the public audience" in result.stderr
    site = tmp_path / "site"
    assert files_holding(site, ("zqx-base-model-77c1", "Zqx base model title 2f9a", "zqx-patients-31d0",
                                "Zqx internal rationale 90be"), scanned=False) == {}
    # The field the policy requires is written, only not for this audience: no failure on the policy page.
    policy = _text(site / "policy/index.html")
    assert "1 model(s) under the policy: 1 pass, 0 fail" in policy and "risk_rationale" not in policy
    assert (site / "models/tuned/index.html").exists() and (site / "datasets/people/index.html").exists()
    dot = (site / "lineage/model/tuned.dot").read_text(encoding="utf-8")
    assert "1 model not shown" in inline_svg(site / "models/tuned/index.html")
    assert re.search(r'"hidden:1" \[[^\]]*label="1 model not shown"', dot)
    assert '"hidden:1" -> "model:tuned@1.0"' in dot

    run_modelcards("build", "--audience", "internal", "-d", tmp_path / "site-internal", cwd=tmp_path)
    internal = tmp_path / "site-internal"
    assert (internal / "models/zqx-base-model-77c1/index.html").exists()
    assert (internal / "datasets/zqx-patients-31d0/index.html").exists()
