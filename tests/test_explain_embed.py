"""SHAP numbers computed elsewhere, embedded from real .npy, CSV and Parquet files or written in the card."""

from __future__ import annotations

import hashlib
import pickle
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shap
import skops.io as sio
from sklearn.datasets import load_diabetes, load_wine
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from modelcards.errors import ExplainError
from modelcards.explain.compute import ExplainSettings, explain
from modelcards.explain.embed import EmbedSettings, embed


@dataclass(frozen=True)
class Project:
    root: Path
    features: tuple[str, ...]  # diabetes feature columns
    values: np.ndarray  # TreeExplainer values of a forest on every diabetes row, rows × features
    expected_value: float
    wine_features: tuple[str, ...]
    wine_values: np.ndarray  # rows × features × classes


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A training script's leftovers: a model, its data, and the SHAP values it saved with numpy and pandas."""
    root = tmp_path_factory.mktemp("project").resolve()
    for folder in ("data", "models", "shap"):
        (root / folder).mkdir()

    diabetes = load_diabetes(as_frame=True).frame
    diabetes.to_csv(root / "data/diabetes.csv", index=False)
    X, y = diabetes.drop(columns="target"), diabetes["target"]
    forest = RandomForestRegressor(n_estimators=20, max_depth=4, random_state=0).fit(X, y)
    sio.dump(forest, root / "models/forest.skops")
    explainer = shap.TreeExplainer(forest)
    values = explainer(X).values
    np.save(root / "shap/values.npy", values)
    pd.DataFrame(values, columns=X.columns).to_csv(root / "shap/values.csv", index=False)
    pd.DataFrame(values, columns=X.columns).to_parquet(root / "shap/values.parquet", index=False)

    wine = load_wine(as_frame=True).frame
    Xw, yw = wine.drop(columns="target"), wine["target"]
    wine_forest = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(Xw, yw)
    wine_values = shap.TreeExplainer(wine_forest)(Xw).values
    np.save(root / "shap/wine.npy", wine_values)
    return Project(root, tuple(X.columns), values, float(np.ravel(explainer.expected_value)[0]),
                   tuple(Xw.columns), wine_values)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _means(explanation, label: str = "value") -> dict[str, float]:
    return {item.feature: item.mean_abs for item in explanation.outputs[label]}


def test_tree_explainer_values_from_npy_rank_exactly_like_compute(project: Project) -> None:
    settings = EmbedSettings(values_path=Path("shap/values.npy"), features=project.features,
                             data_path=Path("data/diabetes.csv"), base_value=project.expected_value,
                             explainer="TreeExplainer", shap_version=shap.__version__, source="scripts/train.py")
    result = embed(settings, project_root=project.root)

    expected = dict(zip(project.features, np.abs(project.values).mean(axis=0)))
    assert list(result.outputs) == ["value"]
    assert _means(result).keys() == expected.keys()
    for feature, mean_abs in expected.items():
        assert _means(result)[feature] == pytest.approx(mean_abs, abs=1e-12), feature

    computed = explain(ExplainSettings(Path("models/forest.skops"), Path("data/diabetes.csv"), None, "target",
                                       trusted=True), project_root=project.root)
    assert computed.rows_sampled == computed.rows_total == 442
    assert [i.feature for i in result.outputs["value"]] == [i.feature for i in computed.outputs["value"]]
    assert [i.rank for i in result.outputs["value"]] == list(range(1, 11))
    for mine, theirs in zip(result.outputs["value"], computed.outputs["value"]):
        assert mine.mean_abs == pytest.approx(theirs.mean_abs, abs=1e-12)
        assert mine.share == pytest.approx(theirs.share, abs=1e-12)
    assert result.base_values == {"value": pytest.approx(computed.base_values["value"], abs=1e-9)}

    assert result.mode == "embed"
    assert (result.explainer, result.shap_version, result.source) == ("TreeExplainer", shap.__version__,
                                                                      "scripts/train.py")
    assert (result.rows_total, result.rows_sampled, result.background_rows, result.seed) == (442, 442, None, None)
    assert result.model_sha256 is None
    assert result.values_sha256 == _sha256(project.root / "shap/values.npy")
    assert result.data_sha256 == _sha256(project.root / "data/diabetes.csv")
    assert result.features == project.features
    np.testing.assert_array_equal(result.values, project.values[:, :, np.newaxis])
    np.testing.assert_array_equal(result.data, load_diabetes(as_frame=True).data.to_numpy())


