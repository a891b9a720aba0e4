#!/usr/bin/env python3
"""Run the wine example's DVC pipeline (pipelines/wine) with real DVC, or check that it reproduces.

    python scripts/dvc_example.py            # dvc repro in pipelines/wine: refreshes dvc.lock, metrics.json, outputs
    python scripts/dvc_example.py --check    # dvc repro in a scratch copy; exit 1 listing every difference
                                             # from the committed dvc.lock, metrics.json and predictions.csv
    python scripts/dvc_example.py --pin      # after committing dvc.lock: snapshot the train stage at HEAD to
                                             # runs/dvc/ (`modelcards pull dvc`) and pin wine 1.1.0 to it

Wine 1.1.0 is released and deployed, so its card pins the run that produced it, ``dvc:train@<commit>``,
to a committed snapshot rather than to git history, which a shallow clone or a copy without ``.git``
lacks. After a retrain, commit dvc.lock and run ``--pin`` to move the pin to the new run.

Both run the stages with this Python (its bin folder first on PATH, so the stages' ``python`` is this
one) and DVC's analytics off; nothing is downloaded. The enclosing repository's git index is never
touched: ``dvc init`` stages its files with ``git add``, so a missing ``.dvc/`` is made in a scratch
repository and copied in, and the project keeps ``core.autostage false``.

What ``--check`` compares does not depend on the machine. The model is fitted with floating-point
arithmetic whose last bits change with the CPU and the BLAS library, so the bytes of ``model/model.skops``
(and their md5 in ``dvc.lock``) do too. The model is compared by what it predicts for the held-out rows
instead: ``predictions.csv`` holds each row's predicted class and class probabilities, and the
probabilities must agree within ``PREDICTION_TOLERANCE``. The metrics in ``metrics.json`` are rounded to
four decimals and must agree within ``METRIC_TOLERANCE`` (one unit in that last place). Everything else in
``dvc.lock`` (commands, parameters, the data files' md5s) must be equal.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "pipelines" / "wine"
BIN = Path(sys.executable).parent  # not resolved: a venv's python is a link out of the venv
DVC = BIN / "dvc"
SETTINGS = {"core.analytics": "false", "core.autostage": "false"}
# What `dvc init --subdir` writes that belongs in git.
DVC_INIT_FILES = (".dvc/config", ".dvc/.gitignore", ".dvcignore")
LOCK = "dvc.lock"
METRICS = "metrics.json"
SNAPSHOTS = ROOT / "runs" / "dvc"
PINNED_STAGE = "train"
PINNED_VERSION = ("wine-cultivar-classifier", "1.1.0")
PREDICTIONS = "predictions.csv"
# Outputs whose bytes carry fitted floating-point numbers: compared by value below, never by md5.
COMPARED_BY_VALUE = ("model/model.skops", METRICS, PREDICTIONS)
PREDICTION_TOLERANCE = 1e-9
METRIC_TOLERANCE = 1e-4
TIMEOUT = 600


class CommandFailed(Exception):
    def __init__(self, args: list[str], cwd: Path, result: subprocess.CompletedProcess[str]):
        super().__init__(f"`{' '.join(args)}` in {cwd} exited {result.returncode}\n{result.stdout}{result.stderr}")


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "DVC_NO_ANALYTICS": "1", **extra}


def run(args: list[str | Path], cwd: Path, env: dict[str, str], *, quiet: bool = True) -> None:
    args = [str(arg) for arg in args]
    result = subprocess.run(args, cwd=cwd, env=env, text=True, timeout=TIMEOUT,
                            capture_output=quiet, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise CommandFailed(args, cwd, result)


def ensure_dvc_project(folder: Path, env: dict[str, str]) -> None:
    """``dvc init --subdir`` in ``folder`` if it has no ``.dvc/``, then this project's settings."""
    if not (folder / ".dvc" / "config").is_file():
        with tempfile.TemporaryDirectory(prefix="dvc-init-") as scratch:
            project = Path(scratch) / "project"
            project.mkdir()
            run(["git", "init", "-q"], Path(scratch), env)
            run([DVC, "init", "--subdir", "-q"], project, env)
            for name in DVC_INIT_FILES:
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(project / name, folder / name)
    for key, value in SETTINGS.items():
        run([DVC, "config", key, value], folder, env)


