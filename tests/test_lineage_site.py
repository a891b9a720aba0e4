"""Lineage on the built site: a real DVC pipeline, the real `dot`, real `modelcards build`, real Chromium."""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
from collections import deque
from pathlib import Path

import pytest

from browsing import heading_text
from conftest import StaticServer, run_modelcards, write_project
from dvc_pipeline import RAW, make_dvc_pipeline

GAPPY_CARD = """
    name: gappy
    title: Gappy model
    versions:
      - version: "0.1"
        date: 2026-01-01
        code: {commit: 0123456789abcdef}
        data: [{dataset: raw-data}]
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lineage-site")
    make_dvc_pipeline(root / "pipeline")
    write_project(root, {
        "raw-data.yml": f"""
            kind: dataset
            name: raw-data
            title: Raw customer export
            versions:
              - {{version: "2026-01", digest: {hashlib.md5(RAW).hexdigest()}}}
        """,
        "churn-dvc.yml": """
            name: churn-dvc
            title: Churn per region
            owners: [{name: Growth team}]
            versions:
              - {version: "1.0", date: 2026-01-05, run: "dvc:train@us"}
              - {version: "1.1", date: 2026-01-06, run: "dvc:train@eu"}
              - {version: "1.2", date: 2026-01-07, run: "dvc:train@asia"}
            deployments:
              - {environment: production, version: "1.2", date: 2026-01-08, by: ana}
        """,
        "gappy.yml": GAPPY_CARD,
    }, plugins=["search", {"modelcards": {"cards_dir": "cards", "runs": ["pipeline"], "lineage_depth": 3}}])
    return root


@pytest.fixture(scope="module")
def site(project: Path) -> tuple[Path, str]:
    result = run_modelcards("build", cwd=project, timeout=300)
    return project / "site", result.stderr


def _edges(page: str) -> list[tuple[str, str]]:
    """The diagram's text alternative: (from, to) per link."""
    details = page[page.index('class="mc-lineage-text"'):]
    details = details[:details.index("</details>")]
    items = [html.unescape(re.sub(r"<[^>]+>", "", item)) for item in re.findall(r"<li>(.*?)</li>", details, re.S)]
    return [tuple(part.strip() for part in item.split(" → ", 1)) for item in items]


def _reachable(edges: list[tuple[str, str]], start: str) -> set[str]:
    seen, queue = {start}, deque([start])
    while queue:
        node = queue.popleft()
        for source, target in edges:
            if source == node and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def _assert_raw_data_reaches(page: Path, needed: tuple[str, ...]) -> None:
    """On ``page``'s diagram, a path leads from the raw data to a box starting with each of ``needed``."""
    edges = _edges(page.read_text())
    labels = {label for edge in edges for label in edge}
    raw = next(label for label in labels if label.startswith("raw-data 2026-01"))
    reached = _reachable(edges, raw)
    for label in needed:
        assert any(found.startswith(label) for found in reached), (label, sorted(reached))


def test_a_dvc_chain_raw_to_features_to_model_is_one_connected_path(site) -> None:
    built, _ = site
    _assert_raw_data_reaches(built / "models/churn-dvc/index.html", (
        "prepare", "featurize", "train (3 items)", "churn-dvc 1.0", "churn-dvc 1.2", "production, 2026-01-08"))


def test_the_diagram_is_inline_svg_with_title_desc_and_a_dot_download(site) -> None:
    built, _ = site
    page = (built / "models/churn-dvc/index.html").read_text()
    start = page.index('<div class="mc-lineage" ')
    svg = page[start:page.index("</svg>", start)]
    assert ('<title id="mc-lineage-title">Lineage of churn-dvc</title><desc id="mc-lineage-desc">9 link(s): '
            in svg)
    assert 'aria-labelledby="mc-lineage-title"' in svg
    assert 'role="img"' not in svg, "an image role would hide the diagram's links from screen readers"
    ids = re.findall(r'\sid="([^"]*)"', page)
    assert sorted({i for i in ids if ids.count(i) > 1}) == [], "one diagram per page: its ids clash with nothing"
    match = re.search(r'href="([^"]+\.dot)"', page)
    assert match is not None
    dot = (built / "models/churn-dvc" / match.group(1)).resolve()
    assert dot.read_text().startswith("digraph lineage {")


