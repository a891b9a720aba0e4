"""The audit trail: a real git repository with several authors and commits, read in one pass, shown on the site."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_modelcards, write_project
from modelcards.history import field_changes, read_history

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="needs the real git")

ALICE = ("Alice Auditor", "alice@example.com")
BOB = ("Bob Builder", "bob@example.com")


def card(risk: str = "low", roc_auc: float = 0.83, extra_version: bool = False, name: str = "churn") -> str:
    newer = """
  - version: "1.3.0"
    date: 2024-05-01
    metrics: {roc_auc: 0.86}""" if extra_version else ""
    return f"""name: {name}
title: Churn <b>model</b>
risk_tier: {risk}
metrics:
  - name: roc_auc
versions:
  - version: "1.2.0"
    date: 2024-03-01
    metrics: {{roc_auc: {roc_auc}}}{newer}
"""


def git(repo: Path, *args: str, author=ALICE, when: str = "2024-01-01T10:00:00+00:00") -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1], "GIT_AUTHOR_DATE": when,
           "GIT_COMMITTER_NAME": author[0], "GIT_COMMITTER_EMAIL": author[1], "GIT_COMMITTER_DATE": when}
    return subprocess.run([GIT, *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def commit(repo: Path, files: dict[str, str], message: str, author=ALICE, when="2024-01-01T10:00:00+00:00") -> str:
    for name, text in files.items():
        (repo / "cards" / name).write_text(text, encoding="utf-8")
    git(repo, "add", "-A", author=author, when=when)
    git(repo, "commit", "-q", "-m", message, author=author, when=when)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Four commits by two authors: the card is added, its risk tier raised twice, then a metric corrected."""
    root = tmp_path / "project"
    write_project(root, {}, repo_url="https://git.example.com/ml/project")
    git(root, "init", "-q", "-b", "main")
    shas = {
        "added": commit(root, {"churn.yml": card()}, "Add churn", ALICE, "2024-01-01T10:00:00+00:00"),
        "medium": commit(root, {"churn.yml": card("medium")}, "Churn is medium risk", BOB,
                         "2024-02-01T10:00:00+00:00"),
        "high": commit(root, {"churn.yml": card("high")}, "Churn is high risk", ALICE, "2024-03-01T10:00:00+00:00"),
        "metric": commit(root, {"churn.yml": card("high", 0.84, extra_version=True)}, "Fix roc_auc, add 1.3.0",
                         BOB, "2024-04-01T10:00:00+00:00"),
    }
    return root, shas


