"""Monitoring points -> each model's deployments with their series, thresholds, alerts and staleness.

A point belongs to a deployment: the card's ``deployments`` entry of its version in its environment whose
window (from its date to the next deployment in that environment) holds the point's day. A point no deployment
holds is a warning at its line. Thresholds come from the card's ``monitoring.thresholds``; a point of the whole
population outside its band is an alert. An alert is open while the latest result of its metric on a deployment
still running is outside the band. Staleness and the time allowed to answer an alert are judged on the one
"as of" day.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from operator import itemgetter

from ..cards.schema import Deployment, Feedback, FeedbackKind, MonitoringPlan, MonitoringThreshold
from ..catalog import Catalog, ModelEntry
from ..errors import Problem
from ..sources.masking import MaskedValue
from .feedback import TrackerExport
from .read import (DAY, ENVIRONMENT, METRIC, MODEL, ORIGIN, SEGMENT, SOURCE, TIMESTAMP, VALUE, VERSION, ColumnDrift,
                   MonitoringPoint, MonitoringResults, PointRow, Snapshot)

CADENCE_WORDS = {"daily": 1, "weekly": 7, "fortnightly": 14, "monthly": 31, "quarterly": 92, "yearly": 366,
                 "annually": 366}
DRIFT_SHARE = "drift_share"


@dataclass(frozen=True)
class Alert:
    point: MonitoringPoint
    threshold: MonitoringThreshold
    open: bool = False

    @property
    def band(self) -> str:
        return band_text(self.threshold)


@dataclass
class DeploymentMonitoring:
    """One deployment (a version in an environment over a window) and the results read for it."""

    index: int  # in the card's `deployments`
    deployment: Deployment
    until: dt.date | None  # the next deployment in the environment; None while it runs
    points: list[PointRow] = field(default_factory=list)  # oldest first; MonitoringPoint._make names one's fields
    snapshots: list[Snapshot] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    @property
    def environment(self) -> str:
        return self.deployment.environment

    @property
    def version(self) -> str:
        return self.deployment.version

    @property
    def live(self) -> bool:
        return self.until is None

    @cached_property
    def series(self) -> dict[tuple[str, str], list[PointRow]]:
        """Points by (metric, segment), each oldest first; made once, when ``monitor`` has placed them all."""
        found: dict[tuple[str, str], list[PointRow]] = {}
        for row in self.points:
            key = (row[METRIC], row[SEGMENT])
            if key in found:
                found[key].append(row)
            else:
                found[key] = [row]
        return dict(sorted(found.items()))

    def latest(self, count: int) -> list[MonitoringPoint]:
        """The last ``count`` points, newest first."""
        return [MonitoringPoint._make(row) for row in self.points[:-count - 1:-1]]

    def most_drifted(self, limit: int = 10) -> list[ColumnDrift]:
        """The latest snapshot's drifted columns first, the most drifted first."""
        if not self.snapshots:
            return []
        latest = self.snapshots[-1]
        ranked = sorted(latest.columns, key=lambda c: (not c.drifted, c.score if "p_value" in c.method else -c.score,
                                                       c.column))
        return ranked[:limit]

    @property
    def reports(self) -> list[MonitoringPoint]:
        """One point per Evidently HTML report, oldest first."""
        return [snapshot.point for snapshot in self.snapshots if snapshot.point.report]


@dataclass
class ModelMonitoring:
    model: str
    plan: MonitoringPlan | None
    deployments: list[DeploymentMonitoring]
    cadence_days: int | None
    stale: bool = False  # a deployment runs, and its last result is older than the cadence allows
    feedback: list[Feedback] = field(default_factory=list)  # the card's and the tracker's entries, oldest first

    @property
    def last_evaluated(self) -> dt.date | None:
        days = [d.points[-1][DAY] for d in self.deployments if d.points]  # each deployment's points are in time order
        return max(days) if days else None

    @property
    def open_alerts(self) -> list[Alert]:
        return [alert for d in self.deployments for alert in d.alerts if alert.open]

    @property
    def monitored(self) -> list[DeploymentMonitoring]:
        return [d for d in self.deployments if d.points]


@dataclass
class Monitoring:
    models: dict[str, ModelMonitoring]
    problems: list[Problem]
    as_of: dt.date
    masked: tuple[MaskedValue, ...] = ()  # where a credential was masked in what was read


