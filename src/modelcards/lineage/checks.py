"""Lineage graph -> gaps in it, as problems at the card line that can close them.

Each check has a severity of its own (``error``, ``warning`` or ``off``; ``warning`` unless configured).
A deployment of a version the card does not have is not a lineage check: the catalog reports it as an error
at ``deployments[i].version`` (the site is not built with it), and the graph leaves such a deployment out.
``CARD_CHECKS`` need the cards alone, so ``validate`` runs them too, without runs or a graph.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterator

from ..catalog import Catalog, ModelEntry
from ..cards.schema import Version
from ..errors import Problem
from ..sources.record import Origin, utc_day
from .graph import LineageGraph, Node

CHECKS = {
    "no_data_version": "A model version names no data version: no versioned or digested `data:` entry, "
                       "and no run input matched to a dataset card version.",
    "no_code_commit": "A model version names no code commit, neither in `code.commit` nor through its run.",
    "no_run": "A model version names no tracker run (`run:`).",
    "unknown_dataset": "A run reads data that no dataset card describes and no run wrote.",
    "cycle": "The lineage has a cycle, e.g. a run that reads what it wrote.",
    "floating_run": "A deployed version names a run that moves: a DVC stage as today's `dvc.lock` records it "
                    "(`dvc:train`), which the next `dvc repro` and commit replace. Pin it: `dvc:train@<commit>` "
                    "or a `modelcards pull dvc` snapshot.",
    "run_after_release": "A version's run started after the version's date, or after its first deployment: "
                         "the run named cannot be the one that produced it.",
    "environment_order": "A version went to an environment before it reached the environment just before it "
                         "in the `environments` setting (by default: to `production` before `staging`), and "
                         "the deployment carries no `override: {by, reason}`.",
}
CARD_CHECKS = ("environment_order",)
SEVERITIES = ("error", "warning", "off")
_Check = Callable[[LineageGraph, Catalog], Iterator[Problem]]


class LineageFindings:
    """What each check of the graph finds in one graph and catalog, found once, however many times it is asked:
    the build's lineage report and the policy's rules that make a check an error both read them."""

    def __init__(self, graph: LineageGraph, catalog: Catalog):
        self.graph, self.catalog = graph, catalog
        self._found: dict[str, list[Problem]] = {}

    def of(self, name: str) -> list[Problem]:
        if name not in self._found:
            self._found[name] = list(_CHECKS[name](self.graph, self.catalog))
        return self._found[name]


def check_lineage(graph: LineageGraph | None, catalog: Catalog, severities: dict[str, str], *,
                  environments: tuple[str, ...] = (), findings: LineageFindings | None = None) -> list[Problem]:
    """Every gap in the lineage; ``severities`` maps a check name of ``CHECKS`` to error, warning or off.

    ``environments`` is the deployment order, first to last (the ``environments`` setting); empty checks none.
    Without a ``graph`` (the cards alone, no runs) only the ``CARD_CHECKS`` run. ``findings``: the graph checks'
    findings on this graph and catalog, kept for the next call.
    """
    for name, severity in severities.items():
        if name not in CHECKS:
            raise ValueError(f"found check '{name}', expected one of {', '.join(CHECKS)}")
        if severity not in SEVERITIES:
            raise ValueError(f"found severity '{severity}' for check '{name}', "
                             f"expected one of {', '.join(SEVERITIES)}")
    problems: list[Problem] = []
    if graph is not None and (findings is None or findings.graph is not graph or findings.catalog is not catalog):
        findings = LineageFindings(graph, catalog)
    checks: dict[str, _Check] = {
        **{name: lambda _, __, name=name: findings.of(name) for name in _CHECKS},
        "environment_order": lambda _, catalog: _environment_order(catalog, environments)}
    for name, check in checks.items():
        severity = severities.get(name, "warning")
        if severity != "off" and (graph is not None or name in CARD_CHECKS):
            problems += [replace(problem, severity=severity) for problem in check(graph, catalog)]
    return sorted(problems)


def _no_data_version(graph: LineageGraph, model: ModelEntry, version: Version) -> str | None:
    if any(ref.version or ref.digest for ref in version.data):
        return None
    upstream = graph.ancestors([f"model:{model.name}@{version.version}"])
    if any(graph.nodes[n].kind == "dataset_version" and graph.nodes[n].version for n in upstream):
        return None
    named = [ref.dataset for ref in version.data]
    named += [*model.card.training_data.datasets, *model.card.evaluation_data.datasets]
    dataset = named[0] if named else "<dataset card name>"
    return (f"version '{version.version}' has no data version: add data: [{{dataset: {dataset}, version: ...}}] "
            "or link a run that logs its input")


def _no_code_commit(graph: LineageGraph, model: ModelEntry, version: Version) -> str | None:
    if version.code and version.code.commit:
        return None
    return (f"version '{version.version}' has no code commit: add code: {{commit: <sha>}} "
            "or link a run that records its commit")


def _no_run(graph: LineageGraph, model: ModelEntry, version: Version) -> str | None:
    if version.run:
        return None
    return (f"version '{version.version}' names no run: add run: <source>:<run id> (mlflow, dvc or openlineage) "
            "so the tracker's record backs it")


def _per_version(gap: Callable[[LineageGraph, ModelEntry, Version], str | None]) -> _Check:
    """A check of each model version, reported at ``versions[i]``."""
    def check(graph: LineageGraph, catalog: Catalog) -> Iterator[Problem]:
        for model in catalog.models.values():
            for index, version in enumerate(model.card.versions):
                message = gap(graph, model, version)
                if message:
                    yield model.source.document.problem(("versions", index), message)
    return check


def _unknown_dataset(graph: LineageGraph, catalog: Catalog) -> Iterator[Problem]:
    for ref in catalog.runs:
        for data in _unrecorded_inputs(graph, ref):
            where = f" (namespace {data.detail.removeprefix('namespace ')})" if data.detail else ""
            yield from _at_run(catalog, ref, (
                f"run {ref} reads '{data.label}'{where}, which no dataset card describes and no run wrote; "
                f"add a dataset card with aliases: ['{data.label}'] to record its versions and owner"))


def _cycle(graph: LineageGraph, catalog: Catalog) -> Iterator[Problem]:
    for component in _cycles(graph):
        path = _cycle_path(graph, component)
        # Only runs have both data in and data out, so every cycle passes through one.
        first_run = min(node for node in component if graph.nodes[node].kind == "run")
        yield from _at_run(catalog, first_run.removeprefix("run:"), (
            f"lineage cycle: {' → '.join(path)}; a run on it reads what it (or a later run) wrote, "
            "so the lineage cannot say which came first"))


def _floating_run(graph: LineageGraph, catalog: Catalog) -> Iterator[Problem]:
    for model in catalog.models.values():
        for index, version in enumerate(model.card.versions):
            entry = catalog.runs.get(version.run) if version.run else None
            deployment = _first_deployment(model, version)
            if entry is None or not entry.record.floating or deployment is None:
                continue
            _, first = deployment
            record = entry.record
            where = record.origin.path if record.origin else "its source"
            commit = record.code.commit if record.code and record.code.commit else None
            now = f" (`run: {version.run}@{commit[:7]}` if {where} at {commit[:7]} recorded it)" if commit else ""
            yield model.source.document.problem(("versions", index, "run"), (
                f"version '{version.version}' is deployed ({first.environment} on {first.date}) but its run "
                f"{version.run} follows {where} as it is now, so the next `dvc repro` and commit change its record; "
                f"pin the commit that recorded it{now}, or a `modelcards pull dvc` snapshot"))


def _run_after_release(graph: LineageGraph, catalog: Catalog) -> Iterator[Problem]:
    for model in catalog.models.values():
        for index, version in enumerate(model.card.versions):
            entry = catalog.runs.get(version.run) if version.run else None
            started = utc_day(entry.record.start_time) if entry else None
            if started is None:
                continue
            when = f"run {version.run} started on {started}"
            if started > version.date:
                yield model.source.document.problem(("versions", index, "date"), (
                    f"{when}, after version '{version.version}' was released on {version.date}; a version "
                    "cannot come from a later run: name the run that produced it, or correct the date"))
                continue
            deployment = _first_deployment(model, version)
            if deployment and started > deployment[1].date:
                deployed_at, first = deployment
                yield model.source.document.problem(("deployments", deployed_at, "date"), (
                    f"{when}, after version '{version.version}' was first deployed ({first.environment} on "
                    f"{first.date}); a deployed version cannot come from a later run: name the run that "
                    "produced it, or correct the date"))


def _environment_order(catalog: Catalog, environments: tuple[str, ...]) -> Iterator[Problem]:
    """Deployments out of the ``environments`` order, as warnings at ``deployments[i].environment``.

    The first deployment of a version to an environment needs one of the same version to the environment just
    before it, on or before the same date; each step of the way is checked at its own deployment, so one
    skipped step is one warning. A later deployment of the version to an environment it already ran in (a
    rollback to it, a redeploy) was checked the first time. ``override`` on the deployment accepts it; the
    model page shows who and why.
    """
    required = dict(zip(environments[1:], environments))  # environment -> the one a version reaches first
    for model in catalog.models.values():
        deployments = model.card.deployments
        labels = {version.version for version in model.card.versions}
        for index, deployment in enumerate(deployments):
            first = required.get(deployment.environment)
            label, date = deployment.version, deployment.date
            if first is None or deployment.override is not None or label not in labels:
                continue  # unordered, accepted, or not a version of the card (the catalog's error)
            same = [(d.date, i) for i, d in enumerate(deployments)
                    if d.version == label and d.environment == deployment.environment]
            if min(same) != (date, index):
                continue
            reached = sorted(d.date for d in deployments if d.version == label and d.environment == first)
            if reached and reached[0] <= date:
                continue
            later = f" (it reached {first} on {reached[0]}, after)" if reached else ""
            yield model.source.document.problem(("deployments", index, "environment"), severity="warning", message=(
                f"version {label} went to {deployment.environment} on {date} without reaching {first} first"
                f"{later}; expected a {first} deployment of {label} on or before that date, or "
                "override: {by, reason} on this deployment"))


def _first_deployment(model: ModelEntry, version: Version):
    """(index, deployment) of the version's earliest deployment, or None when it was never deployed."""
    deployed = [(d.date, i) for i, d in enumerate(model.card.deployments) if d.version == version.version]
    if not deployed:
        return None
    _, index = min(deployed)
    return index, model.card.deployments[index]


