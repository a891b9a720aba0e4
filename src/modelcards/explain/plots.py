"""SHAP's beeswarm plot of one output of an :class:`~modelcards.explain.compute.Explanation`, as SVG.

The importance bars are the pages' own compact SVG (``site/plots.py``), since shap's bar plot shows nothing the
importance table does not, at 30-40 KB a file. The beeswarm adds what the table cannot: each row's value and
the direction it pushes the output. It is drawn by SHAP's own ``shap.plots.beeswarm`` onto a standalone matplotlib
``Figure``: pyplot's backend and figure list are never touched, so this is safe inside a long-lived
``mkdocs serve``. The same explanation gives byte-identical SVG text in any process with the same shap and
matplotlib versions:

* matplotlib's default style is used whatever ``matplotlibrc`` the user has, with a fixed ``svg.hashsalt``
  for element ids and no date in the metadata;
* the beeswarm's dot order and tie-breaking come from numpy's global generator, which is seeded while drawing
  and put back afterwards.

Labels stay ``<text>`` elements (``svg.fonttype: none``; matplotlib escapes them), and the beeswarm's dots are
rasterized, so its size depends on the plot area rather than on the number of rows.

The plots are shown as ``<img>`` files, separate documents that the page's styles and palette toggle cannot reach,
so they carry their own white ground, and every text on it is dark enough to read there (WCAG contrast at least
4.5:1: SHAP's pink value labels and grey annotations are darkened, hue kept) and no smaller than
``MIN_FONT_POINTS``. The pages show them one per row, at about their natural size: a 6.5-inch figure.

A :class:`PlotCache` keeps rendered plots on disk; :func:`plots_for` serves them without importing shap or
matplotlib.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import importlib.metadata
import io
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from modelcards.cache_upkeep import mark_used
from modelcards.errors import EnvironmentProblem, ExplainError
from modelcards.files import write_atomic

if TYPE_CHECKING:
    from modelcards.explain.compute import Explanation

# Bump when anything below changes what is drawn, so cached plots are redrawn.
PLOT_FORMAT = 5
PLOT_KINDS = ("beeswarm",)
# Which explained versions get the plots: each model's newest (older ones on request), every one, or none.
PLOT_CHOICES = ("latest", "all", "none")
# Features shown one per row; the rest are summed into one "Sum of N other features" row.
MAX_DISPLAY = 20
# Resolution of the beeswarm's rasterized dots; everything else stays vector. The page shows the figure at about
# 82 px per inch, so 100 keeps the dots sharp at the zoom most readers use, at under half the bytes of 150.
DOT_DPI = 100
LAYOUT_SEED = 0
SVG_RC = {"svg.hashsalt": "modelcards", "svg.fonttype": "none"}
FIGURE_WIDTH = 6.5  # inches; with the labels, about 530 px wide: most columns show it unscaled
# 12pt is 16 px at the natural size: above Material's small text (12.8 px) even when the column shrinks the plot
# a fifth.
MIN_FONT_POINTS = 12
MIN_CONTRAST = 4.5  # against the plot's white ground


def plot_key(explanation: Explanation, output: str) -> str:
    """sha256 of everything that decides the plots of ``output``, without importing shap or matplotlib."""
    import numpy as np

    index = _output_index(explanation, output)
    values = None if explanation.values is None else explanation.values[:, :, index]
    arrays = [np.ascontiguousarray(a, dtype="<f8") for a in (values, explanation.data) if a is not None]
    header = {
        "format": PLOT_FORMAT,
        "output": output,
        "base_value": explanation.base_values.get(output),
        "features": list(explanation.features),
        # The shapes make the concatenated array bytes below unambiguous.
        "values_shape": None if values is None else list(values.shape),
        "data_shape": None if explanation.data is None else list(explanation.data.shape),
        "shap": _installed_version("shap"),
        "matplotlib": _installed_version("matplotlib"),
    }
    digest = hashlib.sha256(json.dumps(header, sort_keys=True, separators=(",", ":")).encode())
    for array in arrays:
        digest.update(array.tobytes())
    return digest.hexdigest()


def render_plots(explanation: Explanation, output: str) -> dict[str, str]:
    """``{"beeswarm": svg}`` for ``output``, or ``{}`` when the explanation holds no SHAP values.

    Without feature values (``data`` is None) SHAP draws the beeswarm in one colour and without its colour bar.
    """
    if explanation.values is None:
        return {}
    index = _output_index(explanation, output)
    shap, matplotlib = _import_plotting()
    import numpy as np

    values = explanation.values[:, :, index]
    shown = shap.Explanation(
        values=values,
        # Embedded values may come without one; shap needs a number, and the plots do not show it.
        base_values=np.full(len(values), explanation.base_values.get(output, 0.0)),
        data=explanation.data,
        # A name with two $ signs would otherwise be parsed as mathtext.
        feature_names=[name.replace("$", r"\$") for name in explanation.features],
    )
    rows = min(MAX_DISPLAY, len(explanation.features))

    def beeswarm(axes: Any) -> None:
        shap.plots.beeswarm(shown, max_display=MAX_DISPLAY, ax=axes, show=False, plot_size=None)
        for dots in axes.collections:
            dots.set_rasterized(True)

    # Row heights as SHAP uses when it sizes the figure itself.
    drawings = {"beeswarm": (beeswarm, rows * 0.4 + 1.5)}
    plots = {}
    with matplotlib.style.context(["default", SVG_RC]), _seeded_global_rng(LAYOUT_SEED):
        for kind, (draw, height) in drawings.items():
            try:
                plots[kind] = _svg(draw, height)
            except Exception as exc:
                raise ExplainError(f"output {output!r}: shap.plots.{kind} failed: {exc!r}") from None
    return plots


def plots_for(explanation: Explanation, output: str, cache: PlotCache | None = None) -> dict[str, str]:
    """The plots of ``output``: from ``cache`` without importing shap or matplotlib, else rendered and stored."""
    if explanation.values is None:
        return {}
    if cache is None:
        return render_plots(explanation, output)
    key = plot_key(explanation, output)
    cached = cache.get(key)
    if cached is not None:
        return cached
    plots = render_plots(explanation, output)
    cache.put(key, plots)
    return plots


class PlotCache:
    """A directory of ``<key>.<kind>.svg`` files, one per kind in ``PLOT_KINDS``; an entry missing one is a miss."""

    def __init__(self, directory: Path):
        self.directory = directory

    def get(self, key: str) -> dict[str, str] | None:
        try:
            plots = {kind: (self.directory / f"{key}.{kind}.svg").read_text(encoding="utf-8") for kind in PLOT_KINDS}
        except (OSError, ValueError):
            return None
        if not all(svg.rstrip().endswith("</svg>") for svg in plots.values()):
            return None  # cut short, by a full disk say
        for kind in PLOT_KINDS:
            mark_used(self.directory / f"{key}.{kind}.svg")
        return plots

    def put(self, key: str, plots: dict[str, str]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for kind in PLOT_KINDS:
            write_atomic(self.directory / f"{key}.{kind}.svg", plots[kind].encode("utf-8"))


def _output_index(explanation: Explanation, output: str) -> int:
    labels = list(explanation.outputs)
    if output not in labels:
        raise ExplainError(f"output {output!r}: not in the explanation, expected one of {', '.join(labels)}")
    return labels.index(output)


@functools.cache  # asked once per plotted version; the answer cannot change within one process
def _installed_version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _import_plotting() -> tuple[Any, Any]:
    try:
        import matplotlib
        import matplotlib.style
    except ImportError as exc:
        raise EnvironmentProblem(f"drawing SHAP plots needs matplotlib ({exc}); run `pip install matplotlib`") from None
    try:
        import shap
    except ImportError as exc:
        raise EnvironmentProblem(f"drawing SHAP plots needs SHAP ({exc}); run `pip install shap`") from None
    return shap, matplotlib


@contextlib.contextmanager
def _seeded_global_rng(seed: int) -> Iterator[None]:
    """Seed numpy's global generator, which the beeswarm layout draws from, and put it back afterwards."""
    import numpy as np

    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _svg(draw: Callable[[Any], None], height: float) -> str:
    """Draw onto a standalone figure, which pyplot never registers, make its text readable and save it as SVG."""
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    figure = Figure(figsize=(FIGURE_WIDTH, height), facecolor="white")
    draw(figure.add_subplot())
    for axes in figure.axes:  # tick labels are made afresh at each draw, from these settings
        for axis in (axes.xaxis, axes.yaxis):
            shown = [label.get_fontsize() for label in axis.get_ticklabels()]
            axis.set_tick_params(labelsize=max([MIN_FONT_POINTS, *shown[:1]]))
    for text in figure.findobj(Text):
        if text.get_text():
            text.set_fontsize(max(text.get_fontsize(), MIN_FONT_POINTS))
            text.set_color(readable_on_white(text.get_color()))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", dpi=DOT_DPI, bbox_inches="tight", metadata={"Date": None, "Creator": None})
    return compact_svg(_with_smaller_rasters(buffer.getvalue().decode("utf-8")))


