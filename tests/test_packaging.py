"""An installed mkdocs-modelcards works outside this repository: templates ship inside the wheel, and the
distribution's name on PyPI (mkdocs-modelcards) gives the `modelcards` command, package and MkDocs plugin."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import textwrap
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# The installed package is under test, never a source tree that PYTHONPATH would put first.
INSTALLED = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}

CARD = textwrap.dedent("""\
    name: churn-model
    title: Customer churn model
    summary: Predicts which subscribers cancel within 30 days.
    owners: [{name: Growth ML, contact: growth-ml@example.com}]
    versions:
      - {version: "1.0.0", date: "2026-01-10", metrics: {roc_auc: 0.81}}
""")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel pip builds from this checkout, with the hatchling already installed (no download)."""
    wheel_dir = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(wheel_dir), str(ROOT)],
        check=True,
    )
    built = sorted(path.name for path in wheel_dir.iterdir())
    assert built == ["mkdocs_modelcards-0.1.0-py3-none-any.whl"], built
    return wheel_dir / built[0]


def test_wheel_installs_into_a_fresh_venv_and_builds_a_site(tmp_path, wheel):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # Its dependencies at the locked versions, from pip's configured indexes.
    subprocess.run([venv / "bin/python", "-m", "pip", "install", "--quiet", "-c", ROOT / "constraints.txt",
                    str(wheel)], check=True)

    project = tmp_path / "project"
    (project / "cards").mkdir(parents=True)
    (project / "cards/churn-model.yml").write_text(CARD, encoding="utf-8")
    result = subprocess.run([venv / "bin/modelcards", "build"], cwd=project, capture_output=True, text=True,
                            env=INSTALLED)
    assert result.returncode == 0, result.stderr

    page = (project / "site/models/churn-model/index.html").read_text(encoding="utf-8")
    assert "Customer churn model" in page
    assert "Predicts which subscribers cancel within 30 days." in page
    assert (project / "site/assets/modelcards/modelcards.js").exists()

    where = subprocess.run([venv / "bin/python", "-c", "import modelcards; print(modelcards.__file__)"],
                           capture_output=True, text=True, check=True, env=INSTALLED).stdout
    assert str(venv) in where, f"modelcards was imported from {where}, not from the fresh venv"


INSPECT = textwrap.dedent("""\
    import json
    from importlib import metadata
    import modelcards
    from mkdocs.plugins import get_plugins

    dist = metadata.distribution("mkdocs-modelcards")
    plugins = [ep for ep in metadata.entry_points(group="mkdocs.plugins") if ep.name == "modelcards"]
    scripts = [ep for ep in metadata.entry_points(group="console_scripts") if ep.name == "modelcards"]
    print(json.dumps({
        "name": dist.metadata["Name"],
        "version": dist.version,
        "location": str(dist.locate_file("")),
        "package": modelcards.__file__,
        "plugin": sorted((ep.dist.name, ep.value) for ep in plugins),
        "script": sorted((ep.dist.name, ep.value) for ep in scripts),
        "mkdocs_loads": get_plugins()["modelcards"].load().__name__,
    }))
""")


def test_the_wheel_installs_offline_as_mkdocs_modelcards_with_the_modelcards_command_and_plugin(tmp_path, wheel):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The wheel alone, from its folder and no index: nothing is downloaded, so this runs offline. Its
    # dependencies are borrowed from the environment running the tests (a .pth file appends its
    # site-packages after the venv's own), where the locked versions are installed; installing them
    # afresh is what the test above does.
    subprocess.run([venv / "bin/python", "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                    "--find-links", str(wheel.parent), "mkdocs-modelcards"], check=True)
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    venv_site = Path(subprocess.run([venv / "bin/python", "-c", purelib], capture_output=True, text=True,
                                    check=True).stdout.strip())
    (venv_site / "borrowed-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")

    version = subprocess.run([venv / "bin/modelcards", "--version"], capture_output=True, text=True, env=INSTALLED)
    assert (version.returncode, version.stdout) == (0, "modelcards, version 0.1.0\n"), version.stderr
    usage = subprocess.run([venv / "bin/modelcards", "validate", "--help"], capture_output=True, text=True,
                           env=INSTALLED)
    assert usage.returncode == 0 and usage.stdout.startswith("Usage: modelcards validate"), usage.stderr

    found = json.loads(subprocess.run([venv / "bin/python", "-c", INSPECT], capture_output=True, text=True,
                                      check=True, env=INSTALLED).stdout)
    assert (found["name"], found["version"]) == ("mkdocs-modelcards", "0.1.0")
    assert Path(found["location"]).is_relative_to(venv_site), found["location"]
    assert Path(found["package"]).is_relative_to(venv_site), found["package"]
    assert ["mkdocs-modelcards", "modelcards.plugin:ModelcardsPlugin"] in found["plugin"]
    assert ["mkdocs-modelcards", "modelcards.cli:main"] in found["script"]
    assert found["mkdocs_loads"] == "ModelcardsPlugin"


def _locked() -> dict[str, str]:
    """constraints.txt as canonical name -> version."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, separator, version = line.partition("==")
            assert separator and version and " " not in line, f"constraints.txt: {line!r} is not name==version"
            pins[canonicalize_name(name)] = version
    return pins


def test_the_lock_pins_every_dependency_pyproject_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    required = [*project["project"]["dependencies"], *project["build-system"]["requires"],
                *(r for extra in project["project"]["optional-dependencies"].values() for r in extra)]
    names = {canonicalize_name(Requirement(r).name) for r in required} - {canonicalize_name(project["project"]["name"])}
    unpinned = sorted(names - _locked().keys())
    assert unpinned == [], f"not in constraints.txt: {unpinned}; run `make lock`"


def test_the_suite_runs_on_the_locked_versions():
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    drifted = sorted(f"{name} {installed[name]} installed, {version} locked"
                     for name, version in _locked().items() if name in installed and installed[name] != version)
    assert drifted == [], "the environment is not the one constraints.txt pins; run `make test`"
