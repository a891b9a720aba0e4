"""Environment capture: the packages, Python, platform and image of a run's model, on run and compare pages.

Two versions of one model are trained and logged with MLflow's own API (``mlflow.sklearn.log_model`` with
pinned ``pip_requirements``) into a real ``mlruns/`` file store, which the build reads directly. MLflow writes
``requirements.txt``, ``python_env.yaml`` and ``conda.yaml`` next to ``MLmodel``; the second run also carries
the tags a team sets for where it ran (Python, platform) and the tags MLflow Projects sets for a Docker run.
Broken environment files are then planted into a copy of the store.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from conftest import run_modelcards, write_project
from modelcards.sources.mlflow_files import read_mlruns
from modelcards.sources.mlflow_pull import pull_runs
from modelcards.sources.record import to_json

OFFLINE_MLFLOW = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
                  "MLFLOW_SKIP_PIP_REQUIREMENTS_CHECK": "true", "MLFLOW_ALLOW_FILE_STORE": "true"}
FIRST = ["scikit-learn==1.8.2", "numpy==2.1.0", "pandas==2.2.3"]
SECOND = ["scikit-learn==1.9.1", "numpy==2.1.0", "requests==2.32.3"]
DIGEST = "sha256:" + "4f" * 32
SECOND_TAGS = {"modelcards.python_version": "3.11.7", "modelcards.platform": "Linux-6.8.0-x86_64-with-glibc2.36",
               "mlflow.docker.image.uri": "registry.example.com/ml/wine-train:2026.11",
               "mlflow.docker.image.id": DIGEST}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A real mlruns/ with two runs, each with a logged sklearn model."""
    import mlflow
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    root = tmp_path_factory.mktemp("env-capture")
    features, target = load_wine(return_X_y=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for key, value in OFFLINE_MLFLOW.items():
            patch.setenv(key, value)
        mlflow.set_tracking_uri((root / "mlruns").as_uri())
        try:
            run_ids, model_ids, days = [], [], []
            for requirements, tags in ((FIRST, {}), (SECOND, SECOND_TAGS)):
                with mlflow.start_run(tags=tags) as run:
                    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(features, target)
                    info = mlflow.sklearn.log_model(model, name="model", pip_requirements=requirements)
                run_ids.append(run.info.run_id)
                days.append(dt.datetime.fromtimestamp(run.info.start_time / 1000, dt.timezone.utc).date())
                model_ids.append(info.model_id)
        finally:
            mlflow.set_tracking_uri(None)
    yield Store(root / "mlruns", run_ids, model_ids, days)


@dataclass(frozen=True)
class Store:
    mlruns: Path
    run_ids: list[str]
    model_ids: list[str]
    days: list[dt.date]  # the UTC day each run started: a version is released on it, not before


def project(root: Path, store: Store) -> Path:
    run_ids = store.run_ids
    shutil.copytree(store.mlruns, root / "mlruns")
    card = f"""
        name: wine
        title: Wine classifier
        metrics:
          - name: accuracy
        versions:
          - version: "1.0"
            date: {store.days[0]}
            run: mlflow:{run_ids[0]}
          - version: "2.0"
            date: {store.days[1]}
            run: mlflow:{run_ids[1]}
    """
    return write_project(root, {"wine.yml": card},
                         plugins=["search", {"modelcards": {
                             "cards_dir": "cards", "runs": ["mlruns"],
                             # the runs log no dataset and no commit: not what these tests are about
                             "lineage_checks": {"no_data_version": "off", "no_code_commit": "off"}}}])


def text_of(page: Path) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))).split())


