"""How big is the site of a project with 10,000 runs, most of them tuning trials?

Writes C synthetic model cards (build_speed.py's) and R runs per card as `modelcards pull` exports them:
one run per card version (the card names it), one sweep run, and the rest trials of that sweep (MLflow's
``mlflow.parentRunId`` tag names it). Builds the site with ``modelcards build`` and prints its size, the
number of run pages and the wall time, then checks the target of the "Fast at real scale" issue: the site
at 10,000 runs is at most 150 MB. With --trial-pages it also builds with ``trial_pages: true`` (a page per
trial, as before), to show what summarising saves. The exit code is 1 when the target is missed.

    .venv/bin/python benchmarks/run_pages_size.py [--cards 50] [--runs-per-card 200] [--trial-pages]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import yaml

from modelcards.site.standalone import default_mkdocs_yml
from modelcards.sources.record import write_export

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_speed import SOURCE_DATE_EPOCH, dataset_card, model_card, tree_size  # noqa: E402
from synthetic_runs import synthetic_run  # noqa: E402

MAX_SITE_MB = 150
BIN = Path(sys.executable).parent


def write_project(project: Path, cards: int, runs_per_card: int) -> int:
    rng = random.Random(cards * runs_per_card)
    cards_dir = project / "cards"
    cards_dir.mkdir(parents=True)
    datasets = [dataset_card(rng, i) for i in range(max(2, cards // 5))]
    for card in datasets:
        (cards_dir / f"{card['name']}.yml").write_text(yaml.safe_dump(card, sort_keys=False), encoding="utf-8")
    runs = []
    for index in range(cards):
        card = model_card(rng, index, datasets)
        card["model_details"] = {k: v for k, v in card["model_details"].items() if v is not None}
        name = card["name"]
        runs += [synthetic_run(rng, v["run"].split(":", 1)[1], experiment=name, params=v["params"],
                               metrics=v["metrics"]) for v in card["versions"]]
        sweep_id = "%032x" % rng.getrandbits(128)
        runs.append(synthetic_run(rng, sweep_id, experiment=name))
        for _ in range(runs_per_card - len(card["versions"]) - 1):
            trial = synthetic_run(rng, "%032x" % rng.getrandbits(128), experiment=name)
            runs.append(replace(trial, tags={**trial.tags, "mlflow.parentRunId": sweep_id}))
        (cards_dir / f"{name}.yml").write_text(yaml.safe_dump(card, sort_keys=False), encoding="utf-8")
    write_export(runs, project / "runs")
    (project / "docs").mkdir()
    return len(runs)


def build(project: Path, out: str, trial_pages: bool) -> tuple[float, int, int]:
    """Wall seconds, site bytes and run pages of one build."""
    config = project / f"mkdocs-{out}.yml"
    text = default_mkdocs_yml(project_dir=project, docs_dir=project / "docs")
    config.write_text(f"{text}      trial_pages: {str(trial_pages).lower()}\n", encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "modelcards"), "build", "-f", str(config), "-d", str(project / out)],
                          cwd=project, env={**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH},
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"benchmark: build failed with exit code {done.returncode}:\n{done.stderr[-4000:]}")
    site = project / out
    return elapsed, tree_size(site), len(list(site.glob("runs/*/*/index.html")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=50)
    parser.add_argument("--runs-per-card", type=int, default=200)
    parser.add_argument("--trial-pages", action="store_true", help="Also build with a page per trial.")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="modelcards-run-pages-"))
    try:
        runs = write_project(scratch, args.cards, args.runs_per_card)
        print(f"{args.cards} model cards, {runs} runs ({args.runs_per_card} per card: its versions' runs, one "
              f"sweep, the rest the sweep's trials)\n")
        print(f"{'build':<26}{'wall s':>8}{'site MB':>9}{'run pages':>11}")
        modes = [("trials summarised", False)] + ([("a page per trial", True)] if args.trial_pages else [])
        sizes = {}
        for label, trial_pages in modes:
            wall, size, pages = build(scratch, "site-all" if trial_pages else "site", trial_pages)
            sizes[trial_pages] = size
            print(f"{label:<26}{wall:>8.1f}{size / 1024 ** 2:>9.1f}{pages:>11}", flush=True)
        site_mb = sizes[False] / 1024 ** 2
        ok = site_mb <= MAX_SITE_MB
        print(f"\n{'PASS' if ok else 'FAIL'} (target: site <= {MAX_SITE_MB} MB at {runs} runs, measured "
              f"{site_mb:.1f} MB)")
        return 0 if ok else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
