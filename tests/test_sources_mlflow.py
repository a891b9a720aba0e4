"""The MLflow readers and ``modelcards pull mlflow``, against real MLflow 3 stores.

The same two runs (a trained, registered wine classifier and a failed baseline) are logged with MLflow's
own client into each kind of store a team may have:

- a real ``mlflow server`` (SQLite backend), pulled by the real ``modelcards pull mlflow`` command;
- a ``sqlite:///`` file, pulled without a server;
- a legacy ``mlruns/`` file store, which MLflow 3 only writes with its opt-in ``MLFLOW_ALLOW_FILE_STORE=true``;
  it is read directly by ``read_mlruns`` and must give exactly what ``pull_runs`` gives for it;
- the CSV of ``mlflow.search_runs(...).to_csv()``.

mlflow-export-import's ``run.json`` is a fixture (``tests/fixtures/runs/mlflow/run-json/``) written to the
format of its repository's ``mlflow_export_import/run/export_run.py`` (``{"system", "mlflow": {"info",
"params", "metrics", "tags", "inputs"}}``, inputs as ``{"dataset", "tags"}``): the package's PyPI release
(1.2.0, 2023) predates dataset inputs, so it is not installed. Broken files are hand-written there too, and
their problems are checked line for line.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from conftest import run_modelcards, write_project
from modelcards.errors import EnvironmentProblem
from modelcards.sources.mlflow_files import environment_from_tags, read_mlruns, read_run_json, read_search_runs_csv
from modelcards.sources.mlflow_pull import pull_runs
from modelcards.sources.reading import ReadResult
from modelcards.sources.record import to_json

FIXTURES = Path(__file__).parent / "fixtures" / "runs" / "mlflow"
REPO_ROOT = Path(__file__).resolve().parents[1]
MLFLOW = Path(sys.executable).parent / "mlflow"
# Nothing MLflow does here may reach the internet: no telemetry, no `pip install --dry-run` check.
OFFLINE_MLFLOW = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
                  "MLFLOW_SKIP_PIP_REQUIREMENTS_CHECK": "true"}

TRAIN_EXPERIMENT = "wine-classifier"
BASELINE_EXPERIMENT = "wine-baseline"
REGISTERED = "wine-classifier"
COMMIT = "9b1d5c0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c"
REPO = "https://git.example.internal/ml/wine.git"
DATA_URI = "s3://lake/wine/train.csv"
LOSSES = [0.9, 0.6, 0.45, 0.4]
SECRET = "hunter2-is-not-a-password"


@dataclass(frozen=True)
class LoggedRuns:
    """What was logged, to compare what the readers give back with."""

    train_id: str
    baseline_id: str
    model_id: str
    dataset_digest: str
    user: str
    columns: tuple[str, ...]


# --- real MLflow stores -------------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def offline_mlflow() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for key, value in OFFLINE_MLFLOW.items():
            patch.setenv(key, value)
        yield


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mlflow server`` on a free local port, SQLite backend; its URL."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    log = root / "server.log"
    command = [str(MLFLOW), "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
               "--default-artifact-root", str(root / "artifacts"), "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1"]
    with log.open("wb") as output:
        # A session of its own: the server's workers are its children, stopped with it.
        server = subprocess.Popen(command, cwd=root, stdout=output, stderr=subprocess.STDOUT,
                                  env={**os.environ, **OFFLINE_MLFLOW}, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, server, log, timeout=60)
        yield url
    finally:
        _stop(server)


@pytest.fixture(scope="module")
def server_runs(tracking_server: str) -> LoggedRuns:
    return log_example_runs(tracking_server, artifact_root=None)


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, LoggedRuns]:
    root = tmp_path_factory.mktemp("mlflow-sqlite")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)  # MLflow's defaults (./mlruns, ./mlflow.db) land in the temp folder
        return uri, log_example_runs(uri, artifact_root=root / "artifacts")


@pytest.fixture(scope="module")
def file_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LoggedRuns]:
    """A legacy ``mlruns/`` written by MLflow itself, through MLflow 3's opt-in for the file store."""
    root = tmp_path_factory.mktemp("mlflow-files")
    store = root / "mlruns"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        logged = log_example_runs(store.as_uri(), artifact_root=None)
    return store, logged


