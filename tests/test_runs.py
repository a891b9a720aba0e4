"""Cards linked to run exports, built by the real CLI: filled values, disagreements, unknown runs, masking, bad files.

The exports here are written with ``modelcards.sources.record.write_export``, the same code `modelcards pull`
uses; the tracker-specific readers have their own tests against real MLflow, DVC and OpenLineage.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import run_modelcards, write_project
from modelcards.sources.masking import mask_records
from modelcards.sources.record import (CodeRef, DatasetRef, Output, RunRecord, dumps, from_json, parse_export, series,
                                      write_export)

RUN_ID = "8f14e45fceea167a5a36dedd4bea2543"
COMMIT = "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
GITHUB_TOKEN = "ghp_" + "x1Y2z3" * 6

RUN = RunRecord(
    source="mlflow", id=RUN_ID, experiment="wine", name="rf-200", status="FINISHED",
    start_time="2026-03-01T10:00:00Z", end_time="2026-03-01T10:05:00Z", user="ana",
    params={"n_estimators": "200", "max_depth": "8", "db_password": "hunter2", "note": f"key {AWS_KEY}"},
    metrics={"accuracy": series([(step, 0.80 + step * 0.01, 1000 + step) for step in range(10)]),
             "log_loss": series([(0, 0.31, None)])},
    tags={"team": "vision", "ci_token_for_pushes": GITHUB_TOKEN, "mlflow.source.git.commit": COMMIT},
    inputs=(DatasetRef("wine-cultivars", namespace="dataset", digest="9a8b7c6d", context="training"),),
    outputs=(Output("model", "model", uri="models:/wine/3", version="3", registered_name="wine",
                    aliases=("champion",)),),
    code=CodeRef("https://git.example.com/ml/wine", COMMIT, "train.py"),
)

CARDS = {
    "wine.yml": f"""
        name: wine
        title: Wine classifier
        metrics:
          - name: accuracy
        training_data:
          datasets: [wine-cultivars]
        versions:
          - version: "1.0"
            date: 2026-03-01
            run: mlflow:{RUN_ID}
            params: {{n_estimators: 200}}
    """,
    "wine-cultivars.yml": """
        kind: dataset
        name: wine-cultivars
        versions:
          - {version: "2026-02", digest: 9a8b7c6d}
    """,
}


def runs_project(root: Path, cards: dict[str, str], records: list[RunRecord], **options) -> Path:
    mkdocs_yml = write_project(root, cards, repo_url="https://git.example.com/ml/wine",
                               plugins=["search", {"modelcards": {"cards_dir": "cards", "runs": ["runs"], **options}}])
    write_export(records, root / "runs")
    return mkdocs_yml


def build(mkdocs_yml: Path, *args: str, check: bool = True):
    return run_modelcards("build", "-f", mkdocs_yml, *args, cwd=mkdocs_yml.parent, check=check)


def text_of(html_file: Path) -> str:
    """Visible text of a built page, roughly: tags dropped, entities decoded."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", " ", html_file.read_text(encoding="utf-8")))


def test_a_version_is_filled_in_from_its_run(tmp_path: Path):
    mkdocs_yml = runs_project(tmp_path, CARDS, [RUN])
    result = build(mkdocs_yml)
    assert "from 1 model card(s) and 1 run(s)" in result.stderr
    model = text_of(tmp_path / "site/models/wine/index.html")
    assert re.search(r"max_depth\s+8", model), "a param the card leaves out comes from the run"
    assert re.search(r"accuracy\s+higher\s+0\.89", model), "the declared metric's last value comes from the run"
    assert "log_loss" not in model, "undeclared metrics stay on the run page"
    assert re.search(r"wine-cultivars\s+2026-02\s+9a8b7c6d\s+training", model), "the input matched by digest"
    model_html = (tmp_path / "site/models/wine/index.html").read_text(encoding="utf-8")
    assert COMMIT[:7] in model and f'/commit/{COMMIT}"' in model_html, "the run's commit, linked to the repository"
    assert f"from run mlflow:{RUN_ID}" in " ".join(model.split())

    run_page = tmp_path / f"site/runs/mlflow/{RUN_ID}/index.html"
    run = " ".join(text_of(run_page).split())
    for shown in ("n_estimators", "200", "FINISHED", "2026-03-01T10:00:00Z", "model wine 3 (@champion)", "9a8b7c6d"):
        assert shown in run
    html_text = run_page.read_text(encoding="utf-8")
    assert f'href="https://git.example.com/ml/wine/commit/{COMMIT}"' in html_text
    assert 'href="../../../models/wine/"' in html_text, "the run page links the model version it produced"
    chart = re.search(r'<svg class="mc-chart".*?</svg>', html_text, re.S)
    assert chart and "<title>accuracy</title>" in chart.group(0)
    assert "accuracy: 10 points from 0.8 to 0.89" in chart.group(0)
    assert chart.group(0).count("<circle") == 10


