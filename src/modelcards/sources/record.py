"""One run record, whatever tracker it came from.

Every reader (MLflow, DVC, OpenLineage) turns its tracker's format into
``RunRecord``; everything after the readers sees only this type. ``to_json`` and
``from_json`` are the export format that ``modelcards pull`` writes and the build
reads, documented under "The export format" in ``docs/reference/runs.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

EXPORT_FORMAT = "modelcards-run/1"
SOURCES = ("mlflow", "dvc", "openlineage")

# One logged value of a metric: (step, value, timestamp in ms since the epoch or None).
# Plain tuples, not objects: an export can hold millions of points.
Point = tuple[int, float, int | None]


class LazyHistory:
    """A metric history read from an export, kept as its JSON text until something reads a point.

    Most readers of a run need only a metric's last value (card versions, the catalog, trial tables);
    the points are parsed when a run page charts them. ``text`` is a JSON array already checked to be
    valid JSON by the parser that cut it out, and ``decode`` is that parser. With ``end``, the array is
    ``text[start:end]``: the metrics of an export share its bytes instead of a copy each (run_cache).

    Only msgspec (the ``fast`` extra) cuts histories out unparsed, so the class of the histories it makes,
    ``lazy_history_type()``, is a msgspec Struct made when msgspec is imported, with these methods. Its
    instances are not tracked by the cyclic garbage collector (they hold bytes, a function and, once read,
    the points, never a record): an autologged run's six histories were six of the twenty objects per run
    that it walked once the runs were read, and again at every full collection of the build.
    """

    __slots__ = ()  # the fields are the subclass's: _text, _decode, _start, _end and _points

    @property
    def points(self) -> list:
        if self._points is None:
            text = self._text if self._end is None else memoryview(self._text)[self._start:self._end]
            self._points = self._decode(text)
            self._text = b""  # parsed once: keep only the points
        return self._points

    @property
    def unparsed(self) -> bytes | None:
        """The JSON text of the points, until something reads them (then None)."""
        if self._points is not None:
            return None
        return self._text if self._end is None else self._text[self._start:self._end]

    def __getitem__(self, index):
        return self.points[index]

    def __len__(self) -> int:
        return len(self.points)

    def __iter__(self) -> Iterator:
        return iter(self.points)

    # The rest of a Sequence, as collections.abc gives it to its subclasses.
    __contains__, __reversed__, index, count = (Sequence.__contains__, Sequence.__reversed__, Sequence.index,
                                                Sequence.count)

    def __eq__(self, other: object) -> bool:
        return self.points == (other.points if isinstance(other, LazyHistory) else other)

    __hash__ = None  # type: ignore[assignment]  # as unhashable as the list it stands for

    def __repr__(self) -> str:
        return repr(self.points)

    def __reduce__(self):
        return list, (self.points,)


Sequence.register(LazyHistory)


@lru_cache(maxsize=None)
def lazy_history_type() -> type[LazyHistory]:
    """The class of unparsed histories: ``history(text, decode)`` or ``history(text, decode, start, end)``.
    Needs msgspec (callers have it: they cut the text out with it)."""
    import msgspec

    class UnparsedHistory(LazyHistory, msgspec.Struct, gc=False):  # no cycle can pass through it
        _text: bytes
        _decode: Callable[[bytes], Any]
        _start: int = 0
        _end: int | None = None
        _points: list | None = None

    return UnparsedHistory


@dataclass(frozen=True, slots=True)
class MetricSeries:
    last: float  # the value at the highest step; the latest logged one among equal steps
    # Sorted by step, then timestamp; a list, or a LazyHistory, when read from an export.
    history: Sequence[Point] = ()

    @property
    def stepped(self) -> bool:
        """Worth a plot: logged at more than one step."""
        try:
            return len({point[0] for point in self.history}) > 1
        except (TypeError, IndexError, KeyError):  # a malformed point in a hand-edited export
            return False


@dataclass(frozen=True, slots=True)
class SchemaField:
    name: str
    type: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """A dataset a run read or wrote."""

    name: str
    namespace: str | None = None  # OpenLineage namespace, MLflow source type, DVC project
    digest: str | None = None  # md5 (DVC), MLflow's dataset digest, or a version facet's hash
    version: str | None = None
    source: str | None = None  # where it lives: a URI or a path
    schema: tuple[SchemaField, ...] = ()
    context: str | None = None  # e.g. "training", "evaluation" (MLflow's mlflow.data.context tag)
    size: int | None = None  # bytes, when the tracker records it


@dataclass(frozen=True, slots=True)
class Output:
    """Something a run produced: a model, an artifact or a dataset."""

    kind: str  # "model", "artifact" or "dataset"
    name: str
    namespace: str | None = None  # as on DatasetRef, for outputs that are datasets
    uri: str | None = None
    digest: str | None = None
    version: str | None = None  # registered model version
    registered_name: str | None = None
    aliases: tuple[str, ...] = ()
    schema: tuple[SchemaField, ...] = ()


@dataclass(frozen=True, slots=True)
class CodeRef:
    repo: str | None = None
    commit: str | None = None
    entry_point: str | None = None


@dataclass(frozen=True, slots=True)
class Package:
    """A package the run's model needs, as its environment files (requirements.txt, conda.yaml) name it."""

    name: str  # as written: "scikit-learn"
    spec: str = ""  # the version specifier as written: "==1.9.1", ">=1.26,<2", "=1.26" (conda), "" for any
    manager: str = "pip"  # "pip" or "conda"

    @property
    def version(self) -> str:
        """What a page shows: the version of an exact pin (``==1.9.1`` gives ``1.9.1``), else the specifier."""
        exact = self.spec.removeprefix("==")
        return exact if exact != self.spec and not any(c in exact for c in ",*<>=!~") else self.spec


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the record was read from, so problems about it can point there."""

    path: str
    line: int = 1


@dataclass(frozen=True, slots=True)
class RunRecord:
    source: str  # one of SOURCES
    id: str  # the tracker's own id: MLflow run id, DVC stage or experiment, OpenLineage runId
    experiment: str | None = None  # MLflow experiment, DVC pipeline file, OpenLineage job namespace
    name: str | None = None
    status: str | None = None  # upper case: FINISHED, FAILED, RUNNING, KILLED, COMPLETE, ...
    start_time: str | None = None  # ISO 8601, UTC, "2026-01-31T12:00:00Z"
    end_time: str | None = None
    user: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, MetricSeries] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    inputs: tuple[DatasetRef, ...] = ()
    outputs: tuple[Output, ...] = ()
    code: CodeRef | None = None
    # Keys: source_type, python_version, platform, image, image_digest, mlflow_version (sources/environment.py).
    environment: dict[str, str] = field(default_factory=dict)
    packages: tuple[Package, ...] = ()  # what the run's logged models need, sorted by name
    origin: Origin | None = field(default=None, compare=False)
    # Read from files that the next commit can change (a DVC stage in today's dvc.lock), so a card that
    # names it follows it. Not exported: an export is a snapshot, fixed once written.
    floating: bool = False

    @property
    def ref(self) -> str:
        """How a card names this run: ``mlflow:<run id>``, ``dvc:<stage>``, ``openlineage:<runId>``."""
        return f"{self.source}:{self.id}"


# --- helpers for readers ---------------------------------------------------------

def iso_from_millis(millis: int | float | None) -> str | None:
    """MLflow's epoch milliseconds as an ISO 8601 UTC string (second precision)."""
    if millis is None:
        return None
    moment = dt.datetime.fromtimestamp(int(millis) // 1000, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_day(timestamp: str | None) -> dt.date | None:
    """The UTC day of a record's ISO 8601 time (``2026-01-31T12:00:00Z``); None when there is none or it is not one."""
    if not timestamp:
        return None
    try:
        moment = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment.astimezone(dt.timezone.utc) if moment.tzinfo else moment).date()


