"""Problems found in user input, and the exceptions that carry them.

Every problem knows where it is (``path:line:col``) and which key it is about, so
that the CLI and the MkDocs plugin can print it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

Severity = Literal["error", "warning", "info"]  # info: never a failure, even under --strict

# Exit codes shared by every command; documented in docs/reference/cli.md.
EXIT_OK = 0
EXIT_INVALID_INPUT = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a card, at one place in one file."""

    path: str
    line: int
    col: int
    key_path: str
    message: str
    severity: Severity = "error"

    def format(self) -> str:
        """``cards/x.yml:3:5: error: versions[0].date: found '2024-13-01', expected ...``"""
        where = f"{self.key_path}: " if self.key_path else ""
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {where}{self.message}"

    def format_github(self) -> str:
        """A GitHub Actions workflow command, shown as an annotation on the file."""
        level = {"error": "error", "warning": "warning"}.get(self.severity, "notice")
        text = f"{self.key_path}: {self.message}" if self.key_path else self.message
        # Workflow commands end at a newline and treat % specially.
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        path = self.path.replace("%", "%25").replace(",", "%2C").replace(":", "%3A")
        return f"::{level} file={path},line={self.line},col={self.col},title=modelcards::{text}"


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems))


class ModelcardsError(Exception):
    """Base class for every error modelcards reports to a user."""

    exit_code = EXIT_INVALID_INPUT


class InvalidCards(ModelcardsError):
    """The cards have errors; all of them are collected here."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sort_problems(problems)
        errors = sum(p.severity == "error" for p in self.problems)
        warnings = sum(p.severity == "warning" for p in self.problems)
        super().__init__(f"{errors} error(s), {warnings} warning(s) in the cards")

    def format_message(self) -> str:
        return "\n".join(p.format() for p in self.problems) + f"\n{self}"

    def __reduce__(self):  # pickled with its problems, not its message, to come back from another process
        return InvalidCards, (self.problems,)


class ExplainError(ModelcardsError):
    """A model or data file cannot be explained; the message names the file."""


class EnvironmentProblem(ModelcardsError):
    """Something outside the cards is missing, such as a config file or a program."""

    exit_code = EXIT_ENVIRONMENT
