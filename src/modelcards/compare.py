"""Two versions of one model side by side: what differs in metrics, params, data, code, environment, SHAP ranks
and lineage.

Each version is first reduced to its facts (``version_facts``): per section, rows keyed by a name with a text
value, so a param ``C: 1`` and ``C: 1.0`` differ as the card wrote them. A comparison lines up the rows of two
versions' facts; every row is kept, marked the same or not, so a page can show only what differs and still show
everything on request. The model's versions.json carries the same facts, and the site's script compares any two
of them with the same rules: a pair picked in the browser shows what a pre-built comparison shows.

Which pairs are pre-built, each a section of the model's compare page (``comparison_pairs``): each version and
the one before it by date, and each deployment that replaced another version in an environment, rollbacks
included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .catalog import ModelEntry
from .cards.schema import Version
from .explain.compute import Importance
from .history import field_changes
from .lineage.graph import LineageGraph
from .sources.environment import normalized_name
from .sources.record import RunRecord

TOP = 10  # features whose ranks are compared: the top ones of either version
# Lineage nodes a version's comparison lists: what it came from, and where it ran.
UPSTREAM_KINDS = ("run", "dataset_version", "data", "dataset", "base_model", "hidden")

RowKind = Literal["same", "changed", "added", "removed"]
# The environment facts before the packages: (row name, key of RunRecord.environment).
ENVIRONMENT_FACTS = (("Python", "python_version"), ("Platform", "platform"), ("Image digest", "image_digest"))


# --- SHAP ranks --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RankChange:
    """One feature's rank and share of the total mean |SHAP| in two versions."""

    feature: str
    rank_before: int | None  # None: not ranked before
    rank_now: int | None
    share_before: float
    share_now: float

    @property
    def share_change(self) -> float:
        return self.share_now - self.share_before

    @property
    def moved(self) -> bool:
        return self.rank_before != self.rank_now


def ranked_features(before: list[Importance], now: list[Importance]) -> list[RankChange]:
    """The top features of either version with their ranks in both, whether they moved or not, newest ranking
    first."""
    old = {item.feature: item for item in before}
    new = {item.feature: item for item in now}
    top = [item.feature for item in now[:TOP]] + [item.feature for item in before[:TOP]]
    rows = [RankChange(feature, old[feature].rank if feature in old else None,
                       new[feature].rank if feature in new else None,
                       old[feature].share if feature in old else 0.0, new[feature].share if feature in new else 0.0)
            for feature in dict.fromkeys(top)]
    return sorted(rows, key=lambda c: (c.rank_now is None, c.rank_now or 0, c.rank_before or 0))


def rank_changes(before: list[Importance], now: list[Importance]) -> list[RankChange]:
    """The top features of either version whose rank moved, newest ranking first."""
    return [change for change in ranked_features(before, now) if change.moved]


# --- the facts of one version ------------------------------------------------------------------------------

@dataclass(frozen=True)
class VersionFacts:
    """What a comparison looks at in one version, as text keyed by row name (metrics as numbers)."""

    version: str
    date: str
    metrics: dict[str, float]
    params: dict[str, str]
    data: dict[str, str]  # "<dataset> (<role>) version" / "... digest"
    code: dict[str, str]  # repository, commit, path
    environment: dict[str, str]  # Python, Platform, Image digest, then each package of the version's run by name
    ranks: dict[str, list[Importance]]  # by output label; empty when the version is not explained
    lineage: tuple[str, ...]  # node ids: the runs and data upstream of the version, and its deployments


def shown_value(value: Any) -> str:
    """A card value as the comparison shows and compares it: ``true``, ``0.05``, ``LogisticRegression``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def environment_facts(run: RunRecord | None) -> dict[str, str]:
    """A run's Python, platform, image digest and packages (``scikit-learn: 1.9.1``; conda ones marked)."""
    if run is None:
        return {}
    facts = {label: run.environment[key] for label, key in ENVIRONMENT_FACTS if run.environment.get(key)}
    for package in sorted(run.packages, key=lambda p: (normalized_name(p.name), p.manager)):
        key = normalized_name(package.name) + (" (conda)" if package.manager == "conda" else "")
        facts[key] = package.version or "any version"
    return facts


def version_facts(model: ModelEntry, version: Version, graph: LineageGraph | None = None,
                  ranks: dict[str, list[Importance]] | None = None, run: RunRecord | None = None) -> VersionFacts:
    data: dict[str, str] = {}
    for ref in version.data:
        where = f"{ref.dataset} ({ref.role})"
        data[f"{where} version"] = shown_value(ref.version) if ref.version is not None else ""
        data[f"{where} digest"] = ref.digest or ""
    code = version.code
    code_facts = {"repository": code.repo or "", "commit": code.commit or "", "path": code.path or ""} if code else {}
    return VersionFacts(
        version=version.version,
        date=version.date.isoformat(),
        metrics={name: float(value) for name, value in version.metrics.items()},
        params={key: shown_value(value) for key, value in version.params.items()},
        data={key: value for key, value in data.items() if value},
        code={key: value for key, value in code_facts.items() if value},
        environment=environment_facts(run),
        ranks=ranks or {},
        lineage=tuple(version_lineage(graph, model.name, version.version)) if graph is not None else (),
    )


def version_lineage(graph: LineageGraph, model: str, version: str) -> list[str]:
    """The node ids a version came from (runs, data, base model) and its deployments, sorted."""
    node = f"model:{model}@{version}"
    if node not in graph.nodes:
        return []
    upstream = {found for found in graph.ancestors([node]) if graph.nodes[found].kind in UPSTREAM_KINDS}
    deployed = {edge.target for edge in graph.outgoing.get(node, ()) if edge.kind == "deployed"}
    return sorted(upstream | deployed)


