"""The OpenLineage reader, fed by the real ``openlineage-python`` client through its file transport.

A three-job pipeline (ingest -> features -> train, under one Airflow-like parent run) is emitted in every
layout ``FileTransport`` can write, and each must read to the same records. Broken input is hand-written
under ``tests/fixtures/runs/openlineage/``, and its problems are checked line for line.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, JobEvent, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    dataset_version_dataset,
    input_statistics_input_dataset,
    nominal_time_run,
    output_statistics_output_dataset,
    parent_run,
    processing_engine_run,
    schema_dataset,
    source_code_location_job,
)
from openlineage.client.transport.file import FileConfig, FileTransport

from modelcards.sources.openlineage import read_openlineage
from modelcards.sources.record import CodeRef, DatasetRef, Output, RunRecord, SchemaField

FIXTURES = Path(__file__).parent / "fixtures" / "runs" / "openlineage"

NAMESPACE = "churn-pipeline"
DAG_RUN = "01941f7a-0000-7000-8000-000000000000"
INGEST_RUN = "01941f7a-0001-7000-8000-000000000001"
FEATURES_RUN = "01941f7a-0002-7000-8000-000000000002"
TRAIN_RUN = "01941f7a-0003-7000-8000-000000000003"
COMMIT = "3f2c9b1e8d7a6c5b4a39281706f5e4d3c2b1a098"
REPO = "https://git.example.internal/ml/churn.git"

RAW = ("s3://lake", "raw/customers.parquet")
FEATURES = ("s3://lake", "features/customers.parquet")
MODEL = ("file", "/models/churn/model.pkl")


def schema(*fields: tuple[str, str]) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name=name, type=kind) for name, kind in fields])


def dataset_version(value: str) -> dataset_version_dataset.DatasetVersionDatasetFacet:
    return dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=value)


def code_at(path: str) -> dict:
    return {"sourceCodeLocation": source_code_location_job.SourceCodeLocationJobFacet(
        type="git", url=f"https://git.example.internal/ml/churn/blob/{COMMIT}/{path}", repoUrl=REPO,
        path=path, version=COMMIT)}


PARENT = {"parent": parent_run.ParentRunFacet(run=parent_run.Run(runId=DAG_RUN),
                                              job=parent_run.Job(namespace="airflow", name="churn_dag"))}


def pipeline_events() -> list[RunEvent | JobEvent]:
    """What an orchestrator would send for one pipeline run, in the order it sends it."""
    raw_schema = schema(("customer_id", "STRING"), ("signup_date", "DATE"), ("churned", "BOOLEAN"))
    feature_schema = schema(("customer_id", "STRING"), ("tenure_days", "INT64"), ("churned", "BOOLEAN"))
    ingest, features, train = (Job(namespace=NAMESPACE, name="ingest"),
                               Job(namespace=NAMESPACE, name="features", facets=code_at("pipelines/features.py")),
                               Job(namespace=NAMESPACE, name="train", facets=code_at("pipelines/train.py")))
    return [
        # Static lineage from a deploy step: not a run, so it must give no record and no problem.
        JobEvent(eventTime="2026-01-31T11:59:00Z", job=features,
                 inputs=[InputDataset(*RAW)], outputs=[OutputDataset(*FEATURES)]),
        RunEvent(eventType=RunState.START, eventTime="2026-01-31T12:00:00.123456+00:00", job=ingest,
                 run=Run(runId=INGEST_RUN, facets={**PARENT, "nominalTime": nominal_time_run.NominalTimeRunFacet(
                     nominalStartTime="2026-01-31T12:00:00Z", nominalEndTime="2026-02-01T12:00:00Z")}),
                 outputs=[OutputDataset(*RAW)]),
        RunEvent(eventType=RunState.COMPLETE, eventTime="2026-01-31T12:01:30.5Z", job=ingest,
                 run=Run(runId=INGEST_RUN, facets=PARENT),
                 outputs=[OutputDataset(*RAW, facets={"schema": raw_schema, "version": dataset_version("v1")},
                                        outputFacets={"outputStatistics": output_statistics_output_dataset.
                                                      OutputStatisticsOutputDatasetFacet(rowCount=5000)})]),
        # An offset other than UTC: 14:02 at +02:00 is 12:02Z.
        RunEvent(eventType=RunState.START, eventTime="2026-01-31T14:02:00+02:00", job=features,
                 run=Run(runId=FEATURES_RUN, facets=PARENT), inputs=[InputDataset(*RAW)]),
        RunEvent(eventType=RunState.COMPLETE, eventTime="2026-01-31T12:05:00.999999Z", job=features,
                 run=Run(runId=FEATURES_RUN, facets=PARENT),
                 inputs=[InputDataset(*RAW, facets={"schema": raw_schema, "version": dataset_version("v1")})],
                 outputs=[OutputDataset(*FEATURES, facets={"schema": feature_schema,
                                                           "version": dataset_version("v7")})]),
        RunEvent(eventType=RunState.START, eventTime="2026-01-31T12:06:00Z", job=train,
                 run=Run(runId=TRAIN_RUN, facets={**PARENT, "processing_engine": processing_engine_run.
                                                  ProcessingEngineRunFacet(version="1.9.0", name="scikit-learn")}),
                 inputs=[InputDataset(*FEATURES, facets={"version": dataset_version("v7")},
                                      inputFacets={"inputStatistics": input_statistics_input_dataset.
                                                   InputStatisticsInputDatasetFacet(size=1_048_576)})]),
        RunEvent(eventType=RunState.COMPLETE, eventTime="2026-01-31T12:30:00Z", job=train,
                 run=Run(runId=TRAIN_RUN, facets=PARENT),
                 outputs=[OutputDataset(*MODEL, facets={"schema": schema(("churn_probability", "FLOAT"))})]),
        # Metadata sent after the run ended: merged in, but the run stays COMPLETE and keeps its end time.
        RunEvent(eventType=RunState.OTHER, eventTime="2026-01-31T12:31:00Z", job=train,
                 run=Run(runId=TRAIN_RUN), outputs=[OutputDataset(*MODEL, facets={"version": dataset_version("3")})]),
    ]


def emit(events: list[RunEvent | JobEvent], **file_config: object) -> None:
    client = OpenLineageClient(transport=FileTransport(FileConfig(**file_config)))
    for event in events:
        client.emit(event)


CLIENT_TAG = {"openlineage_client_version": version("openlineage-python")}  # the client adds it to every run
PARENT_TAGS = {"openlineage.parent.namespace": "airflow", "openlineage.parent.job": "churn_dag",
               "openlineage.parent.run": DAG_RUN, **CLIENT_TAG}
RAW_SCHEMA = (SchemaField("customer_id", "STRING"), SchemaField("signup_date", "DATE"), SchemaField("churned", "BOOLEAN"))
FEATURE_SCHEMA = (SchemaField("customer_id", "STRING"), SchemaField("tenure_days", "INT64"),
                  SchemaField("churned", "BOOLEAN"))
EXPECTED = [
    RunRecord(
        source="openlineage", id=INGEST_RUN, experiment=NAMESPACE, name="ingest", status="COMPLETE",
        start_time="2026-01-31T12:00:00Z", end_time="2026-01-31T12:01:30Z",
        tags={**PARENT_TAGS, "openlineage.nominal_start_time": "2026-01-31T12:00:00Z",
              "openlineage.nominal_end_time": "2026-02-01T12:00:00Z"},
        outputs=(Output(kind="dataset", name="raw/customers.parquet", namespace="s3://lake", version="v1",
                        uri="s3://lake/raw/customers.parquet", schema=RAW_SCHEMA),),
    ),
    RunRecord(
        source="openlineage", id=FEATURES_RUN, experiment=NAMESPACE, name="features", status="COMPLETE",
        start_time="2026-01-31T12:02:00Z", end_time="2026-01-31T12:05:00Z", tags=PARENT_TAGS,
        inputs=(DatasetRef(name="raw/customers.parquet", namespace="s3://lake", version="v1",
                           source="s3://lake/raw/customers.parquet", schema=RAW_SCHEMA),),
        outputs=(Output(kind="dataset", name="features/customers.parquet", namespace="s3://lake", version="v7",
                        uri="s3://lake/features/customers.parquet", schema=FEATURE_SCHEMA),),
        code=CodeRef(repo=REPO, commit=COMMIT, entry_point="pipelines/features.py"),
    ),
    RunRecord(
        source="openlineage", id=TRAIN_RUN, experiment=NAMESPACE, name="train", status="COMPLETE",
        start_time="2026-01-31T12:06:00Z", end_time="2026-01-31T12:30:00Z", tags=PARENT_TAGS,
        inputs=(DatasetRef(name="features/customers.parquet", namespace="s3://lake", version="v7",
                           source="s3://lake/features/customers.parquet", size=1_048_576),),
        outputs=(Output(kind="dataset", name="/models/churn/model.pkl", namespace="file", version="3",
                        uri="/models/churn/model.pkl", schema=(SchemaField("churn_probability", "FLOAT"),)),),
        code=CodeRef(repo=REPO, commit=COMMIT, entry_point="pipelines/train.py"),
        environment={"processing_engine": "scikit-learn", "processing_engine_version": "1.9.0"},
    ),
]


@pytest.fixture(scope="module")
def json_lines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pipeline as the transport writes it with ``append: true``: one file, one event a line."""
    path = tmp_path_factory.mktemp("jsonl") / "events.jsonl"
    emit(pipeline_events(), log_file_path=str(path), append=True)
    return path


