"""The modelcards-validate hook of .pre-commit-hooks.yaml, run by pre-commit itself against a repository holding a
bad card.

`pre-commit try-repo` clones this repository from its local path (no network) and installs it into a fresh
virtualenv, which downloads the package's dependencies from PyPI (about a minute); PIP_CONSTRAINT holds them to
the versions in constraints.txt.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com", *args], cwd=cwd,
                   check=True, capture_output=True)


@pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is in the test extra: pip install -e '.[test]'")
def test_hook_fails_on_a_bad_card_with_its_path_line_and_column(tmp_path: Path):
    repo = tmp_path / "models"
    (repo / "cards").mkdir(parents=True)
    git(repo, "init", "--quiet")
    (repo / "cards" / "churn.yml").write_text("name: churn\ntitle: Churn\nstatus: prod\n", encoding="utf-8")
    (repo / "cards" / "good.yml").write_text("name: good\ntitle: Good\n", encoding="utf-8")
    git(repo, "add", "--all")

    result = subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(REPO_ROOT), "modelcards-validate", "--all-files"],
        cwd=repo, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
             "PIP_CONSTRAINT": str(REPO_ROOT / "constraints.txt")})

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("modelcards validate") and line.endswith("Failed") for line in lines), result.stdout
    assert ("cards/churn.yml:3:9: error: status: found string 'prod', expected one of: draft, staging, production, "
            "deprecated, archived (did you mean 'production'?)") in lines
    assert "1 error(s), 0 warning(s) in the cards" in lines


@pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is in the test extra: pip install -e '.[test]'")
def test_manifest_declares_the_hook_as_pre_commit_reads_it(tmp_path: Path):
    import yaml

    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hooks == [{
        "id": "modelcards-validate", "name": "modelcards validate",
        "description": hooks[0]["description"], "entry": "modelcards validate --strict", "language": "python",
        "files": r"^cards/.*\.ya?ml$", "pass_filenames": False,
    }]
    validated = subprocess.run([str(PRE_COMMIT), "validate-manifest", str(REPO_ROOT / ".pre-commit-hooks.yaml")],
                               capture_output=True, text=True, timeout=60)
    assert validated.returncode == 0, validated.stdout + validated.stderr