# --- comparing two versions --------------------------------------------------------------------------------

@dataclass(frozen=True)
class MetricRow:
    name: str
    before: float | None
    after: float | None
    threshold: float | None
    higher_is_better: bool = True

    @property
    def delta(self) -> float | None:
        return self.after - self.before if self.before is not None and self.after is not None else None

    @property
    def differs(self) -> bool:
        return self.before != self.after

    def fails(self, value: float | None) -> bool:
        """True when ``value`` is on the wrong side of the metric's threshold."""
        if value is None or self.threshold is None:
            return False
        return value < self.threshold if self.higher_is_better else value > self.threshold

    @property
    def better(self) -> bool | None:
        """Whether the second version is better on this metric; None when it is the same or not comparable."""
        if self.delta is None or self.delta == 0:
            return None
        return (self.delta > 0) == self.higher_is_better


@dataclass(frozen=True)
class Row:
    """One param, data field or code field in two versions; None where a version does not have it."""

    key: str
    before: str | None
    after: str | None
    kind: RowKind

    @property
    def differs(self) -> bool:
        return self.kind != "same"


@dataclass(frozen=True)
class LineageRow:
    node: str  # node id in the lineage graph
    in_before: bool
    in_after: bool

    @property
    def differs(self) -> bool:
        return self.in_before != self.in_after


@dataclass(frozen=True)
class Comparison:
    """Version ``before`` against version ``after`` of one model: every row of each section, marked."""

    model: str
    before: VersionFacts
    after: VersionFacts
    metrics: list[MetricRow]
    params: list[Row]
    data: list[Row]
    code: list[Row]
    environment: list[Row]
    ranks: dict[str, list[RankChange]]  # by output label, for outputs both versions explain
    lineage: list[LineageRow]
    commits: tuple[str, str] | None = None  # both versions' commits, when both are known and differ

    @property
    def differences(self) -> dict[str, int]:
        """How many rows differ, per section."""
        return {
            "metrics": sum(row.differs for row in self.metrics),
            "params": sum(row.differs for row in self.params),
            "data": sum(row.differs for row in self.data),
            "code": sum(row.differs for row in self.code),
            "environment": sum(row.differs for row in self.environment),
            "ranks": sum(row.moved for rows in self.ranks.values() for row in rows),
            "lineage": sum(row.differs for row in self.lineage),
        }


def compare_facts(model: ModelEntry, before: VersionFacts, after: VersionFacts) -> Comparison:
    declared = {metric.name: metric for metric in model.card.metrics}
    names = [name for name in declared if name in before.metrics or name in after.metrics]
    names += sorted((set(before.metrics) | set(after.metrics)) - set(names))
    metrics = [MetricRow(name, before.metrics.get(name), after.metrics.get(name),
                         declared[name].threshold if name in declared else None,
                         declared[name].higher_is_better if name in declared else True) for name in names]
    ranks = {label: ranked_features(before.ranks[label], now)
             for label, now in after.ranks.items() if label in before.ranks}
    lineage = [LineageRow(node, node in before.lineage, node in after.lineage)
               for node in sorted(set(before.lineage) | set(after.lineage))]
    commit_before, commit_after = before.code.get("commit"), after.code.get("commit")
    commits = (commit_before, commit_after) if commit_before and commit_after and commit_before != commit_after \
        else None
    return Comparison(model.name, before, after, metrics, _rows(before.params, after.params),
                      _rows(before.data, after.data), _rows(before.code, after.code),
                      _rows(before.environment, after.environment), ranks, lineage, commits)


def _rows(before: dict[str, str], after: dict[str, str]) -> list[Row]:
    """Every key of either mapping in the first's order, then the second's new keys, with how it changed."""
    kinds: dict[str, RowKind] = {change.key: change.kind for change in field_changes(before, after)}
    keys = [*before, *(key for key in after if key not in before)]
    return [Row(key, before.get(key), after.get(key), kinds.get(key, "same")) for key in keys]


# --- the pairs worth a page --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reason:
    """Why a pair is compared: ``consecutive`` versions, or a deployment (``deployment`` or ``rollback``) that
    replaced ``before`` with ``after`` in ``environment`` on ``date``."""

    kind: Literal["consecutive", "deployment", "rollback"]
    environment: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Pair:
    before: str  # version labels
    after: str
    reasons: list[Reason] = field(default_factory=list)


def comparison_pairs(model: ModelEntry) -> list[Pair]:
    """Each version with the one before it (by date), then each deployment that replaced another version in its
    environment, in the order of the deployment log; one pair per (before, after), with every reason for it."""
    pairs: dict[tuple[str, str], Pair] = {}

    def add(before: str, after: str, reason: Reason) -> None:
        pairs.setdefault((before, after), Pair(before, after)).reasons.append(reason)

    oldest_first = model.versions_newest_first[::-1]
    for older, newer in zip(oldest_first, oldest_first[1:]):
        add(older.version, newer.version, Reason("consecutive"))
    rolls_back = model.rollbacks.rolls_back
    running: dict[str, str] = {}  # environment -> the version deployed there last
    deployments = sorted(enumerate(model.card.deployments), key=lambda item: (item[1].date, item[0]))
    known = {version.version for version in model.card.versions}
    for index, deployment in deployments:
        if deployment.version not in known:
            continue  # an error the catalog reports
        replaced = running.get(deployment.environment)
        if replaced is not None and replaced != deployment.version:
            kind = "rollback" if index in rolls_back or deployment.rollback_of else "deployment"
            add(replaced, deployment.version, Reason(kind, deployment.environment, deployment.date.isoformat()))
        running[deployment.environment] = deployment.version
    return list(pairs.values())
