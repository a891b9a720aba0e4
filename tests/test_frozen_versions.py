"""Frozen approved versions: a real git repository, an engineer and reviewers as different authors, and what
`modelcards validate` (and the build) say when an approved version's substance changes afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_modelcards, write_project

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="needs the real git")

ENGINEER = ("Alice Engineer", "alice@example.com")
REVIEWER = ("Carol Checker", "carol@example.com")
RISK = ("Dan Risk", "dan@example.com")

APPROVAL = """
      - by: Carol Checker
        role: model risk reviewer
        decision: approved
        date: 2024-03-05
        note: Evidence reviewed."""
REJECTION = """
      - by: Dan Risk
        role: risk committee
        decision: rejected
        date: 2024-03-20
        note: Too risky after all."""


def card(roc_auc: float = 0.83, changes: str = "First release.", approvals: str = "", newer: str = "") -> str:
    """A card whose version 1.0.0 has its roc_auc on line 10 (value at column 16)."""
    return f"""name: x
title: X model
metrics:
  - name: roc_auc
versions:
  - version: "1.0.0"
    date: 2024-03-01
    changes: {changes}
    metrics:
      roc_auc: {roc_auc}
    approvals:{approvals or " []"}{newer}
"""


NEWER = """
  - version: "1.1.0"
    date: 2024-04-01
    changes: Retrained on April data.
    metrics:
      roc_auc: 0.86"""


def git(repo: Path, *args: str, author=ENGINEER, when: str = "2024-03-01T10:00:00+00:00") -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1], "GIT_AUTHOR_DATE": when,
           "GIT_COMMITTER_NAME": author[0], "GIT_COMMITTER_EMAIL": author[1], "GIT_COMMITTER_DATE": when}
    return subprocess.run([GIT, *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def commit(repo: Path, text: str, message: str, author=ENGINEER, when="2024-03-01T10:00:00+00:00") -> str:
    (repo / "cards" / "x.yml").write_text(text, encoding="utf-8")
    git(repo, "add", "-A", author=author, when=when)
    git(repo, "commit", "-q", "-m", message, author=author, when=when)
    return git(repo, "rev-parse", "--short=7", "HEAD").strip()


@pytest.fixture
def approved(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Alice adds x 1.0.0; Carol, a reviewer, approves it in the next commit."""
    root = tmp_path / "project"
    write_project(root, {}, repo_url="https://git.example.com/ml/project")
    git(root, "init", "-q", "-b", "main")
    shas = {"added": commit(root, card(), "Add x 1.0.0"),
            "approved": commit(root, card(approvals=APPROVAL), "Approve x 1.0.0", REVIEWER,
                               "2024-03-05T10:00:00+00:00")}
    return root, shas


def validate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_modelcards("validate", *args, cwd=root, check=False)


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if ": error: " in line]


def test_a_later_commit_editing_an_approved_metric_is_an_error_naming_the_approving_commit(approved):
    root, shas = approved
    edited = commit(root, card(0.85, approvals=APPROVAL), "Better roc_auc", ENGINEER, "2024-03-10T10:00:00+00:00")
    expected = [
        f"cards/x.yml:10:16: error: versions[0].metrics.roc_auc: frozen_version: found 0.85 (changed in commit {edited} by Alice "
        f"Engineer on 2024-03-10), but version 1.0.0 was approved with 0.83 in commit {shas['approved']} by Carol "
        "Checker on 2024-03-05, and an approved version is frozen; expected 0.83: restore it, and add a new "
        "version instead"]
    result = validate(root)
    assert result.returncode == 1 and errors(result) == expected, result.stderr
    built = run_modelcards("generate", "--out", root / "out", cwd=root, check=False)  # the build says the same
    assert built.returncode == 1 and errors(built) == expected, built.stderr


def test_correcting_the_changes_text_is_fine_and_the_history_shows_the_correction(approved):
    root, _ = approved
    fixed = commit(root, card(changes="First release, trained on 2023 data.", approvals=APPROVAL),
                   "Say what 1.0.0 was trained on", ENGINEER, "2024-03-10T10:00:00+00:00")
    result = validate(root, "--strict")
    assert result.returncode == 0, result.stderr
    run_modelcards("generate", "--out", root / "out", cwd=root)
    page = (root / "out" / "docs" / "models" / "x.md").read_text(encoding="utf-8")
    history = page[page.index("## History"):]
    assert f"`{fixed}`" in history
    assert ("<code>versions\\[1\\.0\\.0\\]\\.changes</code>: First release\\. → First release, trained on 2023 "
            "data\\.") in history