def test_a_card_value_the_run_contradicts_is_kept_and_flagged(tmp_path: Path):
    cards = dict(CARDS)
    cards["wine.yml"] = CARDS["wine.yml"].replace("{n_estimators: 200}", "{n_estimators: 300}") \
        .replace("    params:", "    metrics: {accuracy: 0.95}\n            params:")
    mkdocs_yml = runs_project(tmp_path, cards, [RUN])
    result = build(mkdocs_yml)
    assert (f"cards/wine.yml:11:25: warning: versions[0].metrics.accuracy: the card says 0.95, run mlflow:{RUN_ID} "
            "says 0.89; the card's value is shown, flagged") in result.stderr
    assert (f"cards/wine.yml:12:28: warning: versions[0].params.n_estimators: the card says 300, run mlflow:{RUN_ID} "
            "says '200'; the card's value is shown, flagged") in result.stderr
    model = " ".join(text_of(tmp_path / "site/models/wine/index.html").split())
    assert "The card and its run disagree" in model
    assert "n_estimators : the card says 300 , the run says 200" in model
    assert "0.95 ⚠ run: 0.89" in model

    strict = build(mkdocs_yml, "--strict", check=False)
    assert strict.returncode == 1 and "the site was not built" in strict.stderr


def test_a_run_no_source_has_is_an_error_listing_the_closest_ids(tmp_path: Path):
    cards = dict(CARDS)
    cards["wine.yml"] = CARDS["wine.yml"].replace(f"mlflow:{RUN_ID}", f"mlflow:{RUN_ID[:-1]}0")
    other = RunRecord(source="mlflow", id="00000000000000000000000000000000")
    mkdocs_yml = runs_project(tmp_path, cards, [RUN, other])
    result = build(mkdocs_yml, check=False)
    assert result.returncode == 1
    assert (f"cards/wine.yml:10:10: error: versions[0].run: found run 'mlflow:{RUN_ID[:-1]}0', which no run "
            f"source has; closest known: mlflow:{RUN_ID}") in result.stderr
    assert not (tmp_path / "site").exists()


def test_a_run_reference_without_a_known_source_is_an_error(tmp_path: Path):
    cards = dict(CARDS)
    cards["wine.yml"] = CARDS["wine.yml"].replace(f"mlflow:{RUN_ID}", RUN_ID)
    result = build(runs_project(tmp_path, cards, [RUN]), check=False)
    assert (f"cards/wine.yml:10:10: error: versions[0].run: found '{RUN_ID}', expected <source>:<run id> with "
            "source one of mlflow, dvc, openlineage") in result.stderr


