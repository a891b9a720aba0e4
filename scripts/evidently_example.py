"""Make the example's Evidently monitoring snapshots with real Evidently.

Run with Evidently 0.7.23, pandas 2.3.3 and scikit-learn in a throwaway environment (Evidently is about 1 GB
and does not import with pandas 3, so modelcards never depends on it):

    python3 -m venv /tmp/evv && /tmp/evv/bin/pip install 'evidently==0.7.23' 'pandas==2.3.3' scikit-learn
    /tmp/evv/bin/python scripts/evidently_example.py [OUT_DIR]

It trains the breast-cancer classifier's 1.2.0 recipe (z-scored logistic regression, decision threshold 0.1,
the example's 25% stratified split with seed 42), takes the held-out rows as the reference window, and
scores two production windows drawn from the same rows: May 2026 as they are, and June 2026 with the size
measurements of every sample scaled up by 35% (a changed imaging setup). Each window is one
``Report([DataDriftPreset(), ClassificationPreset()], metadata=...)`` run, saved with ``save_json`` and
``save_html``. The metadata ties the snapshot to its deployment: model, version and environment.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import evidently
from evidently import BinaryClassification, DataDefinition, Dataset, Report
from evidently.presets import ClassificationPreset, DataDriftPreset

EVIDENTLY_VERSION = "0.7.23"
MODEL, VERSION, ENVIRONMENT = "breast-cancer-classifier", "1.2.0", "production"
THRESHOLD = 0.1
SIZE_COLUMNS = ("mean radius", "mean perimeter", "mean area", "worst radius", "worst perimeter", "worst area",
                "radius error", "perimeter error", "area error")
WINDOWS = (("2026-05", dt.datetime(2026, 5, 31, 23, 0), 1.0), ("2026-06", dt.datetime(2026, 6, 30, 23, 0), 1.35))


def main(out_dir: Path) -> None:
    if evidently.__version__ != EVIDENTLY_VERSION:
        sys.exit(f"expected Evidently {EVIDENTLY_VERSION}, found {evidently.__version__}")
    data = load_breast_cancer(as_frame=True)
    features, target = data.data, data.target
    train_x, test_x, train_y, test_y = train_test_split(features, target, test_size=0.25, stratify=target,
                                                        random_state=42)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)).fit(train_x, train_y)
    # scikit-learn's target says 1 = benign; the card's positive class is malignant.
    reference = _scored(model, test_x, 1 - test_y)
    rng = np.random.default_rng(7)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, when, scale in WINDOWS:
        rows = rng.choice(len(test_x), size=len(test_x), replace=True)
        window_x = test_x.iloc[rows].reset_index(drop=True).copy()
        window_y = (1 - test_y.iloc[rows]).reset_index(drop=True)
        for column in SIZE_COLUMNS:
            window_x[column] = window_x[column] * scale
        current = _scored(model, window_x, window_y)
        report = Report([DataDriftPreset(), ClassificationPreset()],
                        metadata={"model": MODEL, "version": VERSION, "environment": ENVIRONMENT,
                                  "window": name})
        snapshot = report.run(current_data=_dataset(current), reference_data=_dataset(reference), timestamp=when)
        snapshot.save_json(str(out_dir / f"{name}.json"))
        snapshot.save_html(str(out_dir / f"{name}.html"))
    (out_dir / "EVIDENTLY_VERSION").write_text(
        f"Made by scripts/evidently_example.py with Evidently {EVIDENTLY_VERSION}, pandas {pd.__version__}\n")


def _scored(model, features: pd.DataFrame, malignant: pd.Series) -> pd.DataFrame:
    score = 1 - model.predict_proba(features)[:, 1]
    frame = features.reset_index(drop=True).copy()
    frame["target"] = malignant.reset_index(drop=True).astype(int)
    frame["prediction"] = (score >= THRESHOLD).astype(int)
    return frame


def _dataset(frame: pd.DataFrame) -> Dataset:
    columns = [c for c in frame.columns if c not in ("target", "prediction")]
    definition = DataDefinition(numerical_columns=columns,
                                classification=[BinaryClassification(target="target", prediction_labels="prediction")])
    return Dataset.from_pandas(frame, data_definition=definition)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("monitoring/breast-cancer-classifier"))
