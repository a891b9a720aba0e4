"""The environment a run's model needs: its packages, its Python, its platform and its container image.

MLflow 3 writes three files next to ``MLmodel`` in every logged model's artifact folder (``log_model`` with
``pip_requirements=`` or inferred ones):

- ``requirements.txt``: the pip requirements, one per line (``mlflow==3.17.2``, ``scikit-learn==1.8.2``);
- ``python_env.yaml``: ``python: 3.11.7``, pip's ``build_dependencies``, and ``dependencies: [-r requirements.txt]``;
- ``conda.yaml``: ``dependencies: [python=3.11.7, pip<=26.3, {pip: [...the same requirements...]}]``.

The packages are the pip requirements (``requirements.txt``; ``conda.yaml``'s ``pip:`` list when there is no
``requirements.txt``) plus the conda packages of ``conda.yaml`` other than ``python`` and ``pip``. The Python
version comes from ``python_env.yaml``, else from ``conda.yaml``'s ``python=`` entry. pip options
(``-r``, ``--index-url`` and the like) are not packages and are left out: they can carry credentials.

MLflow tags neither the Python version nor the platform on a run, so the run tags
``modelcards.python_version`` and ``modelcards.platform`` (``platform.python_version()``,
``platform.platform()``) are read, and win over the model's files: they say where the run really ran. The
container image is what MLflow Projects tags on a run it runs in Docker: ``mlflow.docker.image.uri`` and
``mlflow.docker.image.id`` (the image's ``sha256:`` digest); ``modelcards.image_digest`` is read for runs
started another way.

Files are read with the same capped YAML loader as cards. A line that is not a requirement, or a YAML file
of another shape, is a problem at its file, line and column; the rest of the environment is still read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..cards.yaml_source import parse_yaml
from ..errors import Problem
from ..text import NotUtf8, decode_utf8
from .record import Package

REQUIREMENTS, PYTHON_ENV, CONDA = "requirements.txt", "python_env.yaml", "conda.yaml"
ENVIRONMENT_FILES = (REQUIREMENTS, PYTHON_ENV, CONDA)
PYTHON_VERSION_TAG, PLATFORM_TAG, IMAGE_DIGEST_TAG = (
    "modelcards.python_version", "modelcards.platform", "modelcards.image_digest")
MLFLOW_IMAGE_URI_TAG, MLFLOW_IMAGE_ID_TAG = "mlflow.docker.image.uri", "mlflow.docker.image.id"
MAX_FILE_BYTES = 1_000_000  # MLflow's files are a few hundred bytes; a larger one is not an environment file
# conda's match spec: a name, then a version and build in any of its spellings (`python=3.11`, `numpy >=1.26`).
_CONDA_SPEC = re.compile(r"^\s*(?:[\w.-]+::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.-]*)\s*(?P<spec>.*?)\s*$")


@dataclass
class ModelEnvironment:
    """What one logged model's files say, and what was wrong in them."""

    packages: list[Package] = field(default_factory=list)
    python_version: str | None = None
    problems: list[Problem] = field(default_factory=list)


def read_model_environment(read: Callable[[str], bytes | None], shown: Callable[[str], str]) -> ModelEnvironment:
    """The environment of one logged model.

    ``read(name)`` gives a file's bytes, or None when the model has no such file; ``shown(name)`` is how
    problems name the file.
    """
    environment = ModelEnvironment()
    texts = {name: _text(name, read, shown, environment) for name in ENVIRONMENT_FILES}
    pip: list[Package] = []
    if texts[REQUIREMENTS] is not None:
        pip = _requirements(texts[REQUIREMENTS], shown(REQUIREMENTS), environment)
    conda_python, conda_pip, conda_packages = _conda(texts[CONDA], shown(CONDA), environment)
    if texts[REQUIREMENTS] is None:
        pip = conda_pip
    environment.python_version = _python_env_version(texts[PYTHON_ENV], shown(PYTHON_ENV), environment) or conda_python
    environment.packages = sorted_packages([*pip, *conda_packages])
    return environment


def environment_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The environment a run's tags record: Python version, platform, container image and its digest."""
    found = {"python_version": tags.get(PYTHON_VERSION_TAG), "platform": tags.get(PLATFORM_TAG),
             "image": tags.get(MLFLOW_IMAGE_URI_TAG),
             "image_digest": tags.get(MLFLOW_IMAGE_ID_TAG) or tags.get(IMAGE_DIGEST_TAG)}
    return {key: value for key, value in found.items() if value}


def sorted_packages(packages: Iterable[Package]) -> list[Package]:
    """Deduplicated, by normalized name, then manager and specifier."""
    unique = {(normalized_name(p.name), p.manager, p.spec): p for p in packages}
    return [unique[key] for key in sorted(unique)]


