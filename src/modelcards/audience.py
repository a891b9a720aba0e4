"""The catalog as one audience may see it: cards, versions, fields and custom keys marked for a higher
audience left out, before anything (pages, lineage, CSV, exports, search) is derived from it.

Levels, least trusted first: ``public`` < ``internal`` < ``restricted``. A card's level is its ``audience``,
else the project's ``audience_default`` (at least ``internal`` for a dataset card holding personal data); a
version's is its own ``audience`` or its card's, whichever is higher; ``field_audience`` raises single fields,
sections and ``custom.<key>`` keys above the card's level.

What a hidden thing leaves behind:

- a hidden model or dataset card: no page, no row, no tag entry; visible cards' references to a hidden
  dataset (``training_data``, ``evaluation_data``, ``versions[].data``) are dropped;
- a hidden version: its deployments, feedback, sliced results and waivers go with it, and so do the runs that
  only hidden versions produced;
- a visible run's inputs and outputs that are a hidden dataset are renamed ``DATASET_NOT_SHOWN``;
- in the lineage graph, each connected group of hidden nodes that touches visible ones becomes one redacted
  box (``hidden:1``, ``hidden:2``, ... numbered by the visible nodes it touches, never by the hidden names),
  labelled with what it stands for, e.g. ``1 dataset not shown``; hidden nodes touching no visible one go.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from .cards.loader import LoadedCard
from .cards.schema import CUSTOM_NAMESPACE, DatasetCard, ModelCard
from .catalog import Catalog, DatasetEntry, ModelEntry, RunEntry, tag_index
from .config import AUDIENCES
from .errors import Problem
from .lineage.graph import Edge, LineageGraph, Node

UNMARKABLE = ("kind", "name", "title", "audience", "field_audience")
DATASET_NOT_SHOWN = "dataset not shown"
# What a redacted box counts, by the kind of the nodes it stands for.
_COUNTED = {"dataset_version": "dataset", "data": "dataset", "dataset": "dataset", "run": "run",
            "model_version": "model version", "model": "model", "base_model": "model", "deployment": "deployment"}


def rank(level: str) -> int:
    return AUDIENCES.index(level)


def card_level(card: ModelCard | DatasetCard | None, default: str) -> str:
    """A card's audience: its own mark, else the default (at least internal for personal data)."""
    if card is not None and card.audience is not None:
        return card.audience.value
    if isinstance(card, DatasetCard) and card.personal_data is not None and card.personal_data.contains:
        return max(default, "internal", key=rank)
    return default


def mark_problems(loaded: list[LoadedCard]) -> list[Problem]:
    """``field_audience`` keys that name no field, section or custom key of their card, or one that cannot be
    left out (the card's name and title: mark the whole card instead)."""
    problems: list[Problem] = []
    for item in loaded:
        card = item.card
        for key in card.field_audience:
            wrong = _unmarkable(card, key)
            if wrong:
                problems.append(item.document.problem(("field_audience", key), wrong))
    return problems


def _unmarkable(card: ModelCard | DatasetCard, key: str) -> str | None:
    head, _, rest = key.partition(".")
    fields = type(card).model_fields
    if head in UNMARKABLE and not rest:
        return (f"found {key!r}, which every page of the card shows; expected a field that can be left out "
                f"(mark the whole card with 'audience:' instead)")
    if head == CUSTOM_NAMESPACE and rest:
        if rest in card.custom:
            return None
        return f"found custom key {rest!r}, expected one of the card's custom keys: {_listed(list(card.custom), rest)}"
    if head not in fields or head in UNMARKABLE:
        options = [name for name in fields if name not in UNMARKABLE] + [f"custom.{k}" for k in card.custom]
        return f"found {key!r}, expected a field of the card: {_listed(options, key)}"
    if not rest:
        return None
    annotation = fields[head].annotation  # a section, or an optional one; never a list of them
    section = None if get_origin(annotation) in (list, dict) else next(
        (kind for kind in (annotation, *get_args(annotation)) if isinstance(kind, type) and issubclass(kind, BaseModel)),
        None)
    if section is None:
        return f"found {key!r}, but {head!r} is not a section with fields of its own; expected {head!r} alone"
    inner = section.model_fields
    if rest not in inner:
        return f"found {key!r}, expected a field of {head!r}: {_listed([f'{head}.{n}' for n in inner], key)}"
    if inner[rest].is_required():
        return f"found {key!r}, a field {head!r} cannot do without; expected {head!r} alone"
    return None


