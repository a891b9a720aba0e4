"""Every configured run source -> one set of masked run records.

Each entry of the ``runs`` setting is a file or folder; its format is recognised
from its name and content (see ``docs/reference/runs.md``):

- a folder with ``dvc.yaml``: a DVC project (``dvc.yaml`` + ``dvc.lock`` + params and metrics files);
- a folder whose sub-folders hold ``meta.yaml``: a legacy MLflow ``mlruns/`` store;
- ``*.csv``: MLflow's ``search_runs`` or UI download;
- ``*.jsonl`` / ``*.ndjson``: OpenLineage events, one per line;
- ``*.json``: a ``modelcards pull`` export, an mlflow-export-import ``run.json``, one OpenLineage
  event, or ``dvc exp show --json`` output, told apart by their keys;
- any other folder: every such file inside it, recursively.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cards.yaml_source import format_key_path
from ..errors import Problem
from ..memory import collector_paused
from .masking import MaskedValue, SecretMasker
from ..text import NotUtf8, decode_utf8
from .reading import ReadResult, json_position, shown
from .record import EXPORT_FORMAT, BadExport, Origin, RunRecord, from_json

JSON_SUFFIXES = (".json",)
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")


@dataclass
class LoadedRuns:
    runs: dict[str, RunRecord] = field(default_factory=dict)  # by ref, e.g. "mlflow:<id>", sorted
    problems: list[Problem] = field(default_factory=list)
    masked: list[MaskedValue] = field(default_factory=list)


def load_runs(entries: list[str], *, project_dir: Path, masker: SecretMasker | None = None) -> LoadedRuns:
    """Read every entry (paths relative to ``project_dir``), mask secrets, and index runs by ref."""
    result = ReadResult()
    with collector_paused():
        for entry in entries:
            result.extend(_read_entry(entry, project_dir))
    records, masked = (masker or SecretMasker()).mask(result.records)
    loaded = LoadedRuns(problems=result.problems, masked=masked)
    for record in sorted(records, key=lambda r: r.ref):
        if record.ref in loaded.runs:
            first = loaded.runs[record.ref].origin
            origin = record.origin or Origin("?")
            loaded.problems.append(Problem(
                origin.path, origin.line, 1, "", f"run {record.ref} is also read from "
                f"{first.path if first else '?'}; the first one is kept", "warning"))
            continue
        loaded.runs[record.ref] = record
    return loaded


def _read_entry(entry: str, project_dir: Path) -> ReadResult:
    result = ReadResult()
    root = project_dir.resolve()
    path = (project_dir / entry).resolve()
    if not path.is_relative_to(root):
        result.problems.append(_setting_problem(f"found '{entry}', which is outside the project folder {root}; "
                                                "run sources must be inside it"))
        return result
    if not path.exists():
        result.problems.append(_setting_problem(f"found '{entry}', which does not exist; expected a file or "
                                                "folder of run exports"))
        return result
    if path.is_dir():
        return _read_folder(path, root)
    events: list[Path] = []
    result.extend(_read_file(path, root, events))
    result.extend(_read_events(events, root))
    return result


def _setting_problem(message: str) -> Problem:
    return Problem("mkdocs.yml", 1, 1, "plugins.modelcards.runs", message, "error")


def _read_folder(folder: Path, root: Path) -> ReadResult:
    if (folder / "dvc.yaml").exists():
        from .dvc import read_dvc_project

        return read_dvc_project(folder, relative_to=root)
    if any(child.is_dir() and (child / "meta.yaml").exists() for child in folder.iterdir()):
        from .mlflow_files import read_mlruns

        return read_mlruns(folder, relative_to=root)
    result = ReadResult()
    events: list[Path] = []
    for path in _files_under(folder, root):
        if path.suffix in JSON_SUFFIXES + JSON_LINES_SUFFIXES or path.suffix == ".csv":
            result.extend(_read_file(path, root, events))
    result.extend(_read_events(events, root))
    return result


def _files_under(folder: Path, root: Path) -> list[Path]:
    """Files below ``folder``, sorted; symlinks only when they stay inside the project."""
    found = []
    for directory, subdirs, files in os.walk(folder):  # does not follow symlinked folders
        for name in files:
            path = os.path.join(directory, name)  # strings: 10,000 Path objects cost a tenth of the read
            if not os.path.islink(path) or Path(path).resolve().is_relative_to(root):
                found.append(path)
    return [Path(path) for path in sorted(found)]


def _read_file(path: Path, root: Path, events: list[Path]) -> ReadResult:
    """Read one file, or set it aside in ``events`` when it is OpenLineage (grouped across files)."""
    if path.suffix in JSON_LINES_SUFFIXES:
        events.append(path)
        return ReadResult()
    if path.suffix == ".csv":
        from .mlflow_files import read_search_runs_csv

        return read_search_runs_csv(path, relative_to=root)
    if path.name in ("dvc.yaml", "dvc.lock"):
        from .dvc import read_dvc_project

        return read_dvc_project(path.parent, relative_to=root)
    return _read_json(path, root, events)


def _read_json(path: Path, root: Path, events: list[Path]) -> ReadResult:
    result = ReadResult()
    name = shown(path, root)
    try:
        text = decode_utf8(path.read_bytes())
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and _json_kind(_first_document(exc.doc)) == "openlineage":
            events.append(path)  # OpenLineage's file transport in append mode: several events, one file
        else:
            result.problem(name, f"not valid JSON: {exc.msg}", line=exc.lineno, col=exc.colno)
        return result
    except NotUtf8 as exc:
        result.problem(name, exc.message, line=exc.line, col=exc.col)
        return result
    except (ValueError, RecursionError) as exc:  # a number too long for Python, or nesting too deep for it
        result.problem(name, f"found JSON that cannot be read ({_reason(exc)}), expected a run export")
        return result
    kind = _json_kind(data)
    if kind == "export":
        try:
            result.records.append(from_json(data, Origin(name)))
        except (KeyError, TypeError, ValueError, RecursionError) as exc:
            line, col = json_position(text, exc.where) if isinstance(exc, BadExport) else (1, 1)
            result.problem(name, f"not a valid {EXPORT_FORMAT} export: {_reason(exc)}", line=line, col=col,
                           key_path=format_key_path(exc.where) if isinstance(exc, BadExport) else "")
    elif kind == "mlflow-run-json":
        from .mlflow_files import read_run_json

        return read_run_json(path, relative_to=root)
    elif kind == "openlineage":
        events.append(path)
    elif kind == "dvc-exp-show":
        from .dvc import read_dvc_exp_show

        return read_dvc_exp_show(path, relative_to=root)
    else:
        result.problem(name, "found JSON of an unknown kind; expected a modelcards export "
                       f"(\"format\": \"{EXPORT_FORMAT}\"), an mlflow-export-import run.json, "
                       "an OpenLineage event, or `dvc exp show --json` output")
    return result


def _json_kind(data: Any) -> str | None:
    if isinstance(data, list):
        return "dvc-exp-show"
    if not isinstance(data, dict):
        return None
    if "format" in data:
        return "export"
    mlflow = data.get("mlflow")
    if isinstance(mlflow, dict) and ("info" in mlflow or "experiment" in mlflow):
        return "mlflow-run-json"  # mlflow-export-import: run.json (and experiment.json, which yields no run)
    if "eventType" in data or ("run" in data and "job" in data) or "openlineage" in str(data.get("schemaURL", "")):
        return "openlineage"
    return None


def _first_document(text: str) -> object:
    try:
        return json.JSONDecoder().raw_decode(text.lstrip())[0]
    except json.JSONDecodeError:
        return None


def _read_events(files: list[Path], root: Path) -> ReadResult:
    if not files:
        return ReadResult()
    from .openlineage import read_openlineage

    return read_openlineage(files, relative_to=root)


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "values nested too deeply"
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}"
    return str(exc)
