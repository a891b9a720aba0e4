"""A released version keeps the record of the run that produced it, with real git and real DVC.

A version pinned to `dvc:train@<rev>` (read from git at that revision, or from a `modelcards pull dvc`
snapshot) keeps its metrics and commit after a retrain is committed, and the build says what moved;
a deployed version naming the floating `dvc:train` is a lineage warning; a run that started after
its version's release is one too.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import run_modelcards, write_project
from dvc_pipeline import GitDvcProject
from modelcards.sources.record import CodeRef, RunRecord, series, write_export

QUIET = {"no_data_version": "off", "no_code_commit": "off", "unknown_dataset": "off", "environment_order": "off"}


def _card(first_run: str, second_run: str = "dvc:train") -> str:
    return f"""
        name: churn
        title: Churn
        versions:
          - version: "1.0"
            date: 2026-01-10
            run: {first_run}
          - version: "2.0"
            date: 2026-02-10
            run: {second_run}
        deployments:
          - {{environment: production, version: "1.0", date: 2026-01-12, by: Ana}}
          - {{environment: production, version: "2.0", date: 2026-02-12, by: Ana}}
    """


def _mkdocs(root: Path, card: str, runs: list[str]) -> Path:
    return write_project(root, {"churn.yml": card},
                         plugins=["search", {"modelcards": {"cards_dir": "cards", "runs": runs,
                                                            "lineage_checks": QUIET}}])


def _lock_outs(project: GitDvcProject, rev: str) -> dict[str, str]:
    lock = yaml.safe_load(project.run("git", "show", f"{rev}:pipeline/dvc.lock", cwd=project.root))
    return {out["path"]: out["md5"] for out in lock["stages"]["train"]["outs"]}


def _page_text(path: Path) -> str:
    """The page's text, one line per element, blank lines and indentation dropped."""
    text = html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip()) + "\n"


def _version_text(page: str, label: str) -> str:
    """One version's block of the model page's timeline, from below its heading to the next version's."""
    return page.split(f"\nVersion {label}¶\n", 1)[1].split("\nVersion ", 1)[0]


@pytest.fixture(scope="module")
def retrained(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitDvcProject, str, str]:
    """A project trained at C = 1.0 (first commit), then retrained at C = 0.1 and committed (second)."""
    project = GitDvcProject(tmp_path_factory.mktemp("pinned") / "project")
    first = project.run("git", "rev-parse", "HEAD", cwd=project.root).strip()
    second = project.retrain(0.1)
    return project, first, second


def test_a_pinned_version_keeps_its_metrics_and_commit_after_a_retrain(retrained, tmp_path: Path):
    project, first, second = retrained
    mkdocs_yml = _mkdocs(project.root, _card(f"dvc:train@{first[:7]}"), ["pipeline"])
    build = run_modelcards("build", "-f", mkdocs_yml, "-d", tmp_path / "site", cwd=project.root)

    old, new = _lock_outs(project, first), _lock_outs(project, second)
    warnings = [line for line in build.stderr.splitlines() if "warning:" in line]
    assert warnings == [
        f"cards/churn.yml:6:10: warning: versions[0].run: dvc:train@{first[:7]} differs from dvc:train in "
        f"pipeline/dvc.lock now: metrics.roc_auc 0.762 -> 0.624, params.C 1.0 -> 0.1, "
        f"output metrics.json {old['metrics.json']} -> {new['metrics.json']}, "
        f"output model.txt {old['model.txt']} -> {new['model.txt']}, "
        f"code commit {first[:7]} -> {second[:7]}; the version keeps the pinned record",
        f"cards/churn.yml:9:10: warning: versions[1].run: version '2.0' is deployed (production on 2026-02-12) "
        f"but its run dvc:train follows pipeline/dvc.lock as it is now, so the next `dvc repro` and commit "
        f"change its record; pin the commit that recorded it (`run: dvc:train@{second[:7]}` if "
        f"pipeline/dvc.lock at {second[:7]} recorded it), or a `modelcards pull dvc` snapshot",
    ]
    page = _page_text(tmp_path / "site/models/churn/index.html")
    # The versions timeline: state, run and release date, roc_auc, code commit.
    old_version, new_version = _version_text(page, "1.0"), _version_text(page, "2.0")
    assert old_version.startswith("State: retired")
    assert f"Released 2026-01-10, from run dvc:train@{first}.\n" in old_version
    assert "\nroc_auc 0.762\n" in old_version and f" at {first[:10]}" in old_version
    assert new_version.startswith("State: deployed")
    assert "Released 2026-02-10, from run dvc:train.\n" in new_version
    assert "\nroc_auc 0.624 (-0.138)\n" in new_version and f" at {second[:10]}" in new_version


