"""DVC pipelines and experiments as run records, read without DVC installed.

Two entry points:

- ``read_dvc_project(root)`` reads ``root/dvc.yaml`` and ``root/dvc.lock`` (lock
  schema '2.0'), any nested ``sub/dir/dvc.yaml`` with its lock, and the params,
  metrics and step-plot files they name. Each stage in a lock file is one run.
- ``read_dvc_exp_show(path)`` reads the JSON written by ``dvc exp show --json``
  (DVC 3): each baseline commit and each experiment is one run.

Conventions, chosen so that the same DVC project always gives the same records:

- **Run ids.** A stage in the root ``dvc.yaml`` is its lock name (``train``,
  ``train@0``, ``train@us``); a stage of a nested pipeline uses DVC's own address,
  ``sub/dir/dvc.yaml:train``. A baseline commit is its full git sha. An experiment
  is its DVC name (``exp-five``); when two experiments in one export share a name
  (DVC allows it under different baselines) each becomes ``<name>~<sha[:7]>``
  (``~`` cannot occur in an experiment name). The uncommitted ``workspace`` row is
  left out: its content changes, so it has no stable id.
- **foreach/matrix stages** stay one run per item, grouped: ``name`` is the stage
  name before ``@``, and the tags ``dvc.stage.group`` (``train``) and
  ``dvc.stage.item`` (``us``, ``lr-0.1-...``) let pages collapse the siblings.
- **experiment** is the ``dvc.yaml`` path (relative to ``relative_to``) for stages,
  and the baseline commit sha for ``exp show`` runs, whose tags keep the branch
  (``dvc.exp.baseline_name``) and the experiment's own commit (``dvc.exp.rev``).
- **status** is None for stages and baselines; an experiment is ``FINISHED`` (DVC
  commits only finished ones) unless its executor says failed, running or queued.
- **Dataset identity.** Deps and outs are named by their path relative to the DVC
  project root (POSIX, ``wdir`` and nested pipelines resolved) and carry the
  namespace ``dvc`` when the project is the ``relative_to`` folder itself, else
  ``dvc:<project path relative to relative_to>``. So one stage's out and the next
  stage's dep are the same (namespace, name, digest), one data node of the lineage graph. Remote
  deps (``s3://...``) keep their URL as the name. Params files are not inputs.
  An ``exp show`` run reads what none of its stages wrote (raw data, scripts,
  ``dvc add``-ed folders) and writes the rest.
- **Output kinds.** ``model`` for a path declared under ``artifacts:`` with
  ``type: model`` (``registered_name`` is the artifact's name), ``artifact`` for
  a stage's metrics and plots files, ``dataset`` for everything else. ``exp show``
  does not say which outs are models, so its outputs are all ``dataset``.
- **Digests** are DVC's: ``md5`` (a directory's ends in ``.dir``), else ``etag``
  or ``checksum`` for cloud files. Lock files without ``hash: md5`` hold DVC 2's
  md5 of the text with CRLF turned into LF, not of the raw bytes.
- **Params** are flattened with ``.``; values are rendered like JSON (``200``,
  ``0.1``, ``true``, ``[8, 4]``), strings as they are. **Metrics** are flattened
  the same way. A key found in two params (or two metrics) files of one run is
  written ``file:key`` for each file, as DVC's own ``exp show`` table does.
- **Step history** comes from TSV/CSV files with a ``step`` column (DVCLive's
  ``plots/metrics/**.tsv``) that a stage declares as plots, or that sit under a
  ``plots/metrics`` folder of one of its outs. A column ``train/loss`` is the
  metric ``train.loss``, as DVCLive's summary nests it.
- **Code.** ``entry_point`` is the stage's ``cmd`` (list commands joined with
  ``&&``). ``commit`` is the git HEAD of the repository holding the project, as
  ``git rev-parse HEAD`` gives it: the lock file that was read is the one at
  HEAD when the working tree is clean. For ``exp show`` runs it is the baseline.
- **Times.** Stages have none (DVC records none). ``exp show`` gives the commit
  time in the exporting machine's local time without an offset; it is read as
  UTC (export with ``TZ=UTC``) and kept as ``end_time``.

Left out on purpose: ``.dvcignore`` (the nested-pipeline search skips hidden
folders, DVC outputs and ``X.dvc``-tracked folders instead), params not recorded
in the lock file, and the uncommitted workspace.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..cards.yaml_source import KeyPath, YamlDocument, format_key_path, parse_yaml
from ..git import Git, GitError
from ..text import NotUtf8, decode_utf8
from .reading import ReadResult, shown
from .record import CodeRef, DatasetRef, MetricSeries, Origin, Output, Point, RunRecord, series

LOCK_SCHEMA = "2.0"
PIPELINE_FILE = "dvc.yaml"
LOCK_FILE = "dvc.lock"
GROUP_TAG = "dvc.stage.group"
ITEM_TAG = "dvc.stage.item"
EXP_REV_TAG = "dvc.exp.rev"
BASELINE_NAME_TAG = "dvc.exp.baseline_name"

_DIGEST_KEYS = ("md5", "etag", "checksum")
_METRICS_SUFFIXES = (".json", ".yaml", ".yml")
_STEP_SUFFIXES = (".tsv", ".csv")
# Folders that never hold a pipeline of the project but can hold many files.
_NOT_SEARCHED = {"__pycache__", "node_modules", "site-packages"}
_EXP_STATUS = {"success": "FINISHED", "failed": "FAILED", "running": "RUNNING", "queued": "QUEUED"}


# --- the pipeline reader ------------------------------------------------------------------

@dataclass(frozen=True)
class _Project:
    root: Path
    relative_to: Path
    namespace: str
    commit: str | None


@dataclass
class _Pipeline:
    """One dvc.yaml and its dvc.lock, parsed; either may be missing or broken (None)."""

    folder: str  # project-relative POSIX folder, "" at the root
    yaml_path: Path
    definition: YamlDocument | None
    lock: YamlDocument | None

    @property
    def id_prefix(self) -> str:
        return f"{posixpath.join(self.folder, PIPELINE_FILE)}:" if self.folder else ""

    @property
    def top_level(self) -> dict[str, Any]:
        return _mapping(self.definition.data if self.definition else None)

    def stage_definition(self, group: str) -> tuple[dict[str, Any], KeyPath]:
        """The dvc.yaml body of a stage and its key path; for foreach stages the ``do`` body."""
        body = _mapping(_mapping(self.top_level.get("stages")).get(group))
        if "foreach" in body:
            return _mapping(body.get("do")), ("stages", group, "do")
        return body, ("stages", group)

    def wdir(self, group: str) -> str:
        """The folder a stage's paths are relative to, from the pipeline's folder."""
        wdir = self.stage_definition(group)[0].get("wdir")
        return wdir if isinstance(wdir, str) else "."


def read_dvc_project(root: Path, *, relative_to: Path) -> ReadResult:
    """Every stage recorded in the DVC project's lock files, as one run each."""
    result = ReadResult()
    if not (root / PIPELINE_FILE).is_file() and not (root / LOCK_FILE).is_file():
        result.problem(shown(root, relative_to), f"found no {PIPELINE_FILE} or {LOCK_FILE}, expected a DVC project")
        return result
    project = _Project(root, relative_to, _namespace(root, relative_to), _git_head(root))
    pipelines = list(_find_pipelines(project, result))
    artifacts = _artifacts(pipelines)
    for pipeline in pipelines:
        result.records += _pipeline_runs(pipeline, project, artifacts, result)
    return result