def test_secrets_are_masked_reported_and_never_reach_the_site(tmp_path: Path):
    mkdocs_yml = runs_project(tmp_path, CARDS, [RUN])
    # The export holds the secrets here, as a hand-made or older export might.
    result = build(mkdocs_yml)
    assert f"masked runs/mlflow-{RUN_ID}.json: mlflow:{RUN_ID} params.db_password (the key looks secret)" \
        in result.stderr
    assert f"params.note (an AWS access key)" in result.stderr
    assert "tags.ci_token_for_pushes (the key looks secret)" in result.stderr
    assert "Masked 3 secret-looking value(s) in run metadata and monitoring results." in result.stderr
    for secret in ("hunter2", AWS_KEY, GITHUB_TOKEN):
        leaks = [str(p) for p in (tmp_path / "site").rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
        assert not leaks, f"{secret} leaked into {leaks}"
    run = text_of(tmp_path / f"site/runs/mlflow/{RUN_ID}/index.html")
    assert "db_password [masked]" in " ".join(run.split())
    assert "key [masked]" in run, "only the credential-shaped part of a value is masked"


def test_configured_patterns_mask_more(tmp_path: Path):
    record = RunRecord(source="mlflow", id=RUN_ID, params={"internal_ticket": "SEC-4411", "n": "1"},
                       tags={"x": "corp-key-abcdef123456"})
    mkdocs_yml = runs_project(tmp_path, CARDS, [record], secret_keys=["ticket"], secret_values=[r"corp-key-\w+"])
    result = build(mkdocs_yml)
    assert "params.internal_ticket (the key matches a configured pattern)" in result.stderr
    assert "tags.x (the pattern 'corp-key-\\\\w+')" in result.stderr
    site_bytes = b"".join(p.read_bytes() for p in (tmp_path / "site").rglob("*.html"))
    assert b"SEC-4411" not in site_bytes and b"corp-key-abcdef" not in site_bytes


@pytest.mark.parametrize("key, masked", [
    ("db_password", True), ("HF_TOKEN", True), ("awsSecretAccessKey", True), ("api-key", True),
    ("private_key_path", True), ("Authorization", True), ("client_secret", True),
    ("max_tokens", False), ("tokenizer", False), ("author", False), ("learning_rate", False), ("keyword", False),
])
def test_secret_keys_are_told_apart_by_word(key: str, masked: bool):
    [record], found = mask_records([RunRecord("mlflow", "r", params={key: "value"})])
    assert (record.params[key] == "[masked]") is masked and bool(found) is masked


@pytest.mark.parametrize("value, reason", [
    ("postgresql://etl:s3cr3t@db.internal:5432/features", "a URL with a user and password"),
    ("xoxb-123456789012-abcdefghijkl", "a Slack token"),
    ("glpat-abcdefghijklmnopqrst", "a GitLab token"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "a JWT"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----",
     "a private key"),
])
def test_credential_shaped_values_are_masked_wherever_they_are(value: str, reason: str):
    record = RunRecord("mlflow", "r", tags={"any": value}, inputs=(DatasetRef("d", source=value),))
    [masked], found = mask_records([record])
    assert "s3cr3t" not in dumps(masked) and value not in dumps(masked)
    assert {(item.where, item.reason) for item in found} == {("tags.any", reason), ("inputs[0].source", reason)}


def test_a_broken_export_is_reported_with_its_line_and_fails_only_under_strict(tmp_path: Path):
    mkdocs_yml = runs_project(tmp_path, CARDS, [RUN])
    truncated = tmp_path / "runs/mlflow-truncated.json"
    truncated.write_text(dumps(RUN)[:120], encoding="utf-8")
    result = build(mkdocs_yml)
    line = next(l for l in result.stderr.splitlines() if l.startswith("runs/mlflow-truncated.json:"))
    assert re.fullmatch(r"runs/mlflow-truncated\.json:\d+:\d+: warning: not valid JSON: .+", line), line
    index = (tmp_path / "site/index.html").read_bytes()

    strict = build(mkdocs_yml, "--strict", check=False)
    assert strict.returncode == 1
    assert (tmp_path / "site/index.html").read_bytes() == index, "a failed build leaves the previous site"


def test_run_sources_must_stay_inside_the_project(tmp_path: Path):
    project = tmp_path / "project"
    mkdocs_yml = write_project(project, CARDS, plugins=[{"modelcards": {"runs": ["../elsewhere"]}}])
    (tmp_path / "elsewhere").mkdir()
    result = build(mkdocs_yml, check=False)
    assert result.returncode == 1
    assert "error: plugins.modelcards.runs: found '../elsewhere', which is outside the project folder" \
        in result.stderr


def test_the_export_format_round_trips_and_is_deterministic(tmp_path: Path):
    first = write_export([RUN], tmp_path / "a")
    second = write_export([from_json(json.loads(first[0].read_text()))], tmp_path / "b")
    assert first[0].read_bytes() == second[0].read_bytes()
    assert json.loads(first[0].read_text())["metrics"]["accuracy"]["history"][0] == [0, 0.8, 1000]


def test_two_builds_with_runs_are_byte_identical(tmp_path: Path):
    mkdocs_yml = runs_project(tmp_path, CARDS, [RUN])
    build(mkdocs_yml, "-d", "site-a")
    build(mkdocs_yml, "-d", "site-b")
    a, b = tmp_path / "site-a", tmp_path / "site-b"
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.name != "sitemap.xml.gz")
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file() and p.name != "sitemap.xml.gz")
    assert [f for f in files if (a / f).read_bytes() != (b / f).read_bytes()] == []


