"""Card files -> validated cards, with every problem placed at ``path:line:col``."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Problem
from ..text import NotUtf8, decode_utf8
from ..sources.masking import KEY_LOOKS_SECRET, KEY_MATCHES_PATTERN, SecretMasker
from .schema import CUSTOM_NAMESPACE, Card, card_class
from .yaml_source import KeyPath, YamlDocument, parse_yaml

CARD_SUFFIXES = (".yml", ".yaml")
CARD_KINDS = ("model", "dataset")


@dataclass(frozen=True)
class LoadedCard:
    """A validated card and the document it came from, for positions in later checks."""

    path: str
    card: Card
    document: YamlDocument


def find_card_files(paths: list[Path]) -> list[Path]:
    """Every ``*.yml``/``*.yaml`` entry under ``paths``, in a stable order.

    Symlinks and folders with a card's name are kept, so that ``load_cards`` can say why they are not
    cards rather than leave them out without a word.
    """
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(p for p in path.rglob("*") if p.suffix in CARD_SUFFIXES)
        else:
            found.add(path)
    return sorted(found)


ParsedCards = dict[tuple[str, str], tuple[LoadedCard | None, list[Problem]]]


def load_cards(files: list[Path], *, relative_to: Path | None = None, masker: SecretMasker | None = None,
               parsed: ParsedCards | None = None) -> tuple[list[LoadedCard], list[Problem]]:
    """Parse and validate card files; collect every problem rather than stopping at the first.

    ``masker`` decides what a credential looks like (the built-in shapes when None). ``parsed`` (kept by a
    preview from one call to the next, with the same masker) holds each card's result by its path and text:
    a card whose text did not change is not parsed again. It is left holding this call's cards only.
    """
    masker = masker or SecretMasker()
    cards: list[LoadedCard] = []
    problems: list[Problem] = []
    kept: ParsedCards = {}
    root = relative_to.resolve() if relative_to is not None else None  # once: resolving asks the file system
    for file in files:
        shown = _display_path(file, root)
        refused = _not_a_card_file(file, relative_to)
        if refused:
            problems.append(Problem(shown, 1, 1, "", refused))
            continue
        try:
            text = decode_utf8(file.read_bytes())
        except FileNotFoundError:
            problems.append(Problem(shown, 1, 1, "", "file not found"))
            continue
        except OSError as exc:
            problems.append(Problem(shown, 1, 1, "", f"cannot read the file ({exc.strerror or exc})"))
            continue
        except NotUtf8 as exc:
            problems.append(Problem(shown, exc.line, exc.col, "", exc.message))
            continue
        key = (shown, text)
        result = parsed.get(key) if parsed is not None else None
        loaded, found = result if result is not None else load_card_text(text, shown, masker)
        kept[key] = (loaded, found)
        problems.extend(found)
        if loaded is not None:
            cards.append(loaded)
    if parsed is not None:
        parsed.clear()
        parsed.update(kept)
    return cards, problems


def _not_a_card_file(file: Path, project: Path | None) -> str | None:
    """Why ``file`` is not read as a card: a folder, a broken symlink, or a symlink out of the project.

    Everything in a card is published, so a card must be a file the project holds (and reviews).
    """
    if file.is_symlink():
        target = os.readlink(file)
        try:
            resolved = file.resolve(strict=True)
        except (OSError, RuntimeError) as exc:  # RuntimeError: a loop, on Python < 3.13
            why = "which does not exist" if isinstance(exc, FileNotFoundError) else "which leads to itself (a loop)"
            return f"found a symlink to '{target}', {why}; expected a card file"
        if project is not None and file.absolute().is_relative_to(project.resolve()) \
                and not resolved.is_relative_to(project.resolve()):
            return (f"found a symlink to '{target}', which is outside the project folder; expected a card file "
                    "inside the project (everything in a card is published)")
    if file.is_dir():
        return f"found a folder named like a card, expected a card file (a {'/'.join(CARD_SUFFIXES)} file)"
    return None


def load_card_text(text: str, path: str, masker: SecretMasker | None = None) -> tuple[LoadedCard | None, list[Problem]]:
    document, problems = parse_yaml(text, path)
    if document is None:
        return None, problems
    problems += credential_problems(document, masker or SecretMasker())
    if not isinstance(document.data, dict):
        found = "an empty file" if document.data is None else f"a {_type_name(document.data)}"
        problems.append(document.problem((), f"found {found}, expected a mapping of card fields (name, title, ...)"))
        return None, problems
    kind = document.data.get("kind", "model")
    if kind not in CARD_KINDS:  # checked first: a typo here would report every field against the wrong schema
        close = difflib.get_close_matches(str(kind), CARD_KINDS, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(document.problem(("kind",), f"found {_found(kind)}, expected one of: {', '.join(CARD_KINDS)}{hint}"))
        return None, problems
    schema = card_class(document.data)
    try:
        card = schema.model_validate(document.data)
    except ValidationError as exc:
        problems.extend(problem_from_error(error, schema, document) for error in exc.errors())
        return None, problems
    if problems:  # duplicate keys make the card ambiguous even when it validates
        return None, problems
    document.release_positions(text)
    return LoadedCard(path, card, document), problems


def credential_problems(document: YamlDocument, masker: SecretMasker) -> list[Problem]:
    """An error at every credential written in a card: cards are reviewed in git and published whole.

    Every key and string is checked, ``custom:`` included; the message names the kind of credential,
    never the credential itself.
    """
    problems: list[Problem] = []
    fix = "remove the credential from the card"

    def check(value: Any, key_path: KeyPath) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                path = key_path + (key,)
                reason = masker.text_reason(key)
                if reason:
                    problems.append(document.problem(path, f"found {reason} in a key; {fix}", of_key=True))
                elif isinstance(child, str) and (reason := _secret_under_key(masker, key, child)):
                    problems.append(document.problem(path, f"found {reason}; {fix}"))
                else:
                    check(child, path)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                check(item, key_path + (index,))
        elif isinstance(value, str) and (reason := masker.text_reason(value)):
            problems.append(document.problem(key_path, f"found {reason}; {fix}"))

    check(document.data, ())
    return problems


_SECRET_KEY_FINDINGS = {KEY_LOOKS_SECRET: "a value under a key that looks secret",
                        KEY_MATCHES_PATTERN: "a value under a key that matches secret_keys"}


def _secret_under_key(masker: SecretMasker, key: str, value: str) -> str | None:
    """What makes ``value`` a credential because of its key; prose is not one (``auth: SSO via Okta``)."""
    reason = masker.entry_reason(key, value)
    if reason in _SECRET_KEY_FINDINGS:
        return None if any(c.isspace() for c in value) else _SECRET_KEY_FINDINGS[reason]
    return reason


def _display_path(file: Path, root: Path | None) -> str:
    """``file`` shown relative to ``root`` (resolved) when it is inside it."""
    if root is not None:
        try:
            # The path as found, not where a symlink leads: the link is what the user has in cards/.
            return Path(os.path.abspath(file)).relative_to(root).as_posix()
        except ValueError:
            pass
    return file.as_posix()


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "mapping", list: "list", str: "string", int: "number", float: "number", bool: "boolean",
    }.get(type(value), type(value).__name__)


def _found(value: Any) -> str:
    if isinstance(value, (dict, list)) or value is None:
        return f"a {_type_name(value)}"
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "...'"
    return f"{_type_name(value)} {shown}"


_EXPECTED = {
    "string_type": "a string",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def problem_from_error(error: dict[str, Any], schema: type[BaseModel], document: YamlDocument, *,
                       custom_hint: bool = True) -> Problem:
    """A pydantic error as a problem at its line; ``custom_hint`` points unknown top-level keys at ``custom:``."""
    loc: KeyPath = tuple(part for part in error["loc"] if not _is_union_branch(part))
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _known_fields(schema, loc[:-1])
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"expected one of: {', '.join(sorted(known))}"
        custom = f"{' ' if close else '. '}Put your own fields under '{CUSTOM_NAMESPACE}:'." if len(loc) == 1 and custom_hint else ""
        return document.problem(loc, f"unknown key '{key}'; {hint}{custom}", of_key=True)
    if kind == "missing":
        return document.problem(loc[:-1], f"missing required key '{loc[-1]}'{_typo_for(document, loc)}")
    if kind in _EXPECTED:
        message = f"found {_found(value)}, expected {_EXPECTED[kind]}"
        if kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
            written = document.scalar_text.get(loc, str(value))
            message += f"; quote it: \"{written}\""
        return document.problem(loc, message)
    if kind in ("enum", "literal_error"):
        expected = error.get("ctx", {}).get("expected", "")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",") if o.strip()]
        # A prefix ('prod') is the likeliest slip; a loose ratio alone suggests 'archived' for 'live'.
        close = [o for o in options if str(value) and o.startswith(str(value))][:1] or difflib.get_close_matches(
            str(value), options, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return document.problem(loc, f"found {_found(value)}, expected one of: {', '.join(options)}{hint}")
    if kind == "string_pattern_mismatch":
        return document.problem(
            loc, f"found {_found(value)}, expected a slug: lowercase letters, digits, '-', '_' or '.', "
            "starting with a letter or digit"
        )
    if kind in ("greater_than_equal", "greater_than"):
        at_least = kind == "greater_than_equal"
        bound = error["ctx"]["ge" if at_least else "gt"]
        return document.problem(loc, f"found {_found(value)}, expected a number {'≥' if at_least else '>'} {bound}")
    if kind == "value_error":
        return document.problem(loc, str(error["ctx"]["error"]))
    return document.problem(loc, f"found {_found(value)}: {error['msg']}")


def _typo_for(document: YamlDocument, loc: KeyPath) -> str:
    """Point a missing key at a present key that looks like a misspelling of it."""
    present = [path[-1] for path in document.key_positions if path[:-1] == loc[:-1]]
    close = difflib.get_close_matches(str(loc[-1]), [str(p) for p in present], n=1, cutoff=0.75)
    if not close:
        return ""
    line, _ = document.key_positions[loc[:-1] + (close[0],)]
    return f" (is '{close[0]}' at line {line} meant to be it?)"


def _is_union_branch(part: str | int) -> bool:
    # pydantic adds the branch name (e.g. "str", "function-before[...]") to union locations
    return isinstance(part, str) and (part in ("str", "int", "float", "bool") or "[" in part)


def _known_fields(schema: type[BaseModel], loc: KeyPath) -> list[str]:
    """Field names of the model found at ``loc`` inside ``schema``."""
    model: Any = schema
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if _is_model(model) else None
        if field is None:
            return []
        model = _inner_model(field.annotation)
    return list(model.model_fields) if _is_model(model) else []


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _inner_model(annotation: Any) -> Any:
    """The model class inside ``list[X]``, ``X | None`` and friends."""
    if _is_model(annotation):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
