#!/usr/bin/env python3
"""Train the example models whose cards live in cards/, and check those cards against the results.

    python scripts/train_examples.py                 # print metrics, settings and data digests as JSON
    python scripts/train_examples.py --check         # compare with cards/; exit 1 listing every mismatch
    python scripts/train_examples.py --check --cards DIR
    python scripts/train_examples.py --log-runs      # log every version to a real MLflow store, export the
                                                     # runs to runs/mlflow/ and point each card version at its run

Everything is deterministic and offline: scikit-learn's bundled datasets (nothing is downloaded), fixed
seeds, and one held-out test split per dataset. The split is drawn once over a dataset's full table
(25%, stratified for classifiers, seed 42) and every dataset version inherits it row by row, so a row
never moves between training and test when a version adds rows, and an older model can be re-scored on
a newer version's test rows without leakage.

Dataset versions. scikit-learn's copies never change, so each "version 1" below is a documented,
deterministic subset standing in for a smaller first export; "version 2" is the full table:

    breast-cancer-wisconsin  1: all 569 rows, the 10 "mean" features only.  2: all 30 features.
    diabetes-progression     1: the first 300 rows in published order.       2: all 442 rows.
    wine-cultivars           1: the first 40 rows of each cultivar (120).    2: all 178 rows.

Digests. A dataset version's digest is the md5 of its canonical CSV: a header line
``row,<feature>,...,<target>``, then one line per row in published order holding the row's index in
scikit-learn's table, each feature as Python's ``repr(float)`` and the target (an integer for
classifiers, ``repr(float)`` for regression); ``\\n`` line ends and a final ``\\n``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn import datasets
from sklearn.base import clone
from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 42
TEST_SIZE = 0.25
DECIMALS = 4
# Cards hold numbers rounded to DECIMALS; another CPU's BLAS may round the last one the other way.
TOLERANCE = 1e-4
BOOTSTRAP_RESAMPLES = 1000
CARDS_DIR = Path(__file__).resolve().parents[1] / "cards"

Scalar = str | int | float | bool


# --- data ------------------------------------------------------------------------

@dataclass(frozen=True)
class Table:
    """One of scikit-learn's bundled tables, with its fixed test split."""

    X: np.ndarray
    y: np.ndarray
    features: tuple[str, ...]
    target: str
    is_test: np.ndarray  # bool per row


@dataclass(frozen=True)
class DataVersion:
    dataset: str
    version: str
    table: Table
    rows: np.ndarray     # indices into the table, published order
    columns: np.ndarray  # feature indices

    @property
    def X(self) -> np.ndarray:
        return self.table.X[np.ix_(self.rows, self.columns)]

    @property
    def y(self) -> np.ndarray:
        return self.table.y[self.rows]

    @property
    def test(self) -> np.ndarray:
        """Which of this version's rows are held out."""
        return self.table.is_test[self.rows]

    def canonical_csv(self) -> str:
        names = [self.table.features[c] for c in self.columns]
        lines = [",".join(["row", *names, self.table.target])]
        for row, values, label in zip(self.rows, self.X, self.y):
            lines.append(",".join([str(int(row)), *(repr(float(v)) for v in values), _label_text(label)]))
        return "\n".join(lines) + "\n"

    def digest(self) -> str:
        return hashlib.md5(self.canonical_csv().encode("utf-8")).hexdigest()


def _label_text(label: Any) -> str:
    return str(int(label)) if isinstance(label, np.integer) else repr(float(label))


def _split(n_rows: int, stratify: np.ndarray | None) -> np.ndarray:
    _, test_rows = train_test_split(np.arange(n_rows), test_size=TEST_SIZE, stratify=stratify, random_state=SEED)
    is_test = np.zeros(n_rows, dtype=bool)
    is_test[test_rows] = True
    return is_test


@cache
def tables() -> dict[str, Table]:
    cancer = datasets.load_breast_cancer()
    malignant = (cancer.target == 0).astype(np.int64)  # scikit-learn codes malignant as 0; we want it positive
    diabetes = datasets.load_diabetes()
    wine = datasets.load_wine()
    return {
        "breast-cancer-wisconsin": Table(cancer.data, malignant, tuple(cancer.feature_names), "malignant",
                                         _split(len(malignant), malignant)),
        "diabetes-progression": Table(diabetes.data, diabetes.target, tuple(diabetes.feature_names),
                                      "progression", _split(len(diabetes.target), None)),
        "wine-cultivars": Table(wine.data, wine.target.astype(np.int64), tuple(wine.feature_names), "cultivar",
                                _split(len(wine.target), wine.target)),
    }