def test_the_dataset_page_shows_every_model_version_and_deployment_downstream(site) -> None:
    built, _ = site
    _assert_raw_data_reaches(built / "datasets/raw-data/index.html",
                             ("churn-dvc 1.0", "churn-dvc 1.1", "churn-dvc 1.2", "production, 2026-01-08"))


def test_the_health_page_lists_a_version_with_no_data_at_its_card_line(site) -> None:
    built, stderr = site
    assert "cards/gappy.yml:4:5: warning: versions[0]: " in stderr
    page = html.unescape(re.sub(r"<[^>]+>", "", (built / "lineage/health/index.html").read_text()))
    assert "Gappy model" in page
    assert "cards/gappy.yml:4:5" in page
    assert "no data version" in page.lower()


def test_strict_fails_the_build_on_a_lineage_gap_and_keeps_the_previous_site(project: Path, site) -> None:
    built, _ = site
    before = (built / "index.html").read_bytes()
    result = run_modelcards("build", "--strict", cwd=project, check=False, timeout=300)
    assert result.returncode == 1
    assert "cards/gappy.yml:4:5: warning: versions[0]: " in result.stderr
    assert "the site was not built" in result.stderr
    assert (built / "index.html").read_bytes() == before


def test_a_check_can_be_switched_off_or_made_an_error(tmp_path: Path) -> None:
    write_project(tmp_path, {"gappy.yml": GAPPY_CARD},
                  plugins=["search", {"modelcards": {"lineage_checks": {"no_run": "off", "no_data_version": "error"}}}])
    result = run_modelcards("build", cwd=tmp_path, check=False, timeout=300)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("cards/gappy.yml:4:5")]
    assert len(lines) == 1 and lines[0].startswith("cards/gappy.yml:4:5: error: versions[0]: version '0.1' has no "
                                                   "data version")


def test_above_the_cap_the_overview_is_a_table_and_a_dataset_counts_its_impact(
        project: Path, site: tuple[Path, str], tmp_path: Path) -> None:
    capped = tmp_path / "capped"
    shutil.copytree(project, capped, ignore=shutil.ignore_patterns("site"))
    mkdocs_yml = capped / "mkdocs.yml"
    mkdocs_yml.write_text(mkdocs_yml.read_text().replace("cards_dir: cards", "cards_dir: cards\n    overview_cap: 2"))
    run_modelcards("build", cwd=capped, timeout=300)
    page = (capped / "site/lineage/index.html").read_text()
    assert "Shown as a table" in page and "mc-lineage" not in page
    assert "Churn per region" in page
    # A dataset's downstream impact above the cap is counted, not drawn: as many as the uncapped diagram's boxes.
    drawn = (site[0] / "datasets/raw-data/index.html").read_text()
    boxes = len(re.findall(r'<g id="(?!mc-legend)[^"]*" class="node">', drawn))  # the legend's boxes aside
    assert boxes > 2
    counted = (capped / "site/datasets/raw-data/index.html").read_text()
    assert "mc-lineage" not in counted and "Too large for one diagram" in counted
    assert f"Everything downstream of this dataset is {boxes} runs, datasets, model versions and deployments, " \
           "more than the 2 a diagram can show readably" in counted


def test_clicking_a_dataset_node_on_a_model_diagram_opens_the_dataset_page_under_a_sub_path(
        site, static_server: StaticServer, browser) -> None:
    built, _ = site
    served = static_server.root / "lineage" / "docs"
    shutil.copytree(built, served, dirs_exist_ok=True)
    page = browser.new_page()
    try:
        page.goto(static_server.url("lineage/docs/models/churn-dvc/"))
        node = page.locator(".mc-lineage svg a", has_text="raw-data").first
        node.click()
        page.wait_for_url(re.compile(r".*/lineage/docs/datasets/raw-data/$"))
        assert heading_text(page) == "Raw customer export"
        # Back on the model page, a run node leads to its run page.
        page.go_back()
        page.locator(".mc-lineage svg a", has_text=re.compile(r"prepare \(")).first.click()
        page.wait_for_url(re.compile(r".*/lineage/docs/runs/dvc/prepare/$"))
        # A version box opens that version's section of the model page.
        page.go_back()
        page.locator(".mc-lineage svg a", has_text="churn-dvc 1.2").first.click()
        page.wait_for_url(re.compile(r".*/lineage/docs/models/churn-dvc/#version-3$"))
        assert page.locator("#version-3").inner_text().startswith("Version 1.2")
    finally:
        page.close()


