"""The explain stage: every card version's ``explainability`` block -> explanations and plots, or problems.

Cached results (explanations keyed by file contents, settings and SHAP version; plots keyed by the values they
show) are looked up here in the build's own process, which never imports SHAP or matplotlib for them. Only what
is missing is produced: in this process when it is one version, otherwise in worker processes, as many as the
machine has cores (or ``workers``). A failure becomes a problem at the card line of the block, naming the file.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

from modelcards.cards.schema import ComputeExplanation, EmbedExplanation
from modelcards.cards.yaml_source import KeyPath
from modelcards.catalog import Catalog
from modelcards.errors import ExplainError, Problem
from modelcards.explain.cache import ExplanationCache
from modelcards.explain.compute import ExplainInputs, Explanation, ExplainSettings, read_inputs
from modelcards.explain.embed import EmbedSettings, embed
from modelcards.explain.plots import PlotCache, plot_key, plots_for

# done, total, what was just finished: lets the CLI draw a progress bar and the plugin log. Called first with
# done 0, when the work starts; the label then says how many processes share it ("2 processes").
Progress = Callable[[int, int, str], None]
Plots = dict[str, dict[str, str]]  # output label -> plot kind ("beeswarm") -> SVG


@dataclass(frozen=True)
class VersionExplanation:
    explanation: Explanation
    plots: Plots


@dataclass
class Explained:
    versions: dict[tuple[str, str], VersionExplanation] = field(default_factory=dict)  # by (model, version)
    problems: list[Problem] = field(default_factory=list)
    produced: int = 0  # versions that needed computing or plotting; 0 on a rebuild with nothing changed


@dataclass(frozen=True)
class _Job:
    model: str
    version: str
    settings: ExplainSettings | EmbedSettings
    plotted: bool = True  # whether shap's plots are drawn for it (see plots.PLOT_CHOICES)
    # To compute: the files, read and hashed once for the cache lookup, then explained as they were read.
    inputs: ExplainInputs | None = None

    @property
    def label(self) -> str:
        return f"{self.model} {self.version}"


def explain_versions(catalog: Catalog, *, project_dir: Path, cache_dir: Path, workers: int = 0,
                     plots: str = "latest", progress: Progress | None = None) -> Explained:
    """Explanations for every version with an ``explainability`` block, produced only where not cached.

    ``plots`` (one of plots.PLOT_CHOICES) says which versions also get shap's plots: drawing them is most of a cold
    build's explain time and most of an explained site's bytes, and a reader compares older versions through
    their importance tables and rank changes.
    """
    explained = Explained()
    jobs: dict[tuple[str, str], _Job] = {}
    places: dict[tuple[str, str], tuple[object, KeyPath]] = {}

    def failed(key: tuple[str, str], message: str) -> None:
        document, key_path = places[key]
        settings = jobs[key].settings if key in jobs else None
        explained.problems.append(document.problem(key_path + _field_named_in(settings, message), message))

    for model in catalog.models.values():
        newest = next((v.version for v in model.versions_newest_first if v.explainability is not None), None)
        for index, version in enumerate(model.card.versions):
            block = version.explainability
            if block is None:
                continue
            key = (model.name, version.version)
            places[key] = (model.source.document, ("versions", index, "explainability", _mode(block)))
            plotted = plots == "all" or (plots == "latest" and version.version == newest)
            try:
                jobs[key] = _Job(model.name, version.version, _settings(block.compute or block.embed), plotted)
            except ExplainError as exc:  # settings that contradict each other
                failed(key, str(exc))

    missing: list[tuple[str, str]] = []
    for key, job in jobs.items():
        try:
            inputs = read_inputs(job.settings, project_dir) if isinstance(job.settings, ExplainSettings) else None
            found = _cached(job, inputs, project_dir, cache_dir)
        except ExplainError as exc:
            failed(key, str(exc))
            continue
        if found is None:
            jobs[key] = replace(job, inputs=inputs)  # kept only until computed: the bytes are the model and data
            missing.append(key)
        else:
            explained.versions[key] = found

    explained.produced = len(missing)
    processes = _processes(len(missing), workers)
    if missing and progress is not None:
        progress(0, len(missing), f"{processes} process{'es' if processes > 1 else ''}")
    produced = _produce_all({key: jobs[key] for key in missing}, project_dir, cache_dir, processes)
    for done, (key, result) in enumerate(produced, start=1):
        if isinstance(result, str):
            failed(key, result)
        else:
            explained.versions[key] = result
        if progress is not None:
            progress(done, len(missing), jobs[key].label)
    explained.versions = dict(sorted(explained.versions.items()))
    return explained


def _mode(block) -> str:
    return "compute" if block.compute is not None else "embed"


def _settings(block: ComputeExplanation | EmbedExplanation) -> ExplainSettings | EmbedSettings:
    if isinstance(block, ComputeExplanation):
        return ExplainSettings(
            model_path=Path(block.model), data_path=Path(block.data),
            features=tuple(block.features) if block.features is not None else None, target=block.target,
            sample_size=block.sample_size, background_size=block.background_size, seed=block.seed,
            explainer=block.explainer, trusted=block.trusted, trusted_types=tuple(block.trusted_types),
            output=block.output,
        )
    return EmbedSettings(
        values_path=Path(block.values) if block.values else None,
        summary_path=Path(block.summary) if block.summary else None,
        importance=dict(block.importance) if block.importance is not None else None,
        features=tuple(block.features) if block.features is not None else None,
        data_path=Path(block.data) if block.data else None,
        outputs=tuple(block.outputs) if block.outputs is not None else None,
        base_value=block.base_value, explainer=block.explainer, shap_version=block.shap_version,
        source=block.source,
    )


def _field_named_in(settings: ExplainSettings | EmbedSettings | None, message: str) -> KeyPath:
    """The block's key whose file the message is about, so the problem points at that line."""
    names = {"model_path": "model", "data_path": "data", "values_path": "values", "summary_path": "summary"}
    for attribute, key in names.items():
        path = getattr(settings, attribute, None)
        if path is not None and message.startswith(Path(path).as_posix()):
            return (key,)
    return ()


