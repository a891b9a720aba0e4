"""A model -> a CycloneDX 1.6 ML-BOM: the model (``machine-learning-model``) with its ``modelCard``, the data it
was trained and evaluated on as ``data`` components, the training code and run between them, and that lineage
as dependencies (model -> training -> data).

``cyclonedx-python-lib`` builds the BOM but does not model ``modelCard`` yet (its issue #912), so that object
is added to the JSON it writes; then the whole document is validated against the library's bundled 1.6 schema,
offline. A BOM that does not validate is a bug here, never the user's: it raises.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..catalog import Catalog
from . import json_text
from .facts import DataUse, ModelFacts, content_uuid, model_facts


def render(catalog: Catalog, name: str, as_of: dt.date, *, compact: bool = False) -> str:
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.output.json import JsonV1Dot6

    facts = model_facts(catalog, name)
    model = _model_component(facts)
    data = [_data_component(use) for use in facts.data]
    training = _training_component(facts)
    bom = Bom(serial_number=content_uuid("cyclonedx", facts.name, facts.model.card.model_dump_json(),
                                         *(use.dataset.card.model_dump_json() for use in facts.data
                                           if use.dataset.card)),
              metadata=BomMetaData(component=model,
                                   timestamp=dt.datetime.combine(as_of, dt.time(), dt.timezone.utc)))
    for component in [*([training] if training else []), *data]:
        bom.components.add(component)
    if training is not None:
        bom.register_dependency(model, [training])
        bom.register_dependency(training, data)
    else:
        bom.register_dependency(model, data)
    for component in data:
        bom.register_dependency(component, [])
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    document["metadata"]["component"]["modelCard"] = model_card(facts)
    return json_text(document, compact=compact)


def validate(name: str, text: str) -> None:
    """Raise when the BOM ``render`` made does not validate against the CycloneDX 1.6 schema, offline."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise ValueError(f"the CycloneDX BOM of {name} does not validate against CycloneDX 1.6: {error}")


def model_card(facts: ModelFacts) -> dict[str, Any]:
    """CycloneDX's ``modelCard`` object (MCT-derived): parameters, quantitative analysis, considerations.
    Metric values and interval bounds are strings in its schema."""
    card = facts.model.card
    details = card.model_details
    parameters = _drop_empty({
        "task": details.type,
        "modelArchitecture": details.architecture,
        "datasets": [{"ref": _data_ref(use)} for use in facts.data],
        "inputs": [{"format": _io_format(field)} for field in details.inputs],
        "outputs": [{"format": _io_format(field)} for field in details.outputs],
    })
    metrics = [{"type": metric, "value": repr(value)} for metric, value in facts.metrics.items()]
    for result in facts.slices:
        entry = {"type": result.metric, "value": repr(result.value), "slice": result.slice}
        if result.confidence_interval:
            low, high = result.confidence_interval
            entry["confidenceInterval"] = {"lowerBound": repr(low), "upperBound": repr(high)}
        metrics.append(entry)
    use = card.intended_use
    considerations = _drop_empty({
        "users": list(use.primary_users),
        "useCases": list(use.primary_uses),
        "technicalLimitations": [*card.caveats, *(f"Out of scope: {item}" for item in use.out_of_scope)],
        "performanceTradeoffs": list(card.tradeoffs),
        "ethicalConsiderations": [_drop_empty({"name": e.name, "mitigationStrategy": e.mitigation})
                                  for e in card.ethical_considerations],
    })
    return _drop_empty({
        "bom-ref": _model_ref(facts, "model-card"),
        "modelParameters": parameters,
        "quantitativeAnalysis": {"performanceMetrics": metrics} if metrics else None,
        "considerations": considerations,
    })


def _model_ref(facts: ModelFacts, kind: str = "model") -> str:
    return f"{kind}:{facts.name}" + (f"@{facts.version.version}" if facts.version else "")


def _data_ref(use: DataUse) -> str:
    return f"dataset:{use.dataset.name}" + (f"@{use.version}" if use.version else "")


def _io_format(field) -> str:
    return field.name + (f" ({field.type})" if field.type else "") + (f": {field.description}"
                                                                       if field.description else "")


def _model_component(facts: ModelFacts):
    from cyclonedx.model.component import Component, ComponentType

    card = facts.model.card
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL, name=facts.name, bom_ref=_model_ref(facts),
        version=facts.version.version if facts.version else None, description=card.summary or card.title,
        licenses=_licenses(card.license), properties=_properties({
            "modelcards:title": card.title, "modelcards:status": card.status.value,
            "modelcards:risk_tier": card.risk_tier.value if card.risk_tier else None,
            "modelcards:framework": card.model_details.framework,
            "modelcards:base_model": card.model_details.base_model,
            "modelcards:card": facts.model.source.path}))


def _data_component(use: DataUse):
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.component import Component, ComponentType

    card = use.dataset.card
    algorithm = {"md5": HashAlgorithm.MD5, "sha1": HashAlgorithm.SHA_1, "sha256": HashAlgorithm.SHA_256}.get(
        use.digest_algorithm)
    hashed = algorithm is not None
    return Component(
        type=ComponentType.DATA, name=use.dataset.name, bom_ref=_data_ref(use), version=use.version,
        description=(card.description if card else None) or use.dataset.title,
        licenses=_licenses(card.license if card else None),
        hashes=[HashType(alg=algorithm, content=use.digest.lower())] if hashed else [],
        properties=_properties({"modelcards:role": ", ".join(use.roles),
                                "modelcards:digest": None if hashed else use.digest,
                                "modelcards:source": card.source if card else None}))


def _training_component(facts: ModelFacts):
    """The code and run that made the version, the step between its data and the model; None when the card
    names neither."""
    from cyclonedx.model.component import Component, ComponentType

    code = facts.code
    if code is None and facts.run is None:
        return None
    return Component(
        type=ComponentType.APPLICATION, name=f"{facts.name} training", bom_ref=_model_ref(facts, "training"),
        version=code.commit if code else None,
        properties=_properties({"modelcards:run": facts.run, "modelcards:repo": code.repo if code else None,
                                "modelcards:path": code.path if code else None}))


def _licenses(license: str | None) -> list:
    if not license:
        return []
    from cyclonedx.factory.license import LicenseFactory

    return [LicenseFactory().make_from_string(license)]


def _properties(values: dict[str, str | None]) -> list:
    from cyclonedx.model import Property

    return [Property(name=key, value=value) for key, value in sorted(values.items()) if value]


def _drop_empty(mapping: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if value not in (None, [], {}, "")}
