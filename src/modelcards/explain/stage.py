"""The explain stage: every card version's ``explainability`` block -> explanations and plots, or problems.

Cached results (explanations keyed by file contents, settings and SHAP version; plots keyed by the values they
show) are looked up here in the build's own process, which never imports SHAP or matplotlib for them. Only what
is missing is produced: in this process when it is one version, otherwise in worker processes, as many as the
machine has cores (or ``workers``), or on a Dask cluster (``explain_executor``). Workers get the files' bytes
and send results back; only the build's process writes the cache. A failure becomes a problem at the card line
of the block, naming the file.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterator

from modelcards.cards.schema import ComputeExplanation, EmbedExplanation
from modelcards.cards.yaml_source import KeyPath
from modelcards.catalog import Catalog
from modelcards.errors import EnvironmentProblem, ExplainError, Problem
from modelcards.explain.cache import ExplanationCache, embed_cache_key
from modelcards.explain.compute import ExplainInputs, Explanation, ExplainSettings, explain, read_inputs
from modelcards.explain.embed import EmbedSettings, embed
from modelcards.explain.plots import PlotCache, plot_key, render_plots
from modelcards.parallel import end_with

DASK_CONNECT_SECONDS = 30

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
    known: Explanation | None = None  # embedded, or cached with its plots missing: only to draw

    @property
    def label(self) -> str:
        return f"{self.model} {self.version}"


def explain_versions(catalog: Catalog, *, project_dir: Path, cache_dir: Path, workers: int = 0,
                     plots: str = "latest", executor: Executor | str | None = None,
                     progress: Progress | None = None, found_before: FoundBefore | None = None) -> Explained:
    """Explanations for every version with an ``explainability`` block, produced only where not cached.

    ``plots`` (one of plots.PLOT_CHOICES) says which versions also get shap's plots: drawing them is most of a cold
    build's explain time and most of an explained site's bytes, and a reader compares older versions through
    their importance tables and rank changes. ``executor`` is where the missing ones are produced: any
    ``concurrent.futures`` executor, a Dask scheduler's address, or None for local processes (see _executor).
    ``found_before``: a preview's, kept from its previous call. A version found in the cache then, with the same
    settings and files of the same sizes and modification times now, is taken from it without reading its model
    and data again; it is left holding this call's found versions.
    """
    explained = Explained()
    jobs: dict[tuple[str, str], _Job] = {}
    places: dict[tuple[str, str], tuple[object, KeyPath]] = {}

    def failed(key: tuple[str, str], message: str) -> None:
        document, key_path = places[key]
        settings = jobs[key].settings if key in jobs else None
        explained.problems.append(document.problem(key_path + _field_named_in(settings, message), message))

    before = dict(found_before or {})
    if found_before is not None:
        found_before.clear()
    blocks = {}
    for model in catalog.models.values():
        newest = next((v.version for v in model.versions_newest_first if v.explainability is not None), None)
        for index, version in enumerate(model.card.versions):
            block = version.explainability
            if block is None:
                continue
            key = (model.name, version.version)
            blocks[key] = block
            places[key] = (model.source.document, ("versions", index, "explainability", _mode(block)))
            plotted = plots == "all" or (plots == "latest" and version.version == newest)
            kept = before.get(key)
            try:
                # A preview's unchanged card holds the very block it had: its settings are the ones found then.
                settings = kept[0][0] if kept is not None and kept[2] is block \
                    else _settings(block.compute or block.embed)
                jobs[key] = _Job(model.name, version.version, settings, plotted)
            except ExplainError as exc:  # settings that contradict each other
                failed(key, str(exc))

    missing: list[tuple[str, str]] = []
    stamps: dict[object, tuple | None] = {}  # by settings: a catalog's versions often share their files
    # Versions naming the same files with the same settings (a model promoted unchanged, cards copied from a
    # template) share one read of them and one hash: each job holds its inputs until produced, and at 1,000
    # copies of a card with a 0.8 MB model, separate reads held 0.8 GB.
    read: dict[ExplainSettings, ExplainInputs] = {}
    for key, job in jobs.items():
        if found_before is not None and job.settings not in stamps:
            stamps[job.settings] = _files_stamp(job.settings, project_dir)
        identity = (job.settings, job.plotted, stamps[job.settings]) if found_before is not None else None
        kept = before.get(key)
        if kept is not None and kept[0] == identity and identity[2] is not None:
            found_before[key], explained.versions[key] = (identity, kept[1], blocks[key]), kept[1]
            continue
        try:
            inputs = None
            if isinstance(job.settings, ExplainSettings):
                inputs = read.get(job.settings)
                if inputs is None:
                    inputs = read[job.settings] = read_inputs(job.settings, project_dir)
            known = _known_explanation(job, inputs, project_dir, cache_dir)
            found = _cached_plots(job, known, cache_dir) if known is not None else None
        except ExplainError as exc:
            failed(key, str(exc))
            continue
        if found is None:
            # Kept only until produced: the inputs are the model and data bytes, the explanation its arrays.
            jobs[key] = replace(job, inputs=None if known is not None else inputs, known=known)
            missing.append(key)
        else:
            explained.versions[key] = found
            if found_before is not None and identity[2] is not None:
                found_before[key] = (identity, found, blocks[key])

    # Versions explained from the same bytes with the same settings (a model promoted unchanged, cards copied
    # from a template) share one piece of work: produced once, stored once, given to each.
    work: dict[tuple, list[tuple[str, str]]] = {}
    for key in missing:
        work.setdefault(_work_identity(jobs[key]), []).append(key)
    explained.produced = len(missing)
    if not missing:
        explained.versions = dict(sorted(explained.versions.items()))
        return explained
    with _executor(executor, len(work), workers) as (pool, where):
        if progress is not None:
            shared = len(missing) - len(work)
            progress(0, len(work), where + (f" ({shared} other version(s) have the same inputs and settings)"
                                           if shared else ""))
        futures = {pool.submit(produce, jobs[keys[0]], project_dir): keys for keys in work.values()}
        for done, future in enumerate(as_completed(futures), start=1):
            keys = futures[future]
            result = future.result()
            if isinstance(result, str):
                for key in keys:
                    failed(key, result)
            else:
                stored = _stored(jobs[keys[0]], *result, cache_dir)
                for key in keys:
                    explained.versions[key] = stored
            if progress is not None:
                progress(done, len(work), jobs[keys[0]].label)
    explained.versions = dict(sorted(explained.versions.items()))
    return explained


def _work_identity(job: _Job) -> tuple:
    """What decides a missing job's result: its cache key, or the plot keys of an explanation already known."""
    if job.known is not None:
        return ("plots", tuple(plot_key(job.known, output) for output in job.known.outputs))
    return ("explain", ExplanationCache.key(job.settings, job.inputs), job.plotted)


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