@pytest.mark.parametrize("name", ["values.csv", "values.parquet"])
def test_csv_and_parquet_values_take_feature_names_from_their_columns(project: Project, name: str) -> None:
    result = embed(EmbedSettings(values_path=Path("shap") / name), project_root=project.root)
    from_npy = embed(EmbedSettings(values_path=Path("shap/values.npy"), features=project.features),
                     project_root=project.root)
    assert result.features == project.features
    assert [i.feature for i in result.outputs["value"]] == [i.feature for i in from_npy.outputs["value"]]
    for mine, theirs in zip(result.outputs["value"], from_npy.outputs["value"]):
        assert mine.mean_abs == pytest.approx(theirs.mean_abs, abs=1e-12)
    assert (result.explainer, result.shap_version, result.source, result.data_sha256) == (None, None, None, None)
    assert result.base_values == {}
    assert result.values_sha256 == _sha256(project.root / "shap" / name)

    chosen = embed(EmbedSettings(values_path=Path("shap") / name, features=("s5", "bmi"), outputs=("progression",)),
                   project_root=project.root)
    assert chosen.features == ("s5", "bmi")
    assert chosen.values.shape == (442, 2, 1)
    assert list(chosen.outputs) == ["progression"]
    assert sum(i.share for i in chosen.outputs["progression"]) == pytest.approx(1.0)


def test_data_columns_are_taken_in_the_order_of_the_values(project: Project) -> None:
    data = load_diabetes(as_frame=True).data
    data[list(reversed(data.columns))].to_parquet(project.root / "data/reversed.parquet", index=False)
    np.save(project.root / "data/features.npy", data.to_numpy())
    for path in ("data/reversed.parquet", "data/features.npy"):
        result = embed(EmbedSettings(values_path=Path("shap/values.npy"), features=project.features,
                                     data_path=Path(path)), project_root=project.root)
        np.testing.assert_array_equal(result.data, data.to_numpy())


def test_multiclass_values_are_labelled_by_outputs(project: Project) -> None:
    labels = ("class_0", "class_1", "class_2")
    result = embed(EmbedSettings(values_path=Path("shap/wine.npy"), features=project.wine_features, outputs=labels,
                                 base_value={"class_1": 0.4}), project_root=project.root)
    assert list(result.outputs) == list(labels)
    for index, label in enumerate(labels):
        expected = dict(zip(project.wine_features, np.abs(project.wine_values[:, :, index]).mean(axis=0)))
        assert _means(result, label) == pytest.approx(expected, abs=1e-12)
    assert result.base_values == {"class_1": 0.4}
    assert result.values.shape == (178, 13, 3)

    unnamed = embed(EmbedSettings(values_path=Path("shap/wine.npy"), features=project.wine_features),
                    project_root=project.root)
    assert list(unnamed.outputs) == ["output 0", "output 1", "output 2"]
    assert unnamed.outputs["output 2"] == result.outputs["class_2"]


