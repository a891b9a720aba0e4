"""How does `modelcards build` compare with plain `mkdocs build` on a catalog that looks like a real one?

The synthetic cards of build_speed.py have no explanations, so they hide what real catalogs cost. This
benchmark builds the project's own tree (docs/, mkdocs.yml, policy.yml, artifacts/, pipelines/, runs/) with
its cards replaced by N renamed copies of the example cards, cycling through them. Every copy keeps what
the example has:

* explained versions: computed from the example's model and data files (SHAP), or embedded from stored
  SHAP values; the copies share those files, so the explanation cache computes each once per cold build;
* linked runs: each copy's MLflow runs are copied under new ids (the card names them), so every model has
  runs of its own; the DVC pipeline and its pinned run stay shared;
* datasets and deployments, approvals, the policy gates and the lineage diagrams.

For each N it measures, wall clock and CPU, with the peak memory of the process tree (``/usr/bin/time``,
the largest resident set of one process):

* ``modelcards build`` cold: no ``.modelcards-cache``, as a CI job without a cache builds;
* ``modelcards build`` warm: the same again, nothing changed (the cache of the cold build kept);
* plain ``mkdocs build`` of the tree that ``modelcards generate`` writes (generate itself is timed apart).

Then the site's size, the bytes of SHAP plots (``explain/**.svg``) per explained version (renamed copies share
their plot files, so also the number of files and the largest), and the ratios
against the targets of the "Fast at real scale" issue (at the largest N: cold <= 1.2x, warm <= 1.1x, peak
memory <= 1.5x plain MkDocs, site <= 200 MB, SHAP plots <= 30 KB per explained version). The exit code is 1
when a target is missed at the largest N.

    .venv/bin/python benchmarks/realistic_build.py [--sizes 100,1000] [--cards NAME,...] [--keep DIR]

``--cards`` copies only the named example cards (file stems in cards/), e.g. ``--cards
breast-cancer-classifier`` for the catalog of the "Fast at real scale" issue: 1,000 copies of one card.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # modelcards and mkdocs live beside this interpreter
SOURCE_DATE_EPOCH = "1700000000"
EXAMPLE_CARDS = sorted(p for p in (REPO / "cards").glob("*.yml"))
PROJECT_PARTS = ("docs", "mkdocs.yml", "policy.yml", "artifacts", "pipelines", "runs/dvc", "monitoring")
TARGETS = {"cold": 1.2, "warm": 1.1, "memory": 1.5}
MAX_SITE_MB = 200
MAX_PLOT_KB = 30
MLFLOW_REF = re.compile(r"mlflow:([0-9a-f]{32})")


# --- the catalog ------------------------------------------------------------------

def examples_named(names: str | None) -> list[Path]:
    """The example cards named (file stems in cards/, comma-separated); every one for None. Exits on a name
    that is not an example card's."""
    if not names:
        return EXAMPLE_CARDS
    known = {card.stem: card for card in EXAMPLE_CARDS}
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    if unknown := [name for name in wanted if name not in known]:
        sys.exit(f"benchmark: --cards: no example card {', '.join(unknown)} (known: {', '.join(known)})")
    return [known[name] for name in wanted]