_EMBEDDED_PNG = re.compile(r'data:image/png;base64,([A-Za-z0-9+/=\s]+)"')


def _with_smaller_rasters(svg: str) -> str:
    """The SVG with each embedded PNG (the dots, the colour bar) reduced to a 256-colour palette.

    matplotlib embeds full RGBA; the dots use one colour map and a few alpha levels, so a palette keeps how they
    look at about a third of the bytes. Pillow comes with matplotlib, and its octree quantizer is deterministic.
    """
    from PIL import Image

    def smaller(match: re.Match[str]) -> str:
        original = base64.b64decode(match.group(1))
        image = Image.open(io.BytesIO(original))
        reduced = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(reduced, "PNG", optimize=True)
        chosen = min(original, reduced.getvalue(), key=len)
        return f'data:image/png;base64,{base64.b64encode(chosen).decode("ascii")}"'

    return _EMBEDDED_PNG.sub(smaller, svg)


# matplotlib's SVG repeats each text's whole font list and each grid line's dash pattern in a style attribute,
# names every group, writes coordinates to six decimals of a point and indents every element; none of it changes
# what is drawn.
_PROLOGUE = re.compile(r"<\?xml[^>]*\?>\s*<!DOCTYPE[^>]*>\s*")
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_LONG_STYLE = re.compile(r' style="([^"]{24,})"')  # shorter ones ("fill: #ffffff") cost no more than a class
_GROUP_ID = re.compile(r'<g id="[^"]*">')  # ids that url(#...) and href="#..." refer to are never on a <g>
_NO_ROTATION = re.compile(r' transform="rotate\(-?0 [-\d.]+ [-\d.]+\)"')
_GEOMETRY = re.compile(r'( (?:d|x|y|width|height|transform)=")([^"]*)"')
_LONG_DECIMAL = re.compile(r"(\d\.\d{2})\d+")
_BETWEEN_ELEMENTS = re.compile(r">\s*\n\s*<")
_CSS = '<style type="text/css">'


