"""How much does reading 100,000 monitoring points add to the build?

Writes a project with one high-tier model card (two versions, each deployed to production, a monitoring plan with
thresholds) and N monitoring points of the plain format, half as JSON Lines and half as CSV: five metrics, one an
hour, over the two deployments' windows, a tenth of them for a segment. Then it measures:

* read + evaluate, in this process: ``check_monitoring`` (reading both files, masking their texts, tying each
  point to its deployment, alerts and staleness); the CPU time of the fastest of --repeat passes;
* the whole `modelcards build`, wall clock and CPU, without the ``monitoring`` setting and with it, alternately
  (best of --repeat each); the added CPU seconds are the verdict (they barely move when other work shares the machine), and the deployment page's size is printed (its charts are thinned and its
  results table shows the latest rows only, so 100,000 points do not make a page of megabytes).

The target (monitoring issue): at most 1 s added to the build. The exit code is 1 when it is missed.

    .venv/bin/python benchmarks/monitoring_speed.py [--points 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from modelcards.build import check_monitoring, check_project, project_masker
from modelcards.config import settings_from

TARGET_SECONDS = 1.0
BIN = Path(sys.executable).parent
SOURCE_DATE_EPOCH = "1798761600"  # 2027-01-01
METRICS = ("recall", "precision", "roc_auc", "drift_share", "latency_p95")
START = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)

CARD = {
    "name": "watched", "title": "A watched model", "risk_tier": "high", "metrics": [{"name": "recall"}],
    "monitoring": {"description": "Recall against final labels, drift against the training rows.",
                   "thresholds": [{"metric": "recall", "min": 0.9}, {"metric": "drift_share", "max": 0.3}],
                   "cadence": "daily", "owner": "ml-oncall"},
    "versions": [{"version": "1.0", "date": "2024-12-01", "metrics": {"recall": 0.95}},
                 {"version": "2.0", "date": "2025-12-01", "metrics": {"recall": 0.96}}],
    "deployments": [{"environment": "production", "version": "1.0", "date": "2025-01-01", "by": "ana"},
                    {"environment": "production", "version": "2.0", "date": "2026-01-01", "by": "ana"}],
}


def write_project(root: Path, points: int, *, monitoring: bool) -> Path:
    (root / "cards").mkdir(parents=True, exist_ok=True)
    (root / "docs").mkdir(exist_ok=True)
    (root / "cards" / "watched.yml").write_text(yaml.safe_dump(CARD, sort_keys=False))
    options = {"cards_dir": "cards", "environments": ["production"],
               "lineage_checks": {"no_run": "off", "no_code_commit": "off", "no_data_version": "off"}}
    if monitoring:
        options["monitoring"] = ["monitoring"]
    config = root / "mkdocs.yml"
    config.write_text(yaml.safe_dump({"site_name": "Bench", "theme": {"name": "material", "font": False},
                                      "plugins": ["search", {"modelcards": options}]}, sort_keys=False))
    return config


def write_points(folder: Path, count: int) -> int:
    """``count`` points, half JSON Lines and half CSV; their bytes."""
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for index in range(count):
        hour, metric = divmod(index, len(METRICS))
        when = START + dt.timedelta(hours=hour)
        version = "1.0" if when.year == 2025 else "2.0"
        value = {"drift_share": rng.uniform(0.0, 0.29), "latency_p95": rng.uniform(80, 140)}.get(
            METRICS[metric], rng.uniform(0.91, 0.99))
        if index % 997 == 0:
            value -= 0.05  # now and then a result out of its band: an alert
        segment = f"clinic-{index % 7}" if index % 10 == 0 else ""
        rows.append((when.strftime("%Y-%m-%dT%H:%M:%SZ"), version, METRICS[metric], round(value, 5), segment))
    half = count // 2
    with open(folder / "hourly.jsonl", "w", encoding="utf-8") as out:
        for timestamp, version, metric, value, segment in rows[:half]:
            row = {"timestamp": timestamp, "model": "watched", "version": version, "environment": "production",
                   "metric": metric, "value": value}
            if segment:
                row["segment"] = segment
            out.write(json.dumps(row) + "\n")
    with open(folder / "hourly.csv", "w", encoding="utf-8") as out:
        out.write("timestamp,model,version,environment,metric,value,segment\n")
        for timestamp, version, metric, value, segment in rows[half:]:
            out.write(f"{timestamp},watched,{version},production,{metric},{value},{segment}\n")
    return sum(f.stat().st_size for f in folder.iterdir())


def build(project: Path, config: Path) -> tuple[float, float]:
    """Wall clock and CPU seconds of one `modelcards build`."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "modelcards"), "build", "-f", str(config), "-d", "site"], cwd=project, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"benchmark: build failed with exit code {done.returncode}:\n{done.stderr[-3000:]}{done.stdout}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="Timed passes; the fastest is reported.")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="modelcards-monitoring-bench-"))
    try:
        size = write_points(scratch / "monitoring", args.points)
        config = write_project(scratch, args.points, monitoring=True)
        os.environ["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
        settings = settings_from(yaml.safe_load(config.read_text())["plugins"][1]["modelcards"],
                                 project_dir=scratch, config_file=config)
        catalog = check_project(settings).catalog
        assert catalog is not None
        stage = []
        for _ in range(args.repeat):
            gc.collect()
            before = resource.getrusage(resource.RUSAGE_SELF)
            found = check_monitoring(settings, catalog, project_masker(settings))
            after = resource.getrusage(resource.RUSAGE_SELF)
            stage.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        read = sum(len(d.points) for d in found.models["watched"].deployments)
        unread = [p for p in found.problems if p.path.startswith("monitoring/")]  # the card's unanswered alerts are fine
        if read != args.points or unread:
            sys.exit(f"benchmark: tied {read} of {args.points} points; problems: {unread[:3]}")
        alerts = sum(len(d.alerts) for d in found.models["watched"].deployments)

        # The builds with and without alternate, so that both see the same load when the machine is shared.
        withs, withouts, page_kb = [], [], 0.0
        for _ in range(args.repeat):
            write_project(scratch, args.points, monitoring=True)
            withs.append(build(scratch, config))
            pages = sorted((scratch / "site" / "models" / "watched" / "monitoring").glob("*/index.html"))
            page_kb = max(page.stat().st_size for page in pages) / 1024
            write_project(scratch, args.points, monitoring=False)
            withouts.append(build(scratch, config))
        with_points, without = (min(times, key=lambda t: t[1]) for times in (withs, withouts))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    added = with_points[0] - without[0]
    added_cpu = with_points[1] - without[1]
    print(f"monitoring points: {args.points:,} ({size / 1e6:.1f} MB of JSON Lines and CSV), {alerts:,} alerts; "
          f"{os.cpu_count()} CPU(s)")
    print(f"read + evaluate (CPU, best of {args.repeat}): {min(stage):.2f} s "
          f"({args.points / min(stage):,.0f} points/s)")
    print(f"modelcards build without the points: {without[0]:.2f} s; with them: {with_points[0]:.2f} s; "
          f"added {added:+.2f} s (ratio {with_points[0] / without[0]:.2f})")
    print(f"  CPU: without {without[1]:.2f} s; with {with_points[1]:.2f} s; added {added_cpu:+.2f} s "
          f"(ratio {with_points[1] / without[1]:.2f}; when wall clock and CPU disagree, the machine was busy)")
    print(f"largest deployment page: {page_kb:,.0f} KB")
    if added_cpu > TARGET_SECONDS:
        print(f"MISSED: reading {args.points:,} points added {added_cpu:.2f} CPU s to the build; the target is at most "
              f"{TARGET_SECONDS:g} s")
        return 1
    print(f"OK: at most {TARGET_SECONDS:g} s added")
    return 0


if __name__ == "__main__":
    sys.exit(main())
