"""A Model Card Toolkit file (``model_card.json``, MCT schema v0.0.1/v0.0.2) read into a card.

Parsed as plain JSON: the toolkit itself pulls in TensorFlow. Positions in warnings come from reading the same
text as YAML, of which JSON is a subset; a file YAML cannot read is still imported, its warnings at 1:1.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..cards.yaml_source import parse_yaml
from ..errors import Problem
from .common import Imported, Leftovers, names_a_key, number, slug


def read_mct(text: str, path: str) -> Imported:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Imported({}, [Problem(path, exc.lineno, exc.colno, "", f"found text that is not JSON ({exc.msg}), "
                                                                         "expected a Model Card Toolkit JSON file")])
    if not isinstance(data, dict):
        return Imported({}, [Problem(path, 1, 1, "", f"found a JSON {type(data).__name__}, expected an object with "
                                                     "model_details, considerations, ...")])
    document, _ = parse_yaml(text, path)
    left = Leftovers("mct", path, lambda key_path: document.position(key_path, of_key=names_a_key(key_path)) if document else (1, 1))
    card: dict[str, Any] = {}
    sections = {"model_details": _model_details, "model_parameters": _model_parameters,
                "quantitative_analysis": _quantitative_analysis, "considerations": _considerations}
    for key, value in data.items():
        if key in sections and isinstance(value, dict):
            sections[key](value, card, left)
        elif key != "schema_version":  # the file's format, not the model's
            left.keep((key,), value)
    _place_version_metrics(card)
    title = card.pop("title", None) or "Imported model"
    card = {"name": slug(title), "title": title, **card}
    if left.kept:
        card["custom"] = {"mct": left.kept}
    return Imported(card, left.problems)


def _model_details(details: dict[str, Any], card: dict[str, Any], left: Leftovers) -> None:
    at = ("model_details",)
    for key, value in details.items():
        if key == "name" and isinstance(value, str):
            card["title"] = value
        elif key == "overview" and isinstance(value, str):
            card["summary"] = value
        elif key == "owners" and isinstance(value, list):
            for i, owner in enumerate(value):
                if isinstance(owner, dict) and isinstance(owner.get("name"), str) and owner["name"].strip():
                    card.setdefault("owners", []).append(
                        {"name": owner["name"], **({"contact": owner["contact"]} if owner.get("contact") else {}),
                         "role": "owner"})
                else:
                    left.keep((*at, key, i), owner)
        elif key == "version" and isinstance(value, dict):
            _version(value, card, left)
        elif key == "licenses" and isinstance(value, list):
            for i, license_ in enumerate(value):
                text = license_.get("identifier") or license_.get("custom_text") if isinstance(license_, dict) else None
                if i == 0 and isinstance(text, str):
                    card["license"] = text
                else:  # the card holds one license
                    left.keep((*at, key, i), license_)
        elif key == "references" and isinstance(value, list):
            for i, reference in enumerate(value):
                if isinstance(reference, dict) and isinstance(reference.get("reference"), str):
                    card.setdefault("model_details", {}).setdefault("references", []).append(reference["reference"])
                else:
                    left.keep((*at, key, i), reference)
        elif key == "citations" and isinstance(value, list):
            for i, citation in enumerate(value):
                if i == 0 and isinstance(citation, dict) and isinstance(citation.get("citation"), str):
                    card.setdefault("model_details", {})["citation"] = citation["citation"]
                    if citation.get("style"):
                        left.keep((*at, key, i, "style"), citation["style"])
                else:
                    left.keep((*at, key, i), citation)
        else:
            left.keep((*at, key), value)


def _version(version: dict[str, Any], card: dict[str, Any], left: Leftovers) -> None:
    at = ("model_details", "version")
    mapped = {"name": "version", "date": "date", "diff": "changes"}
    entry = {mapped[key]: str(value) for key, value in version.items() if key in mapped and value not in (None, "")}
    for key, value in version.items():
        if key not in mapped:
            left.keep((*at, key), value)
    if "version" in entry and re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry.get("date", "")):
        card["versions"] = [entry]
    elif entry:  # a version needs both a label and a date written YYYY-MM-DD
        left.keep(at, version)


def _model_parameters(parameters: dict[str, Any], card: dict[str, Any], left: Leftovers) -> None:
    at = ("model_parameters",)
    details = card.setdefault("model_details", {})
    for key, value in parameters.items():
        if key == "model_architecture" and isinstance(value, str):
            details["architecture"] = value
        elif key in ("input_format", "output_format") and isinstance(value, str):
            side = "inputs" if key == "input_format" else "outputs"
            details[side] = [{"name": side[:-1], "description": value}]
        elif key == "data" and isinstance(value, list):
            for i, dataset in enumerate(value):
                if not isinstance(dataset, dict) or not isinstance(dataset.get("name"), str):
                    left.keep((*at, key, i), dataset)
                    continue
                names = card.setdefault("training_data", {}).setdefault("datasets", [])
                names.append(slug(dataset["name"], "dataset"))
                for field, extra in dataset.items():
                    if field == "graphics":
                        left.drop((*at, key, i, field), "images; regenerate plots from the data")
                    elif field != "name":
                        left.keep((*at, key, i, field), extra)
        else:
            left.keep((*at, key), value)


def _quantitative_analysis(analysis: dict[str, Any], card: dict[str, Any], left: Leftovers) -> None:
    at = ("quantitative_analysis",)
    for key, value in analysis.items():
        if key == "performance_metrics" and isinstance(value, list):
            for i, metric in enumerate(value):
                _performance_metric(metric, (*at, key, i), card, left)
        elif key == "graphics":
            left.drop((*at, key), "images; regenerate plots from the data")
        else:
            left.keep((*at, key), value)


def _performance_metric(metric: Any, at: tuple, card: dict[str, Any], left: Leftovers) -> None:
    value = number(metric.get("value")) if isinstance(metric, dict) else None
    if not isinstance(metric, dict) or not isinstance(metric.get("type"), str) or value is None:
        left.keep(at, metric)
        return
    name = slug(metric["type"], "metric")
    if all(known["name"] != name for known in card.get("metrics", [])):
        card.setdefault("metrics", []).append({"name": name})
    result: dict[str, Any] = {"metric": name, "slice": metric.get("slice") or "all", "value": value}
    interval = metric.get("confidence_interval")
    if isinstance(interval, dict):
        bounds = number(interval.get("lower_bound")), number(interval.get("upper_bound"))
        if None not in bounds:
            result["confidence_interval"] = list(bounds)
        else:
            left.keep((*at, "confidence_interval"), interval)
    for key, extra in metric.items():
        if key not in ("type", "value", "slice", "confidence_interval"):
            left.keep((*at, key), extra)
    card.setdefault("quantitative_analyses", []).append(result)


def _considerations(considerations: dict[str, Any], card: dict[str, Any], left: Leftovers) -> None:
    at = ("considerations",)
    described = {"users": ("intended_use", "primary_users"), "use_cases": ("intended_use", "primary_uses"),
                 "limitations": (None, "caveats"), "tradeoffs": (None, "tradeoffs")}
    for key, value in considerations.items():
        if key in described and isinstance(value, list):
            section, field = described[key]
            target = card.setdefault(section, {}) if section else card
            for i, item in enumerate(value):
                text = item.get("description") if isinstance(item, dict) else None
                if isinstance(text, str) and text.strip():
                    target.setdefault(field, []).append(text)
                    for extra in [k for k in item if k != "description"]:
                        left.keep((*at, key, i, extra), item[extra])
                else:
                    left.keep((*at, key, i), item)
        elif key == "ethical_considerations" and isinstance(value, list):
            for i, risk in enumerate(value):
                if isinstance(risk, dict) and isinstance(risk.get("name"), str) and risk["name"].strip():
                    card.setdefault("ethical_considerations", []).append(
                        {"name": risk["name"], **({"mitigation": risk["mitigation_strategy"]}
                                                  if risk.get("mitigation_strategy") else {})})
                    for extra in [k for k in risk if k not in ("name", "mitigation_strategy")]:
                        left.keep((*at, key, i, extra), risk[extra])
                else:
                    left.keep((*at, key, i), risk)
        else:
            left.keep((*at, key), value)


def _place_version_metrics(card: dict[str, Any]) -> None:
    """Unsliced results are the version's metrics; sliced ones stay sliced results, measured on that version."""
    if not card.get("versions"):
        return
    version = card["versions"][0]
    sliced = []
    for result in card.get("quantitative_analyses", []):
        if result["slice"] == "all" and "confidence_interval" not in result and result["metric"] not in version.get(
                "metrics", {}):
            version.setdefault("metrics", {})[result["metric"]] = result["value"]
        else:
            sliced.append({**result, "version": version["version"]})
    card["quantitative_analyses"] = sliced

