#!/usr/bin/env python3
"""The stages of the wine example's DVC pipeline, run by ``dvc repro`` as ``python stages.py STAGE``.

    prepare   data/wine.csv: dataset wine-cultivars version 2 as its canonical CSV (md5 = the card's digest)
    split     data/train.csv, data/test.csv: its rows on each side of the table's fixed test split
    train     model/model.skops, metrics.json and predictions.csv: release wine-cultivar-classifier 1.1.0,
              with the settings in params.yaml, and what it predicts for each held-out row

The data, the split and the recipe are those of scripts/train_examples.py, so the files and numbers
here are the ones the wine cards list.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "scripts"))
import train_examples as recipe  # noqa: E402  (a script, not a package: found through the path above)

MODEL = "wine-cultivar-classifier"
RELEASE = next(r for r in recipe.RELEASES if (r.model, r.version) == (MODEL, "1.1.0"))
TABLE = RELEASE.data[0]

WINE_CSV = HERE / "data" / "wine.csv"
TRAIN_CSV = HERE / "data" / "train.csv"
TEST_CSV = HERE / "data" / "test.csv"
PARAMS = HERE / "params.yaml"
MODEL_FILE = HERE / "model" / "model.skops"
METRICS = HERE / "metrics.json"
PREDICTIONS = HERE / "predictions.csv"


def prepare() -> None:
    _write(WINE_CSV, recipe.data_versions()[RELEASE.data].canonical_csv())


def split() -> None:
    """Each row goes where the table's fixed split puts it, whatever other rows the file holds."""
    header, *rows = WINE_CSV.read_text(encoding="utf-8").splitlines()
    is_test = recipe.tables()[TABLE].is_test
    sides: dict[bool, list[str]] = {False: [header], True: [header]}
    for line in rows:
        sides[bool(is_test[int(line.partition(",")[0])])].append(line)
    _write(TRAIN_CSV, "\n".join(sides[False]) + "\n")
    _write(TEST_CSV, "\n".join(sides[True]) + "\n")


def train() -> None:
    settings = {**RELEASE.params, **yaml.safe_load(PARAMS.read_text(encoding="utf-8"))}
    _, X_train, y_train = _read_table(TRAIN_CSV)
    rows, X_test, y_test = _read_table(TEST_CSV)
    model = recipe._estimator(settings).fit(X_train, y_train)
    predicted, scores = recipe.predict(model, settings, X_test)
    MODEL_FILE.parent.mkdir(parents=True, exist_ok=True)
    MODEL_FILE.write_bytes(_reproducible_skops(model))
    _check_loads_back(model, X_test)
    _write(METRICS, json.dumps(recipe.metrics_for(MODEL, y_test, predicted, scores), indent=2) + "\n")
    _write(PREDICTIONS, _predictions_csv(model, rows, X_test, y_test))


def _predictions_csv(model: Any, rows: list[str], X: np.ndarray, y: np.ndarray) -> str:
    """One line per held-out row: its index, the true and the predicted cultivar, each cultivar's probability.

    The model file's bytes (and so its md5 in dvc.lock) change with the CPU and BLAS that fitted it in the
    last bits of its floats; this file is what `scripts/dvc_example.py --check` compares, within a tolerance.
    """
    probabilities = model.predict_proba(X)
    header = ["row", "actual", "predicted", *(f"probability_{label}" for label in model.classes_)]
    lines = [",".join(header)]
    for row, actual, predicted, chances in zip(rows, y, model.predict(X), probabilities):
        lines.append(",".join([row, str(int(actual)), str(int(predicted)), *(repr(float(p)) for p in chances)]))
    return "\n".join(lines) + "\n"


def _read_table(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Row indices, features and targets of a canonical CSV (``row,<features>,<target>``); floats read back
    exactly."""
    rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    X = np.array([[float(value) for value in row[1:-1]] for row in rows])
    y = np.array([int(row[-1]) for row in rows], dtype=np.int64)
    return [row[0] for row in rows], X, y


def _reproducible_skops(model: Any) -> bytes:
    """skops's file, made the same byte for byte on every run on one machine, so dvc.lock's md5 for it is stable
    there (another CPU or BLAS may fit floats that differ in their last bits).

    skops names array files and shared-object keys after ``id(obj)`` and stamps zip entries with the
    current time; ids are renumbered in order of first appearance and every entry gets one fixed date.
    """
    import skops.io

    original = zipfile.ZipFile(io.BytesIO(skops.io.dumps(model)))
    numbers: dict[int, int] = {}

    def number(old: int) -> int:
        return numbers.setdefault(old, len(numbers))

    def renumber(node: Any) -> Any:
        if isinstance(node, list):
            return [renumber(item) for item in node]
        if not isinstance(node, dict):
            return node
        return {key: number(value) if key == "__id__"
                else f"{number(int(value.removesuffix('.npy')))}.npy" if key == "file"
                else renumber(value)
                for key, value in node.items()}

    schema = renumber(json.loads(original.read("schema.json")))
    arrays = {f"{number(int(info.filename.removesuffix('.npy')))}.npy": original.read(info)
              for info in original.infolist() if info.filename != "schema.json"}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as renumbered:
        for name, content in [*sorted(arrays.items()), ("schema.json", json.dumps(schema, indent=2).encode())]:
            renumbered.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content)
    return out.getvalue()


def _check_loads_back(model: Any, X: np.ndarray) -> None:
    # The renumbering rewrites skops's format by hand: fail the stage rather than publish a file that
    # loads as something else.
    import skops.io

    loaded = skops.io.load(MODEL_FILE, trusted=skops.io.get_untrusted_types(file=MODEL_FILE))
    if not np.array_equal(loaded.predict_proba(X), model.predict_proba(X)):
        raise SystemExit(f"{MODEL_FILE.relative_to(HERE)} does not load back as the model that was trained")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))  # bytes: the md5 must not depend on the platform's line ends


STAGES = {"prepare": prepare, "split": split, "train": train}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in STAGES:
        sys.exit(f"usage: python {Path(__file__).name} {'|'.join(STAGES)}")
    STAGES[sys.argv[1]]()
