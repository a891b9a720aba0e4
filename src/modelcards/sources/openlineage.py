"""OpenLineage RunEvents -> one run record per ``runId``.

Reads what the Python client's ``FileTransport`` writes, in each of its layouts:

- ``append: true``: every event appended to ``log_file_path``, one JSON object a line (JSON Lines);
- ``append: false``: one file per event, ``<log_file_path>-<YYYYmmdd-HHMMSS.ffffff>.json``;
- ``debug_mode: true``: the same, but each event indented over many lines (and, without ``append``,
  named ``<log_file_path>-<yymmddTHHMMSS.ffffff>-<job>-<eventType>.json``).

A file is a sequence of JSON values: each one starts on a line whose first character is not blank, ``}``
or ``]``, which covers every layout above. A run's events may lie in several files; they are merged in
``eventTime`` order, later facets winning, because an integration may send each fact only once.

A record's status is the eventType of its last COMPLETE, FAIL or ABORT event (else of its last event), its
start the time of its first START (else of its first event), its end that of its last terminal event,
all in UTC to the second. OpenLineage has no params or metrics. What is kept:

- tags: the ``tags`` run and job facets (key -> value), ``openlineage.parent.{namespace,job,run}``
  from the ``parent`` facet, ``openlineage.nominal_{start,end}_time`` from ``nominalTime``, and
  ``openlineage.error_message`` from ``errorMessage``;
- environment: ``processing_engine``, ``processing_engine_version``, ``openlineage_adapter_version``;
- code: the ``sourceCodeLocation`` job facet (``repoUrl`` or ``url``, ``version`` as the commit, ``path``);
- datasets: namespace, name, the ``version`` facet's ``datasetVersion``, the ``schema`` facet's top-level
  fields, a storage URI where the namespace is a file system or object store, and an input's size in
  bytes from ``inputStatistics`` or ``dataQualityMetrics``.

Other facets (``sql``, ``sourceCode``, ``environmentVariables``, custom ones) are left out, and a malformed
optional facet is ignored rather than reported: producers differ, and a run is still useful without it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..text import NotUtf8, decode_utf8
from .reading import ReadResult, shown
from .record import CodeRef, DatasetRef, Origin, Output, RunRecord, SchemaField

EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
TERMINAL_EVENT_TYPES = ("COMPLETE", "ABORT", "FAIL")
# Static lineage (no run) that the same transport may write next to RunEvents; not run metadata.
STATIC_EVENT_SCHEMAS = ("#/$defs/JobEvent", "#/$defs/DatasetEvent")
# Namespaces whose dataset names are paths, so namespace + name is a URI (OpenLineage naming spec).
STORAGE_SCHEMES = ("s3", "s3a", "s3n", "gs", "gcs", "hdfs", "abfs", "abfss", "wasb", "wasbs", "file")

DatasetKey = tuple[str, str]  # (namespace, name): a dataset's identity in OpenLineage


@dataclass(frozen=True)
class _Event:
    """One valid RunEvent and where it was read."""

    data: dict[str, Any]
    run_id: str
    time: dt.datetime
    origin: Origin


def read_openlineage(files: list[Path], *, relative_to: Path) -> ReadResult:
    """One record per ``run.runId`` across ``files``; bad events are reported and skipped.

    Files are read in the given order, which breaks ties between events with the same ``eventTime``.
    """
    result = ReadResult()
    runs: dict[str, list[_Event]] = {}
    for file in files:
        for event in _read_events(file, shown(file, relative_to), result):
            runs.setdefault(event.run_id, []).append(event)
    for run_id, events in runs.items():
        result.records.append(_record(run_id, sorted(events, key=lambda e: e.time)))  # stable: file order
    return result


# --- reading events ----------------------------------------------------------------

def _read_events(file: Path, path: str, result: ReadResult) -> list[_Event]:
    try:
        text = decode_utf8(file.read_bytes())
    except OSError as exc:
        result.problem(path, f"cannot be read: {exc.strerror or exc}")
        return []
    except NotUtf8 as exc:
        result.problem(path, exc.message, line=exc.line, col=exc.col)
        return []
    events = []
    for index, (line, chunk) in enumerate(_json_chunks(text)):
        key = f"event {index}"
        try:
            data = json.loads(chunk)
        except json.JSONDecodeError as exc:
            result.problem(path, f"found invalid JSON ({exc.msg}), expected one JSON object per OpenLineage event",
                           line=line + exc.lineno - 1, col=exc.colno, key_path=key)
            continue
        except RecursionError:
            result.problem(path, "found JSON nested too deeply, expected an OpenLineage event", line=line, key_path=key)
            continue
        except ValueError as exc:  # JSON that json reads but Python cannot hold, e.g. a 5,000-digit number
            result.problem(path, f"found JSON that cannot be read ({exc}), expected an OpenLineage event",
                           line=line, key_path=key)
            continue
        event = _checked_event(data, key, Origin(path, line), result)
        if event is not None:
            events.append(event)
    return events


def _json_chunks(text: str) -> list[tuple[int, str]]:
    """The file cut into top-level JSON values, each with its first line number.

    A value starts on a line that begins with anything but blank, ``}`` or ``]``: one a line in JSON
    Lines, one an indented block in the transport's debug layout. Cutting by lines rather than parsing
    the whole text keeps a truncated line from swallowing the event after it.
    """
    chunks: list[tuple[int, list[str]]] = []
    # split("\n"), not splitlines(): JSON strings may hold raw U+2028 and other breaks splitlines() cuts at.
    for number, line in enumerate(text.split("\n"), start=1):
        starts_value = line[:1] not in ("", " ", "\t", "\r", "}", "]")
        if starts_value or not chunks:
            if not line.strip():
                continue
            chunks.append((number, []))
        chunks[-1][1].append(line)
    return [(number, "\n".join(lines)) for number, lines in chunks]


def _checked_event(data: Any, key: str, origin: Origin, result: ReadResult) -> _Event | None:
    """The event if it is a usable RunEvent; otherwise each problem reported, and None."""
    if isinstance(data, dict) and str(data.get("schemaURL", "")).endswith(STATIC_EVENT_SCHEMAS):
        return None
    problems = _event_problems(data)
    for sub_key, message in problems:
        result.problem(origin.path, message, line=origin.line, key_path=f"{key}{sub_key}")
    if problems:
        return None
    return _Event(data, data["run"]["runId"], _parse_time(data["eventTime"]), origin)


def _event_problems(data: Any) -> list[tuple[str, str]]:
    """(key path below the event, message) for each thing that makes the event unusable."""
    if not isinstance(data, dict):
        return [("", f"found {_found(data)}, expected an OpenLineage RunEvent object")]
    problems = _run_id_problems(data)
    event_type = data.get("eventType")
    if event_type is not None and event_type not in EVENT_TYPES:
        problems.append((".eventType", f"found {_found(event_type)}, expected one of: {', '.join(EVENT_TYPES)}"))
    if "eventTime" not in data:
        problems.append(("", "missing required key 'eventTime', expected an ISO 8601 date and time"))
    elif not isinstance(data["eventTime"], str) or _parse_time(data["eventTime"]) is None:
        problems.append((".eventTime", f"found {_found(data['eventTime'])}, expected an ISO 8601 date and time "
                                       "such as 2026-01-31T12:00:00.000Z"))
    for side in ("inputs", "outputs"):
        problems += _dataset_problems(data.get(side), side)
    return problems


def _run_id_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The runId groups a run's events, so an event without one cannot be placed."""
    run = data.get("run")
    if "run" not in data:
        return [("", "missing required key 'run', expected the run with its runId")]
    if not isinstance(run, dict):
        return [(".run", f"found {_found(run)}, expected an object with the run's runId")]
    if "runId" not in run:
        return [(".run", "missing required key 'runId', expected the run's id (a UUID)")]
    if not isinstance(run["runId"], str) or not run["runId"]:
        return [(".run.runId", f"found {_found(run['runId'])}, expected the run's id (a UUID)")]
    return []