def write_project(project: Path, n: int, examples: list[Path] = EXAMPLE_CARDS) -> int:
    """The project tree with N renamed copies of the example cards (``examples``, in turn); returns the number
    of run exports."""
    for part in PROJECT_PARTS:
        source, target = REPO / part, project / part
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    shutil.copytree(REPO / "cards" / "datasets", project / "cards" / "datasets")
    shutil.copy2(REPO / "cards" / "card.schema.json", project / "cards" / "card.schema.json")
    runs_dir = project / "runs" / "mlflow"
    runs_dir.mkdir(parents=True)
    exports = {path.stem.split("-", 1)[1]: path.read_text(encoding="utf-8")
               for path in (REPO / "runs" / "mlflow").glob("mlflow-*.json")}
    written = 0
    for index in range(n):
        example = examples[index % len(examples)]
        original = example.stem
        name = f"{original}-{index:04d}"
        text = re.sub(rf"^name: {re.escape(original)}$", f"name: {name}", example.read_text(encoding="utf-8"),
                      count=1, flags=re.MULTILINE)
        for run_id in sorted(set(MLFLOW_REF.findall(text))):
            new_id = hashlib.md5(f"{name}/{run_id}".encode()).hexdigest()
            text = text.replace(run_id, new_id)
            export = exports[run_id].replace(run_id, new_id).replace(f'"{original}"', f'"{name}"')
            (runs_dir / f"mlflow-{new_id}.json").write_text(export, encoding="utf-8")
            written += 1
        (project / "cards" / f"{name}.yml").write_text(text, encoding="utf-8")
    # The example's monitoring results go to the first copy of their model, which shows them as the example
    # does; left as they are, they would name a model that no card has, and each build would warn.
    first_copies = {card.stem: f"{card.stem}-{index:04d}" for index, card in enumerate(examples[:n])}
    for results in (project / "monitoring").rglob("*.jsonl"):
        text = results.read_text(encoding="utf-8")
        for original, name in first_copies.items():
            text = text.replace(f'"model": "{original}"', f'"model": "{name}"')
        results.write_text(text, encoding="utf-8")
    return written


# --- measuring ----------------------------------------------------------------------

@dataclass(frozen=True)
class Measured:
    wall: float
    cpu: float  # user + system of the process tree
    peak_mb: float  # the largest resident set of one process in the tree


