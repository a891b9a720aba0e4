#!/usr/bin/env python3
"""Write the files the example cards' `explainability` blocks read, into artifacts/.

    python scripts/explain_examples.py          # (re)write artifacts/
    python scripts/explain_examples.py --check  # exit 1 if a file differs from what it would write

Two modes are shown:

- compute: the breast-cancer and wine models are saved with skops (artifacts/models/), with each version's
  held-out test rows as CSV (artifacts/data/); modelcards computes their SHAP values when it builds the site.
- embed: the diabetes models' SHAP values are computed here, the way a training job would, and saved as
  .npy plus the explained rows' feature values (artifacts/shap/); modelcards shows them as they are.

Models come from scripts/train_examples.py (same data, split, settings and seeds as the cards).

``--check`` gives the same answer on any CPU. Fitting a model and computing SHAP values is floating-point
arithmetic whose last bits change with the CPU and the BLAS library, so those files are compared by value:
SHAP values (``.npy``) must agree within ``TOLERANCE``, and a model (``.skops``) must predict the same class
probabilities (or values) for its version's held-out rows within ``TOLERANCE``. The CSV files hold the data
sets' own numbers and must be equal byte for byte.
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_examples as examples  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# Absolute, plus as much again relative to the size of the expected number (numpy.allclose's rule).
TOLERANCE = 1e-9
COMPUTED = {("breast-cancer-classifier", "1.0.0"), ("breast-cancer-classifier", "1.1.0"),
            ("breast-cancer-classifier", "1.2.0"), ("wine-cultivar-classifier", "1.1.0")}
EMBEDDED = {("diabetes-progression-regressor", "1.1.0"), ("diabetes-progression-regressor", "1.2.0")}


def held_out_csv(data: examples.DataVersion) -> str:
    """The version's held-out rows: one column per feature, then the target."""
    names = [data.table.features[c] for c in data.columns]
    lines = [",".join([*names, data.table.target])]
    for values, label in zip(data.X[data.test], data.y[data.test]):
        lines.append(",".join([*(repr(float(v)) for v in values), examples._label_text(label)]))
    return "\n".join(lines) + "\n"


def artifacts() -> dict[Path, bytes]:
    """Every file, by path under artifacts/."""
    import pandas as pd
    import shap
    import skops.io as sio

    files: dict[Path, bytes] = {}
    for release in examples.RELEASES:
        key = (release.model, release.version)
        if key not in COMPUTED | EMBEDDED:
            continue
        data = examples.data_versions()[release.data]
        model, _ = examples.fit(release)
        names = [data.table.features[c] for c in data.columns]
        if key in COMPUTED:
            files[Path("models", release.model, f"{release.version}.skops")] = _skops_bytes(sio, model, names)
            files[Path("data", release.data[0], f"v{release.data[1]}-test.csv")] = held_out_csv(data).encode()
            continue
        # Embedded: what a training job would save next to its model.
        X_train = pd.DataFrame(data.X[~data.test], columns=names)
        X_test = pd.DataFrame(data.X[data.test], columns=names)
        if release.params["estimator"] == "Ridge":
            explainer = shap.LinearExplainer(model, X_train)
        else:
            explainer = shap.TreeExplainer(model)
        values = np.asarray(explainer(X_test).values, dtype=float)
        folder = Path("shap", release.model, release.version)
        files[folder / "values.npy"] = _npy_bytes(values)
        files[folder / "rows.csv"] = X_test.to_csv(index=False).encode()
    return dict(sorted(files.items()))


def _skops_bytes(sio, model, names: list[str]) -> bytes:
    # Fitted on arrays; naming the features lets the build check the data file's columns against the model.
    # A pipeline reports its first step's names.
    first = model.steps[0][1] if hasattr(model, "steps") else model
    first.feature_names_in_ = np.asarray(names, dtype=object)
    return _fixed_dates(sio.dumps(model))


def _fixed_dates(archive: bytes) -> bytes:
    """The skops zip with every entry dated 1980-01-01 and compressed, so the same model gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(entry), compresslevel=9)
    return out.getvalue()


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def differences(wanted: dict[Path, bytes], folder: Path = ARTIFACTS) -> list[str]:
    """One line per file in ``folder`` that differs from what would be written, by the rules in the docstring."""
    found = []
    for path, content in wanted.items():
        committed = folder / path
        if not committed.is_file():
            found.append(f"artifacts/{path}: missing; run python scripts/explain_examples.py")
        elif path.suffix == ".npy":
            found += _compared(path, "SHAP values", np.load(committed, allow_pickle=False),
                               np.load(io.BytesIO(content), allow_pickle=False))
        elif path.suffix == ".skops":
            # skops names its arrays after object ids, so a model never saves to the same bytes twice anyway.
            rows = _held_out_rows(path)
            found += _compared(path, "predictions on the held-out rows", _predictions(committed.read_bytes(), rows),
                               _predictions(content, rows))
        elif committed.read_bytes() != content:
            found.append(f"artifacts/{path}: differs from what scripts/explain_examples.py writes")
    return found


def _compared(path: Path, what: str, committed: np.ndarray, computed: np.ndarray) -> list[str]:
    if committed.shape != computed.shape:
        return [f"artifacts/{path}: {what} have shape {committed.shape}, computed {computed.shape}"]
    if np.allclose(committed, computed, rtol=TOLERANCE, atol=TOLERANCE):
        return []
    gap = float(np.max(np.abs(committed - computed)))
    return [f"artifacts/{path}: {what} differ from what scripts/explain_examples.py computes by up to {gap:.3g} "
            f"(tolerance {TOLERANCE:g})"]


def _held_out_rows(model_path: Path) -> np.ndarray:
    """The test rows of the data the version at ``models/<model>/<version>.skops`` was trained on."""
    _, model, _ = model_path.parts
    release = next(r for r in examples.RELEASES if (r.model, r.version) == (model, model_path.stem))
    data = examples.data_versions()[release.data]
    return data.X[data.test]


def _predictions(skops_file: bytes, rows: np.ndarray) -> np.ndarray:
    import skops.io as sio

    import pandas as pd

    model = sio.loads(skops_file, trusted=sio.get_untrusted_types(data=skops_file))
    # The model names its features (see _skops_bytes); the held-out rows hold them in that order.
    frame = pd.DataFrame(rows, columns=model.feature_names_in_)
    return model.predict_proba(frame) if hasattr(model, "predict_proba") else model.predict(frame)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if artifacts/ differs from what would be written")
    args = parser.parse_args(argv)
    wanted = artifacts()
    if args.check:
        differ = differences(wanted)
        for line in differ:
            print(line)
        return 1 if differ else 0
    for path, content in wanted.items():
        target = ARTIFACTS / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    print(f"wrote {len(wanted)} file(s) to {ARTIFACTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