def series(points: list[Point] | tuple[Point, ...]) -> MetricSeries:
    """A metric from its logged points, in any order."""
    ordered = tuple(sorted(points, key=lambda p: (p[0], p[2] if p[2] is not None else -1)))
    return MetricSeries(last=ordered[-1][1], history=ordered)


# --- the export format --------------------------------------------------------------

def to_json(record: RunRecord) -> dict[str, Any]:
    """The record as the documented export object (no ``origin``; empty fields left out)."""
    data: dict[str, Any] = {"format": EXPORT_FORMAT, "source": record.source, "id": record.id}
    for key in ("experiment", "name", "status", "start_time", "end_time", "user"):
        if getattr(record, key) is not None:
            data[key] = getattr(record, key)
    if record.params:
        data["params"] = dict(record.params)
    if record.metrics:
        data["metrics"] = {
            key: {"last": _number(m.last), "history": [[s, _number(v), t] for s, v, t in m.history]}
            for key, m in record.metrics.items()
        }
    if record.tags:
        data["tags"] = dict(record.tags)
    if record.inputs:
        data["inputs"] = [_compact(_dataset_json(ref)) for ref in record.inputs]
    if record.outputs:
        data["outputs"] = [_compact({
            "kind": out.kind, "name": out.name, "namespace": out.namespace, "uri": out.uri, "digest": out.digest,
            "version": out.version, "registered_name": out.registered_name, "aliases": list(out.aliases),
            "schema": [_compact({"name": f.name, "type": f.type}) for f in out.schema],
        }) for out in record.outputs]
    if record.code is not None:
        data["code"] = _compact({"repo": record.code.repo, "commit": record.code.commit,
                                 "entry_point": record.code.entry_point})
    if record.environment:
        data["environment"] = dict(record.environment)
    if record.packages:
        data["packages"] = [_compact({"name": p.name, "spec": p.spec or None, "manager": p.manager})
                            for p in record.packages]
    return data