# Exports that msgspec's typed fast path reads, or hands to from_json because a value is not as `dumps` writes
# it: either way the build must get the record from_json makes of the standard library's parse.
UNUSUAL_EXPORTS = {
    "as written": lambda data: data,
    "a number among params": lambda data: {**data, "params": {**data["params"], "n_estimators": 200}},
    "a final value written as a string": lambda data: {**data, "metrics": {"m": {"last": "inf"}}},
    "an integer final value": lambda data: {**data, "metrics": {"m": {"last": 3, "history": None}}},
    "a history that is not a list": lambda data: {**data, "metrics": {"m": {"last": 3, "history": {"a": 1}}}},
    "an empty code object": lambda data: {**data, "code": {}},
    "a code object with only unknown keys": lambda data: {**data, "code": {"branch": "main"}},
    "null inputs": lambda data: {**data, "inputs": None},
    "null params": lambda data: {**data, "params": None},
    "a numeric id": lambda data: {**data, "id": 42},
    "a numeric experiment": lambda data: {**data, "experiment": 7},
    "a float dataset size": lambda data: {**data, "inputs": [{"name": "d", "size": 1.5}]},
    "packages": lambda data: {**data, "packages": [{"name": "numpy", "spec": "==2.1.0"}, {"name": 5}]},
    "unknown keys": lambda data: {**data, "extra": [1, 2], "inputs": [{"name": "d", "colour": "red"}]},
    "another format": lambda data: {**data, "format": "modelcards-run/2"},
    "another source": lambda data: {**data, "source": "../../etc"},
}
READ_BY_THE_FAST_PATH = {"as written", "an integer final value", "an empty code object", "unknown keys", "packages",
                         "a code object with only unknown keys"}


@pytest.mark.parametrize("case", sorted(UNUSUAL_EXPORTS))
def test_the_fast_export_reader_reads_what_from_json_reads(tmp_path: Path, case: str):
    from modelcards.sources.load import load_runs

    data = UNUSUAL_EXPORTS[case](json.loads(dumps(RUN)))
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs/run.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    loaded = load_runs(["runs"], project_dir=tmp_path)
    fast = parse_export((tmp_path / "runs/run.json").read_bytes())
    assert (fast is not None) == (case in READ_BY_THE_FAST_PATH), fast
    try:
        expected, _ = mask_records([from_json(data)])
    except (KeyError, TypeError, ValueError) as exc:  # from_json refuses it: so must the build, with a warning
        assert not loaded.runs and [p.severity for p in loaded.problems] == ["warning"], exc
        return
    assert not loaded.problems
    assert list(loaded.runs.values()) == expected
    record = next(iter(loaded.runs.values()))
    assert [type(getattr(record, key)) for key in ("params", "tags", "inputs", "outputs", "packages")] == \
        [dict, dict, tuple, tuple, tuple]


