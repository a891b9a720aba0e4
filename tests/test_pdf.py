"""`modelcards pdf MODEL`: the model page printed by real headless Chromium, read back with poppler's pdftotext.

The PDF must hold the whole model document: every version's "changes" and "reason" text (the print stylesheet
shows every column and folded details). Without Chromium the command fails before building, with exit code 3.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLE_MKDOCS_YML, MODELCARDS, REPO_ROOT, run_modelcards, write_project

pytestmark = pytest.mark.browser

NO_CHROMIUM = "error: modelcards pdf needs Chromium: apt-get install chromium (or put chromium on PATH)"


def pdf_text(pdf: Path) -> str:
    """The PDF's text, every run of whitespace (line and page breaks included) as one space."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext not found: install Debian's poppler-utils (make test does)")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout
    return squeeze(text)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def example_model_with_most_versions() -> tuple[str, list[dict]]:
    cards = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in (REPO_ROOT / "cards").glob("*.yml")]
    card = max((c for c in cards if isinstance(c, dict) and "versions" in c), key=lambda c: len(c["versions"]))
    return card["name"], card["versions"]


def test_the_example_models_pdf_holds_every_versions_changes_and_reason(tmp_path: Path):
    model, versions = example_model_with_most_versions()
    assert len(versions) >= 3
    out = tmp_path / "printed" / "model.pdf"
    result = run_modelcards("pdf", model, "--out", out, "-f", EXAMPLE_MKDOCS_YML, timeout=300)
    assert result.stderr.splitlines()[-1] == f"Wrote {out}: the page of {model} ({len(versions)} version(s))."
    assert out.read_bytes().startswith(b"%PDF-")
    text = pdf_text(out)
    missing = [f"{version['version']} {key}: {squeeze(version[key])!r}" for version in versions
               for key in ("changes", "reason") if version.get(key) and squeeze(version[key]) not in text]
    assert not missing, "not in the PDF:\n" + "\n".join(missing)
    # The folded "diagram as text" list prints open, and Material's chrome stays off the page.
    assert "The diagram as text" in text and "→" in text
    assert "Skip to content" not in text and "Made with Material" not in text


THREE_VERSIONS = """
name: churn
title: Churn scorer
summary: Scores the risk that a customer leaves.
status: draft
risk_tier: low
owners:
  - {name: Data team, role: owner, contact: data@example.com}
versions:
  - version: "1.0.0"
    date: 2026-01-10
    changes: First logistic model on the quarterly extract.
    reason: A baseline the retention team can read.
  - version: "1.1.0"
    date: 2026-02-10
    changes: Adds tenure buckets and the support-ticket count.
    reason: Churners with many tickets were scored low.
  - version: "1.2.0"
    date: 2026-03-10
    changes: Recalibrated with isotonic regression on the March data.
    reason: Scores above 0.8 overstated the observed churn rate.
"""


@pytest.fixture
def three_version_project(tmp_path: Path) -> Path:
    write_project(tmp_path / "project", {"churn.yml": THREE_VERSIONS})
    return tmp_path / "project"


def test_a_small_projects_pdf_holds_each_versions_text_in_the_default_place(three_version_project: Path):
    result = run_modelcards("pdf", "churn", cwd=three_version_project, timeout=300)
    pdf = three_version_project / "churn.pdf"
    assert result.stderr.splitlines()[-1] == "Wrote churn.pdf: the page of churn (3 version(s))."
    text = pdf_text(pdf)
    card = yaml.safe_load(THREE_VERSIONS)
    for version in card["versions"]:
        assert version["changes"] in text and version["reason"] in text, version["version"]
    assert not (three_version_project / "site").exists(), "the PDF's site is built in a temporary folder"


def test_without_chromium_on_path_pdf_fails_with_exit_code_3_before_building(three_version_project: Path,
                                                                            tmp_path: Path):
    empty_bin = tmp_path / "bin"  # no chromium, chromium-browser nor google-chrome in it
    empty_bin.mkdir()
    result = subprocess.run([str(MODELCARDS), "pdf", "churn"],
                            cwd=three_version_project, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PATH": str(empty_bin)})
    assert result.returncode == 3
    assert result.stderr.splitlines() == [NO_CHROMIUM]
    assert not (three_version_project / "churn.pdf").exists()


def test_an_unknown_model_is_a_usage_error_naming_the_models_there_are(three_version_project: Path):
    result = run_modelcards("pdf", "churn-v2", cwd=three_version_project, check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for 'MODEL': the cards have no model 'churn-v2'; they have: churn")
    assert not (three_version_project / "churn-v2.pdf").exists()
