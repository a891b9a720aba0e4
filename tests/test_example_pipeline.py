"""The wine example's DVC pipeline (pipelines/wine): it reproduces with real DVC, and the build reads it
as the wine cards describe it (same data digest, same metrics and settings, one connected lineage)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dvc_pipeline import stage_links
from modelcards.sources.dvc import read_dvc_project
from modelcards.sources.load import load_runs
from modelcards.sources.reading import ReadResult
from modelcards.sources.pinning import REV_TAG, read_dvc_project_at, run_changes, split_pin
from modelcards.sources.record import RunRecord, dumps, from_json

REPO_ROOT = Path(__file__).resolve().parents[1]
PIPELINE = REPO_ROOT / "pipelines" / "wine"
SCRIPT = REPO_ROOT / "scripts" / "dvc_example.py"
MODEL_CARD = REPO_ROOT / "cards" / "wine-cultivar-classifier.yml"
DATASET_CARD = REPO_ROOT / "cards" / "datasets" / "wine-cultivars.yml"


def _check(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=300)


def _card_version(path: Path, version: str) -> dict:
    card = yaml.safe_load(path.read_text(encoding="utf-8"))
    return next(v for v in card["versions"] if v["version"] == version)


@pytest.fixture(scope="module")
def pipeline_runs() -> ReadResult:
    return read_dvc_project(PIPELINE, relative_to=REPO_ROOT)


def _by_id(result: ReadResult) -> dict[str, RunRecord]:
    return {record.id: record for record in result.records}


def test_the_committed_pipeline_reproduces_with_real_dvc():
    run = _check(SCRIPT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == ""


def test_check_lists_every_difference_and_exits_1(tmp_path: Path):
    # A copy of the repository's parts the pipeline needs, with committed results tampered with. Three are
    # differences: a data file's md5, a metric and a probability 1e-3 away. Two are what another CPU's BLAS
    # gives, and are not: a model file with other bytes (so another md5 in dvc.lock), a probability 1e-13 away.
    (tmp_path / "scripts").mkdir()
    for script in ("dvc_example.py", "train_examples.py"):
        shutil.copy2(REPO_ROOT / "scripts" / script, tmp_path / "scripts" / script)
    pipeline = tmp_path / "pipelines" / "wine"
    shutil.copytree(PIPELINE, pipeline, ignore=shutil.ignore_patterns("cache", "tmp", "__pycache__"))
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    digest, wrong = _card_version(DATASET_CARD, "2")["digest"], "0123456789abcdef" * 2
    lock = pipeline / "dvc.lock"
    locked = yaml.safe_load(lock.read_text(encoding="utf-8"))
    model_md5 = next(out["md5"] for out in locked["stages"]["train"]["outs"] if out["path"] == "model/model.skops")
    lock.write_text(lock.read_text(encoding="utf-8").replace(digest, wrong, 1).replace(model_md5, "f" * 32),
                    encoding="utf-8")
    (pipeline / "metrics.json").write_text(json.dumps({"accuracy": 0.9, "macro_f1": 1.0}), encoding="utf-8")
    predictions = pipeline / "predictions.csv"
    header, first, second, *rest = predictions.read_text(encoding="utf-8").splitlines()
    near, far = first.split(","), second.split(",")
    near[3] = repr(float(near[3]) + 1e-13)
    far[3] = repr(float(far[3]) - 1e-3)
    predictions.write_text("\n".join([header, ",".join(near), ",".join(far), *rest]) + "\n", encoding="utf-8")

    run = _check(tmp_path / "scripts" / "dvc_example.py")

    assert run.returncode == 1, run.stderr
    assert run.stdout.splitlines() == [
        f"pipelines/wine/dvc.lock: stages.prepare.outs data/wine.csv md5: '{wrong}' committed, "
        f"'{digest}' reproduced",
        "pipelines/wine/metrics.json: accuracy: 0.9 committed, 1.0 reproduced",
        f"pipelines/wine/predictions.csv: row {far[0]} probability_0: {far[3]} committed, {second.split(',')[3]} "
        "reproduced",
    ]
    assert "3 difference(s)" in run.stderr and "python scripts/dvc_example.py" in run.stderr


def test_the_build_sees_one_run_per_stage():
    loaded = load_runs(["pipelines/wine"], project_dir=REPO_ROOT)
    assert [problem.format() for problem in loaded.problems] == []
    assert sorted(loaded.runs) == ["dvc:prepare", "dvc:split", "dvc:train"]


def test_stages_form_one_chain_from_raw_table_to_model(pipeline_runs: ReadResult):
    assert [problem.format() for problem in pipeline_runs.problems] == []
    assert stage_links(pipeline_runs.records) == [
        ("prepare", "split", "data/wine.csv"),
        ("split", "train", "data/test.csv"),
        ("split", "train", "data/train.csv"),
    ]


def test_prepared_table_is_dataset_version_2(pipeline_runs: ReadResult):
    prepare = _by_id(pipeline_runs)["prepare"]
    assert [(out.name, out.digest) for out in prepare.outputs] == [
        ("data/wine.csv", _card_version(DATASET_CARD, "2")["digest"]),
    ]


def test_trained_model_has_the_cards_metrics_and_settings_of_1_1_0(pipeline_runs: ReadResult):
    train = _by_id(pipeline_runs)["train"]
    card = _card_version(MODEL_CARD, "1.1.0")
    assert {name: metric.last for name, metric in train.metrics.items()} == pytest.approx(card["metrics"], abs=1e-4)
    assert train.params == {key: json.dumps(card["params"][key])
                            for key in ("C", "max_iter", "standardize")}


def test_model_is_a_registered_model_output(pipeline_runs: ReadResult):
    train = _by_id(pipeline_runs)["train"]
    assert [(out.kind, out.name) for out in train.outputs] == [
        ("artifact", "metrics.json"), ("model", "model/model.skops"), ("artifact", "predictions.csv"),
    ]
    model = train.outputs[1]
    assert (model.namespace, model.registered_name) == ("dvc:pipelines/wine", "wine-cultivar-classifier")


def _pinned_snapshot() -> RunRecord:
    """The run wine 1.1.0 names, `dvc:train@<sha>`, from its committed `modelcards pull dvc` snapshot."""
    stage, rev = split_pin(_card_version(MODEL_CARD, "1.1.0")["run"])
    snapshots = list((REPO_ROOT / "runs" / "dvc").glob(f"dvc-{stage}_{rev}*.json"))
    assert len(snapshots) == 1, "scripts/dvc_example.py --pin writes the snapshot the card names"
    return from_json(json.loads(snapshots[0].read_text(encoding="utf-8")))


def test_the_released_version_is_pinned_and_the_pipeline_has_not_moved_since():
    """Today's dvc.lock records the train stage as the pinned snapshot does: the build has nothing to warn."""
    pinned = _pinned_snapshot()
    now = {record.ref: record for record in read_dvc_project(PIPELINE, relative_to=REPO_ROOT).records}["dvc:train"]
    assert run_changes(pinned, now) == []
    assert {name: metric.last for name, metric in pinned.metrics.items()} == {"accuracy": 1.0, "macro_f1": 1.0}


def test_the_snapshot_is_what_git_recorded_at_its_revision():
    pinned = _pinned_snapshot()
    rev = pinned.tags[REV_TAG]
    known = subprocess.run(["git", "cat-file", "-e", f"{rev}^{{commit}}"], cwd=REPO_ROOT, capture_output=True)
    if known.returncode != 0:
        pytest.skip(f"needs this repository's git history with commit {rev[:12]} (a full clone)")
    at_rev = read_dvc_project_at(PIPELINE, rev, relative_to=REPO_ROOT)
    assert [problem.format() for problem in at_rev.problems] == []
    assert dumps(next(record for record in at_rev.records if record.ref == pinned.ref)) == dumps(pinned)
