"""SHAP importance from real scikit-learn models saved to disk, checked against SHAP called directly."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import shap
import skops.io as sio
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from shap_reference import documented_sample

from modelcards.build import check_cards
from modelcards.explain import compute
from modelcards.explain.cache import ExplanationCache, cache_key, installed_shap_version
from modelcards.errors import ExplainError
from modelcards.explain.compute import ExplainSettings, explain, read_inputs
from modelcards.explain.stage import explain_versions


TREE = ("sklearn.tree._tree.Tree",)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with data as CSV and Parquet and models saved with skops and joblib."""
    root = tmp_path_factory.mktemp("project")
    (root / "data").mkdir()
    (root / "models").mkdir()

    cancer = load_breast_cancer(as_frame=True).frame
    cancer.to_csv(root / "data/cancer.csv", index=False)
    wine = load_wine(as_frame=True).frame
    wine.to_parquet(root / "data/wine.parquet", index=False)
    diabetes = load_diabetes(as_frame=True).frame
    diabetes.to_csv(root / "data/diabetes.csv", index=False)

    X, y = cancer.drop(columns="target"), cancer["target"]
    forest = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(X, y)
    sio.dump(forest, root / "models/forest.skops")
    joblib.dump(forest, root / "models/forest.joblib")
    logistic = LogisticRegression(max_iter=10_000).fit(X, y)
    sio.dump(logistic, root / "models/logistic.skops")
    odd = make_pipeline(FunctionTransformer(_identity), LogisticRegression(max_iter=10_000)).fit(X, y)
    sio.dump(odd, root / "models/custom.skops")

    Xw, yw = wine.drop(columns="target"), wine["target"]
    wine_forest = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(Xw, yw)
    sio.dump(wine_forest, root / "models/wine.skops")
    Xd, yd = diabetes.drop(columns="target"), diabetes["target"]
    sio.dump(Ridge().fit(Xd, yd), root / "models/ridge.skops")
    return root


def _identity(x):
    return x


def _rows(root: Path, settings: ExplainSettings) -> tuple[object, pd.DataFrame, pd.DataFrame]:
    """Model, sample and background by the rule documented in modelcards.explain.compute."""
    model = sio.load(root / settings.model_path, trusted=sio.get_untrusted_types(file=root / settings.model_path))
    path = root / settings.data_path
    frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    sample, background = documented_sample(frame[list(model.feature_names_in_)], settings.sample_size,
                                           settings.background_size, settings.seed)
    return model, sample, background


def _assert_matches(result, values: np.ndarray, base: float, label: str, features: list[str]) -> None:
    expected = dict(zip(features, np.abs(values).mean(axis=0)))
    got = {item.feature: item.mean_abs for item in result.outputs[label]}
    assert got.keys() == expected.keys()
    for feature, value in expected.items():
        assert got[feature] == pytest.approx(value, abs=1e-6), feature
    assert result.base_values[label] == pytest.approx(base, abs=1e-6)
    ranked = result.outputs[label]
    assert [item.rank for item in ranked] == list(range(1, len(features) + 1))
    assert [item.mean_abs for item in ranked] == sorted((item.mean_abs for item in ranked), reverse=True)
    assert sum(item.share for item in ranked) == pytest.approx(1.0)


def test_forest_binary_matches_tree_explainer_on_the_positive_class(project: Path) -> None:
    settings = ExplainSettings(Path("models/forest.skops"), Path("data/cancer.csv"), None, "target", sample_size=200,
                               trusted_types=TREE)
    result = explain(settings, project_root=project)

    model, sample, _ = _rows(project, settings)
    direct = shap.TreeExplainer(model)
    _assert_matches(result, direct(sample).values[:, :, 1], direct.expected_value[1], "1", list(sample.columns))
    assert list(result.outputs) == ["1"]
    assert result.explainer == "TreeExplainer"
    assert (result.rows_total, result.rows_sampled, result.background_rows) == (569, 200, 0)
    assert result.shap_version == shap.__version__
    assert result.values.shape == (200, 30, 1)
    assert explain(settings, project_root=project) == result


