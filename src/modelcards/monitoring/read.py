"""Monitoring results -> one point type, whatever wrote them.

Three sources, one ``MonitoringPoint`` (timestamp, model, version, environment, metric, value, segment, source):

- the plain format any scheduled job can write: JSON Lines (``.jsonl``) or CSV (``.csv``) with the columns
  ``timestamp, model, version, environment, metric, value[, segment]``;
- Evidently snapshots saved with ``Snapshot.save_json``: a JSON Lines line names one with
  ``{"timestamp", "model", "version", "environment", "evidently": "2026-06.json"[, "report": "2026-06.html"]}``
  (the saved JSON holds the metrics only, no metadata or time), and its drift and quality metrics become points;
- MLflow runs that evaluate a deployment, read with the other runs (see ``mlflow_points``).

A reader never raises on bad input: each bad line is a warning at ``path:line:col`` and the rest is kept.
Every text read (model, version, environment, metric and segment names, Evidently column names) goes through the
project's secrets masker, as run records do: a credential pasted into a segment never reaches a page.
Evidently itself is never imported; its JSON is read as data (docs/reference/monitoring.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import Problem
from ..sources.masking import MaskedValue, SecretMasker
from ..sources.reading import json_position, shown
from ..sources.record import RunRecord
from ..text import NotUtf8, decode_utf8

COLUMNS = ("timestamp", "model", "version", "environment", "metric", "value")
OPTIONAL_COLUMNS = ("segment",)
SUFFIXES = (".jsonl", ".csv")
# Tags an MLflow run carries when it evaluates a deployment, e.g. from `mlflow.evaluate` on production traffic.
MODEL_TAG, VERSION_TAG, ENVIRONMENT_TAG = "modelcards.model", "modelcards.version", "modelcards.environment"
EVIDENTLY_TYPE = "evidently:metric_v2:"
# ASCII digits and no groups: twice as fast as \d and groups (fromisoformat refuses other digits anyway)
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
                        r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?")


class MonitoringPoint(NamedTuple):
    """One result. Many are kept as plain tuples of these fields (``PointRow``): the garbage collector stops
    tracking a plain tuple of texts, numbers and dates, while it keeps tracking any class's instances, and 100,000
    tracked results slowed every later collection of the build. ``MonitoringPoint._make(row)`` names a row's fields."""

    timestamp: str  # ISO 8601 as written, "2026-06-30T23:00:00Z" or "2026-06-30"
    day: dt.date  # its UTC day
    model: str
    version: str
    environment: str
    metric: str
    value: float
    segment: str = ""  # "" is the whole population
    source: str = "file"  # "file", "evidently" or "mlflow"
    origin: str = ""  # path:line it was read from, or the run's ref
    report: str | None = None  # an Evidently HTML report of the same window, relative to the project


PointRow = tuple  # MonitoringPoint's fields, in its order
# The positions of MonitoringPoint's fields in a row.
TIMESTAMP, DAY, MODEL, VERSION, ENVIRONMENT, METRIC, VALUE, SEGMENT, SOURCE, ORIGIN, REPORT = range(11)


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    """One column's drift in one Evidently snapshot."""

    column: str
    score: float
    method: str
    threshold: float | None
    drifted: bool


@dataclass(frozen=True)
class Snapshot:
    """An Evidently snapshot tied to its deployment: the points it gave and its per-column drift."""

    point: MonitoringPoint  # the first point: when, which model, version and environment
    columns: tuple[ColumnDrift, ...]


@dataclass
class MonitoringResults:
    points: list[PointRow] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    masked: list[MaskedValue] = field(default_factory=list)
    masker: SecretMasker = field(default_factory=SecretMasker, repr=False)
    # Each distinct text checked and masked once, as read -> as kept: an export repeats its model, version,
    # environment, metric and segment names and its timestamps on every line. Only texts the masker left as they
    # were are kept, so that every masked occurrence is still reported where it was read.
    names: dict[str, str] = field(default_factory=dict, repr=False)
    segments: dict[str | None, str] = field(default_factory=lambda: {None: "", "": ""}, repr=False)
    stamps: dict[str, tuple[str, dt.date]] = field(default_factory=dict, repr=False)

    def problem(self, path: str, line: int, col: int, message: str, key_path: str = "") -> None:
        self.problems.append(Problem(path, line, col, key_path, message, "warning"))

    def text(self, value: str, where: str, key: str) -> str:
        """``value`` with any credential masked; where it was masked is remembered for the build log."""
        cleaned, reason = self.masker.mask_text(value)
        if reason:
            self.masked.append(MaskedValue(where, key, reason))
        return cleaned


