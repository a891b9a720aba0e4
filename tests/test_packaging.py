"""An installed modelcards works outside this repository: templates ship inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CARD = textwrap.dedent("""\
    name: churn-model
    title: Customer churn model
    summary: Predicts which subscribers cancel within 30 days.
    owners: [{name: Growth ML, contact: growth-ml@example.com}]
    versions:
      - {version: "1.0.0", date: "2026-01-10", metrics: {roc_auc: 0.81}}
""")


def test_wheel_installs_into_a_fresh_venv_and_builds_a_site(tmp_path):
    wheel_dir = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(wheel_dir), str(ROOT)],
        check=True,
    )
    wheel = next(wheel_dir.glob("modelcards-*.whl"))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([venv / "bin/python", "-m", "pip", "install", "--quiet", str(wheel)], check=True)

    project = tmp_path / "project"
    (project / "cards").mkdir(parents=True)
    (project / "cards/churn-model.yml").write_text(CARD, encoding="utf-8")
    result = subprocess.run([venv / "bin/modelcards", "build"], cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

    page = (project / "site/models/churn-model/index.html").read_text(encoding="utf-8")
    assert "Customer churn model" in page
    assert "Predicts which subscribers cancel within 30 days." in page
    assert (project / "site/assets/modelcards/modelcards.js").exists()

    where = subprocess.run([venv / "bin/python", "-c", "import modelcards; print(modelcards.__file__)"],
                           capture_output=True, text=True, check=True).stdout
    assert str(venv) in where, f"modelcards was imported from {where}, not from the fresh venv"
