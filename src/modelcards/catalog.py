"""Validated cards -> one joined catalog of models, datasets and tags.

Checks that span fields or cards (unique names, deployments of known versions,
references to known datasets and metrics) live here, in one place.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property

from .cards.loader import LoadedCard
from .cards.schema import DatasetCard, DataRef, Deployment, ModelCard, Version, card_json
from .cards.yaml_source import KeyPath
from .errors import Problem
from .governance import (VersionStatus, approvals_before_release, authors_from_git, authors_from_runs, merged_authors,
                         self_approvals, version_states)
from .history import Commit
from .linking import RunLink
from .sources.record import RunRecord


@dataclass(frozen=True)
class DatasetUse:
    """One model version reading one dataset (version)."""

    model: str
    model_version: str | None
    dataset_version: str | None
    digest: str | None
    role: str


@dataclass(frozen=True)
class Rollbacks:
    """The rollbacks in a card's deployment log, as ``version_states`` finds them, by index in ``deployments``."""

    undone_by: dict[int, Deployment]  # deployments[i] ran its version until this deployment rolled it back
    rolls_back: dict[int, str]  # deployments[i] rolled back this version


@dataclass
class ModelEntry:
    card: ModelCard  # versions filled in from their runs
    source: LoadedCard
    run_links: dict[str, RunLink] = field(default_factory=dict)  # by version label

    @property
    def name(self) -> str:
        return self.card.name

    # The derived views below are kept once asked for (a card is never changed once in an entry): the pages,
    # policy, exports and lineage ask for each thousands of times in a thousand-model catalog.
    @cached_property
    def versions_newest_first(self) -> tuple[Version, ...]:
        indexed = list(enumerate(self.card.versions))
        return tuple(v for _, v in sorted(indexed, key=lambda iv: (iv[1].date, iv[0]), reverse=True))

    @property
    def latest_version(self) -> Version | None:
        newest = self.versions_newest_first
        return newest[0] if newest else None

    @cached_property
    def card_json(self) -> str:
        """The card as its catalog JSON download holds it, which its exports also derive their ids from."""
        return card_json(self.card)

    @cached_property  # the policy, the pages, the exports and the crosswalk each ask for it
    def states(self) -> dict[str, VersionStatus]:
        """Each version's derived state (draft ... retired), by version label."""
        return version_states(self.card)

    @property
    def rollbacks(self) -> Rollbacks:
        deployments = self.card.deployments
        # The states hold the card's own deployment objects; equal ones (a redeploy) are told apart by identity.
        index_of = {id(deployment): index for index, deployment in enumerate(deployments)}
        undone_by: dict[int, Deployment] = {}
        rolls_back: dict[int, str] = {}
        for label, status in self.states.items():
            for rollback in status.rolled_back:
                by = index_of[id(rollback)]
                # The deployment it ended: the version's last one in that environment before it.
                _, undone = max((d.date, i) for i, d in enumerate(deployments) if d.version == label
                                and d.environment == rollback.environment and (d.date, i) < (rollback.date, by))
                undone_by[undone] = rollback
                rolls_back[by] = label
        return Rollbacks(undone_by, rolls_back)

    @property
    def last_deployment(self):
        indexed = list(enumerate(self.card.deployments))
        return max(indexed, key=lambda iv: (iv[1].date, iv[0]))[1] if indexed else None

    @cached_property
    def current_deployments(self) -> tuple:
        """The newest deployment in each environment, i.e. what runs where now."""
        newest: dict[str, tuple] = {}
        for index, deployment in enumerate(self.card.deployments):
            key = (deployment.date, index)
            if deployment.environment not in newest or key > newest[deployment.environment][0]:
                newest[deployment.environment] = (key, deployment)
        return tuple(newest[env][1] for env in sorted(newest))

    def dataset_names(self) -> list[str]:
        names = [*self.card.training_data.datasets, *self.card.evaluation_data.datasets]
        names += [ref.dataset for version in self.card.versions for ref in version.data]
        return sorted(set(names))


def keep_states(models: dict[str, ModelEntry], before: dict[str, ModelEntry]) -> None:
    """Give each model whose card is the very card of its entry in ``before`` (a preview's previous save) what
    was derived there from the card alone: its version states (deriving them for every model again was a
    twentieth of a save at 1,000 models) and its JSON (which every model's downloads need again when a dataset
    card they all read is saved)."""
    for name, model in models.items():
        kept = before.get(name)
        if kept is not None and kept.card is model.card:
            for derived in ("states", "card_json"):
                if derived in kept.__dict__:  # where a cached property keeps its value
                    model.__dict__[derived] = kept.__dict__[derived]