def test_logistic_binary_matches_linear_explainer(project: Path) -> None:
    settings = ExplainSettings(Path("models/logistic.skops"), Path("data/cancer.csv"), None, "target",
                               sample_size=300, background_size=50, seed=7)
    result = explain(settings, project_root=project)

    model, sample, background = _rows(project, settings)
    direct = shap.LinearExplainer(model, background)
    _assert_matches(result, direct(sample).values, direct.expected_value, "1", list(sample.columns))
    assert result.explainer == "LinearExplainer"
    assert result.background_rows == 50

    negative = explain(ExplainSettings(**{**settings.__dict__, "output": "0"}), project_root=project)
    assert list(negative.outputs) == ["0"]
    assert negative.base_values["0"] == pytest.approx(-result.base_values["1"])
    assert negative.outputs["0"] == result.outputs["1"]


def test_multiclass_forest_from_parquet_explains_every_class(project: Path) -> None:
    settings = ExplainSettings(Path("models/wine.skops"), Path("data/wine.parquet"), None, "target", trusted_types=TREE)
    result = explain(settings, project_root=project)

    model, sample, _ = _rows(project, settings)
    direct = shap.TreeExplainer(model)
    values = direct(sample).values
    assert list(result.outputs) == ["0", "1", "2"]
    for index, label in enumerate(result.outputs):
        _assert_matches(result, values[:, :, index], direct.expected_value[index], label, list(sample.columns))
    assert (result.rows_total, result.rows_sampled) == (178, 178)


def test_forced_permutation_explainer_matches_shap(project: Path) -> None:
    settings = ExplainSettings(Path("models/ridge.skops"), Path("data/diabetes.csv"), None, "target",
                               sample_size=10, background_size=20, explainer="permutation")
    result = explain(settings, project_root=project)

    model, sample, background = _rows(project, settings)
    columns = list(sample.columns)
    direct = shap.PermutationExplainer(lambda a: model.predict(pd.DataFrame(a, columns=columns)), background, seed=0)
    explained = direct(sample, max_evals=500, silent=True)
    _assert_matches(result, explained.values, explained.base_values.mean(), "value", columns)
    assert result.explainer == "PermutationExplainer"


def _error(project: Path, **changes) -> str:
    fields = {"model_path": Path("models/forest.skops"), "data_path": Path("data/cancer.csv"),
              "features": None, "target": "target", "sample_size": 50, "trusted_types": TREE}
    with pytest.raises(ExplainError) as caught:
        explain(ExplainSettings(**{**fields, **changes}), project_root=project)
    return str(caught.value)

def test_a_background_over_100_rows_is_used_whole_and_reported_as_shap_used_it(project: Path) -> None:
    # Given 200 rows, shap.maskers.Independent keeps 100 of its own choosing unless told max_samples.
    linear = ExplainSettings(Path("models/logistic.skops"), Path("data/cancer.csv"), None, "target",
                             sample_size=50, background_size=200, seed=3)
    result = explain(linear, project_root=project)

    model, sample, background = _rows(project, linear)
    assert len(background) == 200
    whole = shap.LinearExplainer(model, shap.maskers.Independent(background, max_samples=200))
    assert whole.masker.data.shape[0] == 200
    _assert_matches(result, whole(sample).values, whole.expected_value, "1", list(sample.columns))
    assert result.background_rows == 200
    cut = shap.LinearExplainer(model, background)  # what shap does with the rows alone
    assert cut.masker.data.shape[0] == 100
    assert result.base_values["1"] != pytest.approx(float(cut.expected_value), abs=1e-6)

    permutation = ExplainSettings(Path("models/ridge.skops"), Path("data/diabetes.csv"), None, "target",
                                  sample_size=4, background_size=200, explainer="permutation")
    result = explain(permutation, project_root=project)
    model, sample, background = _rows(project, permutation)
    columns = list(sample.columns)
    direct = shap.PermutationExplainer(lambda a: model.predict(pd.DataFrame(a, columns=columns)),
                                       shap.maskers.Independent(background, max_samples=200), seed=0)
    explained = direct(sample, max_evals=500, silent=True)
    _assert_matches(result, explained.values, explained.base_values.mean(), "value", columns)
    assert result.background_rows == 200



