"""Global SHAP importance for one saved model on one data file.

The rows that are explained are chosen by one rule, so anyone can recompute them::

    rng = numpy.random.default_rng(seed)
    sample = sorted(rng.choice(rows, sample_size, replace=False)) if rows > sample_size else all rows
    background = sorted(rng.choice(rows, min(background_size, rows), replace=False))

The background is the second draw from the same generator, taken from all rows, and SHAP integrates over all
of it: left to itself, SHAP's tabular masker cuts a background of more than 100 rows down to 100 of its own
choosing, so the masker is built here with room for every row. ``background_rows`` is read back from the
explainer, so the provenance says what SHAP used. ``TreeExplainer`` is built without a background (SHAP's
default ``tree_path_dependent`` perturbation, which is exact for the trees and needs no reference data), so
its explanation reports ``background_rows == 0``. The card-format reference documents the same rule
(``ComputeExplanation`` in ``cards/schema.py``).

``shap``, ``numpy``, ``pandas`` and the model libraries are imported inside :func:`explain`, so importing this
module stays cheap; a cache hit never imports SHAP at all.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelcards.errors import EnvironmentProblem, ExplainError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

EXPLAINERS = ("auto", "tree", "linear", "permutation", "kernel")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
# Model libraries whose estimators TreeExplainer reads natively; recognised by module so they are not imported.
TREE_LIBRARIES = frozenset({"xgboost", "lightgbm", "catboost"})


@dataclass(frozen=True)
class ExplainSettings:
    """What to explain and how; paths are relative to the project root (or absolute inside it)."""

    model_path: Path
    data_path: Path
    features: tuple[str, ...] | None = None  # None: every column except the target
    target: str | None = None
    sample_size: int = 1000
    background_size: int = 100
    seed: int = 0
    explainer: str = "auto"
    trusted: bool = False  # allow pickle files and every type in a skops file
    # skops types beyond skops' own trust list that the card vouches for, e.g. sklearn.tree._tree.Tree, which
    # every tree model holds and skops does not trust: its node indices are not bounds-checked.
    trusted_types: tuple[str, ...] = ()
    output: str | None = None  # class label; None: the positive class of a binary classifier, every class otherwise

    def __post_init__(self) -> None:
        if self.explainer not in EXPLAINERS:
            raise ExplainError(f"explainer: found {self.explainer!r}, expected one of {', '.join(EXPLAINERS)}")
        for name in ("sample_size", "background_size"):
            if getattr(self, name) < 1:
                raise ExplainError(f"{name}: found {getattr(self, name)}, expected a positive number of rows")


@dataclass(frozen=True)
class Importance:
    """Mean absolute SHAP value of one feature for one output, with its rank and share of the total."""

    feature: str
    mean_abs: float
    rank: int
    share: float


@dataclass(frozen=True)
class Explanation:
    """Global importance per output, and where it came from.

    ``mode`` is ``compute`` (made here from a model and data) or ``embed`` (read from values or a summary
    computed elsewhere); for embedded explanations the fields nobody declared are None.
    """

    outputs: dict[str, list[Importance]]  # class label, or "value" for a single-output regressor
    base_values: dict[str, float]
    explainer: str | None
    shap_version: str | None
    model_sha256: str | None
    data_sha256: str | None
    features: tuple[str, ...]  # column order of ``values`` and ``data``
    rows_total: int | None
    rows_sampled: int | None
    background_rows: int | None
    seed: int | None
    mode: str = "compute"
    values_sha256: str | None = None  # embedded values or summary file
    source: str | None = None  # where embedded values came from, as the card says
    # rows × features × outputs (same order as ``outputs``), for plots.
    values: np.ndarray | None = field(default=None, compare=False, repr=False)
    # rows × features: the feature values of the explained rows, which colour the beeswarm plot.
    data: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def sampled(self) -> bool:
        """Fewer rows were explained than the data holds."""
        return self.rows_total is not None and self.rows_sampled is not None and self.rows_sampled < self.rows_total


def explain(settings: ExplainSettings, *, project_root: Path, inputs: ExplainInputs | None = None) -> Explanation:
    """Compute mean |SHAP| per feature for the model and data in ``settings``.

    ``inputs`` are the files as ``read_inputs`` read them (for a cache lookup, say); without, they are read
    here. The cache lives in ``explain/cache.py``, which asks this module, never the other way round.
    """
    root = project_root.resolve()
    inputs = inputs or read_inputs(settings, root)
    model_path, model_bytes, data_path, data_bytes = inputs.model_path, inputs.model, inputs.data_path, inputs.data
    model_sha256, data_sha256 = inputs.model_sha256, inputs.data_sha256

    shap = _import_shap()
    import numpy as np

    model = _load_model(model_path, model_bytes, settings.trusted, settings.trusted_types, root)
    frame = load_table(data_path, data_bytes, root)
    matrix = _feature_matrix(frame, model, settings, shown_path(data_path, root))
    sample, background = _sample(matrix, settings)
    kind = settings.explainer if settings.explainer != "auto" else _auto_explainer(model)
    explainer, values, base_values = _run_explainer(
        shap, kind, model, sample, background, settings.seed, shown_path(model_path, root)
    )
    background_used = _background_rows_used(explainer, kind)
    labels, columns, signs = _outputs(model, values.shape[2], settings.output, shown_path(model_path, root))
    values = values[:, :, columns] * np.asarray(signs)
    base_values = base_values[:, columns] * np.asarray(signs)
    features = tuple(str(c) for c in matrix.columns)

    explanation = Explanation(
        outputs={label: importances(features, values[:, :, i]) for i, label in enumerate(labels)},
        base_values={label: float(base_values[:, i].mean()) for i, label in enumerate(labels)},
        explainer=type(explainer).__name__,
        shap_version=shap.__version__,
        model_sha256=model_sha256,
        data_sha256=data_sha256,
        features=features,
        rows_total=len(matrix),
        rows_sampled=len(sample),
        background_rows=background_used,
        seed=settings.seed,
        values=values,
        data=sample.to_numpy(dtype=float),
    )
    return explanation


@dataclass(frozen=True)
class ExplainInputs:
    """The model and data files' bytes, which (with the settings) decide the result: read once, hashed once,
    and the bytes that were hashed are the bytes explained."""

    model_path: Path
    model: bytes
    data_path: Path
    data: bytes

    @cached_property
    def model_sha256(self) -> str:
        return hashlib.sha256(self.model).hexdigest()

    @cached_property
    def data_sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_inputs(settings: ExplainSettings, project_root: Path) -> ExplainInputs:
    """The files ``settings`` names, inside ``project_root``; never imports SHAP."""
    root = project_root.resolve()
    model_path = _model_file(inside_root(settings.model_path, root), root)
    data_path = inside_root(settings.data_path, root)
    return ExplainInputs(model_path, read_file(model_path, root), data_path, read_file(data_path, root))


def shown_path(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def inside_root(path: Path, root: Path) -> Path:
    resolved = (root / path).resolve()
    if not resolved.is_relative_to(root):
        raise ExplainError(f"{path}: the file is outside the project root {root}")
    return resolved


def read_file(path: Path, root: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ExplainError(f"{shown_path(path, root)}: file not found") from None
    except OSError as exc:
        raise ExplainError(f"{shown_path(path, root)}: cannot be read: {exc.strerror}") from None


def _model_file(path: Path, root: Path) -> Path:
    """The model file itself; an MLflow model directory names it in its ``MLmodel`` file."""
    if not path.is_dir():
        return path
    shown = shown_path(path, root)
    from ..cards.yaml_source import parse_yaml  # capped like every YAML file a user hands over

    try:
        text = (path / "MLmodel").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExplainError(f"{shown}: found a directory without an MLmodel file, expected a model file "
                           "or an MLflow model directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExplainError(f"{shown}/MLmodel: cannot be read: {exc}") from None
    document, problems = parse_yaml(text, f"{shown}/MLmodel")
    if document is None:
        first = problems[0]
        raise ExplainError(f"{shown}/MLmodel:{first.line}:{first.col}: cannot be read: {first.message}")
    mlmodel = document.data
    flavor = mlmodel.get("flavors", {}).get("sklearn") if isinstance(mlmodel, dict) else None
    name = flavor.get("pickled_model") if isinstance(flavor, dict) else None
    if not isinstance(name, str):
        raise ExplainError(f"{shown}/MLmodel: found no sklearn flavor with a pickled_model file; "
                           "modelcards explains scikit-learn models saved by mlflow.sklearn")
    # The file must stay inside the model directory, whatever MLmodel says.
    return inside_root(path / name, path)


def _import_shap() -> Any:
    try:
        import shap
    except ImportError as exc:
        raise EnvironmentProblem(f"computing explanations needs SHAP ({exc}); run `pip install shap`") from None
    return shap


def _load_model(path: Path, data: bytes, trusted: bool, trusted_types: tuple[str, ...], root: Path) -> Any:
    shown = shown_path(path, root)
    suffix = path.suffix.lower()
    if suffix == ".skops":
        try:
            import skops.io as sio
        except ImportError:
            raise EnvironmentProblem(f"{shown}: loading .skops models needs skops; run `pip install skops`") from None
        found = sio.get_untrusted_types(data=data)
        untrusted = [name for name in found if name not in trusted_types]
        if untrusted and not trusted:
            raise ExplainError(
                f"{shown}: the model holds types skops does not trust by default: {', '.join(untrusted)}; "
                "list the ones you have reviewed under `trusted_types:`, or mark the card `trusted: true` "
                "if you trust whoever saved it"
            )
        try:
            return sio.loads(data, trusted=found)
        except Exception as exc:
            raise ExplainError(f"{shown}: skops could not load the model: {exc!r}") from None
    if suffix in PICKLE_SUFFIXES:
        if not trusted:
            raise ExplainError(
                f"{shown}: pickle files run code when they are loaded; mark the card `trusted: true` "
                "if you trust whoever saved it, or save the model with skops"
            )
        import joblib

        try:
            return joblib.load(io.BytesIO(data))
        except Exception as exc:
            raise ExplainError(f"{shown}: the model could not be unpickled: {exc!r}") from None
    raise ExplainError(f"{shown}: found a {suffix or 'suffix-less'} file, expected .skops, .pkl, .pickle or .joblib")


def load_table(path: Path, data: bytes, root: Path) -> pd.DataFrame:
    import pandas as pd

    shown = shown_path(path, root)
    suffix = path.suffix.lower()
    readers = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}
    if suffix not in readers:
        raise ExplainError(f"{shown}: found a {suffix or 'suffix-less'} file, expected .csv or .parquet")
    try:
        frame = readers[suffix](io.BytesIO(data))
    except Exception as exc:
        raise ExplainError(f"{shown}: the data could not be read: {exc!r}") from None
    if frame.empty:
        raise ExplainError(f"{shown}: the data has no rows")
    return frame


def _feature_matrix(frame: pd.DataFrame, model: Any, settings: ExplainSettings, shown: str) -> pd.DataFrame:
    """The feature columns in the order the model was fitted with."""
    from pandas.api.types import is_numeric_dtype

    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis="columns")
    if settings.target is not None and settings.target not in columns:
        raise ExplainError(f"{shown}: target column {settings.target!r} is not in the data")
    if settings.features is not None:
        chosen = list(settings.features)
    else:
        chosen = [c for c in columns if c != settings.target]
    absent = [c for c in chosen if c not in columns]
    if absent:
        raise ExplainError(f"{shown}: features not in the data: {', '.join(absent)}")

    fitted = getattr(model, "feature_names_in_", None)
    if fitted is not None:
        expected = [str(c) for c in fitted]
        missing = [c for c in expected if c not in chosen]
        extra = [c for c in chosen if c not in expected]
        if missing or extra:
            found = [f"missing {', '.join(missing)}" if missing else "", f"extra {', '.join(extra)}" if extra else ""]
            raise ExplainError(
                f"{shown}: the columns do not match the model's features: {'; '.join(f for f in found if f)}"
            )
        chosen = expected
    else:
        expected_count = getattr(model, "n_features_in_", None)
        if expected_count is not None and expected_count != len(chosen):
            raise ExplainError(f"{shown}: found {len(chosen)} feature columns, the model expects {expected_count}")

    non_numeric = [c for c in chosen if not is_numeric_dtype(frame[c])]
    if non_numeric:
        raise ExplainError(f"{shown}: non-numeric feature columns: {', '.join(non_numeric)}")
    return frame[chosen]


def _sample(matrix: pd.DataFrame, settings: ExplainSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows to explain and the background rows, by the rule in the module docstring."""
    import numpy as np

    rows = len(matrix)
    rng = np.random.default_rng(settings.seed)
    if rows > settings.sample_size:
        sample_rows = np.sort(rng.choice(rows, size=settings.sample_size, replace=False))
    else:
        sample_rows = np.arange(rows)
    background_rows = np.sort(rng.choice(rows, size=min(settings.background_size, rows), replace=False))
    return matrix.iloc[sample_rows], matrix.iloc[background_rows]