@cache
def data_versions() -> dict[tuple[str, str], DataVersion]:
    t = tables()
    cancer, diabetes, wine = t["breast-cancer-wisconsin"], t["diabetes-progression"], t["wine-cultivars"]
    rows = {name: np.arange(len(table.y)) for name, table in t.items()}
    columns = {name: np.arange(len(table.features)) for name, table in t.items()}
    mean_columns = np.array([i for i, name in enumerate(cancer.features) if name.startswith("mean ")])
    first_40_per_cultivar = np.sort(np.concatenate([np.flatnonzero(wine.y == c)[:40] for c in np.unique(wine.y)]))
    found = [
        DataVersion("breast-cancer-wisconsin", "1", cancer, rows["breast-cancer-wisconsin"], mean_columns),
        DataVersion("breast-cancer-wisconsin", "2", cancer, rows["breast-cancer-wisconsin"],
                    columns["breast-cancer-wisconsin"]),
        DataVersion("diabetes-progression", "1", diabetes, np.arange(300), columns["diabetes-progression"]),
        DataVersion("diabetes-progression", "2", diabetes, rows["diabetes-progression"],
                    columns["diabetes-progression"]),
        DataVersion("wine-cultivars", "1", wine, first_40_per_cultivar, columns["wine-cultivars"]),
        DataVersion("wine-cultivars", "2", wine, rows["wine-cultivars"], columns["wine-cultivars"]),
    ]
    return {(d.dataset, d.version): d for d in found}


# --- models ----------------------------------------------------------------------

@dataclass(frozen=True)
class Release:
    """One model version: the data it was trained on and the settings the card lists."""

    model: str
    version: str
    data: tuple[str, str]
    params: dict[str, Scalar]


ESTIMATORS: dict[str, type] = {
    "LogisticRegression": LogisticRegression,
    "GradientBoostingClassifier": GradientBoostingClassifier,
    "Ridge": Ridge,
    "RandomForestRegressor": RandomForestRegressor,
}
# Settings that steer the recipe rather than the estimator's constructor.
RECIPE_KEYS = {"estimator", "standardize", "test_size", "split_seed", "decision_threshold", "target_recall",
               "alpha_grid"}
COMMON = {"test_size": TEST_SIZE, "split_seed": SEED}

RELEASES = [
    Release("breast-cancer-classifier", "1.0.0", ("breast-cancer-wisconsin", "1"),
            {**COMMON, "estimator": "LogisticRegression", "standardize": True, "C": 1.0, "max_iter": 1000,
             "decision_threshold": 0.5}),
    Release("breast-cancer-classifier", "1.1.0", ("breast-cancer-wisconsin", "2"),
            {**COMMON, "estimator": "GradientBoostingClassifier", "standardize": False, "n_estimators": 200,
             "learning_rate": 0.05, "max_depth": 2, "subsample": 0.8, "random_state": SEED,
             "decision_threshold": 0.5}),
    # The threshold is chosen on out-of-fold training predictions as the highest one reaching target_recall.
    Release("breast-cancer-classifier", "1.2.0", ("breast-cancer-wisconsin", "2"),
            {**COMMON, "estimator": "LogisticRegression", "standardize": True, "C": 1.0, "max_iter": 1000,
             "target_recall": 0.97}),
    Release("diabetes-progression-regressor", "1.0.0", ("diabetes-progression", "1"),
            {**COMMON, "estimator": "Ridge", "standardize": False, "alpha": 1.0}),
    # alpha is chosen by 5-fold cross-validated MAE on the training rows.
    Release("diabetes-progression-regressor", "1.1.0", ("diabetes-progression", "2"),
            {**COMMON, "estimator": "Ridge", "standardize": False, "alpha_grid": "0.001 0.003 0.01 0.03 0.1 0.3 1 3"}),
    Release("diabetes-progression-regressor", "1.2.0", ("diabetes-progression", "2"),
            {**COMMON, "estimator": "RandomForestRegressor", "standardize": False, "n_estimators": 300,
             "min_samples_leaf": 5, "max_features": 0.5, "random_state": SEED, "n_jobs": 1}),
    Release("wine-cultivar-classifier", "1.0.0", ("wine-cultivars", "1"),
            {**COMMON, "estimator": "LogisticRegression", "standardize": True, "C": 1.0, "max_iter": 1000}),
    Release("wine-cultivar-classifier", "1.1.0", ("wine-cultivars", "2"),
            {**COMMON, "estimator": "LogisticRegression", "standardize": True, "C": 1.0, "max_iter": 1000}),
]


