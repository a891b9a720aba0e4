"""The DVC reader against a real DVC repository, and against broken files.

The module fixture builds a real project with git and DVC (three chained stages, a
matrix stage, a foreach stage, a nested pipeline and two experiments), then reads
it back with the reader, which itself never imports DVC.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from dvc_pipeline import stage_links
from modelcards.sources.dvc import read_dvc_exp_show, read_dvc_project
from modelcards.sources.reading import ReadResult
from modelcards.sources.record import CodeRef, DatasetRef, Output, RunRecord

FIXTURES = Path(__file__).parent / "fixtures" / "runs" / "dvc"
PYTHON = Path(sys.executable)
DVC = PYTHON.parent / "dvc"

SCRIPTS = {
    "src/prepare.py": """
        import yaml
        split = yaml.safe_load(open("params.yaml"))["prepare"]["split"]
        rows = open("data/raw.csv").read().splitlines()
        keep = rows[: 1 + int(len(rows[1:]) * (1 - split))]
        open("data/prepared.csv", "w").write("\\n".join(keep) + "\\n")
    """,
    "src/featurize.py": """
        rows = [line.split(",") for line in open("data/prepared.csv").read().splitlines()[1:]]
        open("data/features.csv", "w").write("".join(f"{float(a) * float(b)}\\n" for a, b in rows))
    """,
    "src/train.py": """
        import json, os, yaml
        params = yaml.safe_load(open("params.yaml"))["train"]
        features = [float(x) for x in open("data/features.csv").read().split()]
        os.makedirs("models", exist_ok=True)
        json.dump({"weights": [sum(features) * params["lr"]]}, open("models/model.json", "w"))
        # What DVCLive writes: one TSV per metric under plots/metrics, and a summary.
        os.makedirs("dvclive/plots/metrics/train", exist_ok=True)
        with open("dvclive/plots/metrics/train/loss.tsv", "w") as tsv:
            tsv.write("timestamp\\tstep\\ttrain/loss\\n")
            for step in range(params["epochs"]):
                tsv.write(f"{1767225600000 + step}\\t{step}\\t{1 / (step + 1)}\\n")
        json.dump({"accuracy": 1 - 1 / (params["epochs"] + 1), "train": {"loss": 1 / params["epochs"]}},
                  open("metrics.json", "w"))
    """,
    "src/evaluate.py": """
        import json, os, sys
        split, seed = sys.argv[1], int(sys.argv[2])
        os.makedirs("eval", exist_ok=True)
        json.dump({"accuracy": 0.5 + seed / 10 + (split == "train") / 100}, open(f"eval/{split}-{seed}.json", "w"))
    """,
    "src/report.py": """
        import os, sys
        os.makedirs("reports", exist_ok=True)
        with open(f"reports/{sys.argv[1]}.tsv", "w") as tsv:
            tsv.write("step\\tprecision\\n0\\t0.5\\n1\\t0.75\\n")
    """,
}

EXTRA_STAGES = """\
  evaluate:
    matrix:
      split: [train, test]
      seed: [1, 2]
    cmd: {python} src/evaluate.py ${{item.split}} ${{item.seed}}
    deps:
    - src/evaluate.py
    - models/model.json
    metrics:
    - eval/${{item.split}}-${{item.seed}}.json:
        cache: false
  report:
    foreach: [a, b]
    do:
      cmd: {python} src/report.py ${{item}}
      deps:
      - src/report.py
      plots:
      - reports/${{item}}.tsv:
          cache: false
artifacts:
  classifier:
    path: models/model.json
    type: model