def test_a_summary_of_the_values_gives_the_same_page_as_the_values(project: Project) -> None:
    means = np.abs(project.values).mean(axis=0)
    pd.DataFrame({"feature": project.features, "mean_abs_shap": means}).to_csv(
        project.root / "shap/summary.csv", index=False)
    summary = embed(EmbedSettings(summary_path=Path("shap/summary.csv"), base_value=150.0), project_root=project.root)
    values = embed(EmbedSettings(values_path=Path("shap/values.npy"), features=project.features),
                   project_root=project.root)
    inline = embed(EmbedSettings(importance=dict(zip(project.features, means.tolist()))), project_root=project.root)

    for result in (summary, inline):
        assert list(result.outputs) == ["value"]
        assert [i.feature for i in result.outputs["value"]] == [i.feature for i in values.outputs["value"]]
        for mine, theirs in zip(result.outputs["value"], values.outputs["value"]):
            assert (mine.rank, mine.mean_abs) == (theirs.rank, pytest.approx(theirs.mean_abs, abs=1e-12))
            assert mine.share == pytest.approx(theirs.share, abs=1e-12)
        assert (result.rows_total, result.rows_sampled, result.values, result.data) == (None, None, None, None)
        assert result.mode == "embed"
    assert summary.base_values == {"value": 150.0}
    assert summary.values_sha256 == _sha256(project.root / "shap/summary.csv")
    assert inline.values_sha256 is None
    assert inline.base_values == {}


def test_a_summary_with_an_output_column_has_one_group_per_label(project: Project, tmp_path: Path) -> None:
    table = pd.DataFrame({
        "output": ["yes", "yes", "yes", "no", "no", "no"],
        "feature": ["age", "bmi", "bp", "bp", "age", "bmi"],
        "mean_abs_shap": [0.5, 2.0, 0.0, 1.0, 3.0, 1.0],
    })
    table.to_parquet(tmp_path / "summary.parquet", index=False)
    result = embed(EmbedSettings(summary_path=Path("summary.parquet")), project_root=tmp_path)
    assert list(result.outputs) == ["yes", "no"]
    assert result.features == ("age", "bmi", "bp")
    assert [(i.feature, i.rank, i.share) for i in result.outputs["yes"]] == [
        ("bmi", 1, 0.8), ("age", 2, 0.2), ("bp", 3, 0.0)]
    # Ties are ranked by feature name, as for computed values.
    assert [(i.feature, i.rank, i.share) for i in result.outputs["no"]] == [
        ("age", 1, 0.6), ("bmi", 2, 0.2), ("bp", 3, 0.2)]

    ordered = embed(EmbedSettings(summary_path=Path("summary.parquet"), outputs=("no", "yes"),
                                  base_value={"yes": 1.5}), project_root=tmp_path)
    assert list(ordered.outputs) == ["no", "yes"]
    assert ordered.base_values == {"yes": 1.5}


def test_inline_importance_with_one_label_and_chosen_features(tmp_path: Path) -> None:
    result = embed(EmbedSettings(importance={"age": 1.0, "bmi": 3, "sex": 0.0}, features=("bmi", "age"),
                                 outputs=("risk",), base_value=0.25), project_root=tmp_path)
    assert result.features == ("bmi", "age")
    assert [(i.feature, i.mean_abs, i.rank, i.share) for i in result.outputs["risk"]] == [
        ("bmi", 3.0, 1, 0.75), ("age", 1.0, 2, 0.25)]
    assert result.base_values == {"risk": 0.25}


def test_importing_embed_does_not_import_numpy_pandas_or_shap() -> None:
    code = """
        import sys
        import modelcards.explain.embed
        print(sorted(m for m in ('numpy', 'pandas', 'shap') if m in sys.modules))
    """
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# Errors: every message names the file and says what was found and what was expected.


def _error(root: Path, **fields) -> str:
    with pytest.raises(ExplainError) as caught:
        embed(EmbedSettings(**fields), project_root=root)
    return str(caught.value)


