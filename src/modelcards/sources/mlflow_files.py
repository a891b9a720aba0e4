"""MLflow runs read from files, with MLflow itself absent (stdlib and PyYAML only).

Three formats, one entry function each:

- ``read_run_json``: the ``run.json`` that mlflow-export-import writes for each run,
  ``{"system": ..., "mlflow": {"info", "params", "metrics", "tags", "inputs"}}`` (older releases put
  ``info``/``params``/... at the top level; both are read). The experiment name comes from an
  ``experiment.json`` beside the run's folder when there is one; that file itself holds no run.
- ``read_mlruns``: a legacy ``mlruns/`` file store, read directly in the layout of MLflow's
  ``FileStore``: experiments, runs (``meta.yaml``, ``params/``, ``tags/``, ``metrics/``), dataset inputs
  (``<run>/inputs/`` pointing into ``<experiment>/datasets/``), MLflow 3 logged models
  (``<experiment>/models/``, ``<run>/outputs/``) and registered model versions with their aliases
  (``mlruns/models/``). Deleted runs and experiments (``.trash``, ``lifecycle_stage: deleted``) are left out.
- ``read_search_runs_csv``: the CSV of ``mlflow.search_runs(...).to_csv(path, index=False)`` or
  ``mlflow experiments csv``. It holds only each metric's final value, no datasets and no models, and
  names the experiment by id only, so ``experiment`` stays empty. The MLflow UI's "Download CSV" is
  refused with a problem: its columns do not say which are params, metrics or tags.

Every reader fills the same fields the same way as ``modelcards pull mlflow`` (``mlflow_pull``), through
the helpers at the end of this module: all tags are kept (``mlflow.*`` too); ``code`` comes from the
``mlflow.source.git.*`` and ``mlflow.source.name`` tags; ``environment`` holds ``source_type`` from
``mlflow.source.type``, ``python_version`` and ``mlflow_version`` from an MLflow 2 ``mlflow.log-model.history``
tag, and what ``environment`` reads from the tags and from each logged model's ``requirements.txt``,
``python_env.yaml`` and ``conda.yaml`` (``packages`` too); models listed in the history tag become outputs
``runs:/<run>/<path>``.
Identical repeated metric points (the file store writes some twice) are kept once.

A bad file never raises: it becomes a problem naming the file, line and column (or the key path), and
the run it belongs to is skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import json.decoder
import json.scanner
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ..cards.yaml_source import YamlDocument, parse_yaml
from ..text import NotUtf8, decode_utf8
from .environment import ModelEnvironment, environment_tags, read_model_environment, sorted_packages
from .reading import ReadResult, shown
from .record import (CodeRef, DatasetRef, MetricSeries, Origin, Output, Point, RunRecord, SchemaField,
                     iso_from_millis, series)

SOURCE = "mlflow"
# meta.yaml stores a run's status as the integer of MLflow's RunStatus enum.
RUN_STATUSES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
METRIC_LINE = "`timestamp value [step]` numbers"
# Folders inside an experiment folder that are not runs (FileStore.RESERVED_EXPERIMENT_FOLDERS).
NOT_RUN_FOLDERS = frozenset({"tags", "datasets", "traces", "models"})
# Folders of mlruns/ that are not experiments: deleted ones, and the model registry.
NOT_EXPERIMENT_FOLDERS = frozenset({".trash", "models"})
DELETED_VERSION_STAGE = "Deleted_Internal"  # how the file registry marks a deleted model version
CONTEXT_TAG = "mlflow.data.context"
LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"
# Keys of a dataset's JSON ``source`` that hold where it lives, by source type (HTTP, S3/local, Spark, Delta, UC).
SOURCE_LOCATION_KEYS = ("uri", "url", "path", "table_name", "delta_table_name", "uc_table_name")
SEARCH_RUNS_COLUMNS = "run_id, experiment_id, status, start_time, end_time, params.*, metrics.*, tags.*"
UI_CSV_COLUMN = "Run ID"

class _Bad(Exception):
    """One problem that stops reading one run; caught where the run is read, never escapes a reader."""

    def __init__(self, path: Path, message: str, *, key_path: str = "", line: int = 1, col: int = 1):
        super().__init__(message)
        self.path, self.message, self.key_path, self.line, self.col = path, message, key_path, line, col

    def report(self, result: ReadResult, relative_to: Path) -> None:
        result.problem(shown(self.path, relative_to), self.message, line=self.line, col=self.col,
                       key_path=self.key_path)


# --- mlflow-export-import run.json ------------------------------------------------------------------

JsonPath = tuple["str | int", ...]  # keys and indexes from the document root to a value


class _BadValue(Exception):
    """A value of a JSON document that cannot be read, found at ``where``."""

    def __init__(self, where: JsonPath, message: str):
        super().__init__(message)
        self.where, self.message = where, message


def read_run_json(path: Path, *, relative_to: Path) -> ReadResult:
    """The run in one mlflow-export-import ``run.json``."""
    result = ReadResult()
    name = shown(path, relative_to)
    expected = "an mlflow-export-import run.json"
    try:
        text = decode_utf8(path.read_bytes())
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        result.problem(name, f"found invalid JSON ({exc.msg}), expected {expected}", line=exc.lineno, col=exc.colno)
        return result
    except NotUtf8 as exc:
        result.problem(name, exc.message, line=exc.line, col=exc.col)
        return result
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: a number too long to read
        result.problem(name, f"cannot read the file ({_reason(exc)}), expected {expected}")
        return result
    if _is_experiment_export(data):
        return result  # the experiment.json beside exported runs: no run of its own
    try:
        result.records.append(_run_json_record(data, path, Origin(name)))
    except _BadValue as bad:
        line, col = _json_position(text, bad.where)
        result.problem(name, bad.message, line=line, col=col, key_path=_json_key_path(bad.where))
    return result


def _is_experiment_export(data: Any) -> bool:
    mlflow = data.get("mlflow") if isinstance(data, dict) else None
    return isinstance(mlflow, dict) and "experiment" in mlflow and "info" not in mlflow


def _run_json_record(data: Any, path: Path, origin: Origin) -> RunRecord:
    if not isinstance(data, dict):
        raise _BadValue((), f"found {_described(data)}, expected an mlflow-export-import run.json object")
    # Since mlflow-export-import 1.2 the run sits under "mlflow"; before, at the top level.
    run, at = (data["mlflow"], ("mlflow",)) if isinstance(data.get("mlflow"), dict) else (data, ())
    info = run.get("info")
    if not isinstance(info, dict):
        raise _BadValue(at + ("info",), f"found {_described(info)}, expected an object with the run's id, "
                        "status and times")
    run_id = info.get("run_id") or info.get("run_uuid")
    if not isinstance(run_id, str) or not run_id:
        raise _BadValue(at + ("info", "run_id"), f"found {_described(run_id)}, expected the run id")
    tags = _key_values(run.get("tags"), at + ("tags",))
    return mlflow_record(
        run_id=run_id,
        experiment=_experiment_name_near(path, info.get("experiment_id"))
        or tags.get("mlflow_export_import.metadata.experiment_name"),
        name=_text(info.get("run_name")),
        status=_text(info.get("status")),
        start_ms=_millis(info.get("start_time")),
        end_ms=_millis(info.get("end_time")),
        user=_text(info.get("user_id")),
        params=_key_values(run.get("params"), at + ("params",)),
        metric_points=_json_metrics(run.get("metrics"), at + ("metrics",)),
        tags=tags,
        inputs=_json_inputs(run.get("inputs"), at + ("inputs",)),
        origin=origin,
    )


def _key_values(value: Any, where: JsonPath) -> dict[str, str]:
    """Params or tags: ``{"k": "v"}`` or, as in MLflow's REST API, ``[{"key": "k", "value": "v"}]``."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): _as_text(v) for k, v in value.items()}
    if isinstance(value, list) and all(isinstance(item, dict) and "key" in item for item in value):
        return {str(item["key"]): _as_text(item.get("value")) for item in value}
    raise _BadValue(where, f"found {_described(value)}, expected an object of key -> value")