def _dataset_problems(datasets: Any, side: str) -> list[tuple[str, str]]:
    if datasets is None:
        return []
    if not isinstance(datasets, list):
        return [(f".{side}", f"found {_found(datasets)}, expected a list of datasets")]
    problems = []
    for index, dataset in enumerate(datasets):
        key = f".{side}[{index}]"
        if not isinstance(dataset, dict):
            problems.append((key, f"found {_found(dataset)}, expected a dataset object with namespace and name"))
            continue
        for part in ("namespace", "name"):
            if part not in dataset:
                problems.append((key, f"missing required key '{part}', expected the dataset's namespace and name"))
            elif not isinstance(dataset[part], str) or not dataset[part]:
                problems.append((f"{key}.{part}", f"found {_found(dataset[part])}, expected a non-empty string"))
    return problems


def _found(value: Any) -> str:
    if isinstance(value, (dict, list)) or value is None:
        return {dict: "an object", list: "a list"}.get(type(value), "null")
    kind = {str: "string", bool: "boolean", int: "number", float: "number"}.get(type(value), type(value).__name__)
    text = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "...'"
    return f"{kind} {text}"


def _parse_time(text: str) -> dt.datetime | None:
    """An aware UTC datetime; a time without an offset is taken as UTC, as OpenLineage producers mean it."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- merging a run's events into one record ------------------------------------------

def _record(run_id: str, events: list[_Event]) -> RunRecord:
    """The run's final state: ``events`` in time order, later facets and datasets merged over earlier."""
    job: dict[str, Any] = {}
    run_facets: dict[str, Any] = {}
    job_facets: dict[str, Any] = {}
    inputs: dict[DatasetKey, dict[str, Any]] = {}
    outputs: dict[DatasetKey, dict[str, Any]] = {}
    for event in events:
        event_job = _mapping(event.data.get("job"))
        job.update({k: v for k, v in event_job.items() if k in ("namespace", "name") and isinstance(v, str)})
        run_facets.update(_mapping(event.data["run"].get("facets")))
        job_facets.update(_mapping(event_job.get("facets")))
        _merge_datasets(inputs, event.data.get("inputs"))
        _merge_datasets(outputs, event.data.get("outputs"))
    return RunRecord(
        source="openlineage",
        id=run_id,
        experiment=job.get("namespace"),
        name=job.get("name"),
        status=_status(events),
        start_time=_start_time(events),
        end_time=_end_time(events),
        tags=_tags(run_facets, job_facets),
        inputs=tuple(_input(dataset) for dataset in inputs.values()),
        outputs=tuple(_output(dataset) for dataset in outputs.values()),
        code=_code(_mapping(job_facets.get("sourceCodeLocation"))),
        environment=_environment(_mapping(run_facets.get("processing_engine"))),
        origin=events[0].origin,
    )


