"""A model -> a CycloneDX 1.6 ML-BOM: the model (``machine-learning-model``) with its ``modelCard``, the data it
was trained and evaluated on as ``data`` components, the training code and run between them, and that lineage
as dependencies (model -> training -> data).

The BOM is written as plain JSON, in the order and shape ``cyclonedx-python-lib`` writes it (components by type,
name and version; dependencies by ref): building it through the library's objects cost four times as long
(1 ms a model against 0.23 ms), and a dataset card's edit makes the exports of every model that read it again. The library still decides what a
license string is (an SPDX id, an expression or a name). The library does not model ``modelCard`` yet (its
issue #912). ``validate`` (what ``modelcards export`` and the tests run) checks the whole document against the
library's bundled 1.6 schema, offline.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..catalog import Catalog
from . import json_text
from .facts import DataUse, ModelFacts, content_uuid, model_facts

SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"
HASH_ALGORITHMS = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256"}


def render(catalog: Catalog, name: str, as_of: dt.date, *, compact: bool = False) -> str:
    facts = model_facts(catalog, name)
    model = _model_component(facts)
    data = [_data_component(use) for use in facts.data]
    training = _training_component(facts)
    components = sorted([*([training] if training else []), *data], key=_component_order)
    needs = {model["bom-ref"]: [training] if training else data, **({training["bom-ref"]: data} if training else {}),
             **{component["bom-ref"]: [] for component in data}}
    serial = content_uuid("cyclonedx", facts.name, facts.model.card_json,
                          *(use.dataset.card_json for use in facts.data if use.dataset.card))
    document = {
        "$schema": SCHEMA, "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "serialNumber": f"urn:uuid:{serial}",
        "metadata": {"timestamp": dt.datetime.combine(as_of, dt.time(), dt.timezone.utc).isoformat(),
                     "component": {**model, "modelCard": model_card(facts)}},
        **({"components": components} if components else {}),  # the library leaves an empty list out
        "dependencies": [_dependency(ref, needs[ref]) for ref in sorted(needs)],
    }
    return json_text(document, compact=compact)


def validate(name: str, text: str) -> None:
    """Raise when the BOM ``render`` made does not validate against the CycloneDX 1.6 schema, offline, or when
    ``cyclonedx-python-lib`` reads it and writes it back differently (other than the ``modelCard`` it does not
    model): the order of components and dependencies, for one."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.output.json import JsonV1Dot6
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise ValueError(f"the CycloneDX BOM of {name} does not validate against CycloneDX 1.6: {error}")
    document = json.loads(text)
    document["metadata"]["component"].pop("modelCard", None)
    if json.loads(JsonV1Dot6(Bom.from_json(document)).output_as_string()) != document:
        raise ValueError(f"the CycloneDX BOM of {name} is not what cyclonedx-python-lib writes of it")


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


def _model_component(facts: ModelFacts) -> dict[str, Any]:
    card = facts.model.card
    return _component(
        "machine-learning-model", facts.name, _model_ref(facts),
        version=facts.version.version if facts.version else None,
        description=card.summary or card.title, licenses=_licenses(card.license), properties=_properties({
            "modelcards:title": card.title, "modelcards:status": card.status.value,
            "modelcards:risk_tier": card.risk_tier.value if card.risk_tier else None,
            "modelcards:framework": card.model_details.framework,
            "modelcards:base_model": card.model_details.base_model,
            "modelcards:card": facts.model.source.path}))


def _data_component(use: DataUse) -> dict[str, Any]:
    card = use.dataset.card
    algorithm = HASH_ALGORITHMS.get(use.digest_algorithm or "")
    return _component(
        "data", use.dataset.name, _data_ref(use), version=use.version,
        description=(card.description if card else None) or use.dataset.title,
        licenses=_licenses(card.license if card else None),
        hashes=[{"alg": algorithm, "content": use.digest.lower()}] if algorithm else [],
        properties=_properties({"modelcards:role": ", ".join(use.roles),
                                "modelcards:digest": None if algorithm else use.digest,
                                "modelcards:source": card.source if card else None}))


def _training_component(facts: ModelFacts) -> dict[str, Any] | None:
    """The code and run that made the version, the step between its data and the model; None when the card
    names neither."""
    code = facts.code
    if code is None and facts.run is None:
        return None
    return _component(
        "application", f"{facts.name} training", _model_ref(facts, "training"), version=code.commit if code else None,
        properties=_properties({"modelcards:run": facts.run, "modelcards:repo": code.repo if code else None,
                                "modelcards:path": code.path if code else None}))


def _component(kind: str, name: str, ref: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "bom-ref": ref, "name": name, **_drop_empty(fields)}


def _component_order(component: dict[str, Any]) -> tuple:
    # The library's order: by type, name, version (a component without one last), then ref.
    version = component.get("version")
    return component["type"], component["name"], version is None, version or "", component["bom-ref"]


def _dependency(ref: str, needs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"ref": ref, **({"dependsOn": sorted(component["bom-ref"] for component in needs)} if needs else {})}


def _licenses(license: str | None) -> list[dict[str, Any]]:
    """A card's license as the library's factory makes it: a known SPDX id, else an SPDX expression, else a name."""
    if not license:
        return []
    from cyclonedx.spdx import fixup_id, is_expression

    if (spdx_id := fixup_id(license)) is not None:
        return [{"license": {"id": spdx_id}}]
    if is_expression(license):
        return [{"expression": license}]
    return [{"license": {"name": license}}]


def _properties(values: dict[str, str | None]) -> list[dict[str, str]]:
    return [{"name": key, "value": value} for key, value in sorted(values.items()) if value]


def _drop_empty(mapping: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if value not in (None, [], {}, "")}