def test_pipeline_reads_to_one_record_per_run(json_lines: Path):
    result = read_openlineage([json_lines], relative_to=json_lines.parent)

    assert result.problems == []
    assert result.records == EXPECTED
    assert [(r.origin.path, r.origin.line) for r in result.records] == [("events.jsonl", 2), ("events.jsonl", 4),
                                                                       ("events.jsonl", 6)]


def test_dataset_written_by_one_job_is_read_by_the_next(json_lines: Path):
    ingest, features, train = read_openlineage([json_lines], relative_to=json_lines.parent).records

    assert (ingest.outputs[0].namespace, ingest.outputs[0].name, ingest.outputs[0].version) == \
        (features.inputs[0].namespace, features.inputs[0].name, features.inputs[0].version)
    assert (features.outputs[0].namespace, features.outputs[0].name, features.outputs[0].version) == \
        (train.inputs[0].namespace, train.inputs[0].name, train.inputs[0].version)


# How FileTransport names its files when ``append`` is false, by ``debug_mode``.
PER_EVENT_NAME = re.compile(r"^ol-\d{8}-\d{6}\.\d{6}\.json$")
DEBUG_NAME = re.compile(r"^ol-\d{6}T\d{6}\.\d{6}-[A-Za-z0-9_.-]+-(START|RUNNING|COMPLETE|ABORT|FAIL|OTHER|"
                        r"unknown_event_type)\.json$")


