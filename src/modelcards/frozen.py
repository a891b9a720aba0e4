"""Frozen approved versions: once a version is approved in a commit, what it is may not change.

A version is approved in a commit when, in the card as that commit left it, its sign-off state
(``governance.sign_off_state`` over its approvals) is ``approved`` for the first time. From then on its
substance (``SUBSTANCE``) must stay as it was in that commit: the card's current value of each substance field
is compared with the approved one, and each difference is an error at the field's current line, naming the
approving commit and the newest commit (or the uncommitted edit) that touched the field. The fix is a new
version; reverting the edit clears the error, since the record then says again what was approved.

Text about a version (``changes``, ``reason``) and the approvals themselves may still be corrected; the History
section shows each correction. A later ``rejected`` or ``changes_requested`` decision does not thaw a version: it
may have been deployed as it was approved, and the record of what was approved must stay.

The commits come from ``history.CardHistory``, which already parsed every card text once and diffed it field by
field; this module only compares one version's substance with itself and reads the history's diffs to say who
changed it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .cards.schema import Approval, Waiver
from .cards.yaml_source import KeyPath, YamlDocument
from .errors import Problem
from .governance import VersionState, sign_off_state
from .history import CARD_ADDED, VALID_AGAIN, CardChange, CardHistory, Commit, FieldChange, field_changes
from .waivers import as_of_date, judge, stale_waiver

# What was approved: the numbers and what produced them. `date` orders versions and dates their evaluation (a
# policy's maximum evaluation age reads it); `explainability` is the evidence the reviewers saw.
SUBSTANCE = ("date", "metrics", "params", "data", "code", "run", "explainability")
_SHOWN_LENGTH = 80
RULE_NAME = "frozen_version"  # as a card's `waivers` name the rule

FROZEN_RULE = [
    "Once a version is approved in a commit (the first commit whose card gives it the sign-off state `approved`), "
    f"its substance is frozen: {', '.join(f'`{name}`' for name in SUBSTANCE)}. Each of them that differs from what "
    "was approved, in a later commit or in the working tree not yet committed, is an error at the field's line "
    "naming the approving commit and the commit that changed it. `modelcards validate` (in a pre-commit hook or "
    "CI) and `modelcards build` both check it.",
    "",
    "- The fix is a new version. Reverting the edit also clears the error: the card then records again what was "
    "approved.",
    "- `date` is substance because it orders the versions and dates their evaluation; `explainability` because "
    "it is the evidence the reviewers saw.",
    "- Text about the version (`changes`, `reason`) and the approvals themselves may still be corrected; the "
    "History section shows each correction.",
    "- Removing an approved version is an error at `versions`.",
    "- A later `rejected` or `changes_requested` decision does not thaw it: the version may have been deployed as "
    "it was approved, and the record of what was approved stays.",
    "- An approval only in the working tree freezes nothing until it is committed.",
    "- A shallow clone holds part of the history: an approval older than it is not seen (`validate` says so).",
    "- A card may own up to an edit it cannot undo with a waiver: `waivers: [{rule: frozen_version, version: "
    "\"1.1.0\", by: ..., reason: ..., expires: YYYY-MM-DD}]`. Until it expires (judged by SOURCE_DATE_EPOCH when "
    "set, else today) each of that version's edits is an `info` line instead of an error, shown like a policy "
    "waiver; once it expires they are errors again, and a waiver where nothing changed is a stale-waiver warning.",
]


@dataclass(frozen=True)
class ApprovedVersion:
    """A version as the commit that first approved it left it."""

    label: str
    commit: Commit
    substance: dict[str, Any]
    index: int  # the approving change's position in ``CardHistory.changes`` (newest first)


def approved_versions(history: CardHistory) -> dict[str, ApprovedVersion]:
    """Each version approved in a commit, by label: the oldest commit whose card shows it approved.

    An approval only in the working tree is not one yet: it freezes the version once committed.
    """
    approved: dict[str, ApprovedVersion] = {}
    for index in range(len(history.changes) - 1, -1, -1):  # oldest first
        change = history.changes[index]
        if change.commit is None:
            continue
        for label, version in _versions(change.card).items():
            if label not in approved and sign_off_state(_approvals(version)) is VersionState.approved:
                approved[label] = ApprovedVersion(label, change.commit, _substance(version), index)
    return approved


def frozen_version_problems(document: YamlDocument, history: CardHistory | None, waivers: Sequence[Waiver] = (),
                            as_of: dt.date | None = None) -> list[Problem]:
    """An error for each substance field of an approved version that differs from what was approved; a card's
    ``frozen_version`` waivers turn them into info notes until they expire (``waivers.judge``)."""
    if history is None or not history.changes:
        return []
    as_of = as_of or as_of_date()
    current = _versions(history.current)
    positions = {str(v.get("version")): i for i, v in enumerate(_version_items(document.data))}
    used: set[int] = set()
    problems = []

    def failure(key_path: KeyPath, message: str, label: str) -> None:
        problems.append(judge(document, key_path, message, rule=RULE_NAME, version=label, waivers=waivers,
                              as_of=as_of, used=used, prefix=f"{RULE_NAME}: ", severity="error").problem)

    for label, approved in approved_versions(history).items():
        if label not in current:
            change = _changed_by(history, approved, ("versions", label))
            failure(("versions",), (
                f"found version {label} removed{_by(change)}, but it was approved in {_commit(approved.commit)}, "
                "and an approved version is frozen; expected it kept as approved: restore it, and add a new "
                "version instead"), label)
            continue
        key = f"versions[{label}]"
        for diff in field_changes(approved.substance, _substance(current[label]), key, ("versions", label)):
            change = _changed_by(history, approved, diff.parts)
            key_path: KeyPath = ("versions", positions.get(label, 0), *diff.parts[2:])
            failure(key_path, _message(label, diff, change, approved), label)
    problems += [stale_waiver(document, index, waiver, "no approved version it names differs from what was approved")
                 for index, waiver in enumerate(waivers) if waiver.rule == RULE_NAME and index not in used]
    return problems


def _message(label: str, diff: FieldChange, change: tuple[CardChange, bool] | None,
             approved: ApprovedVersion) -> str:
    frozen = f"{_commit(approved.commit)}, and an approved version is frozen"
    if diff.kind == "added":
        return (f"found {_shown(diff.after)}{_by(change)}, but version {label} was approved without it in {frozen}; "
                "expected no such field: remove it, and add a new version instead")
    found = "it removed" if diff.kind == "removed" else _shown(diff.after)
    return (f"found {found}{_by(change)}, but version {label} was approved with {_shown(diff.before)} in {frozen}; "
            f"expected {_shown(diff.before)}: restore it, and add a new version instead")


def _by(change: tuple[CardChange, bool] | None) -> str:
    if change is None:
        return ""
    if change[0].commit is None:
        return " (changed in the working tree, not committed yet)"
    merged = "" if change[1] else ", on a branch merged with the approval"
    return f" (changed in {_commit(change[0].commit)}{merged})"


def _changed_by(history: CardHistory, approved: ApprovedVersion,
                parts: tuple[str | int, ...]) -> tuple[CardChange, bool] | None:
    """The newest change after the approval that touched the field, and True; else (a branch that changed it
    alongside the approval, then merged) the newest other change that touched it, and False."""
    later = _newest_touching(history.changes[:approved.index], parts)
    if later is not None:
        return later, True
    alongside = _newest_touching(history.changes[approved.index + 1:], parts)
    return (alongside, False) if alongside is not None else None


def _commit(commit: Commit) -> str:
    return f"commit {commit.short} by {commit.author} on {commit.day}"


def _newest_touching(changes: tuple[CardChange, ...], parts: tuple[str | int, ...]) -> CardChange | None:
    """The newest change that touched the field at ``parts``: one of its diffs is the field, inside it or holds
    it, or it replaced the whole card (re-added, or valid YAML again) so that git's diff says nothing finer."""
    for change in changes:
        if change.note in (CARD_ADDED, VALID_AGAIN):
            return change
        for diff in change.changes:
            shorter = min(len(diff.parts), len(parts))
            if diff.parts and diff.parts[:shorter] == parts[:shorter]:
                return change
    return None


