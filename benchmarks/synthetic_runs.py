"""Synthetic MLflow-like runs for the benchmarks: the size and shape of real autologged runs.

Each run has about 15 params, 20 tags (MLflow's system tags among them), 6 metrics of
which 3 are logged over 50 steps, one dataset input and one registered model output.
"""

from __future__ import annotations

import random

from modelcards.sources.record import CodeRef, DatasetRef, Output, RunRecord, series

PARAMS = ["learning_rate", "max_depth", "n_estimators", "subsample", "colsample_bytree", "min_child_weight",
          "gamma", "reg_alpha", "reg_lambda", "objective", "eval_metric", "random_state", "early_stopping_rounds",
          "tree_method", "class_weight"]
FINAL_METRICS = ["roc_auc", "accuracy", "f1"]
STEPPED_METRICS = ["train_loss", "valid_loss", "valid_auc"]


def synthetic_run(rng: random.Random, run_id: str, *, experiment: str, params: dict | None = None,
                  metrics: dict | None = None, dataset: tuple[str, str] | None = None) -> RunRecord:
    base = 1_700_000_000_000 + rng.randint(0, 10 ** 9)
    run_params = {key: str(rng.choice([0.01, 0.1, 3, 8, 200, "binary", "auc", 42, "hist"])) for key in PARAMS}
    run_params.update({k: str(v) for k, v in (params or {}).items()})
    run_metrics = {key: series([(0, round(rng.uniform(0.6, 0.99), 4), base)]) for key in FINAL_METRICS}
    run_metrics.update({key: series([(0, value, base)]) for key, value in (metrics or {}).items()})
    for key in STEPPED_METRICS:
        value = rng.uniform(0.3, 0.9)
        run_metrics[key] = series([(step, round(value * (0.99 ** step), 6), base + step * 1000) for step in range(50)])
    commit = "%040x" % rng.getrandbits(160)
    tags = {
        "mlflow.runName": f"run-{run_id[:8]}", "mlflow.user": "ci", "mlflow.source.type": "JOB",
        "mlflow.source.name": "train.py", "mlflow.source.git.commit": commit,
        "mlflow.source.git.repoURL": "https://git.example.com/ml/models", "mlflow.autologging": "sklearn",
        **{f"team.label_{i}": rng.choice(["risk", "growth", "search", "nightly"]) for i in range(13)},
    }
    name, digest = dataset or (f"table_{rng.randint(0, 99)}", "%032x" % rng.getrandbits(128))
    return RunRecord(
        source="mlflow", id=run_id, experiment=experiment, name=f"run-{run_id[:8]}", status="FINISHED",
        start_time="2024-01-01T00:00:00Z", end_time="2024-01-01T00:10:00Z", user="ci",
        params=run_params, metrics=run_metrics, tags=tags,
        inputs=(DatasetRef(name, namespace="delta_table", digest=digest, context="training",
                           source=f"s3://warehouse/{name}"),),
        outputs=(Output("model", "model", uri=f"models:/{experiment}/1", registered_name=experiment, version="1"),),
        code=CodeRef("https://git.example.com/ml/models", commit, "train.py"),
    )