"""


@dataclass(frozen=True)
class DvcProject:
    root: Path
    head: str  # the git commit holding the pipeline's results
    exp_show: Path  # `dvc exp show --json` output


def _run(*args: str | Path, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dvc_project(tmp_path_factory: pytest.TempPathFactory) -> DvcProject:
    root = tmp_path_factory.mktemp("dvc-project")
    env = {
        **os.environ, "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(root.parent / "dvc-site-cache"),
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
    }

    def run(*args: str | Path, cwd: Path = root) -> str:
        return _run(*args, cwd=cwd, env=env)

    run("git", "init", "-q", "-b", "main")
    run(DVC, "init", "-q")
    (root / "data").mkdir()
    (root / "data" / "raw.csv").write_text("a,b\n1,2\n3,4\n5,6\n7,8\n", encoding="utf-8")
    (root / "params.yaml").write_text(textwrap.dedent("""\
        prepare:
          split: 0.25
        train:
          epochs: 3
          lr: 0.1
          layers: [8, 4]
          use_bias: true
    """), encoding="utf-8")
    for path, text in SCRIPTS.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    run(DVC, "stage", "add", "-q", "-n", "prepare", "-p", "prepare.split", "-d", "src/prepare.py",
        "-d", "data/raw.csv", "-o", "data/prepared.csv", f"{PYTHON} src/prepare.py")
    run(DVC, "stage", "add", "-q", "-n", "featurize", "-d", "src/featurize.py", "-d", "data/prepared.csv",
        "-o", "data/features.csv", f"{PYTHON} src/featurize.py")
    run(DVC, "stage", "add", "-q", "-n", "train", "-p", "train", "-d", "src/train.py", "-d", "data/features.csv",
        "-o", "models/model.json", "-o", "dvclive", "-M", "metrics.json", f"{PYTHON} src/train.py")
    # `dvc stage add` cannot write matrix or foreach stages, nor artifacts.
    with (root / "dvc.yaml").open("a", encoding="utf-8") as dvc_yaml:
        dvc_yaml.write(EXTRA_STAGES.format(python=PYTHON))
    (root / "sub").mkdir()
    run(DVC, "stage", "add", "-q", "-n", "score", "-d", "../models/model.json", "-o", "score.txt",
        "wc -c ../models/model.json > score.txt", cwd=root / "sub")
    run(DVC, "repro", "-q", "--all-pipelines")
    run("git", "add", "-A")
    run("git", "commit", "-q", "-m", "pipeline")
    # --temp runs each experiment in a copy, so the workspace keeps the committed results.
    run(DVC, "exp", "run", "-q", "--temp", "-n", "longer", "-S", "train.epochs=5")
    run(DVC, "exp", "run", "-q", "--temp", "-n", "slower", "-S", "train.lr=0.01")
    exp_show = root.parent / "exp-show.json"
    exp_show.write_text(run(DVC, "exp", "show", "--json"), encoding="utf-8")
    return DvcProject(root, run("git", "rev-parse", "HEAD").strip(), exp_show)


@pytest.fixture(scope="module")
def project_runs(dvc_project: DvcProject) -> ReadResult:
    return read_dvc_project(dvc_project.root, relative_to=dvc_project.root)


def _by_id(result: ReadResult) -> dict[str, RunRecord]:
    return {record.id: record for record in result.records}


def _lock_stage(root: Path, stage: str) -> dict:
    return yaml.safe_load((root / "dvc.lock").read_text(encoding="utf-8"))["stages"][stage]


# --- a real DVC project -------------------------------------------------------------------------

def test_every_stage_of_every_pipeline_is_a_run(project_runs: ReadResult):
    assert [p.format() for p in project_runs.problems] == []
    assert sorted(_by_id(project_runs)) == [
        "evaluate@test-1", "evaluate@test-2", "evaluate@train-1", "evaluate@train-2",
        "featurize", "prepare", "report@a", "report@b", "sub/dvc.yaml:score", "train",
    ]
    train = _by_id(project_runs)["train"]
    assert (train.source, train.name, train.experiment, train.status) == ("dvc", "train", "dvc.yaml", None)
    assert train.origin is not None and train.origin.path == "dvc.lock"
    assert _by_id(project_runs)["sub/dvc.yaml:score"].experiment == "sub/dvc.yaml"


def test_params_come_from_the_lock_file_rendered_like_json(project_runs: ReadResult):
    runs = _by_id(project_runs)
    assert runs["train"].params == {
        "train.epochs": "3", "train.lr": "0.1", "train.layers": "[8, 4]", "train.use_bias": "true",
    }
    assert runs["prepare"].params == {"prepare.split": "0.25"}
    assert runs["featurize"].params == {}


def test_metrics_come_from_the_metrics_files_and_step_plots(dvc_project: DvcProject, project_runs: ReadResult):
    runs = _by_id(project_runs)
    summary = json.loads((dvc_project.root / "metrics.json").read_text(encoding="utf-8"))
    train = runs["train"].metrics
    assert train["accuracy"].last == summary["accuracy"] == 0.75
    assert not train["accuracy"].stepped
    # DVCLive's plots/metrics/train/loss.tsv under the `dvclive` out gives the history.
    assert train["train.loss"].history == ((0, 1.0, 1767225600000), (1, 0.5, 1767225600001),
                                           (2, 1 / 3, 1767225600002))
    assert train["train.loss"].last == summary["train"]["loss"]
    # Templated metrics of a matrix stage, and a plots file with a step column of a foreach stage.
    assert runs["evaluate@test-2"].metrics["accuracy"].last == pytest.approx(0.7)
    assert runs["evaluate@train-1"].metrics["accuracy"].last == pytest.approx(0.61)
    assert [point[:2] for point in runs["report@a"].metrics["precision"].history] == [(0, 0.5), (1, 0.75)]


def test_deps_and_outs_carry_the_lock_files_md5(dvc_project: DvcProject, project_runs: ReadResult):
    prepare = _by_id(project_runs)["prepare"]
    lock = _lock_stage(dvc_project.root, "prepare")
    raw_bytes = (dvc_project.root / "data" / "raw.csv").read_bytes()
    assert prepare.inputs == tuple(
        DatasetRef(name=dep["path"], namespace="dvc", digest=dep["md5"], size=dep["size"]) for dep in lock["deps"]
    )
    raw = next(ref for ref in prepare.inputs if ref.name == "data/raw.csv")
    assert raw.digest == hashlib.md5(raw_bytes).hexdigest() and raw.size == len(raw_bytes)
    assert prepare.outputs == (
        Output(kind="dataset", name="data/prepared.csv", namespace="dvc", digest=lock["outs"][0]["md5"]),
    )


def test_params_file_is_not_an_input_and_outputs_are_typed(dvc_project: DvcProject, project_runs: ReadResult):
    train = _by_id(project_runs)["train"]
    assert [ref.name for ref in train.inputs] == ["data/features.csv", "src/train.py"]
    outputs = {out.name: out for out in train.outputs}
    lock_outs = {out["path"]: out["md5"] for out in _lock_stage(dvc_project.root, "train")["outs"]}
    assert {name: out.digest for name, out in outputs.items()} == lock_outs
    assert lock_outs["dvclive"].endswith(".dir")
    assert (outputs["models/model.json"].kind, outputs["models/model.json"].registered_name) == ("model", "classifier")
    assert outputs["metrics.json"].kind == "artifact"
    assert outputs["dvclive"].kind == "dataset"


def test_code_is_the_command_at_the_git_head(dvc_project: DvcProject, project_runs: ReadResult):
    assert _by_id(project_runs)["train"].code == CodeRef(commit=dvc_project.head, entry_point=f"{PYTHON} src/train.py")
    assert _by_id(project_runs)["sub/dvc.yaml:score"].code.commit == dvc_project.head


def test_the_lineage_graph_links_stages_raw_to_features_to_model(project_runs: ReadResult):
    links = stage_links(project_runs.records)
    assert ("prepare", "featurize", "data/prepared.csv") in links
    assert ("featurize", "train", "data/features.csv") in links
    assert ("train", "sub/dvc.yaml:score", "models/model.json") in links  # nested pipeline, path from the root
    into_evaluate = [link for link in links if link[1] == "evaluate@test-1"]
    assert into_evaluate == [("train", "evaluate@test-1", "models/model.json")]
    assert not [link for link in links if link[1] == "prepare"]  # raw data has no producer


def test_matrix_and_foreach_stages_group_under_one_name(project_runs: ReadResult):
    grouped: dict[str, list[str]] = {}
    for record in project_runs.records:
        if "dvc.stage.group" in record.tags:
            assert record.name == record.tags["dvc.stage.group"]
            assert record.id == f"{record.name}@{record.tags['dvc.stage.item']}"
            grouped.setdefault(record.name, []).append(record.tags["dvc.stage.item"])
    assert {group: sorted(items) for group, items in grouped.items()} == {
        "evaluate": ["test-1", "test-2", "train-1", "train-2"], "report": ["a", "b"],
    }
    assert "dvc.stage.group" not in _by_id(project_runs)["train"].tags


def test_commit_is_read_from_packed_refs_and_worktrees(dvc_project: DvcProject, tmp_path: Path):
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    clone, worktree = tmp_path / "clone", tmp_path / "worktree"
    _run("git", "clone", "-q", dvc_project.root, clone, cwd=tmp_path, env=env)
    _run("git", "pack-refs", "--all", cwd=clone, env=env)  # main now lives only in packed-refs
    _run("git", "worktree", "add", "-q", "-b", "side", worktree, cwd=clone, env=env)  # .git is a file here
    assert not (clone / ".git" / "refs" / "heads" / "main").exists() and (worktree / ".git").is_file()
    for checkout in (clone, worktree):
        commits = {record.code.commit for record in read_dvc_project(checkout, relative_to=checkout).records}
        assert commits == {dvc_project.head}


def test_namespace_names_the_project_below_relative_to(dvc_project: DvcProject):
    result = read_dvc_project(dvc_project.root, relative_to=dvc_project.root.parent)
    prepare = _by_id(result)["prepare"]
    folder = dvc_project.root.name
    assert {ref.namespace for ref in prepare.inputs} == {f"dvc:{folder}"}
    assert prepare.experiment == f"{folder}/dvc.yaml"


# --- dvc exp show --json ----------------------------------------------------------------------------

def test_exp_show_gives_the_baseline_and_each_experiment(dvc_project: DvcProject):
    result = read_dvc_exp_show(dvc_project.exp_show, relative_to=dvc_project.root.parent, project=dvc_project.root)
    assert [p.format() for p in result.problems] == []
    runs = _by_id(result)
    assert sorted(runs) == sorted([dvc_project.head, "longer", "slower"])  # the workspace row is left out
    baseline, longer = runs[dvc_project.head], runs["longer"]
    assert (baseline.name, baseline.status, baseline.tags) == ("main", None, {"dvc.exp.baseline_name": "main"})
    assert (longer.name, longer.status, longer.experiment) == ("longer", "FINISHED", dvc_project.head)
    assert longer.code == CodeRef(commit=dvc_project.head)
    assert len(longer.tags["dvc.exp.rev"]) == 40
    assert longer.params["train.epochs"] == "5" and baseline.params["train.epochs"] == "3"
    assert runs["slower"].params["train.lr"] == "0.01"
    # As in DVC's own table, a key that several metrics files share is qualified by its file.
    assert longer.metrics["metrics.json:accuracy"].last == pytest.approx(5 / 6)
    assert longer.metrics["eval/test-2.json:accuracy"].last == pytest.approx(0.7)
    assert baseline.metrics["train.loss"].last == pytest.approx(1 / 3)
    assert longer.end_time is not None and longer.end_time.endswith("Z")


def test_exp_show_datasets_match_the_pipeline_reader(dvc_project: DvcProject, project_runs: ReadResult):
    result = read_dvc_exp_show(dvc_project.exp_show, relative_to=dvc_project.root, project=dvc_project.root)
    baseline = _by_id(result)[dvc_project.head]
    stages = _by_id(project_runs)
    # The whole pipeline reads the raw data and the scripts; intermediate files are its outputs.
    assert {ref.name for ref in baseline.inputs} >= {"data/raw.csv", "src/train.py"}
    assert "data/prepared.csv" not in {ref.name for ref in baseline.inputs}
    raw_in_stage = next(ref for ref in stages["prepare"].inputs if ref.name == "data/raw.csv")
    assert next(ref for ref in baseline.inputs if ref.name == "data/raw.csv") == raw_in_stage
    model = next(out for out in baseline.outputs if out.name == "models/model.json")
    lock_outs = {out["path"]: out["md5"] for out in _lock_stage(dvc_project.root, "train")["outs"]}
    assert (model.namespace, model.digest) == ("dvc", lock_outs["models/model.json"])


def test_exp_show_inside_the_repository_shares_its_namespace(dvc_project: DvcProject, tmp_path: Path):
    (tmp_path / ".dvc").mkdir()
    (tmp_path / "reports").mkdir()
    export = tmp_path / "reports" / "exp.json"
    export.write_bytes(dvc_project.exp_show.read_bytes())
    result = read_dvc_exp_show(export, relative_to=tmp_path)
    assert {ref.namespace for record in result.records for ref in record.inputs} == {"dvc"}
    assert {record.origin.path for record in result.records} == {"reports/exp.json"}


def test_experiment_names_shared_across_baselines_get_the_sha(dvc_project: DvcProject, tmp_path: Path):
    commits = json.loads(dvc_project.exp_show.read_text(encoding="utf-8"))
    baseline = next(commit for commit in commits if commit["rev"] == dvc_project.head)
    revs = {state["name"]: state["rev"] for exp_range in baseline["experiments"] for state in exp_range["revs"]}
    # The same experiment names under a second baseline, as DVC allows.
    other = json.loads(json.dumps(baseline).replace(dvc_project.head, "b" * 40))
    for exp_range, new_rev in zip(other["experiments"], ("c" * 40, "d" * 40)):
        exp_range["revs"][0]["rev"] = new_rev
    export = tmp_path / "exp.json"
    export.write_text(json.dumps([*commits, other]), encoding="utf-8")
    ids = {record.id for record in read_dvc_exp_show(export, relative_to=tmp_path).records}
    other_revs = {state["name"]: state["rev"] for exp_range in other["experiments"] for state in exp_range["revs"]}
    assert ids == {dvc_project.head, "b" * 40} | {
        f"{name}~{rev[:7]}" for name_revs in (revs, other_revs) for name, rev in name_revs.items()
    }


def test_exp_show_file_problems_are_said_once(dvc_project: DvcProject, tmp_path: Path):
    commits = json.loads(dvc_project.exp_show.read_text(encoding="utf-8"))
    rows = [commit for commit in commits if commit["rev"] != "workspace"]
    rows += [state for commit in rows for exp_range in commit["experiments"] for state in exp_range["revs"]]
    for row in rows:
        row["data"]["metrics"]["metrics.json"]["data"]["model"] = "forest"
        row["data"]["metrics"]["broken.json"] = {"error": {"type": "JSONFileCorruptedError", "msg": "unable to read"}}
    export = tmp_path / "exp.json"
    export.write_text(json.dumps(commits), encoding="utf-8")
    result = read_dvc_exp_show(export, relative_to=tmp_path)
    first = commits.index(rows[0])
    assert _problems(result) == [
        f"exp.json:1:1: warning: [{first}].data.metrics.metrics.json.data.model: found 'forest', expected a number; "
        "metric skipped",
        f"exp.json:1:1: warning: [{first}].data.metrics.broken.json: DVC could not read broken.json: unable to read",
    ]
    assert len(result.records) == 3 and all("model" not in record.metrics for record in result.records)


# --- broken input ------------------------------------------------------------------------------

def _problems(result: ReadResult) -> list[str]:
    return [problem.format() for problem in result.problems]


def test_unknown_lock_schema_is_skipped_with_its_position():
    result = read_dvc_project(FIXTURES / "schema-3", relative_to=FIXTURES)
    assert result.records == []
    assert _problems(result) == ["schema-3/dvc.lock:2:1: warning: schema: found '3.0', expected '2.0'"]


def test_lock_that_is_not_yaml_points_at_the_syntax_error():
    result = read_dvc_project(FIXTURES / "not-yaml", relative_to=FIXTURES)
    assert result.records == []
    assert _problems(result) == [
        "not-yaml/dvc.lock:8:6: warning: YAML syntax error: did not find expected key"
        " (while parsing a block mapping at line 4, column 5)",
    ]


def test_stage_without_cmd_is_skipped_and_the_others_kept():
    result = read_dvc_project(FIXTURES / "no-cmd", relative_to=FIXTURES)
    assert [record.id for record in result.records] == ["train"]
    assert _problems(result) == [
        "no-cmd/dvc.lock:3:3: warning: stages.prepare: found no cmd, expected the stage's command; stage skipped",
    ]


def test_missing_metrics_file_is_reported_at_its_dvc_yaml_line():
    result = read_dvc_project(FIXTURES / "missing-metrics", relative_to=FIXTURES)
    assert [record.id for record in result.records] == ["train"]
    assert result.records[0].metrics == {}
    assert _problems(result) == [
        "missing-metrics/dvc.yaml:7:7: warning: stages.train.metrics[0]: metrics file: found no file "
        "'metrics.json', expected the file the stage writes (run `dvc repro`, or `dvc pull` if it is cached)",
    ]


def test_non_numeric_metric_is_skipped_alone():
    result = read_dvc_project(FIXTURES / "bad-metric", relative_to=FIXTURES)
    assert {name: m.last for name, m in result.records[0].metrics.items()} == {"accuracy": 0.93, "test.recall": 0.88}
    assert _problems(result) == [
        "bad-metric/metrics.json:4:11: warning: test.f1: found 'n/a', expected a number; metric skipped",
    ]


def test_metrics_file_outside_the_project_is_not_read():
    result = read_dvc_project(FIXTURES / "outside-metrics", relative_to=FIXTURES)
    assert result.records[0].metrics == {}
    assert _problems(result) == [
        "outside-metrics/dvc.yaml:5:7: warning: stages.train.metrics[0]: metrics file: found "
        "'../bad-metric/metrics.json', which is outside the project, expected the file the stage writes",
    ]


def test_truncated_exp_show_json_points_at_the_end():
    result = read_dvc_exp_show(FIXTURES / "exp-show-truncated.json", relative_to=FIXTURES)
    assert result.records == []
    assert _problems(result) == [
        "exp-show-truncated.json:14:1: warning: found the end of the file inside the JSON (a truncated file?), "
        "expected the output of `dvc exp show --json`",
    ]


def test_dvc2_exp_show_format_is_named(tmp_path: Path):
    export = tmp_path / "exp.json"
    export.write_text(json.dumps({"workspace": {"baseline": {"data": {}}}}), encoding="utf-8")
    assert _problems(read_dvc_exp_show(export, relative_to=tmp_path)) == [
        "exp.json:1:1: warning: found an object keyed by revision (DVC 2's format), expected DVC 3's list of "
        "commits; export again with DVC 3",
    ]


def test_folder_without_a_pipeline_is_reported(tmp_path: Path):
    assert _problems(read_dvc_project(tmp_path, relative_to=tmp_path)) == [
        ".:1:1: warning: found no dvc.yaml or dvc.lock, expected a DVC project",
    ]
