"""The documentation is generated from the declarations; these tests keep it so."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_reference_pages_and_schema_match_the_code():
    generated = runpy.run_path(str(ROOT / "scripts/generate_reference.py"))["generated_files"]()
    stale = [str(path.relative_to(ROOT)) for path, text in generated.items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    assert not stale, f"out of date: {stale}; run .venv/bin/python scripts/generate_reference.py"


def test_readme_shows_every_command_and_the_two_make_targets():
    from modelcards.cli import cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in cli.commands if f"modelcards {name}" not in readme]
    assert not missing, f"README.md does not show: {missing}"
    assert "make site" in readme and "make test" in readme


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci/run").read_text(encoding="utf-8")
