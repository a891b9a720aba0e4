"""Safe YAML that remembers where every key and value came from.

Plain PyYAML forgets positions, silently keeps the last of two duplicate keys and
turns ``2024-01-05`` into a date behind the schema's back. This loader keeps the
line and column of every key path, reports duplicate keys, and leaves dates as
strings so that the schema decides what a valid date is. Every YAML file modelcards reads from a
user goes through it, so tags, alias bombs, deep nesting and control characters are refused in
one place, at their line.
"""

from __future__ import annotations

import itertools
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


class YamlDocument:
    """A parsed YAML file plus the position (1-based line, col) of each key path."""

    def __init__(self, path: str, data: Any, value_positions: dict[KeyPath, tuple[int, int]] | None = None,
                 key_positions: dict[KeyPath, tuple[int, int]] | None = None,
                 scalar_text: dict[KeyPath, str] | None = None) -> None:
        self.path, self.data = path, data
        self._tables = (value_positions if value_positions is not None else {},
                        key_positions if key_positions is not None else {},
                        scalar_text if scalar_text is not None else {})
        self._text: str | None = None  # kept by release_positions, to find them again

    @property
    def value_positions(self) -> dict[KeyPath, tuple[int, int]]:
        return self._positions()[0]

    @property
    def key_positions(self) -> dict[KeyPath, tuple[int, int]]:
        return self._positions()[1]

    @property
    def scalar_text(self) -> dict[KeyPath, str]:
        return self._positions()[2]

    def release_positions(self, text: str) -> None:
        """Let the position tables go, keeping ``text`` (the document as parsed) to find them again.

        The tables are most of a parsed card's memory, about ten times its text, and once a card is checked
        they are read only to place a problem: a catalog of a thousand cards holds hundreds of megabytes of
        them for the few that any later stage reports on. The first position asked for parses ``text`` again.
        """
        self._tables, self._text = None, text

    def __eq__(self, other: object) -> bool:
        # Equal when parsed from the same values at the same places, as a preview compares a saved card with
        # the one it parsed before (the same object, unless the file changed).
        if self is other:
            return True
        if not isinstance(other, YamlDocument):
            return NotImplemented
        return (self.path, self.data, self._positions()) == (other.path, other.data, other._positions())

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it was

    def _positions(self) -> tuple[dict, dict, dict]:
        if self._tables is None:
            again, _ = parse_yaml(self._text or "", self.path)
            self._tables = again._positions() if again is not None else ({}, {}, {})
        return self._tables

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
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or "invalid YAML"
        start = exc.context_mark
        # An unclosed quote or bracket is found only at the end of the file; say where it began.
        began = f" at line {start.line + 1}, column {start.column + 1}" if start and start.line + 1 != line else ""
        context = f" ({exc.context}{began})" if exc.context else ""
        return None, [Problem(path, line, col, "", f"YAML syntax error: {what}{context}")]
    except yaml.reader.ReaderError as exc:
        line, col = _reader_position(text, exc)
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return None, [Problem(path, line, col, "", f"found the control character U+{character:04X}, "
                                                   "expected text (YAML allows no control characters but tab "
                                                   "and line breaks)")]
    except yaml.YAMLError as exc:
        return None, [Problem(path, 1, 1, "", f"YAML error: {exc}")]

    document = YamlDocument(path, None)
    if node is None:
        return document, []
    builder = _Builder(document, loader, text)
    try:
        document.data = builder.value(node, (), 1)
    except _Refused as refused:
        return None, [refused.problem]
    return document, builder.problems


# --- what a document may contain ------------------------------------------------------------------
#
# Cards, dvc.yaml, params and metrics files and MLflow's meta.yaml are plain data. A YAML tag can ask a
# loader to run code (``!!python/name:os.system``) or change what a value means, and nested aliases
# ("billion laughs") let a few hundred bytes expand to billions of values. Both are refused, at the line
# that asks for them, before the expansion costs anything.