def refresh() -> None:
    env = environment()
    ensure_dvc_project(PIPELINE, env)
    run([DVC, "repro"], PIPELINE, env, quiet=False)


def check() -> list[str]:
    """Every difference between the committed dvc.lock, metrics.json and predictions.csv and those of a fresh
    ``dvc repro``."""
    committed_lock = _read_yaml(PIPELINE / LOCK)
    if committed_lock is None:
        return [f"{_shown(PIPELINE / LOCK)}: missing; run `python scripts/dvc_example.py` to create it"]
    with tempfile.TemporaryDirectory(prefix="dvc-example-") as scratch:
        copy_root = Path(scratch) / ROOT.name
        copy = copy_root / PIPELINE.relative_to(ROOT)
        _copy_sources(copy_root, _lock_outs(committed_lock))
        env = environment(DVC_SITE_CACHE_DIR=str(Path(scratch) / "dvc-site-cache"))
        run(["git", "init", "-q"], copy_root, env)
        ensure_dvc_project(copy, env)
        run([DVC, "repro", "-q"], copy, env)
        return (_lock_differences(committed_lock, _read_yaml(copy / LOCK) or {})
                + _metrics_differences(PIPELINE / METRICS, copy / METRICS)
                + _prediction_differences(PIPELINE / PREDICTIONS, copy / PREDICTIONS))


def _copy_sources(copy_root: Path, outputs: set[str]) -> None:
    """The pipeline's files that git would commit, less what ``dvc repro`` writes, plus its deps outside it."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
                            cwd=PIPELINE, capture_output=True, text=True, check=True, timeout=60).stdout
    sources = [PIPELINE / name for name in listed.split("\0") if name and name != LOCK and name not in outputs]
    stages = (_read_yaml(PIPELINE / "dvc.yaml") or {}).get("stages") or {}
    for stage in stages.values():
        for dep in stage.get("deps") or ():
            path = (PIPELINE / dep).resolve()
            if not path.is_relative_to(PIPELINE) and path.is_relative_to(ROOT):
                sources.append(path)
    for source in sources:
        if source.is_file():
            target = copy_root / source.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def pin() -> str:
    """Snapshot the pinned stage as HEAD's dvc.lock records it, and point the card's version at it."""
    from modelcards.sources.masking import mask_records
    from modelcards.sources.pinning import REV_TAG, read_dvc_project_at
    from modelcards.sources.record import write_export

    from train_examples import CARDS_DIR, point_cards_at_runs

    changed = subprocess.run(["git", "status", "--porcelain", "--", LOCK, METRICS], cwd=PIPELINE, text=True,
                             capture_output=True, check=True, timeout=60).stdout
    if changed:
        raise SystemExit(f"{_shown(PIPELINE)}: {LOCK} or {METRICS} has uncommitted changes; commit them first, "
                         "so the pin names the commit that recorded the run")
    read = read_dvc_project_at(PIPELINE, "HEAD", relative_to=ROOT, moving_ok=True)
    record = next(r for r in read.records if r.id.removesuffix("@" + r.tags[REV_TAG]) == PINNED_STAGE)
    records, _ = mask_records([record])
    for stale in SNAPSHOTS.glob(f"dvc-{PINNED_STAGE}_*.json"):
        stale.unlink()
    write_export(records, SNAPSHOTS)
    ref = f"dvc:{PINNED_STAGE}@{record.tags[REV_TAG][:12]}"
    point_cards_at_runs({PINNED_VERSION: ref}, CARDS_DIR)
    return ref


def _lock_outs(lock: dict[str, Any]) -> set[str]:
    return {out["path"] for stage in (lock.get("stages") or {}).values() for out in stage.get("outs") or ()}


def _lock_differences(committed: dict[str, Any], reproduced: dict[str, Any]) -> list[str]:
    where = _shown(PIPELINE / LOCK)
    found = []
    for key, (old, new) in _paired(_lock_facts(committed), _lock_facts(reproduced)).items():
        if old != new:
            found.append(f"{where}: {key}: {_text(old)} committed, {_text(new)} reproduced")
    return found


def _lock_facts(lock: dict[str, Any]) -> dict[str, Any]:
    """What a lock file records, one entry per fact: ``stages.train.outs model/model.skops md5`` -> value."""
    facts: dict[str, Any] = {}
    for name, stage in (lock.get("stages") or {}).items():
        facts[f"stages.{name}.cmd"] = stage.get("cmd")
        for file, values in (stage.get("params") or {}).items():
            for key, value in values.items():
                facts[f"stages.{name}.params {file} {key}"] = value
        for kind in ("deps", "outs"):
            for entry in stage.get(kind) or ():
                if kind == "outs" and entry["path"] in COMPARED_BY_VALUE:
                    continue
                for field in ("md5", "size", "nfiles"):
                    if field in entry:
                        facts[f"stages.{name}.{kind} {entry['path']} {field}"] = entry[field]
    return facts


def _metrics_differences(committed_path: Path, reproduced_path: Path) -> list[str]:
    committed, reproduced = _read_json(committed_path), _read_json(reproduced_path)
    where = _shown(committed_path)
    return [f"{where}: {key}: {_text(old)} committed, {_text(new)} reproduced"
            for key, (old, new) in _paired(committed, reproduced).items()
            if not _close(old, new, METRIC_TOLERANCE)]


def _prediction_differences(committed_path: Path, reproduced_path: Path) -> list[str]:
    """Rows whose predicted class or any class probability disagrees, by row index; probabilities within
    PREDICTION_TOLERANCE agree."""
    where = _shown(committed_path)
    committed, reproduced = _read_csv(committed_path), _read_csv(reproduced_path)
    if committed is None or reproduced is None:
        return [f"{where}: {'missing' if committed is None else 'not written by dvc repro'}; "
                "run `python scripts/dvc_example.py` to create it"] if committed != reproduced else []
    if committed[0] != reproduced[0]:
        return [f"{where}: columns {committed[0]} committed, {reproduced[0]} reproduced"]
    header, old_rows, new_rows = committed[0], committed[1], reproduced[1]
    found = []
    for row, (old, new) in _paired(old_rows, new_rows).items():
        if old is _MISSING or new is _MISSING:
            found.append(f"{where}: row {row}: {'nothing' if old is _MISSING else 'a prediction'} committed, "
                         f"{'nothing' if new is _MISSING else 'a prediction'} reproduced")
            continue
        for column, a, b in zip(header, old, new):
            if not _close(_number(a), _number(b), PREDICTION_TOLERANCE):
                found.append(f"{where}: row {row} {column}: {a} committed, {b} reproduced")
    return found


def _close(old: Any, new: Any, tolerance: float) -> bool:
    """Equal, or both numbers at most ``tolerance`` apart (exact integers: the tolerance is for rounding)."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (old, new))
    if not numbers:
        return old == new
    if isinstance(old, int) and isinstance(new, int):
        return old == new
    # Metrics one rounding step apart can differ by the tolerance plus a float's error: 0.9008 - 0.9007 > 1e-4.
    return abs(old - new) <= tolerance * (1 + 1e-9)


