"""The lineage graph, its checks and its DOT source, from real run sources.

Two projects: a real git + DVC pipeline (prepare -> featurize -> a foreach ``train`` stage) made with
``dvc stage add`` and ``dvc repro``; and an MLflow run (a ``modelcards-run/1`` export, as ``modelcards pull``
writes it) beside OpenLineage events written by the real ``openlineage-python`` client. Both are read the way a
build reads them (``load_runs`` + ``check_cards``), and the DOT source is drawn by the real ``dot``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import dataset_version_dataset, source_code_location_job
from openlineage.client.transport.file import FileConfig, FileTransport

from conftest import svg_as_drawn, write_project
from dvc_pipeline import RAW, make_dvc_pipeline
from modelcards.build import check_cards
from modelcards.catalog import Catalog, TrialOf
from modelcards.lineage.checks import CHECKS, check_lineage
from modelcards.lineage.dot import to_dot
from modelcards.lineage.graph import (Edge, LineageGraph, build_graph, edge_list, graph_fingerprint, impact,
                                      neighbourhood, overview)
from modelcards.site.paths import node_target, relative_url
from modelcards.sources.load import load_runs
from modelcards.sources.record import CodeRef, DatasetRef, RunRecord, write_export

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"


def catalog_of(root: Path, cards: dict[str, str], runs: list[str]) -> Catalog:
    write_project(root, cards)
    checked = check_cards([root / "cards"], relative_to=root, runs=load_runs(runs, project_dir=root))
    assert checked.errors == []
    assert checked.catalog is not None
    return checked.catalog


def labels(subgraph) -> set[str]:
    return {node.label for node in subgraph.nodes}


# --- a real DVC pipeline ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def dvc_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    root = tmp_path_factory.mktemp("dvc-lineage")
    make_dvc_pipeline(root / "pipeline")
    return catalog_of(root, {
        "raw-data.yml": f"""
            kind: dataset
            name: raw-data
            versions:
              - {{version: "2026-01", digest: {hashlib.md5(RAW).hexdigest()}}}
        """,
        "churn-dvc.yml": """
            name: churn-dvc
            title: Churn per region
            versions:
              - {version: "1.0", date: 2026-01-05, run: "dvc:train@us"}
              - {version: "1.1", date: 2026-01-06, run: "dvc:train@eu"}
              - {version: "1.2", date: 2026-01-07, run: "dvc:train@asia"}
            deployments:
              - {environment: production, version: "1.2", date: 2026-01-08, by: ana}
        """,
    }, ["pipeline"])


def test_a_dvc_chain_is_one_path_from_the_raw_data_card_to_the_model_version(dvc_catalog: Catalog):
    graph = build_graph(dvc_catalog)
    chain = [
        Edge("data:raw-data@2026-01", "run:dvc:prepare", "input"),
        Edge("run:dvc:prepare", "data:dvc:pipeline/data/prepared.csv", "output"),
        Edge("data:dvc:pipeline/data/prepared.csv", "run:dvc:featurize", "input"),
        Edge("run:dvc:featurize", "data:dvc:pipeline/data/features.csv", "output"),
        Edge("data:dvc:pipeline/data/features.csv", "run:dvc:train@us", "input"),
        Edge("run:dvc:train@us", "model:churn-dvc@1.0", "produced"),
    ]
    assert [edge for edge in chain if edge not in graph.edges] == []
    assert "data:raw-data@2026-01" in graph.ancestors(["model:churn-dvc@1.0"])
    assert not [node for node in graph.nodes if node.endswith(".py")], "a stage's scripts are code, not data"
    # The graph says what a node is; the site decides where it links.
    assert node_target(graph.nodes["run:dvc:prepare"], {}) == "runs/dvc/prepare.md"
    assert node_target(graph.nodes["data:raw-data@2026-01"], {}) == "datasets/raw-data.md"
    assert graph == build_graph(dvc_catalog), "the same catalog gives the same graph"
    # A fully recorded pipeline leaves one gap: the deployed 1.2 names its stage as today's dvc.lock has it.
    assert [(p.key_path, p.message.split(" but ")[0]) for p in check_lineage(graph, dvc_catalog, {})] == [
        ("versions[2].run", "version '1.2' is deployed (production on 2026-01-08)"),
    ]


def test_the_neighbourhood_counts_depth_in_runs_and_collapses_foreach_items(dvc_catalog: Catalog):
    graph = build_graph(dvc_catalog)
    versions = {"churn-dvc 1.0", "churn-dvc 1.1", "churn-dvc 1.2", "production\n2026-01-08"}
    one = neighbourhood(graph, "churn-dvc", depth=1)
    assert labels(one) == versions | {"train (3 items)", "data/features.csv"}
    assert sorted(edge_list(one)) == [
        ("churn-dvc 1.2", "production, 2026-01-08"),
        ("data/features.csv", "train (3 items)"),
        ("train (3 items)", "churn-dvc 1.0"),
        ("train (3 items)", "churn-dvc 1.1"),
        ("train (3 items)", "churn-dvc 1.2"),
    ], "the three items' identical input edges are one edge"
    assert one.focus == {"model:churn-dvc@1.0", "model:churn-dvc@1.1", "model:churn-dvc@1.2"}
    collapsed = next(node for node in one.nodes if node.label == "train (3 items)")
    assert (collapsed.id, collapsed.detail, node_target(collapsed, {})) == ("run:dvc:train", "items: asia, eu, us",
                                                                            None)

    two = labels(neighbourhood(graph, "churn-dvc", depth=2))
    assert two - labels(one) == {graph.nodes["run:dvc:featurize"].label, "data/prepared.csv"}
    three = labels(neighbourhood(graph, "churn-dvc", depth=3))
    assert three - two == {"raw-data 2026-01", graph.nodes["run:dvc:prepare"].label}
    assert labels(neighbourhood(graph, "churn-dvc", depth=0)) == versions


def test_impact_of_a_dataset_reaches_every_model_version_and_deployment(dvc_catalog: Catalog):
    affected = impact(build_graph(dvc_catalog), "raw-data")
    assert {"churn-dvc 1.0", "churn-dvc 1.1", "churn-dvc 1.2", "production\n2026-01-08", "train (3 items)",
            "data/features.csv", "models/us.json"} <= labels(affected)
    assert affected.focus == {"data:raw-data@2026-01"}
    assert impact(build_graph(dvc_catalog), "no-such-dataset").nodes == ()


# --- MLflow and OpenLineage side by side -----------------------------------------------------

RUN_ID = "8f14e45fceea167a5a36dedd4bea2543"
COMMIT = "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"
EVIL = 'evil "quoted" \\ back <script>alert(1)</script> {a|b}'
FEATURES_RUN = "01941f7a-0002-7000-8000-000000000002"
SCORE_RUN = "01941f7a-0003-7000-8000-000000000003"
DEDUPE_RUN = "01941f7a-0004-7000-8000-000000000004"

CARDS = {
    "customers.yml": """
        kind: dataset
        name: customers
        owner: {name: data-team}
        aliases: ["s3://lake/raw/customers.parquet"]
        versions:
          - {version: v1, digest: 9a8b7c6d}
    """,
    "churn.yml": f"""
        name: churn
        title: Churn model
        owners:
          - name: growth-team
        training_data:
          datasets: [customers]
        versions:
          - version: "0.9"
            date: 2026-01-10
          - version: "1.0"
            date: 2026-02-01
            run: mlflow:{RUN_ID}
          - version: "2.0"
            date: 2026-03-01
            run: openlineage:{SCORE_RUN}
        deployments:
          - {{environment: production, version: "2.0", date: 2026-03-02, by: ana}}
    """,
    "churn-small.yml": """
        name: churn-small
        title: Distilled churn model
        tags: [distilled]
        model_details: {base_model: churn}
        versions:
          - version: "0.1"
            date: 2026-03-05
            run: mlflow:00000000000000000000000000000001
    """,
}


def ol_events() -> list[RunEvent]:
    """One event a line: features (line 1), score (line 2), dedupe (line 3)."""
    def job(name: str) -> Job:
        return Job(namespace="churn", name=name, facets={"sourceCodeLocation": source_code_location_job.
                   SourceCodeLocationJobFacet(type="git", url="https://git.example/churn", version=COMMIT)})

    version = {"version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion="v1")}
    return [
        RunEvent(eventType=RunState.COMPLETE, eventTime="2026-02-20T12:00:00Z", job=job("features"),
                 run=Run(runId=FEATURES_RUN),
                 inputs=[InputDataset("s3://lake", "raw/customers.parquet", facets=version)],
                 outputs=[OutputDataset("s3://lake", "features/customers.parquet")]),
        RunEvent(eventType=RunState.COMPLETE, eventTime="2026-02-21T12:00:00Z", job=job("score"),
                 run=Run(runId=SCORE_RUN),
                 inputs=[InputDataset("s3://lake", "features/customers.parquet"),
                         InputDataset("postgres://crm", "public.contacts")]),
        # Rewrites the table it reads: a cycle.
        RunEvent(eventType=RunState.COMPLETE, eventTime="2026-02-22T12:00:00Z", job=job("dedupe"),
                 run=Run(runId=DEDUPE_RUN), inputs=[InputDataset("s3://lake", "staging/events")],
                 outputs=[OutputDataset("s3://lake", "staging/events")]),
    ]


@pytest.fixture(scope="module")
def mixed_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    root = tmp_path_factory.mktemp("mixed-lineage")
    write_export([
        RunRecord(source="mlflow", id=RUN_ID, name=EVIL, start_time="2026-02-01T10:00:00Z",
                  inputs=(DatasetRef("customers-train", namespace="dataset", digest="9a8b7c6d", context="training"),),
                  code=CodeRef(commit=COMMIT)),
        RunRecord(source="mlflow", id="00000000000000000000000000000001", name="distil", code=CodeRef(commit=COMMIT),
                  inputs=(DatasetRef("customers-train", namespace="dataset", digest="9a8b7c6d"),)),
    ], root / "runs")
    client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(root / "runs/events.jsonl"),
                                                                  append=True)))
    for event in ol_events():
        client.emit(event)
    return catalog_of(root, CARDS, ["runs"])


def test_a_dataset_seen_by_mlflow_by_digest_and_by_openlineage_by_alias_is_one_node(mixed_catalog: Catalog):
    graph = build_graph(mixed_catalog)
    readers = sorted(e.target for e in graph.outgoing["data:customers@v1"])
    assert readers == ["run:mlflow:00000000000000000000000000000001", f"run:mlflow:{RUN_ID}",
                       f"run:openlineage:{FEATURES_RUN}"]
    assert {n.id for n in graph.nodes.values() if n.card == "customers"} == {"data:customers@v1", "data:customers"}
    # The OpenLineage data no card describes is one node, shared by the run that wrote it and the one that read it.
    shared = "data:s3://lake/features/customers.parquet"
    assert Edge(f"run:openlineage:{FEATURES_RUN}", shared, "output") in graph.edges
    assert Edge(shared, f"run:openlineage:{SCORE_RUN}", "input") in graph.edges
    assert graph.nodes[shared].label == "features/customers.parquet"
    # The version without a run is tied to the model's declared training data, not to a data version.
    assert Edge("data:customers", "model:churn@0.9", "declared") in graph.edges
    assert node_target(graph.nodes["base:churn"], {}) == "models/churn.md"
    assert Edge("base:churn", "model:churn-small@0.1", "base") in graph.edges


def test_each_gap_is_reported_at_the_card_line_that_can_close_it(mixed_catalog: Catalog):
    lines = [p.format() for p in check_lineage(build_graph(mixed_catalog), mixed_catalog, {})]
    assert lines == [
        "cards/churn.yml:8:5: warning: versions[0]: version '0.9' has no code commit: add code: {commit: <sha>} "
        "or link a run that records its commit",
        "cards/churn.yml:8:5: warning: versions[0]: version '0.9' has no data version: add data: "
        "[{dataset: customers, version: ...}] or link a run that logs its input",
        "cards/churn.yml:8:5: warning: versions[0]: version '0.9' names no run: add run: <source>:<run id> "
        "(mlflow, dvc or openlineage) so the tracker's record backs it",
        f"cards/churn.yml:15:10: warning: versions[2].run: run openlineage:{SCORE_RUN} reads 'public.contacts' "
        "(namespace postgres://crm), which no dataset card describes and no run wrote; add a dataset card with "
        "aliases: ['public.contacts'] to record its versions and owner",
        "runs/events.jsonl:3:1: warning: lineage cycle: data:s3://lake/staging/events → "
        f"run:openlineage:{DEDUPE_RUN} → data:s3://lake/staging/events; a run on it reads what it (or a later "
        "run) wrote, so the lineage cannot say which came first",
    ]


def test_severities_make_a_check_an_error_or_turn_it_off(mixed_catalog: Catalog):
    graph = build_graph(mixed_catalog)
    problems = check_lineage(graph, mixed_catalog, {"no_run": "error", "no_code_commit": "off", "cycle": "off"})
    assert [(p.severity, p.message.split(":")[0]) for p in problems] == [
        ("warning", "version '0.9' has no data version"),
        ("error", "version '0.9' names no run"),
        ("warning", "run openlineage"),
    ]
    assert check_lineage(graph, mixed_catalog, dict.fromkeys(CHECKS, "off")) == []
    with pytest.raises(ValueError, match="found check 'no_such_check', expected one of no_data_version"):
        check_lineage(graph, mixed_catalog, {"no_such_check": "error"})
    with pytest.raises(ValueError, match="found severity 'fatal' for check 'cycle'"):
        check_lineage(graph, mixed_catalog, {"cycle": "fatal"})


def test_the_overview_boxes_models_and_datasets_by_team_and_gives_up_above_the_cap(mixed_catalog: Catalog):
    graph = build_graph(mixed_catalog)
    whole = overview(graph, cap=10)
    assert whole is not None
    assert [node.id for node in whole.nodes] == ["data:customers", "model:churn", "model:churn-small"]
    assert whole.clusters == (("data-team", ("data:customers",)), ("distilled", ("model:churn-small",)),
                              ("growth-team", ("model:churn",)))
    assert sorted((e.source, e.target, e.kind) for e in whole.edges) == [
        ("data:customers", "model:churn", "uses"), ("data:customers", "model:churn-small", "uses"),
        ("model:churn", "model:churn-small", "base")]
    assert overview(graph, cap=2) is None


def test_dot_source_draws_with_real_dot_keeping_links_tooltips_and_hostile_labels_as_text(mixed_catalog: Catalog):
    graph = build_graph(mixed_catalog)
    subgraph = neighbourhood(graph, "churn")

    def href(node):  # as from the model page models/churn/ in the built site
        target = node_target(node, {})
        return relative_url("models/churn.md", target, directory_urls=True) if target else None

    source = to_dot(subgraph, title='Lineage of "churn"', href=href)
    assert source == to_dot(subgraph, title='Lineage of "churn"', href=href)
    drawn = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, timeout=60)
    assert drawn.returncode == 0, drawn.stderr.decode()
    assert b"<script" not in drawn.stdout
    svg = ET.fromstring(drawn.stdout)

    nodes = {g.findtext(f"{SVG}title"): g for g in svg.iter(f"{SVG}g") if g.get("class") == "node"}
    run = nodes[f"run:mlflow:{RUN_ID}"]
    assert run.get("id") == "mc-run_3a_mlflow_3a_" + RUN_ID
    link = run.find(f".//{SVG}a")
    assert link.get(f"{XLINK}href") == f"../../runs/mlflow/{RUN_ID}/"
    assert link.get(f"{XLINK}title") == \
        f"Run: {EVIL} ({COMMIT[:7]})\nmlflow:{RUN_ID}\ndate: 2026-02-01T10:00:00Z\ncommit: {COMMIT}"
    assert [t.text for t in run.iter(f"{SVG}text")] == [f"{EVIL} ({COMMIT[:7]})"]

    dataset = nodes["data:customers@v1"].find(f".//{SVG}a")
    assert dataset.get(f"{XLINK}href") == "../../datasets/customers/"
    assert dataset.get(f"{XLINK}title") == "Dataset version: customers v1\ndigest: 9a8b7c6d"
    legend = sorted(t for t in nodes if t.startswith("legend:") and t != "legend:")
    assert legend == ["legend:data", "legend:dataset_version", "legend:deployment", "legend:model_version",
                      "legend:run"], "the legend shows only the kinds drawn"
    assert svg.find(f"{SVG}g/{SVG}g/{SVG}a/{SVG}text").text == 'Lineage of "churn"'


# --- the graph's fingerprint, which keys the cached diagrams -----------------------------------

FINGERPRINTED = {
    "shared-data.yml": """
        kind: dataset
        name: shared-data
        versions: [{version: "v1", digest: "0123abcd"}]
    """,
    "alpha.yml": """
        name: alpha
        title: Alpha
        model_details: {base_model: beta}
        versions: [{version: "1.0", date: 2026-01-01, data: [{dataset: shared-data, version: v1}]}]
        deployments: [{environment: production, version: "1.0", date: 2026-02-01, by: ana}]
    """,
    "beta.yml": """
        name: beta
        title: "Beta \\u00e9t\\u00e9"
        versions: [{version: "1.0", date: 2026-01-01, data: [{dataset: shared-data}]}]
    """,
}
PRINT_FINGERPRINT = """
import sys
from pathlib import Path
if sys.argv[2] == "without msgspec":
    sys.modules["msgspec"] = None  # what an install without the fast extra sees: import msgspec fails
