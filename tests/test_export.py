"""`modelcards export`: each format made from the example project by the real CLI, then read back by the tools
that consume it (huggingface_hub's card parser, the JSON Schema validator), and the same bytes every time."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import REPO_ROOT, run_modelcards, write_project

EXAMPLE_MODELS = sorted(path.stem for path in (REPO_ROOT / "cards").glob("*.yml"))
AS_OF = "1780000000"  # 2026-05-28, as SOURCE_DATE_EPOCH
CATALOG_SCHEMA = REPO_ROOT / "docs/reference/catalog.schema.json"


def export(out: Path, fmt: str, *models: str, cwd: Path = REPO_ROOT, check: bool = True):
    env_before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = AS_OF
    try:
        return run_modelcards("export", "--format", fmt, *models, "--out", out, cwd=cwd, check=check)
    finally:
        if env_before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = env_before


@pytest.fixture(scope="module")
def example_cards() -> dict[str, dict]:
    return {name: yaml.safe_load((REPO_ROOT / "cards" / f"{name}.yml").read_text(encoding="utf-8"))
            for name in EXAMPLE_MODELS}


@pytest.fixture(scope="module")
def hf_exports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hf")
    export(out, "hf")
    return out


def front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def newest(card: dict) -> dict:
    return max(card["versions"], key=lambda version: version["date"])


def test_the_example_has_three_models():
    assert len(EXAMPLE_MODELS) == 3


@pytest.mark.parametrize("name", EXAMPLE_MODELS)
def test_hf_readme_parses_with_huggingface_hub_and_round_trips(hf_exports, example_cards, name):
    from huggingface_hub import ModelCard  # parses offline: nothing here calls the Hub

    text = (hf_exports / name / "README.md").read_text(encoding="utf-8")
    written = front_matter(text)
    parsed = ModelCard(text)
    assert parsed.data.to_dict() == written
    card = example_cards[name]
    assert parsed.data.license == card["license"].lower()
    assert parsed.data.tags == card["tags"]
    assert parsed.data.datasets == sorted({ref["dataset"] for ref in newest(card)["data"]})
    assert parsed.data.model_name == name
    overall = [r for r in parsed.data.eval_results if r.dataset_config is None]
    assert {r.metric_type: r.metric_value for r in overall} == pytest.approx(newest(card)["metrics"])
    slices = [r for r in parsed.data.eval_results if r.dataset_config is not None]
    expected = [q for q in card.get("quantitative_analyses", []) if q.get("version") in (None, newest(card)["version"])]
    found = {(r.metric_type, r.dataset_config): r.metric_value for r in slices}
    assert found == pytest.approx({(q["metric"], q["slice"]): q["value"] for q in expected})
    assert found
    assert parsed.text.lstrip().startswith("# ")
    assert card["title"] in parsed.text.replace("\\", "")


def test_hf_readme_escapes_card_text_for_the_hub(tmp_path):
    hostile = "<script>alert(1)</script> [click](http://evil.example) **bold** | pipe"
    write_project(tmp_path, {"m.yml": f"""
        name: m
        title: "# Not a heading"
        summary: "{hostile}"
        caveats: ["1. not a list item"]
    """})
    export(tmp_path / "out", "hf", cwd=tmp_path)
    text = (tmp_path / "out/m/README.md").read_text(encoding="utf-8")
    body = text.split("---\n", 2)[2]
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "[click](http" not in body and "\\[click\\]" in body
    assert "**bold**" not in body and "\\*\\*bold\\*\\*" in body
    assert "# \\# Not a heading" in body
    assert "- 1\\. not a list item" in body


def test_json_catalog_validates_against_the_published_schema(tmp_path, example_cards):
    export(tmp_path, "json")
    catalog = json.loads((tmp_path / "catalog.json").read_text(encoding="utf-8"))
    schema = json.loads(CATALOG_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(catalog)
    assert catalog["format"] == "modelcards-catalog/1" and catalog["as_of"] == "2026-05-28"
    assert [m["name"] for m in catalog["models"]] == EXAMPLE_MODELS
    for model in catalog["models"]:
        card = example_cards[model["name"]]
        assert model["card"]["title"] == card["title"]
        assert [v["version"] for v in model["card"]["versions"]] == [v["version"] for v in card["versions"]]
        # A card may pin a DVC run by a short commit; the catalog names the run it resolved to, in full.
        assert {label: ref[:len(run)] for label, ref in model["runs"].items() for v in card["versions"]
                if v["version"] == label and (run := v["run"])} == {v["version"]: v["run"] for v in card["versions"]}
    assert {d["name"] for d in catalog["datasets"]} == {"breast-cancer-wisconsin", "diabetes-progression",
                                                        "wine-cultivars"}
    produced = {tuple(pair) for run in catalog["runs"] for pair in run["produced"]}
    assert ("breast-cancer-classifier", "1.2.0") in produced


def test_json_catalog_of_one_model_holds_only_it_and_its_data(tmp_path):
    export(tmp_path, "json", "wine-cultivar-classifier")
    catalog = json.loads((tmp_path / "catalog.json").read_text(encoding="utf-8"))
    assert [m["name"] for m in catalog["models"]] == ["wine-cultivar-classifier"]
    assert [d["name"] for d in catalog["datasets"]] == ["wine-cultivars"]
    assert all(pair[0] == "wine-cultivar-classifier" for run in catalog["runs"] for pair in run["produced"])


@pytest.mark.parametrize("fmt", ["hf", "json"])
def test_exports_are_the_same_bytes_every_time(tmp_path, fmt):
    export(tmp_path / "a", fmt)
    export(tmp_path / "b", fmt)
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in sorted((tmp_path / "a").rglob("*")) if p.is_file()}
    second = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in sorted((tmp_path / "b").rglob("*")) if p.is_file()}
    assert first and first == second


def test_an_unknown_model_is_a_usage_error_naming_the_models(tmp_path):
    result = export(tmp_path, "hf", "no-such-model", check=False)
    assert result.returncode == 2
    assert "the cards have no model 'no-such-model'; they have: " + ", ".join(EXAMPLE_MODELS) in result.stderr
    assert not any(tmp_path.iterdir())


def test_invalid_cards_export_nothing_and_exit_1(tmp_path):
    write_project(tmp_path, {"m.yml": """
        name: m
        title: M
        status: shipped
    """})
    result = export(tmp_path / "out", "json", cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert "cards/m.yml:3:9: error: status:" in result.stderr
    assert "nothing was exported" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def bom_exports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bom")
    export(out, "cyclonedx")
    export(out, "spdx")
    return out


@pytest.mark.parametrize("name", EXAMPLE_MODELS)
def test_cyclonedx_ml_bom_validates_against_the_official_1_6_schema(bom_exports, example_cards, name):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = (bom_exports / f"{name}.cdx.json").read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    card, version = example_cards[name], newest(example_cards[name])
    assert bom["specVersion"] == "1.6" and bom["metadata"]["timestamp"].startswith("2026-05-28")
    model = bom["metadata"]["component"]
    assert (model["type"], model["name"], model["version"]) == ("machine-learning-model", name, version["version"])
    model_card = model["modelCard"]
    overall = {m["type"]: m["value"] for m in model_card["quantitativeAnalysis"]["performanceMetrics"]
               if "slice" not in m}
    assert all(isinstance(value, str) for value in overall.values())  # the schema's type for metric values
    assert {k: float(v) for k, v in overall.items()} == pytest.approx(version["metrics"])
    data = {c["bom-ref"]: c for c in bom["components"] if c["type"] == "data"}
    assert [d["ref"] for d in model_card["modelParameters"]["datasets"]] == sorted(data)
    assert {(c["name"], c["version"], c["hashes"][0]["content"]) for c in data.values()} == {
        (ref["dataset"], ref["version"], ref["digest"]) for ref in version["data"]}
    assert model_card["considerations"]["useCases"] == card["intended_use"]["primary_uses"]
    # The lineage: model -> training (code and run) -> data.
    depends = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    [training] = depends[model["bom-ref"]]
    assert sorted(depends[training]) == sorted(data)
    training_component = next(c for c in bom["components"] if c["bom-ref"] == training)
    assert {p["name"]: p["value"] for p in training_component["properties"]}["modelcards:run"].startswith(
        version["run"])


@pytest.mark.parametrize("name", EXAMPLE_MODELS)
def test_spdx_document_loads_with_the_official_bindings(bom_exports, example_cards, name):
    from spdx_python_model import v3_0_1 as spdx

    objects = spdx.SHACLObjectSet()
    with (bom_exports / f"{name}.spdx3.json").open("rb") as handle:
        spdx.JSONLDDeserializer().read(handle, objects)
    version = newest(example_cards[name])
    [model] = objects.foreach_type(spdx.ai_AIPackage)
    assert (model.name, model.software_packageVersion) == (name, version["version"])
    assert {entry.key: float(entry.value) for entry in model.ai_metric} == pytest.approx(version["metrics"])
    datasets = {d.name: d for d in objects.foreach_type(spdx.dataset_DatasetPackage)}
    assert set(datasets) == {ref["dataset"] for ref in version["data"]}
    relationships = {str(r.relationshipType).rsplit("/", 1)[-1]: [t.name for t in r.to]
                     for r in objects.foreach_type(spdx.Relationship) if r.from_ is model}
    roles = {"training": "trainedOn", "evaluation": "testedOn"}
    for ref in version["data"]:
        assert ref["dataset"] in relationships[roles[ref["role"]]]
    [document] = objects.foreach_type(spdx.SpdxDocument)
    assert document.rootElement == [model]
    assert document.creationInfo.created.date().isoformat() == "2026-05-28"


def _spoiled(document: dict, change) -> str:
    spoiled = json.loads(json.dumps(document))
    change(spoiled["@graph"])
    return json.dumps(spoiled)


@pytest.mark.parametrize("change, says", [
    (lambda graph: next(e for e in graph if e["type"] == "ai_AIPackage").update(software_primaryPurpose="modle"),
     "not valid SPDX 3.0.1"),
    (lambda graph: graph.remove(next(e for e in graph if e["type"] == "Tool")), "does not hold"),
    (lambda graph: next(e for e in graph if e["type"] == "dataset_DatasetPackage").pop("dataset_datasetType"),
     "not valid SPDX 3.0.1"),
    (lambda graph: graph.reverse(), "not what the official bindings write"),
])
def test_an_spdx_document_the_bindings_would_not_write_does_not_validate(bom_exports, change, says):
    """The SPDX writer builds JSON-LD itself; `validate` holds it to what the official bindings read and write."""
    from modelcards.export import spdx

    name = EXAMPLE_MODELS[0]
    text = (bom_exports / f"{name}.spdx3.json").read_text(encoding="utf-8")
    spdx.validate(name, text)
    with pytest.raises(ValueError, match=says):
        spdx.validate(name, _spoiled(json.loads(text), change))


@pytest.mark.parametrize("change", [
    lambda bom: bom["components"].reverse(),
    lambda bom: bom["dependencies"].reverse(),
])
def test_a_bom_the_library_would_not_write_does_not_validate(bom_exports, change):
    """The CycloneDX writer builds JSON itself; `validate` holds it to the schema and to what
    cyclonedx-python-lib writes (the order of components and dependencies)."""
    from modelcards.export import cyclonedx

    name = "breast-cancer-classifier"  # two components: the training step and the data
    bom = json.loads((bom_exports / f"{name}.cdx.json").read_text(encoding="utf-8"))
    cyclonedx.validate(name, json.dumps(bom))
    change(bom)
    with pytest.raises(ValueError, match="not what cyclonedx-python-lib writes"):
        cyclonedx.validate(name, json.dumps(bom))


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx"])
def test_bom_exports_are_the_same_bytes_every_time(bom_exports, tmp_path, fmt):
    export(tmp_path, fmt)
    for path in sorted(tmp_path.iterdir()):
        assert path.read_bytes() == (bom_exports / path.name).read_bytes(), path.name


# A Python that cannot import one package, as on a machine without the extra. The test suite installs every
# extra, so uninstalling is not an option; a meta-path finder that refuses the import is what Python itself
# sees when the package is absent (ModuleNotFoundError).
BLOCKED_RUN = """
import sys
from importlib.abc import MetaPathFinder