def normalized_name(name: str) -> str:
    """PEP 503: `Scikit_Learn` and `scikit-learn` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


# --- the files -----------------------------------------------------------------------------------------------

def _text(name: str, read: Callable[[str], bytes | None], shown: Callable[[str], str],
          environment: ModelEnvironment) -> str | None:
    try:
        data = read(name)
    except OSError as exc:
        environment.problems.append(_problem(shown(name), 1, 1, "", f"cannot read the file ({exc.strerror or exc})"))
        return None
    if data is None:
        return None
    if len(data) > MAX_FILE_BYTES:
        environment.problems.append(_problem(shown(name), 1, 1, "", f"found {len(data):,} bytes, expected MLflow's "
                                             f"{name} of at most {MAX_FILE_BYTES:,} bytes; it is not read"))
        return None
    try:
        return decode_utf8(data)
    except NotUtf8 as exc:
        environment.problems.append(_problem(shown(name), exc.line, exc.col, "", exc.message))
        return None


def _requirements(text: str, path: str, environment: ModelEnvironment) -> list[Package]:
    packages, bad = _requirement_lines(text.splitlines())
    environment.problems += [_problem(path, number, col, "", message) for number, col, message in bad]
    return packages


def _requirement_lines(lines: list[str]) -> tuple[list[Package], list[tuple[int, int, str]]]:
    """Packages of pip requirement lines, and (1-based line, column, message) of each line that is none."""
    from packaging.requirements import InvalidRequirement, Requirement

    packages, bad = [], []
    for number, raw in enumerate(lines, start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()  # pip's comments: `#` at the start or after a space
        if not line or line.startswith("-"):
            continue  # an option (-r, -c, -e, --index-url ...): not a package, and may hold a credential
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            reason = str(exc).splitlines()[0]
            bad.append((number, len(raw) - len(raw.lstrip()) + 1,
                        f"found {_quoted(line)}, expected a pip requirement such as scikit-learn==1.9.1 ({reason}); "
                        "the line is left out of the run's packages"))
            continue
        spec = str(requirement.specifier) or (f"@ {requirement.url}" if requirement.url else "")
        packages.append(Package(requirement.name, spec, "pip"))
    return packages, bad


def _python_env_version(text: str | None, path: str, environment: ModelEnvironment) -> str | None:
    data = _yaml_mapping(text, path, "python_env.yaml (python:, build_dependencies:, dependencies:)", environment)
    if data is None or data.get("python") is None:
        return None
    return str(data["python"])


def _conda(text: str | None, path: str, environment: ModelEnvironment) -> tuple[str | None, list[Package], list[Package]]:
    """(python version, pip packages, conda packages) of a conda.yaml."""
    data = _yaml_mapping(text, path, "conda.yaml (channels:, dependencies:)", environment)
    if data is None:
        return None, [], []
    dependencies = data.get("dependencies") or []
    if not isinstance(dependencies, list):
        document, _ = parse_yaml(text or "", path)
        line, col = document.position(("dependencies",)) if document else (1, 1)
        environment.problems.append(_problem(path, line, col, "dependencies",
                                             f"found {type(dependencies).__name__}, expected a list of conda "
                                             "packages and a pip: list"))
        return None, [], []
    python, pip, conda = None, [], []
    for index, entry in enumerate(dependencies):
        if isinstance(entry, dict) and isinstance(entry.get("pip"), list):
            pip, bad = _requirement_lines([str(item) for item in entry["pip"]])
            # A bad item is reported where it stands in the conda file's pip: list.
            document, _ = parse_yaml(text or "", path)
            for number, _col, message in bad:
                line, col = document.position(("dependencies", index, "pip", number - 1)) if document else (1, 1)
                environment.problems.append(_problem(path, line, col, f"dependencies[{index}].pip[{number - 1}]",
                                                     message))
            continue
        match = _CONDA_SPEC.match(str(entry)) if isinstance(entry, (str, int, float)) else None
        if match is None:
            document, _ = parse_yaml(text or "", path)
            line, col = document.position(("dependencies", index)) if document else (1, 1)
            environment.problems.append(_problem(path, line, col, f"dependencies[{index}]",
                                                 f"found {_quoted(str(entry))}, expected a conda package such as "
                                                 "numpy=1.26 or a pip: list"))
            continue
        name, spec = match["name"], match["spec"]
        if name == "python":
            python = spec.lstrip("=<>! ") or None
        elif name != "pip":
            conda.append(Package(name, spec, "conda"))
    return python, pip, conda


def _yaml_mapping(text: str | None, path: str, expected: str, environment: ModelEnvironment) -> dict[str, Any] | None:
    if text is None:
        return None
    document, problems = parse_yaml(text, path)
    if problems or document is None:
        environment.problems += [_problem(path, p.line, p.col, p.key_path, f"{p.message}; expected MLflow's {expected}")
                                 for p in problems[:1]]
        return None
    if not isinstance(document.data, dict):
        environment.problems.append(_problem(path, 1, 1, "", f"found {type(document.data).__name__}, expected "
                                             f"MLflow's {expected}, a mapping"))
        return None
    return document.data


def _problem(path: str, line: int, col: int, key_path: str, message: str) -> Problem:
    # A warning: the run and the rest of its environment still reach the site; `--strict` makes it fatal.
    return Problem(path, line, col, key_path, message, "warning")


def _quoted(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")