MAX_DEPTH = 100  # levels of nesting, counting what aliases bring in; cards need fewer than ten
MAX_ALIASED_VALUES = 100_000  # values that aliases may add on top of the ones written out

_YAML = "tag:yaml.org,2002:"
_STR_TAG = _YAML + "str"
_MERGE_TAG = _YAML + "merge"
_PLAIN_TAGS = {
    yaml.ScalarNode: frozenset(_YAML + name for name in ("str", "int", "float", "bool", "null")),
    yaml.SequenceNode: frozenset({_YAML + "seq"}),
    yaml.MappingNode: frozenset({_YAML + "map"}),
}
_IN_PROGRESS = (-1, -1)
_SCALAR = (1, 1)  # one value, one level


class _Refused(Exception):
    """A document that is not built at all: an unknown tag, an alias bomb, too deep nesting."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


class _Builder:
    """Python values from YAML nodes, remembering positions, and refusing what is not plain data."""

    def __init__(self, document: YamlDocument, loader, text: str):
        self.document, self.loader, self.text = document, loader, text
        self.problems: list[Problem] = []
        # id(node) -> (values it expands to, levels it nests) once built. A node met again is an alias:
        # anchors come before their aliases, so its size is known before it is copied.
        self.built: dict[int, tuple[int, int]] = {}
        self.aliases_met = 0  # aliases written in the document, in order, for placing a problem
        self.aliased_values = 0
        self.copying = 0  # > 0 while an alias's value is copied: aliases inside it were counted already
        self.deepest = 0  # the deepest level reached inside the node being built

    def value(self, node: yaml.Node, key_path: KeyPath, depth: int) -> Any:
        """The value of ``node`` at ``depth`` levels; records in ``self.built`` what it expands to."""
        known = self.built.get(id(node))
        if known is not None:
            if not self.copying:  # an alias written in the document, not one inside a copied value
                self._alias(known, depth)
            self.deepest = max(self.deepest, depth - 1 + known[1])
            self.copying += 1
            try:
                return self._build(node, key_path, depth)
            finally:
                self.copying -= 1
        if node.tag not in _PLAIN_TAGS[type(node)]:
            raise self._refuse(node, f"found the tag '{_short_tag(node.tag)}', expected plain YAML values "
                               "(strings, numbers, true/false, null, lists and mappings); tags are refused "
                               "because they can run code or change what a value means")
        if depth > MAX_DEPTH:
            raise self._refuse(node, f"found values nested more than {MAX_DEPTH} levels deep, "
                               f"expected at most {MAX_DEPTH}")
        if type(node) is yaml.ScalarNode:  # most nodes: built here rather than through _build, for speed
            self.built[id(node)] = _SCALAR
            if depth > self.deepest:
                self.deepest = depth
            self.document.value_positions.setdefault(key_path, _mark(node))
            self.document.scalar_text[key_path] = node.value
            return node.value if node.tag == _STR_TAG else self._scalar(node)
        self.built[id(node)] = _IN_PROGRESS
        outer_deepest, self.deepest = self.deepest, depth
        values_before = self._count()
        result = self._build(node, key_path, depth)
        self.built[id(node)] = (1 + self._count() - values_before, 1 + self.deepest - depth)
        self.deepest = max(outer_deepest, self.deepest)
        return result

    def _build(self, node: yaml.Node, key_path: KeyPath, depth: int) -> Any:
        self.document.value_positions.setdefault(key_path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, key_path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, key_path + (index,), depth + 1) for index, item in enumerate(node.value)]
        self.document.scalar_text[key_path] = node.value
        return self._scalar(node)

    def _count(self) -> int:
        return len(self.built) + self.aliased_values

    def _alias(self, known: tuple[int, int], depth: int) -> None:
        self.aliases_met += 1
        values, levels = known
        if known == _IN_PROGRESS:
            raise self._refuse_alias("found an alias inside the value it names (a recursive alias), "
                                     "expected a value that ends")
        if depth - 1 + levels > MAX_DEPTH:
            raise self._refuse_alias(f"found an alias that nests values more than {MAX_DEPTH} levels deep, "
                                     f"expected at most {MAX_DEPTH}")
        self.aliased_values += values
        if self.aliased_values > MAX_ALIASED_VALUES:
            raise self._refuse_alias(f"found aliases that expand to more than {MAX_ALIASED_VALUES:,} values "
                                     f"(a 'billion laughs' alias bomb?), expected at most "
                                     f"{MAX_ALIASED_VALUES:,}; write the values out or use fewer aliases")

    def _mapping(self, node: yaml.MappingNode, key_path: KeyPath, depth: int) -> dict[str, Any]:
        document, result = self.document, {}
        merged: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG and isinstance(key_node, yaml.ScalarNode):
                merged.append(value_node)
                continue
            key = self.value(key_node, key_path, depth + 1) if isinstance(key_node, yaml.ScalarNode) \
                else self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                line, col = _mark(key_node)
                self.problems.append(Problem(document.path, line, col, format_key_path(key_path),
                                             f"found a key of type {type(key).__name__}, expected a string key"))
                continue
            key = str(key) if not isinstance(key, str) else key
            child = key_path + (key,)
            if key in result:
                first_line, _ = document.key_positions[child]
                line, col = _mark(key_node)
                self.problems.append(Problem(document.path, line, col, format_key_path(child),
                                             f"duplicate key '{key}' (first defined at line {first_line}); "
                                             "YAML keeps only one, so remove or rename one of them"))
                continue
            document.key_positions[child] = _mark(key_node)
            result[key] = self.value(value_node, child, depth + 1)
        for value_node in merged:
            self._merge(value_node, key_path, depth, result)
        return result

    def _merge(self, value_node: yaml.Node, key_path: KeyPath, depth: int, result: dict[str, Any]) -> None:
        """A merge key (``<<: *defaults``): keys written in the mapping win, then earlier merges."""
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                line, col = _mark(source)
                self.problems.append(Problem(self.document.path, line, col, format_key_path(key_path),
                                             "found a merge key (<<) with something other than a mapping, "
                                             "expected a mapping or a list of mappings to merge"))
                continue
            # Positions stay those of the mapping that merges: the merged values are written elsewhere.
            document, self.document = self.document, YamlDocument(self.document.path, None)
            try:
                for key, value in self.value(source, key_path, depth).items():
                    result.setdefault(key, value)
            finally:
                self.document = document

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STR_TAG:  # skips PyYAML's generic dispatch
            return node.value
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, KeyError, yaml.YAMLError):  # `!!int abc`, or a number too long to read
            line, col = _mark(node)
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            self.problems.append(Problem(self.document.path, line, col, "", f"found '{shown}', which cannot "
                                         f"be read as {_short_tag(node.tag)}; expected a valid value, or quote "
                                         "it to keep it as text"))
            return node.value

    def _refuse(self, node: yaml.Node, message: str) -> _Refused:
        line, col = _mark(node)
        return _Refused(Problem(self.document.path, line, col, "", message))

    def _refuse_alias(self, message: str) -> _Refused:
        """Nodes do not keep where an alias was written: the events are read again to place the problem."""
        aliases = (event.start_mark for event in yaml.parse(self.text, Loader=_BaseLoader)
                   if isinstance(event, yaml.AliasEvent))
        mark = next(itertools.islice(aliases, self.aliases_met - 1, None), None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return _Refused(Problem(self.document.path, line, col, "", message))


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag


def _reader_position(text: str, error: yaml.reader.ReaderError) -> tuple[int, int]:
    """Line and column of the character the YAML reader refused.

    libyaml counts the position in bytes of the UTF-8 text, PyYAML's own reader in characters.
    """
    encoded = text.encode("utf-8")
    offset = len(text[: error.position].encode("utf-8")) if _BaseLoader is yaml.SafeLoader else error.position
    before = encoded[:offset]
    line_start = before.rfind(b"\n") + 1
    return before.count(b"\n") + 1, len(before[line_start:].decode("utf-8", "replace")) + 1


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1
