"""Tuning trials at scale: summarised on their parent run's or experiment's page instead of a page each.

A real MLflow SQLite store, written with MLflow's own client: a sweep whose parent run produced the card's
version, twelve child trials with different params and metrics, and one unreferenced run in another
experiment. It is pulled with ``modelcards pull mlflow`` and built with ``modelcards build``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from conftest import run_modelcards, write_project

TRIALS = 12
OFFLINE_MLFLOW = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
                  "MLFLOW_SKIP_PIP_REQUIREMENTS_CHECK": "true"}


def log_sweep(uri: str) -> dict:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    sweep = client.create_experiment("churn-sweep")
    parent = client.create_run(sweep, run_name="sweep")
    client.log_param(parent.info.run_id, "search", "grid")
    client.log_metric(parent.info.run_id, "best_auc", 0.9)
    client.set_terminated(parent.info.run_id)
    trials = {}
    for index in range(TRIALS):
        child = client.create_run(sweep, run_name=f"trial-{index:02d}",
                                  tags={"mlflow.parentRunId": parent.info.run_id})
        run_id = child.info.run_id
        client.log_param(run_id, "learning_rate", f"0.{index + 1:02d}")
        client.log_param(run_id, "objective", "binary")
        client.log_metric(run_id, "auc", 0.7 + index / 100)
        client.set_terminated(run_id)
        trials[run_id] = (f"0.{index + 1:02d}", 0.7 + index / 100)
    scratch = client.create_experiment("scratch")
    lone = client.create_run(scratch, run_name="notebook")
    client.log_param(lone.info.run_id, "idea", "bigger trees")
    client.set_terminated(lone.info.run_id)
    return {"parent": parent.info.run_id, "trials": trials, "lone": lone.info.run_id}


@pytest.fixture(scope="module")
def sweep_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("sweep")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in OFFLINE_MLFLOW.items():
            patch.setenv(key, value)
        patch.chdir(root)  # MLflow's defaults (./mlruns) land in the temp folder
        uri = f"sqlite:///{root / 'mlflow.db'}"
        logged = log_sweep(uri)
        run_modelcards("pull", "mlflow", "--tracking-uri", uri, "--out", root / "runs", cwd=root)
    write_project(root, {"churn.yml": f"""
        name: churn
        title: Churn model
        versions:
          - version: "1.0"
            date: 2026-01-01
            run: mlflow:{logged['parent']}
    """}, plugins=["search", {"modelcards": {"cards_dir": "cards", "runs": ["runs"]}}])
    return root, logged


def build(project: Path, out: str, **options: object) -> Path:
    """``modelcards build`` into ``project/out``, with ``options`` added to the plugin's settings."""
    settings = yaml.safe_load((project / "mkdocs.yml").read_text(encoding="utf-8"))
    settings["plugins"][1]["modelcards"].update(options)
    config = project / f"mkdocs-{out}.yml"
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    run_modelcards("build", "-f", config, "-d", project / out, cwd=project)
    return project / out


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def broken_links(site: Path) -> list[str]:
    """Every relative href/xlink:href in the site's pages and SVGs whose file, or anchor in it, is missing."""
    broken = []
    for file in [*site.rglob("*.html"), *site.rglob("*.svg")]:
        text = file.read_text(encoding="utf-8")
        for href in re.findall(r'(?:xlink:)?href="([^"]+)"', text):
            href = html.unescape(href)
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("#", "/")):  # 404.html links from the site root
                continue
            target = (file.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{file.relative_to(site)} -> {href}")
            elif parts.fragment.startswith("trial-") and f'id="{parts.fragment}"' not in target.read_text("utf-8"):
                broken.append(f"{file.relative_to(site)} -> {href} (no such anchor)")
    return broken


def test_trials_are_rows_on_their_parents_page_not_pages(sweep_project: tuple[Path, dict]) -> None:
    project, logged = sweep_project
    site = build(project, "site")

    mlflow_pages = sorted(p.name for p in (site / "runs" / "mlflow").iterdir() if p.is_dir())
    assert mlflow_pages == [logged["parent"]]  # no page per trial, none for the lone run
    parent = page(site, f"runs/mlflow/{logged['parent']}")
    assert f"{TRIALS} tuning trial(s)" in parent
    assert "The same in every trial:" in parent and "objective" in parent
    for run_id, (rate, auc) in logged["trials"].items():
        row = re.search(rf'<tr>\s*<td><span id="trial-{run_id}"></span>(.*?)</tr>', parent, re.S)
        assert row, f"no row for trial {run_id}"
        cells = re.findall(r"<td[^>]*>(.*?)</td>", "<td>" + row.group(1), re.S)
        assert rate in cells[3] and float(cells[4]) == pytest.approx(auc), cells

    experiment = page(site, "runs/experiments/mlflow/scratch")
    assert f'id="trial-{logged["lone"]}"' in experiment and "bigger trees" in experiment
    index = page(site, "runs")
    assert f"({TRIALS} trials)" in index and "experiments/mlflow/scratch/" in index
    assert not broken_links(site), broken_links(site)


def test_the_trial_pages_setting_gives_each_trial_its_page(sweep_project: tuple[Path, dict]) -> None:
    project, logged = sweep_project
    site = build(project, "site-all", trial_pages=True)

    mlflow_pages = {p.name for p in (site / "runs" / "mlflow").iterdir() if p.is_dir()}
    assert mlflow_pages == {logged["parent"], logged["lone"], *logged["trials"]}
    assert "tuning trial(s)" not in page(site, f"runs/mlflow/{logged['parent']}")
    assert not (site / "runs" / "experiments").exists()