def _find_pipelines(project: _Project, result: ReadResult) -> Iterator[_Pipeline]:
    """The root pipeline, then nested ones, skipping folders that cannot hold one."""
    for folder, subfolders, file_list in os.walk(project.root):
        here, files = Path(folder), set(file_list)
        pipeline = None
        if PIPELINE_FILE in files or LOCK_FILE in files:
            pipeline = _load_pipeline(here, project, result)
            yield pipeline
        # DVC refuses a dvc.yaml inside an output, so outputs need no search.
        outputs = _lock_out_paths(pipeline) if pipeline else set()
        subfolders[:] = sorted(
            name for name in subfolders
            if not name.startswith(".") and name not in _NOT_SEARCHED and f"{name}.dvc" not in files
            and _project_relative(here / name, project.root) not in outputs
        )


def _load_pipeline(folder: Path, project: _Project, result: ReadResult) -> _Pipeline:
    yaml_path, lock_path = folder / PIPELINE_FILE, folder / LOCK_FILE
    definition = _load_yaml(yaml_path, project.relative_to, result) if yaml_path.is_file() else None
    lock = _load_yaml(lock_path, project.relative_to, result) if lock_path.is_file() else None
    if not lock_path.is_file() and definition and _mapping(definition.data).get("stages"):
        result.problem(shown(yaml_path, project.relative_to),
                       f"found no {LOCK_FILE} beside it, expected one: run `dvc repro` to record the stages")
    return _Pipeline(_project_relative(folder, project.root), yaml_path, definition, lock)


