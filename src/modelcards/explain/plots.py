"""shap's own bar and beeswarm plots of an explanation, as deterministic SVG, cached by what they show.

The plots are drawn with matplotlib's Agg backend and saved as SVG with no date, a fixed hash salt for the ids
and text kept as ``<text>`` (searchable, no fonts embedded or fetched). shap's beeswarm shuffles the order in
which it draws the dots with numpy's global generator, so that generator is seeded for the call and put back.
``shap`` and ``matplotlib`` are imported only to draw; a cache hit imports neither.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from modelcards.explain.compute import Explanation

# Bump when the drawing changes, so cached plots are drawn again.
PLOT_FORMAT = 1
KINDS = ("bar", "beeswarm")
MAX_DISPLAY = 15  # features shown; the rest are summed into one row by shap
_RC = {"svg.hashsalt": "modelcards", "svg.fonttype": "none", "figure.dpi": 72, "savefig.dpi": 72}


def plot_key(explanation: Explanation, output: str) -> str:
    """sha256 of everything the plots of ``output`` show, and the versions of what draws them."""
    assert explanation.values is not None
    index = list(explanation.outputs).index(output)
    digest = hashlib.sha256(json.dumps({
        "format": PLOT_FORMAT, "max_display": MAX_DISPLAY, "output": output, "features": list(explanation.features),
        "base_value": explanation.base_values.get(output),
        "shap": importlib.metadata.version("shap"), "matplotlib": importlib.metadata.version("matplotlib"),
    }, sort_keys=True).encode())
    digest.update(explanation.values[:, :, index].astype("<f8").tobytes())
    digest.update(b"data" + explanation.data.astype("<f8").tobytes() if explanation.data is not None else b"none")
    return digest.hexdigest()


def render_plots(explanation: Explanation, output: str) -> dict[str, str]:
    """``{"bar": svg, "beeswarm": svg}`` for one output; ``{}`` for a summary, which has no values to draw."""
    if explanation.values is None:
        return {}
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import numpy as np
    import shap
    from matplotlib import pyplot as plt

    index = list(explanation.outputs).index(output)
    values = explanation.values[:, :, index]
    base = explanation.base_values.get(output, 0.0)
    shown = shap.Explanation(values=values, base_values=np.full(len(values), base), data=explanation.data,
                             feature_names=list(explanation.features))
    plots = {}
    with matplotlib.rc_context(_RC):
        previous = plt.get_backend()
        plt.switch_backend("Agg")
        try:
            plots["bar"] = _draw(plt, lambda: shap.plots.bar(shown, max_display=MAX_DISPLAY, show=False))
            state = np.random.get_state()
            np.random.seed(0)
            try:
                plots["beeswarm"] = _draw(plt, lambda: shap.plots.beeswarm(shown, max_display=MAX_DISPLAY,
                                                                           show=False))
            finally:
                np.random.set_state(state)
        finally:
            plt.switch_backend(previous)
    return plots


def _draw(plt: Any, plot: Any) -> str:
    figure = plt.figure()
    try:
        plot()
        figure = plt.gcf()  # shap may size or replace the current figure
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
        return buffer.getvalue()
    finally:
        plt.close("all")


class PlotCache:
    """A directory of ``<key>.<kind>.svg`` files; an entry missing any kind is a miss."""

    def __init__(self, directory: Path):
        self.directory = directory

    def get(self, key: str) -> dict[str, str] | None:
        try:
            plots = {kind: (self.directory / f"{key}.{kind}.svg").read_text(encoding="utf-8") for kind in KINDS}
        except (OSError, UnicodeDecodeError):
            return None
        if not all(svg.rstrip().endswith("</svg>") for svg in plots.values()):
            return None  # cut short by a full disk, say
        return plots

    def put(self, key: str, plots: dict[str, str]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for kind, svg in plots.items():
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{key}.{kind}.", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as f:
                    f.write(svg)
                os.replace(temporary, self.directory / f"{key}.{kind}.svg")
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise


def plots_for(explanation: Explanation, output: str, cache: PlotCache | None) -> dict[str, str]:
    """The plots of one output: from the cache when there, else drawn (and stored)."""
    if explanation.values is None:
        return {}
    key = plot_key(explanation, output)
    found = cache.get(key) if cache is not None else None
    if found is not None:
        return found
    plots = render_plots(explanation, output)
    if cache is not None:
        cache.put(key, plots)
    return plots
