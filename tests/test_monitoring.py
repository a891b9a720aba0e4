"""Monitoring results on the site: real Evidently snapshots (made by scripts/evidently_example.py with Evidently
0.7.23, committed under monitoring/), an MLflow evaluation run logged with MLflow's own client into a real store,
the plain JSON Lines/CSV format, feedback on the versions timeline, and the policy's monitoring rule."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from conftest import run_modelcards, write_project

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "monitoring" / "breast-cancer-classifier"
QUIET = {"lineage_checks": {"no_run": "off", "no_code_commit": "off", "no_data_version": "off"}, "environments": []}
AS_OF = "1783296000"  # 2026-07-06: the June window is 6 days old, within the monthly cadence

CARD = """\
name: bc
title: BC classifier
risk_tier: high
metrics:
  - {name: recall}
monitoring:
  description: Monthly comparison with final diagnoses and the training rows.
  thresholds:
    - {metric: recall, min: 0.95}
    - {metric: drift_share, max: 0.3}
  cadence: Monthly
versions:
  - {version: "1.1.0", date: "2026-02-01", metrics: {recall: 0.93}}
  - {version: "1.2.0", date: "2026-03-20", metrics: {recall: 0.98}}
deployments:
  - {environment: production, version: "1.1.0", date: "2026-02-10", by: Ana}
  - {environment: production, version: "1.2.0", date: "2026-04-06", by: Ana}
feedback:
  - date: "2026-03-01"
    kind: user_report
    summary: Small tumours missed.
    version: "1.1.0"
    link: ML-123
    status: resolved
    resolved_by: "1.2.0"