def _lock_out_paths(pipeline: _Pipeline) -> set[str]:
    stages = _mapping(_mapping(pipeline.lock.data if pipeline.lock else None).get("stages"))
    return {
        _resolve(pipeline.folder, pipeline.wdir(name.partition("@")[0]), out["path"])
        for name, body in stages.items() for out in _mapping(body).get("outs") or ()
        if isinstance(out, dict) and isinstance(out.get("path"), str)
    }


def _artifacts(pipelines: list[_Pipeline]) -> dict[str, tuple[str, str | None]]:
    """Project path -> (artifact name, type) from every dvc.yaml's ``artifacts:``."""
    found = {}
    for pipeline in pipelines:
        for name, body in _mapping(pipeline.top_level.get("artifacts")).items():
            if isinstance(body, dict) and isinstance(body.get("path"), str):
                found[_resolve(pipeline.folder, ".", body["path"])] = (name, body.get("type"))
    return found


def _pipeline_runs(pipeline: _Pipeline, project: _Project, artifacts: dict[str, tuple[str, str | None]],
                   result: ReadResult) -> list[RunRecord]:
    lock = pipeline.lock
    if lock is None or not _lock_is_usable(lock, result):
        return []
    runs = []
    for name, body in (lock.data.get("stages") or {}).items():
        problem = _lock_stage_problem(body, ("stages", name))
        if problem:
            key_path, message = problem
            line, col = lock.position(key_path, of_key=len(key_path) == 2)
            result.problem(lock.path, f"{message}; stage skipped", line=line, col=col,
                           key_path=format_key_path(key_path))
            continue
        runs.append(_stage_run(pipeline, name, body, project, artifacts, result))
    return runs


def _lock_is_usable(lock: YamlDocument, result: ReadResult) -> bool:
    data = lock.data
    if not isinstance(data, dict):
        result.problem(lock.path, f"found {_describe(data)}, expected a mapping with schema '{LOCK_SCHEMA}' and stages")
        return False
    if "schema" not in data:
        result.problem(lock.path, f"found no schema key (a DVC 1 lock file?), expected schema: '{LOCK_SCHEMA}'; "
                                  "run `dvc repro` with DVC 3 to rewrite it")
        return False
    if data["schema"] != LOCK_SCHEMA:
        line, col = lock.position(("schema",), of_key=True)
        result.problem(lock.path, f"found {_describe(data['schema'])}, expected '{LOCK_SCHEMA}'",
                       line=line, col=col, key_path="schema")
        return False
    if not isinstance(data.get("stages") or {}, dict):
        line, col = lock.position(("stages",))
        result.problem(lock.path, f"found {_describe(data['stages'])}, expected a mapping of stage names",
                       line=line, col=col, key_path="stages")
        return False
    return True


def _lock_stage_problem(body: Any, key_path: KeyPath) -> tuple[KeyPath, str] | None:
    """What is wrong with one dvc.lock stage, or None: (where, found/expected)."""
    if not isinstance(body, dict):
        return key_path, f"found {_describe(body)}, expected a mapping with cmd, deps, params and outs"
    if "cmd" not in body:
        return key_path, "found no cmd, expected the stage's command"
    cmd = body["cmd"]
    if not (isinstance(cmd, str) or isinstance(cmd, list) and all(isinstance(part, str) for part in cmd)):
        return key_path + ("cmd",), f"found {_describe(cmd)}, expected a command or a list of commands"
    for kind in ("deps", "outs"):
        entries = body.get(kind) or []
        if not isinstance(entries, list):
            return key_path + (kind,), f"found {_describe(entries)}, expected a list of files"
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                return key_path + (kind, index), f"found {_describe(entry)}, expected a mapping with a path"
    params = body.get("params") or {}
    if not isinstance(params, dict):
        return key_path + ("params",), f"found {_describe(params)}, expected a mapping of params files"
    for file, values in params.items():
        if not isinstance(values, dict):
            return key_path + ("params", file), f"found {_describe(values)}, expected a mapping of params"
    return None