def test_an_unchanged_stage_gives_no_warning_for_its_pin(retrained, tmp_path: Path):
    project, _, second = retrained
    mkdocs_yml = _mkdocs(project.root, _card(f"dvc:train@{second[:9]}", f"dvc:train@{second}"), ["pipeline"])
    build = run_modelcards("build", "--strict", "-f", mkdocs_yml, "-d", tmp_path / "site", cwd=project.root)
    assert "warning" not in build.stderr


def test_pull_dvc_writes_a_snapshot_that_the_build_reads_without_git(retrained, tmp_path: Path):
    project, first, second = retrained
    pulled = run_modelcards("pull", "dvc", "--project", "pipeline", "--rev", first[:7], "--stage", "train",
                            "--out", "runs/dvc", cwd=project.root)
    snapshot = project.root / "runs/dvc" / f"dvc-train_{first}.json"
    assert pulled.stderr.splitlines()[-1] == (
        f"Wrote 1 stage(s) at {first[:12]} to runs/dvc; masked 0 secret value(s). "
        f"Pin a version to one with run: dvc:<stage>@{first[:12]}")
    exported = json.loads(snapshot.read_text(encoding="utf-8"))
    assert (exported["format"], exported["source"], exported["id"]) == ("modelcards-run/1", "dvc", f"train@{first}")
    assert exported["tags"] == {"dvc.rev": first}
    assert exported["code"]["commit"] == first
    assert exported["metrics"]["roc_auc"]["last"] == 0.762
    assert exported["params"] == {"C": "1.0"}

    # A copy without .git: the snapshot alone backs the pin; today's dvc.lock says something else.
    copy = tmp_path / "copy"
    shutil.copytree(project.root, copy, ignore=shutil.ignore_patterns(".git"))
    mkdocs_yml = _mkdocs(copy, _card(f"dvc:train@{first[:7]}", f"dvc:train@{first[:7]}"), ["pipeline", "runs/dvc"])
    build = run_modelcards("build", "-f", mkdocs_yml, "-d", tmp_path / "site", cwd=copy)
    assert "error" not in build.stderr
    assert f"versions[0].run: dvc:train@{first[:7]} differs from dvc:train in pipeline/dvc.lock now: " \
           "metrics.roc_auc 0.762 -> 0.624" in build.stderr
    assert "versions[1].run: version '2.0' is deployed" not in build.stderr  # pinned to the snapshot
    page = _page_text(tmp_path / "site/models/churn/index.html")
    new_version = _version_text(page, "2.0")
    assert new_version.startswith("State: deployed")
    assert "\nroc_auc 0.762 (+0)\n" in new_version and f" at {first[:10]}" in new_version


def test_a_revision_git_does_not_have_is_an_error_at_the_card_line(retrained, tmp_path: Path):
    project, _, _ = retrained
    mkdocs_yml = _mkdocs(project.root, _card("dvc:train@nonexistent"), ["pipeline"])
    build = run_modelcards("build", "-f", mkdocs_yml, "-d", tmp_path / "site", cwd=project.root, check=False)
    assert build.returncode == 1
    assert ("cards/churn.yml:6:10: error: versions[0].run: found git revision 'nonexistent', which names no "
            "commit in the repository of pipeline; expected a commit that recorded the stage "
            "(`git log -- dvc.lock` lists them)") in build.stderr.splitlines()
    assert not (tmp_path / "site").exists()


def test_a_branch_name_is_no_pin(retrained, tmp_path: Path):
    project, _, second = retrained
    mkdocs_yml = _mkdocs(project.root, _card("dvc:train@main"), ["pipeline"])
    build = run_modelcards("build", "-f", mkdocs_yml, "-d", tmp_path / "site", cwd=project.root, check=False)
    assert build.returncode == 1
    assert ("cards/churn.yml:6:10: error: versions[0].run: found revision 'main', which moves with new commits, "
            f"so the version would follow it; pin the commit it names now: @{second[:12]}") in build.stderr


