"""How long does reading the audit trail (the cards' history from git) take, and how many git processes?

Writes a git repository of N model cards with C commits each (made with `git fast-import`, so setting it up
takes seconds, not minutes): every commit changes one card's risk tier and its newest version's metric, by one
of three authors; every fifth commit adds a version and approves the one before, which stays frozen from then
on. Then it times `modelcards.history.read_history` on it, the stage `modelcards build` and `validate` run, and
counts the `git` processes it started through a logging shim on PATH: the count must not grow with N. It also
times the frozen-version check over that history (`modelcards.frozen`), which must find nothing.

    .venv/bin/python benchmarks/history_speed.py [--cards 1000] [--commits 20] [--repeat 1]

`benchmarks/build_speed.py` prints the same line at 1,000 cards x 20 commits. The exit code is 1 when more
than 5 git processes ran or the frozen-version check found a problem.
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

from modelcards.cards.yaml_source import parse_yaml
from modelcards.frozen import approved_versions, frozen_version_problems
from modelcards.history import read_history

AUTHORS = [("Alice Auditor", "alice@example.com"), ("Bob Builder", "bob@example.com"),
           ("Carol Checker", "carol@example.com")]
TIERS = ["low", "medium", "high"]
START = 1_700_000_000  # commit times, one minute apart: the same repository every run
APPROVAL = ("    approvals:\n      - {by: Dana Reviewer, role: model risk reviewer, decision: approved, "
            "date: 2024-02-01, note: Evidence reviewed.}\n")


def card(index: int, change: int) -> bytes:
    """The newest version's metric moves with every change; an older one keeps the value it was approved with."""
    newest = change // 5
    versions = "".join(f'  - version: "1.{v}.0"\n    date: 2024-01-{v + 1:02d}\n'
                       f"    metrics: {{roc_auc: {0.8 + (change if v == newest else 5 * v + 4) / 1000:.3f}}}\n"
                       + ("" if v == newest else APPROVAL)
                       for v in range(newest + 1))
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


def measure(cards: int, commits: int, repeat: int = 1) -> tuple[str, bool]:
    """Make the repository, read its audit trail ``repeat`` times and check its frozen versions: the report
    line, and whether it kept to the targets (at most 5 git processes, no frozen-version problem)."""
    real_git = shutil.which("git")
    if real_git is None:
        return "audit trail: not measured, needs git", False
    with tempfile.TemporaryDirectory(prefix="modelcards-history-") as scratch:
        root = Path(scratch) / "repo"
        started = time.perf_counter()
        make_repo(root, cards, commits)
        made = time.perf_counter() - started
        shim, calls = Path(scratch) / "shim", Path(scratch) / "calls.log"
        shim.mkdir()
        (shim / "git").write_text(f'#!/bin/sh\necho "$3" >> {calls}\nexec {real_git} "$@"\n', encoding="utf-8")
        (shim / "git").chmod(0o755)
        old_path = os.environ["PATH"]
        os.environ["PATH"] = f"{shim}{os.pathsep}{old_path}"
        try:
            times = []
            for _ in range(repeat):
                calls.write_text("")
                started, cpu = time.perf_counter(), time.process_time()
                history = read_history(root, root / "cards")
                times.append((time.perf_counter() - started, time.process_time() - cpu))
        finally:
            os.environ["PATH"] = old_path
        processes = calls.read_text().split()
        # The cards as the build has them (parsing them is the loader's cost, not the audit trail's).
        documents = {path: parse_yaml((root / path).read_text(encoding="utf-8"), path)[0] for path in history.cards}
        started = time.perf_counter()
        problems = [p for path, document in documents.items() if document is not None
                    for p in frozen_version_problems(document, history.cards[path])]
        frozen = time.perf_counter() - started
        approved = sum(len(approved_versions(card)) for card in history.cards.values())
    changes = sum(len(c.changes) for c in history.cards.values())
    best_wall, best_cpu = min(times)
    line = (f"audit trail: {cards} cards x {commits} commits (repository made in {made:.1f} s): {changes} card "
            f"changes and {history.blobs_parsed} distinct blobs read in {best_wall:.2f} s wall ({best_cpu:.2f} s "
            f"CPU in Python), {len(processes)} git process(es): {' '.join(processes)}; frozen-version check of "
            f"{approved} approved versions in {frozen:.2f} s, {len(problems)} problem(s)")
    return line, len(processes) <= 5 and not problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=20, help="commits per card")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    line, kept = measure(args.cards, args.commits, args.repeat)
    print(line)
    return 0 if kept else 1


if __name__ == "__main__":
    sys.exit(main())
