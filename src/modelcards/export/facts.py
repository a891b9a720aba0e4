"""What every export says about a model, read from the catalog once: the version it describes, its metrics and
slices, and the data and code it came from."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from ..catalog import Catalog, DatasetEntry, ModelEntry
from ..cards.schema import CodeRef, SliceResult, Version

# Fixed, so that identifiers derived from a model's content (serial numbers, SPDX ids) repeat across builds.
NAMESPACE = uuid.UUID("6f1c7d0e-3b2a-5c48-9e1f-2d6a8b4c0e13")


@dataclass(frozen=True)
class DataUse:
    dataset: DatasetEntry
    version: str | None
    digest: str | None
    roles: tuple[str, ...]  # training, evaluation, validation, other


    @property
    def digest_algorithm(self) -> str | None:
        """md5, sha1 or sha256 for a hex digest of that length (what DVC, MLflow and our cards record), else
        None: a digest of another shape is passed on as text, never as a hash."""
        if not self.digest or not re.fullmatch(r"[0-9a-fA-F]+", self.digest):
            return None
        return {32: "md5", 40: "sha1", 64: "sha256"}.get(len(self.digest))


@dataclass(frozen=True)
class ModelFacts:
    model: ModelEntry
    version: Version | None  # the newest version, which the exports describe; None for a card without versions
    metrics: dict[str, float]  # the version's metric values, in the card's order
    slices: list[SliceResult]  # the quantitative analyses of that version
    data: list[DataUse]  # by dataset name
    code: CodeRef | None
    run: str | None  # the run that produced the version, ``mlflow:<id>`` and the like

    @property
    def name(self) -> str:
        return self.model.name

    def uses(self, role: str) -> list[DataUse]:
        return [use for use in self.data if role in use.roles]


def model_facts(catalog: Catalog, name: str) -> ModelFacts:
    model = catalog.models[name]
    card = model.card
    version = model.latest_version
    declared = [metric.name for metric in card.metrics]
    values = version.metrics if version else {}
    ordered = [*(m for m in declared if m in values), *sorted(m for m in values if m not in declared)]
    label = version.version if version else None
    slices = [result for result in card.quantitative_analyses if result.version in (None, label)]
    run_link = model.run_links.get(label) if label else None
    return ModelFacts(model, version, {metric: values[metric] for metric in ordered}, slices,
                      _data_uses(catalog, model, version), version.code if version else None,
                      run_link.run.ref if run_link else (version.run if version else None))


def _data_uses(catalog: Catalog, model: ModelEntry, version: Version | None) -> list[DataUse]:
    """The datasets the version read (its ``data``), else those the card's data sections name."""
    found: dict[str, tuple[str | None, str | None, set[str]]] = {}
    if version and version.data:
        for ref in version.data:
            _, _, roles = found.setdefault(ref.dataset, (ref.version, ref.digest, set()))
            roles.add(ref.role)
    else:
        for role, section in (("training", model.card.training_data), ("evaluation", model.card.evaluation_data)):
            for dataset in section.datasets:
                found.setdefault(dataset, (None, None, set()))[2].add(role)
    return [DataUse(catalog.datasets[name], dataset_version, digest or _card_digest(catalog.datasets[name],
                                                                                    dataset_version),
                    tuple(sorted(roles)))
            for name, (dataset_version, digest, roles) in sorted(found.items())]


def _card_digest(dataset: DatasetEntry, version: str | None) -> str | None:
    """The digest the dataset card records for the version, when the model card gives none."""
    if dataset.card is None or version is None:
        return None
    return next((v.digest for v in dataset.card.versions if v.version == version), None)


def content_uuid(*parts: str) -> uuid.UUID:
    """A UUID that depends only on ``parts``: the same content gives the same identifier in every build."""
    return uuid.uuid5(NAMESPACE, "\x1f".join(parts))