def _listed(options: list[str], found: str) -> str:
    close = difflib.get_close_matches(found, options, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (", ".join(options) or "none") + hint


@dataclass
class Hidden:
    """What an audience build left out, by the names the lineage graph knows them by."""

    models: set[str] = field(default_factory=set)
    versions: set[tuple[str, str]] = field(default_factory=set)  # (model, version) of visible models
    datasets: set[str] = field(default_factory=set)
    dataset_versions: set[tuple[str, str]] = field(default_factory=set)  # (dataset, version) of visible datasets
    deployments: set[str] = field(default_factory=set)  # lineage node ids of the deployments left out
    fields: dict[str, set[str]] = field(default_factory=dict)  # model -> its field_audience keys left out


def filter_catalog(catalog: Catalog, audience: str, default: str) -> tuple[Catalog, Hidden]:
    """The catalog ``audience`` may see, and what was left out of it."""
    hidden = Hidden()
    seen = rank(audience)
    datasets: dict[str, DatasetEntry] = {}
    for name, entry in catalog.datasets.items():
        level = card_level(entry.card, default)
        if rank(level) > seen:
            hidden.datasets.add(name)
            continue
        datasets[name] = entry
        hidden.dataset_versions.update((name, v.version) for v in (entry.card.versions if entry.card else [])
                                       if rank(max(level, v.audience.value if v.audience else level, key=rank)) > seen)
    hidden.models = {name for name, entry in catalog.models.items() if rank(card_level(entry.card, default)) > seen}
    models: dict[str, ModelEntry] = {}
    for name, entry in catalog.models.items():
        if name in hidden.models:
            hidden.deployments.update(f"deploy:{name}:{d.environment}:{index}"
                                      for index, d in enumerate(entry.card.deployments))
            continue
        level = card_level(entry.card, default)
        labels = {v.version for v in entry.card.versions
                  if rank(max(level, v.audience.value if v.audience else level, key=rank)) > seen}
        hidden.versions.update((name, label) for label in labels)
        hidden.deployments.update(f"deploy:{name}:{d.environment}:{index}"
                                  for index, d in enumerate(entry.card.deployments)
                                  if d.version in labels or d.rollback_of in labels)
        card = _model_card(entry.card, labels, hidden)
        card, left_out = _without_fields(card, seen)
        if left_out:
            hidden.fields[name] = left_out
        models[name] = ModelEntry(card, entry.source, {label: link for label, link in entry.run_links.items()
                                                       if label not in labels})
    for name, entry in list(datasets.items()):
        datasets[name] = _dataset_entry(entry, hidden, seen)
        if entry.card is None and not datasets[name].uses:
            del datasets[name]  # named only by hidden cards or versions
            hidden.datasets.add(name)
    names, digests = _hidden_data(catalog, hidden)
    runs: dict[str, RunEntry] = {}
    for ref, run in catalog.runs.items():
        produced = [(m, v) for m, v in run.model_versions if m in models and (m, v) not in hidden.versions]
        if run.model_versions and not produced:  # only hidden versions came from it
            continue
        runs[ref] = RunEntry(_without_hidden_data(run.record, names, digests), produced, run.upstream)
    runs = {ref: replace(run, upstream={index: [r for r in refs if r in runs] for index, refs in run.upstream.items()})
            for ref, run in runs.items()}
    tags = tag_index(models, datasets)
    return Catalog(models, datasets, dict(sorted(tags.items())), catalog.problems, runs), hidden


def _model_card(card: ModelCard, labels: set[str], hidden: Hidden) -> ModelCard:
    """A model card without the versions ``labels`` (and what belongs to them), and without the hidden
    datasets, dataset versions and base model it names."""
    datasets, models = hidden.datasets, hidden.models
    versions = [v.model_copy(update={"data": [ref for ref in v.data if ref.dataset not in datasets
                                              and (ref.dataset, ref.version) not in hidden.dataset_versions]})
                for v in card.versions if v.version not in labels]
    return card.model_copy(update={
        "versions": versions,
        "deployments": [d for d in card.deployments if d.version not in labels and d.rollback_of not in labels],
        "feedback": [f.model_copy(update={"resolved_by": None if f.resolved_by in labels else f.resolved_by})
                     for f in card.feedback if f.version not in labels],
        "quantitative_analyses": [q for q in card.quantitative_analyses if q.version not in labels],
        "waivers": [w for w in card.waivers if w.version not in labels],
        "training_data": card.training_data.model_copy(update={
            "datasets": [d for d in card.training_data.datasets if d not in datasets]}),
        "evaluation_data": card.evaluation_data.model_copy(update={
            "datasets": [d for d in card.evaluation_data.datasets if d not in datasets]}),
        "model_details": card.model_details.model_copy(update={
            "base_model": None if card.model_details.base_model in models else card.model_details.base_model}),
    })


def _without_fields(card: Any, seen: int) -> tuple[Any, set[str]]:
    """The card without the fields, sections and custom keys marked above ``seen``, each set to its default."""
    left_out = {key for key, level in card.field_audience.items() if rank(level.value) > seen}
    for key in sorted(left_out):
        head, _, rest = key.partition(".")
        if head == CUSTOM_NAMESPACE and rest:
            card = card.model_copy(update={"custom": {k: v for k, v in card.custom.items() if k != rest}})
        elif rest:
            section = getattr(card, head)
            if section is not None:
                default = type(section).model_fields[rest].get_default(call_default_factory=True)
                card = card.model_copy(update={head: section.model_copy(update={rest: default})})
        else:
            card = card.model_copy(update={head: type(card).model_fields[head].get_default(call_default_factory=True)})
    # The marks themselves name what was left out.
    return card.model_copy(update={"field_audience": {}}), left_out


def _dataset_entry(entry: DatasetEntry, hidden: Hidden, seen: int) -> DatasetEntry:
    uses = [use for use in entry.uses if use.model not in hidden.models
            and (use.model, use.model_version) not in hidden.versions]
    card = entry.card
    if card is None:
        return DatasetEntry(entry.name, None, None, uses)
    labels = {label for dataset, label in hidden.dataset_versions if dataset == entry.name}
    card = card.model_copy(update={"versions": [v for v in card.versions if v.version not in labels]})
    card, _ = _without_fields(card, seen)
    uses = [use for use in uses if use.dataset_version not in labels]
    return DatasetEntry(entry.name, card, entry.source, uses)


def _hidden_data(catalog: Catalog, hidden: Hidden) -> tuple[set[str], set[str]]:
    """The names (and aliases) of the hidden datasets, and the digests of every hidden dataset version."""
    names: set[str] = set()
    digests: set[str] = set()
    for name, entry in catalog.datasets.items():
        if entry.card is None:
            continue
        names.update([name, *entry.card.aliases] if name in hidden.datasets else [])
        digests.update(_digest(v.digest) for v in entry.card.versions if v.digest and (
            name in hidden.datasets or (name, v.version) in hidden.dataset_versions))
    return names, digests


def _without_hidden_data(record, names: set[str], digests: set[str]):
    """A run record whose inputs and outputs that are hidden datasets (by name, alias or a hidden version's
    digest, the lineage graph's matching) are renamed ``DATASET_NOT_SHOWN``, with nothing else of them kept."""
    if not names and not digests:
        return record

    def is_hidden(namespace, name, digest, source) -> bool:
        return bool(digest and _digest(digest) in digests) or any(
            n in names for n in (name, source, f"{namespace}/{name}" if namespace else None) if n)

    inputs = tuple(type(ref)(name=DATASET_NOT_SHOWN) if is_hidden(ref.namespace, ref.name, ref.digest, ref.source)
                   else ref for ref in record.inputs)
    outputs = tuple(type(out)(kind=out.kind, name=DATASET_NOT_SHOWN)
                    if is_hidden(out.namespace, out.name, out.digest, out.uri) else out for out in record.outputs)
    return replace(record, inputs=inputs, outputs=outputs)


def _digest(digest: str) -> str:
    return digest.rpartition(":")[2].lower()  # as the lineage graph compares them


def redact_graph(full: LineageGraph, visible: LineageGraph, hidden: Hidden) -> LineageGraph:
    """The lineage graph of the filtered catalog (``visible``), plus a redacted box for each connected group
    of nodes of the ``full`` graph it lacks that touched nodes it has, wired to them as the group was.

    Every visible node, label and tooltip comes from the filtered catalog; of a hidden node only its kind is
    counted. Deployment ids hold their index in the card, which filtering changes, so deployments are told
    hidden by ``hidden.deployments``.
    """
    def is_hidden(node_id: str) -> bool:
        if full.nodes[node_id].kind == "deployment":
            return node_id in hidden.deployments
        return node_id not in visible.nodes

    secret = {node_id for node_id in full.nodes if is_hidden(node_id)}
    # The runs' renamed inputs and outputs are drawn as the boxes instead.
    nodes = {node_id: node for node_id, node in visible.nodes.items() if node.label != DATASET_NOT_SHOWN}
    boxes: dict[str, str] = {}  # hidden node -> its box
    touched = []
    for group in _components(secret, full):
        neighbours = sorted({other for node_id in group for other in _neighbours(node_id, full)
                             if other not in secret and other in nodes})
        if neighbours:
            touched.append((neighbours, group))
    for number, (_, group) in enumerate(sorted(touched, key=lambda item: item[0]), start=1):
        box = f"hidden:{number}"
        counts: dict[str, int] = {}
        for node_id in group:
            kind = _COUNTED[full.nodes[node_id].kind]
            counts[kind] = counts.get(kind, 0) + 1
        label = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in sorted(counts.items())) + " not shown"
        nodes[box] = Node(box, "hidden", label)
        boxes.update((node_id, box) for node_id in group)
    edges = {edge for edge in visible.edges if edge.source in nodes and edge.target in nodes}
    for edge in full.edges:
        if edge.source not in boxes and edge.target not in boxes:
            continue
        source, target = boxes.get(edge.source, edge.source), boxes.get(edge.target, edge.target)
        if source != target and source in nodes and target in nodes:
            edges.add(Edge(source, target, edge.kind))
    return LineageGraph(dict(sorted(nodes.items())), tuple(sorted(edges)))


def _neighbours(node_id: str, graph: LineageGraph) -> list[str]:
    return [e.source for e in graph.incoming.get(node_id, ())] + [e.target for e in graph.outgoing.get(node_id, ())]


def _components(members: set[str], graph: LineageGraph) -> list[set[str]]:
    left = set(members)
    groups = []
    while left:
        start = min(left)
        group, queue = {start}, [start]
        while queue:
            for other in _neighbours(queue.pop(), graph):
                if other in left and other not in group:
                    group.add(other)
                    queue.append(other)
        left -= group
        groups.append(group)
    return groups


def hidden_field_failure(key_path: tuple, left_out: set[str]) -> bool:
    """Whether a problem at ``key_path`` of a card is about a field left out of the build."""
    for key in left_out:
        parts = tuple(key.split(".", 1))
        if tuple(key_path[:len(parts)]) == parts:
            return True
    return False