def _stage_run(pipeline: _Pipeline, lock_name: str, body: dict[str, Any], project: _Project,
               artifacts: dict[str, tuple[str, str | None]], result: ReadResult) -> RunRecord:
    group, _, item = lock_name.partition("@")
    wdir = pipeline.wdir(group)
    params_files = {_resolve(pipeline.folder, wdir, file) for file in body.get("params") or {}}
    deps = [_file_ref(pipeline.folder, wdir, entry) for entry in body.get("deps") or ()]
    outs = [_file_ref(pipeline.folder, wdir, entry) for entry in body.get("outs") or ()]
    declared = _declared_files(pipeline, group, [path for path, *_ in outs])
    metrics = _stage_metrics(declared, project, result)
    reported = {path for path, _ in declared.metrics} | {path for path, _ in declared.plots}
    line, _ = pipeline.lock.position(("stages", lock_name), of_key=True)
    return RunRecord(
        source="dvc",
        id=pipeline.id_prefix + lock_name,
        experiment=shown(pipeline.yaml_path, project.relative_to),
        name=group,
        params=_by_file(
            (file, {key: _param_text(value) for key, _, value in _flatten(values)})
            for file, values in (body.get("params") or {}).items()
        ),
        metrics=metrics,
        tags={GROUP_TAG: group, ITEM_TAG: item} if item else {},
        inputs=tuple(
            DatasetRef(name=path, namespace=project.namespace, digest=digest, size=size)
            for path, digest, size in deps if path not in params_files
        ),
        outputs=tuple(
            _output(path, digest, project.namespace, artifacts.get(path), path in reported) for path, digest, _ in outs
        ),
        code=CodeRef(commit=project.commit, entry_point=_command(body["cmd"])),
        origin=Origin(pipeline.lock.path, line),
        floating=True,
    )


def _file_ref(folder: str, wdir: str, entry: dict[str, Any]) -> tuple[str, str | None, int | None]:
    digest = next((str(entry[key]) for key in _DIGEST_KEYS if entry.get(key)), None)
    size = entry.get("size") if isinstance(entry.get("size"), int) else None
    return _resolve(folder, wdir, entry["path"]), digest, size


def _output(path: str, digest: str | None, namespace: str, artifact: tuple[str, str | None] | None,
            is_report: bool) -> Output:
    # Metrics and plots files are reports about the run, not data another stage reads.
    kind = "model" if artifact and artifact[1] == "model" else "artifact" if is_report else "dataset"
    return Output(kind=kind, name=path, namespace=namespace, digest=digest,
                  registered_name=artifact[0] if artifact else None)


def _command(cmd: str | list[str]) -> str:
    return cmd if isinstance(cmd, str) else " && ".join(cmd)


# --- metrics and step plots -------------------------------------------------------------------

@dataclass
class _DeclaredFiles:
    """A stage's metrics and plots files: (project path, where dvc.yaml names it)."""

    pipeline: _Pipeline
    metrics: list[tuple[str, KeyPath]]
    plots: list[tuple[str, KeyPath]]
    outs: list[str]


def _declared_files(pipeline: _Pipeline, group: str, outs: list[str]) -> _DeclaredFiles:
    definition, body_path = pipeline.stage_definition(group)
    wdir = pipeline.wdir(group)
    declared = _DeclaredFiles(pipeline, [], [], outs)
    for kind, found in (("metrics", declared.metrics), ("plots", declared.plots)):
        for index, path in _entry_paths(definition.get(kind)):
            found += [(file, body_path + (kind, index)) for file in _expand(pipeline.folder, wdir, path, outs)]
        # Top-level metrics and plots belong to the stage that writes them.
        for index, path in _entry_paths(pipeline.top_level.get(kind)):
            file = _resolve(pipeline.folder, ".", path)
            if any(file == out or file.startswith(out + "/") for out in outs):
                found.append((file, (kind, index)))
        # A file named both in the stage and at the top level is read once.
        first_places: dict[str, KeyPath] = {}
        for file, where in found:
            first_places.setdefault(file, where)
        found[:] = first_places.items()
    return declared


def _entry_paths(entries: Any) -> Iterator[tuple[int, str]]:
    """Paths of a dvc.yaml ``metrics:``/``plots:``/``outs:`` list: strings or one-key mappings."""
    for index, entry in enumerate(entries if isinstance(entries, list) else ()):
        if isinstance(entry, str):
            yield index, entry
        elif isinstance(entry, dict) and len(entry) == 1:
            yield index, next(iter(entry))


def _expand(folder: str, wdir: str, path: str, outs: list[str]) -> list[str]:
    """A declared path; a foreach/matrix template (``m-${item}.json``) is matched against the lock's outs."""
    resolved = _resolve(folder, wdir, path)
    if "${" not in resolved:
        return [resolved]
    pattern = re.compile(".+?".join(re.escape(part) for part in re.split(r"\$\{[^}]*\}", resolved)) + r"\Z")
    return [out for out in outs if pattern.match(out)]


