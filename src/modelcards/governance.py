"""Sign-offs: each version's state, derived from its approvals and the deployment log, and separation of duties.

A version's state is never written in a card; ``version_states`` is the one place that derives it, by the rule in
``STATE_RULE`` (which the card-format reference prints). Separation of duties takes the authors of each version as
a plain mapping, fed by the runs' users and by git (who added each version to the card).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from .cards.schema import Approval, Decision, Deployment, ModelCard, Status
from .cards.yaml_source import YamlDocument
from .errors import Problem
from .history import Commit


class VersionState(str, Enum):
    draft = "draft"
    in_review = "in review"
    approved = "approved"
    rejected = "rejected"
    deployed = "deployed"
    rolled_back = "rolled back"
    retired = "retired"


STATE_RULE = [
    "Each version's state is derived from its `approvals` and the card's `deployments`; it is never written by hand.",
    "Only the latest decision of each approver counts (by date, then by order in the list; names compared "
    "case-insensitively).",
    "",
    "| State | When |",
    "|---|---|",
    "| `draft` | no approvals yet |",
    "| `in review` | someone's latest decision is `changes_requested` (and nobody's is `rejected`) |",
    "| `rejected` | someone's latest decision is `rejected` |",
    "| `approved` | at least one approval, and every approver's latest decision is `approved` |",
    "| `deployed` | a deployment names the version and it is still the newest deployment in some environment |",
    "| `rolled back` | it was deployed, and in an environment it ran in, the next deployment was a rollback "
    "(`rollback_of` names it) or went back to an older version; it runs nowhere now |",
    "| `retired` | it was deployed and another version replaced it in every environment; or the card's `status` "
    "is `deprecated` or `archived` and the version was approved or deployed |",
    "",
    "The deployment log comes first: `deployed`, else `rolled back`, else `retired`; a version never deployed "
    "has the state of its sign-offs. The model page shows both, e.g. \"State: retired, replaced in production "
    "by 1.2.0 on 2026-04-06; sign-off: approved\".",
    "",
    "A decision dated before the version's own `date` is a warning.",
    "",
    "Separation of duties: an approval `by` an author of the version is an error at that `by` line. The authors "
    "are the person who trained it (the `user` of its linked run) and whoever added the version to the card in "
    "git (the author's name and e-mail address of the first commit holding it). Names are compared "
    "case-insensitively, ignoring surrounding spaces; an e-mail address does not match a name. "
    "`modelcards validate` and `build` both read the cards' git history (one pass) and check who added the "
    "version; only `build` reads the runs, so only it checks the run's user.",
]


@dataclass(frozen=True)
class VersionStatus:
    """Where one version stands, and the facts the state was derived from."""

    state: VersionState
    sign_off: VersionState  # draft, in review, approved or rejected: the approvals alone
    decisions: tuple[Approval, ...] = ()  # the latest decision of each approver, in list order
    live_in: tuple[Deployment, ...] = ()  # the newest deployment of each environment running it now
    rolled_back: tuple[Deployment, ...] = ()  # deployments that rolled it back
    replaced: tuple[Deployment, ...] = ()  # in each environment it left, the deployment that replaced it


def person(name: str) -> str:
    """How two names are compared: case-insensitively, ignoring surrounding spaces."""
    return name.strip().casefold()


def latest_decisions(approvals: Iterable[Approval]) -> tuple[Approval, ...]:
    """Each approver's latest decision (by date, then list order), in the order they were first written."""
    latest: dict[str, tuple[tuple[dt.date, int], Approval]] = {}
    for index, approval in enumerate(approvals):
        key = person(approval.by)
        if key not in latest or (approval.date, index) >= latest[key][0]:
            latest[key] = ((approval.date, index), approval)
    return tuple(approval for _, approval in latest.values())


def sign_off_state(approvals: Iterable[Approval]) -> VersionState:
    decisions = {a.decision for a in latest_decisions(approvals)}
    if not decisions:
        return VersionState.draft
    if Decision.rejected in decisions:
        return VersionState.rejected
    if Decision.changes_requested in decisions:
        return VersionState.in_review
    return VersionState.approved


