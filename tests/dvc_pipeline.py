"""A real git + DVC pipeline for lineage tests: raw -> prepare -> featurize -> a foreach `train` stage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from modelcards.catalog import build_catalog
from modelcards.lineage.graph import build_graph

PYTHON = Path(sys.executable)
DVC = PYTHON.parent / "dvc"

TRAIN_STAGE = """\
  train:
    foreach: [us, eu, asia]
    do:
      cmd: {python} src/train.py ${{item}}
      deps:
      - src/train.py
      - data/features.csv
      outs:
      - models/${{item}}.json
"""
RAW = b"a,b\n1,2\n3,4\n5,6\n"


def make_dvc_pipeline(pipeline: Path) -> None:
    """Made with `dvc stage add` and `dvc repro`, committed; data/raw.csv holds ``RAW``."""
    root = pipeline.parent
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(root / ".dvc-site-cache"),
           "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

    def run(*args: str | Path) -> None:
        done = subprocess.run([str(a) for a in args], cwd=pipeline, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr

    (pipeline / "data").mkdir(parents=True)
    (pipeline / "src").mkdir()
    (pipeline / "data/raw.csv").write_bytes(RAW)
    (pipeline / "src/prepare.py").write_text(
        'open("data/prepared.csv", "w").write(open("data/raw.csv").read().upper())\n', encoding="utf-8")
    (pipeline / "src/featurize.py").write_text(
        'open("data/features.csv", "w").write(open("data/prepared.csv").read()[::-1])\n', encoding="utf-8")
    (pipeline / "src/train.py").write_text(
        "import os, sys\nos.makedirs('models', exist_ok=True)\n"
        "open(f'models/{sys.argv[1]}.json', 'w').write(str(len(open('data/features.csv').read())))\n",
        encoding="utf-8")
    run("git", "init", "-q", "-b", "main")
    run(DVC, "init", "-q")
    run(DVC, "stage", "add", "-q", "-n", "prepare", "-d", "src/prepare.py", "-d", "data/raw.csv",
        "-o", "data/prepared.csv", f"{PYTHON} src/prepare.py")
    run(DVC, "stage", "add", "-q", "-n", "featurize", "-d", "src/featurize.py", "-d", "data/prepared.csv",
        "-o", "data/features.csv", f"{PYTHON} src/featurize.py")
    with (pipeline / "dvc.yaml").open("a", encoding="utf-8") as dvc_yaml:  # `dvc stage add` cannot write foreach
        dvc_yaml.write(TRAIN_STAGE.format(python=PYTHON))
    run(DVC, "repro", "-q")
    run("git", "add", "-A")
    run("git", "commit", "-q", "-m", "pipeline")


def stage_links(records) -> list[tuple[str, str, str]]:
    """(producer stage, consumer stage, path) for each piece of data the build's lineage graph puts between two
    DVC runs: one run's output that another run reads."""
    graph = build_graph(build_catalog([], runs={record.ref: record for record in records}))
    links = set()
    for written in graph.edges:
        if written.kind != "output":
            continue
        for read in graph.outgoing.get(written.target, ()):
            if read.kind == "input":
                links.add((written.source.removeprefix("run:dvc:"), read.target.removeprefix("run:dvc:"),
                           graph.nodes[written.target].label))
    return sorted(links)


TRAIN_SCRIPT = """\
import json, yaml
C = yaml.safe_load(open("params.yaml"))["C"]
open("model.txt", "w").write(f"weights for C={C}\\n")
json.dump({"roc_auc": {1.0: 0.762, 0.1: 0.624}[C]}, open("metrics.json", "w"))
"""


class GitDvcProject:
    """A git repository whose sub-folder ``pipeline/`` is a DVC project with one `train` stage.

    ``train`` reads ``C`` from params.yaml and writes model.txt and metrics.json (roc_auc 0.762 for C = 1.0,
    0.624 for C = 0.1). ``retrain(C)`` changes the param, runs `dvc repro` and commits.
    """

    def __init__(self, root: Path):
        self.root = root
        self.pipeline = root / "pipeline"
        self.env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(root.parent / ".dvc-site-cache"),
                    "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "T",
                    "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull,
                    "GIT_CONFIG_NOSYSTEM": "1"}
        self.pipeline.mkdir(parents=True)
        self.run("git", "init", "-q", "-b", "main", cwd=root)
        self.run(DVC, "init", "-q", "--subdir")
        (self.pipeline / "train.py").write_text(TRAIN_SCRIPT, encoding="utf-8")
        (self.pipeline / "params.yaml").write_text("C: 1.0\n", encoding="utf-8")
        self.run(DVC, "stage", "add", "-q", "-n", "train", "-p", "C", "-d", "train.py", "-o", "model.txt",
                 "-M", "metrics.json", f"{PYTHON} train.py")
        self.run(DVC, "repro", "-q")
        self.commit("first training")

    def run(self, *args: str | Path, cwd: Path | None = None) -> str:
        done = subprocess.run([str(a) for a in args], cwd=cwd or self.pipeline, env=self.env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, f"{' '.join(map(str, args))}: {done.stdout}{done.stderr}"
        return done.stdout

    def commit(self, message: str) -> str:
        """Commit everything; the new commit's full sha."""
        self.run("git", "add", "-A", cwd=self.root)
        self.run("git", "commit", "-q", "-m", message, cwd=self.root)
        return self.run("git", "rev-parse", "HEAD", cwd=self.root).strip()

    def retrain(self, c: float) -> str:
        (self.pipeline / "params.yaml").write_text(f"C: {c}\n", encoding="utf-8")
        self.run(DVC, "repro", "-q")
        return self.commit(f"retrain with C={c}")