_SCALAR_ARRAY = re.compile(r"\[\n(?:[ ]*[^\[\]{}\n]*\n)+?[ ]*\]")


def dumps(record: RunRecord) -> str:
    """Deterministic text of one export file: sorted keys, one trailing newline.

    Indented for readable diffs, with arrays of scalars (metric points) on one line each.
    """
    text = json.dumps(to_json(record), sort_keys=True, indent=1, ensure_ascii=False)
    return _SCALAR_ARRAY.sub(_one_line, text) + "\n"


def _one_line(match: re.Match) -> str:
    items = (line.strip().rstrip(",") for line in match.group(0)[1:-1].split("\n"))
    return "[" + ", ".join(item for item in items if item) + "]"


def export_file_name(record: RunRecord) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in record.id)
    return f"{record.source}-{safe}.json"


class BadExport(ValueError):
    """A value of an export object that cannot be read, at the key path ``where``."""

    def __init__(self, where: tuple[str | int, ...], message: str):
        super().__init__(message)
        self.where = where


def from_json(data: dict[str, Any], origin: Origin | None = None) -> RunRecord:
    """Inverse of ``to_json``. Raises ``BadExport``, ``KeyError`` or ``TypeError`` on a malformed object."""
    if data.get("format") != EXPORT_FORMAT:
        raise BadExport(("format",), f"found format {data.get('format')!r}, expected {EXPORT_FORMAT!r}")
    if data.get("source") not in SOURCES:
        # The source names the folder of the run's page: anything else could lead out of the site.
        raise BadExport(("source",), f"found source {data.get('source')!r}, expected one of: {', '.join(SOURCES)}")
    metrics = {key: _metric(m, ("metrics", key)) for key, m in (data.get("metrics") or {}).items()}
    code = data.get("code")
    return RunRecord(
        source=data["source"],
        id=str(data["id"]),
        experiment=data.get("experiment"),
        name=data.get("name"),
        status=data.get("status"),
        start_time=data.get("start_time"),
        end_time=data.get("end_time"),
        user=data.get("user"),
        params=_texts(data.get("params")),
        metrics=metrics,
        tags=_texts(data.get("tags")),
        inputs=tuple(_dataset_from(d) for d in data.get("inputs") or ()),
        outputs=tuple(Output(
            kind=o["kind"], name=o["name"], namespace=o.get("namespace"), uri=o.get("uri"), digest=o.get("digest"),
            version=o.get("version"), registered_name=o.get("registered_name"), aliases=tuple(o.get("aliases") or ()),
            schema=tuple(SchemaField(f["name"], f.get("type")) for f in o.get("schema") or ()),
        ) for o in data.get("outputs") or ()),
        code=CodeRef(code.get("repo"), code.get("commit"), code.get("entry_point")) if code else None,
        environment=_texts(data.get("environment")),
        packages=tuple(Package(str(p["name"]), str(p.get("spec") or ""), str(p.get("manager") or "pip"))
                       for p in data.get("packages") or ()),
        origin=origin,
    )


def parse_export(data: bytes, origin: Origin | None = None) -> RunRecord | None:
    """The record of an export file, decoded by msgspec (the ``fast`` extra) straight into its types, with
    each metric history left unparsed (a ``LazyHistory``): most of an export's bytes, and rarely needed.

    None when msgspec is missing, or when anything in the text is not exactly as an export writes it
    (broken JSON, a value of another type, a metric without "last", an unknown format or source, a
    byte-order mark, text that is not UTF-8, values nested too deeply): the caller then parses the file
    the ordinary way, with ``from_json``, which reads it or says exactly what is wrong. What this
    accepts, ``from_json`` reads to an equal record (tests/test_runs.py compares them).
    """
    parser = _export_parser()
    if parser is None or b'"format"' not in data:
        return None
    try:
        export = parser.decode_export(data)
    except Exception:  # msgspec's DecodeError or ValidationError, UnicodeDecodeError, RecursionError
        return None
    if export.format != EXPORT_FORMAT or export.source not in SOURCES:
        return None
    metrics = {}
    decode, lazy = parser.decode, lazy_history_type()
    for name, metric in export.metrics.items():
        history = bytes(metric.history)
        if history.startswith(b"["):
            metrics[name] = MetricSeries(metric.last, lazy(history, decode))
        elif not history or history == b"null":  # no "history" key, or null
            metrics[name] = MetricSeries(metric.last)
        else:
            return None  # a history that is not a list: from_json says so
    code, packages = export.code, export.packages
    try:
        code_ref = CodeRef(code.get("repo"), code.get("commit"), code.get("entry_point")) if code else None
        package_refs = tuple(Package(str(p["name"]), str(p.get("spec") or ""), str(p.get("manager") or "pip"))
                             for p in packages or ())
    except (AttributeError, KeyError, TypeError):
        return None
    return RunRecord(
        export.source, export.id, export.experiment, export.name, export.status, export.start_time,
        export.end_time, export.user, export.params, metrics, export.tags, export.inputs, export.outputs,
        code_ref, export.environment, package_refs, origin)


