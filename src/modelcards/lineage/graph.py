"""Catalog -> one lineage graph: data versions, runs, model versions, deployments and base models.

Node ids, stable across builds because they come from names the user wrote or trackers recorded:

- ``data:<dataset>@<version>``: a version of a dataset card; ``data:<dataset>`` when no version is known;
- ``data:<namespace>/<name>`` (``data:<name>`` without a namespace): data a run read or wrote that matches no
  dataset card; refs with the same (namespace, name) are one node, whichever run or tracker saw them;
- ``run:<ref>`` (``run:dvc:train@us``): one run; ``run:<ref without @item>`` for a collapsed foreach/matrix group;
- ``model:<name>@<version>``: a model version; ``model:<name>`` for a model card without versions (and in the
  overview, where each model is one node);
- ``deploy:<model>:<environment>:<index>``: ``deployments[index]`` of a model card, labelled with its environment
  and date, and marked when it was rolled back (``state``) or is a rollback;
- ``base:<name>``: the card's ``model_details.base_model``;
- ``hidden:<n>``: in a build for a lower audience, a redacted box standing for nodes left out (``audience.py``).

A run's input or dataset output matches a dataset card by digest (a version's ``digest``), else by one of the
card's ``aliases`` (against the ref's name, source and ``namespace/name``), else by the card's name; the
version is then the digest's, else the tracker's version label when the card lists it.
"""

from __future__ import annotations

import hashlib
import marshal
from collections import deque
from dataclasses import astuple, dataclass, fields
from functools import cached_property
from operator import attrgetter
from typing import Callable, Iterable

from ..catalog import Catalog, DatasetEntry, TrialOf
from ..cards.schema import DataRef
from ..memory import collector_paused
from ..sources.dvc import GROUP_TAG, ITEM_TAG

NODE_KINDS = ("dataset_version", "data", "run", "model", "model_version", "deployment", "base_model", "dataset",
              "hidden")
EDGE_KINDS = ("input", "output", "produced", "declared", "deployed", "base", "uses")
# DVC lists a stage's scripts among its deps; they are code, not data, and the run's commit already pins them.
CODE_SUFFIXES = (".py", ".ipynb", ".r", ".jl", ".sh", ".scala", ".java", ".js", ".ts", ".go", ".rs")


@dataclass(frozen=True, order=True)
class Node:
    id: str
    kind: str  # one of NODE_KINDS
    label: str
    card: str | None = None  # the model or dataset card the node belongs to
    version: str | None = None  # model or dataset version label
    digest: str | None = None
    date: str | None = None  # YYYY-MM-DD, or an ISO 8601 time for runs
    commit: str | None = None
    detail: str | None = None  # one more line for the tooltip: a namespace, who deployed, the collapsed items
    run: str | None = None  # a run node's ref ("dvc:train"), when a run source has the run
    group: str | None = None  # runs of one foreach/matrix stage share it: the id of their collapsed node
    team: str | None = None  # the card's first owner
    tags: tuple[str, ...] = ()
    state: str | None = None  # a deployment's: "rolled back" when the next one in its environment rolled it back
    trial_of: TrialOf | None = None  # a tuning trial's run node: where the trial is summarised


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    target: str
    kind: str  # one of EDGE_KINDS