def test_pickle_needs_trust(project: Path) -> None:
    message = _error(project, model_path=Path("models/forest.joblib"))
    assert message.startswith("models/forest.joblib: pickle files run code when they are loaded")
    assert "trusted: true" in message and "skops" in message
    trusted = explain(ExplainSettings(Path("models/forest.joblib"), Path("data/cancer.csv"), None, "target",
                                      sample_size=50, trusted=True), project_root=project)
    assert trusted.explainer == "TreeExplainer"


def test_skops_types_outside_the_trust_list_are_refused(project: Path) -> None:
    message = _error(project, model_path=Path("models/custom.skops"))
    assert message.startswith("models/custom.skops: the model holds types skops does not trust by default: ")
    assert "_identity" in message
    # skops does not trust the tree structure every tree model holds: the card must vouch for it.
    message = _error(project, trusted_types=())
    assert message == ("models/forest.skops: the model holds types skops does not trust by default: "
                       "sklearn.tree._tree.Tree; list the ones you have reviewed under `trusted_types:`, "
                       "or mark the card `trusted: true` if you trust whoever saved it")


def test_output_names_a_class(project: Path) -> None:
    assert _error(project, output="2") == "models/forest.skops: output '2' is not one of the model's classes: 0, 1"
    assert _error(project, model_path=Path("models/ridge.skops"), data_path=Path("data/diabetes.csv"),
                  output="1") == "models/ridge.skops: output '1' is set but Ridge is not a classifier"


def test_missing_and_extra_columns_are_both_listed(project: Path) -> None:
    frame = pd.read_csv(project / "data/cancer.csv").drop(columns="mean radius").assign(shoe_size=42)
    frame.to_csv(project / "data/shifted.csv", index=False)
    message = _error(project, data_path=Path("data/shifted.csv"))
    assert message == (
        "data/shifted.csv: the columns do not match the model's features: missing mean radius; extra shoe_size"
    )


def test_non_numeric_columns_are_listed(project: Path) -> None:
    frame = pd.read_csv(project / "data/cancer.csv")
    frame["mean area"] = "large"
    frame.to_csv(project / "data/text.csv", index=False)
    assert _error(project, data_path=Path("data/text.csv")) == "data/text.csv: non-numeric feature columns: mean area"