class Absent(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Absent())
sys.argv = ["modelcards", *{args!r}]
from modelcards.cli import main
main()
"""


@pytest.mark.parametrize("fmt, extra, blocked", [("cyclonedx", "cyclonedx", "cyclonedx"),
                                                 ("spdx", "spdx", "spdx_python_model")])
def test_a_missing_extra_names_the_pip_line_and_exits_3(tmp_path, fmt, extra, blocked):
    import subprocess
    import sys

    args = ["export", "--format", fmt, "--out", str(tmp_path / "out")]
    result = subprocess.run([sys.executable, "-c", BLOCKED_RUN.format(blocked=(blocked,), args=args)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stderr
    assert f"install it with: pip install 'mkdocs-modelcards[{extra}]'" in result.stderr
    assert result.stderr.startswith(f"error: the {fmt} export")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_hf_and_json_need_no_extra(tmp_path):
    import subprocess
    import sys

    for fmt in ("hf", "json"):
        args = ["export", "--format", fmt, "wine-cultivar-classifier", "--out", str(tmp_path / fmt)]
        blocked = ("cyclonedx", "spdx_python_model", "huggingface_hub")
        result = subprocess.run([sys.executable, "-c", BLOCKED_RUN.format(blocked=blocked, args=args)],
                                cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "hf/wine-cultivar-classifier/README.md").is_file()
    assert (tmp_path / "json/catalog.json").is_file()


SECRET = "ghp_" + "R2d2C3poBb8Ee9Ff0Gg1Hh2Ii3Jj4Kk5Ll6M"  # a GitHub token's shape, split so scanners skip this file


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    """A small project built by the real CLI: one model whose run holds a secret, and its dataset card."""
    from modelcards.sources.record import MetricSeries, RunRecord, write_export

    root = tmp_path_factory.mktemp("site")
    mkdocs_yml = write_project(root, {
        "churn.yml": """
            name: churn
            title: Churn <model> & friends
            license: MIT
            tags: [tabular]
            metrics: [{name: auc, threshold: 0.8}]
            training_data: {datasets: [subscriptions]}
            versions:
              - version: "1.0"
                date: "2026-02-01"
                run: mlflow:r1
                data: [{dataset: subscriptions, version: "3", role: training}]
        """,
        "subscriptions.yml": """
            kind: dataset
            name: subscriptions
            versions: [{version: "3", digest: 0123456789abcdef0123456789abcdef}]
        """,
    }, plugins=["search", {"modelcards": {"cards_dir": "cards", "runs": ["runs"]}}])
    write_export([RunRecord("mlflow", "r1", params={"token": SECRET, "C": "1.0"},
                            metrics={"auc": MetricSeries(0.91)})], root / "runs")
    run_modelcards("build", "-f", mkdocs_yml, "-d", root / "site", cwd=root, timeout=300)
    return root / "site"


def downloads(page: str) -> dict[str, str]:
    """The Downloads line of a model page: link text -> (href, download name)."""
    import re

    line = re.search(r'<p class="mc-downloads" id="downloads">(.*?)</p>', page, re.S)
    assert line, "the model page has no Downloads line"
    return {text: (href, name) for href, name, text in
            re.findall(r'<a href="([^"]+)" download="([^"]+)">([^<]+)</a>', line.group(1))}


def test_model_page_links_every_export_as_a_download(built_site):
    page_dir = built_site / "models/churn"
    links = downloads((page_dir / "index.html").read_text(encoding="utf-8"))
    assert {text: name for text, (_, name) in links.items()} == {
        "Hugging Face README.md": "README.md", "CycloneDX 1.6 ML-BOM": "churn.cdx.json",
        "SPDX 3.0.1 AI and Dataset document": "churn.spdx3.json", "catalog JSON": "churn.catalog.json"}
    files = {text: (page_dir / href).resolve() for text, (href, _) in links.items()}
    assert all(path.is_file() for path in files.values()), files

    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from huggingface_hub import ModelCard

    readme = files["Hugging Face README.md"].read_text(encoding="utf-8")
    assert ModelCard(readme).data.to_dict() == front_matter(readme)
    assert "Churn &lt;model&gt; &amp; friends" in readme
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(
        files["CycloneDX 1.6 ML-BOM"].read_text(encoding="utf-8")) is None
    catalog = json.loads(files["catalog JSON"].read_text(encoding="utf-8"))
    assert [m["name"] for m in catalog["models"]] == ["churn"]


def test_exports_in_the_site_are_made_from_masked_runs(built_site):
    exports = sorted((built_site / "models/churn/export").iterdir())
    assert len(exports) == 4
    for path in exports:
        assert SECRET not in path.read_text(encoding="utf-8"), path.name
    [run] = json.loads((built_site / "models/churn/export/churn.catalog.json").read_text(encoding="utf-8"))["runs"]
    assert run["params"]["C"] == "1.0" and run["params"]["token"] != SECRET


def test_the_sites_json_downloads_are_compact_and_hold_what_the_cli_exports(built_site, tmp_path):
    """The site writes its JSON downloads without whitespace (keys sorted, so the bytes are stable); the files
    `modelcards export` writes stay indented, for git. Both hold the same JSON."""
    root = built_site.parent
    exported = {"cyclonedx": "churn.cdx.json", "spdx": "churn.spdx3.json", "json": "catalog.json"}
    for fmt in exported:  # the build ran without SOURCE_DATE_EPOCH too: both describe today
        run_modelcards("export", "--format", fmt, "churn", "--out", tmp_path / fmt, cwd=root)
    for fmt, name in exported.items():
        site_file = built_site / "models/churn/export" / (name if fmt != "json" else "churn.catalog.json")
        compact = site_file.read_text(encoding="utf-8")
        pretty = (tmp_path / fmt / name).read_text(encoding="utf-8")
        assert json.loads(compact) == json.loads(pretty), fmt
        assert compact == json.dumps(json.loads(compact), sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")) + "\n", fmt
        assert pretty.startswith("{\n  \""), fmt


def test_without_the_bom_extras_the_site_offers_the_other_exports_and_builds(built_site, tmp_path):
    import subprocess
    import sys

    root = built_site.parent
    args = ["build", "-f", str(root / "mkdocs.yml"), "-d", str(tmp_path / "site")]
    result = subprocess.run([sys.executable, "-c", BLOCKED_RUN.format(blocked=("cyclonedx", "spdx_python_model"),
                                                                      args=args)],
                            cwd=root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site/models/churn/index.html").read_text(encoding="utf-8")
    assert list(downloads(page)) == ["Hugging Face README.md", "catalog JSON"]
    assert sorted(p.name for p in (tmp_path / "site/models/churn/export").iterdir()) == [
        "README.md.txt", "churn.catalog.json"]


def test_the_downloads_setting_chooses_the_exports_a_model_page_offers(tmp_path):
    import re

    card = {"churn.yml": """
        name: churn
        title: Churn
        license: MIT
    """}
    offered = {}
    for formats in (["cyclonedx", "json"], []):
        write_project(tmp_path, card, plugins=["search", {"modelcards": {"cards_dir": "cards", "downloads": formats}}])
        run_modelcards("build", cwd=tmp_path, timeout=300)
        page = (tmp_path / "site/models/churn/index.html").read_text(encoding="utf-8")
        export_dir = tmp_path / "site/models/churn/export"
        offered[tuple(formats)] = (list(downloads(page)) if 'id="downloads"' in page else [],
                                   sorted(p.name for p in export_dir.iterdir()) if export_dir.exists() else [])
    assert offered == {("cyclonedx", "json"): (["CycloneDX 1.6 ML-BOM", "catalog JSON"],
                                               ["churn.catalog.json", "churn.cdx.json"]),
                       (): ([], [])}

    write_project(tmp_path, card, plugins=["search", {"modelcards": {"downloads": ["json", "pdf", "json"]}}])
    result = run_modelcards("build", cwd=tmp_path, check=False, timeout=300)
    assert result.returncode == 1
    assert re.search(r"^mkdocs\.yml:\d+:\d+: error: plugins\.modelcards\.downloads\[1\]: found 'pdf', expected a "
                     r"list of export formats, any of hf, cyclonedx, spdx, json, or \[\]$", result.stderr, re.M), \
        result.stderr
    assert not (tmp_path / "site/models/churn/export").exists(), "the last site stays"


def test_a_bare_card_and_a_license_in_words_export_in_every_format(tmp_path):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from huggingface_hub import ModelCard
    from spdx_python_model import v3_0_1 as spdx

    write_project(tmp_path, {"bare.yml": """
        name: bare
        title: Bare
        license: Proprietary, internal use only
    """})
    for fmt in ("hf", "cyclonedx", "spdx", "json"):
        export(tmp_path / "out", fmt, cwd=tmp_path)
    readme = (tmp_path / "out/bare/README.md").read_text(encoding="utf-8")
    assert ModelCard(readme).data.to_dict() == front_matter(readme) == {
        "license": "other", "license_name": "proprietary-internal-use-only"}
    bom = (tmp_path / "out/bare.cdx.json").read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(bom) is None
    assert json.loads(bom)["metadata"]["component"]["licenses"] == [
        {"license": {"name": "Proprietary, internal use only"}}]
    objects = spdx.SHACLObjectSet()
    with (tmp_path / "out/bare.spdx3.json").open("rb") as handle:
        spdx.JSONLDDeserializer().read(handle, objects)
    [license] = objects.foreach_type(spdx.simplelicensing_LicenseExpression)
    assert license.simplelicensing_licenseExpression == "LicenseRef-Proprietary-internal-use-only"
    assert license.comment == "Proprietary, internal use only"


def _words(value) -> str:
    return " ".join(str(value).split())


@pytest.mark.parametrize("name", EXAMPLE_MODELS)
def test_importing_an_hf_export_gives_back_the_cards_fields(hf_exports, example_cards, name, tmp_path):
    """`modelcards import hf` reads modelcards' own export back: the card's text, lists, metrics and slices."""
    result = run_modelcards("import", "hf", hf_exports / name / "README.md", "--out", tmp_path / "back.yml",
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    back = yaml.safe_load((tmp_path / "back.yml").read_text(encoding="utf-8"))
    card = example_cards[name]

    for field in ("name", "title", "tags", "status", "risk_tier"):
        assert back.get(field) == card.get(field), field
    assert back["license"] == card["license"].lower()
    assert _words(back["summary"]) == _words(card["summary"])
    for field in ("type", "architecture"):
        assert _words(back["model_details"].get(field)) == _words(card["model_details"].get(field)), field
    for field in ("primary_uses", "primary_users", "out_of_scope"):
        assert [_words(i) for i in back.get("intended_use", {}).get(field, [])] == \
               [_words(i) for i in card.get("intended_use", {}).get(field, [])], field
    for field in ("caveats", "recommendations", "tradeoffs"):
        assert [_words(i) for i in back.get(field, [])] == [_words(i) for i in card.get(field, [])], field
    assert [(f["name"], _words(f.get("description", ""))) for f in back.get("factors", [])] == \
           [(f["name"], _words(f.get("description", ""))) for f in card.get("factors", [])]
    assert [(e["name"], _words(e.get("mitigation", ""))) for e in back.get("ethical_considerations", [])] == \
           [(e["name"], _words(e.get("mitigation", ""))) for e in card.get("ethical_considerations", [])]
    exported_metrics = newest(card)["metrics"]
    for metric in card.get("metrics", []):
        if metric["name"] not in exported_metrics:
            continue  # the export describes the newest version's metrics
        found = next(m for m in back["metrics"] if m["name"] == metric["name"])
        assert _words(found.get("description", "")) == _words(metric.get("description", "")), metric["name"]
        if "threshold" in metric:
            assert found["threshold"] == pytest.approx(metric["threshold"]), metric["name"]
    back_slices = {(q["metric"], q["slice"]): q["value"] for q in back.get("quantitative_analyses", [])}
    for q in card.get("quantitative_analyses", []):
        if q.get("version") in (None, newest(card)["version"]):
            assert back_slices[(q["metric"], q["slice"])] == pytest.approx(q["value"], rel=1e-3), q


def test_a_sites_catalog_json_holds_card_and_run_text_that_looks_like_its_inner_markers(tmp_path):
    """Each card's JSON is made once and put into every download that holds it, in the place of a marker string
    (``catalog_json._with_cards_put_in``). Text in a card (churn) or in a run (upsell's) that is such a marker
    stays text."""
    from modelcards.sources.record import RunRecord, write_export

    mkdocs_yml = write_project(tmp_path, {
        "churn.yml": r"""
            name: churn
            title: Churn
            summary: "\0card datasets 0"
            training_data: {datasets: [subscriptions]}
        """,
        "upsell.yml": r"""
            name: upsell
            title: Upsell
            training_data: {datasets: [subscriptions]}
            versions: [{version: "1.0", date: "2026-02-01", run: "mlflow:r1"}]
        """,
        "subscriptions.yml": r"""
            kind: dataset
            name: subscriptions
            description: "\0card models 0"
        """,
    }, plugins=["search", {"modelcards": {"cards_dir": "cards", "runs": ["runs"]}}])
    write_export([RunRecord("mlflow", "r1", params={"note": "\0card models 0"})], tmp_path / "runs")
    run_modelcards("build", "-f", mkdocs_yml, "-d", tmp_path / "site", cwd=tmp_path, timeout=300)

    for model in ("churn", "upsell"):
        text = (tmp_path / f"site/models/{model}/export/{model}.catalog.json").read_text(encoding="utf-8")
        catalog = json.loads(text)
        assert text == json.dumps(catalog, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
        assert catalog["models"][0]["card"]["title"] == model.title()
        assert catalog["datasets"][0]["card"]["description"] == "\0card models 0"
    churn = json.loads((tmp_path / "site/models/churn/export/churn.catalog.json").read_text(encoding="utf-8"))
    assert churn["models"][0]["card"]["summary"] == "\0card datasets 0"
    upsell = json.loads((tmp_path / "site/models/upsell/export/upsell.catalog.json").read_text(encoding="utf-8"))
    assert upsell["runs"][0]["params"] == {"note": "\0card models 0"}