def test_the_documented_export_example_is_a_valid_export():
    doc = (Path(__file__).resolve().parents[1] / "docs/reference/runs.md").read_text(encoding="utf-8")
    example = re.search(r"## The export format.*?```json\n(.*?)```", doc, re.S).group(1)
    record = from_json(json.loads(example))
    assert record.ref == "mlflow:7f9c2d1e8a4b4c5f9e0a1b2c3d4e5f60"
    assert record.metrics["accuracy"].last == 0.93 and record.outputs[0].aliases == ("champion",)


def test_foreach_and_matrix_items_share_one_row_of_the_runs_index(tmp_path: Path):
    items = [RunRecord("dvc", f"train@{item}", experiment="dvc.yaml", name="train",
                       tags={"dvc.stage.group": "train", "dvc.stage.item": item}) for item in ("lr-0.1", "lr-0.3")]
    mkdocs_yml = runs_project(tmp_path, CARDS, [RUN, *items])
    build(mkdocs_yml)
    index = " ".join(text_of(tmp_path / "site/runs/index.html").split())
    assert "train (2 items): lr-0.1 , lr-0.3 dvc dvc.yaml" in index
    html_text = (tmp_path / "site/runs/index.html").read_text(encoding="utf-8")
    assert 'href="dvc/train_lr-0.1-' in html_text and (tmp_path / "site/runs/dvc").is_dir()


def test_a_folder_of_exports_is_searched_below_without_following_symlinks_out_of_the_project(tmp_path: Path):
    """The folder walk: nested folders are read, a symlinked file inside the project is read, a symlink to a file
    or folder outside it is not, and a symlinked folder is not followed (as os.walk does not)."""
    from modelcards.sources.load import load_runs

    project, outside = tmp_path / "project", tmp_path / "outside"
    runs = [RUN, *(RunRecord("mlflow", f"{i:032x}", experiment="wine") for i in range(4))]
    write_export(runs[:2], project / "runs")
    write_export(runs[2:3], project / "runs/nested/deeper")
    write_export(runs[3:4], project / "kept")
    write_export(runs[4:], outside)
    (project / "runs/linked-inside.json").symlink_to(project / f"kept/mlflow-{runs[3].id}.json")
    (project / "runs/linked-outside.json").symlink_to(outside / f"mlflow-{runs[4].id}.json")
    (project / "runs/folder-outside").symlink_to(outside, target_is_directory=True)
    (project / "runs/folder-inside").symlink_to(project / "kept", target_is_directory=True)
    (project / "runs/notes.txt").write_text("not a run")

    loaded = load_runs(["runs"], project_dir=project)
    assert sorted(loaded.runs) == sorted(run.ref for run in runs[:4]) and not loaded.problems
    assert loaded.runs[runs[2].ref].origin.path == f"runs/nested/deeper/mlflow-{runs[2].id}.json"
    assert loaded.runs[runs[3].ref].origin.path == "runs/linked-inside.json"


def test_a_folder_holding_an_mlruns_store_is_told_apart_from_a_folder_of_exports(tmp_path: Path):
    from modelcards.sources.load import _is_mlruns_store

    write_export([RUN], tmp_path / "exports")
    (tmp_path / "exports/sub").mkdir()
    assert not _is_mlruns_store(tmp_path / "exports")
    (tmp_path / "exports/sub/meta.yaml").write_text("name: x\n")
    assert _is_mlruns_store(tmp_path / "exports")


def test_an_export_larger_than_one_read_is_read_whole(tmp_path: Path):
    """Files are read 64 KB at a time without sizing them first: a long metric history spans several reads."""
    from modelcards.sources.load import load_runs

    points = [(step, 1 / (step + 1), step) for step in range(5000)]
    long_run = RunRecord("mlflow", RUN_ID, metrics={"loss": series(points)})
    [path] = write_export([long_run], tmp_path / "runs")
    assert path.stat().st_size > 2 * 65536
    loaded = load_runs(["runs"], project_dir=tmp_path)
    history = loaded.runs[long_run.ref].metrics["loss"].history
    assert not loaded.problems and len(history) == 5000 and list(history[-1]) == [4999, pytest.approx(1 / 5000), 4999]