def test_paths_outside_the_project_and_missing_files(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("a\n1\n")
    message = _error(project, data_path=outside)
    assert message.startswith(f"{outside}: the file is outside the project root")
    assert "outside the project root" in _error(project, model_path=Path("../forest.skops"))
    assert _error(project, data_path=Path("data/nowhere.csv")) == "data/nowhere.csv: file not found"


def test_cache_round_trip_and_key(project: Path, tmp_path: Path) -> None:
    settings = ExplainSettings(Path("models/wine.skops"), Path("data/wine.parquet"), None, "target", trusted_types=TREE)
    result = explain(settings, project_root=project)
    cache = ExplanationCache(tmp_path / "cache")
    key = cache_key(settings, result.model_sha256, result.data_sha256, installed_shap_version())
    assert cache.get(key) is None
    cache.put(key, result)
    again = cache.get(key)
    assert again == result
    np.testing.assert_array_equal(again.values, result.values)
    np.testing.assert_array_equal(again.data, result.data)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [f"{key}.data.npy", f"{key}.json",
                                                                      f"{key}.values.npy"]
    moved = ExplainSettings(Path("elsewhere/wine.skops"), Path("elsewhere/wine.parquet"), None, "target",
                            trusted_types=TREE)
    assert cache_key(moved, result.model_sha256, result.data_sha256, installed_shap_version()) == key
    reseeded = ExplainSettings(Path("models/wine.skops"), Path("data/wine.parquet"), None, "target", seed=1,
                               trusted_types=TREE)
    assert cache_key(reseeded, result.model_sha256, result.data_sha256, installed_shap_version()) != key


def _run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_importing_compute_does_not_import_shap() -> None:
    assert _run_python("""
        import sys
        import modelcards.explain.compute, modelcards.explain.cache
        print('shap' in sys.modules, 'sklearn' in sys.modules)
    """) == "False False"


def test_a_cache_hit_does_not_import_shap(project: Path, tmp_path: Path) -> None:
    settings = ExplainSettings(Path("models/forest.skops"), Path("data/cancer.csv"), None, "target", sample_size=100,
                               trusted_types=TREE)
    computed = ExplanationCache(tmp_path).explain(settings, read_inputs(settings, project), project_root=project)
    output = _run_python(f"""
        import json, sys
        from pathlib import Path
        from modelcards.explain.cache import ExplanationCache
        from modelcards.explain.compute import ExplainSettings, read_inputs
        settings = ExplainSettings(Path("models/forest.skops"), Path("data/cancer.csv"), None, "target",
                                   sample_size=100, trusted_types=("sklearn.tree._tree.Tree",))
        cache = ExplanationCache(Path({str(tmp_path)!r}))
        project = Path({str(project)!r})
        result = cache.explain(settings, read_inputs(settings, project), project_root=project)
        print(json.dumps(['shap' in sys.modules, result.outputs["1"][0].feature, result.outputs["1"][0].mean_abs]))
    """)
    top = computed.outputs["1"][0]
    assert json.loads(output) == [False, top.feature, top.mean_abs]


def test_a_version_to_compute_reads_its_files_once_and_is_cached_under_their_hash(project: Path,
                                                                                   tmp_path: Path,
                                                                                   monkeypatch) -> None:
    """The build looks the cache up and, on a miss, explains the very bytes it hashed: one read per file."""
    root = tmp_path / "project"
    shutil.copytree(project, root)
    (root / "cards").mkdir()
    (root / "cards" / "forest.yml").write_text(textwrap.dedent(f"""\
        name: forest
        title: Forest
        versions:
          - version: "1.0"
            date: 2024-01-01
            explainability:
              compute: {{model: models/forest.skops, data: data/cancer.csv, target: target, sample_size: 50,
                         trusted_types: [{TREE[0]}]}}
        """), encoding="utf-8")
    checked = check_cards([root / "cards"], relative_to=root)
    assert checked.errors == []
    reads: list[str] = []
    real_read_file = compute.read_file

    def counted_read_file(path: Path, root: Path) -> bytes:  # the real read, counted
        reads.append(path.relative_to(root).as_posix())
        return real_read_file(path, root)

    monkeypatch.setattr(compute, "read_file", counted_read_file)
    first = explain_versions(checked.catalog, project_dir=root, cache_dir=tmp_path / "cache")
    assert first.problems == [] and first.produced == 1
    assert sorted(reads) == ["data/cancer.csv", "models/forest.skops"], "each file read once, not twice"

    explanation = first.versions[("forest", "1.0")].explanation
    assert explanation.model_sha256 == hashlib.sha256((root / "models/forest.skops").read_bytes()).hexdigest()
    settings = ExplainSettings(Path("models/forest.skops"), Path("data/cancer.csv"), None, "target", sample_size=50,
                               trusted_types=TREE)
    key = cache_key(settings, explanation.model_sha256, explanation.data_sha256, installed_shap_version())
    assert (tmp_path / "cache" / "explanations" / f"{key}.json").is_file()
    again = explain_versions(checked.catalog, project_dir=root, cache_dir=tmp_path / "cache")
    assert again.produced == 0 and again.versions[("forest", "1.0")].explanation == explanation