# (model, version) -> (settings, plotted, the files' stamp), the version as found in the cache
# (model, version) -> (settings, plotted, files' stamps), the explanation, the card's explainability block
FoundBefore = dict[tuple[str, str], tuple[tuple, "VersionExplanation", object]]


def _files_stamp(settings: ExplainSettings | EmbedSettings, project_dir: Path) -> tuple | None:
    """Each file (or file in a folder: an MLflow model directory) the settings name, with its size and modification
    time; None when one cannot be read, so that the version is looked up as usual and its problem reported."""
    stamp = []
    for item in fields(settings):
        path = getattr(settings, item.name)
        if not isinstance(path, Path):
            continue
        full = project_dir / path
        try:
            if full.is_dir():
                for folder, dirs, files in os.walk(full):
                    dirs.sort()
                    stamp.extend((folder, name, os.stat(os.path.join(folder, name)).st_size,
                                  os.stat(os.path.join(folder, name)).st_mtime_ns) for name in sorted(files))
            else:
                info = full.stat()
                stamp.append((str(full), info.st_size, info.st_mtime_ns))
        except OSError:
            return None
    return tuple(stamp)


def _known_explanation(job: _Job, inputs: ExplainInputs | None, project_dir: Path,
                       cache_dir: Path) -> Explanation | None:
    """The version's explanation without SHAP: embedded, or computed before and cached; else None.

    Embedded ones are cached too: reading their tables imports pandas, which a rebuild need not."""
    cache = ExplanationCache(cache_dir / "explanations")
    if inputs is not None:
        return cache.lookup(job.settings, inputs)
    key = embed_cache_key(job.settings, project_dir)
    known = cache.get(key) if key is not None else None
    if known is None:
        known = embed(job.settings, project_root=project_dir)
        if key is not None:
            cache.put(key, known)
    return known