def test_an_uncommitted_edit_of_an_approved_metric_is_an_error_before_it_is_committed(approved):
    root, shas = approved
    (root / "cards" / "x.yml").write_text(card(0.9, approvals=APPROVAL), encoding="utf-8")
    result = validate(root)
    assert result.returncode == 1
    assert errors(result) == [
        "cards/x.yml:10:16: error: versions[0].metrics.roc_auc: frozen_version: found 0.9 (changed in the working tree, not "
        f"committed yet), but version 1.0.0 was approved with 0.83 in commit {shas['approved']} by Carol Checker "
        "on 2024-03-05, and an approved version is frozen; expected 0.83: restore it, and add a new version "
        "instead"], result.stderr


def test_a_new_version_with_new_metrics_is_fine(approved):
    root, _ = approved
    commit(root, card(approvals=APPROVAL, newer=NEWER), "x 1.1.0", ENGINEER, "2024-04-01T10:00:00+00:00")
    (root / "cards" / "x.yml").write_text(card(approvals=APPROVAL, newer=NEWER.replace("0.86", "0.87")),
                                          encoding="utf-8")  # 1.1.0 is not approved: it may still change
    result = validate(root, "--strict")
    assert result.returncode == 0, result.stderr


def test_reverting_the_edit_clears_the_error(approved):
    root, _ = approved
    commit(root, card(0.85, approvals=APPROVAL), "Better roc_auc", ENGINEER, "2024-03-10T10:00:00+00:00")
    assert validate(root).returncode == 1
    commit(root, card(0.83, approvals=APPROVAL), "Revert: 1.0.0 was approved at 0.83", ENGINEER,
           "2024-03-11T10:00:00+00:00")
    result = validate(root, "--strict")
    assert result.returncode == 0, result.stderr


def test_a_later_rejection_does_not_thaw_the_approved_record(approved):
    root, shas = approved
    commit(root, card(approvals=APPROVAL + REJECTION), "Reject x 1.0.0", RISK, "2024-03-20T10:00:00+00:00")
    edited = commit(root, card(0.8, approvals=APPROVAL + REJECTION), "Honest roc_auc", ENGINEER,
                    "2024-03-21T10:00:00+00:00")
    result = validate(root)
    assert result.returncode == 1
    assert errors(result)[0].startswith(
        f"cards/x.yml:10:16: error: versions[0].metrics.roc_auc: frozen_version: found 0.8 (changed in commit {edited} by Alice "
        f"Engineer on 2024-03-21), but version 1.0.0 was approved with 0.83 in commit {shas['approved']}"), \
        result.stderr


def test_added_and_removed_substance_and_a_removed_version_are_errors(approved):
    root, shas = approved
    text = card(approvals=APPROVAL).replace('    date: 2024-03-01\n', '    date: 2024-03-01\n    run: mlflow:abc\n')
    added = commit(root, text, "Link 1.0.0's run", ENGINEER, "2024-03-10T10:00:00+00:00")
    assert errors(validate(root)) == [
        f"cards/x.yml:8:10: error: versions[0].run: frozen_version: found 'mlflow:abc' (changed in commit {added} by Alice Engineer "
        f"on 2024-03-10), but version 1.0.0 was approved without it in commit {shas['approved']} by Carol Checker "
        "on 2024-03-05, and an approved version is frozen; expected no such field: remove it, and add a new "
        "version instead"]
    removed = commit(root, card(approvals=APPROVAL, newer=NEWER).replace(card(approvals=APPROVAL).split(
        "versions:\n")[1], ""), "Drop 1.0.0", ENGINEER, "2024-03-11T10:00:00+00:00")
    assert errors(validate(root)) == [
        f"cards/x.yml:6:3: error: versions: frozen_version: found version 1.0.0 removed (changed in commit {removed} by Alice "
        f"Engineer on 2024-03-11), but it was approved in commit {shas['approved']} by Carol Checker on 2024-03-05, "
        "and an approved version is frozen; expected it kept as approved: restore it, and add a new version "
        "instead"]


def test_an_approval_not_yet_committed_freezes_nothing(tmp_path: Path):
    root = tmp_path / "project"
    write_project(root, {})
    git(root, "init", "-q", "-b", "main")
    commit(root, card(), "Add x 1.0.0")
    (root / "cards" / "x.yml").write_text(card(0.85, approvals=APPROVAL), encoding="utf-8")
    result = validate(root, "--strict")
    assert result.returncode == 0, result.stderr


