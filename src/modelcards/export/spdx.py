"""A model -> an SPDX 3.0.1 document in its AI and Dataset profiles, as JSON-LD: the model as an ``ai_AIPackage``,
its data as ``dataset_DatasetPackage`` elements, linked by ``trainedOn`` and ``testedOn`` relationships, built
with the official ``spdx-python-model`` bindings.

Element ids are ``urn:modelcards:<uuid>:...`` IRIs whose UUID is derived from the cards' content, so the same
cards give the same ids in every build.
"""

from __future__ import annotations

import datetime as dt
import re

from ..catalog import Catalog
from ..cards.schema import DatasetCard
from . import json_text
from .facts import DataUse, ModelFacts, content_uuid, model_facts

# What each data role becomes: SPDX 3.0.1 has no relationship for validation data, which is used to evaluate.
RELATIONSHIPS = {"training": "trainedOn", "evaluation": "testedOn", "validation": "testedOn", "other": "other"}
RISK = {"low": "low", "medium": "medium", "high": "high", "critical": "serious"}


def render(catalog: Catalog, name: str, as_of: dt.date, *, compact: bool = False) -> str:
    from spdx_python_model import v3_0_1 as spdx

    facts = model_facts(catalog, name)
    card = facts.model.card
    base = "urn:modelcards:" + str(content_uuid(
        "spdx", facts.name, card.model_dump_json(),
        *(use.dataset.card.model_dump_json() for use in facts.data if use.dataset.card))) + ":"
    info = spdx.CreationInfo(specVersion="3.0.1", created=_midnight(as_of))
    tool = spdx.Tool(spdxId=base + "tool/modelcards", name="modelcards", creationInfo=info)
    supplier = spdx.Organization(spdxId=base + "agent/owner", name=card.owners[0].name if card.owners
                                 else "the model's owners (not named in the card)", creationInfo=info)
    info.createdBy = [supplier]
    info.createdUsing = [tool]
    model = spdx.ai_AIPackage(spdxId=base + f"model/{facts.name}", creationInfo=info, **_model_fields(facts, spdx))
    model.suppliedBy = supplier
    elements = [model, supplier, tool]
    datasets = {}
    for use in facts.data:
        package = spdx.dataset_DatasetPackage(spdxId=base + f"dataset/{use.dataset.name}", creationInfo=info,
                                              **_dataset_fields(use, spdx))
        datasets[use.dataset.name] = package
        elements.append(package)
    for role, relationship in RELATIONSHIPS.items():
        targets = [datasets[use.dataset.name] for use in facts.uses(role)]
        if targets:
            elements.append(spdx.Relationship(
                spdxId=base + f"relationship/{role}", creationInfo=info, from_=model, to=targets,
                relationshipType=getattr(spdx.RelationshipType, relationship)))
    if card.license:
        license = spdx.simplelicensing_LicenseExpression(spdxId=base + "license/model", creationInfo=info,
                                                         **_license_expression(card.license))
        elements += [license, spdx.Relationship(spdxId=base + "relationship/license", creationInfo=info,
                                                from_=model, to=[license],
                                                relationshipType=spdx.RelationshipType.hasDeclaredLicense)]
    document = spdx.SpdxDocument(
        spdxId=base + "document", name=f"{facts.name} model card", creationInfo=info, rootElement=[model],
        element=list(elements), profileConformance=[spdx.ProfileIdentifierType.core,
                                                    spdx.ProfileIdentifierType.software,
                                                    spdx.ProfileIdentifierType.ai,
                                                    spdx.ProfileIdentifierType.dataset])
    objects = spdx.SHACLObjectSet()
    for element in [document, *elements]:
        objects.add(element)
    data = spdx.JSONLDSerializer().serialize_data(objects)
    return json_text(data, compact=compact)