def _version_items(card: Any) -> list[Mapping[str, Any]]:
    versions = card.get("versions") if isinstance(card, Mapping) else None
    return [v for v in versions if isinstance(v, Mapping)] if isinstance(versions, list) else []


def _versions(card: Any) -> dict[str, Mapping[str, Any]]:
    """A parsed card's versions by label; the first of two with one label (which the card check reports)."""
    found: dict[str, Mapping[str, Any]] = {}
    for version in _version_items(card):
        if "version" in version:
            found.setdefault(str(version["version"]), version)
    return found


def _substance(version: Mapping[str, Any]) -> dict[str, Any]:
    return {name: version[name] for name in SUBSTANCE if name in version}


def _approvals(version: Mapping[str, Any]) -> list[Approval]:
    """The well-formed approvals of a version as a commit wrote it; a malformed one was never a decision."""
    approvals = version.get("approvals")
    valid = []
    for item in approvals if isinstance(approvals, list) else []:
        try:
            valid.append(Approval.model_validate(item))
        except ValidationError:
            continue
    return valid


def _shown(value: Any) -> str:
    """A value as the card would write it, shortened: problem messages stay one readable line."""
    if isinstance(value, str):
        text = f"'{value}'"
    else:
        text = json.dumps(value, default=str, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= _SHOWN_LENGTH else text[:_SHOWN_LENGTH - 1] + "…"


__all__ = ["FROZEN_RULE", "SUBSTANCE", "ApprovedVersion", "approved_versions", "frozen_version_problems"]