def _auto_explainer(model: Any) -> str:
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.tree import BaseDecisionTree

    module = type(model).__module__
    trees = (
        BaseDecisionTree,
        RandomForestClassifier,
        RandomForestRegressor,
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        GradientBoostingClassifier,
        GradientBoostingRegressor,
    )
    if isinstance(model, trees) or module.split(".")[0] in TREE_LIBRARIES:
        return "tree"
    # A Pipeline is not linear even when its last step is: the permutation explainer sees the whole pipeline.
    if module.startswith("sklearn.linear_model") and hasattr(model, "coef_"):
        return "linear"
    return "permutation"


def _run_explainer(
    shap: Any, kind: str, model: Any, sample: pd.DataFrame, background: pd.DataFrame, seed: int, shown: str
) -> tuple[Any, np.ndarray, np.ndarray]:
    """The explainer used, SHAP values as rows × features × outputs, and base values as rows × outputs."""
    import numpy as np
    import pandas as pd

    features = list(sample.columns)
    predict = model.predict_proba if _is_classifier(model) and hasattr(model, "predict_proba") else model.predict

    def on_frame(rows: Any) -> Any:
        # SHAP passes plain arrays; the model was fitted with column names.
        return predict(pd.DataFrame(rows, columns=features))

    names = {"tree": "TreeExplainer", "linear": "LinearExplainer",
             "permutation": "PermutationExplainer", "kernel": "KernelExplainer"}
    # Given the rows themselves, the explainers wrap them in shap.maskers.Independent, which keeps at most
    # max_samples (100 by default) of them, drawn by SHAP; sized to the background, it keeps them all.
    def whole(rows: pd.DataFrame) -> Any:
        return shap.maskers.Independent(rows, max_samples=len(rows))

    try:
        if kind == "tree":
            explainer = shap.TreeExplainer(model)
            result = explainer(sample)
        elif kind == "linear":
            explainer = shap.LinearExplainer(model, whole(background))
            result = explainer(sample)
        elif kind == "permutation":
            explainer = shap.PermutationExplainer(on_frame, whole(background), seed=seed)
            result = explainer(sample, max_evals=max(500, 2 * len(features) + 1), silent=True)
        else:
            explainer = shap.KernelExplainer(on_frame, background)
            # KernelExplainer draws from numpy's global generator; seed it and put it back afterwards.
            state = np.random.get_state()
            np.random.seed(seed)
            try:
                result = explainer(sample, silent=True)
            finally:
                np.random.set_state(state)
    except Exception as exc:
        raise ExplainError(f"{shown}: {names[kind]} cannot explain {type(model).__name__}: {exc!r}") from None

    values = np.asarray(result.values, dtype=float)
    base_values = np.asarray(result.base_values, dtype=float)
    if values.ndim == 2:
        values = values[:, :, np.newaxis]
    if base_values.ndim == 1:
        base_values = base_values[:, np.newaxis]
    return explainer, values, base_values