def band_text(threshold: MonitoringThreshold) -> str:
    parts = []
    if threshold.min is not None:
        parts.append(f"{threshold.metric} >= {threshold.min:g}")
    if threshold.max is not None:
        parts.append(f"{threshold.metric} <= {threshold.max:g}")
    return " and ".join(parts)


def cadence_days(plan: MonitoringPlan | None) -> int | None:
    """Days allowed between results: ``cadence_days``, or the word ``cadence`` starts with."""
    if plan is None:
        return None
    if plan.cadence_days is not None:
        return plan.cadence_days
    word = re.match(r"\s*([A-Za-z]+)", plan.cadence or "")
    return CADENCE_WORDS.get(word.group(1).lower()) if word else None


def monitor(catalog: Catalog, results: MonitoringResults, extra_points: Iterable[MonitoringPoint] = (), *,
            feedback: TrackerExport | None = None, as_of: dt.date) -> Monitoring:
    """Tie every point to its deployment and every tracker entry to its model; find alerts, open alerts, stale
    monitoring and unanswered alerts."""
    problems = list(results.problems)
    models = {name: _windows(entry) for name, entry in catalog.models.items()}
    tracker = feedback or TrackerExport()
    problems += tracker.problems + _merge_feedback(catalog, models, tracker)
    by_origin: dict[str, list[Snapshot]] = {}
    for snapshot in results.snapshots:
        by_origin.setdefault(snapshot.point.origin, []).append(snapshot)
    rows = sorted([*results.points, *map(tuple, extra_points)], key=itemgetter(DAY, TIMESTAMP, ORIGIN))
    placed_snapshots: set[str] = set()
    targets: dict[tuple[str, str, str, dt.date], DeploymentMonitoring | None] = {}
    placed = itemgetter(MODEL, ENVIRONMENT, VERSION, DAY)
    for row in rows:
        where = placed(row)
        if where not in targets:  # the many results of one day share their deployment
            targets[where] = _deployment_of(models, MonitoringPoint._make(row))
        target = targets[where]
        if target is None:
            problems.append(_unplaced(models, MonitoringPoint._make(row)))
            continue
        target.points.append(row)
        if row[SOURCE] == "evidently" and row[ORIGIN] not in placed_snapshots:
            placed_snapshots.add(row[ORIGIN])
            target.snapshots += by_origin.get(row[ORIGIN], [])
    for name, model in models.items():
        entry = catalog.models[name]
        _alerts(model)
        latest = model.last_evaluated
        live = any(d.live for d in model.deployments)
        model.stale = bool(live and model.cadence_days and model.plan is not None
                           and (latest is None or (as_of - latest).days > model.cadence_days))
        problems += _unanswered(entry, model, as_of)
    return Monitoring(models, problems, as_of, (*results.masked, *tracker.masked))


def _deployment_of(models: dict[str, ModelMonitoring], point: MonitoringPoint) -> DeploymentMonitoring | None:
    """The deployment of the point's version in its environment whose window holds its day."""
    model = models.get(point.model)
    return None if model is None else next((
        d for d in model.deployments if d.environment == point.environment and d.version == point.version
        and d.deployment.date <= point.day and (d.until is None or point.day < d.until)), None)


# A catalog of a thousand models would otherwise put a thousand names on the line.
MAX_NAMES_LISTED = 10


def _model_names(models, found: str) -> str:
    """What a model name had to be: every card's, or the closest of many, and how many there are."""
    names = list(models)
    if not names:
        return "one of no models"
    if len(names) <= MAX_NAMES_LISTED:
        return f"one of {', '.join(names)}"
    close = _closest(found, tuple(names))
    hint = f" (closest: {', '.join(close)})" if close else ""
    return f"one of the {len(names)} models the cards name{hint}"


