"""What every reader returns, and how it reports a bad file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..cards.yaml_source import KeyPath, parse_yaml
from ..errors import Problem
from .record import RunRecord


@dataclass
class ReadResult:
    """Runs read from one source, and the problems found on the way.

    A reader never raises on bad input: it skips what it cannot read, reports it
    here, and keeps going, so one broken file does not hide every other run.
    """

    records: list[RunRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def extend(self, other: ReadResult) -> None:
        self.records += other.records
        self.problems += other.problems

    def problem(self, path: str, message: str, *, line: int = 1, col: int = 1, key_path: str = "") -> None:
        # Warnings: the build goes on without the bad run; `--strict` makes them fatal.
        self.problems.append(Problem(path, line, col, key_path, message, "warning"))


def shown(path: Path, relative_to: Path) -> str:
    """A path as problems show it: relative to the project when inside it, POSIX separators."""
    try:
        return path.relative_to(relative_to).as_posix()  # the common case, without touching the disk
    except ValueError:
        pass
    try:
        return path.resolve().relative_to(relative_to.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def json_position(text: str, where: KeyPath) -> tuple[int, int]:
    """Line and column of the value at ``where`` in a JSON text, or of its closest parent.

    Only looked up to report a problem: the text is parsed again as YAML, which keeps positions and
    reads JSON as well (with the same caps on nesting).
    """
    document, _ = parse_yaml(text, "")
    return document.position(where) if document is not None else (1, 1)