def _model_fields(facts: ModelFacts, spdx) -> dict:
    card = facts.model.card
    version = facts.version
    details = card.model_details
    thresholds = {m.name: m.threshold for m in card.metrics if m.threshold is not None}
    fields = {
        "name": facts.name, "summary": card.title, "description": card.summary,
        "software_primaryPurpose": spdx.software_SoftwarePurpose.model,
        "software_packageVersion": version.version if version else None,
        "releaseTime": _midnight(version.date) if version else None,
        "ai_typeOfModel": [details.type] if details.type else [],
        "ai_domain": list(card.tags),
        "ai_metric": [spdx.DictionaryEntry(key=metric, value=repr(value)) for metric, value in facts.metrics.items()],
        "ai_metricDecisionThreshold": [spdx.DictionaryEntry(key=metric, value=repr(value))
                                       for metric, value in thresholds.items()],
        "ai_hyperparameter": [spdx.DictionaryEntry(key=key, value=_text(value))
                              for key, value in sorted((version.params if version else {}).items())],
        "ai_informationAboutApplication": _joined(card.intended_use.primary_uses),
        "ai_informationAboutTraining": _joined([card.training_data.description, _trained_by(facts)]),
        "ai_limitation": _joined([*card.caveats, *(f"Out of scope: {u}" for u in card.intended_use.out_of_scope)]),
        "ai_modelDataPreprocessing": [card.training_data.preprocessing] if card.training_data.preprocessing else [],
        "ai_standardCompliance": [standard.name for standard in card.standards],
        "ai_safetyRiskAssessment": getattr(spdx.ai_SafetyRiskAssessmentType, RISK[card.risk_tier.value])
        if card.risk_tier else None,
        "ai_useSensitivePersonalInformation": _presence([use.dataset.card for use in facts.data], spdx),
    }
    return {key: value for key, value in fields.items() if value not in (None, [], "")}


def _dataset_fields(use: DataUse, spdx) -> dict:
    card = use.dataset.card
    sheet = card.datasheet if card else None
    versions = {v.version: v for v in card.versions} if card else {}
    released = versions.get(use.version)
    algorithm = use.digest_algorithm
    fields = {
        "name": use.dataset.name, "summary": use.dataset.title, "description": card.description if card else None,
        "software_primaryPurpose": spdx.software_SoftwarePurpose.data,
        "software_packageVersion": use.version,
        "releaseTime": _midnight(released.date) if released and released.date else None,
        "verifiedUsing": [spdx.Hash(algorithm=getattr(spdx.HashAlgorithm, algorithm), hashValue=use.digest.lower())]
        if algorithm else [],
        "dataset_datasetType": [spdx.dataset_DatasetType.noAssertion],  # cards do not say; the profile requires it
        "dataset_datasetSize": None,
        "dataset_dataCollectionProcess": sheet.data_collection if sheet else None,
        "dataset_dataPreprocessing": [sheet.data_preprocessing_protocol]
        if sheet and sheet.data_preprocessing_protocol else [],
        "dataset_knownBias": list(sheet.data_biases) if sheet else [],
        "dataset_intendedUse": _joined(sheet.data_use_cases) if sheet else None,
        "dataset_hasSensitivePersonalInformation": _presence([card], spdx),
    }
    return {key: value for key, value in fields.items() if value not in (None, [], "")}


def _license_expression(license: str) -> dict:
    """An SPDX expression as it is (``Apache-2.0``, ``MIT OR Apache-2.0``); a license named in words becomes
    ``LicenseRef-<words>``, which SPDX allows for licenses of its own, with the words kept as the comment."""
    if re.fullmatch(r"[A-Za-z0-9.+-]+(?: (?:AND|OR|WITH) [A-Za-z0-9.+-]+)*", license):
        return {"simplelicensing_licenseExpression": license}
    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", license).strip("-") or "unnamed"
    return {"simplelicensing_licenseExpression": f"LicenseRef-{slug}", "comment": license}


def _presence(cards: list[DatasetCard | None], spdx):
    """yes when any dataset holds personal data, no when every one says it holds none, else no assertion."""
    declared = [card.personal_data.contains for card in cards if card and card.personal_data]
    if any(declared):
        return spdx.PresenceType.yes
    if cards and len(declared) == len(cards):
        return spdx.PresenceType.no
    return spdx.PresenceType.noAssertion


def _trained_by(facts: ModelFacts) -> str | None:
    parts = [f"run {facts.run}" if facts.run else None]
    if facts.code:
        code = facts.code
        parts.append("code " + " ".join(p for p in (code.repo, code.path, f"at {code.commit}" if code.commit else None)
                                         if p))
    said = [part for part in parts if part]
    return f"Trained by {' and '.join(said)}." if said else None


def _joined(items) -> str | None:
    text = "\n\n".join(item for item in items if item)
    return text or None


def _text(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc)
