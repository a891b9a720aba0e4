"""A Hugging Face model card (``README.md``: YAML front matter, then Markdown) read into a card.

The front matter's license, tags, datasets, base_model, pipeline_tag, library_name and metrics map onto card
fields; ``model-index`` results become sliced results (``quantitative_analyses``), one per metric and
dataset. Markdown sections whose heading names a card section (``## Training data``, ``## Limitations``, ...)
fill it; other sections are kept under ``custom.hf``, keyed by their heading.
"""

from __future__ import annotations

import html
import re
from typing import Any

from ..cards.yaml_source import parse_yaml
from ..errors import Problem
from .common import Imported, Leftovers, names_a_key, number, slug

# Normalised heading -> the card field its text fills. Headings of the Hub's model card template included.
SECTION_FIELDS = {
    "model description": "summary", "model details": "summary", "model summary": "summary",
    "summary": "summary", "overview": "summary",
    "intended uses": "intended_use.primary_uses", "intended use": "intended_use.primary_uses",
    "uses": "intended_use.primary_uses", "direct use": "intended_use.primary_uses",
    "intended uses and limitations": "intended_use.primary_uses",
    "primary users": "intended_use.primary_users", "intended users": "intended_use.primary_users",
    "users": "intended_use.primary_users",
    "out-of-scope use": "intended_use.out_of_scope", "out-of-scope uses": "intended_use.out_of_scope",
    "out of scope use": "intended_use.out_of_scope", "out of scope": "intended_use.out_of_scope",
    "limitations": "caveats", "known limitations": "caveats", "caveats": "caveats",
    "bias, risks, and limitations": "caveats", "risks and limitations": "caveats",
    "recommendations": "recommendations",
    "factors": "factors",
    "training data": "training_data.description",
    "training procedure": "training_data.preprocessing", "preprocessing": "training_data.preprocessing",
    "evaluation data": "evaluation_data.description", "testing data": "evaluation_data.description",
    "ethical considerations": "ethical_considerations",
    "trade-offs": "tradeoffs", "tradeoffs": "tradeoffs",
    "citation": "model_details.citation",
}
_LIST_FIELDS = {"intended_use.primary_uses", "intended_use.primary_users", "intended_use.out_of_scope", "caveats",
                "recommendations", "tradeoffs"}
_NAMED_FIELDS = {"factors", "ethical_considerations"}  # lists of {name: ...}
_PLACEHOLDER = "[More Information Needed]"
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")

# Front matter keys taken as they are: key -> card field (dotted).
_DIRECT = {"pipeline_tag": "model_details.type", "library_name": "model_details.framework"}


def read_hf(text: str, path: str) -> Imported:
    front, body, body_line, problems = _split(text, path)
    document = None
    if front is not None:
        document, yaml_problems = parse_yaml(front, path)
        problems += [Problem(p.path, p.line + 1, p.col, p.key_path, p.message, p.severity) for p in yaml_problems]
    meta = document.data if document is not None and isinstance(document.data, dict) else {}
    if document is not None and document.data is not None and not isinstance(document.data, dict):
        problems.append(Problem(path, 2, 1, "", "found front matter that is not a mapping, expected key: value lines"))

    def locate(key_path: tuple) -> tuple[int, int]:
        if document is None:
            return 1, 1
        line, col = document.position(key_path, of_key=names_a_key(key_path))
        return line + 1, col  # the front matter starts on the line after ---

    left = Leftovers("hf", path, locate)
    card: dict[str, Any] = {}
    indexed_name = _front_matter(meta, card, left)
    h1 = _body(body, body_line, card, left)
    title = str(meta.get("model_name") or h1 or indexed_name or "Imported model")
    card = {"name": slug(indexed_name or title), "title": title, **card}  # model-index names the model's repo
    if left.kept:
        card["custom"] = {"hf": left.kept}
    return Imported(card, problems + left.problems)


def _split(text: str, path: str) -> tuple[str | None, str, int, list[Problem]]:
    """Front matter text (None without one), the body, and the body's first line number."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        return None, "\n".join(lines), 1, []
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            return "\n".join(lines[1:index]) + "\n", "\n".join(lines[index + 1:]), index + 2, []
    return None, "\n".join(lines), 1, [Problem(path, 1, 1, "", "found front matter opened with --- and never "
                                                                "closed, expected a second --- line")]


def _front_matter(meta: dict[str, Any], card: dict[str, Any], left: Leftovers) -> str | None:
    """Fill ``card`` from the front matter; return the model's name from model-index, if any."""
    title = None
    for key, value in meta.items():
        if key == "license" and isinstance(value, str):
            card["license"] = meta.get("license_name") if value == "other" and meta.get("license_name") else value
        elif key == "license_name" and meta.get("license") == "other":
            pass  # taken as the license above
        elif key == "license_link" and isinstance(value, str):
            _add(card, "model_details.references", [value])
        elif key == "tags" and _strings(value):
            card["tags"] = list(dict.fromkeys(slug(tag) for tag in _as_list(value)))
        elif key == "datasets" and _strings(value):
            _add(card, "training_data.datasets", [slug(name) for name in _as_list(value)])
        elif key == "base_model" and _strings(value):
            first, *others = _as_list(value)
            _set(card, "model_details.base_model", first)
            for index, other in enumerate(others, start=1):
                left.keep((key, index), other)
        elif key in _DIRECT and isinstance(value, str):
            _set(card, _DIRECT[key], value)
        elif key == "metrics" and _strings(value):
            for name in _as_list(value):
                _metric(card, slug(name, "metric"))
        elif key == "model_name":
            pass  # the title
        elif key == "model-index" and isinstance(value, list):
            title = _model_index(value, card, left)
        else:
            left.keep((key,), value)
    return title


