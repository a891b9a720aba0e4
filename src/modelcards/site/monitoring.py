"""The pages of a model's monitoring: one per deployment with results, its charts, and the reports it links."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from ..catalog import ModelEntry
from ..monitoring import (DAY, DRIFT_SHARE, VALUE, Alert, ColumnDrift, DeploymentMonitoring, ModelMonitoring,
                          MonitoringPoint)
from .monitoring_charts import monitoring_chart
from .paths import monitoring_page, monitoring_report

# A page lists the latest rows only: a year of hourly results would otherwise make a page of megabytes. The charts
# show the whole series (thinned), and the export holds every row.
SHOWN_RESULTS = 200
SHOWN_ALERTS = 100


@dataclass(frozen=True)
class DeploymentView:
    deployment: DeploymentMonitoring
    page: str  # inside the generated tree, without the prefix
    charts: list[Markup]
    drifted: list[ColumnDrift]
    reports: list[tuple[str, str]]  # (the report's file inside the generated tree, its source in the project)
    latest_results: list[MonitoringPoint]  # the last SHOWN_RESULTS, newest first
    latest_alerts: list[Alert]  # the open ones and the last SHOWN_ALERTS, newest first


def deployment_pages(model: ModelEntry, monitored: ModelMonitoring | None) -> list[DeploymentView]:
    """A view of each deployment that has results, oldest first."""
    if monitored is None:
        return []
    views = []
    for d in monitored.monitored:
        page = monitoring_page(model.name, d.environment, d.version, d.deployment.date)
        reports = [(monitoring_report(model.name, Path(p.report).name), p.report) for p in d.reports if p.report]
        alerts = [a for i, a in enumerate(reversed(d.alerts)) if a.open or i < SHOWN_ALERTS]
        views.append(DeploymentView(d, page, _charts(model, monitored, d), d.most_drifted(), reports,
                                    d.latest(SHOWN_RESULTS), alerts))
    return views


def _charts(model: ModelEntry, monitored: ModelMonitoring, d: DeploymentMonitoring) -> list[Markup]:
    """The thresholded metrics first (drift share among them), then every other metric of the whole population."""
    thresholds = {t.metric: t for t in (monitored.plan.thresholds if monitored.plan else [])}
    release = next((v.metrics for v in model.card.versions if v.version == d.version), {})
    series = {metric: points for (metric, segment), points in d.series.items() if not segment}
    order = sorted(series, key=lambda m: (m not in thresholds, m != DRIFT_SHARE, m))
    charts = []
    for metric in order:
        threshold = thresholds.get(metric)
        low = threshold.min if threshold else None
        high = threshold.max if threshold else None
        points = [(row[DAY], value, (low is not None and value < low) or (high is not None and value > high))
                  for row in series[metric] for value in (row[VALUE],)]
        charts.append(monitoring_chart(f"{metric} in {d.environment}, version {d.version}", points, low=low,
                                       high=high, reference=release.get(metric)))
    return charts