@pytest.mark.parametrize("file_config, name_pattern", [
    pytest.param({"append": False}, PER_EVENT_NAME, id="one file per event"),
    pytest.param({"append": False, "debug_mode": True}, DEBUG_NAME, id="one indented file per event"),
    pytest.param({"append": True, "debug_mode": True}, re.compile(r"^ol$"), id="indented events appended"),
])
def test_every_file_transport_layout_reads_the_same(tmp_path: Path, json_lines: Path, file_config: dict,
                                                     name_pattern: re.Pattern[str]):
    emit(pipeline_events(), log_file_path=str(tmp_path / "ol"), **file_config)
    files = sorted(tmp_path.iterdir())  # the time stamp in the names sorts them in the order they were sent

    assert all(name_pattern.match(f.name) for f in files), [f.name for f in files]
    assert len(files) == (1 if file_config["append"] else len(pipeline_events()))
    result = read_openlineage(files, relative_to=tmp_path)
    assert result.problems == []
    assert result.records == read_openlineage([json_lines], relative_to=json_lines.parent).records


def test_reading_twice_gives_equal_results(json_lines: Path):
    first = read_openlineage([json_lines], relative_to=json_lines.parent)
    second = read_openlineage([json_lines], relative_to=json_lines.parent)

    assert (first.records, first.problems) == (second.records, second.problems)
    assert [r.origin for r in first.records] == [r.origin for r in second.records]


def test_events_are_ordered_by_event_time_not_by_file(tmp_path: Path):
    """A FAIL written first and a START and RUNNING written later still give a failed run with its start."""
    job = Job(namespace=NAMESPACE, name="train")
    events = [
        RunEvent(eventType=RunState.FAIL, eventTime="2026-02-01T09:10:00Z", job=job, run=Run(runId=TRAIN_RUN)),
        RunEvent(eventType=RunState.RUNNING, eventTime="2026-02-01T09:05:00Z", job=job, run=Run(runId=TRAIN_RUN),
                 outputs=[OutputDataset(*MODEL)]),
        RunEvent(eventType=RunState.START, eventTime="2026-02-01T09:00:00.000+00:00", job=job,
                 run=Run(runId=TRAIN_RUN)),
    ]
    for index, event in enumerate(events):
        emit([event], log_file_path=str(tmp_path / f"part{index}.jsonl"), append=True)

    [record] = read_openlineage(sorted(tmp_path.iterdir()), relative_to=tmp_path).records

    assert (record.status, record.start_time, record.end_time) == \
        ("FAIL", "2026-02-01T09:00:00Z", "2026-02-01T09:10:00Z")
    assert [o.name for o in record.outputs] == ["/models/churn/model.pkl"]
    assert (record.origin.path, record.origin.line) == ("part2.jsonl", 1)