def generate(root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    result = run_modelcards("generate", "--out", root / "out", *args, cwd=root, check=False)
    return result, root / "out" / "docs"


def test_model_page_shows_each_commit_with_sha_author_date_and_field_changes(repo):
    root, shas = repo
    result, docs = generate(root)
    assert result.returncode == 0, result.stderr
    page = (docs / "models" / "churn.md").read_text(encoding="utf-8")
    history = page[page.index("## History"):]
    url = "https://git.example.com/ml/project/commit/"
    assert (f"- [`{shas['high'][:7]}`]({url}{shas['high']}) · Alice Auditor · 2024-03-01 · Churn is high risk\n"
            "    - <code>risk\\_tier</code>: medium → high\n") in history
    assert (f"- [`{shas['medium'][:7]}`]({url}{shas['medium']}) · Bob Builder · 2024-02-01 · Churn is medium risk\n"
            "    - <code>risk\\_tier</code>: low → medium\n") in history
    assert "<code>versions\\[1\\.2\\.0\\]\\.metrics\\.roc\\_auc</code>: 0\\.83 → 0\\.84" in history
    assert "<code>versions\\[1\\.3\\.0\\]</code> added" in history
    # Newest first, and the first commit says it added the card.
    order = [history.index(shas[k][:7]) for k in ("metric", "high", "medium", "added")]
    assert order == sorted(order)
    assert "*card added*" in history


def test_recent_changes_page_lists_the_commits_with_their_models(repo):
    root, shas = repo
    result, docs = generate(root)
    assert result.returncode == 0, result.stderr
    page = (docs / "changes.md").read_text(encoding="utf-8")
    assert page.index(shas["metric"][:7]) < page.index(shas["high"][:7]) < page.index(shas["medium"][:7])
    assert "- [cards/churn\\.yml](models/churn.md)" in page
    assert "<code>risk\\_tier</code>: medium → high" in page
    mkdocs_yml = (root / "out" / "mkdocs.yml").read_text(encoding="utf-8")
    assert 'Recent changes: "changes.md"' in mkdocs_yml


def test_every_page_says_which_commit_it_is_as_of_and_two_builds_are_identical(repo):
    root, shas = repo
    generate(root)
    first = {p: p.read_bytes() for p in sorted((root / "out" / "docs").rglob("*.md"))}
    line = (f"*As of 2024-04-01, commit [`{shas['metric'][:7]}`]"
            f"(https://git.example.com/ml/project/commit/{shas['metric']})*")
    assert first and all(line in text.decode() for text in first.values())
    shutil.rmtree(root / "out")
    generate(root)
    assert {p: p.read_bytes() for p in sorted((root / "out" / "docs").rglob("*.md"))} == first


def test_who_added_each_version(repo):
    root, shas = repo
    history = read_history(root, root / "cards")
    added = history.cards["cards/churn.yml"].version_added_by
    assert (added["1.2.0"].sha, added["1.2.0"].author) == (shas["added"], "Alice Auditor")
    assert (added["1.3.0"].sha, added["1.3.0"].author, added["1.3.0"].email) == (shas["metric"], "Bob Builder",
                                                                                  "bob@example.com")


def test_uncommitted_changes_and_invalid_yaml(repo):
    root, shas = repo
    commit(root, {"churn.yml": "name: [unclosed\n"}, "Break the card", BOB, "2024-05-01T10:00:00+00:00")
    (root / "cards" / "churn.yml").write_text(card("medium", 0.84, extra_version=True), encoding="utf-8")
    history = read_history(root, root / "cards").cards["cards/churn.yml"]
    newest, broken = history.changes[:2]
    assert (newest.commit, newest.note) == (None, "uncommitted changes")
    assert broken.note == "not valid YAML at this commit"
    result, docs = generate(root)
    page = (docs / "models" / "churn.md").read_text(encoding="utf-8")
    assert "- **Uncommitted changes** in the working tree\n" in page
    assert "plus uncommitted changes to the cards*" in page


def test_shallow_clone_says_so_and_gives_a_partial_history(repo, tmp_path):
    root, shas = repo
    clone = tmp_path / "clone"
    subprocess.run([GIT, "clone", "-q", "--depth", "1", f"file://{root}", str(clone)], check=True,
                   env={**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null"})
    (clone / "docs").mkdir()  # git keeps no empty folder
    result, docs = generate(clone)
    assert result.returncode == 0
    assert ("info: found a shallow git clone, so the change history of the cards is partial; fetch "
            "the full history with `git fetch --unshallow`, or set `fetch-depth: 0` in actions/checkout"
            ) in result.stderr.splitlines()
    page = (docs / "models" / "churn.md").read_text(encoding="utf-8")
    assert shas["metric"][:7] in page and shas["high"][:7] not in page
    assert "This site was built from a shallow git clone" in (docs / "changes.md").read_text(encoding="utf-8")


def test_a_copy_without_git_builds_without_history_and_says_so(tmp_path):
    root = tmp_path / "plain"
    write_project(root, {"churn.yml": card()})
    result, docs = generate(root)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if "git" in line and "warning" in line] == []
    assert "info: plain is not in a git repository, so the cards have no change history" in result.stderr.splitlines()
    page = (docs / "models" / "churn.md").read_text(encoding="utf-8")
    assert "## History" not in page and "As of" not in page
    assert not (docs / "changes.md").exists()


def test_card_text_in_the_history_is_escaped(repo):
    root, _ = repo
    commit(root, {"churn.yml": card("high", 0.84, True).replace("Churn <b>model</b>", "Churn <script>x</script>")},
           "Retitle <img src=x onerror=alert(1)>", BOB, "2024-05-01T10:00:00+00:00")
    result, docs = generate(root)
    page = (docs / "models" / "churn.md").read_text(encoding="utf-8")
    assert "<script>" not in page and "<img" not in page
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in page


def test_one_log_pass_whatever_the_number_of_cards(tmp_path):
    """30 cards x 5 commits: a `git` shim on PATH logs every call, and the count stays small and constant."""
    root = tmp_path / "many"
    write_project(root, {})
    git(root, "init", "-q", "-b", "main")
    for round_ in range(5):
        commit(root, {f"m{i}.yml": card(["low", "medium", "high"][round_ % 3], 0.8 + round_ / 100, name=f"m{i}")
                      for i in range(30)}, f"round {round_}", when=f"2024-01-0{round_ + 1}T10:00:00+00:00")
    shim_dir, calls = tmp_path / "shim", tmp_path / "calls.log"
    shim_dir.mkdir()
    (shim_dir / "git").write_text(f'#!/bin/sh\necho "$1 $2 $3" >> {calls}\nexec {GIT} "$@"\n', encoding="utf-8")
    (shim_dir / "git").chmod(0o755)
    old_path = os.environ["PATH"]
    os.environ["PATH"] = f"{shim_dir}{os.pathsep}{old_path}"
    try:
        history = read_history(root, root / "cards")
    finally:
        os.environ["PATH"] = old_path
    assert len(history.cards) == 30 and all(len(c.changes) == 5 for c in history.cards.values())
    assert "<code>" not in str(history.cards["cards/m0.yml"].changes[0].changes)
    lines = calls.read_text().splitlines()
    assert len(lines) == 5, lines  # rev-parse, log HEAD, log of the cards folder, status, cat-file
    assert history.blobs_parsed == 30 * 5  # each distinct blob once: a commit's blob after is the next one's before
    assert sum(line.split()[2] == "log" for line in lines) == 2


def test_field_changes_key_versions_by_label_and_deployments_by_environment_version_date():
    before = {"versions": [{"version": "1.0", "metrics": {"f1": 0.5}}],
              "deployments": [{"environment": "prod", "version": "1.0", "date": "2024-01-01", "by": "a"}],
              "tags": ["a", "b"]}
    after = {"versions": [{"version": "0.9"}, {"version": "1.0", "metrics": {"f1": 0.6}}],
             "deployments": [{"environment": "prod", "version": "1.0", "date": "2024-01-01", "by": "b"}],
             "tags": ["a"], "risk_tier": "high"}
    assert [(c.key, c.kind, c.before, c.after) for c in field_changes(before, after)] == [
        ("versions[1.0].metrics.f1", "changed", 0.5, 0.6),
        ("versions[0.9]", "added", None, {"version": "0.9"}),
        ("deployments[prod 1.0 2024-01-01].by", "changed", "a", "b"),
        ("tags[1]", "removed", "b", None),
        ("risk_tier", "added", None, "high"),
    ]


def test_a_credential_committed_once_is_not_republished_from_the_history(repo):
    root, _ = repo
    token = "gh" + "p_" + "Qx7Lm2Np8Rt4Vw6Yz3Bc5Df9Gh1Jk0Ps" + "Ab12"  # a GitHub token's shape, made up
    commit(root, {"churn.yml": card("high", 0.84, True) + f"license: {token}\n"}, "Oops", BOB,
           "2024-05-01T10:00:00+00:00")
    commit(root, {"churn.yml": card("high", 0.84, True)}, "Remove the token", ALICE, "2024-05-02T10:00:00+00:00")
    result, docs = generate(root)
    assert result.returncode == 0, result.stderr
    page = (docs / "models" / "churn.md").read_text(encoding="utf-8")
    assert "<code>license</code> removed" in page
    assert token not in page and token not in (docs / "changes.md").read_text(encoding="utf-8")


def test_an_approval_by_whoever_added_the_version_in_git_is_an_error_at_its_line(repo):
    root, shas = repo
    # Bob added 1.3.0 in git (the "metric" commit); he may sign off 1.2.0, which Alice added, but not 1.3.0.
    approvals = """
    approvals:
      - {by: Bob Builder, role: risk reviewer, decision: approved, date: 2024-05-02, note: ok}
      - {by: alice@example.com, role: product owner, decision: approved, date: 2024-05-02, note: ok}"""
    text = card("high", 0.84, extra_version=True)
    text = text.replace('metrics: {roc_auc: 0.84}', 'metrics: {roc_auc: 0.84}' + approvals.replace(
        "2024-05-02", "2024-03-02"))
    text = text.replace('metrics: {roc_auc: 0.86}', 'metrics: {roc_auc: 0.86}' + approvals)
    commit(root, {"churn.yml": text}, "Sign-offs", ALICE, "2024-05-03T10:00:00+00:00")
    result = run_modelcards("build", cwd=root, check=False)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    validated = run_modelcards("validate", cwd=root, check=False)  # validate reads the history too
    assert validated.returncode == 1
    assert [line for line in validated.stderr.splitlines() if ": error: " in line] == errors
    assert errors == [
        f"cards/churn.yml:12:14: error: versions[0].approvals[1].by: found 'alice@example.com', who added it to "
        f"the card in commit {shas['added'][:7]}; separation of duties: expected someone other than an author of "
        "version 1.2.0 to sign it off",
        f"cards/churn.yml:17:14: error: versions[1].approvals[0].by: found 'Bob Builder', who added it to the card "
        f"in commit {shas['metric'][:7]}; separation of duties: expected someone other than an author of version "
        "1.3.0 to sign it off",
    ]