@dataclass(frozen=True)
class LineageGraph:
    nodes: dict[str, Node]  # by id, sorted
    edges: tuple[Edge, ...]  # sorted

    # Grouped by attribute rather than by a key function: made once per build, over every edge and node.
    @cached_property
    def incoming(self) -> dict[str, list[Edge]]:
        return _grouped_by(self.edges, attrgetter("target"))

    @cached_property
    def outgoing(self) -> dict[str, list[Edge]]:
        return _grouped_by(self.edges, attrgetter("source"))

    @cached_property
    def by_card(self) -> dict[str, list[Node]]:
        """The nodes of each model or dataset card, so a page's query need not scan the whole graph."""
        nodes = [node for node in self.nodes.values() if node.card is not None]
        return _grouped_by(nodes, attrgetter("card"))

    def card_nodes(self, card: str, kinds: tuple[str, ...]) -> list[str]:
        return [node.id for node in self.by_card.get(card, ()) if node.kind in kinds]

    def ancestors(self, start: Iterable[str]) -> set[str]:
        """Every node with a path to one of ``start`` (``start`` itself left out unless on a cycle)."""
        return _reach(start, lambda node: (e.source for e in self.incoming.get(node, ())))

    def descendants(self, start: Iterable[str]) -> set[str]:
        return _reach(start, lambda node: (e.target for e in self.outgoing.get(node, ())))


