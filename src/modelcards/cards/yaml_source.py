"""Safe YAML that remembers where every key and value came from.

Plain PyYAML forgets positions, silently keeps the last of two duplicate keys and
turns ``2024-01-05`` into a date behind the schema's back. This loader keeps the
line and column of every key path, reports duplicate keys, and leaves dates as
strings so that the schema decides what a valid date is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ..memory import collector_paused
from ..errors import Problem

try:  # libyaml is several times faster when present
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader

KeyPath = tuple[str | int, ...]


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader without implicit timestamps."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def format_key_path(key_path: KeyPath) -> str:
    """``("versions", 0, "date")`` -> ``versions[0].date``."""
    text = ""
    for part in key_path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass
class YamlDocument:
    """A parsed YAML file plus the position (1-based line, col) of each key path."""

    path: str
    data: Any
    value_positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    scalar_text: dict[KeyPath, str] = field(default_factory=dict)

    def position(self, key_path: KeyPath, *, of_key: bool = False) -> tuple[int, int]:
        """Where ``key_path`` is, or where its closest existing parent is."""
        table = self.key_positions if of_key else self.value_positions
        path = tuple(key_path)
        while path:
            if path in table:
                return table[path]
            if not of_key and path in self.value_positions:
                return self.value_positions[path]
            path = path[:-1]
        return self.value_positions.get((), (1, 1))

    def problem(self, key_path: KeyPath, message: str, *, of_key: bool = False, severity="error") -> Problem:
        line, col = self.position(key_path, of_key=of_key)
        return Problem(self.path, line, col, format_key_path(key_path), message, severity)


def parse_yaml(text: str, path: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse one YAML document; on failure return the problems instead."""
    # A card turns into thousands of short-lived nodes and marks, all freed by reference counting.
    # Letting the cyclic GC walk them as well took a third of the card-loading time at 1,000 cards
    # (benchmarks/build_speed.py), so it waits until the document is built.
    with collector_paused():
        return _parse_yaml(text, path)


def _parse_yaml(text: str, path: str) -> tuple[YamlDocument | None, list[Problem]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or "invalid YAML"
        start = exc.context_mark
        # An unclosed quote or bracket is found only at the end of the file; say where it began.
        began = f" at line {start.line + 1}, column {start.column + 1}" if start and start.line + 1 != line else ""
        context = f" ({exc.context}{began})" if exc.context else ""
        return None, [Problem(path, line, col, "", f"YAML syntax error: {what}{context}")]
    except yaml.YAMLError as exc:
        return None, [Problem(path, 1, 1, "", f"YAML error: {exc}")]
    finally:
        loader.dispose()

    document = YamlDocument(path, None)
    problems: list[Problem] = []
    if node is None:
        document.data = None
        return document, problems
    document.data = _construct(node, (), document, problems, loader)
    return document, problems


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _construct(node, key_path: KeyPath, document: YamlDocument, problems: list[Problem], loader) -> Any:
    document.value_positions.setdefault(key_path, _mark(node))
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                line, col = _mark(key_node)
                problems.append(
                    Problem(document.path, line, col, format_key_path(key_path),
                            f"found a key of type {type(key).__name__}, expected a string key")
                )
                continue
            key = str(key) if not isinstance(key, str) else key
            child = key_path + (key,)
            if key in result:
                first_line, _ = document.key_positions[child]
                line, col = _mark(key_node)
                problems.append(
                    Problem(document.path, line, col, format_key_path(child),
                            f"duplicate key '{key}' (first defined at line {first_line}); "
                            "YAML keeps only one, so remove or rename one of them")
                )
                continue
            document.key_positions[child] = _mark(key_node)
            result[key] = _construct(value_node, child, document, problems, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(item, key_path + (index,), document, problems, loader)
            for index, item in enumerate(node.value)
        ]
    document.scalar_text[key_path] = node.value
    if node.tag == "tag:yaml.org,2002:str":  # most scalars; skips PyYAML's generic dispatch
        return node.value
    return loader.construct_object(node, deep=True)
