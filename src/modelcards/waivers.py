"""Waivers: a card's documented exceptions to a rule, shared by the policy gates and frozen approved versions.

A waiver ``{rule, version?, by, reason, expires}`` in a card's ``waivers`` turns a failure of that rule (for that
version, or any version when it names none) into an ``info`` problem: printed, shown on the pages, never a
failure, even under ``--strict``. Once it expires the failure is back, saying so. Expiry is judged on one "as of"
day (``as_of_date``), so a rebuild of the same inputs gives the same answer.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .cards.schema import Waiver
from .cards.yaml_source import KeyPath, YamlDocument
from .errors import Problem, Severity


def as_of_date(environ: Mapping[str, str] = os.environ) -> dt.date:
    """The day expiry and ages are judged on: ``SOURCE_DATE_EPOCH`` (UTC) when set, so builds repeat; else today."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()
    return dt.date.today()


@dataclass(frozen=True)
class Judged:
    """One failure after the card's waivers were applied to it."""

    problem: Problem  # the failure, or (waived) an info note quoting it
    waiver: Waiver | None = None  # the waiver that holds, if one does
    expired: tuple[Waiver, ...] = ()  # waivers of it that have expired


def judge(document: YamlDocument, key_path: KeyPath, message: str, *, rule: str, version: str | None,
          waivers: Sequence[Waiver], as_of: dt.date, used: set[int], prefix: str = "",
          severity: Severity = "warning") -> Judged:
    """A failure of ``rule`` at ``key_path``, waived by the first matching waiver that holds on ``as_of``.

    ``used`` collects the index of every waiver that matched, so that the others can be reported as stale.
    """
    matching = [(i, w) for i, w in enumerate(waivers)
                if w.rule == rule and (w.version is None or w.version == version)]
    used.update(i for i, _ in matching)
    holding = next(((i, w) for i, w in matching if w.expires >= as_of), None)
    if holding is not None:
        index, waiver = holding
        return Judged(document.problem(key_path, severity="info", message=(
            f"{prefix}waived by {waiver.by} until {waiver.expires} (waivers[{index}]): {message}")), waiver)
    lapsed = tuple(w for _, w in matching)
    note = "".join(f"; the waiver by {w.by} expired on {w.expires}" for w in lapsed)
    return Judged(document.problem(key_path, prefix + message + note, severity=severity), None, lapsed)


def stale_waiver(document: YamlDocument, index: int, waiver: Waiver, why: str, *, prefix: str = "") -> Problem:
    """A waiver that matches no failure is a warning: it hides nothing, and it would hide the next one."""
    version = f" for version {waiver.version}" if waiver.version else ""
    return document.problem(("waivers", index), severity="warning", message=(
        f"{prefix}stale waiver of '{waiver.rule}'{version}: {why}; expected a waiver only where a rule fails: "
        "remove it"))


__all__ = ["Judged", "as_of_date", "judge", "stale_waiver"]