def test_the_run_page_shows_the_environment_mlflow_wrote(store, tmp_path: Path) -> None:
    run_ids = store.run_ids
    mkdocs_yml = project(tmp_path, store)
    run_modelcards("build", "-f", mkdocs_yml, "--strict", cwd=tmp_path, timeout=300)

    first = text_of(tmp_path / f"site/runs/mlflow/{run_ids[0]}/index.html")
    environment = first[first.index("Environment"):]
    # python_env.yaml's python: the interpreter that logged the model
    import platform
    assert f"Python {platform.python_version()}" in environment
    assert "scikit-learn 1.8.2 pip" in environment and "pandas 2.2.3 pip" in environment
    assert "requests" not in environment
    import mlflow
    assert f"mlflow {mlflow.__version__} pip" in environment  # MLflow adds itself to requirements.txt

    second = text_of(tmp_path / f"site/runs/mlflow/{run_ids[1]}/index.html")
    environment = second[second.index("Environment"):]
    assert "Python 3.11.7" in environment  # the run's tag says where it ran, and wins over the model's file
    assert f"Platform {SECOND_TAGS['modelcards.platform']}" in environment
    assert f"Image {SECOND_TAGS['mlflow.docker.image.uri']}" in environment
    assert f"Image digest {DIGEST}" in environment
    assert "4 package(s)" in environment and "requests 2.32.3 pip" in environment
    # The package list is folded: a <details> element, complete without a script.
    raw = (tmp_path / f"site/runs/mlflow/{run_ids[1]}/index.html").read_text(encoding="utf-8")
    assert re.search(r'<details class="mc-env-packages">\s*<summary>4 package\(s\)', raw)


def test_the_compare_page_lists_exactly_the_changed_packages(store, tmp_path: Path) -> None:
    run_ids = store.run_ids
    mkdocs_yml = project(tmp_path, store)
    run_modelcards("build", "-f", mkdocs_yml, "--strict", cwd=tmp_path, timeout=300)

    page = (tmp_path / "site/models/wine/compare/index.html").read_text(encoding="utf-8")
    # The comparison of 1.0 with 2.0: its section of the model's compare page, up to the picker's.
    raw = page[page.index('<h2 id="1.0...2.0">'):page.index('<h2 id="pick-two-versions">')]
    changes = re.search(r'<ul class="mc-env-changes">(.*?)</ul>', raw, re.S)
    assert changes, raw[raw.find("Environment") - 200:][:2000]
    lines = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", item)).split())
             for item in re.findall(r"<li>(.*?)</li>", changes.group(1), re.S)]
    import platform
    python_change = [] if platform.python_version() == "3.11.7" else [f"Python {platform.python_version()} → 3.11.7"]
    assert sorted(lines) == sorted([
        "scikit-learn 1.8.2 → 1.9.1", "pandas 2.2.3 removed", "requests 2.32.3 added",
        f"Platform {SECOND_TAGS['modelcards.platform']} added", f"Image digest {DIGEST} added", *python_change])
    # numpy and mlflow did not change: in the table for "show everything", marked the same, not in the list
    assert "numpy" not in changes.group(1) and "numpy" in raw


def test_the_pull_gives_the_environment_the_build_reads(store, tmp_path: Path, monkeypatch) -> None:
    mlruns, run_ids = store.mlruns, store.run_ids
    monkeypatch.chdir(tmp_path)
    for key, value in OFFLINE_MLFLOW.items():
        monkeypatch.setenv(key, value)
    direct = read_mlruns(mlruns, relative_to=mlruns.parent)
    problems: list = []
    pulled = pull_runs(mlruns.as_uri(), experiments=[], run_ids=[], problems=problems)
    assert direct.problems == [] and problems == []
    assert {r.id: to_json(r) for r in direct.records} == {r.id: to_json(r) for r in pulled}
    second = next(to_json(r) for r in pulled if r.id == run_ids[1])
    assert {p["name"]: p.get("spec") for p in second["packages"]} == {
        "mlflow": f"=={__import__('mlflow').__version__}", "numpy": "==2.1.0", "requests": "==2.32.3",
        "scikit-learn": "==1.9.1"}
    assert second["environment"]["image_digest"] == DIGEST


