"""Runs pulled from a live MLflow tracking store through MLflow's own client.

Works against an http(s) tracking server, a ``sqlite:///`` database, and a legacy ``mlruns/`` file store
(a local path or ``file://`` URI; read with MLflow's ``MLFLOW_ALLOW_FILE_STORE`` opt-in, which only lifts
MLflow 3's refusal to open it). Only active experiments and runs are pulled; deleted ones are left out.

What a record holds is what ``mlflow_files`` fills from exported files, through the same helpers:

- params, all tags (``mlflow.*`` included, the site may filter), and each metric's full history
  (``get_metric_history``; ``last`` is the value at the highest step);
- inputs: the run's dataset inputs (name, digest, source type as namespace, location from the JSON
  source, schema columns, ``mlflow.data.context`` as context);
- outputs: the MLflow 3 logged models the run created or output (``models:/<model_id>``), and the
  registered model versions made from the run, with their aliases (``models:/<name>/<version>``);
- code: ``mlflow.source.git.repoURL`` (or ``mlflow.gitRepoURL``), ``mlflow.source.git.commit`` and
  ``mlflow.source.name``;
- environment: what the tags carry (``mlflow.source.type``; for MLflow 2 runs the Python and MLflow versions
  in ``mlflow.log-model.history``; Python version, platform and Docker image tags, see ``environment``), and
  each logged model's ``requirements.txt``, ``python_env.yaml`` and ``conda.yaml``: these three small files
  are the only artifacts downloaded, never the model itself.

``mlflow`` is imported inside ``pull_runs``: importing it takes seconds, and the build never needs it.
"""

from __future__ import annotations

import os
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator
from urllib.parse import unquote, urlparse

from ..errors import EnvironmentProblem, Problem
from .environment import ModelEnvironment, read_model_environment
from .masking import without_credentials
from .mlflow_files import logged_model_output, mlflow_dataset, mlflow_record, registered_version_output
from .record import Output, RunRecord

if TYPE_CHECKING:
    from mlflow.entities import Run
    from mlflow.tracking import MlflowClient

def pull_runs(tracking_uri: str, *, experiments: list[str], run_ids: list[str],
              problems: list[Problem] | None = None) -> list[RunRecord]:
    """Records for the runs of ``experiments`` (by name) plus ``run_ids``; every active run when both are empty.

    Sorted by run id. Raises ``EnvironmentProblem`` for an unknown experiment or run, a store that does not
    exist, or a tracking store that fails to answer. Problems of a logged model's environment files (a line
    that is no requirement) are added to ``problems``; the run is still pulled.
    """
    problems = [] if problems is None else problems
    _check_store_exists(tracking_uri)
    with _store_opened_for_reading(tracking_uri):
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        try:
            return _pull(client, tracking_uri, experiments, run_ids, problems)
        except MlflowException as exc:
            raise EnvironmentProblem(f"MLflow at {without_credentials(tracking_uri)} failed: {exc.message}") from None


def _pull(client: MlflowClient, tracking_uri: str, experiments: list[str], run_ids: list[str],
          problems: list[Problem]) -> list[RunRecord]:
    from mlflow.entities import ViewType

    names = {e.experiment_id: e.name for e in _all_pages(
        lambda token: client.search_experiments(view_type=ViewType.ACTIVE_ONLY, page_token=token))}
    if experiments:
        experiment_ids = _experiment_ids(names, experiments, tracking_uri)
    else:
        experiment_ids = [] if run_ids else sorted(names)
    runs = {run.info.run_id: run for experiment_id in experiment_ids for run in _all_pages(
        lambda token, e=experiment_id: client.search_runs(
            [e], run_view_type=ViewType.ACTIVE_ONLY, max_results=1000, page_token=token))}
    for run_id in run_ids:
        if run_id not in runs:
            runs[run_id] = _get_run(client, run_id, tracking_uri)
    for run in runs.values():
        if run.info.experiment_id not in names:  # a run asked for by id, in an experiment since deleted
            names[run.info.experiment_id] = client.get_experiment(run.info.experiment_id).name
    logged, locations = _logged_models(client, runs.values())
    registered = _registered_versions(client, set(runs))
    environments = {model_id: _model_environment(location, model_id) for model_id, location in sorted(locations.items())}
    for environment in environments.values():
        problems += environment.problems
    return [_record(client, run, names[run.info.experiment_id], logged.get(run_id, []) + registered.get(run_id, []),
                    [environments[model_id] for model_id in sorted(_model_ids(logged.get(run_id, [])))
                     if model_id in environments])
            for run_id, run in sorted(runs.items())]


def _model_ids(outputs: list[Output]) -> set[str]:
    return {output.uri.removeprefix("models:/") for output in outputs if output.uri and not output.registered_name}


def _model_environment(artifact_location: str, model_id: str) -> ModelEnvironment:
    """The environment files of one logged model, downloaded one by one into a temporary folder."""
    import tempfile

    import mlflow.artifacts
    from mlflow.exceptions import MlflowException

    quiet = {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}  # a progress bar per small file is noise
    with tempfile.TemporaryDirectory(prefix="modelcards-env-") as folder, _environment_variables(quiet):
        def read(name: str) -> bytes | None:
            try:
                path = mlflow.artifacts.download_artifacts(artifact_uri=f"{artifact_location.rstrip('/')}/{name}",
                                                           dst_path=folder)
            except (MlflowException, OSError):
                return None  # the model has no such file (a custom flavor, an older MLflow)
            return Path(path).read_bytes()

        return read_model_environment(read, lambda name: f"models:/{model_id}/{name}")


