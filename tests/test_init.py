"""`modelcards init` in a real git repository: from nothing to a built site, and never over a team's files."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import MODELCARDS, read_mkdocs_yml

STARTER_FILES = [
    "mkdocs.yml", "modelcards-docs/about.md", "cards/fraud-scorer.yml", "cards/card.schema.json",
    ".github/workflows/modelcards.yml", ".pre-commit-config.yaml",
]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MODELCARDS), *args], cwd=cwd, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com", *args],
                          cwd=cwd, check=True, capture_output=True, text=True).stdout


def git_repository(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "--quiet", "--initial-branch=main")
    (root / "train.py").write_text("print('training')\n", encoding="utf-8")  # an existing project
    return root


def snapshot(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file() and ".git" not in path.relative_to(root).parts}


def test_init_then_commit_then_strict_build_gives_the_model_page(tmp_path: Path):
    repo = git_repository(tmp_path / "fraud")
    result = run(repo, "init", "--model", "fraud-scorer", "--title", "Card-fraud scorer", "--owner", "Payments ML",
                 "--contact", "payments-ml@example.com", "--risk-tier", "high")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        *(f"Wrote {path}" for path in STARTER_FILES),
        "Add site/ and .modelcards-cache/ to .gitignore: both are made by the build.",
        "Fill in cards/fraud-scorer.yml, commit, then build the site: modelcards build",
    ]
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "Start model cards")

    assert run(repo, "validate", "--strict").returncode == 0
    built = run(repo, "build", "--strict")
    assert built.returncode == 0, built.stderr
    page = (repo / "site" / "models" / "fraud-scorer" / "index.html").read_text(encoding="utf-8")
    assert "Card-fraud scorer" in page and "Payments ML" in page and "payments-ml@example.com" in page
    assert "risk tier: high" in page
    assert "fonts.googleapis.com" not in page and "fonts.gstatic.com" not in page


def test_written_files_are_what_ci_and_pre_commit_need(tmp_path: Path):
    repo = git_repository(tmp_path / "Fraud Scoring")
    assert run(repo, "init").returncode == 0

    card = yaml.safe_load((repo / "cards" / "fraud-scoring.yml").read_text(encoding="utf-8"))  # named after the folder
    assert card["name"] == "fraud-scoring" and card["risk_tier"] == "medium"
    assert card["owners"] == [{"name": "Your team", "contact": "team@example.com", "role": "owner"}]

    mkdocs_yml = yaml.safe_load((repo / "mkdocs.yml").read_text(encoding="utf-8"))
    assert mkdocs_yml["theme"] == read_mkdocs_yml()["theme"], "the same theme as the example site"
    assert mkdocs_yml["theme"]["font"] is False
    assert [entry["scheme"] for entry in mkdocs_yml["theme"]["palette"]] == ["default", "slate"]

    workflow = yaml.safe_load((repo / ".github/workflows/modelcards.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["site"]["steps"]
    checkout = next(step for step in steps if step.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    cache = next(step for step in steps if step.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == ".modelcards-cache"
    commands = [step.get("run", "") for step in steps]
    assert any("graphviz" in command for command in commands)
    assert "modelcards validate --strict --format github" in commands
    assert "modelcards build --strict" in commands

    pre_commit = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook["id"] for repository in pre_commit["repos"] for hook in repository["hooks"]]
    assert hooks == ["modelcards-validate"]
    ours = yaml.safe_load((Path(__file__).parents[1] / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [hook["id"] for hook in ours] == hooks, "the config names the hook this repository provides"


def test_init_twice_refuses_and_changes_nothing(tmp_path: Path):
    repo = git_repository(tmp_path / "fraud")
    assert run(repo, "init", "--model", "fraud-scorer").returncode == 0
    (repo / "cards" / "fraud-scorer.yml").write_text("name: fraud-scorer\ntitle: Edited\n", encoding="utf-8")
    before = snapshot(repo)

    again = run(repo, "init", "--model", "fraud-scorer")

    assert again.returncode == 1
    assert again.stderr == ("error: modelcards init writes nothing when any of its files exists; found: "
                            + ", ".join(STARTER_FILES) + "\n")
    assert snapshot(repo) == before


def test_init_with_an_existing_mkdocs_yml_refuses_and_writes_nothing(tmp_path: Path):
    repo = git_repository(tmp_path / "docs-project")
    (repo / "mkdocs.yml").write_text("site_name: Our docs\n", encoding="utf-8")
    before = snapshot(repo)

    result = run(repo, "init")

    assert result.returncode == 1
    assert result.stderr == "error: modelcards init writes nothing when any of its files exists; found: mkdocs.yml\n"
    assert snapshot(repo) == before
    assert not (repo / "cards").exists() and not (repo / ".github").exists()


@pytest.mark.parametrize(("flags", "message"), [
    (["--model", "Fraud Scorer"],
     "error: found name 'Fraud Scorer', expected a slug: lowercase letters, digits, '-', '_' or '.'\n"),
    (["--risk-tier", "extreme"], None),  # click names the parameter and its choices
])
def test_bad_flags_write_nothing(tmp_path: Path, flags: list[str], message: str | None):
    repo = git_repository(tmp_path / "fraud")
    before = snapshot(repo)
    result = run(repo, "init", *flags)
    assert result.returncode in (1, 2)
    if message is not None:
        assert result.stderr == message
    else:
        assert "Invalid value for '--risk-tier': 'extreme' is not one of 'low', 'medium', 'high', 'critical'." \
            in result.stderr
    assert snapshot(repo) == before