@dataclass
class DatasetEntry:
    name: str
    card: DatasetCard | None  # None: referenced by a model card but never declared
    source: LoadedCard | None
    uses: list[DatasetUse] = field(default_factory=list)

    @property
    def title(self) -> str:
        return (self.card.title if self.card and self.card.title else None) or self.name

    @property
    def models(self) -> list[str]:
        return sorted({use.model for use in self.uses})

    @cached_property
    def card_json(self) -> str | None:
        """The card as the catalog JSON download of each model that reads the dataset holds it, which their
        exports also derive their ids from."""
        return card_json(self.card) if self.card is not None else None

    def uses_by(self, models: Collection[str]) -> list[DatasetUse]:
        """The uses by ``models``, in the order of ``uses``. Each model's download asks this of its datasets, so
        it is found through an index: scanning every use of a dataset that 1,000 models read, once per model,
        was a tenth of a preview's save after that dataset card's edit."""
        index = self.__dict__.get("_uses_by_model")
        if index is None or index[0] != len(self.uses):  # made again when a use was added since
            by_model: dict[str, list[int]] = {}
            for position, use in enumerate(self.uses):
                by_model.setdefault(use.model, []).append(position)
            index = self.__dict__["_uses_by_model"] = (len(self.uses), by_model)
        return [self.uses[position] for position in sorted(position for model in set(models)
                                                             for position in index[1].get(model, ()))]


@dataclass
class TagEntry:
    name: str
    models: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TrialOf:
    """Where a tuning trial is listed: its parent run's page, else its experiment's."""

    parent: str | None  # the ref of its parent run, when the catalog has that run
    source: str
    experiment: str


@dataclass
class RunEntry:
    record: RunRecord
    model_versions: list[tuple[str, str]] = field(default_factory=list)  # (model, version) it produced
    upstream: dict[int, list[str]] = field(default_factory=dict)  # input index -> refs of runs that wrote it
    trial_of: TrialOf | None = None  # set for a tuning trial, which is summarised rather than given a page
    trials: list[str] = field(default_factory=list)  # refs of the trials summarised on this run's page

    @property
    def ref(self) -> str:
        return self.record.ref


@dataclass
class Catalog:
    models: dict[str, ModelEntry]
    datasets: dict[str, DatasetEntry]
    tags: dict[str, TagEntry]
    problems: list[Problem]
    runs: dict[str, RunEntry] = field(default_factory=dict)
    # (source, experiment) -> refs of the trials without a parent run, summarised on the experiment's page
    experiments: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def build_catalog(loaded: list[LoadedCard], *, runs: dict[str, RunRecord] | None = None,
                  links: dict[tuple[str, str], RunLink] | None = None,
                  added_by: dict[str, dict[str, Commit]] | None = None, summarise_trials: bool = True) -> Catalog:
    """Join cards (and runs, linked to versions) into a catalog; run every check that needs more than one field.

    ``added_by`` is, per card file, the commit that added each version (from git), for separation of duties.
    With ``summarise_trials``, tuning trials are marked to be listed on their parent's or experiment's page.
    """
    problems: list[Problem] = []
    models: dict[str, ModelEntry] = {}
    datasets: dict[str, DatasetEntry] = {}
    for item in loaded:
        card = item.card
        table: dict = models if isinstance(card, ModelCard) else datasets
        if card.name in table:
            first = table[card.name].source
            line, col = first.document.position(("name",))
            kind = "model" if isinstance(card, ModelCard) else "dataset"
            problems.append(item.document.problem(
                ("name",), f"duplicate {kind} name '{card.name}': also defined at {first.path}:{line}:{col}; "
                "names must be unique across cards",
            ))
            continue
        if isinstance(card, ModelCard):
            models[card.name] = ModelEntry(card, item)
        else:
            datasets[card.name] = DatasetEntry(card.name, card, item)

    for entry in models.values():
        problems += _check_model(entry, datasets)
        problems += approvals_before_release(entry.card, entry.source.document)

    tags = tag_index(models, datasets)

    run_entries = _run_entries(runs or {})
    for (model, version), link in sorted((links or {}).items()):
        if model in models:
            models[model].run_links[version] = link
            run_entries[link.run.ref].model_versions.append((model, version))
    experiments = _mark_trials(run_entries) if summarise_trials else {}
    for entry in models.values():
        run_users = {label: (link.run.ref, link.run.user) for label, link in entry.run_links.items()}
        authors = merged_authors(authors_from_runs(run_users),
                                 authors_from_git((added_by or {}).get(entry.source.path, {})))
        problems += self_approvals(entry.card, entry.source.document, authors)

    return Catalog(
        models=dict(sorted(models.items())),
        datasets=dict(sorted(datasets.items())),
        tags=dict(sorted(tags.items())),
        problems=problems,
        runs=run_entries,
        experiments=experiments,
    )


