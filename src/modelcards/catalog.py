"""Validated cards -> one joined catalog of models, datasets and tags.

Checks that span fields or cards (unique names, deployments of known versions,
references to known datasets and metrics) live here, in one place.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from .cards.loader import LoadedCard
from .cards.schema import DatasetCard, DataRef, ModelCard, Version
from .cards.yaml_source import KeyPath
from .errors import Problem


@dataclass(frozen=True)
class DatasetUse:
    """One model version reading one dataset (version)."""

    model: str
    model_version: str | None
    dataset_version: str | None
    digest: str | None
    role: str


@dataclass
class ModelEntry:
    card: ModelCard
    source: LoadedCard

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def versions_newest_first(self) -> list[Version]:
        indexed = list(enumerate(self.card.versions))
        return [v for _, v in sorted(indexed, key=lambda iv: (iv[1].date, iv[0]), reverse=True)]

    @property
    def latest_version(self) -> Version | None:
        newest = self.versions_newest_first
        return newest[0] if newest else None

    @property
    def last_deployment(self):
        indexed = list(enumerate(self.card.deployments))
        return max(indexed, key=lambda iv: (iv[1].date, iv[0]))[1] if indexed else None

    @property
    def current_deployments(self) -> list:
        """The newest deployment in each environment, i.e. what runs where now."""
        newest: dict[str, tuple] = {}
        for index, deployment in enumerate(self.card.deployments):
            key = (deployment.date, index)
            if deployment.environment not in newest or key > newest[deployment.environment][0]:
                newest[deployment.environment] = (key, deployment)
        return [newest[env][1] for env in sorted(newest)]

    def dataset_names(self) -> list[str]:
        names = [*self.card.training_data.datasets, *self.card.evaluation_data.datasets]
        names += [ref.dataset for version in self.card.versions for ref in version.data]
        return sorted(set(names))


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


@dataclass
class TagEntry:
    name: str
    models: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)


@dataclass
class Catalog:
    models: dict[str, ModelEntry]
    datasets: dict[str, DatasetEntry]
    tags: dict[str, TagEntry]
    problems: list[Problem]


def build_catalog(loaded: list[LoadedCard]) -> Catalog:
    """Join cards into a catalog and run every check that needs more than one field."""
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

    tags: dict[str, TagEntry] = {}
    for entry in models.values():
        for tag in entry.card.tags:
            tags.setdefault(tag, TagEntry(tag)).models.append(entry.name)
    for dataset in datasets.values():
        for tag in dataset.card.tags if dataset.card else []:
            tags.setdefault(tag, TagEntry(tag)).datasets.append(dataset.name)

    return Catalog(
        models=dict(sorted(models.items())),
        datasets=dict(sorted(datasets.items())),
        tags=dict(sorted(tags.items())),
        problems=problems,
    )


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