def _background_rows_used(explainer: Any, kind: str) -> int:
    """How many background rows SHAP integrated over, as the explainer holds them; 0 for path-dependent trees."""
    if kind == "tree":
        return 0
    if kind == "kernel":
        return int(explainer.data.data.shape[0])  # KernelExplainer keeps the rows it was given, uncut
    return int(explainer.masker.data.shape[0])


def _is_classifier(model: Any) -> bool:
    from sklearn.base import is_classifier

    return is_classifier(model) or hasattr(model, "classes_")


def _outputs(model: Any, count: int, output: str | None, shown: str) -> tuple[list[str], list[int], list[float]]:
    """Label, column in the SHAP values and sign of each output to report."""
    if not _is_classifier(model):
        if output is not None:
            raise ExplainError(f"{shown}: output {output!r} is set but {type(model).__name__} is not a classifier")
        if count == 1:
            return ["value"], [0], [1.0]
        return [f"output {i}" for i in range(count)], list(range(count)), [1.0] * count

    classes = [str(c) for c in model.classes_]
    if output is not None and output not in classes:
        raise ExplainError(f"{shown}: output {output!r} is not one of the model's classes: {', '.join(classes)}")
    class_index = classes.index(output) if output is not None else None
    if count == len(classes):
        if class_index is not None:
            chosen = [class_index]
        else:
            chosen = [1] if len(classes) == 2 else list(range(len(classes)))
        return [classes[i] for i in chosen], chosen, [1.0] * len(chosen)
    if count == 1 and len(classes) == 2:
        # One margin for the positive class (e.g. LinearExplainer's log-odds); class 0's margin is its negative.
        index = 1 if class_index is None else class_index
        return [classes[index]], [0], [1.0 if index == 1 else -1.0]
    raise ExplainError(f"{shown}: SHAP returned {count} outputs for {len(classes)} classes")


def importances(features: tuple[str, ...], values: np.ndarray) -> list[Importance]:
    """Mean |SHAP| of each feature over the rows of ``values`` (rows × features), ranked."""
    import numpy as np

    return ranked_importances(features, [float(x) for x in np.abs(values).mean(axis=0)])


def ranked_importances(features: tuple[str, ...], mean_abs: list[float]) -> list[Importance]:
    """Rank features by mean |SHAP|, largest first (ties by name), with each one's share of the total."""
    total = sum(mean_abs)
    order = sorted(range(len(features)), key=lambda i: (-mean_abs[i], features[i]))
    return [
        Importance(
            feature=features[i],
            mean_abs=mean_abs[i],
            rank=rank,
            share=mean_abs[i] / total if total else 0.0,
        )
        for rank, i in enumerate(order, start=1)
    ]