def read_monitoring(entries: list[str] | tuple[str, ...], *, project_dir: Path,
                    masker: SecretMasker | None = None) -> MonitoringResults:
    """Every result under the ``monitoring`` setting's files and folders (relative to ``project_dir``), masked by
    ``masker`` (the built-in credential shapes when None)."""
    results = MonitoringResults(masker=masker or SecretMasker())
    root = project_dir.resolve()
    for entry in entries:
        path = (project_dir / entry).resolve()
        if not path.is_relative_to(root) or not path.exists():
            why = "outside the project folder" if not path.is_relative_to(root) else "missing"
            results.problems.append(Problem("mkdocs.yml", 1, 1, "plugins.modelcards.monitoring", (
                f"found '{entry}', which is {why}; expected a file or folder of monitoring results inside "
                f"{root}"), "error"))
            continue
        for file in _files(path, root):
            _read_file(file, root, results)
    return results


def mlflow_points(runs: dict[str, RunRecord]) -> list[MonitoringPoint]:
    """Points from MLflow runs tagged with the model, version and environment they evaluated: each metric's
    last value, at the run's end (or start)."""
    points = []
    for ref, record in sorted(runs.items()):
        tags = record.tags
        if record.source != "mlflow" or not all(tags.get(tag) for tag in (MODEL_TAG, VERSION_TAG, ENVIRONMENT_TAG)):
            continue
        when = record.end_time or record.start_time
        day = _day(when) if when else None
        if day is None:
            continue
        for name, metric in sorted(record.metrics.items()):
            if isinstance(metric.last, (int, float)) and math.isfinite(metric.last):
                points.append(MonitoringPoint(when, day, tags[MODEL_TAG], tags[VERSION_TAG], tags[ENVIRONMENT_TAG],
                                              name, float(metric.last), "", "mlflow", ref))
    return points


# --- files -------------------------------------------------------------------------------------------------

def _files(path: Path, root: Path) -> list[Path]:
    if path.is_file():
        return [path]
    found = []
    for directory, _, names in os.walk(path):
        for name in names:
            file = Path(directory, name)
            if file.suffix in SUFFIXES and (not file.is_symlink() or file.resolve().is_relative_to(root)):
                found.append(file)
    return sorted(found)


def _read_file(file: Path, root: Path, results: MonitoringResults) -> None:
    name = shown(file, root)
    try:
        text = decode_utf8(file.read_bytes())
    except NotUtf8 as exc:
        results.problem(name, exc.line, exc.col, exc.message)
        return
    if file.suffix == ".csv":
        _read_csv(text, name, results)
    elif file.suffix == ".jsonl":
        _read_jsonl(text, name, file.parent, root, results)
    else:
        results.problem(name, 1, 1, f"found a '{file.suffix}' file, expected monitoring results in .jsonl or .csv")


def _read_jsonl(text: str, name: str, folder: Path, root: Path, results: MonitoringResults) -> None:
    loads = _fast_json()
    points = results.points
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            row = loads(line)
        except (ValueError, RecursionError):  # JSONDecodeError and msgspec's DecodeError: read again below
            row = None
        if type(row) is dict and "evidently" not in row:
            get = row.get
            point = _plain_point(results, name, number, get("timestamp"), get("model"), get("version"),
                                 get("environment"), get("metric"), get("value"), get("segment"))
            if point is not None:
                points.append(point)
                continue
        if not line.strip():
            continue
        try:
            row = json.loads(line)  # the standard library's reading: what msgspec refuses, and where it breaks
        except json.JSONDecodeError as exc:
            results.problem(name, number, exc.colno, f"not valid JSON: {exc.msg}; expected one JSON object a line")
            continue
        except (ValueError, RecursionError):
            results.problem(name, number, 1, "found JSON that cannot be read, expected one JSON object a line")
            continue
        if not isinstance(row, dict):
            results.problem(name, number, 1, f"found {type(row).__name__}, expected a JSON object with "
                                             f"{', '.join(COLUMNS)}")
            continue

        def where(key: str, line: str = line, number: int = number) -> tuple[int, int]:
            found = line.find(json.dumps(key))
            return number, (found + 1 if found >= 0 else 1)

        if "evidently" in row:
            _read_snapshot_line(row, name, where, folder, root, results)
        else:
            point = _point(row, name, number, where, results, required=COLUMNS)
            if point is not None:
                points.append(tuple(point))