def test_run_without_an_end_keeps_its_last_state(tmp_path: Path):
    path = tmp_path / "events.jsonl"
    job = Job(namespace=NAMESPACE, name="train")
    emit([RunEvent(eventType=RunState.START, eventTime="2026-02-01T09:00:00Z", job=job, run=Run(runId=TRAIN_RUN)),
          RunEvent(eventType=RunState.RUNNING, eventTime="2026-02-01T09:05:00Z", job=job, run=Run(runId=TRAIN_RUN))],
         log_file_path=str(path), append=True)

    [record] = read_openlineage([path], relative_to=tmp_path).records

    assert (record.status, record.start_time, record.end_time) == ("RUNNING", "2026-02-01T09:00:00Z", None)


def problem_lines(*names: str) -> list[str]:
    result = read_openlineage([FIXTURES / name for name in names], relative_to=FIXTURES)
    return [problem.format() for problem in result.problems]


def test_broken_events_are_reported_with_file_line_and_key_and_skipped():
    result = read_openlineage([FIXTURES / "broken.jsonl"], relative_to=FIXTURES)

    assert [problem.format() for problem in result.problems] == [
        "broken.jsonl:2:1: warning: event 1: found a list, expected an OpenLineage RunEvent object",
        "broken.jsonl:3:1: warning: event 2: missing required key 'run', expected the run with its runId",
        "broken.jsonl:4:1: warning: event 3.run: missing required key 'runId', expected the run's id (a UUID)",
        "broken.jsonl:5:40: warning: event 4: found invalid JSON (Unterminated string starting at), "
        "expected one JSON object per OpenLineage event",
        "broken.jsonl:6:1: warning: event 5.eventType: found string 'FINISHED', "
        "expected one of: START, RUNNING, COMPLETE, ABORT, FAIL, OTHER",
        "broken.jsonl:7:1: warning: event 6.inputs[0]: missing required key 'namespace', "
        "expected the dataset's namespace and name",
        "broken.jsonl:8:1: warning: event 7.outputs[1]: missing required key 'name', "
        "expected the dataset's namespace and name",
        "broken.jsonl:9:1: warning: event 8.eventTime: found string 'yesterday', "
        "expected an ISO 8601 date and time such as 2026-01-31T12:00:00.000Z",
    ]
    # The good events around the bad ones still make the run; the skipped ones add nothing to it.
    [record] = result.records
    assert (record.id, record.status, record.start_time, record.end_time) == \
        ("d2b1c0f4-5e6a-4b7c-8d9e-0f1a2b3c4d5e", "COMPLETE", "2026-01-31T12:00:00Z", "2026-01-31T12:10:00Z")
    assert [i.name for i in record.inputs] == ["raw/customers.parquet"]
    assert record.outputs == ()


def test_truncated_indented_event_points_at_the_line_where_it_breaks():
    assert problem_lines("truncated-debug.json") == [
        "truncated-debug.json:9:3: warning: event 0: found invalid JSON (Expecting ',' delimiter), "
        "expected one JSON object per OpenLineage event",
    ]


def test_single_event_file_that_is_not_an_object():
    assert problem_lines("not-an-event.json") == [
        "not-an-event.json:1:1: warning: event 0: found string 'COMPLETE', expected an OpenLineage RunEvent object",
    ]


def test_unreadable_files_are_reported_not_raised():
    assert problem_lines("missing.jsonl") == [
        "missing.jsonl:1:1: warning: cannot be read: No such file or directory"]


def test_malformed_optional_facets_are_ignored_not_reported():
    """Producers differ in what they put in facets; a run is still worth showing without them."""
    result = read_openlineage([FIXTURES / "odd-facets.jsonl"], relative_to=FIXTURES)

    assert result.problems == []
    assert result.records == [RunRecord(
        source="openlineage", id="5b0c6e2a-1f3d-4c8e-9a7b-2d4f6e8a0c1b", experiment=NAMESPACE, name="train",
        status="COMPLETE", start_time="2026-01-31T12:10:00Z", end_time="2026-01-31T12:10:00Z",
        tags={"openlineage.nominal_start_time": "soon"},
        inputs=(DatasetRef(name="raw/customers.parquet", namespace="s3://lake",
                           source="s3://lake/raw/customers.parquet"),),
        # A database namespace gives no URI: "postgres://db:5432/ml.scores" would locate nothing.
        outputs=(Output(kind="dataset", name="ml.scores", namespace="postgres://db:5432"),),
    )]