def test_a_pin_in_a_project_outside_git_is_a_clear_error(retrained, tmp_path: Path):
    project, first, _ = retrained
    copy = tmp_path / "copy"
    shutil.copytree(project.root, copy, ignore=shutil.ignore_patterns(".git"))
    mkdocs_yml = _mkdocs(copy, _card(f"dvc:train@{first[:7]}"), ["pipeline"])
    build = run_modelcards("build", "-f", mkdocs_yml, "-d", tmp_path / "site", cwd=copy, check=False)
    assert build.returncode == 1
    errors = [line for line in build.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, build.stderr
    assert errors[0].startswith("cards/churn.yml:6:10: error: versions[0].run: found pipeline outside any git "
                                "repository, so it has no revisions (git says: ")
    assert errors[0].endswith("); commit the project to git, or pin a snapshot written by `modelcards pull dvc`")


def test_a_run_that_started_after_the_release_is_a_warning(tmp_path: Path):
    def run(run_id: str, started: str) -> RunRecord:
        return RunRecord(source="mlflow", id=run_id, start_time=started, end_time=started,
                         metrics={"auc": series([(0, 0.8, None)])}, code=CodeRef(commit="4be1f0c" * 5))

    write_export([run("late", "2026-03-01T09:00:00Z"), run("between", "2026-02-11T23:30:00Z"),
                  run("same-day", "2026-01-10T18:00:00Z")], tmp_path / "runs")
    card = """
        name: churn
        title: Churn
        versions:
          - {version: "1.0", date: 2026-01-10, run: "mlflow:same-day"}
          - {version: "2.0", date: 2026-02-10, run: "mlflow:late"}
          - {version: "2.1", date: 2026-02-11, run: "mlflow:between"}
        deployments:
          - {environment: production, version: "1.0", date: 2026-01-12, by: Ana}
          - {environment: staging, version: "2.1", date: 2026-02-12, by: Ana}
          - {environment: staging, version: "2.1", date: 2026-02-10, by: Ana}
    """
    mkdocs_yml = _mkdocs(tmp_path, card, ["runs"])
    build = run_modelcards("build", "-f", mkdocs_yml, "-d", tmp_path / "site", cwd=tmp_path)
    warnings = [line for line in build.stderr.splitlines() if "warning:" in line]
    assert warnings == [
        "cards/churn.yml:5:28: warning: versions[1].date: run mlflow:late started on 2026-03-01, after version "
        "'2.0' was released on 2026-02-10; a version cannot come from a later run: name the run that produced "
        "it, or correct the date",
        "cards/churn.yml:10:50: warning: deployments[2].date: run mlflow:between started on 2026-02-11, after "
        "version '2.1' was first deployed (staging on 2026-02-10); a deployed version cannot come from a later "
        "run: name the run that produced it, or correct the date",
    ]


def test_pull_dvc_outside_git_or_for_an_unknown_stage_says_why(retrained, tmp_path: Path):
    project, first, _ = retrained
    unknown = run_modelcards("pull", "dvc", "--project", "pipeline", "--rev", first, "--stage", "evaluate",
                             "--out", tmp_path / "out", cwd=project.root, check=False)
    assert (unknown.returncode, unknown.stderr) == (
        3, f"error: found no stage 'evaluate' in dvc.lock at {first}; its stages: train\n")
    copy = tmp_path / "copy"
    shutil.copytree(project.root, copy, ignore=shutil.ignore_patterns(".git"))
    shutil.rmtree(copy / "runs", ignore_errors=True)  # another test's snapshot
    outside = run_modelcards("pull", "dvc", "--project", "pipeline", "--out", "runs/dvc", cwd=copy, check=False)
    assert outside.returncode == 3
    assert outside.stderr.startswith("error: found pipeline outside any git repository, so it has no revisions")
    assert not (copy / "runs").exists() and not (tmp_path / "out").exists()


def test_a_preview_keeps_a_card_pinned_to_loaded_snapshots_and_joins_one_read_from_git_again(retrained, tmp_path):
    """What a snapshot holds changes only with the run exports, which a preview watches; what git holds at a
    revision is read again on every save."""
    from modelcards.build import Memo, generate_site
    from modelcards.config import settings_from

    project, first, second = retrained
    copy = tmp_path / "copy"
    shutil.copytree(project.root, copy)
    run_modelcards("pull", "dvc", "--project", "pipeline", "--rev", first[:7], "--stage", "train",
                   "--out", "runs/dvc", cwd=copy)
    shutil.rmtree(copy / "cards", ignore_errors=True)  # the cards of the tests before, which share the project
    (copy / "cards").mkdir()
    (copy / "cards" / "snapshot.yml").write_text(
        _card(f"dvc:train@{first[:7]}", f"dvc:train@{first[:7]}").replace("name: churn", "name: churn-snapshot"))
    (copy / "cards" / "git.yml").write_text(
        _card(f"dvc:train@{second[:9]}", f"dvc:train@{second}").replace("name: churn", "name: churn-git"))
    settings = settings_from({"cards_dir": "cards", "runs": ["pipeline", "runs/dvc"], "lineage_checks": QUIET},
                             project_dir=copy)

    def pages(memo: Memo | None = None) -> list[tuple[str, str]]:
        # A build keeps its pages on disk as it makes them (build.SiteFiles), a preview in memory.
        return [(page.path, page.stored.read_bytes().decode("utf-8") if page.stored else page.content)
                for page in generate_site(settings, memo=memo).pages]

    memo = Memo()
    assert pages(memo) == pages()
    assert list(memo.linked_cards) == ["cards/snapshot.yml"]
    kept = memo.linked_cards["cards/snapshot.yml"]
    assert pages(memo) == pages()
    assert memo.linked_cards["cards/snapshot.yml"] is kept