def _stage_metrics(declared: _DeclaredFiles, project: _Project, result: ReadResult) -> dict[str, MetricSeries]:
    per_file = []
    for path, key_path in declared.metrics:
        values = _metrics_file(path, key_path, declared.pipeline, project, result)
        if values is not None:
            per_file.append((path, values))
    finals = _by_file(per_file)
    histories = _step_histories(declared, project, result)
    metrics = {name: MetricSeries(last=value) for name, value in finals.items()}
    metrics.update((name, series(points)) for name, points in histories.items())
    return dict(sorted(metrics.items()))


def _metrics_file(path: str, key_path: KeyPath, pipeline: _Pipeline, project: _Project,
                  result: ReadResult) -> dict[str, float] | None:
    file = _inside(project.root, path)
    if file is None or not file.is_file():
        line, col = pipeline.definition.position(key_path) if pipeline.definition else (1, 1)
        found = f"'{path}', which is outside the project" if file is None else f"no file '{path}'"
        hint = "" if file is None else " (run `dvc repro`, or `dvc pull` if it is cached)"
        result.problem(shown(pipeline.yaml_path, project.relative_to),
                       f"metrics file: found {found}, expected the file the stage writes{hint}",
                       line=line, col=col, key_path=format_key_path(key_path))
        return None
    shown_path = shown(file, project.relative_to)
    if file.suffix not in _METRICS_SUFFIXES:
        result.problem(shown_path, f"found a {file.suffix or 'suffix-less'} metrics file, "
                                   "expected .json, .yaml or .yml")
        return None
    document = _load_metrics_document(file, shown_path, result)
    if document is None:
        return None
    if not isinstance(document.data, dict):
        result.problem(shown_path, f"found {_describe(document.data)}, expected a mapping of metric names to numbers")
        return None
    values = {}
    for name, keys, value in _flatten(document.data):
        number = _number(value)
        if number is None:
            line, col = document.position(keys)
            result.problem(shown_path, f"found {_describe(value)}, expected a number; metric skipped",
                           line=line, col=col, key_path=name)
        else:
            values[name] = number
    return values


def _load_metrics_document(file: Path, shown_path: str, result: ReadResult) -> YamlDocument | None:
    """A JSON or YAML metrics file, with positions for the problems about it."""
    text = _read_text(file, shown_path, result)
    if text is None:
        return None
    if file.suffix != ".json":
        return _parse(text, shown_path, result)
    data = _parse_json(text, shown_path, "a metrics object", result)
    if data is _INVALID:
        return None
    # JSON parses fast; positions cost a YAML pass, so they are looked up only for a bad value.
    try:
        if all(_number(value) is not None for _, _, value in _flatten(data if isinstance(data, dict) else {})):
            return YamlDocument(shown_path, data)
    except RecursionError:  # JSON nests deeper than YAML (capped) may, and _flatten recurses
        result.problem(shown_path, "found metrics nested too deeply to read, expected a mapping of metric "
                                   "names to numbers")
        return None
    located, _ = parse_yaml(text, shown_path)
    return YamlDocument(shown_path, data, located.value_positions if located else {})


def _step_histories(declared: _DeclaredFiles, project: _Project, result: ReadResult) -> dict[str, list[Point]]:
    histories: dict[str, list[Point]] = {}
    for file in sorted(set(_step_files(declared, project.root))):
        for name, points in _read_step_file(file, shown(file, project.relative_to), result).items():
            histories.setdefault(name, []).extend(points)
    return histories


def _step_files(declared: _DeclaredFiles, root: Path) -> Iterator[Path]:
    """TSV/CSV files the stage declares as plots, or DVCLive's ``plots/metrics`` under its outs."""
    candidates = [_inside(root, path) for path, _ in declared.plots]
    candidates += [_inside(root, f"{out}/plots/metrics") for out in declared.outs]
    for candidate in filter(None, candidates):
        if candidate.is_file() and candidate.suffix in _STEP_SUFFIXES:
            yield candidate
        elif candidate.is_dir():
            yield from (file for file in candidate.rglob("*")
                        if file.suffix in _STEP_SUFFIXES and file.is_file() and _inside(root, str(file)))