def _cached_plots(job: _Job, explanation: Explanation, cache_dir: Path) -> VersionExplanation | None:
    """The version with its plots if none needs drawing (or it gets none); else None."""
    if explanation.values is None or not job.plotted:
        return VersionExplanation(_without_arrays(explanation), {})
    plot_cache = PlotCache(cache_dir / "plots")
    plots = {output: plot_cache.get(plot_key(explanation, output)) for output in explanation.outputs}
    if any(found is None for found in plots.values()):
        return None
    return VersionExplanation(_without_arrays(explanation), plots)


def produce(job: _Job, project_dir: Path) -> tuple[Explanation, Plots] | str:
    """Compute the job's explanation from the bytes it carries (or take the one it knows) and draw its plots.

    It reads and writes no file, so it runs in any executor's worker, a Dask cluster's on another machine
    included (``project_dir`` only names files in messages); the build's process stores what comes back. An
    error comes back as its message.
    """
    try:
        explanation = job.known or explain(job.settings, project_root=project_dir, inputs=job.inputs)
        plots = {output: render_plots(explanation, output) for output in explanation.outputs} if job.plotted else {}
    except ExplainError as exc:
        return str(exc)
    return explanation, {output: drawn for output, drawn in plots.items() if drawn}


def _stored(job: _Job, explanation: Explanation, plots: Plots, cache_dir: Path) -> VersionExplanation:
    """Put a produced explanation and its plots into the caches; the pages need neither's arrays."""
    if job.known is None and job.inputs is not None:
        ExplanationCache(cache_dir / "explanations").store(job.settings, job.inputs, explanation)
    plot_cache = PlotCache(cache_dir / "plots")
    for output, drawn in plots.items():
        plot_cache.put(plot_key(explanation, output), drawn)
    return VersionExplanation(_without_arrays(explanation), plots)


def _without_arrays(explanation: Explanation) -> Explanation:
    return replace(explanation, values=None, data=None)


@contextmanager
def _executor(executor: Executor | str | None, jobs: int, workers: int) -> Iterator[tuple[Executor, str]]:
    """The executor to produce ``jobs`` explanations with, and where it runs them (for the progress line).

    Given an executor, that one (the caller shuts it down). Given a Dask scheduler's address
    (``tcp://host:8786``), that cluster, through dask.distributed's client executor. Else up to ``workers``
    local processes (0: every core), one even for a single job: what the work imports (shap, numba, scikit-learn,
    matplotlib: about 150 MB) would otherwise sit in this process beside the catalog, making it the largest of
    a cold 1,000-model build, and stay there for as long as ``modelcards serve`` runs.
    """
    if isinstance(executor, Executor):
        yield executor, type(executor).__name__
    elif executor:
        client = _dask_client(executor)
        try:
            yield client.get_executor(), f"the Dask cluster at {executor}"
        finally:
            client.close()
    else:
        processes = max(1, min(jobs, workers or os.cpu_count() or 1))
        # "spawn": the build may run inside `mkdocs serve`, whose threads make forking unsafe.
        with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn"),
                                 initializer=end_with, initargs=(os.getpid(),)) as pool:
            yield pool, f"{processes} process" + ("es" if processes > 1 else "")


def _dask_client(address: str):
    try:
        from distributed import Client
    except ImportError:
        raise EnvironmentProblem(
            f"explain_executor: sending SHAP work to {address} needs dask.distributed; "
            "run `pip install 'mkdocs-modelcards[dask]'`") from None
    try:
        return Client(address, timeout=DASK_CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise EnvironmentProblem(f"explain_executor: found no Dask scheduler at {address} "
                                 f"within {DASK_CONNECT_SECONDS} s ({exc})") from None