def _estimator(params: dict[str, Scalar]):
    kwargs = {k: v for k, v in params.items() if k not in RECIPE_KEYS}
    model = ESTIMATORS[str(params["estimator"])](**kwargs)
    return make_pipeline(StandardScaler(), model) if params["standardize"] else model


def fit(release: Release) -> tuple[Any, dict[str, Scalar]]:
    """The fitted model and the settings actually used (tuned values filled in)."""
    data = data_versions()[release.data]
    X, y = data.X[~data.test], data.y[~data.test]
    params = dict(release.params)
    model = _estimator(params)
    if "alpha_grid" in params:
        grid = [float(a) for a in str(params["alpha_grid"]).split()]
        search = GridSearchCV(model, {"alpha": grid}, scoring="neg_mean_absolute_error",
                              cv=KFold(5, shuffle=True, random_state=SEED))
        params["alpha"] = float(search.fit(X, y).best_params_["alpha"])
        model = _estimator(params)
    if "target_recall" in params:
        folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
        out_of_fold = cross_val_predict(clone(model), X, y, cv=folds, method="predict_proba")[:, 1]
        params["decision_threshold"] = _threshold_for_recall(y, out_of_fold, float(params["target_recall"]))
    return model.fit(X, y), params


def _threshold_for_recall(y: np.ndarray, scores: np.ndarray, target: float) -> float:
    """The highest threshold, on a 0.05 grid, whose recall reaches ``target``."""
    for threshold in np.round(np.arange(0.95, 0.0, -0.05), 2):
        if recall_score(y, scores >= threshold) >= target:
            return float(threshold)
    return 0.05