def _cached(job: _Job, inputs: ExplainInputs | None, project_dir: Path, cache_dir: Path) -> VersionExplanation | None:
    """The version's explanation and plots if nothing needs SHAP or matplotlib; else None."""
    if inputs is not None:
        explanation = ExplanationCache(cache_dir / "explanations").lookup(job.settings, inputs)
        if explanation is None:
            return None
    else:
        explanation = embed(job.settings, project_root=project_dir)
    if explanation.values is None or not job.plotted:
        return VersionExplanation(explanation, {})
    plot_cache = PlotCache(cache_dir / "plots")
    plots = {output: plot_cache.get(plot_key(explanation, output)) for output in explanation.outputs}
    if any(found is None for found in plots.values()):
        return None
    return VersionExplanation(explanation, plots)


def _produce(job: _Job, project_dir: Path, cache_dir: Path) -> VersionExplanation | str:
    """Compute (or read) the explanation and draw its plots, storing both; an error comes back as its message."""
    try:
        if job.inputs is not None:
            explanation = ExplanationCache(cache_dir / "explanations").explain(job.settings, job.inputs,
                                                                               project_root=project_dir)
        else:
            explanation = embed(job.settings, project_root=project_dir)
        plots = {}
        if job.plotted:
            plot_cache = PlotCache(cache_dir / "plots")
            plots = {output: plots_for(explanation, output, plot_cache) for output in explanation.outputs}
    except ExplainError as exc:
        return str(exc)
    # Workers send results back pickled; the arrays are already in the cache and the pages do not need them.
    return VersionExplanation(replace(explanation, values=None, data=None), {k: v for k, v in plots.items() if v})


def _processes(jobs: int, workers: int) -> int:
    """How many processes produce ``jobs`` explanations: ``workers`` (0: every core), never more than the jobs;
    one means this process."""
    return max(1, min(jobs, workers or os.cpu_count() or 1))


def _produce_all(jobs: dict[tuple[str, str], _Job], project_dir: Path, cache_dir: Path, processes: int):
    """Yield ``(key, result)`` as each job finishes."""
    if processes <= 1:
        for key, job in jobs.items():
            yield key, _produce(job, project_dir, cache_dir)
        return
    # "spawn": the build may run inside `mkdocs serve`, whose threads make forking unsafe.
    with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_produce, job, project_dir, cache_dir): key for key, job in jobs.items()}
        for future in as_completed(futures):
            yield futures[future], future.result()