def _merge_datasets(merged: dict[DatasetKey, dict[str, Any]], datasets: list[dict[str, Any]] | None) -> None:
    """Add ``datasets`` to ``merged``, first-seen order kept; a later event's facets win, facet by facet."""
    for dataset in datasets or ():
        known = merged.setdefault((dataset["namespace"], dataset["name"]), {
            "namespace": dataset["namespace"], "name": dataset["name"], "facets": {}, "extra_facets": {}})
        known["facets"].update(_mapping(dataset.get("facets")))
        # Input- and output-only facets (statistics, data quality) sit under their own key.
        known["extra_facets"].update(_mapping(dataset.get("inputFacets")) | _mapping(dataset.get("outputFacets")))


def _status(events: list[_Event]) -> str | None:
    """The last terminal state: an OTHER event sent after COMPLETE does not reopen the run."""
    types = [e.data["eventType"] for e in events if e.data.get("eventType") is not None]
    terminal = [t for t in types if t in TERMINAL_EVENT_TYPES]
    return (terminal or types or [None])[-1]


def _start_time(events: list[_Event]) -> str:
    starts = [e.time for e in events if e.data.get("eventType") == "START"]
    return _iso(starts[0] if starts else events[0].time)


def _end_time(events: list[_Event]) -> str | None:
    ends = [e.time for e in events if e.data.get("eventType") in TERMINAL_EVENT_TYPES]
    return _iso(ends[-1]) if ends else None