def _fast_json() -> Callable[[str], Any]:
    """msgspec's JSON decoder when the ``fast`` extra is installed (about five times the standard library's speed
    on a line of results), else the standard library's; a line either refuses is read again by the standard
    library."""
    try:
        import msgspec
    except ImportError:
        return json.loads
    return msgspec.json.decode


def _read_csv(text: str, name: str, results: MonitoringResults) -> None:
    lines = text.splitlines()
    # Without a quote anywhere, the csv module's cells are the text between commas: str.split is twice as fast.
    reader = csv.reader(lines) if '"' in text else (line.split(",") if line else [] for line in lines)
    try:
        header = next(reader)
    except StopIteration:
        return
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        results.problem(name, 1, 1, f"found the columns {', '.join(header) or 'none'}, expected "
                                    f"{', '.join(COLUMNS)} (and optionally segment); missing {', '.join(missing)}")
        return
    # Each column's cell, the last of a repeated name as a row's dict keeps it; a file without segments has
    # none, and the cell past the row's end is read as nothing.
    at = {column: max(i for i, h in enumerate(header) if h == column) for column in (*COLUMNS, *OPTIONAL_COLUMNS)
          if column in header}
    timestamp, model, version, environment, metric, value = (at[column] for column in COLUMNS)
    segment = at.get("segment", len(header))
    points = results.points
    for number, cells in enumerate(reader, start=2):
        try:
            point = _plain_point(results, name, number, cells[timestamp], cells[model], cells[version],
                                 cells[environment], cells[metric], cells[value],
                                 cells[segment] if segment < len(cells) else None)
        except IndexError:
            point = None
        if point is not None:
            points.append(point)
            continue
        if not "".join(cells).strip():
            continue
        row = dict(zip(header, cells))
        raw = lines[number - 1] if number - 1 < len(lines) else ""

        def where(key: str, cells: list[str] = cells, number: int = number, raw: str = raw) -> tuple[int, int]:
            if key not in header or header.index(key) >= len(cells):
                return number, 1
            index = header.index(key)
            return number, sum(len(cell) + 1 for cell in cells[:index]) + 1 if '"' not in raw else 1

        point = _point(row, name, number, where, results, required=COLUMNS)
        if point is not None:
            points.append(tuple(point))


def _plain_point(results: MonitoringResults, name: str, number: int, timestamp: Any, model: Any, version: Any,
                 environment: Any, metric: Any, value: Any, segment: Any) -> PointRow | None:
    """The row of a line of the plain format whose texts were all read before: a dictionary look-up each
    (100,000 lines repeat a few names). None for any other line: ``_point`` then reads it, checks and masks its
    new texts (which later lines then find here), or says what is wrong with it."""
    names = results.names
    try:
        kept, day = results.stamps[timestamp]
    except (KeyError, TypeError):  # hourly results bring a new timestamp every few lines: checked here
        if type(timestamp) is not str or (day := _day(kept := timestamp.strip())) is None:
            return None
        if len(results.stamps) < _REMEMBERED:
            results.stamps[timestamp] = (kept, day)
    try:
        number_read = float(value)
        if type(value) is bool or not math.isfinite(number_read):
            return None
        return (kept, day, names[model], names[version], names[environment], names[metric], number_read,
                results.segments[segment], "file", f"{name}:{number}", None)
    except (KeyError, TypeError, ValueError, OverflowError):  # a new or a wrong text, or no number
        return None