REUSE_CARDS = {
    "shared-data.yml": """
        kind: dataset
        name: shared-data
        versions: [{version: "v1", digest: "0123abcd"}]
    """,
    "alpha.yml": """
        name: alpha
        title: Alpha
        versions: [{version: "1.0", date: 2026-01-01, data: [{dataset: shared-data, version: v1}]}]
    """,
    "beta.yml": """
        name: beta
        title: Beta
        versions: [{version: "1.0", date: 2026-01-01, data: [{dataset: shared-data, version: v1}]}]
    """,
}


def _logging_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put a `dot` first on PATH that appends every graph it is given to a log, then runs the real one."""
    log, wrapper = tmp_path / "dot-input.log", tmp_path / "bin" / "dot"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\ntee -a "{log}" | "{shutil.which("dot")}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}:{os.environ['PATH']}")
    log.touch()
    return log


def _drawn(log: Path) -> list[str]:
    """The titles of the graphs `dot` drew since the last call, and a fresh log."""
    titles = sorted(re.findall(r'^  graph \[rankdir=LR, label="([^"]*)"', log.read_text(), re.M))
    log.write_text("")
    return titles


def _diagram(page: Path) -> str:
    return re.search(r'<svg\b[^>]*class="mc-lineage-svg".*?</svg>', page.read_text(), re.S).group(0)


def test_a_rebuild_draws_only_the_diagrams_whose_lineage_changed(tmp_path: Path, monkeypatch) -> None:
    log = _logging_dot(tmp_path, monkeypatch)
    project = tmp_path / "project"
    # A cache that keeps only what the last build used: the unchanged rebuild, which reads the pack, must keep
    # the single SVGs too, or the change after it would draw every diagram again.
    write_project(project, REUSE_CARDS,
                  plugins=["search", {"modelcards": {"cards_dir": "cards", "cache_keep_days": 0}}])
    run_modelcards("build", cwd=project, timeout=300)
    assert _drawn(log) == ["All models and data", "Everything downstream of shared-data", "Lineage of alpha",
                           "Lineage of beta"]
    site = project / "site"
    alpha, beta = _diagram(site / "models/alpha/index.html"), _diagram(site / "models/beta/index.html")

    # Nothing changed: nothing is drawn, and the pages carry the same diagrams.
    run_modelcards("build", cwd=project, timeout=300)
    assert _drawn(log) == []
    assert _diagram(site / "models/alpha/index.html") == alpha and _diagram(site / "models/beta/index.html") == beta

    # alpha gets a deployment: its diagram and the dataset's are drawn again; beta's, and the overview (which shows
    # no deployments), are reused as they were.
    card = project / "cards/alpha.yml"
    card.write_text(card.read_text() + "deployments: [{environment: production, version: '1.0', date: 2026-02-01, "
                                       "by: ana}]\n")
    run_modelcards("build", cwd=project, timeout=300)
    assert _drawn(log) == ["Everything downstream of shared-data", "Lineage of alpha"]
    changed = _diagram(site / "models/alpha/index.html")
    assert changed != alpha and ">production</text>" in changed
    assert _diagram(site / "models/beta/index.html") == beta

    # Unchanged again: the diagrams are read back from the build's pack, even without the cache of single SVGs.
    cache = project / ".modelcards-cache/lineage"
    for drawn in cache.glob("*.svg"):
        drawn.unlink()
    run_modelcards("build", cwd=project, timeout=300)
    assert _drawn(log) == []
    assert _diagram(site / "models/alpha/index.html") == changed and _diagram(site / "models/beta/index.html") == beta

    # A damaged pack is not trusted: every diagram is made and, its single SVG gone, drawn again.
    pack = cache / "diagrams.pack"
    pack.write_bytes(pack.read_bytes()[:-100])
    run_modelcards("build", cwd=project, timeout=300)
    assert len(_drawn(log)) == 4
    assert _diagram(site / "models/alpha/index.html") == changed and _diagram(site / "models/beta/index.html") == beta
    assert pack.read_bytes().endswith(b"</svg>")