def log_example_runs(tracking_uri: str, *, artifact_root: Path | None) -> LoggedRuns:
    """A trained, registered wine classifier and a failed baseline, logged with MLflow's own API."""
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    features, target = load_wine(return_X_y=True, as_frame=True)
    frame = pd.concat([features, target], axis=1)
    mlflow.set_tracking_uri(tracking_uri)
    try:
        train_experiment = _create_experiment(client, TRAIN_EXPERIMENT, artifact_root)
        baseline_experiment = _create_experiment(client, BASELINE_EXPERIMENT, artifact_root)
        tags = {"mlflow.source.git.commit": COMMIT, "mlflow.source.git.repoURL": REPO,
                "mlflow.source.name": "train.py", "team": "quality"}
        with mlflow.start_run(experiment_id=train_experiment, run_name="train", tags=tags) as run:
            mlflow.log_params({"C": 0.5, "scaler": "standard", "db_password": SECRET})
            for step, loss in enumerate(LOSSES):
                mlflow.log_metric("loss", loss, step=step)
            dataset = mlflow.data.from_pandas(frame, source=DATA_URI, name="wine", targets="target")
            mlflow.log_input(dataset, context="training")
            model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(features, target)
            mlflow.log_metric("accuracy", model.score(features, target))
            # Explicit requirements: inferring them would start a subprocess and may ask pip.
            info = mlflow.sklearn.log_model(model, name="model", registered_model_name=REGISTERED,
                                            pip_requirements=["scikit-learn"])
        client.set_registered_model_alias(REGISTERED, "champion", "1")
        second = mlflow.register_model(info.model_uri, REGISTERED)
        client.set_registered_model_alias(REGISTERED, "candidate", second.version)
        baseline = client.create_run(baseline_experiment, run_name="baseline")
        client.log_param(baseline.info.run_id, "strategy", "most_frequent")
        client.log_metric(baseline.info.run_id, "accuracy", 0.4)
        client.set_terminated(baseline.info.run_id, "FAILED")
    finally:
        mlflow.set_tracking_uri(None)
    return LoggedRuns(train_id=run.info.run_id, baseline_id=baseline.info.run_id, model_id=info.model_id,
                      dataset_digest=dataset.digest, user=run.info.user_id, columns=tuple(frame.columns))


def _create_experiment(client: Any, name: str, artifact_root: Path | None) -> str:
    location = (artifact_root / name).as_uri() if artifact_root else None
    return client.create_experiment(name, artifact_location=location)


# --- what every store must give back -------------------------------------------------------------------