def _model_index(entries: list[Any], card: dict[str, Any], left: Leftovers) -> str | None:
    title = None
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            left.keep(("model-index", i), entry)
            continue
        for key, value in entry.items():
            if key == "name" and isinstance(value, str):
                title = title or value
            elif key == "results" and isinstance(value, list):
                for j, result in enumerate(value):
                    _result(result, ("model-index", i, "results", j), card, left)
            else:
                left.keep(("model-index", i, key), value)
    return title


def _result(result: Any, at: tuple, card: dict[str, Any], left: Leftovers) -> None:
    """One model-index result: a task, a dataset and its metrics -> one sliced result per metric."""
    if not isinstance(result, dict):
        left.keep(at, result)
        return
    task = result.get("task") if isinstance(result.get("task"), dict) else {}
    for key, value in task.items():
        if key == "type" and isinstance(value, str) and _get(card, "model_details.type") in (None, value):
            _set(card, "model_details.type", value)
        elif key != "name" or not isinstance(value, str):  # the task's display name says what its type says
            left.keep((*at, "task", key), value)
    dataset = result.get("dataset") if isinstance(result.get("dataset"), dict) else {}
    # A dataset's config is a subset of it: the slice. Without one, the result is on the whole dataset.
    config = dataset.get("config") if dataset.get("config") != "default" else None
    slice_name = str(config or dataset.get("name") or dataset.get("type") or "all")
    for key, value in dataset.items():
        if key == "type" and isinstance(value, str):
            _add(card, "evaluation_data.datasets", [slug(value)])
        elif key not in ("name", "config"):
            left.keep((*at, "dataset", key), value)
    for key, value in result.items():
        if key not in ("task", "dataset", "metrics") or (key in ("task", "dataset") and not isinstance(value, dict)):
            left.keep((*at, key), value)
    metrics = result.get("metrics")
    if metrics is not None and not isinstance(metrics, list):
        left.keep((*at, "metrics"), metrics)
    for k, metric in enumerate(metrics if isinstance(metrics, list) else []):
        where = (*at, "metrics", k)
        value = number(metric.get("value")) if isinstance(metric, dict) else None
        if not isinstance(metric, dict) or not isinstance(metric.get("type"), str) or value is None:
            left.keep(where, metric)
            continue
        name = slug(metric["type"], "metric")
        described = metric.get("name")
        # A metric's display name that only repeats its type (or says which slice) describes nothing.
        if not isinstance(described, str) or described == metric["type"] or described.startswith(metric["type"] + " on "):
            described = None
        _metric(card, name, described)
        card.setdefault("quantitative_analyses", []).append({"metric": name, "slice": slice_name, "value": value})
        for key, extra in metric.items():
            if key not in ("type", "value", "name"):
                left.keep((*where, key), extra)


def _body(body: str, first_line: int, card: dict[str, Any], left: Leftovers) -> str | None:
    """Fill ``card`` from the Markdown sections; return the first level-1 heading."""
    h1 = None
    sections: list[tuple[int, str, list[str]]] = []  # (line, heading, content lines)
    fenced = False
    for line_number, line in enumerate(body.split("\n"), start=first_line):
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match and len(match.group(1)) == 1 and h1 is None:
            h1 = _plain(match.group(2))
            sections.append((line_number, "", []))  # text under the title: the summary, when no section gives one
        elif match:
            sections.append((line_number, match.group(0).strip(), []))
        elif sections:
            sections[-1][2].append(line)
        elif line.strip():
            sections.append((line_number, "", [line]))
    for line_number, heading, lines in sections:
        content = "\n".join(lines).strip()
        if not content or content == _PLACEHOLDER:
            continue
        target = SECTION_FIELDS.get(_normalised(heading)) if heading else "summary"
        if target == "summary" and not heading and "summary" in card:
            target = None
        rows = _table_rows(content)
        if target is None and _normalised(heading).startswith("metrics") and rows is not None:
            _metrics_table(card, rows)  # | Metric | Value | Threshold | Description |, as modelcards export writes it
        elif target is None:
            left.keep((), content, where=(line_number, 1), label=heading or "text before the first section")
        else:
            _fill(card, target, content)
    return h1