_CHECKS: dict[str, _Check] = {
    "no_data_version": _per_version(_no_data_version),
    "no_code_commit": _per_version(_no_code_commit),
    "no_run": _per_version(_no_run),
    "unknown_dataset": _unknown_dataset,
    "cycle": _cycle,
    "floating_run": _floating_run,
    "run_after_release": _run_after_release,
}


def _unrecorded_inputs(graph: LineageGraph, run_ref: str) -> list[Node]:
    """Data a run read that matches no dataset card and that no run wrote: where the lineage goes dark."""
    sources = [graph.nodes[e.source] for e in graph.incoming.get(f"run:{run_ref}", ())]
    return [node for node in sources if node.kind == "data" and not graph.incoming.get(node.id)]


def _at_run(catalog: Catalog, ref: str, message: str) -> Iterator[Problem]:
    """At each card version that links the run (``versions[i].run``), else where the run was read."""
    entry = catalog.runs[ref]
    placed = False
    for model_name, label in entry.model_versions:
        model = catalog.models[model_name]
        index = next(i for i, v in enumerate(model.card.versions) if v.version == label)
        placed = True
        yield model.source.document.problem(("versions", index, "run"), message)
    if not placed:
        origin = entry.record.origin or Origin(f"<run {ref}>")
        yield Problem(origin.path, origin.line, 1, "", message)


def _cycles(graph: LineageGraph) -> list[list[str]]:
    """Strongly connected components with a cycle (Tarjan's algorithm, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph.nodes:
        if root in index:
            continue
        work = [(root, iter(graph.outgoing.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            edge = next(edges, None)
            if edge is not None:
                target = edge.target
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(graph.outgoing.get(target, ()))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                looped = len(component) > 1 or any(e.target == node for e in graph.outgoing.get(node, ()))
                if looped:
                    found.append(sorted(component))
    return sorted(found)


def _cycle_path(graph: LineageGraph, component: list[str]) -> list[str]:
    """One cycle through the component's first node, as node ids, first node repeated at the end."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    queue = [start]
    while queue:  # breadth first: the shortest way back
        node = queue.pop(0)
        for edge in graph.outgoing.get(node, ()):
            if edge.target == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if edge.target in members and edge.target not in previous and edge.target != start:
                previous[edge.target] = node
                queue.append(edge.target)
    return [start, start]  # unreachable for a component with a cycle