def assert_example_runs(runs: dict[str, dict[str, Any]], logged: LoggedRuns) -> None:
    """``runs``: export objects (``to_json``) by run id."""
    from mlflow.version import VERSION as mlflow_version

    assert sorted(runs) == sorted([logged.train_id, logged.baseline_id])
    train, baseline = runs[logged.train_id], runs[logged.baseline_id]

    assert (train["experiment"], train["name"], train["status"], train["user"]) == (
        TRAIN_EXPERIMENT, "train", "FINISHED", logged.user)
    assert train["start_time"] <= train["end_time"]
    assert train["params"]["C"] == "0.5" and train["params"]["scaler"] == "standard"
    history = train["metrics"]["loss"]["history"]
    assert [point[:2] for point in history] == [[step, loss] for step, loss in enumerate(LOSSES)]
    assert all(isinstance(point[2], int) for point in history)  # logged times, in ms
    assert train["metrics"]["loss"]["last"] == LOSSES[-1]
    assert 0.9 < train["metrics"]["accuracy"]["last"] <= 1.0
    assert train["tags"]["team"] == "quality"
    assert train["tags"]["mlflow.runName"] == "train"  # mlflow.* tags are kept
    assert train["code"] == {"repo": REPO, "commit": COMMIT, "entry_point": "train.py"}
    # python_env.yaml of the logged model names the interpreter that logged it; requirements.txt its packages
    assert train["environment"] == {"source_type": "LOCAL", "python_version": platform.python_version()}
    assert [(p["name"], p.get("spec", "")) for p in train["packages"]] == [
        ("mlflow", f"=={mlflow_version}"), ("scikit-learn", "")]

    [dataset] = train["inputs"]
    assert {key: dataset[key] for key in ("name", "digest", "namespace", "source", "context")} == {
        "name": "wine", "digest": logged.dataset_digest, "namespace": "s3", "source": DATA_URI,
        "context": "training"}
    assert [field["name"] for field in dataset["schema"]] == list(logged.columns)
    assert dataset["schema"][0]["type"] == "double" and dataset["schema"][-1] == {"name": "target", "type": "long"}

    assert train["outputs"] == [
        {"kind": "model", "name": "model", "uri": f"models:/{logged.model_id}"},
        {"kind": "model", "name": REGISTERED, "registered_name": REGISTERED, "version": "1",
         "aliases": ["champion"], "uri": f"models:/{REGISTERED}/1"},
        {"kind": "model", "name": REGISTERED, "registered_name": REGISTERED, "version": "2",
         "aliases": ["candidate"], "uri": f"models:/{REGISTERED}/2"},
    ]

    assert (baseline["experiment"], baseline["name"], baseline["status"]) == (
        BASELINE_EXPERIMENT, "baseline", "FAILED")
    assert baseline["params"] == {"strategy": "most_frequent"}
    assert baseline["metrics"]["accuracy"]["last"] == 0.4
    assert "inputs" not in baseline and "outputs" not in baseline


def exported(folder: Path) -> dict[str, dict[str, Any]]:
    return {data["id"]: data for data in (json.loads(path.read_text(encoding="utf-8"))
                                          for path in sorted(folder.glob("*.json")))}


def as_json(records: Any) -> dict[str, dict[str, Any]]:
    return {record.id: to_json(record) for record in records}


# --- tests ---------------------------------------------------------------------------------------------