@lru_cache(maxsize=256)  # each of a preview's rebuilds reports the same unknown names against the same cards
def _closest(found: str, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(difflib.get_close_matches(found, names, n=3, cutoff=0.6))


def _unplaced(models: dict[str, ModelMonitoring], point: MonitoringPoint) -> Problem:
    """Why no deployment holds the point."""
    model = models.get(point.model)
    if model is None:
        return _problem(point, f"model: found '{point.model}', which no card names; expected {_model_names(models, point.model)}")
    ran = [f"{d.version} from {d.deployment.date}" + (f" to {d.until}" if d.until else "")
           for d in model.deployments if d.environment == point.environment]
    return _problem(point, (
        f"found a result of {point.model} {point.version} in {point.environment} on {point.day}, but no "
        f"deployment of that version there holds that day; the card's deployments to {point.environment}: "
        f"{'; '.join(ran) or 'none'}"))


def _problem(point: MonitoringPoint, message: str) -> Problem:
    path, _, line = point.origin.rpartition(":")
    if point.source == "mlflow" or not line.isdigit():
        return Problem(point.origin, 1, 1, "", message, "warning")
    return Problem(path, int(line), 1, "", message, "warning")


def _windows(entry: ModelEntry) -> ModelMonitoring:
    card = entry.card
    ordered = sorted(enumerate(card.deployments), key=lambda item: (item[1].date, item[0]))
    windows = []
    for position, (index, deployment) in enumerate(ordered):
        following = next((d.date for _, d in ordered[position + 1:] if d.environment == deployment.environment),
                         None)
        windows.append(DeploymentMonitoring(index, deployment, following))
    return ModelMonitoring(card.name, card.monitoring, windows, cadence_days(card.monitoring),
                           feedback=list(card.feedback))


def _merge_feedback(catalog: Catalog, models: dict[str, ModelMonitoring], tracker: TrackerExport) -> list[Problem]:
    """Each tracker entry joins its model's feedback, checked as a card's entry is; a wrong one is a warning."""
    problems = []
    for item in tracker.entries:
        path, _, line = item.origin.rpartition(":")

        def warn(message: str) -> None:
            problems.append(Problem(path, int(line), 1, "", message, "warning"))

        entry = catalog.models.get(item.model)
        if entry is None:
            warn(f"model: found '{item.model}', which no card names; expected {_model_names(models, item.model)}")
            continue
        dates = {v.version: v.date for v in entry.card.versions}
        known = ", ".join(dates) or "none"
        feedback = item.entry
        if feedback.version not in dates:
            warn(f"version: found '{feedback.version}', which {item.model} does not have; expected one of {known}")
            continue
        if feedback.resolved_by is not None and feedback.resolved_by not in dates:
            warn(f"resolved_by: found '{feedback.resolved_by}', which {item.model} does not have; expected one of "
                 f"{known}")
            continue
        if feedback.resolved_by is not None and dates[feedback.resolved_by] < dates[feedback.version]:
            warn(f"resolved_by: found version '{feedback.resolved_by}' of {dates[feedback.resolved_by]}, which is "
                 f"older than the affected version '{feedback.version}' of {dates[feedback.version]}; expected a "
                 "later version")
            continue
        models[item.model].feedback.append(feedback)
    for model in models.values():
        model.feedback.sort(key=lambda f: f.date)
    return problems


def _alerts(model: ModelMonitoring) -> None:
    thresholds = model.plan.thresholds if model.plan else []
    for deployment in model.deployments:
        if not thresholds or not deployment.points:
            continue
        series = deployment.series
        for threshold in thresholds:
            rows = series.get((threshold.metric, ""), [])
            low, high = threshold.min, threshold.max
            for row in rows:
                value = row[VALUE]
                if (low is not None and value < low) or (high is not None and value > high):
                    deployment.alerts.append(Alert(MonitoringPoint._make(row), threshold,
                                                   open=deployment.live and row is rows[-1]))
        deployment.alerts.sort(key=lambda a: (a.point.day, a.point.metric))


def _unanswered(entry: ModelEntry, model: ModelMonitoring, as_of: dt.date) -> list[Problem]:
    """An alert older than ``respond_within_days`` without an incident for its version, dated on or after it."""
    if model.plan is None:
        return []
    problems = []
    for deployment in model.deployments:
        for alert in deployment.alerts:
            waited = (as_of - alert.point.day).days
            answered = any(item.kind == FeedbackKind.incident and item.version == deployment.version
                           and item.date >= alert.point.day for item in model.feedback)
            if answered or waited <= model.plan.respond_within_days:
                continue
            problems.append(entry.source.document.problem(("monitoring",), (
                f"alert on {deployment.version} in {deployment.environment}: {alert.point.metric} "
                f"{alert.point.value:g} on {alert.point.day} is outside {alert.band}, and {waited} days later (as "
                f"of {as_of}) no feedback entry of kind incident for {deployment.version} is dated on or after it; "
                f"expected one within {model.plan.respond_within_days} days (monitoring.respond_within_days)"),
                severity="warning"))
    return problems