def _number(cell: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            pass
    return cell


def _read_csv(path: Path) -> tuple[list[str], dict[str, list[str]]] | None:
    """The header and each line's cells by its first cell (the row index)."""
    if not path.is_file():
        return None
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    return header.split(","), {line.split(",", 1)[0]: line.split(",") for line in lines}


_MISSING = object()


def _paired(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {key: (old.get(key, _MISSING), new.get(key, _MISSING)) for key in sorted(old.keys() | new.keys())}


def _text(value: Any) -> str:
    return "nothing" if value is _MISSING else repr(value)


def _read_yaml(path: Path) -> dict[str, Any] | None:
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _shown(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="reproduce in a scratch copy and compare with the "
                        "committed dvc.lock and metrics.json; exit 1 on any difference")
    parser.add_argument("--pin", action="store_true", help="snapshot the train stage at HEAD to runs/dvc/ and pin "
                        "wine-cultivar-classifier 1.1.0 to it")
    args = parser.parse_args(argv)
    if args.pin:
        print(f"{PINNED_VERSION[0]} {PINNED_VERSION[1]} now names run {pin()}", file=sys.stderr)
        return 0
    try:
        if not args.check:
            refresh()
            return 0
        differences = check()
    except CommandFailed as exc:
        print(exc, file=sys.stderr)
        return 2
    for line in differences:
        print(line)
    if differences:
        print(f"{len(differences)} difference(s) between the committed {_shown(PIPELINE)} and a fresh `dvc repro`; "
              "run `python scripts/dvc_example.py` to refresh it", file=sys.stderr)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