def version_states(card: ModelCard) -> dict[str, VersionStatus]:
    """The state of every version of a card, by version label: the rule in ``STATE_RULE``."""
    oldest_first = sorted(enumerate(card.versions), key=lambda iv: (iv[1].date, iv[0]))
    order = {v.version: rank for rank, (_, v) in enumerate(oldest_first)}
    by_environment: dict[str, list[Deployment]] = {}
    for _, deployment in sorted(enumerate(card.deployments), key=lambda iv: (iv[1].date, iv[0])):
        by_environment.setdefault(deployment.environment, []).append(deployment)
    live = {env: log[-1] for env, log in by_environment.items()}
    retired_card = card.status in (Status.deprecated, Status.archived)

    states = {}
    for version in card.versions:
        label = version.version
        decisions = latest_decisions(version.approvals)
        sign_off = sign_off_state(version.approvals)
        live_in = tuple(d for env, d in sorted(live.items()) if d.version == label)
        rolled_back = tuple(_rollbacks(label, by_environment, order))
        replaced = tuple(_replacements(label, by_environment))
        deployed = any(d.version == label for d in card.deployments)
        if live_in and not retired_card:
            state = VersionState.deployed
        elif rolled_back and not live_in:
            state = VersionState.rolled_back
        elif deployed or (retired_card and sign_off is VersionState.approved):
            state = VersionState.retired
        else:
            state = sign_off
        states[label] = VersionStatus(state, sign_off, decisions, live_in, rolled_back, replaced)
    return states


def _rollbacks(label: str, by_environment: Mapping[str, list[Deployment]],
               order: Mapping[str, int]) -> Iterable[Deployment]:
    """Deployments right after one of ``label`` in the same environment that rolled it back."""
    for log in by_environment.values():
        for deployment, following in zip(log, log[1:]):
            if deployment.version != label or following.version == label:
                continue
            older = order.get(following.version, len(order)) < order.get(label, -1)
            if following.rollback_of == label or older:
                yield following


def _replacements(label: str, by_environment: Mapping[str, list[Deployment]]) -> Iterable[Deployment]:
    """In each environment that ran ``label`` and runs something else now, the deployment that ended its last run."""
    for _, log in sorted(by_environment.items()):
        last = max((i for i, d in enumerate(log) if d.version == label), default=None)
        if last is not None and last + 1 < len(log):
            yield log[last + 1]


def approvals_before_release(card: ModelCard, document: YamlDocument) -> list[Problem]:
    """A decision dated before the version it decides on was released is a warning: one of the dates is wrong."""
    return [
        document.problem(("versions", v_index, "approvals", a_index, "date"), severity="warning", message=(
            f"found {approval.date}, before version {version.version} was released on {version.date}; expected "
            "a decision on or after the release date"))
        for v_index, version in enumerate(card.versions)
        for a_index, approval in enumerate(version.approvals) if approval.date < version.date
    ]


def authors_from_runs(run_users: Mapping[str, tuple[str, str | None]]) -> dict[str, dict[str, str]]:
    """Who trained each version: ``{version: (run ref, run user)}`` -> ``{version: {user: how we know}}``."""
    return {label: {user: f"trained it (the user of run {ref})"}
            for label, (ref, user) in run_users.items() if user and user.strip()}


def authors_from_git(added_by: Mapping[str, Commit]) -> dict[str, dict[str, str]]:
    """Who added each version to the card in git: ``{version: commit}`` -> ``{version: {name, email: how}}``."""
    return {label: {who: f"added it to the card in commit {commit.short}"
                    for who in (commit.author, commit.email) if who and who.strip()}
            for label, commit in added_by.items()}


def merged_authors(*sources: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """One ``{version: {author: how}}`` mapping from several; the first source to name a person says how."""
    merged: dict[str, dict[str, str]] = {}
    for source in sources:
        for label, people in source.items():
            for name, how in people.items():
                merged.setdefault(label, {}).setdefault(name, how)
    return merged


def self_approvals(card: ModelCard, document: YamlDocument,
                   authors: Mapping[str, Mapping[str, str]]) -> list[Problem]:
    """Separation of duties: a sign-off by one of a version's authors is an error at its ``by`` line.

    ``authors`` maps a version label to its authors, each with how they authored it (for the message):
    the run's user (``authors_from_runs``) and who added the version in git (``authors_from_git``), merged.
    """
    problems = []
    for v_index, version in enumerate(card.versions):
        made_by = {person(name): how for name, how in authors.get(version.version, {}).items()}
        for a_index, approval in enumerate(version.approvals):
            how = made_by.get(person(approval.by))
            if how is not None:
                problems.append(document.problem(
                    ("versions", v_index, "approvals", a_index, "by"),
                    f"found '{approval.by}', who {how}; separation of duties: expected someone other than "
                    f"an author of version {version.version} to sign it off"))
    return problems


__all__ = ["STATE_RULE", "VersionState", "VersionStatus", "approvals_before_release", "authors_from_git",
           "authors_from_runs", "merged_authors",
           "latest_decisions", "person", "self_approvals", "sign_off_state", "version_states"]