class _ExportParser(NamedTuple):
    decode_export: Callable[[bytes], Any]  # bytes -> an Export struct
    decode: Callable[[bytes], Any]  # bytes -> plain Python values


@lru_cache(maxsize=None)
def _export_parser() -> _ExportParser | None:
    """msgspec decoders for the export format, typed as ``to_json`` writes it: datasets and outputs are
    decoded into ``DatasetRef`` and ``Output`` themselves; anything of another type fails, and the file
    takes ``from_json``'s way. ``code`` and ``packages``, which ``from_json`` reads loosely, stay plain."""
    try:
        import msgspec
    except ImportError:
        return None
    # A metric's history is cut out as raw text, checked to be valid JSON while it is skipped.
    metric = msgspec.defstruct("ExportMetric", [("last", float), ("history", msgspec.Raw, msgspec.Raw())])
    texts = dict[str, str]
    export = msgspec.defstruct("Export", [
        ("format", str), ("source", str), ("id", str),
        *((key, str | None, None) for key in ("experiment", "name", "status", "start_time", "end_time", "user")),
        ("params", texts, {}), ("metrics", dict[str, metric], {}), ("tags", texts, {}),
        ("inputs", tuple[DatasetRef, ...], ()), ("outputs", tuple[Output, ...], ()),
        ("code", object, None), ("environment", texts, {}), ("packages", object, None),
    ])
    return _ExportParser(msgspec.json.Decoder(export).decode, msgspec.json.decode)


def write_export(records: list[RunRecord], out_dir: Path) -> list[Path]:
    """One file per run; a file is rewritten only when its bytes change."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for record in sorted(records, key=lambda r: r.ref):
        target = out_dir / export_file_name(record)
        text = dumps(record)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def _metric(metric: Any, where: tuple[str | int, ...]) -> MetricSeries:
    """``{"last": 0.9}`` or ``{"last": 0.9, "history": [[step, value, timestamp], ...]}``."""
    if not isinstance(metric, dict) or "last" not in metric:
        raise BadExport(where, f"found {type(metric).__name__} {metric!r:.60}, expected an object with \"last\" "
                               "(the final value) and, optionally, \"history\"")
    try:
        last = float(metric["last"])
    except (TypeError, ValueError):
        raise BadExport(where + ("last",), f"found {metric['last']!r:.60}, expected a number") from None
    # Exports can hold millions of points: keep the parsed lists as they are (readers use
    # float() on values, which also takes the "nan"/"inf" written for non-finite ones).
    history = metric.get("history")
    if history is None:
        return MetricSeries(last)
    if not isinstance(history, (list, LazyHistory)):
        raise BadExport(where + ("history",), f"found {type(history).__name__} for a metric history, "
                                              "expected a list of [step, value, timestamp] points")
    return MetricSeries(last, history)


def _texts(mapping: dict[str, Any] | None) -> dict[str, str]:
    """A mapping's values as texts; a copy made in C when they are texts already, as exports write them."""
    if not mapping:
        return {}
    if _TEXT_ONLY.issuperset(map(type, mapping.values())):
        return dict(mapping)
    return {k: str(v) for k, v in mapping.items()}


_TEXT_ONLY = frozenset({str})


def _dataset_json(ref: DatasetRef) -> dict[str, Any]:
    return {
        "name": ref.name, "namespace": ref.namespace, "digest": ref.digest, "version": ref.version,
        "source": ref.source, "context": ref.context, "size": ref.size,
        "schema": [_compact({"name": f.name, "type": f.type}) for f in ref.schema],
    }


def _dataset_from(d: dict[str, Any]) -> DatasetRef:
    return DatasetRef(
        name=d["name"], namespace=d.get("namespace"), digest=d.get("digest"), version=d.get("version"),
        source=d.get("source"), context=d.get("context"), size=d.get("size"),
        schema=tuple(SchemaField(f["name"], f.get("type")) for f in d.get("schema") or ()),
    )


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != [] and v != ()}


def _number(value: float) -> float | str:
    # JSON has no NaN or infinity; keep them readable rather than invalid.
    return value if math.isfinite(value) else str(value)
