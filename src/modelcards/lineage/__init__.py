"""Lineage: one graph from cards and runs (``graph``), its gaps (``checks``), DOT text (``dot``) and SVG drawn
by Graphviz in batches (``render``)."""