BROKEN_REQUIREMENTS = "scikit-learn==1.9.1\n# pinned by CI\n--index-url https://pypi.example.com/simple\nnumpy===\n"
BROKEN_CONDA = "dependencies:\n  - python=3.11.7\n  - pip:\n      - requests==2.32.3\n      - 'pandas >>> 2'\n"


def test_broken_environment_files_are_problems_where_they_are(store, tmp_path: Path, monkeypatch) -> None:
    run_ids, model_ids = store.run_ids, store.model_ids
    mkdocs_yml = project(tmp_path, store)
    artifacts = [next((tmp_path / "mlruns").glob(f"*/models/{model_id}/artifacts")) for model_id in model_ids]
    (artifacts[0] / "requirements.txt").write_text(BROKEN_REQUIREMENTS, encoding="utf-8")
    (artifacts[0] / "python_env.yaml").write_text("python: [3.11\n", encoding="utf-8")
    (artifacts[1] / "requirements.txt").unlink()  # then the pip: list of conda.yaml is read
    (artifacts[1] / "conda.yaml").write_text(BROKEN_CONDA, encoding="utf-8")
    (artifacts[1] / "python_env.yaml").write_bytes(b"python: 3.11\xff\n")

    read = read_mlruns(tmp_path / "mlruns", relative_to=tmp_path)
    shown = {problem.format().split(": warning: ")[0]: problem.format() for problem in read.problems}
    first = artifacts[0].relative_to(tmp_path).as_posix()
    second = artifacts[1].relative_to(tmp_path).as_posix()
    assert sorted(shown) == sorted([f"{first}/requirements.txt:4:1", f"{first}/python_env.yaml:2:1",
                                    f"{second}/conda.yaml:5:9", f"{second}/python_env.yaml:1:13"]), shown
    assert "found 'numpy===', expected a pip requirement such as scikit-learn==1.9.1" in \
        shown[f"{first}/requirements.txt:4:1"]
    assert "dependencies[1].pip[1]: found 'pandas >>> 2'" in shown[f"{second}/conda.yaml:5:9"]
    # What could be read still is: the good lines, and both runs
    packages = {r.id: {p.name: p.version for p in r.packages} for r in read.records}
    assert packages[run_ids[0]] == {"scikit-learn": "1.9.1"}  # the option line is no package, nor the comment
    assert packages[run_ids[1]] == {"requests": "2.32.3"}

    result = run_modelcards("build", "-f", mkdocs_yml, cwd=tmp_path, timeout=300)  # warnings: the build goes on
    assert f"{first}/requirements.txt:4:1: warning: found 'numpy==='" in result.stderr
    assert "Traceback" not in result.stderr
    strict = run_modelcards("build", "-f", mkdocs_yml, "--strict", cwd=tmp_path, timeout=300, check=False)
    assert strict.returncode != 0 and "Traceback" not in strict.stderr

    # The pull reads the same files through MLflow, says the same, and still writes both runs. MLflow finds
    # artifacts where meta.yaml says they are: point the copy's at itself, as moving a store needs.
    for meta in (tmp_path / "mlruns").rglob("meta.yaml"):
        meta.write_text(meta.read_text(encoding="utf-8").replace(store.mlruns.as_uri(), (tmp_path / "mlruns").as_uri()),
                        encoding="utf-8")
    for key, value in OFFLINE_MLFLOW.items():
        monkeypatch.setenv(key, value)
    pulled = run_modelcards("pull", "mlflow", "--tracking-uri", tmp_path / "mlruns", "--out", tmp_path / "export",
                            cwd=tmp_path, timeout=300)
    assert f"models:/{model_ids[0]}/requirements.txt:4:1: warning: found 'numpy==='" in pulled.stderr
    assert f"models:/{model_ids[1]}/conda.yaml:5:9: warning: dependencies[1].pip[1]" in pulled.stderr
    assert "Wrote 2 run(s)" in pulled.stderr