@dataclass(frozen=True)
class Subgraph:
    """A part of the graph to draw: its nodes and edges, sorted, and which nodes it is about."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    focus: frozenset[str] = frozenset()  # drawn emphasised: the model's versions, the dataset's nodes
    clusters: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (label, node ids), drawn as boxes


def build_graph(catalog: Catalog) -> LineageGraph:
    """The lineage of every card and run in the catalog, as one graph."""
    builder = _Builder(catalog)
    builder.add_datasets()
    builder.add_runs()
    builder.add_models()
    return builder.graph()


# --- queries -------------------------------------------------------------------------

def neighbourhood(graph: LineageGraph, model_name: str, depth: int = 2) -> Subgraph:
    """A model's versions, what they came from up to ``depth`` runs back, and their deployments.

    Depth counts runs, not edges: depth 1 is the run that produced each version and the data it read, depth 2
    adds the runs that wrote that data and what they read, and so on. Data a card declares directly and the
    base model are always shown.
    """
    start = graph.card_nodes(model_name, ("model", "model_version"))
    distance = {node: 0 for node in start}
    queue = deque(start)
    nodes, incoming = graph.nodes, graph.incoming
    while queue:  # 0-1 breadth first: stepping onto a run costs one, anything else nothing
        node = queue.popleft()
        for edge in incoming.get(node, ()):
            source = edge.source
            step = 1 if nodes[source].kind == "run" else 0
            reached = distance[node] + step
            if reached <= depth and reached < distance.get(source, depth + 1):
                distance[source] = reached
                (queue.appendleft if step == 0 else queue.append)(source)
    kept = set(distance)
    outgoing = graph.outgoing
    kept.update(e.target for node in start for e in outgoing.get(node, ()) if e.kind == "deployed")
    return _collapse(_induced(graph, kept, focus=start))


def impact(graph: LineageGraph, dataset_name: str) -> Subgraph:
    """Everything downstream of a dataset: the runs, derived data, model versions and deployments it affects."""
    start = graph.card_nodes(dataset_name, ("dataset_version",))
    return _collapse(_induced(graph, set(start) | graph.descendants(start), focus=start))


def overview_size(graph: LineageGraph) -> int:
    """How many boxes the overview has: one per model card and one per dataset card with a version node."""
    models = {node.card for node in graph.nodes.values() if node.kind in ("model", "model_version")}
    datasets = {node.card for node in graph.nodes.values() if node.kind == "dataset_version"}
    return len(models) + len(datasets)


def overview(graph: LineageGraph, cap: int) -> Subgraph | None:
    """One node per model and per dataset card, boxed by team (else first tag); None above ``cap`` nodes."""
    if overview_size(graph) > cap:
        return None
    models: dict[str, Node] = {}
    datasets: dict[str, Node] = {}
    for node in graph.nodes.values():
        if node.kind in ("model", "model_version") and node.card not in models:
            models[node.card] = Node(f"model:{node.card}", "model", node.card, node.card,
                                     team=node.team, tags=node.tags)
        elif node.kind == "dataset_version" and node.card not in datasets:
            datasets[node.card] = Node(f"data:{node.card}", "dataset", node.card, node.card,
                                       team=node.team, tags=node.tags)
    edges: set[Edge] = set()
    for name, node in datasets.items():
        for reached in graph.descendants(graph.card_nodes(name, ("dataset_version",))):
            target = graph.nodes[reached]
            if target.kind in ("model", "model_version"):
                edges.add(Edge(node.id, f"model:{target.card}", "uses"))
    for node in graph.nodes.values():
        if node.kind == "base_model" and node.card in models:
            for edge in graph.outgoing.get(node.id, ()):
                derived = graph.nodes[edge.target].card
                if derived != node.card:
                    edges.add(Edge(f"model:{node.card}", f"model:{derived}", "base"))
    nodes = sorted([*models.values(), *datasets.values()])
    boxed = _grouped((node for node in nodes if node.team or node.tags), lambda n: n.team or n.tags[0])
    return Subgraph(tuple(nodes), tuple(sorted(edges)),
                    clusters=tuple((label, tuple(n.id for n in members)) for label, members in sorted(boxed.items())))


def graph_fingerprint(graph: LineageGraph) -> bytes:
    """A digest of every node (all its fields) and edge: equal for equal graphs, in any process."""
    with collector_paused():  # a row per node and edge, freed by reference counting
        try:
            import msgspec  # the ``fast`` extra: a dataclass straight to bytes, twice as fast as the rows below
        except ImportError:
            return _marshal_fingerprint(graph)
        encode = msgspec.msgpack.Encoder().encode
        digest = hashlib.sha256(b"msgpack")
        digest.update(encode(list(graph.nodes.values())))
        digest.update(encode(graph.edges))
        return digest.digest()


def _marshal_fingerprint(graph: LineageGraph) -> bytes:
    rows = list(map(_NODE_FIELDS, graph.nodes.values()))
    # marshal holds strings, tuples and None, not a tuning trial's TrialOf: it goes as its fields.
    at = _TRIAL_OF_FIELD
    rows = [row if row[at] is None else (*row[:at], astuple(row[at]), *row[at + 1:]) for row in rows]
    # Format 2 writes each value in full, whatever shares it; later formats write back-references to objects
    # referenced more than once, so equal graphs could give different bytes.
    digest = hashlib.sha256(b"marshal")
    digest.update(marshal.dumps(rows, 2))
    digest.update(marshal.dumps(list(map(_edge_order, graph.edges)), 2))
    return digest.digest()


def edge_list(subgraph: Subgraph) -> list[tuple[str, str]]:
    """(from, to) labels of every edge, the text alternative to the drawing."""
    labels = {node.id: node.label.replace("\n", ", ") for node in subgraph.nodes}
    return [(labels[edge.source], labels[edge.target]) for edge in subgraph.edges]


def _grouped(items: Iterable, key: Callable) -> dict:
    found: dict = {}
    for item in items:
        found.setdefault(key(item), []).append(item)
    return found


def _grouped_by(items: list, key: Callable) -> dict:
    """``_grouped`` for a C-level key such as ``attrgetter``: the keys computed in one ``map``."""
    found: dict = {}
    for group, item in zip(map(key, items), items):
        members = found.get(group)
        if members is None:
            found[group] = [item]
        else:
            members.append(item)
    return found


def _reach(start: Iterable[str], step) -> set[str]:
    seen: set[str] = set()
    queue = deque(start)
    while queue:
        for following in step(queue.popleft()):
            if following not in seen:
                seen.add(following)
                queue.append(following)
    return seen


# The dataclass's own ordering, without building two tuples per comparison (and without a Python call per edge).
_edge_order = attrgetter("source", "target", "kind")
_NODE_FIELDS = attrgetter(*(field.name for field in fields(Node)))
_TRIAL_OF_FIELD = [field.name for field in fields(Node)].index("trial_of")


def _induced(graph: LineageGraph, kept: set[str], *, focus: Iterable[str]) -> Subgraph:
    return Subgraph(
        nodes=tuple(graph.nodes[node] for node in sorted(kept)),
        edges=tuple(sorted((e for node in kept for e in graph.outgoing.get(node, ()) if e.target in kept),
                           key=_edge_order)),
        focus=frozenset(focus),
    )


def _collapse(subgraph: Subgraph) -> Subgraph:
    """Runs of one foreach/matrix stage become one node ("train (3 items)"); their identical edges one edge."""
    members = _grouped((node for node in subgraph.nodes if node.kind == "run" and node.group), lambda n: n.group)
    merged: dict[str, Node] = {}
    for group, runs in members.items():
        if len(runs) < 2:
            continue
        commits = {run.commit for run in runs}
        stage = group.rpartition(":")[2]
        collapsed = Node(group, "run", f"{stage} ({len(runs)} items)", commit=commits.pop() if len(commits) == 1
                         else None, detail="items: " + ", ".join(run.id.rpartition("@")[2] for run in runs),
                         group=group)
        merged.update((run.id, collapsed) for run in runs)
    if not merged:
        return subgraph
    nodes = {merged.get(node.id, node).id: merged.get(node.id, node) for node in subgraph.nodes}

    def renamed(node: str) -> str:
        return merged[node].id if node in merged else node

    edges = {Edge(renamed(e.source), renamed(e.target), e.kind) for e in subgraph.edges}
    return Subgraph(tuple(sorted(nodes.values(), key=lambda node: node.id)), tuple(sorted(edges, key=_edge_order)),
                    frozenset(renamed(node) for node in subgraph.focus), subgraph.clusters)


# --- building --------------------------------------------------------------------------

class _Builder:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.nodes: dict[str, Node] = {}
        self.edges: set[Edge] = set()
        self.run_inputs: dict[str, set[str]] = {}  # run node -> the nodes it read
        self.by_digest: dict[str, tuple[str, str]] = {}  # normalised digest -> (dataset, version)
        self.by_alias: dict[str, str] = {}  # alias or card name -> dataset
        self.unmatched_digests: dict[str, set[str]] = {}  # data node -> the digests runs saw it with

    def graph(self) -> LineageGraph:
        # Edges in their field order, as ``order=True`` compares them, from one key each: comparing tens of
        # thousands of edges pairwise built a tuple per comparison.
        edges = sorted(self.edges, key=lambda edge: (edge.source, edge.target, edge.kind))
        return LineageGraph(dict(sorted(self.nodes.items())), tuple(edges))

    # datasets

    def add_datasets(self) -> None:
        for dataset in self.catalog.datasets.values():
            card = dataset.card
            if card is None:
                continue
            for version in card.versions:
                self.dataset_node(dataset, version.version)
                if version.digest:
                    self.by_digest.setdefault(_digest_key(version.digest), (card.name, version.version))
            if not card.versions:
                self.dataset_node(dataset, None)
            for alias in card.aliases:
                self.by_alias.setdefault(alias, card.name)
        for dataset in self.catalog.datasets.values():
            if dataset.card is not None:  # an alias wins over another card's name
                self.by_alias.setdefault(dataset.name, dataset.name)

    def dataset_node(self, dataset: DatasetEntry, version: str | None) -> str:
        node_id = f"data:{dataset.name}@{version}" if version else f"data:{dataset.name}"
        if node_id not in self.nodes:
            card = dataset.card
            known = next((v for v in card.versions if v.version == version), None) if card else None
            owner = card.owner if card else None
            self.nodes[node_id] = Node(
                node_id, "dataset_version", f"{dataset.name} {version}" if version else dataset.name, dataset.name,
                version=version, digest=known.digest if known else None,
                date=known.date.isoformat() if known and known.date else None,
                team=owner.name if owner else None,
                tags=tuple(card.tags) if card else (),
            )
        return node_id

    def match(self, namespace: str | None, name: str, digest: str | None, version: str | None,
              source: str | None) -> str | None:
        """The dataset card node a tracker's ref is, or None when no card describes it."""
        if digest and _digest_key(digest) in self.by_digest:
            dataset, label = self.by_digest[_digest_key(digest)]
            return self.dataset_node(self.catalog.datasets[dataset], label)
        names = (name, source, f"{namespace}/{name}" if namespace else None)
        dataset = next((self.by_alias[n] for n in names if n and n in self.by_alias), None)
        if dataset is None:
            return None
        entry = self.catalog.datasets[dataset]
        labels = {v.version for v in entry.card.versions} if entry.card else set()
        return self.dataset_node(entry, version if version in labels else None)

    def card_ref_node(self, ref: DataRef) -> str:
        entry = self.catalog.datasets.get(ref.dataset) or DatasetEntry(ref.dataset, None, None)
        version = ref.version
        if version is None and ref.digest and _digest_key(ref.digest) in self.by_digest:
            dataset, label = self.by_digest[_digest_key(ref.digest)]
            version = label if dataset == ref.dataset else None
        return self.dataset_node(entry, version)

    # runs

    def add_runs(self) -> None:
        runs = self.catalog.runs
        read_keys = {key for entry in runs.values() for ref in entry.record.inputs
                     for key in _keys(ref.namespace, ref.name, ref.digest)}
        for ref, entry in runs.items():
            run_id = self.run_node(ref)
            read = self.run_inputs.setdefault(run_id, set())
            for data in entry.record.inputs:
                if not _is_code(data.name):
                    read.add(self.data_node(data.namespace, data.name, data.digest, data.version, data.source))
            self.edges.update(Edge(data_id, run_id, "input") for data_id in read)
            for out in entry.record.outputs:
                # Datasets, and a model file when some run reads it (an evaluation stage, say).
                if out.kind == "dataset" or out.kind == "model" and read_keys.intersection(
                        _keys(out.namespace, out.name, out.digest)):
                    self.edges.add(Edge(run_id, self.data_node(out.namespace, out.name, out.digest, out.version,
                                                               out.uri), "output"))

    def data_node(self, namespace: str | None, name: str, digest: str | None, version: str | None,
                  source: str | None) -> str:
        """The node of a run's input or output: a dataset card's, else one per (namespace, name).

        Not per digest: two paths holding the same bytes (a copy stage, foreach items writing alike) would
        become one node, and a copy a cycle.
        """
        matched = self.match(namespace, name, digest, version, source)
        if matched:
            return matched
        node_id = f"data:{namespace}/{name}" if namespace else f"data:{name}"
        digests = self.unmatched_digests.setdefault(node_id, set())
        digests.update([digest] if digest else [])
        self.nodes[node_id] = Node(node_id, "data", name, digest=next(iter(digests)) if len(digests) == 1 else None,
                                   detail=f"namespace {namespace}" if namespace else None)
        return node_id

    def run_node(self, ref: str) -> str:
        node_id = f"run:{ref}"
        if node_id in self.nodes:
            return node_id
        entry = self.catalog.runs.get(ref)
        if entry is None:  # named by a card, but no run source has it (or none was read)
            self.nodes[node_id] = Node(node_id, "run", ref)
            return node_id
        record = entry.record
        commit = record.code.commit if record.code else None
        name = record.name or (record.id[:8] if len(record.id) > 12 else record.id)
        item = record.tags.get(ITEM_TAG)
        label = f"{name} [{item}]" if item else name
        self.nodes[node_id] = Node(
            node_id, "run", f"{label} ({commit[:7]})" if commit else label,
            date=record.start_time or record.end_time, commit=commit, detail=ref, run=ref,
            group=node_id.rpartition("@")[0] if GROUP_TAG in record.tags and item else None,
            trial_of=entry.trial_of,
        )
        return node_id

    # models

    def add_models(self) -> None:
        for model in self.catalog.models.values():
            card = model.card
            team = card.owners[0].name if card.owners else None
            common = dict(card=card.name, team=team, tags=tuple(card.tags))
            targets: dict[str, str] = {}  # version label -> node id
            for version in card.versions:
                node_id = f"model:{card.name}@{version.version}"
                if node_id in self.nodes:
                    continue  # a duplicate version label: the catalog reports it
                targets[version.version] = node_id
                commit = version.code.commit if version.code else None
                self.nodes[node_id] = Node(node_id, "model_version", f"{card.name} {version.version}",
                                           version=version.version, date=version.date.isoformat(), commit=commit,
                                           **common)
                run_inputs: set[str] = set()
                if version.run:
                    run_id = self.run_node(version.run)
                    self.edges.add(Edge(run_id, node_id, "produced"))
                    run_inputs = self.run_inputs.get(run_id, set())
                for ref in version.data:
                    data_id = self.card_ref_node(ref)
                    if data_id not in run_inputs:
                        self.edges.add(Edge(data_id, node_id, "declared"))
            if not card.versions:
                targets[""] = f"model:{card.name}"
                self.nodes[targets[""]] = Node(targets[""], "model", card.name, **common)
            rollbacks = model.rollbacks
            for index, deployment in enumerate(card.deployments):
                if deployment.version not in targets:
                    continue  # not a version of the card: an error the catalog reports
                node_id = f"deploy:{card.name}:{deployment.environment}:{index}"
                # Two deployments of one version to one environment (a rollback to it) differ by their dates.
                lines = [deployment.environment, deployment.date.isoformat()]
                detail = [f"{deployment.version} by {deployment.by}"]
                if index in rollbacks.rolls_back:
                    lines.append(f"rollback of {rollbacks.rolls_back[index]}")
                undone = rollbacks.undone_by.get(index)
                if undone is not None:
                    lines.append(f"rolled back {undone.date}")
                    detail.append(f"rolled back on {undone.date} by {undone.by} (back to {undone.version})")
                self.nodes[node_id] = Node(
                    node_id, "deployment", "\n".join(lines), version=deployment.version,
                    date=deployment.date.isoformat(), detail="\n".join(detail),
                    state="rolled back" if undone is not None else None, **common)
                self.edges.add(Edge(targets[deployment.version], node_id, "deployed"))
            base = card.model_details.base_model
            if base:
                node_id = f"base:{base}"
                is_card = base in self.catalog.models
                self.nodes.setdefault(node_id, Node(node_id, "base_model", base, base if is_card else None))
                # The field is about the model, so every version derives from it, not just the first.
                self.edges.update(Edge(node_id, target, "base") for target in targets.values())
        self.add_model_level_data()

    def add_model_level_data(self) -> None:
        """``training_data``/``evaluation_data`` datasets no version's lineage already reaches."""
        graph = LineageGraph(self.nodes, tuple(self.edges))
        for model in self.catalog.models.values():
            card = model.card
            names = [*card.training_data.datasets, *card.evaluation_data.datasets]
            if not names:
                continue
            targets = [f"model:{card.name}@{v.version}" for v in card.versions] or [f"model:{card.name}"]
            for target in dict.fromkeys(targets):
                reached = {graph.nodes[n].card for n in graph.ancestors([target])
                           if graph.nodes[n].kind == "dataset_version"}
                for name in names:
                    if name not in reached:
                        entry = self.catalog.datasets.get(name) or DatasetEntry(name, None, None)
                        self.edges.add(Edge(self.dataset_node(entry, None), target, "declared"))


def _keys(namespace: str | None, name: str, digest: str | None) -> list[tuple]:
    return [("name", namespace, name)] + ([("digest", digest)] if digest else [])


def _is_code(name: str) -> bool:
    return name.lower().endswith(CODE_SUFFIXES)


def _digest_key(digest: str) -> str:
    """``md5:ABC`` and ``abc`` are one digest. Equal digests are never of different kinds (linking's
    ``_same_kind`` care is for telling a mismatch from a different algorithm), so no more is needed."""
    return digest.rpartition(":")[2].lower()
