"""What a model page shows about its versions' explanations, and the plot and CSV files beside it."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

from markupsafe import Markup

from ..catalog import ModelEntry
from ..compare import RankChange, rank_changes
from ..explain.compute import Explanation, Importance
from ..explain.stage import VersionExplanation
from .paths import explanation_folder, plot_file
from .plots import importance_bars

TABLE_ROWS = 20  # features listed on the page; the CSV has them all


@dataclass(frozen=True)
class OutputView:
    label: str  # class label, or "value"
    importances: list[Importance]  # the first TABLE_ROWS
    hidden: int  # features left out of the table
    base_value: float | None
    bars: Markup  # the listed features' mean |SHAP| as the page's own SVG
    plots: dict[str, str]  # shap's plots: kind -> file path in the site


@dataclass(frozen=True)
class ExplanationView:
    explanation: Explanation
    outputs: list[OutputView]
    csv_path: str
    compared_with: str | None  # the older version the rank changes are measured against
    rank_changes: dict[str, list[RankChange]]  # by output label


@dataclass(frozen=True)
class ExplanationFile:
    path: str
    content: str


def explanation_views(model: ModelEntry, explained: dict[tuple[str, str], VersionExplanation], prefix: str,
                      compared_with: Mapping[str, str] | None = None,
                      ) -> tuple[dict[str, ExplanationView], list[ExplanationFile]]:
    """The view of each explained version (by label), and the SVG and CSV files the views link to; a plot
    shared by several versions is listed for each.

    Rank changes are measured against the version ``compared_with`` names for it (the model page's comparison,
    e.g. the version it replaced in production) when that one is explained, else the explained version before it.
    """
    views: dict[str, ExplanationView] = {}
    files: list[ExplanationFile] = []
    older: tuple[str, Explanation] | None = None
    compared_with = compared_with or {}
    for version in model.versions_newest_first[::-1]:
        found = explained.get((model.name, version.version))
        if found is None:
            continue
        explanation = found.explanation
        folder = prefix + explanation_folder(model.name, version.version)
        outputs = []
        for label, ranked in explanation.outputs.items():
            plots = {}
            for kind, svg in sorted(found.plots.get(label, {}).items()):
                path = prefix + plot_file(kind, svg)
                files.append(ExplanationFile(path, svg))
                plots[kind] = path
            listed = ranked[:TABLE_ROWS]
            title = "Mean abs. SHAP" + (f", class {label}" if len(explanation.outputs) > 1 else "")
            bars = importance_bars(f"{title}, version {version.version}",
                                   [(item.feature, item.mean_abs) for item in listed])
            outputs.append(OutputView(label, listed, max(0, len(ranked) - TABLE_ROWS),
                                      explanation.base_values.get(label), bars, plots))
        csv_path = f"{folder}/importance.csv"
        files.append(ExplanationFile(csv_path, importance_csv(explanation)))
        changes = {}
        chosen = compared_with.get(version.version)
        against = (chosen, views[chosen].explanation) if chosen in views else older
        if against is not None:
            changes = {label: rank_changes(against[1].outputs[label], ranked)
                       for label, ranked in explanation.outputs.items() if label in against[1].outputs}
        views[version.version] = ExplanationView(explanation, outputs, csv_path,
                                                 against[0] if against else None, changes)
        older = (version.version, explanation)
    return views, files


def importance_csv(explanation: Explanation) -> str:
    """Every feature's mean |SHAP| at full precision: ``output,rank,feature,mean_abs_shap,share``.

    The csv module's standard dialect (RFC 4180, CRLF line ends), so a feature name with a comma, a quote or a
    line break stays one field in every reader.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["output", "rank", "feature", "mean_abs_shap", "share"])
    for label, ranked in explanation.outputs.items():
        for item in ranked:
            writer.writerow([_defused(label), item.rank, _defused(item.feature), repr(item.mean_abs),
                             repr(item.share)])
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@")


def _defused(text: str) -> str:
    """Text a spreadsheet shows as the text it is: a leading formula sign is not a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text