def _point(row: dict[str, Any], name: str, number: int, where, results: MonitoringResults, *,
           required: tuple[str, ...], metric: str | None = None, value: float | None = None, source: str = "file",
           report: str | None = None) -> MonitoringPoint | None:
    """A point from line ``number``, or None with a problem at the first wrong field.

    Written for speed (a monitoring export can hold 100,000 lines): the common row takes the first branch of
    each check, and ``where`` (which finds a column) runs only for a problem.
    """
    texts: dict[str, str] = {}
    for key in _TEXT_KEYS:
        found = row.get(key)
        if type(found) is str:
            stripped = found.strip()
            if stripped or key not in required:
                texts[key] = stripped
                continue
        elif found is None and key not in required:
            texts[key] = ""
            continue
        line, col = where(key)
        shown_value = "nothing" if found is None or found == "" else json.dumps(found)
        results.problem(name, line, col, f"found {shown_value}, expected {_EXPECTED[key]}", key)
        return None
    day = _day(texts["timestamp"])
    if day is None:
        line, col = where("timestamp")
        results.problem(name, line, col, f"found {texts['timestamp']!r}, expected {_EXPECTED['timestamp']}",
                        "timestamp")
        return None
    if value is None:
        value = _number(row.get("value"))
        if value is None:
            line, col = where("value")
            results.problem(name, line, col, f"found {json.dumps(row.get('value'))}, expected a finite number",
                            "value")
            return None
    origin = f"{name}:{number}"
    for key in _MASKED_KEYS:
        text = texts[key]
        kept = texts[key] = results.text(text, origin, key)
        found = row.get(key)
        if kept == text and type(found) is str and (text or key == "segment") and len(results.names) < _REMEMBERED:
            (results.segments if key == "segment" else results.names)[found] = text
    if len(results.stamps) < _REMEMBERED:
        results.stamps[row["timestamp"]] = (texts["timestamp"], day)
    return MonitoringPoint(texts["timestamp"], day, texts["model"], texts["version"], texts["environment"],
                           metric or texts["metric"], value, texts["segment"], source, origin, report)


_REMEMBERED = 1 << 20  # distinct texts kept for the look-up of _plain_point
_TEXT_KEYS = ("timestamp", "model", "version", "environment", "metric", "segment")
_MASKED_KEYS = _TEXT_KEYS[1:]  # a timestamp is checked against a pattern of digits: it cannot hold a credential
_EXPECTED = {
    "timestamp": "an ISO 8601 date or time, e.g. 2026-06-30 or 2026-06-30T23:00:00Z",
    "model": "a model card's name",
    "version": "one of the card's versions, e.g. \"1.2.0\"",
    "environment": "a deployment environment, e.g. production",
    "metric": "a metric name, e.g. roc_auc",
    "segment": "text naming a subgroup, or nothing for the whole population",
}


def _number(found: Any) -> float | None:
    if isinstance(found, bool):
        return None
    if isinstance(found, str):
        try:
            found = float(found)
        except ValueError:
            return None
    if not isinstance(found, (int, float)):
        return None
    try:
        number = float(found)
    except OverflowError:  # an integer beyond any float
        return None
    return number if math.isfinite(number) else None


def _day(timestamp: str) -> dt.date | None:
    if not _TIMESTAMP.fullmatch(timestamp):
        return None
    try:
        moment = dt.datetime.fromisoformat(timestamp)  # Python 3.11 reads a "Z" as UTC
    except ValueError:
        return None
    return (moment.astimezone(dt.timezone.utc) if moment.tzinfo else moment).date()


# --- Evidently ---------------------------------------------------------------------------------------------