"""


def _project(tmp_path: Path, card: str = CARD, *, extra: dict | None = None) -> Path:
    write_project(tmp_path, {"bc.yml": card}, plugins=["search", {"modelcards": {
        "cards_dir": "cards", "monitoring": ["monitoring"], **QUIET, **(extra or {})}}])
    folder = tmp_path / "monitoring"
    folder.mkdir()
    for window in ("2026-05", "2026-06"):
        shutil.copy(SNAPSHOTS / f"{window}.json", folder / f"{window}.json")
    (folder / "snapshots.jsonl").write_text("".join(json.dumps({
        "timestamp": f"{day}T23:00:00Z", "model": "bc", "version": "1.2.0", "environment": "production",
        "evidently": f"{window}.json"}) + "\n" for window, day in (("2026-05", "2026-05-31"), ("2026-06", "2026-06-30"))))
    return tmp_path


def _build(project: Path, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": AS_OF}
    return subprocess.run([str(Path(sys.executable).parent / "modelcards"), "build", *extra, "-d",
                           str(project / "site")], cwd=project, env=env, capture_output=True, text=True,
                          check=False, timeout=300)


def _page(project: Path, path: str) -> str:
    return (project / "site" / path / "index.html").read_text(encoding="utf-8")


def _snapshot_value(window: str, metric_type: str) -> float:
    for metric in json.loads((SNAPSHOTS / f"{window}.json").read_text())["metrics"]:
        if metric["config"]["type"].endswith(":" + metric_type):
            return metric["value"]
    raise AssertionError(metric_type)


def _chart_points(html: str, metric: str) -> list[tuple[str, float]]:
    for svg in re.findall(r'<svg class="mc-chart mc-monitoring-chart".*?</svg>', html, re.S):
        tree = ElementTree.fromstring(svg)
        title = tree.find("{http://www.w3.org/2000/svg}title").text
        if title.startswith(f"{metric} in "):
            return [(c.get("data-date"), float(c.get("data-value")))
                    for c in tree.iter("{http://www.w3.org/2000/svg}circle")]
    raise AssertionError(f"no chart of {metric}")


def test_drifted_window_is_an_open_alert_and_the_chart_shows_the_snapshot_values(tmp_path):
    project = _project(tmp_path)
    result = _build(project, "--strict")
    assert result.returncode == 0, result.stdout + result.stderr
    page = _page(project, "models/bc/monitoring/production-1.2.0-2026-04-06")
    alerts = page[page.index('id="alerts"'):page.index('id="metrics-over-time"')]
    assert "2026-06-30" in alerts and "drift_share &lt;= 0.3" in alerts and "open" in alerts
    assert "2026-05-31" not in alerts
    share = _chart_points(page, "drift_share")
    expected = [("2026-05-31", _snapshot_value("2026-05", "DriftedColumnsCount")["share"]),
                ("2026-06-30", _snapshot_value("2026-06", "DriftedColumnsCount")["share"])]
    assert [d for d, _ in share] == [d for d, _ in expected]
    assert all(abs(a - b) < 1e-9 for (_, a), (_, b) in zip(share, expected))
    recall = _chart_points(page, "recall")
    assert abs(recall[1][1] - _snapshot_value("2026-06", "Recall")) < 1e-9
    assert "mean radius" in page[page.index('id="most-drifted-features"'):]
    catalog = _page(project, "").split("<tbody>")[1]
    assert catalog.count("open alert(s)") == 1 and "1 open alert(s)" in catalog
    assert "last evaluated 2026-06-30" in catalog


def test_an_unanswered_alert_is_a_warning_at_the_plan(tmp_path):
    project = _project(tmp_path)
    env_later = "1784592000"  # 2026-07-21: 21 days after the alert, none answered it
    result = subprocess.run([str(Path(sys.executable).parent / "modelcards"), "build", "--strict", "-d",
                             str(project / "site")], cwd=project, capture_output=True, text=True,
                            env={**os.environ, "SOURCE_DATE_EPOCH": env_later}, timeout=300)
    assert result.returncode == 1
    assert ("cards/bc.yml:7:3: warning: monitoring: alert on 1.2.0 in production: drift_share 0.3125 on 2026-06-30 "
            "is outside drift_share <= 0.3, and 21 days later (as of 2026-07-21) no feedback entry of kind incident "
            "for 1.2.0 is dated on or after it; expected one within 7 days (monitoring.respond_within_days)"
            ) in result.stdout + result.stderr


def test_feedback_shows_on_the_affected_and_the_fixing_version(tmp_path):
    project = _project(tmp_path)
    assert _build(project).returncode == 0
    page = _page(project, "models/bc")
    v11 = page[page.index('id="version-110"') if 'id="version-110"' in page else page.index("Version 1.1.0"):]
    text = re.sub(r"<[^>]+>", "", page)
    assert "Reported 2026-03-01 (user report, ML-123): Small tumours missed. resolved, resolved by 1.2.0" in text
    assert "Resolves the user report of 2026-03-01 against 1.1.0 (ML-123): Small tumours missed." in text
    assert v11


def test_mlflow_evaluation_run_appears_on_the_deployment_chart(tmp_path):
    mlflow = pytest.importorskip("mlflow")
    project = _project(tmp_path)
    store = project / "mlruns"
    env = {"MLFLOW_ALLOW_FILE_STORE": "true", "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    os.environ.update(env)
    try:
        client = mlflow.MlflowClient(tracking_uri=store.as_uri())
        experiment = client.create_experiment("bc-monitoring")
        run = client.create_run(experiment, start_time=1_781_395_200_000, tags={  # 2026-06-14
            "modelcards.model": "bc", "modelcards.version": "1.2.0", "modelcards.environment": "production"})
        client.log_metric(run.info.run_id, "recall", 0.9125, timestamp=1_781_395_200_000)
        client.set_terminated(run.info.run_id, end_time=1_781_398_800_000)
    finally:
        for key in env:
            os.environ.pop(key, None)
    write_project(project, {}, plugins=["search", {"modelcards": {
        "cards_dir": "cards", "monitoring": ["monitoring"], "runs": ["mlruns"], **QUIET}}])
    result = _build(project)
    assert result.returncode == 0, result.stdout + result.stderr
    page = _page(project, "models/bc/monitoring/production-1.2.0-2026-04-06")
    recall = dict(_chart_points(page, "recall"))
    assert abs(recall["2026-06-14"] - 0.9125) < 1e-9
    assert "2026-06-14" in page[page.index('id="alerts"'):page.index('id="metrics-over-time"')]


def test_deployed_high_tier_model_without_a_plan_is_reported_at_its_card_line(tmp_path):
    card = re.sub(r"monitoring:\n(  .*\n|    .*\n)+", "", CARD)
    project = _project(tmp_path, card, extra={"policy": "policy.yml"})
    (project / "monitoring" / "snapshots.jsonl").unlink()
    (project / "policy.yml").write_text("high:\n  monitoring: true\n")
    result = run_modelcards("validate", "cards", cwd=project, check=False)
    assert ("cards/bc.yml:11:40: warning: deployments[1].version: policy high/monitoring: version 1.2.0 runs in "
            "production, but the card has no monitoring plan; expected `monitoring:` with what is watched, its "
            "thresholds and cadence (EU AI Act Art. 72)") in result.stdout + result.stderr


BAD = [
    ("bad.jsonl", '{"timestamp": "2026-06-01", "model": "bc", "version": "1.2.0", "environment": "production", '
                  '"metric": "recall", "value": "high"}\n',
     'monitoring/bad.jsonl:1:113: warning: value: found "high", expected a finite number'),
    ("bad.jsonl", '{"timestamp": "June", "model": "bc", "version": "1.2.0", "environment": "production", '
                  '"metric": "recall", "value": 1}\n',
     "monitoring/bad.jsonl:1:2: warning: timestamp: found 'June', expected an ISO 8601 date or time, "
     "e.g. 2026-06-30 or 2026-06-30T23:00:00Z"),
    ("bad.jsonl", '{"timestamp": \n', "monitoring/bad.jsonl:1:15: warning: not valid JSON: Expecting value; "
                                      "expected one JSON object a line"),
    ("bad.csv", "timestamp,model,version,environment,metric,value\n2026-06-01,bc,1.2.0,production,recall,x\n",
     "monitoring/bad.csv:2:39: warning: value: found \"x\", expected a finite number"),
    ("bad.csv", "when,model\n", "monitoring/bad.csv:1:1: warning: found the columns when, model, expected timestamp, "
                                "model, version, environment, metric, value (and optionally segment); missing "
                                "timestamp, version, environment, metric, value"),
    ("late.jsonl", '{"timestamp": "2026-03-01", "model": "bc", "version": "1.2.0", "environment": "production", '
                   '"metric": "recall", "value": 0.9}\n',
     "monitoring/late.jsonl:1:1: warning: found a result of bc 1.2.0 in production on 2026-03-01, but no deployment "
     "of that version there holds that day; the card's deployments to production: 1.1.0 from 2026-02-10 to "
     "2026-04-06; 1.2.0 from 2026-04-06"),
]


@pytest.mark.parametrize("name,text,expected", BAD, ids=[f"{i}-{b[0]}" for i, b in enumerate(BAD)])
def test_bad_monitoring_input_gives_its_line(tmp_path, name, text, expected):
    project = _project(tmp_path)
    (project / "monitoring" / name).write_text(text)
    result = _build(project, "--strict")
    assert result.returncode == 1
    assert expected in result.stdout + result.stderr, result.stdout + result.stderr


TRACKER = [
    {"id": "ML-200", "date": "2026-03-05", "kind": "incident", "summary": "Outage of the scoring service.",
     "model": "bc", "version": "1.1.0", "status": "resolved", "resolved_by": "1.2.0",
     "link": "https://tracker.example.com/ML-200", "source": "Jira"},
    {"id": 201, "date": "2026-07-02T08:00:00Z", "kind": "incident", "summary": "Drift in mean radius, relabelling.",
     "model": "bc", "version": "1.2.0", "status": "investigating"},
]


def _with_tracker(tmp_path: Path, lines: list[str]) -> Path:
    project = _project(tmp_path, extra={"feedback": ["tracker/issues.jsonl"]})
    (project / "tracker").mkdir()
    (project / "tracker" / "issues.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return project


def test_tracker_feedback_joins_the_cards_on_the_timeline_and_answers_an_alert(tmp_path):
    project = _with_tracker(tmp_path, [json.dumps(item) for item in TRACKER])
    later = "1784592000"  # 2026-07-21: the June alert is 21 days old, and the tracker's incident answers it
    result = subprocess.run([str(Path(sys.executable).parent / "modelcards"), "build", "--strict", "-d",
                             str(project / "site")], cwd=project, capture_output=True, text=True,
                            env={**os.environ, "SOURCE_DATE_EPOCH": later}, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    text = " ".join(re.sub(r"<[^>]+>", " ", _page(project, "models/bc")).split())
    v12, v11 = text.index("Resolves the user report"), text.index("Reported 2026-03-01 (user report")
    assert ("Reported 2026-03-05 (incident, Jira, https://tracker.example.com/ML-200 ): Outage of the scoring "
            "service. resolved , resolved by 1.2.0") in text[v11:]
    assert "Resolves the incident of 2026-03-05 against 1.1.0" in text[:v11] and v12 < v11
    assert "Reported 2026-07-02 (incident, issue tracker, 201): Drift in mean radius, relabelling." in \
        text.replace(" )", ")").replace(" :", ":")
    assert "no feedback entry of kind incident" not in result.stdout + result.stderr


BAD_TRACKER = [
    ('{"id": "ML-1", "date": "2026-03-05", "kind": "bug", "summary": "x", "model": "bc", "version": "1.1.0"}',
     "tracker/issues.jsonl:1:38: warning: kind: found \"bug\", expected one of incident, user_report, "
     "label_correction, fairness_complaint"),
    ('{"id": "ML-1", "date": "March", "kind": "incident", "summary": "x", "model": "bc", "version": "1.1.0"}',
     'tracker/issues.jsonl:1:16: warning: date: found "March", expected the day it was reported, YYYY-MM-DD (or '
     "an ISO 8601 time)"),
    ('{"id": "ML-1", "date": "2026-03-05", "kind": "incident", "model": "bc", "version": "1.1.0"}',
     "tracker/issues.jsonl:1:1: warning: summary: found nothing, expected what was reported"),
    ('{"id": "ML-1", "date": "2026-03-05", "kind": "incident", "summary": "x", "model": "bc", "version": "9.0"}',
     "tracker/issues.jsonl:1:1: warning: version: found '9.0', which bc does not have; expected one of 1.1.0, 1.2.0"),
    ('{"id": "ML-1", "date": "2026-03-05", "kind": "incident", "summary": "x", "model": "zz", "version": "1.1.0"}',
     "tracker/issues.jsonl:1:1: warning: model: found 'zz', which no card names; expected one of bc"),
    ('{"id": "ML-1", "date": "2026-03-05", "kind": "incident", "summary": "x", "model": "bc", "version": "1.2.0", '
     '"resolved_by": "1.1.0"}',
     "tracker/issues.jsonl:1:1: warning: resolved_by: found version '1.1.0' of 2026-02-01, which is older than the "
     "affected version '1.2.0' of 2026-03-20; expected a later version"),
    ('{"id": "ML-1", "date": "2026-03-05", "status": "done", "kind": "incident", "summary": "x", "model": "bc", '
     '"version": "1.1.0"}', 'tracker/issues.jsonl:1:38: warning: status: found "done", expected one of open, '
     "investigating, resolved, wont_fix"),
    ('{"id": "ML-1", "date": ', "tracker/issues.jsonl:1:24: warning: not valid JSON: Expecting value; expected one "
                                "feedback entry as a JSON object a line"),
]


@pytest.mark.parametrize("line,expected", BAD_TRACKER, ids=[str(i) for i in range(len(BAD_TRACKER))])
def test_bad_tracker_lines_give_their_line_and_column(tmp_path, line, expected):
    good = json.dumps(TRACKER[0])
    project = _with_tracker(tmp_path, [good, line])
    result = _build(project, "--strict")
    assert result.returncode == 1
    assert expected.replace(":1:", ":2:", 1) in result.stdout + result.stderr, result.stdout + result.stderr


def test_a_long_history_is_thinned_and_keeps_its_alerts():
    import datetime as dt

    from modelcards.site.monitoring_charts import monitoring_chart

    start = dt.date(2020, 1, 1)
    points = [(start + dt.timedelta(days=i // 24), 0.95 + (i % 7) / 1000, False) for i in range(100_000)]
    points[61_234] = (points[61_234][0], 0.71, True)
    points[61_235] = (points[61_235][0], 0.72, True)  # in the same bucket, neither its lowest nor highest value
    svg = str(monitoring_chart("recall in production, version 1.0", points, low=0.9, reference=0.96))
    assert len(svg) < 60_000, len(svg)  # every point would be megabytes
    tree = ElementTree.fromstring(svg)
    markers = [(c.get("data-date"), float(c.get("data-value"))) for c in tree.iter("{http://www.w3.org/2000/svg}circle")]
    # the alerts are drawn; ordinary points are the line
    assert markers == [(points[61_234][0].isoformat(), 0.71), (points[61_235][0].isoformat(), 0.72)]
    assert "100000 results from 2020-01-01" in svg


def test_a_wrong_line_after_many_good_ones_is_still_reported_and_every_masked_line_is_logged(tmp_path):
    """The reader remembers each text it checked: a later line that repeats them but is wrong elsewhere is still
    a warning at its line and column, and a credential repeated on many lines is masked and logged on each."""
    project = _project(tmp_path)
    (project / "monitoring" / "snapshots.jsonl").unlink()
    good = {"timestamp": "2026-06-01T00:00:00Z", "model": "bc", "version": "1.2.0", "environment": "production",
            "metric": "recall", "value": 0.97}
    lines = [{**good, "timestamp": f"2026-06-01T{hour:02d}:00:00Z"} for hour in range(20)]
    lines += [{**good, "value": True}, {**good, "version": " "}, {**good, "segment": 7},
              {**good, "segment": "ghp_" + "a1B2" * 9}, {**good, "segment": "ghp_" + "a1B2" * 9}]
    (project / "monitoring" / "hourly.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (project / "monitoring" / "hourly.csv").write_text(
        "timestamp,model,version,environment,metric,value\n" + "2026-06-02,bc,1.2.0,production,recall,0.96\n" * 3
        + "2026-06-02,bc,1.2.0,production,recall,nan\n2026-06-02,bc,1.2.0,production\n")
    result = _build(project)
    assert result.returncode == 0, result.stdout + result.stderr
    log = result.stdout + result.stderr
    assert 'monitoring/hourly.jsonl:21:123: warning: value: found true, expected a finite number' in log
    assert 'monitoring/hourly.jsonl:22:54: warning: version: found " ", expected one of the card\'s versions' in log
    assert "monitoring/hourly.jsonl:23:138: warning: segment: found 7, expected text naming a subgroup" in log
    assert "masked monitoring/hourly.jsonl:24 segment (" in log and "masked monitoring/hourly.jsonl:25 segment (" in log
    assert 'monitoring/hourly.csv:5:39: warning: value: found "nan", expected a finite number' in log
    assert "monitoring/hourly.csv:6:1: warning: metric: found nothing, expected a metric name" in log
    page = _page(project, "models/bc/monitoring/production-1.2.0-2026-04-06")
    assert "ghp_" not in page
    assert "25 result(s)" in page  # 20 good hours, the 2 masked lines and 3 good CSV lines


def test_an_unknown_model_in_a_large_catalog_is_named_with_the_closest_names_not_all_of_them():
    from modelcards.monitoring.evaluate import MAX_NAMES_LISTED, _model_names

    few = [f"model-{index}" for index in range(MAX_NAMES_LISTED)]
    assert _model_names(dict.fromkeys(few), "zz") == "one of " + ", ".join(few)
    many = [f"churn-{index:04d}" for index in range(1000)]
    assert _model_names(dict.fromkeys(many), "churn") == (
        "one of the 1000 models the cards name (closest: churn-0999, churn-0998, churn-0997)")
    assert _model_names(dict.fromkeys(many), "fraud") == "one of the 1000 models the cards name"
