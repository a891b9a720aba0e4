"""What every importer shares: the imported card, the leftovers it reports, and the card file it writes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

import yaml

from ..cards.loader import load_card_text
from ..cards.scaffold import SCHEMA_COMMENT
from ..cards.schema import SLUG_PATTERN
from ..cards.yaml_source import format_key_path
from ..errors import Problem


@dataclass
class Imported:
    """The card's fields as a mapping, and every problem found on the way (warnings: what was not mapped)."""

    card: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)


# The order a person writing a card by hand would use (the order of ModelCard's fields).
_FIELD_ORDER = ("name", "title", "summary", "owners", "tags", "status", "risk_tier", "license", "model_details",
                "intended_use", "factors", "metrics", "training_data", "evaluation_data", "quantitative_analyses",
                "ethical_considerations", "caveats", "recommendations", "tradeoffs", "versions", "custom")


def slug(text: str, fallback: str = "imported-model") -> str:
    """``Stanford NLP/IMDB`` -> ``stanford-nlp-imdb``: a name the card format accepts."""
    value = re.sub(r"[^a-z0-9._-]+", "-", str(text).lower()).strip("-._")[:100]
    return value if re.match(SLUG_PATTERN, value) else fallback


def number(value: Any) -> float | None:
    """A metric value as a number: JSON and YAML numbers, and numbers written as strings (MCT 0.0.2 does)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


class _CardDumper(yaml.SafeDumper):
    """Text of several lines as a literal block (``|``), as a person writes it in a card."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and all(line == line.rstrip() for line in value.split("\n")):  # trailing spaces need quotes
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_CardDumper.add_representer(str, _text)


def names_a_key(key_path: tuple) -> bool:
    """Whether a warning about ``key_path`` points at a key (``a.b``) rather than at a list item (``a[1]``)."""
    return bool(key_path) and isinstance(key_path[-1], str)


def card_yaml(card: dict[str, Any], source: str, fmt: str) -> str:
    """The card as a YAML file, fields in the usual order, empty sections left out."""
    ordered = {key: card[key] for key in _FIELD_ORDER if card.get(key) not in (None, [], {}, "")}
    ordered.update({key: value for key, value in card.items() if key not in ordered and value not in (None, [], {})})
    body = yaml.dump(ordered, Dumper=_CardDumper, sort_keys=False, allow_unicode=True, width=110,
                     default_flow_style=False)
    return (f"{SCHEMA_COMMENT}\n# Imported from {source} by `modelcards import {fmt}`; review it, then check it with:\n"
            f"# modelcards validate\n\n{body}")


def check_written_card(text: str, path: str) -> list[Problem]:
    """The problems the card loader finds in the card about to be written (none, unless the source was odd)."""
    _, problems = load_card_text(text, path)
    return problems


class Leftovers:
    """What a source holds that no card field takes: one warning each, at its place, the value kept in custom."""

    def __init__(self, fmt: str, path: str, locate: Callable[[tuple], tuple[int, int]]):
        self.fmt, self.path, self.locate = fmt, path, locate
        self.kept: dict[str, Any] = {}
        self.problems: list[Problem] = []

    def keep(self, key_path: tuple, value: Any, *, where: tuple[int, int] | None = None, label: str = "") -> None:
        name = label or format_key_path(key_path)
        self.kept[name] = value
        self.warn(key_path, f"not mapped to the card; kept under custom.{self.fmt}", where=where, label=label)

    def drop(self, key_path: tuple, why: str) -> None:
        self.warn(key_path, f"not mapped to the card; left out: {why}")

    def warn(self, key_path: tuple, message: str, *, where: tuple[int, int] | None = None, label: str = "") -> None:
        line, col = where or self.locate(key_path)
        self.problems.append(Problem(self.path, line, col, label or format_key_path(key_path), message, "warning"))