def test_pull_from_a_tracking_server_exports_every_run_the_same_way_twice(
        tracking_server: str, server_runs: LoggedRuns, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for out in (first, second):
        result = run_modelcards("pull", "mlflow", "--tracking-uri", tracking_server, "--out", out, cwd=tmp_path)

    assert "Wrote 2 run(s)" in result.stderr
    assert sorted(path.name for path in first.iterdir()) == sorted(
        f"mlflow-{run_id}.json" for run_id in (server_runs.train_id, server_runs.baseline_id))
    assert {p.name: p.read_bytes() for p in first.iterdir()} == {p.name: p.read_bytes() for p in second.iterdir()}
    runs = exported(first)
    assert runs[server_runs.train_id]["params"]["db_password"] != SECRET  # masked by the command
    assert_example_runs(runs, server_runs)
    assert not any(SECRET in path.read_text(encoding="utf-8") for path in first.iterdir())


def test_pull_applies_the_projects_secret_patterns_and_those_given_as_options(
        tracking_server: str, server_runs: LoggedRuns, tmp_path: Path) -> None:
    # A project whose mkdocs.yml says that `team` is a secret key and `standard` a secret value.
    write_project(tmp_path, {}, plugins=["search", {"modelcards": {
        "cards_dir": "cards", "runs": ["runs"], "secret_keys": ["^team$"], "secret_values": ["stand[a]rd"]}}])
    result = run_modelcards("pull", "mlflow", "--tracking-uri", tracking_server, "--out", tmp_path / "runs",
                            "--secret-value", "most_frequen[t]", cwd=tmp_path)

    runs = exported(tmp_path / "runs")
    train, baseline = runs[server_runs.train_id], runs[server_runs.baseline_id]
    assert train["tags"]["team"] == "[masked]" and train["params"]["scaler"] == "[masked]"
    assert baseline["params"]["strategy"] == "[masked]"  # from --secret-value
    assert train["params"]["C"] == "0.5" and train["tags"]["mlflow.runName"] == "train"
    written = "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "runs").iterdir())
    for secret in ("quality", "standard", "most_frequent", SECRET):
        assert secret not in written and secret not in result.stderr
    assert f"masked mlflow:{server_runs.train_id} tags.team (the key matches a configured pattern)" in result.stderr
    assert f"masked mlflow:{server_runs.train_id} params.scaler (the pattern 'stand[a]rd')" in result.stderr

    # The build reads the export as it was written: nothing is masked twice.
    (tmp_path / "cards" / "x.yml").write_text("name: x\ntitle: X\n", encoding="utf-8")
    build = run_modelcards("build", cwd=tmp_path)
    assert "masked" not in build.stderr.lower()


def test_pull_of_an_unknown_experiment_names_the_known_ones(tracking_server: str, server_runs: LoggedRuns,
                                                            tmp_path: Path) -> None:
    result = run_modelcards("pull", "mlflow", "--tracking-uri", tracking_server, "--experiment", "wine-clasifier",
                            "--out", tmp_path / "out", cwd=tmp_path, check=False)

    assert result.returncode == 3
    assert (f"error: found no experiment named 'wine-clasifier' at {tracking_server}; the experiments there are: "
            f"'Default', '{BASELINE_EXPERIMENT}', '{TRAIN_EXPERIMENT}'") in result.stderr
    assert not (tmp_path / "out").exists()


def test_pull_selects_runs_by_experiment_and_by_id(tracking_server: str, server_runs: LoggedRuns) -> None:
    by_experiment = pull_runs(tracking_server, experiments=[BASELINE_EXPERIMENT], run_ids=[])
    by_id = pull_runs(tracking_server, experiments=[], run_ids=[server_runs.train_id])
    both = pull_runs(tracking_server, experiments=[BASELINE_EXPERIMENT], run_ids=[server_runs.train_id])

    assert [r.id for r in by_experiment] == [server_runs.baseline_id]
    assert [r.id for r in by_id] == [server_runs.train_id]
    assert [r.id for r in both] == sorted([server_runs.train_id, server_runs.baseline_id])
    with pytest.raises(EnvironmentProblem, match="found no run '0000' at http://127.0.0.1"):
        pull_runs(tracking_server, experiments=[], run_ids=["0000"])


def test_pull_from_a_sqlite_file(sqlite_store: tuple[str, LoggedRuns], tmp_path: Path) -> None:
    uri, logged = sqlite_store

    runs = as_json(pull_runs(uri, experiments=[], run_ids=[]))

    assert_example_runs(runs, logged)
    missing = tmp_path / "missing.db"
    with pytest.raises(EnvironmentProblem, match="expected an MLflow SQLite database file"):
        pull_runs(f"sqlite:///{missing}", experiments=[], run_ids=[])
    assert not missing.exists()  # MLflow would have created an empty database


def test_a_legacy_file_store_reads_directly_as_mlflow_reads_it(file_store: tuple[Path, LoggedRuns],
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, logged = file_store
    monkeypatch.chdir(tmp_path)

    direct = read_mlruns(store, relative_to=store.parent)
    pulled = pull_runs(store.as_uri(), experiments=[], run_ids=[])

    assert direct.problems == []
    assert as_json(direct.records) == as_json(pulled)
    runs = as_json(direct.records)
    assert_example_runs(runs, logged)
    assert {r.id: r.origin.path for r in direct.records} == {
        r.id: f"mlruns/{exp}/{r.id}/meta.yaml" for r, exp in
        ((r, _experiment_folder(store, r.id)) for r in direct.records)}
    # MLflow's file registry opens a default store while reading; the pull must keep it on this one.
    assert list(tmp_path.iterdir()) == []


def test_search_runs_csv_holds_the_final_metric_values(sqlite_store: tuple[str, LoggedRuns], tmp_path: Path) -> None:
    import mlflow

    uri, logged = sqlite_store
    csv_path = tmp_path / "runs.csv"
    mlflow.set_tracking_uri(uri)
    try:
        mlflow.search_runs(experiment_names=[TRAIN_EXPERIMENT, BASELINE_EXPERIMENT]).to_csv(csv_path, index=False)
    finally:
        mlflow.set_tracking_uri(None)

    result = read_search_runs_csv(csv_path, relative_to=tmp_path)
    pulled = {r.id: r for r in pull_runs(uri, experiments=[], run_ids=[])}

    assert result.problems == []
    assert sorted(r.id for r in result.records) == sorted(pulled)
    for record in result.records:
        full = pulled[record.id]
        assert record.origin is not None and record.origin.path == "runs.csv"
        assert (record.status, record.start_time, record.end_time, record.name) == (
            full.status, full.start_time, full.end_time, full.name)
        assert record.user == full.tags.get("mlflow.user")  # the CSV has no user_id column
        assert (record.params, record.tags, record.code) == (full.params, full.tags, full.code)
        # The CSV names no logged model, so only the tags' part of the environment, and no packages
        assert record.environment == environment_from_tags(full.tags) and record.packages == ()
        assert {key: (m.last, m.history) for key, m in record.metrics.items()} == {
            key: (m.last, ()) for key, m in full.metrics.items()}
        assert record.experiment is None and record.inputs == () and record.outputs == ()


def test_an_mlflow_export_import_run_json() -> None:
    path = FIXTURES / "run-json" / "experiments" / "1" / "5d4f8c2e7b3a4e1f9c6d0a8b2e4f6a1c" / "run.json"

    result = read_run_json(path, relative_to=REPO_ROOT)

    assert result.problems == []
    [record] = result.records
    data = to_json(record)
    assert record.origin is not None and record.origin.path == path.relative_to(REPO_ROOT).as_posix()
    assert (data["experiment"], data["name"], data["status"], data["user"]) == (
        "wine-quality", "gentle-owl-42", "FINISHED", "andre")  # experiment name from ../experiment.json
    assert (data["start_time"], data["end_time"]) == ("2024-01-31T11:21:40Z", "2024-01-31T11:22:43Z")
    assert data["params"] == {"max_depth": "4", "max_leaf_nodes": "32"}
    assert data["metrics"]["rmse"] == {"last": 0.7367947360663162, "history": [
        [0, 0.81, 1706700110000], [1, 0.74, 1706700120000], [2, 0.7367947360663162, 1706700130000]]}
    assert data["inputs"] == [{
        "name": "wine-quality", "digest": "6b2c5a1e", "namespace": "http", "context": "training",
        "source": "https://data.example.internal/wine-quality.csv",
        "schema": [{"name": "alcohol", "type": "double"}, {"name": "quality", "type": "long"}]}]
    # An MLflow 2 run: its model is known from the mlflow.log-model.history tag, and so are its versions.
    assert data["outputs"] == [
        {"kind": "model", "name": "model", "uri": "runs:/5d4f8c2e7b3a4e1f9c6d0a8b2e4f6a1c/model"}]
    assert data["environment"] == {"source_type": "LOCAL", "python_version": "3.11.7", "mlflow_version": "2.10.2"}
    assert data["code"] == {"repo": "https://git.example.internal/ml/wine.git",
                            "commit": "1f76cec7520dbc05dc93f8d3faea757fa3a4f703", "entry_point": "train.py"}
    beside = read_run_json(path.parent.parent / "experiment.json", relative_to=REPO_ROOT)
    assert (beside.records, beside.problems) == ([], [])  # the experiment's own file holds no run


BROKEN = "tests/fixtures/runs/mlflow"


@pytest.mark.parametrize(("reader", "fixture", "expected_problems", "expected_runs"), [
    pytest.param(read_run_json, "run-json/truncated/run.json", [
        f"{BROKEN}/run-json/truncated/run.json:54:13: warning: found invalid JSON (Expecting value), "
        "expected an mlflow-export-import run.json",
    ], [], id="truncated run.json"),
    pytest.param(read_run_json, "run-json/bad-metric/run.json", [
        f"{BROKEN}/run-json/bad-metric/run.json:43:9: warning: mlflow.metrics.rmse[1].value: found 'abc', "
        "expected a number",
    ], [], id="run.json metric that is not a number"),
    pytest.param(read_mlruns, "mlruns-broken", [
        f"{BROKEN}/mlruns-broken/1/22222222222222222222222222222222/metrics/loss:3:15: warning: metrics.loss: "
        "found 'abc', expected `timestamp value [step]` numbers",
        f"{BROKEN}/mlruns-broken/1/33333333333333333333333333333333:1:1: warning: found a run folder without "
        "meta.yaml, expected meta.yaml with the run's id, status and times",
        f"{BROKEN}/mlruns-broken/1/44444444444444444444444444444444/meta.yaml:12:9: warning: status: found 9, "
        "expected one of 1 (RUNNING), 2 (SCHEDULED), 3 (FINISHED), 4 (FAILED), 5 (KILLED)",
    ], ["11111111111111111111111111111111"], id="mlruns with broken runs"),
    pytest.param(read_search_runs_csv, "search-runs-bad-metric.csv", [
        f"{BROKEN}/search-runs-bad-metric.csv:3:175: warning: metrics.accuracy: found 'n/a', expected a number",
    ], ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], id="CSV row with a metric that is not a number"),
    pytest.param(read_search_runs_csv, "ui-runs.csv", [
        f"{BROKEN}/ui-runs.csv:1:1: warning: found the MLflow UI's runs.csv, whose columns do not say which are "
        "params, metrics or tags; expected the CSV of mlflow.search_runs(...).to_csv() or `mlflow experiments csv`",
    ], [], id="the MLflow UI's CSV download"),
])
def test_bad_input_is_reported_where_it_is_and_skips_only_its_run(
        reader: Callable[..., ReadResult], fixture: str, expected_problems: list[str],
        expected_runs: list[str]) -> None:
    result = reader(FIXTURES / fixture, relative_to=REPO_ROOT)

    assert [problem.format() for problem in result.problems] == expected_problems
    assert [record.id for record in result.records] == expected_runs


def test_the_good_run_next_to_broken_ones_is_read_whole() -> None:
    [record] = read_mlruns(FIXTURES / "mlruns-broken", relative_to=REPO_ROOT).records

    assert (record.experiment, record.name, record.status, record.user, record.params) == (
        "fraud", "good-run", "FINISHED", "ci", {"alpha": "0.5"})
    assert record.metrics["loss"].history == ((0, 0.9, 1706700110000), (1, 0.7, 1706700120000),
                                              (2, 0.6, 1706700130000))


def test_the_file_readers_never_import_mlflow(file_store: tuple[Path, LoggedRuns], tmp_path: Path) -> None:
    store, _ = file_store
    csv_path = FIXTURES / "search-runs-bad-metric.csv"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from modelcards.sources import mlflow_files as m\n"
        "root = Path(sys.argv[1])\n"
        "runs = m.read_mlruns(Path(sys.argv[2]), relative_to=root).records\n"
        "runs += m.read_mlruns(root / 'mlruns-broken', relative_to=root).records\n"
        "runs += m.read_search_runs_csv(Path(sys.argv[3]), relative_to=root).records\n"
        "for path in sorted(root.rglob('run.json')):\n"
        "    runs += m.read_run_json(path, relative_to=root).records\n"
        "print(len(runs), 'mlflow' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(FIXTURES), str(store), str(csv_path)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["5", "False"]  # 2 from the store, 1 + 1 broken-fixture survivors, 1 run.json


# --- helpers -------------------------------------------------------------------------------------------

def _experiment_folder(store: Path, run_id: str) -> str:
    [meta] = store.glob(f"*/{run_id}/meta.yaml")
    return meta.parent.parent.name


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(url: str, server: subprocess.Popen[bytes], log: Path, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mlflow server exited with {server.returncode} before answering:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    _stop(server)
    pytest.fail(f"mlflow server did not answer {url}/health within {timeout:.0f} s:\n{_tail(log)}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=3)  # a throwaway server: no need to wait for a graceful stop
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