def _read_snapshot_line(row: dict[str, Any], name: str, where, folder: Path, root: Path,
                        results: MonitoringResults) -> None:
    files = {}
    for key in ("evidently", "report"):
        if key not in row:
            continue
        target = row[key]
        resolved = (folder / target).resolve() if isinstance(target, str) and target.strip() else None
        if resolved is None or not resolved.is_relative_to(root) or not resolved.is_file():
            line, col = where(key)
            why = ("outside the project folder" if resolved is not None and not resolved.is_relative_to(root)
                   else "not a file")
            results.problem(name, line, col, f"found {json.dumps(target)}, which is {why}; expected the path "
                                             f"of an Evidently {'save_json' if key == 'evidently' else 'save_html'} "
                                             "file, relative to this file, inside the project", key)
            return
        files[key] = resolved
    snapshot_name = shown(files["evidently"], root)
    try:
        text = decode_utf8(files["evidently"].read_bytes())
        document = json.loads(text)
    except NotUtf8 as exc:
        results.problem(snapshot_name, exc.line, exc.col, exc.message)
        return
    except json.JSONDecodeError as exc:
        results.problem(snapshot_name, exc.lineno, exc.colno, f"not valid JSON: {exc.msg}")
        return
    metrics = document.get("metrics") if isinstance(document, dict) else None
    if not isinstance(metrics, list):
        results.problem(snapshot_name, 1, 1, "found no 'metrics' list, expected the JSON of an Evidently snapshot's "
                                             "save_json() (Evidently 0.7)", "metrics")
        return
    report = shown(files["report"], root) if "report" in files else None
    if report is not None and results.text(report, name, "report") != report:
        report = None  # its file name would be copied onto the site: not linked
    base = _point({**row, "metric": "-", "value": 0}, name, where("timestamp")[0], where, results,
                  required=COLUMNS[:4], report=report)
    if base is None:
        return
    points: list[PointRow] = []
    columns: list[ColumnDrift] = []
    for index, metric in enumerate(metrics):
        found = _evidently_metric(metric)
        if isinstance(found, str):
            line, col = json_position(text, ("metrics", index))
            results.problem(snapshot_name, line, col, f"{found}, expected {{metric_name, config: {{type}}, value}} "
                                                      "as Evidently 0.7 writes it", f"metrics[{index}]")
            continue
        at = f"{snapshot_name}:metrics[{index}]"
        for metric_name, value in found[0]:
            points.append(_evidently_point(base, results.text(metric_name, at, "metric"), value))
        columns += [ColumnDrift(results.text(c.column, at, "column"), c.score, results.text(c.method, at, "method"),
                                c.threshold, c.drifted) for c in found[1]]
    results.points += points
    results.snapshots.append(Snapshot(base, tuple(columns)))


def _evidently_point(base: MonitoringPoint, metric: str, value: float) -> PointRow:
    return (base.timestamp, base.day, base.model, base.version, base.environment, metric, value,
            "", "evidently", base.origin, base.report)


def _evidently_metric(metric: Any) -> tuple[list[tuple[str, float]], list[ColumnDrift]] | str:
    """The points and column drifts of one ``{metric_name, config, value}`` entry, or what is wrong with it."""
    if not isinstance(metric, dict) or not isinstance(metric.get("config"), dict):
        return f"found {json.dumps(metric)[:60]}"
    kind = metric["config"].get("type")
    if not isinstance(kind, str) or not kind.startswith(EVIDENTLY_TYPE):
        return f"found the metric type {json.dumps(kind)}"
    kind = kind.removeprefix(EVIDENTLY_TYPE)
    config, value = metric["config"], metric.get("value")
    if kind == "DriftedColumnsCount":
        if not isinstance(value, dict) or _number(value.get("share")) is None or _number(value.get("count")) is None:
            return f"found the drift value {json.dumps(value)[:60]}, not {{count, share}}"
        return [("drift_share", _number(value["share"])), ("drifted_columns", _number(value["count"]))], []
    if kind == "ValueDrift":
        score, column = _number(value), config.get("column")
        if score is None or not isinstance(column, str):
            return f"found a ValueDrift of {json.dumps(column)} with the value {json.dumps(value)[:40]}"
        method = str(config.get("method", ""))
        threshold = _number(config.get("threshold"))
        # Evidently's p-value tests drift below the threshold; its distances drift at or above it.
        drifted = threshold is not None and (score < threshold if "p_value" in method else score >= threshold)
        return [], [ColumnDrift(column, score, method, threshold, drifted)]
    number = _number(value)
    if number is None and isinstance(value, dict) and set(value) >= {"mean"}:
        number = _number(value["mean"])  # MeanError, AbsMaxError ...: {mean, std}
    if number is None:
        return [], []  # per-label tables and the like: not a series over time
    return [(_snake(kind), number)], []


def _snake(name: str) -> str:
    """``RocAuc`` -> ``roc_auc``, ``F1Score`` -> ``f1_score``, ``TPR`` -> ``tpr``, ``R2Score`` -> ``r2_score``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
