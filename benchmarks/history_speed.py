"""How long does reading the audit trail (the cards' history from git) take, and how many git processes?

Writes a git repository of N model cards with C commits each (made with `git fast-import`, so setting it up
takes seconds, not minutes): every commit changes one card's risk tier and one metric, by one of three
authors. Then it times `modelcards.history.read_history` on it, the stage `modelcards build` runs, and counts
the `git` processes it started through a logging shim on PATH: the count must not grow with N.

    .venv/bin/python benchmarks/history_speed.py [--cards 1000] [--commits 20] [--repeat 1]

The exit code is 1 when more than 5 git processes ran.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from modelcards.history import read_history

AUTHORS = [("Alice Auditor", "alice@example.com"), ("Bob Builder", "bob@example.com"),
           ("Carol Checker", "carol@example.com")]
TIERS = ["low", "medium", "high"]
START = 1_700_000_000  # commit times, one minute apart: the same repository every run


def card(index: int, change: int) -> bytes:
    versions = "".join(f'  - version: "1.{v}.0"\n    date: 2024-01-{v + 1:02d}\n'
                       f"    metrics: {{roc_auc: {0.8 + (change + v) / 1000:.3f}}}\n"
                       for v in range(change // 5 + 1))
    return (f"name: model-{index}\ntitle: Model {index}\nrisk_tier: {TIERS[change % 3]}\n"
            f"metrics:\n  - name: roc_auc\nversions:\n{versions}").encode()


def fast_import_stream(cards: int, commits: int) -> bytes:
    """Round by round, each card changed once per round: ``cards * commits`` commits in all. fast-import
    makes each commit on a branch the child of the one before it."""
    out: list[bytes] = []
    mark = 0
    for change in range(commits):
        for index in range(cards):
            mark += 1
            name, email = AUTHORS[mark % len(AUTHORS)]
            when = START + mark * 60
            message = f"model-{index}: change {change}".encode()
            blob = card(index, change)
            out.append(b"commit refs/heads/main\n")
            out.append(f"committer {name} <{email}> {when} +0000\n".encode())
            out.append(f"data {len(message)}\n".encode() + message + b"\n")
            out.append(f"M 100644 inline cards/model-{index}.yml\ndata {len(blob)}\n".encode() + blob + b"\n")
    return b"".join(out)


def make_repo(root: Path, cards: int, commits: int) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=env)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=fast_import_stream(cards, commits),
                   check=True, env=env)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=root, check=True, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=20, help="commits per card")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    real_git = shutil.which("git")
    if real_git is None:
        print("needs git", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="modelcards-history-") as scratch:
        root = Path(scratch) / "repo"
        started = time.perf_counter()
        make_repo(root, args.cards, args.commits)
        print(f"repository: {args.cards} cards x {args.commits} commits = {args.cards * args.commits} commits, "
              f"made in {time.perf_counter() - started:.1f} s")
        shim, calls = Path(scratch) / "shim", Path(scratch) / "calls.log"
        shim.mkdir()
        (shim / "git").write_text(f'#!/bin/sh\necho "$3" >> {calls}\nexec {real_git} "$@"\n', encoding="utf-8")
        (shim / "git").chmod(0o755)
        os.environ["PATH"] = f"{shim}{os.pathsep}{os.environ['PATH']}"
        times = []
        for _ in range(args.repeat):
            calls.write_text("")
            started, cpu = time.perf_counter(), time.process_time()
            history = read_history(root, root / "cards")
            times.append((time.perf_counter() - started, time.process_time() - cpu))
        changes = sum(len(c.changes) for c in history.cards.values())
        processes = calls.read_text().split()
        best_wall, best_cpu = min(times)
        print(f"audit trail: {len(history.cards)} cards, {changes} card changes read in {best_wall:.2f} s wall "
              f"({best_cpu:.2f} s CPU in Python), {len(processes)} git process(es): {' '.join(processes)}")
        return 0 if len(processes) <= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