def tag_index(models: dict[str, ModelEntry], datasets: dict[str, DatasetEntry]) -> dict[str, TagEntry]:
    """Each tag with the models and datasets whose cards carry it, in the cards' order."""
    tags: dict[str, TagEntry] = {}
    for entry in models.values():
        for tag in entry.card.tags:
            tags.setdefault(tag, TagEntry(tag)).models.append(entry.name)
    for dataset in datasets.values():
        for tag in dataset.card.tags if dataset.card else []:
            tags.setdefault(tag, TagEntry(tag)).datasets.append(dataset.name)
    return tags


def _run_entries(runs: dict[str, RunRecord]) -> dict[str, RunEntry]:
    """Index runs, and link each input to the runs that wrote the same dataset (a DVC stage chain, say)."""
    writers: dict[tuple, list[str]] = {}
    for ref, record in sorted(runs.items()):
        for out in record.outputs:
            for key in _dataset_keys(out.namespace, out.name, out.digest):
                writers.setdefault(key, []).append(ref)
    entries = {}
    for ref, record in sorted(runs.items()):
        entry = RunEntry(record)
        for index, ref_in in enumerate(record.inputs):
            found = sorted({w for key in _dataset_keys(ref_in.namespace, ref_in.name, ref_in.digest)
                            for w in writers.get(key, ()) if w != ref})
            if found:
                entry.upstream[index] = found
        entries[ref] = entry
    return entries


# The tag by which a tracker names a run's parent: MLflow's nested runs (a tuning sweep and its trials).
PARENT_TAG = "mlflow.parentRunId"
# Sources whose runs are experiments' trials when nothing references them; a DVC stage or an OpenLineage job
# run is a pipeline step, which keeps its page.
TRIAL_SOURCES = frozenset({"mlflow"})


def _mark_trials(entries: dict[str, RunEntry]) -> dict[tuple[str, str], list[str]]:
    """Mark tuning trials; returns the trials listed on experiment pages, by (source, experiment).

    A run keeps its page when it produced a card's version, wrote data (read by another run, or a dataset
    output), or has trials of its own. Any other run with a parent run in the catalog is a trial of that run;
    any other MLflow run is a trial of its experiment.
    """
    wrote_data = {ref for entry in entries.values() for refs in entry.upstream.values() for ref in refs}
    parents: dict[str, str] = {}
    for ref, entry in entries.items():
        parent_id = entry.record.tags.get(PARENT_TAG)
        parent = f"{entry.record.source}:{parent_id}" if parent_id else None
        if parent in entries and parent != ref:
            parents[ref] = parent
    has_trials = set(parents.values())
    experiments: dict[tuple[str, str], list[str]] = {}
    for ref, entry in entries.items():
        record = entry.record
        if (entry.model_versions or ref in wrote_data or ref in has_trials
                or any(out.kind == "dataset" for out in record.outputs)):
            continue
        parent = parents.get(ref)
        if parent is not None:
            entry.trial_of = TrialOf(parent, record.source, record.experiment or "")
            entries[parent].trials.append(ref)
        elif record.source in TRIAL_SOURCES and record.experiment:
            entry.trial_of = TrialOf(None, record.source, record.experiment)
            experiments.setdefault((record.source, record.experiment), []).append(ref)
    return dict(sorted(experiments.items()))


def _dataset_keys(namespace: str | None, name: str, digest: str | None) -> list[tuple]:
    # The same data seen as (namespace, name) or, across sources, by content digest.
    keys: list[tuple] = [("name", namespace, name)]
    if digest:
        keys.append(("digest", digest))
    return keys