def run(args: list[str], cwd: Path) -> Measured:
    """Time one command under /usr/bin/time; its output is shown only when it fails."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", report.name, *args], cwd=cwd, env=env,
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"benchmark: {' '.join(args)} failed with exit code {done.returncode}:\n"
                     f"{done.stderr[-4000:]}{done.stdout[-2000:]}")
        peak_kb, user, system = report.read().split()[-3:]
    return Measured(elapsed, float(user) + float(system), int(peak_kb) / 1024)


def tree_bytes(folder: Path, pattern: str = "*") -> int:
    return sum(f.stat().st_size for f in folder.rglob(pattern) if f.is_file())


@dataclass
class Result:
    n: int
    runs: int
    cold: Measured
    warm: Measured
    generate: Measured
    plain: Measured
    site_bytes: int
    plain_site_bytes: int
    plot_bytes: int
    explained_versions: int
    plot_files: list[int]  # the size of each plot file: versions with the same explanation share one

    def ratio(self, what: str) -> float:
        if what == "memory":
            return self.cold.peak_mb / self.plain.peak_mb
        return getattr(self, what).wall / self.plain.wall

    @property
    def plot_kb_per_version(self) -> float:
        return self.plot_bytes / max(self.explained_versions, 1) / 1024


def measure(n: int, scratch: Path, examples: list[Path]) -> Result:
    project = scratch / f"n{n}"
    shutil.rmtree(project, ignore_errors=True)  # left by an earlier run with --keep
    runs = write_project(project, n, examples)
    modelcards, mkdocs = str(BIN / "modelcards"), str(BIN / "mkdocs")
    print(f"  N={n}: {runs} run exports written; cold build ...", file=sys.stderr, flush=True)
    cold = run([modelcards, "build", "-d", "site"], project)
    print(f"  N={n}: cold {cold.wall:.1f} s; warm build ...", file=sys.stderr, flush=True)
    warm = run([modelcards, "build", "-d", "site"], project)
    generate = run([modelcards, "generate", "--out", "plain"], project)
    print(f"  N={n}: warm {warm.wall:.1f} s; plain mkdocs build ...", file=sys.stderr, flush=True)
    plain = run([mkdocs, "build", "-q", "-f", "plain/mkdocs.yml", "-d", str(project / "plain-site")], project)
    site = project / "site"
    explained = [d for d in (site / "explain").glob("*/*") if d.is_dir()] if (site / "explain").is_dir() else []
    plots = [f.stat().st_size for f in (site / "explain").rglob("*.svg")] if (site / "explain").is_dir() else []
    return Result(n, runs, cold, warm, generate, plain, tree_bytes(site), tree_bytes(project / "plain-site"),
                  sum(plots), len(explained), plots)


# --- reporting ----------------------------------------------------------------------

def print_results(results: list[Result]) -> None:
    for r in results:
        print(f"\nN={r.n} models ({r.explained_versions} explained versions, {r.runs} MLflow runs)")
        print(f"  {'':<28}{'wall s':>9}{'CPU s':>9}{'peak MB':>10}{'ratio':>8}")
        rows = [("modelcards build, cold", r.cold, r.ratio("cold")),
                ("modelcards build, warm", r.warm, r.ratio("warm")),
                ("modelcards generate", r.generate, None),
                ("plain mkdocs build", r.plain, None)]
        for label, m, ratio in rows:
            shown = f"{ratio:>7.2f}x" if ratio is not None else ""
            print(f"  {label:<28}{m.wall:>9.1f}{m.cpu:>9.1f}{m.peak_mb:>10.0f}{shown}")
        print(f"  peak memory, cold build / plain mkdocs: {r.ratio('memory'):.2f}x")
        print(f"  cache saves (cold - warm): {r.cold.wall - r.warm.wall:.1f} s")
        print(f"  site: {r.site_bytes / 1024 ** 2:.1f} MB (plain mkdocs: {r.plain_site_bytes / 1024 ** 2:.1f} MB); "
              f"SHAP plot SVGs {r.plot_bytes / 1024 ** 2:.1f} MB = {r.plot_kb_per_version:.1f} KB per explained version")
        if r.plot_files:
            print(f"  SHAP plot files: {len(r.plot_files)}, the largest {max(r.plot_files) / 1024:.1f} KB "
                  f"(versions with the same explanation share one)")


def verdict(result: Result) -> list[str]:
    missed = [f"{what} {result.ratio(what):.2f}x above {limit}x"
              for what, limit in TARGETS.items() if result.ratio(what) > limit]
    if result.site_bytes / 1024 ** 2 > MAX_SITE_MB:
        missed.append(f"site {result.site_bytes / 1024 ** 2:.0f} MB above {MAX_SITE_MB} MB")
    if result.plot_kb_per_version > MAX_PLOT_KB:
        missed.append(f"SHAP plots {result.plot_kb_per_version:.0f} KB per version above {MAX_PLOT_KB} KB")
    print(f"\n{'FAIL: ' + '; '.join(missed) if missed else 'PASS'} (targets at N={result.n}: cold <= "
          f"{TARGETS['cold']}x, warm <= {TARGETS['warm']}x, peak memory <= {TARGETS['memory']}x plain mkdocs, "
          f"site <= {MAX_SITE_MB} MB, SHAP plots <= {MAX_PLOT_KB} KB per explained version)")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000", help="Catalog sizes N, comma-separated (default: %(default)s).")
    parser.add_argument("--cards", default=None,
                        help="Copy only these example cards (file stems in cards/, comma-separated; default: all).")
    parser.add_argument("--keep", type=Path, default=None, help="Keep the scratch projects in this folder.")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    if not sizes or min(sizes) < 1:
        parser.error("--sizes needs positive numbers")
    examples = examples_named(args.cards)
    if not Path("/usr/bin/time").exists():
        sys.exit("benchmark: /usr/bin/time is needed for peak memory: apt-get install time")
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="modelcards-realistic-"))
    scratch.mkdir(parents=True, exist_ok=True)
    print(f"modelcards build vs plain mkdocs build, catalogs of renamed copies of {len(examples)} example "
          f"card(s); {os.cpu_count()} CPU(s)")
    try:
        results = [measure(n, scratch, examples) for n in sizes]
        print_results(results)
        return 1 if verdict(results[-1]) else 0
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
