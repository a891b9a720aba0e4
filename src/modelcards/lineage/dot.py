"""Subgraph -> Graphviz DOT source: one look per node kind, links to pages, tooltips, a legend.

Every string is written as a DOT quoted string and escaped for it: ``"`` and ``\\`` are escaped, line breaks
become ``\\n``, and ``&`` becomes ``&amp;`` because Graphviz reads HTML entities in labels (so a label holding
``&lt;script&gt;`` stays that text). No record shapes or HTML labels are used, so ``<``, ``{`` and ``|`` are
plain characters. The same subgraph always gives the same bytes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from .graph import Edge, Node, Subgraph

# kind -> (legend label, node attributes)
NODE_STYLES: dict[str, tuple[str, dict[str, str]]] = {
    "dataset_version": ("Dataset version", {"shape": "cylinder", "style": "filled", "fillcolor": "#dbeafe"}),
    "data": ("Other data", {"shape": "cylinder", "style": "filled,dashed", "fillcolor": "#f1f5f9"}),
    "run": ("Run", {"shape": "box", "style": "filled", "fillcolor": "#fef3c7"}),
    # The overview's kinds: plain boxes, whose SVG is a quarter of a cylinder's, for a thousand of them.
    "dataset": ("Dataset", {"shape": "box", "style": "filled", "fillcolor": "#dbeafe"}),
    "model": ("Model", {"shape": "box", "style": "filled,bold", "fillcolor": "#dcfce7"}),
    "model_version": ("Model version", {"shape": "box", "style": "rounded,filled", "fillcolor": "#dcfce7"}),
    "deployment": ("Deployment", {"shape": "component", "style": "filled", "fillcolor": "#ede9fe"}),
    "base_model": ("Base model", {"shape": "octagon", "style": "filled", "fillcolor": "#fce7f3"}),
    # A build for a lower audience: what is left out, counted, never named.
    "hidden": ("Not shown to this audience", {"shape": "box", "style": "dashed", "color": "#64748b"}),
}
# A deployment's state -> (legend label, attributes drawn over its kind's): a rolled-back one looks undone.
STATE_STYLES: dict[str, tuple[str, dict[str, str]]] = {
    "rolled back": ("Rolled-back deployment", {"style": "filled,dashed", "fillcolor": "#f1f5f9",
                                               "color": "#b3261e", "fontcolor": "#b3261e"}),
}
EDGE_STYLES: dict[str, dict[str, str]] = {
    "declared": {"style": "dashed"},  # stated on a card, not recorded by a tracker
    "base": {"style": "dotted"},
}
_FONT = "Helvetica,Arial,sans-serif"
# Points; pages show diagrams at their natural size (1pt = 4/3 px), where 10pt is 13.3 px: no smaller than
# Material's small text (0.64rem = 12.8 px), which is what the legend is.
NODE_FONT_SIZE = "11"
LEGEND_FONT_SIZE = "10"


def to_dot(subgraph: Subgraph, *, title: str, href: Callable[[Node], str | None]) -> str:
    """DOT source of ``subgraph``; ``href(node)`` gives each node's link, relative to the page it is drawn on."""
    lines = [
        "digraph lineage {",
        f"  graph [rankdir=LR, label={quote(title)}, labelloc=t, labeljust=l, fontname={quote(_FONT)}, "
        'bgcolor="transparent", tooltip=' + quote(title) + "];",
        f"  node [fontname={quote(_FONT)}, fontsize={NODE_FONT_SIZE}];",
        f"  edge [fontname={quote(_FONT)}, color=\"#64748b\"];",
    ]
    clustered = {node for _, members in subgraph.clusters for node in members}
    by_id = {node.id: node for node in subgraph.nodes}
    quoted = {node.id: quote(node.id) for node in subgraph.nodes}  # each id is written for its node and its edges
    focus = subgraph.focus
    for node in subgraph.nodes:
        if node.id not in clustered:
            lines.append("  " + _node(node, quoted[node.id], href(node), emphasised=node.id in focus))
    for number, (label, members) in enumerate(subgraph.clusters):
        lines.append(f"  subgraph cluster_{number} {{")
        lines.append(f'    graph [label={quote(label)}, style="rounded", color="#cbd5e1"];')
        for member in members:
            node = by_id[member]
            lines.append("    " + _node(node, quoted[member], href(node), emphasised=member in focus))
        lines.append("  }")
    suffixes = _EDGE_SUFFIXES
    lines += [f"  {quoted.get(edge.source) or quote(edge.source)} -> {quoted.get(edge.target) or quote(edge.target)}"
              f"{suffixes.get(edge.kind, '')};" for edge in subgraph.edges]
    lines += _legend(frozenset(node.kind for node in subgraph.nodes),
                     frozenset(node.state for node in subgraph.nodes if node.state))
    lines.append("}")
    return "\n".join(lines) + "\n"


