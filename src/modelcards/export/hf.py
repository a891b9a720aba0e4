"""A model -> a Hugging Face ``README.md``: YAML metadata (``model-index`` with the newest version's metrics and
slices; license, tags, datasets and base model from the card) over a Markdown card. Needs only PyYAML.

Card text is escaped for Markdown and HTML, as on the site: the Hub renders the body, and a card's words must
not turn into markup or links there.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import yaml

from ..catalog import Catalog
from .facts import ModelFacts, model_facts

# Markup anywhere in a line; the rest only matters where a line starts (headings, lists, quotes).
_MARKDOWN_INLINE = re.compile(r"([\\`*_{}\[\]|~])")
_MARKDOWN_LINE_START = re.compile(r"^(\d*)([#+\->=]|(?<=\d)[.)])")


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml's emitter when PyYAML has it: 10x faster
    """Writes a repeated value out again, never as a YAML alias (``&id001``), which readers trip over."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(catalog: Catalog, name: str, as_of: dt.date) -> str:
    facts = model_facts(catalog, name)
    metadata = front_matter(facts)
    # sort_keys: the same card gives the same bytes; allow_unicode: names stay readable on the Hub.
    header = yaml.dump(metadata, Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=1000)
    return f"---\n{header}---\n\n{_body(facts)}"


def front_matter(facts: ModelFacts) -> dict[str, Any]:
    """The metadata block, in the keys ``huggingface_hub.ModelCardData`` reads back unchanged."""
    card = facts.model.card
    metadata: dict[str, Any] = {}
    if card.license:
        metadata.update(_license(card.license))
    if card.tags:
        metadata["tags"] = list(card.tags)
    if facts.data:
        metadata["datasets"] = [use.dataset.name for use in facts.data]
    if card.model_details.base_model:
        metadata["base_model"] = card.model_details.base_model
    if card.model_details.framework:
        metadata["library_name"] = card.model_details.framework.split()[0].lower()
    metrics = [{"type": metric, "value": value, "name": metric} for metric, value in facts.metrics.items()]
    results = []
    evaluated_on = (facts.uses("evaluation") or facts.data)[:1]
    dataset = ({"name": evaluated_on[0].dataset.title, "type": evaluated_on[0].dataset.name} if evaluated_on
               else {"name": "unspecified", "type": "unspecified"})
    task = {"type": card.model_details.type or "other", "name": card.model_details.type or "other"}
    if metrics:
        results.append({"task": task, "dataset": dataset, "metrics": metrics})
    by_slice: dict[str, list[dict[str, Any]]] = {}
    for result in facts.slices:
        by_slice.setdefault(result.slice, []).append({"type": result.metric, "value": result.value,
                                                      "name": f"{result.metric} on {result.slice}"})
    for slice_name, slice_metrics in by_slice.items():
        # A slice is a subset of the evaluation data: the Hub's dataset "config".
        results.append({"task": task, "dataset": {**dataset, "config": slice_name}, "metrics": slice_metrics})
    if results:
        metadata["model-index"] = [{"name": facts.name, "results": results}]
    return metadata


def _license(license: str) -> dict[str, str]:
    """Hub license ids are SPDX ids in lower case; a license named in words is ``other`` with its name."""
    if re.fullmatch(r"[A-Za-z0-9.+-]+", license):
        return {"license": license.lower()}
    return {"license": "other", "license_name": re.sub(r"[^a-z0-9]+", "-", license.lower()).strip("-") or "other"}


def text(value: Any) -> str:
    """Card text safe in a Markdown line or table cell on the Hub: no markup survives."""
    flat = _MARKDOWN_INLINE.sub(r"\\\1", " ".join(_plain(value).split()))
    return html.escape(_MARKDOWN_LINE_START.sub(r"\1\\\2", flat), quote=False)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(getattr(value, "value", value))


def _body(facts: ModelFacts) -> str:
    card = facts.model.card
    lines = [f"# {text(card.title)}", ""]
    if card.summary:
        lines += [text(card.summary), ""]
    details = card.model_details
    facts_rows = [("Name", card.name), ("Version", facts.version.version if facts.version else None),
                  ("Released", facts.version.date.isoformat() if facts.version else None), ("Status", card.status),
                  ("Risk tier", card.risk_tier), ("Type", details.type), ("Framework", details.framework),
                  ("Architecture", details.architecture), ("Base model", details.base_model),
                  ("License", card.license), ("Run", facts.run),
                  ("Owners", "; ".join(owner.name + (f" ({owner.contact})" if owner.contact else "")
                                       for owner in card.owners) or None)]
    lines += _table(("Model details", "Value"), [(key, value) for key, value in facts_rows if value is not None])
    use = card.intended_use
    lines += _list_section("Intended uses", use.primary_uses)
    lines += _list_section("Intended users", use.primary_users)
    lines += _list_section("Out of scope", use.out_of_scope)
    if card.factors:
        lines += ["## Factors", "", *(f"- **{text(f.name)}**" + (f": {text(f.description)}" if f.description else "")
                                      for f in card.factors), ""]
    if facts.metrics:
        thresholds = {metric.name: metric for metric in card.metrics}
        version = facts.version.version if facts.version else ""
        lines += [f"## Metrics (version {text(version)})", ""]
        lines += _table(("Metric", "Value", "Threshold", "Description"), [
            (metric, value, _threshold(thresholds.get(metric)), thresholds[metric].description
             if metric in thresholds else None) for metric, value in facts.metrics.items()], heading=False)
    for title, section in (("Training data", card.training_data), ("Evaluation data", card.evaluation_data)):
        if section.datasets or section.description or section.preprocessing:
            lines += [f"## {title}", ""]
            lines += [f"- Dataset: {text(name)}" for name in section.datasets]
            lines += [f"- {text(value)}" for value in (section.description, section.preprocessing) if value]
            lines.append("")
    if facts.slices:
        lines += ["## Quantitative analyses", ""]
        lines += _table(("Metric", "Slice", "Value", "95% interval"), [
            (r.metric, r.slice, r.value, f"{_plain(r.confidence_interval[0])} to {_plain(r.confidence_interval[1])}"
             if r.confidence_interval else None) for r in facts.slices], heading=False)
    if card.ethical_considerations:
        lines += ["## Ethical considerations", ""]
        lines += _table(("Risk", "Mitigation"), [(e.name, e.mitigation) for e in card.ethical_considerations],
                        heading=False)
    lines += _list_section("Caveats", card.caveats)
    lines += _list_section("Recommendations", card.recommendations)
    lines += _list_section("Trade-offs", card.tradeoffs)
    if card.versions:
        lines += ["## Versions", ""]
        lines += _table(("Version", "Date", "Changes"), [(v.version, v.date.isoformat(), v.changes)
                                                         for v in facts.model.versions_newest_first], heading=False)
    if details.citation:
        lines += ["## Citation", "", text(details.citation), ""]
    lines += [f"*Exported by modelcards from {text(facts.model.source.path)}.*", ""]
    return "\n".join(lines)


def _threshold(metric) -> str | None:
    if metric is None or metric.threshold is None:
        return None
    return f"{'≥' if metric.higher_is_better else '≤'} {_plain(metric.threshold)}"


def _list_section(title: str, items: list[str]) -> list[str]:
    return [f"## {title}", "", *(f"- {text(item)}" for item in items), ""] if items else []


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]], heading: bool = True) -> list[str]:
    if not rows:
        return []
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    lines += [f"| {' | '.join(text(cell) for cell in row)} |" for row in rows]
    return [*(["## " + header[0], ""] if heading else []), *lines, ""]
