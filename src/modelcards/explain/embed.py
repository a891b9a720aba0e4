"""SHAP explanations computed elsewhere: per-row values, a summary table, or a summary written in the card.

Each card gives exactly one source. Per-row values (``.npy``, ``.csv``, ``.parquet``) are ranked by the same
function as computed explanations, so a page looks the same whichever way its numbers arrived; a summary of
mean |SHAP| per feature is ranked by the same rule without the rows.

``numpy`` and ``pandas`` are imported inside the functions that read files; SHAP is never imported here.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections import Counter
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelcards.errors import ExplainError
from modelcards.explain.compute import (
    Explanation,
    Importance,
    importances,
    inside_root,
    load_table,
    ranked_importances,
    read_file,
    shown_path,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SOURCES = ("values_path", "summary_path", "importance")
SINGLE_OUTPUT = "value"  # the label of the one output of 2-D values or a summary, as for a computed regressor
NPY_MAGIC = b"\x93NUMPY"


@dataclass(frozen=True)
class EmbedSettings:
    """Where embedded SHAP numbers are and what whoever computed them declared; paths as in ExplainSettings."""

    values_path: Path | None = None  # per-row SHAP values: .npy, .csv or .parquet
    summary_path: Path | None = None  # mean |SHAP| per feature: columns feature, mean_abs_shap and maybe output
    importance: dict[str, float] | None = None  # the same summary written in the card, feature: mean |SHAP|
    features: tuple[str, ...] | None = None  # required for .npy; otherwise chooses and orders columns
    data_path: Path | None = None  # feature values of the same rows (.csv, .parquet or .npy), for plot colours
    outputs: tuple[str, ...] | None = None  # labels of the third axis of 3-D values, or of a single output
    base_value: float | dict[str, float] | None = None  # one number for one output, else per output label
    explainer: str | None = None
    shap_version: str | None = None
    source: str | None = None  # where the values came from, free text such as "scripts/train.py"

    def __post_init__(self) -> None:
        given = [name for name in SOURCES if getattr(self, name) is not None]
        if len(given) != 1:
            found = " and ".join(given) if given else "none of them"
            raise ExplainError(f"found {found}, expected exactly one of values_path, summary_path or importance")
        if self.data_path is not None and self.values_path is None:
            raise ExplainError(
                f"data_path: found it beside {given[0]}, expected values_path: "
                "the data colours per-row values, and a summary has no rows"
            )
        for name in ("features", "outputs"):
            repeated = _repeated(getattr(self, name) or ())
            if repeated:
                raise ExplainError(f"{name}: found {', '.join(repeated)} more than once, expected each name once")


def embed(settings: EmbedSettings, *, project_root: Path) -> Explanation:
    """Check embedded SHAP values or a summary and rank them into an :class:`Explanation` with mode ``embed``."""
    root = project_root.resolve()
    values = data = None
    values_sha256 = data_sha256 = None
    if settings.importance is not None:
        where = "importance"
        features, outputs = _ranked_summary({_single_label(settings.outputs, where): settings.importance},
                                            settings.features, where)
    else:
        path = inside_root(settings.values_path or settings.summary_path, root)
        content = read_file(path, root)
        values_sha256 = hashlib.sha256(content).hexdigest()
        where = shown_path(path, root)
        if settings.values_path is not None:
            values, features, labels = _values(path, content, settings, root)
            outputs = {label: importances(features, values[:, :, i]) for i, label in enumerate(labels)}
            if settings.data_path is not None:
                data, data_sha256 = _data(settings.data_path, features, len(values), where, root)
        else:
            groups = _summary_groups(load_table(path, content, root), settings.outputs, where)
            features, outputs = _ranked_summary(groups, settings.features, where)

    rows = None if values is None else len(values)
    return Explanation(
        outputs=outputs,
        base_values=_base_values(settings.base_value, list(outputs), where),
        explainer=settings.explainer,
        shap_version=settings.shap_version,
        model_sha256=None,
        data_sha256=data_sha256,
        features=features,
        rows_total=rows,
        rows_sampled=rows,
        background_rows=None,
        seed=None,
        mode="embed",
        values_sha256=values_sha256,
        source=settings.source,
        values=values,
        data=data,
    )


def _values(
    path: Path, content: bytes, settings: EmbedSettings, root: Path
) -> tuple[np.ndarray, tuple[str, ...], list[str]]:
    """SHAP values as rows × features × outputs, the feature names and the output labels."""
    import numpy as np

    shown = shown_path(path, root)
    loaded = _load_matrix(path, content, root)
    if isinstance(loaded, np.ndarray):
        if loaded.ndim not in (2, 3):
            raise ExplainError(
                f"{shown}: found a {loaded.ndim}-D array of shape {loaded.shape}, "
                "expected rows × features or rows × features × outputs"
            )
        if settings.features is None:
            raise ExplainError(f"{shown}: a .npy file has no feature names, expected them listed under features")
        if loaded.shape[1] != len(settings.features):
            raise ExplainError(
                f"{shown}: found {loaded.shape[1]} features on the array's second axis (shape {loaded.shape}), "
                f"expected {len(settings.features)} as listed under features"
            )
        features = settings.features
        values = loaded.astype(float)
    else:
        frame = _feature_columns(loaded, settings.features, shown)
        features = tuple(frame.columns)
        values = frame.to_numpy(dtype=float)

    if values.shape[0] == 0:
        raise ExplainError(f"{shown}: the values have no rows")
    if values.ndim == 3:
        labels = _axis_labels(values.shape[2], settings.outputs, shown)
    else:
        labels = [_single_label(settings.outputs, shown)]
        values = values[:, :, np.newaxis]

    finite = np.isfinite(values)
    if not finite.all():
        nan = int(np.isnan(values).sum())
        infinite = int((~finite).sum()) - nan
        where = [features[i] for i in np.flatnonzero(~finite.all(axis=(0, 2)))]
        raise ExplainError(
            f"{shown}: found {nan} NaN and {infinite} infinite value(s) in {', '.join(where)}, "
            "expected finite numbers"
        )
    return values, features, labels


def _data(path: Path, features: tuple[str, ...], rows: int, values_shown: str, root: Path) -> tuple[np.ndarray, str]:
    """The explained rows' feature values, in the order of ``features``, and the file's SHA-256."""
    import numpy as np

    path = inside_root(path, root)
    content = read_file(path, root)
    shown = shown_path(path, root)
    loaded = _load_matrix(path, content, root)
    if isinstance(loaded, np.ndarray):
        if loaded.ndim != 2 or loaded.shape[1] != len(features):
            raise ExplainError(
                f"{shown}: found an array of shape {loaded.shape}, "
                f"expected rows × {len(features)} features like {values_shown}"
            )
        data = loaded.astype(float)
    else:
        data = _feature_columns(loaded, features, shown).to_numpy(dtype=float)
    if len(data) != rows:
        raise ExplainError(f"{shown}: found {len(data)} rows, expected {rows} like {values_shown}")
    return data, hashlib.sha256(content).hexdigest()


def _load_matrix(path: Path, content: bytes, root: Path) -> np.ndarray | pd.DataFrame:
    """A numeric array from .npy (never unpickled), or a table from .csv or .parquet."""
    import numpy as np

    shown = shown_path(path, root)
    suffix = path.suffix.lower()
    if suffix != ".npy":
        if suffix not in (".csv", ".parquet", ".pq"):
            raise ExplainError(f"{shown}: found a {suffix or 'suffix-less'} file, expected .npy, .csv or .parquet")
        return load_table(path, content, root)
    if not content.startswith(NPY_MAGIC):
        raise ExplainError(f"{shown}: found no .npy header, expected an array saved with numpy.save")
    try:
        array = np.load(io.BytesIO(content), allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise ExplainError(
                f"{shown}: the array holds Python objects, which load only by unpickling (and so may run code); "
                "expected numbers, e.g. saved with numpy.save(path, values.astype(float))"
            ) from None
        raise ExplainError(f"{shown}: numpy could not load the array: {exc!r}") from None
    except Exception as exc:
        raise ExplainError(f"{shown}: numpy could not load the array: {exc!r}") from None
    if array.dtype.kind not in "biuf":
        raise ExplainError(f"{shown}: found an array of {array.dtype}, expected numbers")
    return array


def _feature_columns(frame: pd.DataFrame, features: tuple[str, ...] | None, shown: str) -> pd.DataFrame:
    """The numeric feature columns: those named in ``features``, else every column."""
    from pandas.api.types import is_numeric_dtype

    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis="columns")
    if features is None:
        unnamed = [c for c in columns if c.startswith("Unnamed: ")]
        if unnamed:
            raise ExplainError(
                f"{shown}: found columns without a header ({', '.join(unnamed)}; a saved index?), "
                "expected a feature name on every column"
            )
        features = tuple(columns)
    absent = [c for c in features if c not in columns]
    if absent:
        raise ExplainError(f"{shown}: features not in the data: {', '.join(absent)}")
    non_numeric = [c for c in features if not is_numeric_dtype(frame[c])]
    if non_numeric:
        raise ExplainError(f"{shown}: non-numeric feature columns: {', '.join(non_numeric)}")
    return frame[list(features)]


def _summary_groups(frame: pd.DataFrame, declared: tuple[str, ...] | None, shown: str) -> dict[str, dict[str, Any]]:
    """Mean |SHAP| per feature for each output label of a summary table; values not yet checked."""
    import pandas as pd

    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis="columns")
    if "feature" not in columns or "mean_abs_shap" not in columns:
        raise ExplainError(
            f"{shown}: found columns {', '.join(columns)}, expected feature, mean_abs_shap and optionally output"
        )
    numbers = pd.to_numeric(frame["mean_abs_shap"], errors="coerce")
    # Text that is not a number is kept as it was, so the error can show it.
    means = numbers.astype(object).where(numbers.notna() | frame["mean_abs_shap"].isna(), frame["mean_abs_shap"])
    features = frame["feature"].astype(str)

    if "output" not in columns:
        keys = list(features)
        labels = [_single_label(declared, shown)]
        rows = [(labels[0], feature, mean) for feature, mean in zip(features, means)]
    else:
        outputs = frame["output"].astype(str)
        keys = [f"{feature} (output {label})" for feature, label in zip(features, outputs)]
        labels = list(dict.fromkeys(outputs))
        if declared is not None:
            if sorted(declared) != sorted(labels):
                raise ExplainError(
                    f"{shown}: outputs lists {', '.join(declared)}, "
                    f"expected the labels in the output column: {', '.join(labels)}"
                )
            labels = list(declared)
        rows = list(zip(outputs, features, means))

    repeated = _repeated(keys)
    if repeated:
        raise ExplainError(f"{shown}: found {', '.join(repeated)} more than once, expected one row per feature")
    groups: dict[str, dict[str, Any]] = {label: {} for label in labels}
    for label, feature, mean in rows:
        groups[label][feature] = mean
    return groups


def _ranked_summary(
    groups: dict[str, dict[str, Any]], features: tuple[str, ...] | None, where: str
) -> tuple[tuple[str, ...], dict[str, list[Importance]]]:
    """Check mean |SHAP| per feature for each output and rank it like computed values."""
    named = list(dict.fromkeys(feature for group in groups.values() for feature in group))
    if not named:
        raise ExplainError(f"{where}: found no features, expected mean |SHAP| for each feature")
    for label, group in groups.items():
        lacking = [feature for feature in named if feature not in group]
        if lacking:
            raise ExplainError(
                f"{where}: output {label} lacks {', '.join(lacking)}, expected every output to list the same features"
            )
    several = len(groups) > 1
    bad = [
        f"{feature}{f' (output {label})' if several else ''} = {_shown_value(mean)}"
        for label, group in groups.items()
        for feature, mean in group.items()
        if not _non_negative_number(mean)
    ]
    if bad:
        raise ExplainError(f"{where}: found {', '.join(bad)}, expected mean |SHAP| as finite numbers ≥ 0")
    if features is not None:
        absent = [feature for feature in features if feature not in named]
        if absent:
            raise ExplainError(f"{where}: features not in the data: {', '.join(absent)}")
        named = list(features)
    chosen = tuple(named)
    return chosen, {
        label: ranked_importances(chosen, [float(group[feature]) for feature in chosen])
        for label, group in groups.items()
    }


def _base_values(declared: float | dict[str, float] | None, labels: list[str], where: str) -> dict[str, float]:
    if declared is None:
        return {}
    if isinstance(declared, dict):
        given = {str(label): value for label, value in declared.items()}
        unknown = [label for label in given if label not in labels]
        if unknown:
            raise ExplainError(
                f"base_value: found output label(s) {', '.join(unknown)}, "
                f"expected the outputs of {where}: {', '.join(labels)}"
            )
    elif len(labels) == 1:
        given = {labels[0]: declared}
    else:
        raise ExplainError(
            f"base_value: found one number for the {len(labels)} outputs of {where}, "
            f"expected one per output label: {', '.join(labels)}"
        )
    bad = [f"{label} = {_shown_value(value)}" for label, value in given.items() if not _number(value)]
    if bad:
        raise ExplainError(f"base_value: found {', '.join(bad)}, expected finite numbers")
    return {label: float(given[label]) for label in labels if label in given}


def _axis_labels(count: int, declared: tuple[str, ...] | None, shown: str) -> list[str]:
    if declared is None:
        return [f"output {i}" for i in range(count)]
    if len(declared) != count:
        raise ExplainError(
            f"{shown}: found {count} outputs on the array's third axis, outputs lists {len(declared)} labels"
        )
    return list(declared)


def _single_label(declared: tuple[str, ...] | None, where: str) -> str:
    if declared is None:
        return SINGLE_OUTPUT
    if len(declared) != 1:
        raise ExplainError(f"{where}: found values for one output, outputs lists {len(declared)} labels")
    return declared[0]


def _number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _non_negative_number(value: object) -> bool:
    return _number(value) and value >= 0


def _shown_value(value: object) -> str:
    """Numbers as they read (``-0.5``, ``nan``), anything else quoted so text stands out."""
    return str(value) if isinstance(value, Real) else repr(value)


def _repeated(names: Any) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]