_UNSAFE_IN_ID = re.compile(r"[^A-Za-z0-9_-]")  # "_" is escaped first, by element_id


def quote(text: str) -> str:
    """``text`` as a DOT quoted string that Graphviz shows exactly as written."""
    # Most strings need no escaping; five substring tests are twice as fast as a regular expression, and a
    # thousand diagrams quote a hundred thousand strings.
    if not ('"' in text or "\\" in text or "&" in text or "\n" in text or "\r" in text):
        return f'"{text}"'
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
               .replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n"))
    return f'"{escaped}"'


def element_id(node_id: str) -> str:
    """An id for the SVG element, from safe characters only; distinct node ids give distinct element ids.

    Every character but ASCII letters, digits and ``-`` becomes ``_<hex code>_``. ``_`` goes first, so that
    the underscores written for the others stay; ids hold few kinds of unsafe characters (``:``, ``@``,
    ``/``, ``.``), each replaced at once rather than character by character.
    """
    escaped = node_id.replace("_", "_5f_") if "_" in node_id else node_id
    for char in _COMMON_IN_IDS:
        if char in escaped:
            escaped = escaped.replace(char, f"_{ord(char):x}_")
    if not _SAFE_IN_ID.issuperset(escaped):
        escaped = _UNSAFE_IN_ID.sub(lambda match: f"_{ord(match.group()):x}_", escaped)
    return "mc-" + escaped


_COMMON_IN_IDS = ":@/. "
_SAFE_IN_ID = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def tooltip(node: Node) -> str:
    label = node.label.replace("\n", ", ") if "\n" in node.label else node.label
    text = f"{NODE_STYLES[node.kind][0]}: {label}"
    if node.detail:
        text += "\n" + node.detail
    if node.digest:
        text += "\ndigest: " + node.digest
    if node.date:
        text += "\ndate: " + node.date
    if node.commit:
        text += "\ncommit: " + node.commit
    return text


def _node(node: Node, quoted_id: str, url: str | None, *, emphasised: bool) -> str:
    style = _STATE_STYLES[node.state] if node.state else _KIND_STYLES[node.kind]
    link = f", URL={quote(url)}" if url else ""
    # element_id writes only letters, digits, "-" and "_": nothing to escape.
    return (f'{quoted_id} [id="{element_id(node.id)}", label={quote(node.label)}, {style}, '
            f"tooltip={quote(tooltip(node))}{link}{', penwidth=2.5' if emphasised else ''}];")


@lru_cache(maxsize=None)  # one per combination of kinds and states: a few dozen at most
def _legend(kinds: frozenset[str], states: frozenset[str]) -> tuple[str, ...]:
    present = [kind for kind in NODE_STYLES if kind in kinds]
    present += [state for state in STATE_STYLES if state in states]
    if not present:
        return ()
    # Not a cluster: dot lays clusters out differently when other graphs came before them in the same process,
    # and the renderer draws graphs with clusters one per process (see lineage.render).
    lines = [f'  "legend:" [id="mc-legend", label="Legend:", shape="plaintext", fontsize="{LEGEND_FONT_SIZE}"];']
    for entry in present:
        label, style = NODE_STYLES[entry] if entry in NODE_STYLES else _STATE_LEGEND[entry]
        attributes = {"id": element_id(f"legend:{entry}"), "label": label, **style, "fontsize": LEGEND_FONT_SIZE,
                      "tooltip": label}
        lines.append(f"  {quote('legend:' + entry)} [{_attributes(attributes)}];")
    # Invisible edges lay the legend out as one row, in the order above.
    names = ["", *present]
    lines += [f"  {quote('legend:' + a)} -> {quote('legend:' + b)} [style=invis];" for a, b in zip(names, names[1:])]
    return tuple(lines)


def _attributes(attributes: dict[str, str]) -> str:
    return ", ".join(f"{key}={quote(value)}" for key, value in attributes.items())


# Written once: every node and edge of a kind carries the same style.
_KIND_STYLES = {kind: _attributes(style) for kind, (_, style) in NODE_STYLES.items()}
# Deployments are the only nodes with a state, and its legend entry is a deployment in that state.
_STATE_LEGEND = {state: (label, {**NODE_STYLES["deployment"][1], **style})
                 for state, (label, style) in STATE_STYLES.items()}
_STATE_STYLES = {state: _attributes(style) for state, (_, style) in _STATE_LEGEND.items()}
_EDGE_SUFFIXES = {kind: f" [{_attributes(style)}]" for kind, style in EDGE_STYLES.items()}