def compact_svg(svg: str) -> str:
    """matplotlib's SVG, drawn the same, in about three quarters of the bytes.

    Each distinct long style attribute becomes one class of the file's own style sheet (which matplotlib always
    writes, with one rule for ``*`` that a class overrides as the attribute did); groups lose their ids;
    coordinates keep two decimals of a point (a hundredth of a pixel at the size shown); identity rotations, the
    XML prologue, the metadata block and the indentation between elements go. Text content is left as it is.
    """
    svg = _METADATA.sub("", _PROLOGUE.sub("", svg))
    if _CSS in svg:
        classes: dict[str, str] = {}
        svg = _LONG_STYLE.sub(lambda m: f' class="s{classes.setdefault(m.group(1), str(len(classes)))}"', svg)
        rules = "".join(f".s{name}{{{style}}}" for style, name in classes.items())
        svg = svg.replace(_CSS, _CSS + rules, 1)
    svg = _NO_ROTATION.sub("", _GROUP_ID.sub("<g>", svg))
    svg = _GEOMETRY.sub(lambda m: m.group(1) + _LONG_DECIMAL.sub(r"\1", " ".join(m.group(2).split())) + '"', svg)
    return _BETWEEN_ELEMENTS.sub("><", svg)


def readable_on_white(color: Any) -> tuple[float, float, float, float]:
    """``color`` darkened, hue kept, until its contrast against white is at least ``MIN_CONTRAST``."""
    from matplotlib.colors import to_rgba

    red, green, blue, alpha = to_rgba(color)
    while contrast_on_white((red, green, blue)) < MIN_CONTRAST:
        red, green, blue = red * 0.9, green * 0.9, blue * 0.9
    return red, green, blue, 1.0 if alpha else alpha


def relative_luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour with channels in 0..1."""
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_on_white(rgb: tuple[float, float, float]) -> float:
    return 1.05 / (relative_luminance(rgb) + 0.05)
