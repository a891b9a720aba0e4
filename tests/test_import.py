"""`modelcards import hf|mct`: a Hub README.md and a Model Card Toolkit JSON file become cards that validate, and
every field without a place in the card is reported at its path:line:col."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import MODELCARDS

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MODELCARDS), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())


def imported(tmp_path: Path, fmt: str, fixture: str, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    shutil.copy2(FIXTURES / fixture, tmp_path / fixture)
    return run(tmp_path, "import", fmt, fixture, *args), tmp_path


def test_hf_readme_maps_front_matter_model_index_and_sections(tmp_path: Path):
    result, root = imported(tmp_path, "hf", "README.md", "--out", "cards/sst2.yml")
    assert result.returncode == 0, result.stderr
    card = yaml.safe_load((root / "cards/sst2.yml").read_text(encoding="utf-8"))

    assert card["name"] == "distilbert-base-uncased-finetuned-sst-2-english"
    assert card["title"] == "DistilBERT base uncased finetuned SST-2"
    assert card["license"] == "apache-2.0"
    assert card["tags"] == ["text-classification", "sentiment-analysis"]
    assert card["model_details"] == {"framework": "transformers", "type": "text-classification",
                                     "base_model": "distilbert/distilbert-base-uncased"}
    assert card["training_data"]["datasets"] == ["stanfordnlp-sst2", "glue"]
    assert card["evaluation_data"]["datasets"] == ["glue", "sst2"]
    assert card["metrics"] == [{"name": "accuracy", "description": "Accuracy"}, {"name": "f1", "description": "F1"}]
    results = [(r["metric"], r["slice"], r["value"]) for r in card["quantitative_analyses"]]
    # A dataset's config names the subset the result is on (glue's sst2); "default" is the whole dataset.
    assert [(m, s) for m, s, _ in results] == [("accuracy", "sst2"), ("f1", "sst2"), ("accuracy", "sst2")]
    assert [v for _, _, v in results] == pytest.approx([0.9105504587155964, 0.9115, 0.9885521685548412])
    assert card["summary"].startswith("This model is a fine-tune checkpoint of DistilBERT-base-uncased")
    assert card["intended_use"]["primary_uses"] == ["Topic classification of English sentences.",
                                                    "Sentiment analysis of product reviews."]
    assert card["intended_use"]["out_of_scope"] == [
        "The model should not be used to intentionally create hostile or alienating environments for people."]
    assert card["caveats"] == ["Predictions are biased towards the United States for some country names.",
                               "Only English was evaluated."]
    assert card["training_data"]["description"].startswith("The authors use the Stanford Sentiment Treebank")
    assert card["training_data"]["preprocessing"].startswith("learning_rate = 1e-5")
    assert card["custom"]["hf"]["model-index[0].results[1].dataset.revision"] == "7e1a3c8"

    assert result.stderr.splitlines() == [
        "README.md:2:1: warning: language: not mapped to the card; kept under custom.hf",
        "README.md:26:7: warning: model-index[0].results[0].dataset.split: not mapped to the card; kept under custom.hf",
        "README.md:31:7: warning: model-index[0].results[0].metrics[0].verified: not mapped to the card; kept under "
        "custom.hf",
        "README.md:42:7: warning: model-index[0].results[1].dataset.split: not mapped to the card; kept under custom.hf",
        "README.md:43:7: warning: model-index[0].results[1].dataset.revision: not mapped to the card; kept under "
        "custom.hf",
        "README.md:60:1: warning: ## How to Get Started With the Model: not mapped to the card; kept under custom.hf",
        "Wrote cards/sst2.yml; 6 field(s) not mapped, kept under custom.hf or left out (see above). Review it, then "
        "run: modelcards validate cards/sst2.yml",
    ]
    lines = (FIXTURES / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[42].strip() == "revision: 7e1a3c8" and lines[59] == "## How to Get Started With the Model"

    validated = run(root, "validate", "cards")
    assert validated.returncode == 0, validated.stderr
    assert validated.stderr.endswith("1 model card(s) valid, 3 warning(s)\n")  # the three datasets have no card


def test_mct_json_maps_details_metrics_considerations_and_the_version(tmp_path: Path):
    result, root = imported(tmp_path, "mct", "model_card.json")
    assert result.returncode == 0, result.stderr
    card = yaml.safe_load((root / "cards/census-income-classifier.yml").read_text(encoding="utf-8"))

    assert card["title"] == "Census income classifier"
    assert card["summary"].startswith("Predicts whether a person's income exceeds $50K")
    assert card["owners"] == [{"name": "Responsible AI team", "contact": "rai@example.com", "role": "owner"}]
    assert card["license"] == "Apache-2.0"
    assert card["model_details"]["architecture"] == "Gradient boosted trees, 300 trees of depth 6"
    assert card["model_details"]["references"] == ["https://archive.ics.uci.edu/dataset/2/adult"]
    assert card["model_details"]["citation"].startswith("Kohavi, R. (1996)")
    assert card["training_data"]["datasets"] == ["uci-adult"]
    assert card["versions"][0]["version"] == "2.1.0" and card["versions"][0]["date"] == "2024-03-18"
    assert card["versions"][0]["changes"] == "Retrained on the 2024 data refresh."
    assert card["versions"][0]["metrics"] == pytest.approx({"accuracy": 0.871, "roc_auc": 0.924})
    female, male = card["quantitative_analyses"]
    assert (female["metric"], female["slice"], female["version"]) == ("accuracy", "sex=Female", "2.1.0")
    assert female["value"] == pytest.approx(0.842) and female["confidence_interval"] == pytest.approx([0.831, 0.853])
    assert male["slice"] == "sex=Male" and male["value"] == pytest.approx(0.889)
    assert card["intended_use"] == {"primary_users": ["Researchers studying fairness in tabular models."],
                                    "primary_uses": ["Benchmarking fairness mitigations."]}
    assert card["caveats"] == ["The data is from 1994 and does not reflect today's incomes."]
    assert card["tradeoffs"] == ["Accuracy over calibration in the smallest slices."]
    assert card["ethical_considerations"] == [{
        "name": "Sex and race are features",
        "mitigation": "Report every metric per slice; never use for decisions about people."}]

    assert result.stderr.splitlines()[:-1] == [
        "model_card.json:6:5: warning: model_details.documentation: not mapped to the card; kept under custom.mct",
        "model_card.json:9:7: warning: model_details.owners[1]: not mapped to the card; kept under custom.mct",
        "model_card.json:12:48: warning: model_details.licenses[1]: not mapped to the card; kept under custom.mct",
        "model_card.json:14:20: warning: model_details.citations[0].style: not mapped to the card; kept under "
        "custom.mct",
        "model_card.json:21:9: warning: model_parameters.data[0].link: not mapped to the card; kept under custom.mct",
        "model_card.json:22:9: warning: model_parameters.data[0].description: not mapped to the card; kept under "
        "custom.mct",
        "model_card.json:23:9: warning: model_parameters.data[0].graphics: not mapped to the card; left out: images; "
        "regenerate plots from the data",
        "model_card.json:36:7: warning: quantitative_analysis.performance_metrics[4]: not mapped to the card; kept "
        "under custom.mct",
        "model_card.json:38:5: warning: quantitative_analysis.graphics: not mapped to the card; left out: images; "
        "regenerate plots from the data",
        "model_card.json:47:7: warning: considerations.ethical_considerations[1]: not mapped to the card; kept under "
        "custom.mct",
    ]
    assert card["custom"]["mct"]["quantitative_analysis.performance_metrics[4]"]["value"] == "n/a"
    validated = run(root, "validate", "cards")
    assert validated.returncode == 0, validated.stderr


def test_import_never_overwrites_without_force(tmp_path: Path):
    (tmp_path / "cards").mkdir()
    existing = tmp_path / "cards" / "census-income-classifier.yml"
    existing.write_text("name: census-income-classifier\ntitle: Hand-written\n", encoding="utf-8")

    refused, root = imported(tmp_path, "mct", "model_card.json")
    assert refused.returncode == 1
    assert refused.stderr == ("error: cards/census-income-classifier.yml already exists; pass --force to replace "
                              "it\n")
    assert existing.read_text(encoding="utf-8") == "name: census-income-classifier\ntitle: Hand-written\n"

    forced = run(root, "import", "mct", "model_card.json", "--force")
    assert forced.returncode == 0, forced.stderr
    assert yaml.safe_load(existing.read_text(encoding="utf-8"))["title"] == "Census income classifier"


def test_import_is_deterministic(tmp_path: Path):
    first, second = tmp_path / "a", tmp_path / "b"
    for root in (first, second):
        root.mkdir()
        assert imported(root, "mct", "model_card.json")[0].returncode == 0
        assert imported(root, "hf", "README.md")[0].returncode == 0
    assert sorted(p.name for p in (first / "cards").iterdir()) == sorted(p.name for p in (second / "cards").iterdir())
    for card in (first / "cards").iterdir():
        assert card.read_bytes() == (second / "cards" / card.name).read_bytes()


@pytest.mark.parametrize(("fmt", "name", "text", "expected"), [
    ("mct", "broken.json", '{"model_details": {"name": "x",}\n}',
     ["broken.json:1:32: error: found text that is not JSON (Expecting property name enclosed in double quotes), "
      "expected a Model Card Toolkit JSON file",
      "1 error(s) in broken.json; no card was written"]),
    ("mct", "list.json", "[1, 2]",
     ["list.json:1:1: error: found a JSON list, expected an object with model_details, considerations, ...",
      "1 error(s) in list.json; no card was written"]),
    ("hf", "README.md", "---\nlicense: mit\ntags: [a\n---\n# Model\n",
     ["README.md:4:1: error: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at "
      "line 2, column 7)",
      "1 error(s) in README.md; no card was written"]),
    ("hf", "README.md", "---\nlicense: mit\n# Model\n",
     ["README.md:1:1: error: found front matter opened with --- and never closed, expected a second --- line",
      "1 error(s) in README.md; no card was written"]),
    ("mct", "latin1.json", b'{"model_details": {"name": "caf\xe9"}}',
     ["latin1.json:1:32: error: found the byte 0xe9, which is not UTF-8 (invalid continuation byte), expected UTF-8 "
      "text"]),
])
def test_bad_sources_are_reported_at_their_place_and_nothing_is_written(tmp_path: Path, fmt: str, name: str,
                                                                          text: str | bytes, expected: list[str]):
    source = tmp_path / name
    source.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    result = run(tmp_path, "import", fmt, name)
    assert result.returncode == 1
    assert result.stderr.splitlines() == expected
    assert not (tmp_path / "cards").exists()


def test_a_bad_name_is_reported_and_nothing_is_written(tmp_path: Path):
    result, root = imported(tmp_path, "mct", "model_card.json", "--name", "Census Model")
    assert result.returncode == 1
    assert result.stderr.startswith("cards/Census Model.yml:5:7: error: name: found string 'Census Model', expected a "
                                    "slug")
    assert result.stderr.splitlines()[-1] == ("the card imported from model_card.json would not load; nothing was "
                                              "written")
    assert not (root / "cards").exists()