def test_a_merge_combining_an_approval_with_a_parallel_edit_is_an_error(approved):
    """Carol approves on a branch while Alice changes the metric on main; the merge keeps both (this is what
    happened to the example wine card's 1.1.0, whose run was re-pinned alongside its approval)."""
    root, _ = approved
    git(root, "checkout", "-q", "-b", "review", "HEAD~1")
    review = commit(root, card(approvals=APPROVAL), "Approve x 1.0.0 on a branch", REVIEWER,
                    "2024-03-06T10:00:00+00:00")
    git(root, "checkout", "-q", "main")
    git(root, "reset", "-q", "--hard", "HEAD~1")  # main as it was before the approval
    edited = commit(root, card(0.85), "Better roc_auc", ENGINEER, "2024-03-05T12:00:00+00:00")  # before it
    (root / "cards" / "x.yml").write_text(card(0.85, approvals=APPROVAL), encoding="utf-8")
    git(root, "merge", "-q", "-s", "ours", "--no-edit", "review", when="2024-03-08T10:00:00+00:00")
    git(root, "commit", "-q", "--amend", "-a", "--no-edit", when="2024-03-08T10:00:00+00:00")
    assert errors(validate(root)) == [
        f"cards/x.yml:10:16: error: versions[0].metrics.roc_auc: frozen_version: found 0.85 (changed in commit {edited} by Alice "
        f"Engineer on 2024-03-05, on a branch merged with the approval), but version 1.0.0 was approved with 0.83 "
        f"in commit {review} by Carol Checker on 2024-03-06, and an approved version is frozen; expected 0.83: "
        "restore it, and add a new version instead"]


@pytest.mark.parametrize(("expires", "failed"), [("2099-12-31", False), ("2024-01-31", True)])
def test_a_waiver_for_the_rule_holds_until_it_expires(approved, expires: str, failed: bool):
    root, _ = approved
    waiver = (f"waivers:\n  - {{rule: frozen_version, version: \"1.0.0\", by: Dan Risk, reason: Known re-run., "
              f"expires: {expires}}}\n")
    commit(root, waiver + card(0.85, approvals=APPROVAL), "Better roc_auc, waived", ENGINEER,
           "2024-03-10T10:00:00+00:00")
    result = validate(root, "--strict")
    assert result.returncode == (1 if failed else 0), result.stderr
    lines = result.stderr.splitlines()
    if failed:
        assert errors(result) == [line for line in lines if line.startswith("cards/x.yml:12:16: error: versions[0]."
                                  "metrics.roc_auc: frozen_version: found 0.85")]
        assert errors(result)[0].endswith("; the waiver by Dan Risk expired on 2024-01-31")
    else:  # never silent: the waived edit is an info line naming who waived it
        assert errors(result) == []
        assert [line for line in lines if ": info: " in line] == [
            "cards/x.yml:12:16: info: versions[0].metrics.roc_auc: frozen_version: waived by Dan Risk until "
            f"2099-12-31 (waivers[0]): {lines[0].split('(waivers[0]): ', 1)[-1]}"]
        assert "found 0.85" in lines[0]
        run_modelcards("generate", "--out", root / "out", cwd=root)
        page = (root / "out" / "docs" / "models" / "x.md").read_text(encoding="utf-8")
        waivers = page[page.index("## Waivers"):page.index("## History")]
        assert "| <code>frozen\\_version</code> | 1\\.0\\.0 | Dan Risk | Known re\\-run\\. | 2099\\-12\\-31 |" in waivers


def test_a_frozen_version_waiver_where_nothing_changed_is_a_stale_warning(approved):
    root, _ = approved
    waiver = ("waivers:\n  - {rule: frozen_version, version: \"1.0.0\", by: Dan Risk, reason: Just in case., "
              "expires: 2099-12-31}\n")
    commit(root, waiver + card(approvals=APPROVAL), "Waive nothing", ENGINEER, "2024-03-10T10:00:00+00:00")
    assert validate(root).returncode == 0
    strict = validate(root, "--strict")
    assert strict.returncode == 1
    assert strict.stderr.splitlines()[0] == (
        "cards/x.yml:2:5: warning: waivers[0]: stale waiver of 'frozen_version' for version 1.0.0: no approved "
        "version it names differs from what was approved; expected a waiver only where a rule fails: remove it")