def _fill(card: dict[str, Any], target: str, content: str) -> None:
    rows = _table_rows(content)
    if target == "summary" and rows is not None:
        _details(card, rows)
    elif target in _LIST_FIELDS:
        _add(card, target, _items(content))
    elif target in _NAMED_FIELDS and rows is not None:  # | Risk | Mitigation |, as modelcards export writes it
        _add(card, target, [{"name": row[0], **({"mitigation": row[1]} if len(row) > 1 and row[1] else {})}
                            for row in rows if row and row[0]])
    elif target in _NAMED_FIELDS:
        _add(card, target, [_named(item) for item in _items(content)])
    else:
        previous = _get(card, target)
        content = _unescaped(content)
        _set(card, target, f"{previous}\n\n{content}" if previous else content)


# A key-value table of model details (as modelcards export writes it) -> card fields; other rows say what the
# card's own sections or the front matter say already.
_DETAIL_ROWS = {"status": "status", "risk tier": "risk_tier", "type": "model_details.type",
                "framework": "model_details.framework", "architecture": "model_details.architecture",
                "base model": "model_details.base_model"}
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}")
_BOLD_NAME = re.compile(r"^\*\*(.+?)\*\*:?\s*(.*)$", re.S)


def _table_rows(content: str) -> list[list[str]] | None:
    """The body rows of a Markdown table that is all of ``content``, each cell unescaped; else None."""
    lines = [line.strip() for line in content.strip().split("\n")]
    if len(lines) < 2 or not all(line.startswith("|") for line in lines) or not _TABLE_RULE.match(lines[1]):
        return None
    return [[_unescaped(cell.strip()) for cell in re.split(r"(?<!\\)\|", line.strip("|"))] for line in lines[2:]]


def _details(card: dict[str, Any], rows: list[list[str]]) -> None:
    for row in rows:
        field = _DETAIL_ROWS.get(row[0].lower()) if len(row) > 1 else None
        if field and row[1] and _get(card, field) is None:
            _set(card, field, row[1])


_THRESHOLD = re.compile(r"^(≥|>=|≤|<=)\s*(\S+)$")


def _metrics_table(card: dict[str, Any], rows: list[list[str]]) -> None:
    """Each metric's description and threshold; its value is the model-index's."""
    for row in rows:
        if not row or not row[0]:
            continue
        name = slug(row[0], "metric")
        _metric(card, name, row[3] if len(row) > 3 and row[3] else None)
        bound = _THRESHOLD.match(row[2]) if len(row) > 2 else None
        if bound and number(bound.group(2)) is not None:
            metric = next(m for m in card["metrics"] if m["name"] == name)
            metric.update(threshold=number(bound.group(2)), higher_is_better=bound.group(1) in ("≥", ">="))


def _named(item: str) -> dict[str, str]:
    """A bullet "**name**: description" (as the Hub's template and modelcards export write them) or just a name."""
    match = _BOLD_NAME.match(item)
    if not match:
        return {"name": item}
    return {"name": match.group(1), **({"description": match.group(2)} if match.group(2) else {})}


def _unescaped(text: str) -> str:
    """Markdown's backslash escapes and HTML's character references read as the characters they stand for."""
    return html.unescape(re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>~=])", r"\1", text))


def _items(content: str) -> list[str]:
    """Bullets as items; a paragraph without bullets is one item."""
    items: list[str] = []
    for paragraph in re.split(r"\n\s*\n", content):
        lines = paragraph.strip().split("\n")
        if any(_BULLET.match(line) for line in lines):
            for line in lines:
                if _BULLET.match(line):
                    items.append(_unescaped(_BULLET.sub("", line).strip()))
                elif items and line.strip():
                    items[-1] += " " + line.strip()  # a bullet's continuation line
        elif paragraph.strip() and paragraph.strip() != _PLACEHOLDER:
            items.append(_unescaped(" ".join(line.strip() for line in lines)))
    return [item for item in items if item]


def _normalised(heading: str) -> str:
    text = _plain(heading.lstrip("#")).lower().replace("&", "and").rstrip(":").strip()
    return re.sub(r"\s+", " ", text)


def _plain(text: str) -> str:
    return re.sub(r"[*_`]", "", text).strip()


def _metric(card: dict[str, Any], name: str, description: Any = None) -> None:
    metrics = card.setdefault("metrics", [])
    known = next((metric for metric in metrics if metric["name"] == name), None)
    if known is None:
        metrics.append({"name": name, **({"description": description} if isinstance(description, str) else {})})
    elif isinstance(description, str) and "description" not in known:
        known["description"] = description


def _strings(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and bool(value)
                                       and all(isinstance(item, str) for item in value))


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _get(card: dict[str, Any], dotted: str) -> Any:
    node: Any = card
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _set(card: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = card
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _add(card: dict[str, Any], dotted: str, items: list[Any]) -> None:
    existing = _get(card, dotted) or []
    _set(card, dotted, existing + [item for item in items if item not in existing])
