"""How much slower is `modelcards build` than plain `mkdocs build` of the same pages?

For each catalog size N this script writes N synthetic model cards (plus about N/5
dataset cards) into a scratch folder and measures, wall clock:

* `modelcards build`: cards -> catalog -> pages -> MkDocs, in one process;
* `mkdocs build` of the tree that `modelcards generate --out` writes (the generate
  step itself is not timed), i.e. the cost of MkDocs + Material alone.

It prints both times, their ratio, the average size of a built model page and the
whole site's size, then a verdict against the targets of the foundation issue:
ratio <= 1.2 at the largest N, and the average model page at the largest N no more
than 1.5x its size at the smallest N (the nav must not grow with the catalog).
The exit code is 1 when a target is missed, so CI can run it if it wants to.

The verdict uses wall-clock time, as the issue asks. CPU time (user + system) is
printed beside it because it barely moves when other work shares the machine: when
the two ratios disagree, the machine was busy; rerun with --repeat 3.

With --runs-per-card R, each model card also gets R run exports (as `modelcards pull`
writes them): one per version, which the version names and whose params and metrics
agree with it, plus extra runs standing in for tuning trials. Every run gets a page, so
the plain build gets those pages too.

The synthetic projects are not git repositories, so their builds read no history. The audit trail's cost
is measured on its own, as the issue asks, and printed last: a git repository of 1,000 cards with 20 commits
each, read in one pass, and the frozen-version check over it (benchmarks/history_speed.py; --history-cards 0
skips it).

    .venv/bin/python benchmarks/build_speed.py [--sizes 10,100,1000] [--repeat 1] [--runs-per-card 10]
                                               [--history-cards 1000] [--history-commits 20]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from modelcards.site.standalone import default_mkdocs_yml
from modelcards.sources.record import write_export

sys.path.insert(0, str(Path(__file__).resolve().parent))
import history_speed  # noqa: E402
from synthetic_runs import synthetic_run  # noqa: E402

MAX_RATIO = 1.2
MAX_PAGE_GROWTH = 1.5
SOURCE_DATE_EPOCH = "1700000000"
BIN = Path(sys.executable).parent  # modelcards and mkdocs live beside this interpreter

TAGS = [
    "tabular", "nlp", "vision", "fraud", "churn", "pricing", "ranking", "forecasting", "credit", "marketing",
    "healthcare", "pii", "gdpr", "batch", "realtime", "experimental", "regulated", "eu", "us", "internal",
]
METRICS = [
    ("roc_auc", "Area under the ROC curve on the held-out set.", True, 0.8),
    ("accuracy", "Share of correct predictions.", True, 0.85),
    ("f1", "Harmonic mean of precision and recall.", True, 0.7),
    ("log_loss", "Cross-entropy on the evaluation set.", False, 0.5),
    ("latency_ms", "p95 inference latency in milliseconds.", False, 50.0),
]
FRAMEWORKS = ["scikit-learn 1.5", "xgboost 2.1", "lightgbm 4.5", "pytorch 2.4", "tensorflow 2.17"]
ARCHITECTURES = ["gradient-boosted trees", "random forest", "logistic regression", "two-tower MLP", "transformer"]
TEAMS = ["risk-ml", "growth-ml", "search-relevance", "forecasting", "platform-ml", "trust-and-safety"]
PEOPLE = ["alice", "bob", "carol", "dmitri", "esther", "farid", "grace", "hiro"]
ENVIRONMENTS = ["staging", "production", "eu-batch", "us-realtime"]
STATUSES = ["draft", "staging", "production", "production", "deprecated"]
RISK_TIERS = ["low", "medium", "high", "critical"]
WORDS = (
    "model predicts score customer transaction window feature drift label holdout segment daily weekly "
    "threshold calibrated review audit retrained sample balanced region cohort signal latency batch"
).split()


def _sentence(rng: random.Random, words: int = 12) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _digest(rng: random.Random) -> str:
    return "sha256:" + "".join(rng.choice("0123456789abcdef") for _ in range(64))


def _date(rng: random.Random, year: int, month: int) -> str:
    return f"{year}-{month:02d}-{rng.randint(1, 28):02d}"


def dataset_card(rng: random.Random, index: int) -> dict:
    versions = [
        {"version": f"v{v}", "digest": _digest(rng), "date": _date(rng, 2023, v * 2),
         "rows": rng.randint(10_000, 5_000_000), "description": _sentence(rng, 8)}
        for v in range(1, rng.randint(2, 4) + 1)
    ]
    return {
        "kind": "dataset",
        "name": f"dataset-{index:04d}",
        "title": f"Dataset {index:04d}: {rng.choice(WORDS)} {rng.choice(WORDS)} events",
        "description": _sentence(rng, 25),
        "source": f"s3://warehouse/exports/dataset-{index:04d}/",
        "owner": {"name": rng.choice(TEAMS), "contact": "data@example.com"},
        "license": "internal",
        "tags": rng.sample(TAGS, 2),
        "versions": versions,
    }


def model_card(rng: random.Random, index: int, datasets: list[dict]) -> dict:
    metrics = rng.sample(METRICS, 3)
    used = rng.sample(datasets, min(len(datasets), 2))
    train, evaluation = used[0], used[-1]
    versions = []
    for v in range(rng.randint(3, 5)):
        refs = [
            {"dataset": d["name"], "version": dv["version"], "digest": dv["digest"], "role": role}
            for d, role in ((train, "training"), (evaluation, "evaluation"))
            for dv in [rng.choice(d["versions"])]
        ]
        versions.append({
            "version": f"1.{v}.0",
            "date": _date(rng, 2024, v + 1),
            "changes": _sentence(rng, 14),
            "reason": _sentence(rng, 10),
            "metrics": {name: round(rng.uniform(0.6, 0.99) if better else rng.uniform(0.1, 60), 4)
                        for name, _, better, _ in metrics},
            "params": {"learning_rate": rng.choice([0.01, 0.05, 0.1]), "max_depth": rng.randint(3, 12),
                       "n_estimators": rng.choice([100, 200, 500]), "objective": "binary",
                       "class_weight": rng.choice(["balanced", "none"])},
            "data": refs,
            "code": {"repo": "https://git.example.com/ml/models", "commit": "%040x" % rng.getrandbits(160),
                     "path": f"train/model_{index:04d}.py"},
            "run": f"mlflow:{rng.getrandbits(128):032x}",
        })
    labels = [v["version"] for v in versions]
    deployments = [
        {"environment": rng.choice(ENVIRONMENTS), "version": label, "date": _date(rng, 2024, 6 + i),
         "by": rng.choice(PEOPLE), "reason": _sentence(rng, 8)}
        for i, label in enumerate(rng.sample(labels, rng.randint(2, 3)))
    ]
    deployments.append({"environment": "production", "version": labels[0], "date": "2024-12-01",
                        "by": rng.choice(PEOPLE), "reason": "Regression in the latest version.",
                        "rollback_of": labels[-1]})
    return {
        "name": f"model-{index:04d}",
        "title": f"Model {index:04d}: {rng.choice(WORDS)} {rng.choice(WORDS)} classifier",
        "summary": _sentence(rng, 20),
        "owners": [{"name": rng.choice(TEAMS), "contact": "ml@example.com", "role": "owner"},
                   {"name": rng.choice(PEOPLE), "role": "reviewer"}],
        "tags": rng.sample(TAGS, rng.randint(2, 4)),
        "status": rng.choice(STATUSES),
        "risk_tier": rng.choice(RISK_TIERS),
        "license": "Apache-2.0",
        "model_details": {
            "type": "binary classifier",
            "framework": rng.choice(FRAMEWORKS),
            "architecture": rng.choice(ARCHITECTURES),
            "inputs": [{"name": f"feature_{i}", "type": rng.choice(["float", "category", "int"]),
                        "description": _sentence(rng, 6)} for i in range(6)],
            "outputs": [{"name": "score", "type": "float", "description": "Probability of the positive class."}],
            "base_model": None if index % 3 else f"model-{max(index - 1, 0):04d}",
            "references": ["https://wiki.example.com/ml/design", f"JIRA ML-{1000 + index}"],
            "citation": "ML team (2024). Internal model documentation.",
        },
        "intended_use": {
            "primary_uses": [_sentence(rng, 10), _sentence(rng, 8)],
            "primary_users": ["Risk analysts", "Automated decision service"],
            "out_of_scope": [_sentence(rng, 9)],
        },
        "factors": [{"name": f, "description": _sentence(rng, 10)} for f in ("region", "customer tenure", "device")],
        "metrics": [{"name": name, "description": text, "higher_is_better": better, "threshold": threshold}
                    for name, text, better, threshold in metrics],
        "training_data": {"datasets": [train["name"]], "description": _sentence(rng, 18),
                          "preprocessing": _sentence(rng, 14)},
        "evaluation_data": {"datasets": [evaluation["name"]], "description": _sentence(rng, 12),
                            "preprocessing": _sentence(rng, 8)},
        "quantitative_analyses": [
            {"metric": metrics[0][0], "slice": s, "value": round(rng.uniform(0.6, 0.99), 4),
             "confidence_interval": [0.6, 0.99]}
            for s in ("all", "region = eu", "region = us", "tenure < 1y")
        ],
        "ethical_considerations": [{"name": _sentence(rng, 6), "mitigation": _sentence(rng, 12)} for _ in range(2)],
        "caveats": [_sentence(rng, 12), _sentence(rng, 10)],
        "recommendations": [_sentence(rng, 10)],
        "versions": versions,
        "deployments": deployments,
        "custom": {"cost_center": f"CC-{rng.randint(100, 999)}", "sla": {"p95_ms": 50, "availability": "99.9%"}},
    }


def write_cards(cards_dir: Path, n: int, runs_per_card: int = 0) -> int:
    """N model cards (and their runs under ``runs/`` beside ``cards_dir``); returns the number of runs."""
    rng = random.Random(n)  # the same N gives the same cards on every run
    datasets = [dataset_card(rng, i) for i in range(max(2, n // 5))]
    cards_dir.mkdir(parents=True)
    for card in datasets:
        (cards_dir / f"{card['name']}.yml").write_text(yaml.safe_dump(card, sort_keys=False), encoding="utf-8")
    runs = []
    for i in range(n):
        card = model_card(rng, i, datasets)
        card = {k: v for k, v in card.items() if v is not None}
        card["model_details"] = {k: v for k, v in card["model_details"].items() if v is not None}
        if runs_per_card:
            runs += card_runs(rng, card, runs_per_card)
        else:
            for version in card["versions"]:
                del version["run"]
        (cards_dir / f"{card['name']}.yml").write_text(yaml.safe_dump(card, sort_keys=False), encoding="utf-8")
    if runs:
        write_export(runs, cards_dir.parent / "runs")
    return len(runs)


def card_runs(rng: random.Random, card: dict, count: int) -> list:
    """The runs behind a card's versions, agreeing with them, then tuning trials up to ``count``."""
    runs = [synthetic_run(rng, v["run"].split(":", 1)[1], experiment=card["name"], params=v["params"],
                          metrics=v["metrics"]) for v in card["versions"]]
    runs += [synthetic_run(rng, "%032x" % rng.getrandbits(128), experiment=card["name"])
             for _ in range(count - len(runs))]
    return runs