def _json_metrics(value: Any, where: JsonPath) -> dict[str, list[Point]]:
    """``{"rmse": [{"value", "timestamp", "step"}, ...]}``, as mlflow-export-import writes metric histories."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _BadValue(where, f"found {_described(value)}, expected an object of metric -> list of points")
    metrics: dict[str, list[Point]] = {}
    for key, points in value.items():
        if not isinstance(points, list):
            raise _BadValue(where + (key,), f"found {_described(points)}, expected a list of "
                            "{value, timestamp, step}")
        metrics[str(key)] = [_json_point(point, where + (key, i)) for i, point in enumerate(points)]
    return metrics


def _json_point(point: Any, where: JsonPath) -> Point:
    if not isinstance(point, dict):
        raise _BadValue(where, f"found {_described(point)}, expected {{value, timestamp, step}}")
    value, timestamp, step = point.get("value"), point.get("timestamp"), point.get("step")
    if not _is_number(value):
        raise _BadValue(where + ("value",), f"found {_described(value)}, expected a number")
    if timestamp is not None and not _is_integer(timestamp):
        raise _BadValue(where + ("timestamp",), f"found {_described(timestamp)}, expected milliseconds since 1970")
    if step is not None and not _is_integer(step):
        raise _BadValue(where + ("step",), f"found {_described(step)}, expected a whole number")
    return (int(step or 0), float(value), int(timestamp) if timestamp is not None else None)


def _json_inputs(value: Any, where: JsonPath) -> list[DatasetRef]:
    """``[{"dataset": {name, digest, source_type, source, schema, profile}, "tags": [{key, value}]}]``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _BadValue(where, f"found {_described(value)}, expected a list of dataset inputs")
    inputs = []
    for i, item in enumerate(value):
        dataset = item.get("dataset") if isinstance(item, dict) else None
        if not isinstance(dataset, dict) or not isinstance(dataset.get("name"), str):
            raise _BadValue(where + (i, "dataset"), f"found {_described(dataset)}, expected a dataset with a name")
        tags = _key_values(item.get("tags"), where + (i, "tags"))
        inputs.append(mlflow_dataset(dataset["name"], dataset.get("digest"), dataset.get("source_type"),
                                     dataset.get("source"), dataset.get("schema"), tags))
    return inputs