from modelcards.build import check_cards
from modelcards.lineage.graph import build_graph, graph_fingerprint
root = Path(sys.argv[1])
print(graph_fingerprint(build_graph(check_cards([root / "cards"], relative_to=root).catalog)).hex())
"""


@pytest.fixture(params=["with msgspec", "without msgspec"])
def encoder(request, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "without msgspec":
        monkeypatch.setitem(sys.modules, "msgspec", None)
    return request.param


def test_the_graph_fingerprint_is_the_same_in_every_process(tmp_path: Path, encoder: str):
    write_project(tmp_path, FINGERPRINTED)
    printed = {subprocess.run([sys.executable, "-c", PRINT_FINGERPRINT, str(tmp_path), encoder], check=True,
                              capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2", "3")}
    assert len(printed) == 1 and len(printed.pop().strip()) == 64


def test_the_graph_fingerprint_changes_with_any_field_of_any_node_or_edge(tmp_path: Path, encoder: str):
    graph = build_graph(catalog_of(tmp_path, FINGERPRINTED, []))
    before = graph_fingerprint(graph)
    assert graph_fingerprint(build_graph(catalog_of(tmp_path / "again", FINGERPRINTED, []))) == before

    def changed(node_id: str, **fields) -> bytes:
        nodes = {**graph.nodes, node_id: dataclasses.replace(graph.nodes[node_id], **fields)}
        return graph_fingerprint(LineageGraph(nodes, graph.edges))

    deployment = next(node.id for node in graph.nodes.values() if node.kind == "deployment")
    fingerprints = {
        before,
        changed(deployment, detail="1.0 by bo"),
        changed(deployment, state="rolled back"),
        changed("model:alpha@1.0", tags=("risk",)),
        changed("model:alpha@1.0", trial_of=TrialOf(None, "mlflow", "churn")),
        changed("model:alpha@1.0", trial_of=TrialOf(None, "mlflow", "churn-2")),
        graph_fingerprint(LineageGraph(graph.nodes, graph.edges[:-1])),
        graph_fingerprint(LineageGraph(graph.nodes, (*graph.edges[:-1], dataclasses.replace(graph.edges[-1],
                                                                                              kind="uses")))),
    }
    assert len(fingerprints) == 8


def test_the_page_svg_draws_what_dot_drew_in_fewer_bytes(mixed_catalog: Catalog, browser):
    from PIL import ImageChops

    from modelcards.lineage.render import render_svgs
    from modelcards.site.lineage import page_svg

    subgraph = neighbourhood(build_graph(mixed_catalog), "churn")
    [drawn] = render_svgs([to_dot(subgraph, title="Lineage of churn-model", href=lambda node: "../x-y/")])
    shown = page_svg(drawn, "Lineage of churn-model", edge_list(subgraph))
    named = shown.index("</desc>") + len("</desc>")  # what page_svg adds for screen readers, not drawn
    assert len(shown) - named < 0.85 * len(drawn)
    assert "&#45;" not in shown and ' id="a_' not in shown and "target=" not in shown
    assert shown.count("font-family=") == 1

    def drawing(svg: str) -> list[tuple]:
        root = ET.fromstring(svg)
        return [(element.tag.split("}")[1], (element.text or "").strip(), element.get(f"{XLINK}href"),
                 element.get(f"{XLINK}title"), element.get("class"),
                 element.get("id") if element.get("class") == "node" else None)
                for element in list(root.iter())[1:] if element.tag not in (f"{SVG}title", f"{SVG}desc")]

    assert drawing(shown) == drawing(drawn), "the same texts, links, tooltips and node ids, in the same order"
    assert any(text == f"{EVIL} ({COMMIT[:7]})" for _, text, *_ in drawing(shown))

    before, after = svg_as_drawn(browser, drawn), svg_as_drawn(browser, shown)
    assert before.size == after.size
    assert ImageChops.difference(before, after).getbbox() is None, "not one pixel differs"