# --- measuring ------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # user + system of the command; much less disturbed than wall by other work on the machine


def run(args: list[str], cwd: Path) -> Timing:
    """Time one command; its output is shown only when it fails."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"benchmark: {' '.join(args)} failed with exit code {done.returncode}:\n{done.stderr}{done.stdout}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(elapsed, cpu)


def model_pages(site: Path) -> dict[str, bytes]:
    return {page.parent.name: page.read_bytes() for page in sorted(site.glob("models/*/index.html"))}


def tree_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


@dataclass
class Result:
    n: int
    runs: int
    modelcards: Timing
    mkdocs: Timing
    avg_model_page: float
    site_bytes: int
    pages_differing: int  # model pages whose HTML differs between the two builds; should be 0

    @property
    def ratio(self) -> float:
        return self.modelcards.wall / self.mkdocs.wall

    @property
    def cpu_ratio(self) -> float:
        return self.modelcards.cpu / self.mkdocs.cpu


def measure(n: int, repeat: int, scratch: Path, runs_per_card: int = 0) -> Result:
    project = scratch / f"n{n}"
    shutil.rmtree(project, ignore_errors=True)  # left by an earlier run with --keep
    runs = write_cards(project / "cards", n, runs_per_card)
    (project / "docs").mkdir()
    config = project / "mkdocs.yml"
    # The same theme and extensions that `generate` writes for the plain build: Material, font: false.
    config.write_text(default_mkdocs_yml(project_dir=project, docs_dir=project / "docs"), encoding="utf-8")
    run([str(BIN / "modelcards"), "generate", "--out", "plain", "-f", str(config)], project)

    modelcards_times, mkdocs_times = [], []
    for _ in range(repeat):  # alternate the two, so a busy neighbour slows both alike
        modelcards_times.append(run([str(BIN / "modelcards"), "build", "-f", str(config), "-d", "site"], project))
        mkdocs_times.append(run([str(BIN / "mkdocs"), "build", "-q", "-f", "plain/mkdocs.yml",
                                 "-d", str(project / "plain-site")], project))

    built = model_pages(project / "site")
    plain = model_pages(project / "plain-site")
    if len(built) != n or len(plain) != n:
        sys.exit(f"benchmark: expected {n} model pages, found {len(built)} (modelcards) and {len(plain)} (mkdocs)")
    return Result(
        n,
        runs=runs,
        modelcards=min(modelcards_times, key=lambda t: t.wall),
        mkdocs=min(mkdocs_times, key=lambda t: t.wall),
        avg_model_page=statistics.mean(len(html) for html in built.values()),
        site_bytes=tree_size(project / "site"),
        pages_differing=sum(built[name] != plain.get(name) for name in built),
    )


# --- reporting --------------------------------------------------------------------

def print_table(results: list[Result]) -> None:
    header = (f"{'N':>6}  {'runs':>6}  {'modelcards s':>12}  {'mkdocs s':>9}  {'ratio':>6}  {'avg model page KB':>17}  "
              f"{'site MB':>8}    {'CPU s (mc / mkdocs)':>19}  {'CPU ratio':>9}")
    print(header)
    print("-" * len(header))
    for r in results:
        cpu = f"{r.modelcards.cpu:.2f} / {r.mkdocs.cpu:.2f}"
        print(f"{r.n:>6}  {r.runs:>6}  {r.modelcards.wall:>12.2f}  {r.mkdocs.wall:>9.2f}  {r.ratio:>6.2f}  "
              f"{r.avg_model_page / 1024:>17.1f}  {r.site_bytes / 1024 ** 2:>8.1f}    {cpu:>19}  {r.cpu_ratio:>9.2f}")
    for r in results:
        if r.pages_differing:
            print(f"warning: at N={r.n}, {r.pages_differing} model page(s) differ between the two builds, so they did "
                  "not build the same Markdown (was the code edited during the run?)")


def verdict(results: list[Result]) -> list[str]:
    """The targets that were missed, as sentences; empty when all are met."""
    smallest, largest = results[0], results[-1]
    growth = largest.avg_model_page / smallest.avg_model_page
    missed = []
    if largest.ratio > MAX_RATIO:
        missed.append(f"ratio {largest.ratio:.2f} at N={largest.n} is above {MAX_RATIO}")
    if growth > MAX_PAGE_GROWTH:
        missed.append(f"model pages grow {growth:.2f}x from N={smallest.n} to N={largest.n}, "
                      f"above {MAX_PAGE_GROWTH}x")
    status = "FAIL: " + "; ".join(missed) if missed else "PASS"
    print(f"\n{status} (targets at N={largest.n}: ratio <= {MAX_RATIO}, measured {largest.ratio:.2f} wall clock, "
          f"{largest.cpu_ratio:.2f} CPU; "
          f"model page <= {MAX_PAGE_GROWTH}x its size at N={smallest.n}, measured {growth:.2f}x)")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000", help="Catalog sizes N, comma-separated (default: %(default)s).")
    parser.add_argument("--repeat", type=int, default=1, help="Builds per N; the fastest is reported.")
    parser.add_argument("--runs-per-card", type=int, default=0,
                        help="Run exports per model card (at least its version count when set).")
    parser.add_argument("--keep", type=Path, default=None, help="Keep the scratch projects in this folder.")
    parser.add_argument("--history-cards", type=int, default=1000,
                        help="Cards in the git repository whose audit trail is timed; 0 skips it.")
    parser.add_argument("--history-commits", type=int, default=20, help="Commits per card in that repository.")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    if not sizes or min(sizes) < 1 or args.repeat < 1:
        parser.error("--sizes needs positive numbers and --repeat at least 1")

    scratch = args.keep or Path(tempfile.mkdtemp(prefix="modelcards-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    print(f"modelcards build vs plain mkdocs build of the same pages; {os.cpu_count()} CPU(s), "
          f"fastest of {args.repeat} run(s)\n", flush=True)
    try:
        results = []
        for n in sizes:
            results.append(measure(n, args.repeat, scratch, args.runs_per_card))
            print(f"  N={n} done", file=sys.stderr, flush=True)
        print_table(results)
        missed = verdict(results)
        if args.history_cards > 0:
            line, kept = history_speed.measure(args.history_cards, args.history_commits)
            print(line)
            missed += [] if kept else ["the audit trail took more than 5 git processes or found a frozen version"]
        return 1 if missed else 0
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
