"""Feedback entries from an issue tracker's JSON Lines export, in the shape of a card's ``feedback:`` entries.

One JSON object a line::

    {"id": "ML-123", "date": "2026-03-01", "kind": "incident", "summary": "Small tumours missed.",
     "model": "bc", "version": "1.1.0", "status": "resolved", "resolved_by": "1.2.0",
     "link": "https://tracker.example.com/ML-123", "source": "Jira", "environment": "production"}

``id, date, kind, summary, model, version`` are required; ``status`` is ``open`` when left out. A bad line is a
warning at ``path:line:col`` and is skipped; every text goes through the project's secrets masker. Which model
and versions a line names is checked against the cards in ``monitor``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cards.schema import Feedback, FeedbackKind, FeedbackStatus
from ..errors import Problem
from ..sources.masking import MaskedValue, SecretMasker
from ..sources.reading import shown
from ..text import NotUtf8, decode_utf8

REQUIRED = ("id", "date", "kind", "summary", "model", "version")
OPTIONAL = ("status", "resolved_by", "link", "source", "environment")


@dataclass(frozen=True)
class TrackerFeedback:
    """A feedback entry read from a tracker export, and where: ``path:line``."""

    model: str
    entry: Feedback
    origin: str


@dataclass
class TrackerExport:
    entries: list[TrackerFeedback] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    masked: list[MaskedValue] = field(default_factory=list)


def read_feedback(entries: list[str] | tuple[str, ...], *, project_dir: Path,
                  masker: SecretMasker | None = None) -> TrackerExport:
    """Every entry of the ``feedback`` setting's JSON Lines files (relative to ``project_dir``)."""
    masker = masker or SecretMasker()
    found = TrackerExport()
    root = project_dir.resolve()
    for entry in entries:
        path = (project_dir / entry).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            why = "outside the project folder" if not path.is_relative_to(root) else "not a file"
            found.problems.append(Problem("mkdocs.yml", 1, 1, "plugins.modelcards.feedback", (
                f"found '{entry}', which is {why}; expected a JSON Lines export of an issue tracker inside {root}"),
                "error"))
            continue
        name = shown(path, root)
        try:
            text = decode_utf8(path.read_bytes())
        except NotUtf8 as exc:
            found.problems.append(Problem(name, exc.line, exc.col, "", exc.message, "warning"))
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                _read_line(line, name, number, masker, found)
    return found


def _read_line(line: str, name: str, number: int, masker: SecretMasker, found: TrackerExport) -> None:
    def problem(key: str, message: str) -> None:
        at = line.find(json.dumps(key)) if key else -1
        found.problems.append(Problem(name, number, at + 1 if at >= 0 else 1, key, message, "warning"))

    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        found.problems.append(Problem(name, number, exc.colno, "", f"not valid JSON: {exc.msg}; expected one feedback "
                                      "entry as a JSON object a line", "warning"))
        return
    except (ValueError, RecursionError):
        problem("", "found JSON that cannot be read, expected one feedback entry as a JSON object a line")
        return
    if not isinstance(row, dict):
        problem("", f"found {type(row).__name__}, expected a JSON object with {', '.join(REQUIRED)}")
        return
    origin = f"{name}:{number}"
    texts: dict[str, str] = {}
    for key in (*REQUIRED, *OPTIONAL):
        value = row.get(key)
        if value is None and key in OPTIONAL:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key in ("id", "version", "resolved_by"):
            value = str(value)  # trackers write numeric ids
        if not isinstance(value, str) or not value.strip():
            shown_value = "nothing" if value is None or value == "" else json.dumps(value)
            problem(key, f"found {shown_value}, expected {_EXPECTED[key]}")
            return
        cleaned, reason = masker.mask_text(value.strip())
        if reason:
            found.masked.append(MaskedValue(origin, key, reason))
        texts[key] = cleaned
    try:
        day = dt.date.fromisoformat(texts["date"][:10])
    except ValueError:
        problem("date", f"found {json.dumps(texts['date'])}, expected {_EXPECTED['date']}")
        return
    for key, kinds in (("kind", FeedbackKind), ("status", FeedbackStatus)):
        if key in texts and texts[key] not in {k.value for k in kinds}:
            problem(key, f"found {json.dumps(texts[key])}, expected {_EXPECTED[key]}")
            return
    entry = Feedback(date=day, kind=FeedbackKind(texts["kind"]), summary=texts["summary"], version=texts["version"],
                     source=texts.get("source", "issue tracker"), link=texts.get("link", texts["id"]),
                     environment=texts.get("environment"), status=FeedbackStatus(texts.get("status", "open")),
                     resolved_by=texts.get("resolved_by"))
    found.entries.append(TrackerFeedback(texts["model"], entry, origin))


_EXPECTED: dict[str, Any] = {
    "id": "the ticket's id, e.g. \"ML-123\"",
    "date": "the day it was reported, YYYY-MM-DD (or an ISO 8601 time)",
    "kind": "one of " + ", ".join(k.value for k in FeedbackKind),
    "summary": "what was reported",
    "model": "a model card's name",
    "version": "the model version it is about, one of the card's versions",
    "status": "one of " + ", ".join(s.value for s in FeedbackStatus),
    "resolved_by": "the later version that fixed it",
    "link": "a link to the ticket",
    "source": "who or what reported it",
    "environment": "where it was seen, e.g. production",
}
