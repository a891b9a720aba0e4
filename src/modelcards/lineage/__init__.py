"""Lineage diagrams: Graphviz DOT sources drawn as SVG to inline in the pages."""
