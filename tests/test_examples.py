"""The example cards in cards/ tell the truth: their numbers are what scripts/train_examples.py computes."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT / "cards"
SCRIPT = ROOT / "scripts" / "train_examples.py"
EXPLAIN_SCRIPT = ROOT / "scripts" / "explain_examples.py"
MODELCARDS = Path(sys.executable).parent / "modelcards"
TOLERANCE = 1e-4 * (1 + 1e-9)  # one step in the 4th decimal the cards are rounded to, plus a float's error


@functools.cache
def _load_script(path: Path = SCRIPT):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script loads
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def computed() -> dict:
    return _load_script().train_all()


def _card(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _model_cards() -> list[Path]:
    return sorted(p for p in CARDS.glob("*.yml") if _card(p).get("kind", "model") == "model")


def _dataset_cards() -> list[Path]:
    return sorted(p for p in CARDS.rglob("*.yml") if _card(p).get("kind") == "dataset")


def test_every_example_has_a_card(computed):
    assert set(computed["models"]) <= {_card(p)["name"] for p in _model_cards()}
    assert set(computed["datasets"]) <= {_card(p)["name"] for p in _dataset_cards()}


def _trained(computed: dict, kind: str, card: dict) -> dict:
    # Every example card must come from the training script, so its numbers are real.
    assert card["name"] in computed[kind], f"{card['name']} is not trained by {SCRIPT.name}"
    return computed[kind][card["name"]]


@pytest.mark.parametrize("path", _model_cards(), ids=lambda p: p.stem)
def test_model_card_metrics_and_data_match_training(path, computed):
    card = _card(path)
    expected = _trained(computed, "models", card)
    assert [v["version"] for v in card["versions"]] == list(expected)
    for version in card["versions"]:
        trained = expected[version["version"]]
        assert version["metrics"].keys() == trained["metrics"].keys(), version["version"]
        for name, value in trained["metrics"].items():
            assert version["metrics"][name] == pytest.approx(value, abs=TOLERANCE), (version["version"], name)
        assert version["params"] == trained["params"], version["version"]
        assert sorted(version["data"], key=lambda r: r["role"]) == sorted(trained["data"], key=lambda r: r["role"])


@pytest.mark.parametrize("path", _model_cards(), ids=lambda p: p.stem)
def test_sliced_results_match_training(path, computed):
    card = _card(path)
    expected = {(version, s["metric"], s["slice"]): s
                for version, trained in _trained(computed, "models", card).items() for s in trained["slices"]}
    found = {(r["version"], r["metric"], r["slice"]): r for r in card["quantitative_analyses"]}
    assert found.keys() == expected.keys()
    for key, result in found.items():
        assert result["value"] == pytest.approx(expected[key]["value"], abs=TOLERANCE), key
        assert result["confidence_interval"] == pytest.approx(expected[key]["confidence_interval"], abs=TOLERANCE)


@pytest.mark.parametrize("path", _dataset_cards(), ids=lambda p: p.stem)
def test_dataset_card_digests_and_rows_match(path, computed):
    card = _card(path)
    expected = _trained(computed, "datasets", card)
    assert {v["version"]: (v["digest"], v["rows"]) for v in card["versions"]} == {
        label: (version["digest"], version["rows"]) for label, version in expected.items()
    }


def test_the_scripts_own_check_agrees(computed):
    assert _load_script().find_mismatches(computed, CARDS) == []


def test_check_lists_every_mismatch_and_exits_1(tmp_path):
    cards = tmp_path / "cards"
    shutil.copytree(CARDS, cards)
    model = cards / "breast-cancer-classifier.yml"
    model.write_text(model.read_text(encoding="utf-8").replace("recall: 0.9811", "recall: 0.9711"), encoding="utf-8")
    dataset = cards / "datasets" / "wine-cultivars.yml"
    dataset.write_text(dataset.read_text(encoding="utf-8").replace("rows: 178", "rows: 177"), encoding="utf-8")

    run = subprocess.run([sys.executable, str(SCRIPT), "--check", "--cards", str(cards)],
                         capture_output=True, text=True, timeout=300)

    assert run.returncode == 1, run.stderr
    assert run.stdout.splitlines() == [
        "cards/datasets/wine-cultivars.yml: versions '2': rows: 177 in the card, computed 178",
        "cards/breast-cancer-classifier.yml: versions '1.2.0' metrics: recall: 0.9711 in the card, computed 0.9811",
    ]
    assert "2 mismatch(es)" in run.stderr


# The policy's waivers and evaluation ages are judged on this day (2026-11-26), so the test does not age.
AS_OF = {**os.environ, "SOURCE_DATE_EPOCH": "1795694400"}


def test_cards_validate_strictly_and_pass_the_policy_with_a_visible_waiver():
    run = subprocess.run([str(MODELCARDS), "validate", "--strict", "cards"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, env=AS_OF)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "warning" not in run.stderr
    assert "info: deployments[4].version: policy medium/approvals: waived by Samuel Greene until 2027-03-31" \
        in run.stderr


def test_example_versions_name_their_runs_and_agree_with_them(tmp_path):
    """Every example version comes from a committed run export, and no card value contradicts its run."""
    result = subprocess.run([str(MODELCARDS), "build", "--strict", "-d", str(tmp_path / "site")], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, env=AS_OF)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    for path in _model_cards():
        for version in _card(path)["versions"]:
            assert str(version.get("run", "")).startswith(("mlflow:", "dvc:")), \
                f"{path.name} {version['version']} names no run"


def test_embedded_explanations_are_what_the_script_computes_and_computed_ones_have_their_files():
    """artifacts/ holds what scripts/explain_examples.py writes; every example explanation reads it."""
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "explain_examples.py"), "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    modes = {}
    for path in _model_cards():
        for version in _card(path)["versions"]:
            block = version.get("explainability")
            if block:
                mode, = block
                modes.setdefault(mode, []).append(f"{path.stem} {version['version']}")
                for key in ("model", "data", "values"):
                    if key in block[mode]:
                        assert (ROOT / block[mode][key]).is_file(), block[mode][key]
    assert len(modes.get("compute", [])) >= 1 and len(modes.get("embed", [])) >= 1, modes


def test_explain_check_allows_what_another_cpu_computes_and_lists_what_it_does_not(tmp_path):
    """SHAP values within the stated tolerance agree; models agree when they predict the same on the held-out
    rows, whatever their bytes."""
    import numpy as np
    import skops.io as sio

    script = _load_script(EXPLAIN_SCRIPT)
    wanted = script.artifacts()
    artifacts = tmp_path / "artifacts"
    shutil.copytree(ROOT / "artifacts", artifacts)
    values_path = Path("shap/diabetes-progression-regressor/1.1.0/values.npy")
    model_path = Path("models/breast-cancer-classifier/1.0.0.skops")
    values = np.load(artifacts / values_path)
    np.save(artifacts / values_path, values + 6e-13)  # what an AMD EPYC's OpenBLAS gave
    (artifacts / model_path).write_bytes(wanted[model_path])  # the same model saved again: other bytes
    assert (artifacts / model_path).read_bytes() != (ROOT / "artifacts" / model_path).read_bytes()
    assert script.differences(wanted, artifacts) == []

    np.save(artifacts / values_path, values + 1e-6)
    model = sio.loads(wanted[model_path], trusted=sio.get_untrusted_types(data=wanted[model_path]))
    model[-1].coef_[0, 0] += 0.5
    (artifacts / model_path).write_bytes(sio.dumps(model))
    found = script.differences(wanted, artifacts)
    assert len(found) == 2
    assert found[0].startswith(f"artifacts/{model_path}: predictions on the held-out rows differ from what "
                               "scripts/explain_examples.py computes by up to ")
    assert found[0].endswith(" (tolerance 1e-09)")
    assert found[1] == (f"artifacts/{values_path}: SHAP values differ from what scripts/explain_examples.py computes "
                        "by up to 1e-06 (tolerance 1e-09)")