def test_a_pickled_object_array_is_refused_and_never_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    np.save(tmp_path / "objects.npy", np.array([[_Touch(str(marker))]], dtype=object), allow_pickle=True)
    assert _error(tmp_path, values_path=Path("objects.npy"), features=("a",)) == (
        "objects.npy: the array holds Python objects, which load only by unpickling (and so may run code); "
        "expected numbers, e.g. saved with numpy.save(path, values.astype(float))"
    )
    (tmp_path / "plain.npy").write_bytes(pickle.dumps(_Touch(str(marker))))
    assert _error(tmp_path, values_path=Path("plain.npy"), features=("a",)) == (
        "plain.npy: found no .npy header, expected an array saved with numpy.save"
    )
    assert not marker.exists()


class _Touch:
    """Creates a file when unpickled, so a test can tell whether anything was."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_npy_errors(project: Project, tmp_path: Path) -> None:
    root = project.root
    assert _error(root, values_path=Path("shap/values.npy"), features=project.features[:9]) == (
        "shap/values.npy: found 10 features on the array's second axis (shape (442, 10)), "
        "expected 9 as listed under features"
    )
    assert _error(root, values_path=Path("shap/values.npy")) == (
        "shap/values.npy: a .npy file has no feature names, expected them listed under features"
    )
    assert _error(root, values_path=Path("shap/wine.npy"), features=project.wine_features, outputs=("a", "b")) == (
        "shap/wine.npy: found 3 outputs on the array's third axis, outputs lists 2 labels"
    )
    assert _error(root, values_path=Path("shap/values.npy"), features=project.features, outputs=("a", "b")) == (
        "shap/values.npy: found values for one output, outputs lists 2 labels"
    )
    np.save(tmp_path / "flat.npy", np.zeros(4))
    assert _error(tmp_path, values_path=Path("flat.npy"), features=("a",)) == (
        "flat.npy: found a 1-D array of shape (4,), expected rows × features or rows × features × outputs"
    )
    np.save(tmp_path / "text.npy", np.array([["a", "b"]]))
    assert _error(tmp_path, values_path=Path("text.npy"), features=("a", "b")) == (
        "text.npy: found an array of <U1, expected numbers"
    )
    (tmp_path / "values.json").write_text("[]")
    assert _error(tmp_path, values_path=Path("values.json")) == (
        "values.json: found a .json file, expected .npy, .csv or .parquet"
    )


def test_table_errors(tmp_path: Path) -> None:
    frame = pd.DataFrame({"age": [0.1, np.nan, np.inf, 0.2], "bmi": [np.nan, 0.3, 0.1, 0.0], "sex": [0.0] * 4})
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    assert _error(tmp_path, values_path=Path("gaps.csv")) == (
        "gaps.csv: found 2 NaN and 1 infinite value(s) in age, bmi, expected finite numbers"
    )
    assert _error(tmp_path, values_path=Path("gaps.csv"), features=("sex", "bp", "s1")) == (
        "gaps.csv: features not in the data: bp, s1"
    )
    frame.assign(bmi="high").to_csv(tmp_path / "text.csv", index=False)
    assert _error(tmp_path, values_path=Path("text.csv")) == "text.csv: non-numeric feature columns: bmi"
    frame.to_csv(tmp_path / "indexed.csv")
    assert _error(tmp_path, values_path=Path("indexed.csv")) == (
        "indexed.csv: found columns without a header (Unnamed: 0; a saved index?), "
        "expected a feature name on every column"
    )


def test_data_must_match_the_values(project: Project) -> None:
    data = load_diabetes(as_frame=True).data
    data.head(100).to_csv(project.root / "data/head.csv", index=False)
    data.drop(columns=["bmi", "s5"]).to_csv(project.root / "data/narrow.csv", index=False)
    data.assign(sex="f").to_csv(project.root / "data/text.csv", index=False)
    np.save(project.root / "data/narrow.npy", data.to_numpy()[:, :8])
    fields = {"values_path": Path("shap/values.npy"), "features": project.features}
    assert _error(project.root, **fields, data_path=Path("data/head.csv")) == (
        "data/head.csv: found 100 rows, expected 442 like shap/values.npy"
    )
    assert _error(project.root, **fields, data_path=Path("data/narrow.csv")) == (
        "data/narrow.csv: features not in the data: bmi, s5"
    )
    assert _error(project.root, **fields, data_path=Path("data/text.csv")) == (
        "data/text.csv: non-numeric feature columns: sex"
    )
    assert _error(project.root, **fields, data_path=Path("data/narrow.npy")) == (
        "data/narrow.npy: found an array of shape (442, 8), expected rows × 10 features like shap/values.npy"
    )


def test_summary_errors(tmp_path: Path) -> None:
    def write(file: str, **columns) -> Path:
        pd.DataFrame(columns).to_csv(tmp_path / file, index=False)
        return Path(file)

    negative = write("negative.csv", feature=["age", "bmi", "bp"], mean_abs_shap=[0.5, -0.25, np.nan])
    assert _error(tmp_path, summary_path=negative) == (
        "negative.csv: found bmi = -0.25, bp = nan, expected mean |SHAP| as finite numbers ≥ 0"
    )
    text = write("text.csv", feature=["age", "bmi"], mean_abs_shap=["0.5", "large"])
    assert _error(tmp_path, summary_path=text) == (
        "text.csv: found bmi = 'large', expected mean |SHAP| as finite numbers ≥ 0"
    )
    twice = write("twice.csv", feature=["age", "bmi", "age"], mean_abs_shap=[0.5, 0.25, 0.1])
    assert _error(tmp_path, summary_path=twice) == (
        "twice.csv: found age more than once, expected one row per feature"
    )
    twice_in_output = write("twice_in_output.csv", output=["a", "a", "b", "b"],
                            feature=["age", "age", "age", "bmi"], mean_abs_shap=[0.5, 0.25, 0.1, 0.2])
    assert _error(tmp_path, summary_path=twice_in_output) == (
        "twice_in_output.csv: found age (output a) more than once, expected one row per feature"
    )
    uneven = write("uneven.csv", output=["a", "b", "b"], feature=["age", "age", "bmi"],
                   mean_abs_shap=[0.5, 0.2, 0.1])
    assert _error(tmp_path, summary_path=uneven) == (
        "uneven.csv: output a lacks bmi, expected every output to list the same features"
    )
    assert _error(tmp_path, summary_path=uneven, outputs=("a", "c")) == (
        "uneven.csv: outputs lists a, c, expected the labels in the output column: a, b"
    )
    renamed = write("renamed.csv", name=["age"], importance=[0.5])
    assert _error(tmp_path, summary_path=renamed) == (
        "renamed.csv: found columns name, importance, expected feature, mean_abs_shap and optionally output"
    )
    (tmp_path / "summary.npy").write_bytes(b"")
    assert _error(tmp_path, summary_path=Path("summary.npy")) == (
        "summary.npy: found a .npy file, expected .csv or .parquet"
    )


def test_inline_importance_errors(tmp_path: Path) -> None:
    assert _error(tmp_path, importance={"age": -1.0, "bmi": "high", "bp": True}) == (
        "importance: found age = -1.0, bmi = 'high', bp = True, expected mean |SHAP| as finite numbers ≥ 0"
    )
    assert _error(tmp_path, importance={}) == (
        "importance: found no features, expected mean |SHAP| for each feature"
    )
    assert _error(tmp_path, importance={"age": 1.0}, features=("age", "bmi")) == (
        "importance: features not in the data: bmi"
    )


def test_settings_errors(tmp_path: Path) -> None:
    with pytest.raises(ExplainError, match="^found values_path and importance, expected exactly one of "
                                           "values_path, summary_path or importance$"):
        EmbedSettings(values_path=Path("shap.npy"), importance={"age": 1.0})
    with pytest.raises(ExplainError) as caught:
        EmbedSettings()
    assert str(caught.value) == "found none of them, expected exactly one of values_path, summary_path or importance"
    with pytest.raises(ExplainError) as caught:
        EmbedSettings(summary_path=Path("summary.csv"), data_path=Path("data.csv"))
    assert str(caught.value) == (
        "data_path: found it beside summary_path, expected values_path: "
        "the data colours per-row values, and a summary has no rows"
    )
    with pytest.raises(ExplainError) as caught:
        EmbedSettings(values_path=Path("shap.npy"), features=("age", "bmi", "age"))
    assert str(caught.value) == "features: found age more than once, expected each name once"


def test_paths_outside_the_project_and_missing_files(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "values.npy"
    np.save(outside, project.values)
    assert _error(project.root, values_path=outside, features=project.features) == (
        f"{outside}: the file is outside the project root {project.root}"
    )
    assert _error(project.root, summary_path=Path("../summary.csv")) == (
        f"../summary.csv: the file is outside the project root {project.root}"
    )
    assert _error(project.root, values_path=Path("shap/nowhere.npy"), features=project.features) == (
        "shap/nowhere.npy: file not found"
    )
    assert _error(project.root, values_path=Path("shap/values.npy"), features=project.features,
                  data_path=Path("data/nowhere.csv")) == "data/nowhere.csv: file not found"


def test_base_value_errors(project: Project) -> None:
    wine = {"values_path": Path("shap/wine.npy"), "features": project.wine_features}
    assert _error(project.root, **wine, base_value={"output 1": 0.3, "class_1": 0.2}) == (
        "base_value: found output label(s) class_1, expected the outputs of shap/wine.npy: "
        "output 0, output 1, output 2"
    )
    assert _error(project.root, **wine, base_value=0.3) == (
        "base_value: found one number for the 3 outputs of shap/wine.npy, "
        "expected one per output label: output 0, output 1, output 2"
    )
    assert _error(project.root, importance={"age": 1.0}, base_value=float("nan")) == (
        "base_value: found value = nan, expected finite numbers"
    )


def test_an_embedded_explanation_is_cached_by_the_bytes_it_reads(project: Project, tmp_path: Path) -> None:
    """A rebuild takes embedded values from the explanation cache (no table is parsed, pandas is not imported:
    test_explain_site checks that); a changed file, even one value of the data, is read again."""
    from modelcards.explain.cache import ExplanationCache, embed_cache_key

    data = load_diabetes(as_frame=True).data
    data.to_csv(project.root / "data/rows.csv", index=False)
    settings = EmbedSettings(values_path=Path("shap/values.csv"), data_path=Path("data/rows.csv"), source="nb")
    key = embed_cache_key(settings, project.root)
    embedded = embed(settings, project_root=project.root)
    cache = ExplanationCache(tmp_path / "explanations")
    cache.put(key, embedded)
    cached = cache.get(key)
    assert cached == embedded
    assert np.array_equal(cached.values, embedded.values) and np.array_equal(cached.data, embedded.data)

    (project.root / "data/moved.csv").write_bytes((project.root / "data/rows.csv").read_bytes())
    assert embed_cache_key(EmbedSettings(values_path=Path("shap/values.csv"), data_path=Path("data/moved.csv"),
                                         source="nb"), project.root) == key  # the bytes decide, not the path
    assert embed_cache_key(EmbedSettings(values_path=Path("shap/values.csv"), data_path=Path("data/rows.csv"),
                                         source="other"), project.root) != key
    data.assign(bmi=data["bmi"].where(data.index != 7, 0.5)).to_csv(project.root / "data/rows.csv", index=False)
    assert embed_cache_key(settings, project.root) != key

    missing = EmbedSettings(values_path=Path("shap/values.csv"), data_path=Path("data/gone.csv"))
    assert embed_cache_key(missing, project.root) is None  # embedding it says what is wrong, as without a cache
    assert _error(project.root, values_path=Path("shap/values.csv"), data_path=Path("data/gone.csv")) == (
        "data/gone.csv: file not found")
    assert embed_cache_key(EmbedSettings(importance={"bmi": 1.0}), project.root) is None  # nothing read