def _check_model(entry: ModelEntry, datasets: dict[str, DatasetEntry]) -> list[Problem]:
    card, doc = entry.card, entry.source.document
    problems: list[Problem] = []

    def warn(key_path: KeyPath, message: str) -> None:
        problems.append(doc.problem(key_path, message, severity="warning"))

    versions = [v.version for v in card.versions]
    seen: dict[str, int] = {}
    for index, label in enumerate(versions):
        if label in seen:
            problems.append(doc.problem(
                ("versions", index, "version"),
                f"duplicate version '{label}' (first at versions[{seen[label]}]); version labels must be unique",
            ))
        seen.setdefault(label, index)

    for index, deployment in enumerate(card.deployments):
        for key in ("version", "rollback_of"):
            label = getattr(deployment, key)
            if label is not None and label not in seen:
                problems.append(doc.problem(("deployments", index, key), _unknown_version(label, versions)))

    dates = {v.version: v.date for v in card.versions}
    for index, item in enumerate(card.feedback):
        if item.version not in seen:
            problems.append(doc.problem(("feedback", index, "version"), _unknown_version(item.version, versions)))
        if item.resolved_by is not None:
            if item.resolved_by not in seen:
                problems.append(doc.problem(("feedback", index, "resolved_by"),
                                            _unknown_version(item.resolved_by, versions)))
            elif item.version in dates and dates[item.resolved_by] < dates[item.version]:
                problems.append(doc.problem(("feedback", index, "resolved_by"), (
                    f"found version '{item.resolved_by}' of {dates[item.resolved_by]}, which is older than the "
                    f"affected version '{item.version}' of {dates[item.version]}; expected a later version")))

    declared_metrics = [m.name for m in card.metrics]
    if declared_metrics:
        for v_index, version in enumerate(card.versions):
            for metric in version.metrics:
                if metric not in declared_metrics:
                    warn(("versions", v_index, "metrics", metric),
                         f"metric '{metric}' is not declared under 'metrics'{_did_you_mean(metric, declared_metrics)}")
        for q_index, result in enumerate(card.quantitative_analyses):
            if result.metric not in declared_metrics:
                warn(("quantitative_analyses", q_index, "metric"),
                     f"metric '{result.metric}' is not declared under 'metrics'"
                     f"{_did_you_mean(result.metric, declared_metrics)}")
    for q_index, result in enumerate(card.quantitative_analyses):
        if result.version is not None and result.version not in seen:
            problems.append(doc.problem(("quantitative_analyses", q_index, "version"),
                                        _unknown_version(result.version, versions)))

    def use(dataset: str, key_path: KeyPath, ref: DataRef | None, version: Version | None, role: str) -> None:
        if dataset not in datasets:
            declared = [name for name, d in datasets.items() if d.card is not None]
            warn(key_path, f"no dataset card named '{dataset}'{_did_you_mean(dataset, declared)}; "
                 f"add one with 'kind: dataset' so the dataset gets a described page")
            datasets[dataset] = DatasetEntry(dataset, None, None)
        target = datasets[dataset]
        if ref is not None and target.card is not None and target.card.versions and ref.version is not None:
            known = {v.version: v for v in target.card.versions}
            if ref.version not in known:
                warn(key_path[:-1] + ("version",),
                     f"dataset '{dataset}' has no version '{ref.version}'{_did_you_mean(ref.version, list(known))}")
            elif ref.digest and known[ref.version].digest and ref.digest != known[ref.version].digest:
                warn(key_path[:-1] + ("digest",),
                     f"digest {ref.digest} differs from the dataset card's {known[ref.version].digest} "
                     f"for version '{ref.version}'")
        target.uses.append(DatasetUse(
            model=card.name,
            model_version=version.version if version else None,
            dataset_version=ref.version if ref else None,
            digest=ref.digest if ref else None,
            role=role,
        ))

    for section in ("training_data", "evaluation_data"):
        for index, dataset in enumerate(getattr(card, section).datasets):
            use(dataset, (section, "datasets", index), None, None, section.split("_")[0])
    for v_index, version in enumerate(card.versions):
        for d_index, ref in enumerate(version.data):
            use(ref.dataset, ("versions", v_index, "data", d_index, "dataset"), ref, version, ref.role)
    return problems


def _did_you_mean(value: str, options: list[str]) -> str:
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _unknown_version(label: str, versions: list[str]) -> str:
    listed = ", ".join(versions) if versions else "none declared"
    return f"found version '{label}', expected one of the card's versions: {listed}{_did_you_mean(label, versions)}"