def _read_step_file(file: Path, shown_path: str, result: ReadResult) -> dict[str, list[Point]]:
    """Columns of a table with a ``step`` column, as metric histories; other tables give nothing."""
    text = _read_text(file, shown_path, result)
    rows = list(csv.reader(text.splitlines(), delimiter="\t" if file.suffix == ".tsv" else ",")) if text else []
    if not rows or "step" not in rows[0]:
        return {}
    header = rows[0]
    step_at = header.index("step")
    time_at = header.index("timestamp") if "timestamp" in header else None
    histories: dict[str, list[Point]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        step = _integer(row[step_at]) if step_at < len(row) else None
        if step is None:
            result.problem(shown_path, f"found {_describe(row[step_at] if step_at < len(row) else None)}, "
                                       "expected a whole number; row skipped",
                           line=line, col=_column(row, step_at), key_path="step")
            continue
        timestamp = _integer(row[time_at]) if time_at is not None and time_at < len(row) else None
        for index, column in enumerate(header):
            if index in (step_at, time_at) or index >= len(row):
                continue
            number = _number(_cell_number(row[index]))
            if number is None:
                result.problem(shown_path, f"found {_describe(row[index])}, expected a number; value skipped",
                               line=line, col=_column(row, index), key_path=column)
                continue
            histories.setdefault(column.replace("/", "."), []).append((step, number, timestamp))
    return histories


def _column(row: list[str], index: int) -> int:
    """The 1-based column where a cell starts (exact unless earlier cells were quoted)."""
    return 1 + sum(len(cell) + 1 for cell in row[:index])


def _cell_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _integer(text: str) -> int | None:
    number = _cell_number(text)
    return int(number) if number is not None and number.is_integer() else None


# --- dvc exp show --json ----------------------------------------------------------------------

@dataclass(frozen=True)
class _ExpRow:
    """One baseline commit or experiment of the export, before its id is settled."""

    key_path: KeyPath
    rev: str
    name: str | None
    baseline: str
    baseline_name: str | None
    status: str | None
    data: dict[str, Any]

    @property
    def is_baseline(self) -> bool:
        return self.rev == self.baseline


def read_dvc_exp_show(path: Path, *, relative_to: Path, project: Path | None = None) -> ReadResult:
    """Runs from ``dvc exp show --json`` output: each baseline commit and each experiment.

    ``project`` is the DVC project the export came from (default: the nearest folder
    above the export holding ``.dvc/``, else the export's folder); it sets the dataset
    namespace so that datasets match ``read_dvc_project``'s.
    """
    result = ReadResult()
    shown_path = shown(path, relative_to)
    commits = _load_exp_show(path, shown_path, result)
    if commits is None:
        return result
    namespace = _namespace(project or _dvc_repository(path.parent) or path.parent, relative_to)
    rows = list(_exp_rows(commits, shown_path, result))
    problems = _ExportProblems(shown_path, result)
    for row, run_id in zip(rows, _exp_ids(rows)):
        result.records.append(_exp_run(row, run_id, namespace, problems))
    return result


def _load_exp_show(path: Path, shown_path: str, result: ReadResult) -> list[Any] | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        result.problem(shown_path, f"cannot read the file ({exc.strerror})")
        return None
    # PowerShell's `>` writes UTF-16 with a byte-order mark.
    encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        result.problem(shown_path, f"found bytes that are not {encoding} at offset {exc.start}, expected JSON text")
        return None
    data = _parse_json(text, shown_path, "the output of `dvc exp show --json`", result)
    if data is _INVALID:
        return None
    if isinstance(data, dict):
        result.problem(shown_path, "found an object keyed by revision (DVC 2's format), "
                                   "expected DVC 3's list of commits; export again with DVC 3")
        return None
    if not isinstance(data, list):
        result.problem(shown_path, f"found {_describe(data)}, expected the list of commits of `dvc exp show --json`")
        return None
    return data


def _exp_rows(commits: list[Any], shown_path: str, result: ReadResult) -> Iterator[_ExpRow]:
    for index, commit in enumerate(commits):
        if isinstance(commit, dict) and commit.get("rev") == "workspace":
            continue  # uncommitted: no stable id
        if not _exp_state_ok(commit, (index,), shown_path, result):
            continue
        baseline, baseline_name = commit["rev"], commit.get("name")
        yield _ExpRow((index,), baseline, baseline_name, baseline, baseline_name, None, commit["data"])
        for range_index, exp_range in enumerate(commit.get("experiments") or ()):
            executor = _mapping(_mapping(exp_range).get("executor"))
            # Without an executor the experiment is a finished, committed one.
            status = _EXP_STATUS.get(executor.get("state"), "FINISHED") if executor else "FINISHED"
            for rev_index, state in enumerate(_mapping(exp_range).get("revs") or ()):
                key_path = (index, "experiments", range_index, "revs", rev_index)
                if _exp_state_ok(state, key_path, shown_path, result):
                    name = state.get("name") or _mapping(exp_range).get("name")
                    yield _ExpRow(key_path, state["rev"], name, baseline, baseline_name, status, state["data"])


def _exp_state_ok(state: Any, key_path: KeyPath, shown_path: str, result: ReadResult) -> bool:
    where = format_key_path(key_path)
    if not isinstance(state, dict) or not isinstance(state.get("rev"), str):
        result.problem(shown_path, f"found {_describe(state)}, expected a revision with rev and data; skipped",
                       key_path=where)
        return False
    if state.get("error"):
        message = _mapping(state["error"]).get("msg", state["error"])
        result.problem(shown_path, f"DVC could not collect revision {state['rev']}: {message}; skipped",
                       key_path=where)
        return False
    if not isinstance(state.get("data"), dict):
        result.problem(shown_path, f"found {_describe(state.get('data'))}, expected the revision's data; skipped",
                       key_path=format_key_path(key_path + ("data",)))
        return False
    return True


def _exp_ids(rows: list[_ExpRow]) -> list[str]:
    counts = Counter(row.name for row in rows if not row.is_baseline and row.name)
    shared = {name for name, count in counts.items() if count > 1}

    def run_id(row: _ExpRow) -> str:
        if row.is_baseline or not row.name:
            return row.rev
        return f"{row.name}~{row.rev[:7]}" if row.name in shared else row.name

    return [run_id(row) for row in rows]


def _exp_run(row: _ExpRow, run_id: str, namespace: str, problems: _ExportProblems) -> RunRecord:
    data = row.data
    outs = _mapping(data.get("outs"))
    produced = {path for path, out in outs.items() if not _mapping(out).get("is_data_source")}
    # A whole-pipeline run reads what no stage of it produced: sources and `dvc add`-ed data.
    sources = {path: dep for path, dep in _mapping(data.get("deps")).items() if path not in produced}
    sources.update({path: out for path, out in outs.items() if path not in produced})
    tags = {} if row.is_baseline else {EXP_REV_TAG: row.rev}
    if row.baseline_name:
        tags[BASELINE_NAME_TAG] = row.baseline_name
    return RunRecord(
        source="dvc",
        id=run_id,
        experiment=row.baseline,
        name=row.name or row.rev[:7],
        status=row.status,
        end_time=_utc(data.get("timestamp")),
        params=_exp_params(row, problems),
        metrics=_exp_metrics(row, problems),
        tags=tags,
        inputs=tuple(_exp_dataset(path, sources[path], namespace) for path in sorted(sources)),
        outputs=tuple(
            Output(kind="dataset", name=_posix(path), namespace=namespace, digest=_mapping(outs[path]).get("hash"))
            for path in sorted(produced)
        ),
        code=CodeRef(commit=row.baseline),
        origin=Origin(problems.shown_path),
    )


@dataclass
class _ExportProblems:
    """Problems about one export, each said once: every row repeats the same files."""

    shown_path: str
    result: ReadResult
    said: set[tuple[str, ...]] = field(default_factory=set)

    def once(self, subject: tuple[str, ...], message: str, key_path: str) -> None:
        if subject not in self.said:
            self.said.add(subject)
            self.result.problem(self.shown_path, message, key_path=key_path)


def _exp_files(kind: str, row: _ExpRow, problems: _ExportProblems) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(file, key path, content) of each params or metrics file of a row; files DVC could not read are reported."""
    for file, entry in _mapping(row.data.get(kind)).items():
        where = format_key_path(row.key_path + ("data", kind, file))
        error = _mapping(entry).get("error")
        if error:
            problems.once(("error", file), f"DVC could not read {file}: {_mapping(error).get('msg', error)}", where)
        yield _posix(file), where, _mapping(_mapping(entry).get("data"))


def _exp_params(row: _ExpRow, problems: _ExportProblems) -> dict[str, str]:
    return _by_file(
        (file, {name: _param_text(value) for name, _, value in _flatten(content)})
        for file, _, content in _exp_files("params", row, problems)
    )


def _exp_metrics(row: _ExpRow, problems: _ExportProblems) -> dict[str, MetricSeries]:
    per_file = []
    for file, where, content in _exp_files("metrics", row, problems):
        values = {}
        for name, _, value in _flatten(content):
            number = _number(value)
            if number is None:
                problems.once(("metric", file, name), f"found {_describe(value)}, expected a number; metric skipped",
                              f"{where}.data.{name}")
            else:
                values[name] = number
        per_file.append((file, values))
    return {name: MetricSeries(last=value) for name, value in sorted(_by_file(per_file).items())}


def _exp_dataset(path: str, entry: Any, namespace: str) -> DatasetRef:
    entry = _mapping(entry)
    size = entry.get("size") if isinstance(entry.get("size"), int) else None
    return DatasetRef(name=_posix(path), namespace=namespace, digest=entry.get("hash"), size=size)


def _utc(timestamp: Any) -> str | None:
    """DVC's naive local commit time, read as UTC (see the module docstring)."""
    if not isinstance(timestamp, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- shared helpers ---------------------------------------------------------------------------

def _load_yaml(path: Path, relative_to: Path, result: ReadResult) -> YamlDocument | None:
    shown_path = shown(path, relative_to)
    text = _read_text(path, shown_path, result)
    return _parse(text, shown_path, result) if text is not None else None


def _parse(text: str, shown_path: str, result: ReadResult) -> YamlDocument | None:
    document, problems = parse_yaml(text, shown_path)
    for problem in problems:  # a reader only warns: the build goes on without this file's runs
        result.problem(problem.path, problem.message, line=problem.line, col=problem.col, key_path=problem.key_path)
    return document


def _read_text(path: Path, shown_path: str, result: ReadResult) -> str | None:
    try:
        return decode_utf8(path.read_bytes())
    except OSError as exc:
        result.problem(shown_path, f"cannot read the file ({exc.strerror})")
    except NotUtf8 as exc:
        result.problem(shown_path, exc.message, line=exc.line, col=exc.col)
    return None


_INVALID = object()  # what _parse_json returns for text that is not JSON (None is JSON's null)


def _parse_json(text: str, shown_path: str, expected: str, result: ReadResult) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # An interrupted export or copy ends early; say so rather than name the token that is missing.
        found = ("the end of the file inside the JSON (a truncated file?)" if exc.pos >= len(text.rstrip())
                 else f"invalid JSON ({exc.msg})")
        result.problem(shown_path, f"found {found}, expected {expected}", line=exc.lineno, col=exc.colno)
        return _INVALID
    except (RecursionError, ValueError) as exc:  # ValueError: a number too long for Python to hold
        found = "values nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        result.problem(shown_path, f"found JSON that cannot be read ({found}), expected {expected}")
        return _INVALID


def _flatten(data: dict[str, Any], prefix: KeyPath = ()) -> Iterator[tuple[str, KeyPath, Any]]:
    """(dotted name, key path, value) for each non-mapping value of nested mappings."""
    for key, value in data.items():
        key_path = prefix + (str(key),)
        if isinstance(value, dict) and value:
            yield from _flatten(value, key_path)
        else:
            yield ".".join(key_path), key_path, value


def _by_file(per_file: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Merge files' values; a key two files share becomes ``file:key`` in each, so neither hides the other."""
    per_file = list(per_file)
    counts: dict[str, int] = {}
    for _, values in per_file:
        for key in values:
            counts[key] = counts.get(key, 0) + 1
    return {
        (f"{file}:{key}" if counts[key] > 1 else key): value
        for file, values in per_file for key, value in values.items()
    }


def _param_text(value: Any) -> str:
    """A param value as text, written the way JSON would write it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _describe(value: Any) -> str:
    """A found value as messages show it: quoted scalars, the kind of anything bigger."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return repr(value)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _resolve(folder: str, wdir: str, path: str) -> str:
    """A dvc.yaml/dvc.lock path as a POSIX path relative to the project root; URLs stay as they are."""
    if "://" in path or posixpath.isabs(_posix(path)):
        return path
    return posixpath.normpath(posixpath.join(folder, wdir, _posix(path)))


def _inside(root: Path, path: str) -> Path | None:
    """The file a project path names, or None when it (or a link on the way) leads outside the project."""
    if "://" in path:
        return None
    file = (root / path).resolve()
    return file if file.is_relative_to(root.resolve()) else None


def _posix(path: str) -> str:
    return path.replace("\\", "/")


def _project_relative(folder: Path, root: Path) -> str:
    relative = folder.relative_to(root).as_posix()
    return "" if relative == "." else relative


def _namespace(project: Path, relative_to: Path) -> str:
    where = shown(project, relative_to)
    return "dvc" if where in ("", ".") else f"dvc:{where}"


def _dvc_repository(start: Path) -> Path | None:
    """The DVC repository holding ``start``: the paths in ``dvc exp show`` are relative to it."""
    return next((folder for folder in (start, *start.resolve().parents) if (folder / ".dvc").is_dir()), None)


def _git_head(start: Path) -> str | None:
    """The commit HEAD points at in the git repository holding ``start``, as git itself resolves it (worktrees,
    packed refs); None outside git, on a branch with no commit yet, or when git is not installed."""
    try:
        done = Git(start).run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
    except GitError:
        return None
    sha = done.stdout.decode().strip()
    return sha if done.returncode == 0 and _SHA.match(sha) else None


_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?\Z")
