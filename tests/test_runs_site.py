"""Run metadata in the built site, driven in Debian's headless Chromium: shown as text, never run, no secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from browsing import ACTIVE_CONTENT_JS, crawl, record
from conftest import StaticServer, run_modelcards, write_project
from modelcards.sources.record import CodeRef, DatasetRef, Output, RunRecord, series, write_export

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
AWS_KEY = "AKIAQWERTYUIOPASDFGH"
GITLAB_TOKEN = "glpat-Zx9Yw8Vu7Ts6Rq5Po4Nm"

EVIL_RUN = RunRecord(
    source="mlflow", id="evil1", experiment=f"exp {SCRIPT}", name=f"run {IMG}", status="FINISHED",
    user=SCRIPT,
    params={"payload": SCRIPT, "aws": f"--key {AWS_KEY}", "deploy_token": GITLAB_TOKEN},
    metrics={f"loss{SCRIPT}": series([(0, 1.0, None), (1, 0.5, None)])},
    tags={"note": IMG, "pipeline": f"ci {GITLAB_TOKEN}"},
    inputs=(DatasetRef(f"data {IMG}", namespace=SCRIPT, digest=SCRIPT, source=f"s3://bucket/{IMG}"),),
    outputs=(Output("model", f"model {SCRIPT}", uri=f"models:/{IMG}", registered_name=IMG, version="1",
                    aliases=(SCRIPT,)),),
    code=CodeRef(f"https://git.example.com/{SCRIPT}", f"abc{IMG}", f"train.py {SCRIPT}"),
)

CARDS = {"evil.yml": """
    name: evil
    title: Evil runs
    versions:
      - version: "1.0"
        date: 2026-01-01
        run: mlflow:evil1
"""}


@pytest.fixture(scope="module")
def runs_site(static_server: StaticServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    project = tmp_path_factory.mktemp("evil-runs")
    mkdocs_yml = write_project(project, CARDS, repo_url="https://git.example.com/ml/evil",
                               plugins=["search", {"modelcards": {"cards_dir": "cards", "runs": ["runs"]}}])
    write_export([EVIL_RUN], project / "runs")
    site_dir = static_server.root / "evil-runs" / "sub"
    run_modelcards("build", "-f", mkdocs_yml, "-d", site_dir, cwd=project)
    return static_server.url("/evil-runs/sub/"), site_dir


def test_run_metadata_is_shown_as_text_and_never_runs(browser, runs_site: tuple[str, Path]):
    start, _ = runs_site
    context = browser.new_context()
    recorded = record(context)
    site = crawl(recorded, start)
    assert not site.problems, "\n".join(site.problems)
    run_pages = [url for url in site.html_pages(under="runs/mlflow/")]
    assert len(run_pages) == 1, site.html_pages()

    page = recorded.new_page()
    failures = []
    for url in site.html_pages():
        page.goto(url, wait_until="load")
        failures += [f"{url}: {found}" for found in page.evaluate(ACTIVE_CONTENT_JS)]
    page.goto(run_pages[0], wait_until="load")
    text = page.locator("article").inner_text()
    for shown in (f"payload\t{SCRIPT}", f"note\t{IMG}", f"Run run {IMG}", f"data {IMG}", f"loss{SCRIPT}"):
        if shown not in text:
            failures.append(f"{run_pages[0]}: {shown!r} is not shown as text")
    chart_title = page.locator("svg.mc-chart > title").first.text_content()
    assert chart_title == f"loss{SCRIPT}"
    page.wait_for_timeout(300)  # time for an injected image to fail and fire its handler
    assert not recorded.dialogs, f"dialogs opened: {recorded.dialogs}"
    assert not failures, "\n".join(failures)
    assert not recorded.script_errors, recorded.script_errors
    context.close()


def test_planted_secrets_appear_nowhere_in_the_built_site(runs_site: tuple[str, Path]):
    _, site_dir = runs_site
    files = [p for p in site_dir.rglob("*") if p.is_file()]
    assert any(p.name == "index.html" and "runs" in p.parts for p in files)
    for secret in (AWS_KEY, GITLAB_TOKEN):
        leaks = [str(p.relative_to(site_dir)) for p in files if secret.encode() in p.read_bytes()]
        assert not leaks, f"{secret} found in {leaks}"