def _json_key_path(where: JsonPath) -> str:
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _json_position(text: str, where: JsonPath) -> tuple[int, int]:
    """Line and column of the deepest object or array on ``where``; parsed again only to report a problem.

    The standard parser keeps no positions, so its pure-Python scanner is run with hooks that note
    where each container starts.
    """
    starts: dict[int, int] = {}
    decoder = json.JSONDecoder()

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        value, end = json.decoder.JSONObject(s_and_end, *args)
        starts[id(value)] = s_and_end[1] - 1
        return value, end

    def parse_array(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        value, end = json.decoder.JSONArray(s_and_end, *args)
        starts[id(value)] = s_and_end[1] - 1
        return value, end

    decoder.parse_object, decoder.parse_array = parse_object, parse_array  # type: ignore[method-assign]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    node: Any = decoder.decode(text)
    offset = starts.get(id(node), 0)
    for part in where:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        offset = starts.get(id(node), offset)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _experiment_name_near(run_json: Path, experiment_id: Any) -> str | None:
    """The experiment's name from the ``experiment.json`` an experiment export puts above its runs."""
    for folder in (run_json.parent.parent, run_json.parent.parent.parent):  # <exp>/<run>/, <exp>/runs/<run>/
        try:
            data = json.loads((folder / "experiment.json").read_text(encoding="utf-8-sig"))
            experiment = (data.get("mlflow") or data)["experiment"]
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            continue
        if isinstance(experiment, dict) and str(experiment.get("experiment_id")) == str(experiment_id):
            return _text(experiment.get("name"))
    return None


# --- legacy mlruns/ file store ----------------------------------------------------------------------

@dataclass(frozen=True)
class _Experiment:
    folder: Path
    name: str | None
    models: dict[str, tuple[str, str | None]]  # logged model id -> (name, source run id)
    registered: dict[str, list[Output]]  # run id -> registered model versions


def read_mlruns(root: Path, *, relative_to: Path) -> ReadResult:
    """Every active run of a legacy ``mlruns/`` folder, read without MLflow."""
    result = ReadResult()
    if not root.is_dir():
        result.problem(shown(root, relative_to), "found no folder here, expected an mlruns/ file store")
        return result
    registered = _registered_versions(root / "models", result, relative_to)
    for folder in _subfolders(root, NOT_EXPERIMENT_FOLDERS):
        try:
            experiment = _read_experiment(folder, registered, result, relative_to)
        except _Bad as bad:
            bad.report(result, relative_to)
            continue
        if experiment is not None:
            for run_folder in _subfolders(folder, NOT_RUN_FOLDERS):
                _read_run_folder(run_folder, experiment, result, relative_to)
    return result


def _read_experiment(folder: Path, registered: dict[str, list[Output]], result: ReadResult,
                     relative_to: Path) -> _Experiment | None:
    meta_path = folder / "meta.yaml"
    if not meta_path.is_file():
        raise _Bad(folder, "found an experiment folder without meta.yaml, expected meta.yaml with the "
                   "experiment's id and name; its runs are skipped")
    meta = _yaml_mapping(meta_path)
    if meta.get("lifecycle_stage") == "deleted":
        return None
    models = _logged_models(folder / "models", result, relative_to)
    return _Experiment(folder, _text(meta.get("name")), models, registered)


def _read_run_folder(folder: Path, experiment: _Experiment, result: ReadResult, relative_to: Path) -> None:
    try:
        record = _mlruns_record(folder, experiment, result, relative_to)
    except _Bad as bad:
        bad.report(result, relative_to)
        return
    if record is not None:
        result.records.append(record)


def _mlruns_record(folder: Path, experiment: _Experiment, result: ReadResult, relative_to: Path) -> RunRecord | None:
    meta_path = folder / "meta.yaml"
    if not meta_path.is_file():
        raise _Bad(folder, "found a run folder without meta.yaml, expected meta.yaml with the run's id, "
                   "status and times")
    meta = _yaml_mapping(meta_path)
    if meta.get("lifecycle_stage") == "deleted":
        return None
    run_id = _text(meta.get("run_id") or meta.get("run_uuid")) or folder.name
    logged = {model_id for model_id, (_, source_run) in experiment.models.items() if source_run == run_id}
    logged |= {output.name for output in _subfolders(folder / "outputs", frozenset())}
    environments = [_logged_model_environment(experiment.folder / "models" / model_id / "artifacts", relative_to)
                    for model_id in sorted(logged)]
    for environment in environments:
        result.problems += environment.problems
    return mlflow_record(
        run_id=run_id,
        experiment=experiment.name,
        name=_text(meta.get("run_name")),
        status=_mlruns_status(meta, meta_path),
        start_ms=_millis(meta.get("start_time")),
        end_ms=_millis(meta.get("end_time")),
        user=_text(meta.get("user_id")),
        params=_key_files(folder / "params"),
        metric_points=_metric_files(folder / "metrics"),
        tags=_key_files(folder / "tags"),
        inputs=_mlruns_inputs(folder / "inputs", experiment.folder / "datasets"),
        outputs=[logged_model_output(model_id, experiment.models.get(model_id, (None, None))[0])
                 for model_id in logged] + experiment.registered.get(run_id, []),
        model_environments=environments,
        origin=Origin(shown(meta_path, relative_to)),
    )


def _logged_model_environment(artifacts: Path, relative_to: Path) -> ModelEnvironment:
    """requirements.txt, python_env.yaml and conda.yaml of a logged model's artifact folder (no symlinks)."""
    def read(name: str) -> bytes | None:
        path = artifacts / name
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None

    return read_model_environment(read, lambda name: shown(artifacts / name, relative_to))


def _mlruns_status(meta: dict[str, Any], meta_path: Path) -> str:
    status = meta.get("status", 1)  # FileStore reads a missing status as RUNNING
    if isinstance(status, int) and not isinstance(status, bool) and status in RUN_STATUSES:
        return RUN_STATUSES[status]
    if isinstance(status, str) and status.upper() in RUN_STATUSES.values():
        return status.upper()
    line, col = _yaml_value_position(meta_path, "status")
    known = ", ".join(f"{number} ({name})" for number, name in RUN_STATUSES.items())
    raise _Bad(meta_path, f"found {_described(status)}, expected one of {known}", key_path="status",
               line=line, col=col)


def _key_files(folder: Path) -> dict[str, str]:
    """params/ or tags/: one file per key, whose text is the value; keys with '/' are nested folders."""
    values = {}
    for file in _files_below(folder):
        try:
            # Bytes decoded as MLflow does (codecs.open): no newline translation.
            values[file.relative_to(folder).as_posix()] = file.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _Bad(file, f"cannot read the value ({_reason(exc)}), expected UTF-8 text") from None
    return values


def _metric_files(folder: Path) -> dict[str, list[Point]]:
    return {file.relative_to(folder).as_posix(): _metric_file(file, folder) for file in _files_below(folder)}


def _metric_file(file: Path, folder: Path) -> list[Point]:
    key_path = "metrics." + file.relative_to(folder).as_posix()
    try:
        lines = file.read_bytes().decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise _Bad(file, f"cannot read the metric ({_reason(exc)}), expected lines of {METRIC_LINE}",
                   key_path=key_path) from None
    return [_metric_point(line, file, key_path, number) for number, line in enumerate(lines, 1) if line.strip()]


def _metric_point(line: str, file: Path, key_path: str, number: int) -> Point:
    """``timestamp value [step]``; MLflow also writes ``timestamp value step dataset_name dataset_digest``."""
    fields = _fields_with_columns(line)
    if len(fields) not in (2, 3, 5):
        raise _Bad(file, f"found {len(fields)} fields, expected {METRIC_LINE}", key_path=key_path,
                   line=number, col=fields[0][1] if fields else 1)
    parsers: tuple[Callable[[str], Any], ...] = (int, float, int)
    parsed = []
    for (text, col), parse in zip(fields, parsers):
        try:
            parsed.append(parse(text))
        except ValueError:
            raise _Bad(file, f"found {text!r}, expected {METRIC_LINE}", key_path=key_path,
                       line=number, col=col) from None
    timestamp, value, step = (parsed + [0])[:3]
    return (step, value, timestamp)


def _fields_with_columns(line: str) -> list[tuple[str, int]]:
    """Whitespace-separated fields, each with its 1-based column."""
    fields, start = [], None
    for index, char in enumerate(line + " "):
        if char.isspace():
            if start is not None:
                fields.append((line[start:index], start + 1))
                start = None
        elif start is None:
            start = index
    return fields


def _mlruns_inputs(inputs_folder: Path, datasets_folder: Path) -> list[DatasetRef]:
    """Each ``inputs/<id>/meta.yaml`` of type DATASET names a ``datasets/<source_id>/meta.yaml``."""
    inputs = []
    for folder in _subfolders(inputs_folder, frozenset()):
        link = _yaml_mapping(folder / "meta.yaml")
        if link.get("source_type") != "DATASET":
            continue  # a logged model used as input
        dataset_meta = datasets_folder / str(link.get("source_id")) / "meta.yaml"
        if not dataset_meta.is_file():
            raise _Bad(folder / "meta.yaml", f"found dataset id {_described(link.get('source_id'))}, expected "
                       f"one with a meta.yaml under {datasets_folder.name}/", key_path="source_id")
        dataset = _yaml_mapping(dataset_meta)
        if not _text(dataset.get("name")):
            raise _Bad(dataset_meta, f"found {_described(dataset.get('name'))}, expected the dataset's name",
                       key_path="name")
        tags = link.get("tags") if isinstance(link.get("tags"), dict) else {}
        inputs.append(mlflow_dataset(str(dataset["name"]), dataset.get("digest"),
                                     dataset.get("source_type"), dataset.get("source"), dataset.get("schema"),
                                     {str(k): _as_text(v) for k, v in tags.items()}))
    return inputs


def _logged_models(folder: Path, result: ReadResult, relative_to: Path) -> dict[str, tuple[str, str | None]]:
    """MLflow 3 logged models of one experiment: id -> (name, source run id); deleted ones left out."""
    models = {}
    for model_folder in _subfolders(folder, frozenset()):
        try:
            meta = _yaml_mapping(model_folder / "meta.yaml")
        except _Bad as bad:
            bad.report(result, relative_to)
            continue
        if meta.get("lifecycle_stage") != "deleted":
            model_id = _text(meta.get("model_id")) or model_folder.name
            models[model_id] = (_text(meta.get("name")) or model_id, _text(meta.get("source_run_id")))
    return models


def _registered_versions(folder: Path, result: ReadResult, relative_to: Path) -> dict[str, list[Output]]:
    """The file model registry (``mlruns/models/<name>/version-<n>/``): run id -> its model versions."""
    by_run: dict[str, list[Output]] = {}
    for model_folder in _subfolders(folder, frozenset()):
        aliases = _aliases(model_folder / "aliases")
        for version_folder in _subfolders(model_folder, frozenset({"aliases", "tags"})):
            try:
                meta = _yaml_mapping(version_folder / "meta.yaml")
            except _Bad as bad:
                bad.report(result, relative_to)
                continue
            run_id, version = _text(meta.get("run_id")), _text(meta.get("version"))
            if run_id and version and meta.get("current_stage") != DELETED_VERSION_STAGE:
                name = _text(meta.get("name")) or model_folder.name
                by_run.setdefault(run_id, []).append(
                    registered_version_output(name, version, [a for a, v in aliases.items() if v == version]))
    return by_run


def _aliases(folder: Path) -> dict[str, str]:
    """``aliases/<alias>`` files, each holding a version number."""
    aliases = {}
    for file in _files_below(folder):
        try:
            aliases[file.name] = file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            continue  # an unreadable alias only loses the alias, not the version
    return aliases


def _yaml_mapping(path: Path) -> dict[str, Any]:
    return _meta_document(path).data


def _meta_document(path: Path) -> YamlDocument:
    """A meta.yaml, read by the same capped loader as cards: no tags, no alias bombs."""
    try:
        text = decode_utf8(path.read_bytes())
    except OSError as exc:
        raise _Bad(path, f"cannot read the file ({_reason(exc)}), expected MLflow's meta.yaml") from None
    except NotUtf8 as exc:
        raise _Bad(path, exc.message, line=exc.line, col=exc.col) from None
    document, problems = parse_yaml(text, path.as_posix())
    if problems or document is None:
        first = problems[0]
        raise _Bad(path, f"{first.message}; expected MLflow's meta.yaml", key_path=first.key_path,
                   line=first.line, col=first.col)
    if not isinstance(document.data, dict):
        raise _Bad(path, f"found {_described(document.data)}, expected MLflow's meta.yaml (a mapping)")
    return document


def _yaml_value_position(path: Path, key: str) -> tuple[int, int]:
    """Line and column of a top-level key's value; only looked up once something is wrong there."""
    return _meta_document(path).position((key,))


# MLflow's file store writes no symlinks; one in an mlruns/ folder could lead out of the project and
# publish what it points to (a param file linked to a secret), so symlinks there are not followed.

def _subfolders(folder: Path, skip: frozenset[str]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(child for child in folder.iterdir()
                  if child.is_dir() and not child.is_symlink() and child.name not in skip)


def _files_below(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


# --- CSV from mlflow.search_runs ----------------------------------------------------------------------

def read_search_runs_csv(path: Path, *, relative_to: Path) -> ReadResult:
    """One run per row of ``mlflow.search_runs(...).to_csv()``; metrics carry their final value only."""
    result = ReadResult()
    name = shown(path, relative_to)
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:  # newline="": quoted values keep theirs
            text = file.read()
        raw_lines = [line.rstrip("\r\n") for line in io.StringIO(text, newline="")]
        table = list(_csv_rows(text))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        result.problem(name, f"cannot read the file ({_reason(exc)}), expected the CSV of mlflow.search_runs()")
        return result
    if not table:
        result.problem(name, f"found an empty file, expected a header row: {SEARCH_RUNS_COLUMNS}")
        return result
    header_line, header = table[0]
    if UI_CSV_COLUMN in header and "run_id" not in header:
        result.problem(name, "found the MLflow UI's runs.csv, whose columns do not say which are params, "
                       "metrics or tags; expected the CSV of mlflow.search_runs(...).to_csv() or "
                       "`mlflow experiments csv`", line=header_line)
        return result
    if "run_id" not in header:
        result.problem(name, f"found no run_id column, expected the columns of mlflow.search_runs(): "
                       f"{SEARCH_RUNS_COLUMNS}", line=header_line)
        return result
    for line, row in table[1:]:
        try:
            result.records.append(_csv_record(header, row, _CsvPlace(path, name, line, raw_lines[line - 1])))
        except _Bad as bad:
            bad.report(result, relative_to)
    return result


@dataclass(frozen=True)
class _CsvPlace:
    """Where a CSV row is, to point problems at the right line and column."""

    path: Path
    name: str  # as problems show it
    line: int
    raw_line: str

    def bad(self, message: str, column: str, field_index: int) -> _Bad:
        return _Bad(self.path, message, key_path=column, line=self.line,
                    col=_csv_column(self.raw_line, field_index))


def _csv_rows(text: str) -> Iterable[tuple[int, list[str]]]:
    """Rows with the line each starts on; a quoted value may span lines (a multi-line tag)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    for row in reader:
        if row:
            yield line, row
        line = reader.line_num + 1


def _csv_record(header: list[str], row: list[str], place: _CsvPlace) -> RunRecord:
    if len(row) != len(header):
        raise _Bad(place.path, f"found {len(row)} fields, expected {len(header)}, one per header column",
                   line=place.line)
    cells = dict(zip(header, row))
    if not cells["run_id"]:
        raise place.bad("found an empty run_id, expected the run id", "run_id", header.index("run_id"))
    params, tags, final_metrics = {}, {}, {}
    for index, (column, value) in enumerate(zip(header, row)):
        prefix, _, key = column.partition(".")
        if not value or not key:  # search_runs leaves a column empty for runs that never logged that key
            continue
        if prefix == "params":
            params[key] = value
        elif prefix == "tags":
            tags[key] = value
        elif prefix == "metrics":
            final_metrics[key] = _csv_number(value, place, column, index)
    return mlflow_record(
        run_id=cells["run_id"], experiment=None, name=None, status=cells.get("status") or None,
        start_ms=_csv_millis(cells, "start_time", header, place),
        end_ms=_csv_millis(cells, "end_time", header, place),
        user=None, params=params, metric_points={}, final_metrics=final_metrics, tags=tags, inputs=[],
        origin=Origin(place.name, place.line))


def _csv_number(value: str, place: _CsvPlace, column: str, index: int) -> float:
    try:
        return float(value)
    except ValueError:
        raise place.bad(f"found {value!r}, expected a number", column, index) from None


def _csv_millis(cells: dict[str, str], column: str, header: list[str], place: _CsvPlace) -> int | None:
    """search_runs writes pandas timestamps (``2026-01-31 12:00:00.123000+00:00``); plain ms also work."""
    value = cells.get(column) or ""
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise place.bad(f"found {value!r}, expected a date and time such as 2026-01-31 12:00:00+00:00",
                        column, header.index(column)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)  # pandas writes UTC; a naive one is taken as UTC
    return int(moment.timestamp() * 1000)


def _csv_column(raw_line: str, field_index: int) -> int:
    """The 1-based column where a field of a CSV line starts, quotes taken into account."""
    field, quoted = 0, False
    for index, char in enumerate(raw_line):
        if field == field_index:
            return index + 1
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            field += 1
    return len(raw_line) + 1 if field == field_index else 1


# --- MLflow conventions, shared with mlflow_pull -----------------------------------------------------

def mlflow_record(*, run_id: str, experiment: str | None, name: str | None, status: str | None,
                  start_ms: int | None, end_ms: int | None, user: str | None, params: Mapping[str, str],
                  metric_points: Mapping[str, list[Point]], tags: Mapping[str, str],
                  inputs: Iterable[DatasetRef], outputs: Iterable[Output] = (),
                  final_metrics: Mapping[str, float] | None = None,
                  model_environments: Iterable[ModelEnvironment] = (), origin: Origin | None = None) -> RunRecord:
    """A run record filled the same way whichever way the run was read.

    ``final_metrics`` are metrics known only by their last value (a CSV): no history, so nothing to plot.
    ``model_environments``: what the environment files of the run's logged models say.
    """
    model_environments = list(model_environments)
    # A set: the file store writes some points twice, and a repeat is not a new observation.
    metrics = {key: series(sorted(set(points), key=_point_order)) for key, points in metric_points.items() if points}
    metrics.update({key: MetricSeries(last=value) for key, value in (final_metrics or {}).items()})
    return RunRecord(
        source=SOURCE,
        id=run_id,
        experiment=experiment,
        name=name or tags.get("mlflow.runName") or None,
        status=status.upper() if status else None,
        start_time=iso_from_millis(start_ms),
        end_time=iso_from_millis(end_ms),
        user=user or tags.get("mlflow.user") or None,
        params=dict(sorted(params.items())),
        metrics=dict(sorted(metrics.items())),
        tags=dict(sorted(tags.items())),
        inputs=tuple(sorted(inputs, key=lambda d: (d.name, d.digest or "", d.context or "", d.source or ""))),
        outputs=sorted_outputs([*outputs, *history_model_outputs(run_id, tags)]),
        code=code_from_tags(tags),
        environment=environment_from_tags(tags, model_environments),
        packages=tuple(sorted_packages(p for environment in model_environments for p in environment.packages)),
        origin=origin,
    )


def mlflow_dataset(name: str, digest: Any, source_type: Any, source: Any, schema: Any,
                   input_tags: Mapping[str, str]) -> DatasetRef:
    """A dataset input as MLflow logs it (``mlflow.log_input``), with the input's context tag."""
    return DatasetRef(
        name=name,
        namespace=_text(source_type),
        digest=_text(digest),
        source=dataset_location(source),
        schema=schema_fields(schema),
        context=input_tags.get(CONTEXT_TAG) or None,
    )


def dataset_location(source: Any) -> str | None:
    """Where a dataset lives, from its JSON ``source`` (``{"uri": ...}``, ``{"url": ...}``, ``{"path": ...}``)."""
    if isinstance(source, str):
        try:
            parsed = json.loads(source)
        except (ValueError, RecursionError):  # deep nesting too
            return source or None  # not JSON: already a plain location
    else:
        parsed = source
    if isinstance(parsed, dict):
        for key in SOURCE_LOCATION_KEYS:
            if isinstance(parsed.get(key), str) and parsed[key]:
                return parsed[key]
    if parsed is None:
        return None
    return source if isinstance(source, str) else json.dumps(source, sort_keys=True)


def schema_fields(schema: Any) -> tuple[SchemaField, ...]:
    """Columns of MLflow's schema JSON (``{"mlflow_colspec": [{"name", "type"}, ...]}``); tensors give none."""
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except (ValueError, RecursionError):  # deep nesting too
            return ()
    columns = schema.get("mlflow_colspec") if isinstance(schema, dict) else None
    if not isinstance(columns, list):
        return ()
    fields = []
    for column in columns:
        if isinstance(column, dict) and isinstance(column.get("name"), str):
            kind = column.get("type")
            if isinstance(kind, dict):  # array, object and map types are nested specs
                kind = kind.get("type")
            fields.append(SchemaField(column["name"], kind if isinstance(kind, str) else None))
    return tuple(fields)


def logged_model_output(model_id: str, name: str | None) -> Output:
    """An MLflow 3 logged model, addressed by its id."""
    return Output(kind="model", name=name or model_id, uri=f"models:/{model_id}")


def registered_version_output(name: str, version: str, aliases: Iterable[str]) -> Output:
    return Output(kind="model", name=name, uri=f"models:/{name}/{version}", version=str(version),
                  registered_name=name, aliases=tuple(sorted(aliases)))


def history_model_outputs(run_id: str, tags: Mapping[str, str]) -> list[Output]:
    """Models an MLflow 2 run logged, listed in its ``mlflow.log-model.history`` tag."""
    return [Output(kind="model", name=entry["artifact_path"], uri=f"runs:/{run_id}/{entry['artifact_path']}")
            for entry in _log_model_history(tags) if isinstance(entry.get("artifact_path"), str)]


def sorted_outputs(outputs: Iterable[Output]) -> tuple[Output, ...]:
    """Deduplicated and in a stable order: by kind, registered name, version (numerically), name."""
    unique = {(out.kind, out.uri, out.name, out.registered_name, out.version): out for out in outputs}
    return tuple(sorted(unique.values(), key=lambda out: (
        out.kind, out.registered_name or "", len(out.version or ""), out.version or "", out.name, out.uri or "")))


def code_from_tags(tags: Mapping[str, str]) -> CodeRef | None:
    repo = tags.get("mlflow.source.git.repoURL") or tags.get("mlflow.gitRepoURL") or None
    commit = tags.get("mlflow.source.git.commit") or None
    entry_point = tags.get("mlflow.source.name") or None
    if repo is None and commit is None and entry_point is None:
        return None
    return CodeRef(repo=repo, commit=commit, entry_point=entry_point)


def environment_from_tags(tags: Mapping[str, str], model_environments: Iterable[ModelEnvironment] = ()) -> dict[str, str]:
    """The source type tag, versions an MLflow 2 model history names, the Python version of the logged models'
    files, and what the run's own tags say (``environment_tags``), which wins: it is where the run ran."""
    environment = {}
    if tags.get("mlflow.source.type"):
        environment["source_type"] = tags["mlflow.source.type"]
    for entry in _log_model_history(tags)[:1]:
        python_flavor = (entry.get("flavors") or {}).get("python_function") or {}
        if isinstance(python_flavor, dict) and isinstance(python_flavor.get("python_version"), str):
            environment["python_version"] = python_flavor["python_version"]
        if isinstance(entry.get("mlflow_version"), str):
            environment["mlflow_version"] = entry["mlflow_version"]
    for model in model_environments:
        if model.python_version:
            environment["python_version"] = model.python_version
            break
    environment.update(environment_tags(tags))
    return dict(sorted(environment.items()))


def _log_model_history(tags: Mapping[str, str]) -> list[dict[str, Any]]:
    try:
        history = json.loads(tags.get(LOG_MODEL_HISTORY_TAG) or "[]")
    except (ValueError, RecursionError):  # deep nesting too
        return []  # a tag is free text; a broken one only loses the derived outputs
    return [entry for entry in history if isinstance(entry, dict)] if isinstance(history, list) else []


# --- small helpers ------------------------------------------------------------------------------------

def _point_order(point: Point) -> tuple[int, int, float]:
    step, value, timestamp = point
    return (step, timestamp if timestamp is not None else -1, value)


def _millis(value: Any) -> int | None:
    if _is_number(value) and math.isfinite(value):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _as_text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer())


def _described(value: Any) -> str:
    """A found value as a message shows it: strings quoted, containers by kind."""
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return repr(value)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "values nested too deeply"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8: {exc.reason}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