def _tags(run_facets: dict[str, Any], job_facets: dict[str, Any]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for facet in (job_facets.get("tags"), run_facets.get("tags")):  # the run's own tags win
        for tag in _list(_mapping(facet).get("tags")):
            key, value = _text(_mapping(tag).get("key")), _text(_mapping(tag).get("value"))
            if key and value is not None:
                tags[key] = value
    parent = _mapping(run_facets.get("parent"))
    parent_job, parent_run = _mapping(parent.get("job")), _mapping(parent.get("run"))
    nominal = _mapping(run_facets.get("nominalTime"))
    derived = {
        "openlineage.parent.namespace": _text(parent_job.get("namespace")),
        "openlineage.parent.job": _text(parent_job.get("name")),
        "openlineage.parent.run": _text(parent_run.get("runId")),
        "openlineage.nominal_start_time": _time_text(nominal.get("nominalStartTime")),
        "openlineage.nominal_end_time": _time_text(nominal.get("nominalEndTime")),
        "openlineage.error_message": _text(_mapping(run_facets.get("errorMessage")).get("message")),
    }
    return tags | {key: value for key, value in derived.items() if value is not None}


def _environment(engine: dict[str, Any]) -> dict[str, str]:
    found = {
        "processing_engine": _text(engine.get("name")),
        "processing_engine_version": _text(engine.get("version")),
        "openlineage_adapter_version": _text(engine.get("openlineageAdapterVersion")),
    }
    return {key: value for key, value in found.items() if value is not None}


def _code(location: dict[str, Any]) -> CodeRef | None:
    code = CodeRef(repo=_text(location.get("repoUrl")) or _text(location.get("url")),
                   commit=_text(location.get("version")), entry_point=_text(location.get("path")))
    return code if code != CodeRef() else None


def _input(dataset: dict[str, Any]) -> DatasetRef:
    extra = dataset["extra_facets"]
    size = _mapping(extra.get("inputStatistics")).get("size", _mapping(extra.get("dataQualityMetrics")).get("bytes"))
    return DatasetRef(
        name=dataset["name"], namespace=dataset["namespace"], version=_version(dataset),
        source=_storage_uri(dataset["namespace"], dataset["name"]), schema=_schema(dataset),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )


def _output(dataset: dict[str, Any]) -> Output:
    return Output(
        kind="dataset", name=dataset["name"], namespace=dataset["namespace"], version=_version(dataset),
        uri=_storage_uri(dataset["namespace"], dataset["name"]), schema=_schema(dataset),
    )


def _version(dataset: dict[str, Any]) -> str | None:
    return _text(_mapping(dataset["facets"].get("version")).get("datasetVersion"))


def _schema(dataset: dict[str, Any]) -> tuple[SchemaField, ...]:
    """The top-level fields; nested struct fields are not shown on a card."""
    fields = _list(_mapping(dataset["facets"].get("schema")).get("fields"))
    return tuple(SchemaField(f["name"], _text(f.get("type")))
                 for f in fields if isinstance(f, dict) and isinstance(f.get("name"), str))


def _storage_uri(namespace: str, name: str) -> str | None:
    """Where a dataset lives, when its namespace is a file system or object store.

    For those the name is a path (``s3://bucket`` + ``data/x.parquet``), so the URI is a useful link to
    the same data in MLflow or DVC; for databases (``postgres://host:5432`` + ``db.schema.table``) it is not.
    """
    if namespace == "file":
        return name
    scheme, separator, _ = namespace.partition("://")
    if not separator or scheme not in STORAGE_SCHEMES:
        return None
    return f"{namespace.rstrip('/')}/{name.lstrip('/')}"


def _time_text(value: Any) -> str | None:
    moment = _parse_time(value) if isinstance(value, str) else None
    return _iso(moment) if moment else _text(value)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    """A facet value as text; numbers are accepted since producers write versions both ways."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None