def _record(client: MlflowClient, run: Run, experiment: str, outputs: list[Output],
            environments: list[ModelEnvironment]) -> RunRecord:
    info, data = run.info, run.data
    return mlflow_record(
        run_id=info.run_id,
        experiment=experiment,
        name=info.run_name,
        status=info.status,
        start_ms=info.start_time,
        end_ms=info.end_time,
        user=info.user_id,
        params=data.params,
        metric_points={key: [(m.step, m.value, m.timestamp) for m in client.get_metric_history(info.run_id, key)]
                       for key in data.metrics},
        tags=data.tags,
        inputs=[mlflow_dataset(d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source,
                               d.dataset.schema, {tag.key: tag.value for tag in d.tags})
                for d in (run.inputs.dataset_inputs if run.inputs else [])],
        outputs=outputs,
        model_environments=environments,
    )


def _experiment_ids(names: dict[str, str], wanted: list[str], tracking_uri: str) -> list[str]:
    ids = {name: experiment_id for experiment_id, name in names.items()}
    unknown = [name for name in wanted if name not in ids]
    if unknown:
        known = ", ".join(repr(name) for name in sorted(ids)) or "none"
        raise EnvironmentProblem(
            f"found no experiment named {', '.join(repr(n) for n in unknown)} at "
            f"{without_credentials(tracking_uri)}; the experiments there are: {known}")
    return sorted({ids[name] for name in wanted})


def _get_run(client: MlflowClient, run_id: str, tracking_uri: str) -> Run:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise EnvironmentProblem(f"found no run {run_id!r} at {without_credentials(tracking_uri)}") from None
        raise


def _logged_models(client: MlflowClient, runs: Any) -> tuple[dict[str, list[Output]], dict[str, str]]:
    """MLflow 3 logged models by run id (those each run created, and those it logged as outputs), and the
    artifact location of each."""
    from mlflow.exceptions import MlflowException

    runs = list(runs)
    models = {model.model_id: model for experiment_id in sorted({run.info.experiment_id for run in runs})
              for model in _all_pages(lambda token, e=experiment_id: client.search_logged_models(
                  experiment_ids=[e], page_token=token))}
    by_run: dict[str, list[Output]] = defaultdict(list)
    for model in models.values():
        if model.source_run_id:
            by_run[model.source_run_id].append(logged_model_output(model.model_id, model.name))
    for run in runs:
        for output in (run.outputs.model_outputs if run.outputs else []):
            model = models.get(output.model_id)
            if model is None:
                try:
                    model = client.get_logged_model(output.model_id)
                except MlflowException:
                    continue  # deleted since; the run still stands
            by_run[run.info.run_id].append(logged_model_output(model.model_id, model.name))
            models[model.model_id] = model
    return by_run, {model_id: model.artifact_location for model_id, model in models.items() if model.artifact_location}


def _registered_versions(client: MlflowClient, run_ids: set[str]) -> dict[str, list[Output]]:
    """Registered model versions by the run they were made from, with the aliases pointing at them."""
    versions = [v for v in _all_pages(lambda token: client.search_model_versions(page_token=token))
                if v.run_id in run_ids]
    # A SQL store leaves ModelVersion.aliases empty in search results; the registered model has them all.
    aliases = {name: client.get_registered_model(name).aliases for name in sorted({v.name for v in versions})}
    by_run: dict[str, list[Output]] = defaultdict(list)
    for v in versions:
        pointing = [alias for alias, version in aliases[v.name].items() if str(version) == str(v.version)]
        by_run[v.run_id].append(registered_version_output(v.name, str(v.version), pointing))
    return by_run


def _all_pages(fetch: Callable[[str | None], Any]) -> Iterator[Any]:
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = page.token
        if not token:
            return


# --- opening the store safely -----------------------------------------------------------------------

def _check_store_exists(tracking_uri: str) -> None:
    """MLflow creates a missing SQLite file or mlruns/ folder on first use; a pull must never do that."""
    local = _local_store_path(tracking_uri)
    if local is None:
        return
    path, kind = local
    exists = path.is_file() if kind == "sqlite" else path.is_dir()
    if not exists:
        expected = "an MLflow SQLite database file" if kind == "sqlite" else "an mlruns/ folder"
        raise EnvironmentProblem(f"found nothing at {path} (from --tracking-uri {tracking_uri}); expected {expected}")


def _local_store_path(tracking_uri: str) -> tuple[Path, str] | None:
    if tracking_uri.startswith("sqlite:///"):
        return Path(unquote(tracking_uri[len("sqlite:///"):].split("?")[0])), "sqlite"
    if _is_file_store(tracking_uri):
        parsed = urlparse(tracking_uri)
        return Path(unquote(parsed.path) if parsed.scheme == "file" else tracking_uri), "file"
    return None


def _is_file_store(tracking_uri: str) -> bool:
    return urlparse(tracking_uri).scheme in ("", "file")


@contextmanager
def _environment_variables(overrides: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _store_opened_for_reading(tracking_uri: str) -> Iterator[None]:
    """For a file store: MLflow 3's opt-in, and the same store as MLflow's default while pulling.

    The file model registry looks logged models up through a default ``MlflowClient()``, which would
    otherwise open (and create) ``./mlflow.db`` in the working folder.
    """
    if not _is_file_store(tracking_uri):
        yield
        return
    path = _local_store_path(tracking_uri)
    overrides = {"MLFLOW_ALLOW_FILE_STORE": "true",
                 "MLFLOW_TRACKING_URI": path[0].resolve().as_uri() if path else tracking_uri}
    with _environment_variables(overrides):
        yield