def predict(model: Any, params: dict[str, Scalar], X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions and, for binary classifiers, the malignancy scores they were cut from."""
    if "decision_threshold" in params:
        scores = model.predict_proba(X)[:, 1]
        return (scores >= float(params["decision_threshold"])).astype(np.int64), scores
    return model.predict(X), None


# --- metrics ---------------------------------------------------------------------

def metrics_for(model: str, y: np.ndarray, predicted: np.ndarray, scores: np.ndarray | None) -> dict[str, float]:
    if model == "breast-cancer-classifier":
        found = {"roc_auc": roc_auc_score(y, scores), "accuracy": accuracy_score(y, predicted),
                 "recall": recall_score(y, predicted), "precision": precision_score(y, predicted)}
    elif model == "wine-cultivar-classifier":
        found = {"accuracy": accuracy_score(y, predicted), "macro_f1": f1_score(y, predicted, average="macro")}
    else:
        found = {"mae": mean_absolute_error(y, predicted), "rmse": root_mean_squared_error(y, predicted),
                 "r2": r2_score(y, predicted)}
    return {name: _round(value) for name, value in found.items()}


def _round(value: float) -> float:
    return round(float(value), DECIMALS)


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval for a proportion; sound for small n and for 0% or 100%."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return _round(max(0.0, centre - half)), _round(min(1.0, centre + half))


def _mae(y: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return np.abs(y - predicted).mean(axis=-1)


def _rmse(y: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return np.sqrt(((y - predicted) ** 2).mean(axis=-1))


def _r2(y: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    residual = ((y - predicted) ** 2).sum(axis=-1)
    total = ((y - y.mean(axis=-1, keepdims=True)) ** 2).sum(axis=-1)
    return 1 - residual / total


# Row-wise over a stack of bootstrap resamples, so 1,000 resamples cost one numpy call.
ERROR_METRICS = {"mae": _mae, "rmse": _rmse, "r2": _r2}


def bootstrap_interval(y: np.ndarray, predicted: np.ndarray, metric: str) -> tuple[float, float]:
    """95% percentile bootstrap interval over test rows, seeded."""
    draws = np.random.default_rng(SEED).integers(0, len(y), size=(BOOTSTRAP_RESAMPLES, len(y)))
    low, high = np.percentile(ERROR_METRICS[metric](y[draws], predicted[draws]), [2.5, 97.5])
    return _round(low), _round(high)


def _proportion(metric: str, slice_name: str, hits: np.ndarray) -> dict[str, Any]:
    return {"metric": metric, "slice": slice_name, "value": _round(hits.mean()),
            "confidence_interval": list(wilson_interval(int(hits.sum()), len(hits)))}


def _bootstrapped(metric: str, slice_name: str, y: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    return {"metric": metric, "slice": slice_name, "value": _round(ERROR_METRICS[metric](y, predicted)),
            "confidence_interval": list(bootstrap_interval(y, predicted, metric))}


def _recall_by_tumour_size(data: DataVersion, predicted: np.ndarray) -> list[dict[str, Any]]:
    # Terciles of tumour size among malignant rows, so each band holds a third of the cancers.
    table, test_rows, y = data.table, data.rows[data.test], data.y[data.test]
    radius = table.X[:, table.features.index("mean radius")]
    low, high = np.round(np.quantile(radius[table.y == 1], [1 / 3, 2 / 3]), 1)
    bands = [(f"mean radius < {low}", radius < low),
             (f"mean radius {low} to {high}", (radius >= low) & (radius < high)),
             (f"mean radius >= {high}", radius >= high)]
    found = []
    for label, in_band in bands:
        malignant = in_band[test_rows] & (y == 1)
        found.append(_proportion("recall", f"{label} ({int(malignant.sum())} malignant in test)",
                                 predicted[malignant] == 1))
    return found


def _accuracy_by_cultivar(data: DataVersion, predicted: np.ndarray) -> list[dict[str, Any]]:
    y = data.y[data.test]
    return [_proportion("accuracy", f"cultivar {c + 1} ({int((y == c).sum())} in test)", predicted[y == c] == c)
            for c in np.unique(y)]


def _error_by_age_and_sex(data: DataVersion, predicted: np.ndarray) -> list[dict[str, Any]]:
    # The scaled table hides the units; the unscaled copy gives ages in years and the sex codes 1 and 2.
    raw = datasets.load_diabetes(scaled=False).data[data.rows[data.test]]
    age, sex, y = raw[:, 0], raw[:, 1], data.y[data.test]
    groups = [("age < 50", age < 50), ("age >= 50", age >= 50), ("sex code 1", sex == 1), ("sex code 2", sex == 2)]
    return [_bootstrapped("mae", f"{label} ({int(mine.sum())} in test)", y[mine], predicted[mine])
            for label, mine in groups]


SLICES = {
    "breast-cancer-classifier": _recall_by_tumour_size,
    "wine-cultivar-classifier": _accuracy_by_cultivar,
    "diabetes-progression-regressor": _error_by_age_and_sex,
}


def slices_for(release: Release, model: Any, params: dict[str, Scalar]) -> list[dict[str, Any]]:
    """Sliced results on the release's own test rows, plus a re-scoring on the full data's test rows
    when the release was trained on a subset of rows (so older versions compare like for like)."""
    data = data_versions()[release.data]
    predicted, _ = predict(model, params, data.X[data.test])
    found = SLICES[release.model](data, predicted)
    full = data_versions()[(release.data[0], "2")]
    if len(data.rows) < len(full.rows):
        y, predicted = full.y[full.test], predict(model, params, full.X[full.test])[0]
        label = f"dataset version 2 test rows ({len(y)}), for comparison with later versions"
        if release.model == "wine-cultivar-classifier":
            found.append(_proportion("accuracy", label, predicted == y))
        else:
            found += [_bootstrapped(name, label, y, predicted) for name in ERROR_METRICS]
    return found


# --- the whole run ---------------------------------------------------------------

def train_all() -> dict[str, Any]:
    """Every dataset version's digest and rows, and every model version's metrics, settings, data and slices."""
    result: dict[str, Any] = {"datasets": {}, "models": {}}
    for (dataset, version), data in data_versions().items():
        result["datasets"].setdefault(dataset, {})[version] = {
            "digest": data.digest(), "rows": len(data.rows), "features": len(data.columns),
            "test_rows": int(data.test.sum()),
        }
    for release in RELEASES:
        data = data_versions()[release.data]
        model, params = fit(release)
        predicted, scores = predict(model, params, data.X[data.test])
        digest = result["datasets"][release.data[0]][release.data[1]]["digest"]
        result["models"].setdefault(release.model, {})[release.version] = {
            "metrics": metrics_for(release.model, data.y[data.test], predicted, scores),
            "params": params,
            "data": [{"dataset": release.data[0], "version": release.data[1], "digest": digest, "role": role}
                     for role in ("training", "evaluation")],
            "slices": slices_for(release, model, params),
        }
    return result


# --- logging runs to MLflow --------------------------------------------------------

RUNS_DIR = CARDS_DIR.parent / "runs" / "mlflow"
# Versions that come from elsewhere: wine 1.1.0 is the `train` stage of the DVC pipeline in pipelines/wine.
NOT_LOGGED = {("wine-cultivar-classifier", "1.1.0")}


def log_runs(tracking_uri: str, artifacts: Path, cards_dir: Path) -> dict[tuple[str, str], str]:
    """Train every release again inside an MLflow run; returns each version's run id.

    A run holds the settings, the test metrics, the training data as a dataset input named after its
    dataset card, the model (registered, so each version gets a model-registry version), and, for
    boosting, the test log-loss after each tree: a step history. Its times are those of the story the
    cards tell (see ``training_start``), not of this machine's clock, so no run starts after its release.
    """
    import time

    import mlflow
    import pandas as pd
    from mlflow.tracking import MlflowClient
    from mlflow.tracking.context.registry import resolve_tags
    from sklearn.metrics import log_loss

    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    run_ids = {}
    for release in RELEASES:
        if (release.model, release.version) in NOT_LOGGED:
            continue
        experiment = client.get_experiment_by_name(release.model)
        experiment_id = experiment.experiment_id if experiment else client.create_experiment(
            release.model, artifact_location=(artifacts / release.model).as_uri())
        data = data_versions()[release.data]
        clock = time.perf_counter()
        model, params = fit(release)
        predicted, scores = predict(model, params, data.X[data.test])
        started = training_start(release, cards_dir)
        finished = started + max(1000, round((time.perf_counter() - clock) * 1000))
        # What mlflow.start_run would record (user, source, git commit), on a run created with the story's time.
        created = client.create_run(experiment_id, start_time=started, tags=resolve_tags(),
                                    run_name=f"{release.model}-{release.version}")
        with mlflow.start_run(run_id=created.info.run_id) as run:
            mlflow.log_params(params)
            mlflow.log_metrics(metrics_for(release.model, data.y[data.test], predicted, scores), timestamp=finished)
            estimator = model[-1] if hasattr(model, "steps") else model
            if hasattr(estimator, "staged_predict_proba"):
                for step, proba in enumerate(estimator.staged_predict_proba(data.X[data.test]), start=1):
                    mlflow.log_metric("test_log_loss", round(log_loss(data.y[data.test], proba), 6), step=step,
                                      timestamp=finished)
            columns = [data.table.features[c] for c in data.columns]
            frame = pd.DataFrame(data.X[~data.test], columns=columns).assign(**{data.table.target: data.y[~data.test]})
            # The digest is the dataset version's md5, as its card gives it, rather than MLflow's own hash
            # of this frame, so the run and the dataset card name the data the same way.
            mlflow.log_input(mlflow.data.from_pandas(frame, name=release.data[0], targets=data.table.target,
                                                     digest=data.digest(),
                                                     source=f"sklearn.datasets ({release.data[0]} v{release.data[1]})"),
                             context="training")
            mlflow.set_tags({"mlflow.source.name": "scripts/train_examples.py", "card": release.model})
            # Saved with skops; tree models need their node storage type named as trusted.
            mlflow.sklearn.log_model(model, name="model", registered_model_name=release.model,
                                     skops_trusted_types=["sklearn.tree._tree.Tree"])
            run_ids[(release.model, release.version)] = run.info.run_id
        client.set_terminated(created.info.run_id, "FINISHED", end_time=finished)  # after end_run, which says now
    return run_ids


TRAINED_BEFORE_RELEASE = dt.timedelta(days=1, hours=-9)  # 09:00 UTC on the day before the version's date


def training_start(release: Release, cards_dir: Path) -> int:
    """When the story has a release trained: 09:00 UTC the day before its card's version date (epoch ms)."""
    card = yaml.safe_load((cards_dir / f"{release.model}.yml").read_text(encoding="utf-8"))
    date = next(str(v["date"]) for v in card["versions"] if str(v["version"]) == release.version)
    released = dt.datetime.fromisoformat(date).replace(tzinfo=dt.timezone.utc)
    return int((released - TRAINED_BEFORE_RELEASE).timestamp() * 1000)


def set_production_aliases(tracking_uri: str, cards_dir: Path) -> None:
    """Alias the registry version of what each card says runs in production now as `production`."""
    from mlflow.tracking import MlflowClient

    from modelcards.build import check_cards

    client = MlflowClient(tracking_uri)
    catalog = check_cards([cards_dir], relative_to=cards_dir.parent).catalog
    for model in catalog.models.values():
        live = [d.version for d in model.current_deployments if d.environment == "production"]
        versions = {v.run.split(":", 1)[1]: v.version for v in model.card.versions if v.run}
        for registered in client.search_model_versions(f"name='{model.name}'"):
            if versions.get(registered.run_id) in live:
                client.set_registered_model_alias(model.name, "production", registered.version)


def point_cards_at_runs(run_refs: dict[tuple[str, str], str], cards_dir: Path) -> None:
    """Set each version's `run:` line in its card to its ref (``mlflow:<id>``), keeping the rest as written."""
    for model in sorted({model for model, _ in run_refs}):
        path = cards_dir / f"{model}.yml"
        lines = path.read_text(encoding="utf-8").splitlines()
        out, version = [], None
        for line in lines:
            stripped = line.strip()
            if stripped.startswith("- version:"):
                version = stripped.split(":", 1)[1].strip().strip('"')
            elif stripped.startswith(("deployments:", "custom:")) and not line.startswith(" "):
                version = None
            if version and stripped.startswith("run:") and (model, version) in run_refs:
                continue  # replaced below
            out.append(line)
            if version and stripped.startswith("date:") and (model, version) in run_refs:
                out.append(line[: len(line) - len(line.lstrip())] + f"run: {run_refs[(model, version)]}")
        path.write_text("\n".join(out) + "\n", encoding="utf-8")


def export_runs(tracking_uri: str, out_dir: Path) -> int:
    from modelcards.sources.masking import mask_records
    from modelcards.sources.mlflow_pull import pull_runs
    from modelcards.sources.record import write_export

    records, _ = mask_records(pull_runs(tracking_uri, experiments=[], run_ids=[]))
    for stale in out_dir.glob("*.json"):
        stale.unlink()
    return len(write_export(records, out_dir))


def log_and_export(cards_dir: Path) -> None:
    import os
    import tempfile

    os.environ.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"})
    with tempfile.TemporaryDirectory(prefix="modelcards-examples-") as scratch:
        tracking_uri = f"sqlite:///{scratch}/mlflow.db"
        run_ids = log_runs(tracking_uri, Path(scratch, "artifacts"), cards_dir)
        point_cards_at_runs({version: f"mlflow:{run_id}" for version, run_id in run_ids.items()}, cards_dir)
        set_production_aliases(tracking_uri, cards_dir)
        count = export_runs(tracking_uri, RUNS_DIR)
    print(f"logged and exported {count} run(s) to {RUNS_DIR}; cards point at them", file=sys.stderr)


# --- checking the cards ----------------------------------------------------------

def find_mismatches(result: dict[str, Any], cards_dir: Path = CARDS_DIR) -> list[str]:
    """Every place where a card in ``cards_dir`` disagrees with ``result``; empty when they all agree.

    Cards for models and datasets this script does not train are left alone.
    """
    from modelcards.cards.loader import find_card_files, load_cards
    from modelcards.cards.schema import DatasetCard, ModelCard

    loaded, problems = load_cards(find_card_files([cards_dir]), relative_to=cards_dir.parent)
    found = [problem.format() for problem in problems if problem.severity == "error"]
    cards = {(type(item.card), item.card.name): item for item in loaded}
    for kind, card_type in (("datasets", DatasetCard), ("models", ModelCard)):
        for name, versions in result[kind].items():
            item = cards.get((card_type, name))
            if item is None:
                found.append(f"{kind[:-1]} '{name}': no card in {cards_dir}")
                continue
            declared = {v.version: v for v in item.card.versions}
            found += [f"{item.path}: versions '{label}' is not produced by {Path(__file__).name}"
                      for label in sorted(declared.keys() - versions.keys())]
            for label, expected in versions.items():
                where = f"{item.path}: versions '{label}'"
                if label not in declared:
                    found.append(f"{where}: missing from the card")
                elif kind == "datasets":
                    card = {"digest": declared[label].digest, "rows": declared[label].rows}
                    found += _compare(where, card, {k: expected[k] for k in card}, numbers=False)
                else:
                    found += _compare_model_version(where, declared[label], expected)
            if kind == "models":
                found += _compare_slices(item, versions)
    return found


def _compare_model_version(where: str, version: Any, expected: dict[str, Any]) -> list[str]:
    found = _compare(f"{where} metrics", version.metrics, expected["metrics"], numbers=True)
    found += _compare(f"{where} params", version.params, expected["params"], numbers=False)
    card_refs = sorted(json.dumps(ref.model_dump(), sort_keys=True) for ref in version.data)
    computed_refs = sorted(json.dumps(ref, sort_keys=True) for ref in expected["data"])
    if card_refs != computed_refs:
        found.append(f"{where}: data is {card_refs}, computed {computed_refs}")
    return found


def _compare(where: str, card: dict[str, Any], computed: dict[str, Any], *, numbers: bool) -> list[str]:
    """Missing, extra and different keys; numbers agree within TOLERANCE, other values exactly."""
    def same(a: Any, b: Any) -> bool:  # True == 1 in Python, but a card saying `true` for 1 is wrong
        return _agree(a, b) if numbers else (a == b and isinstance(a, bool) == isinstance(b, bool))

    found = [f"{where}: {k}: missing, computed {v!r}" for k, v in computed.items() if k not in card]
    found += [f"{where}: {k}: {card[k]!r} in the card, not computed" for k in sorted(card.keys() - computed.keys())]
    found += [f"{where}: {k}: {card[k]!r} in the card, computed {v!r}"
              for k, v in computed.items() if k in card and not same(card[k], v)]
    return found


def _agree(card: float, computed: float) -> bool:
    """Within TOLERANCE, one rounding step; the subtraction's own error must not count (0.9008 - 0.9007 > 1e-4)."""
    return abs(card - computed) <= TOLERANCE * (1 + 1e-9)


def _compare_slices(item: Any, versions: dict[str, Any]) -> list[str]:
    latest = max(item.card.versions, key=lambda v: v.date).version if item.card.versions else None
    card = {(r.version or latest, r.metric, r.slice): r for r in item.card.quantitative_analyses}
    computed = {(label, s["metric"], s["slice"]): s for label, v in versions.items() for s in v["slices"]}
    found = []
    for key in sorted(card.keys() - computed.keys()):
        found.append(f"{item.path}: quantitative_analyses {key} is not computed by {Path(__file__).name}")
    for key, expected in computed.items():
        where = f"{item.path}: quantitative_analyses version '{key[0]}' {key[1]} '{key[2]}'"
        if key not in card:
            found.append(f"{where}: missing, computed {expected['value']} {expected['confidence_interval']}")
            continue
        result = card[key]
        interval = list(result.confidence_interval) if result.confidence_interval else None
        if not _agree(result.value, expected["value"]) or interval is None or not all(
                _agree(a, b) for a, b in zip(interval, expected["confidence_interval"])):
            found.append(f"{where}: {result.value} {interval} in the card, computed "
                         f"{expected['value']} {expected['confidence_interval']}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the cards; exit 1 on any mismatch")
    parser.add_argument("--cards", type=Path, default=CARDS_DIR, help="cards folder (default: %(default)s)")
    parser.add_argument("--log-runs", action="store_true",
                        help="log to a real MLflow store, export to runs/mlflow/, set the cards' run: lines")
    args = parser.parse_args(argv)
    if args.log_runs:
        log_and_export(args.cards)
        return 0
    result = train_all()
    if not args.check:
        print(json.dumps(result, indent=2))
        return 0
    mismatches = find_mismatches(result, args.cards)
    for line in mismatches:
        print(line)
    models = sum(len(v) for v in result["models"].values())
    datasets_ = sum(len(v) for v in result["datasets"].values())
    print(f"{len(mismatches)} mismatch(es) across {models} model version(s) and {datasets_} dataset version(s)",
          file=sys.stderr)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
