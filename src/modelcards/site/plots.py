"""Small line charts as inline SVG, drawn at build time.

No plotting library: the charts are a few dozen elements, so writing them out
keeps builds fast, pages light and output byte-identical. Every text in them is
XML-escaped here.

Text, frame and grid are drawn in ``currentColor``, the page's text colour, so that they read in light and
dark palettes alike; each series' line and markers carry the class ``mc-series-N``, which modelcards.css
recolours for the dark palette. Series are named in the page's text colour beside a swatch of their colour,
never in their colour alone: a coloured word would need its own contrast in each palette.
"""

from __future__ import annotations

import math
from html import escape
from typing import Sequence

from markupsafe import Markup

WIDTH, HEIGHT = 640, 220
# In the chart's own units; a chart shrinks with the column, and 13 units stay at least 12.8 px (Material's small
# text) down to a column of 630 px.
FONT_SIZE = 13
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 40
MAX_POINTS = 400  # longer histories are thinned, keeping each bucket's lowest and highest value
POINT_MARKERS = 60  # up to this many points get a marker with its own tooltip
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")

Point = tuple[float, float]


def line_chart(title: str, series: Sequence[tuple[str, Sequence[Point]]], *, x_label: str,
               x_ticks: Sequence[tuple[float, str]] | None = None) -> Markup:
    """One chart; ``series`` is (label, [(x, y), ...]). ``x_ticks`` names categorical x positions."""
    drawn = [(label, _thin(_finite(points))) for label, points in series]
    drawn = [(label, points) for label, points in drawn if points]
    xs = [x for _, points in drawn for x, _ in points]
    ys = [y for _, points in drawn for _, y in points]
    if not xs:
        return Markup("")
    x_lo, x_hi = _span(min(xs), max(xs))
    y_ticks = _nice_ticks(min(ys), max(ys))
    y_lo, y_hi = y_ticks[0], y_ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (x - x_lo) / (x_hi - x_lo) * plot_w

    def sy(y: float) -> float:
        return TOP + plot_h - (y - y_lo) / (y_hi - y_lo) * plot_h

    description = "; ".join(
        f"{label}: {len(points)} points from {_num(points[0][1])} to {_num(points[-1][1])}" for label, points in drawn
    )
    parts = [
        f'<svg class="mc-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" font-family="sans-serif" font-size="{FONT_SIZE}" '
        'fill="currentColor" data-search-exclude="">',
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>",
        f'<text x="{LEFT}" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    for tick in y_ticks:
        y = sy(tick)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="currentColor" stroke-opacity="0.15"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_num(tick))}</text>')
    for x, label in x_ticks if x_ticks is not None else [(t, _num(t)) for t in _nice_ticks(x_lo, x_hi, whole=True)
                                                          if x_lo <= t <= x_hi]:
        parts.append(f'<text x="{sx(x):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="currentColor" stroke-opacity="0.5"/>')
    for index, (label, points) in enumerate(drawn):
        color = PALETTE[index % len(PALETTE)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
        series = f"mc-series-{index % len(PALETTE)}"
        parts.append(f'<polyline class="{series}" fill="none" stroke="{color}" stroke-width="1.5" points="{path}">'
                     f"<title>{escape(label)}</title></polyline>")
        if len(points) <= POINT_MARKERS:
            for x, y in points:
                name = dict(x_ticks).get(x, _num(x)) if x_ticks is not None else _num(x)
                parts.append(f'<circle class="{series}" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{color}">'
                             f"<title>{escape(f'{label} at {x_label} {name}: {_num(y)}')}</title></circle>")
        if len(drawn) > 1:
            y = TOP + 16 * (index + 1)
            parts.append(f'<line class="{series}" x1="{WIDTH - RIGHT - 22}" x2="{WIDTH - RIGHT - 6}" y1="{y - 4}" '
                         f'y2="{y - 4}" stroke="{color}" stroke-width="3"/>'
                         f'<text x="{WIDTH - RIGHT - 28}" y="{y}" text-anchor="end">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _finite(points: Sequence[Point]) -> list[Point]:
    """Points as numbers; non-finite or malformed ones (from a hand-edited export) are left out."""
    kept = []
    for point in points:
        try:
            x, y = float(point[0]), float(point[1])
        except (TypeError, ValueError, IndexError, KeyError):
            continue
        if math.isfinite(x) and math.isfinite(y):
            kept.append((x, y))
    return kept


def _thin(points: list[Point]) -> list[Point]:
    if len(points) <= MAX_POINTS:
        return points
    size = math.ceil(len(points) / (MAX_POINTS // 2))
    kept: list[Point] = []
    for start in range(0, len(points), size):
        bucket = points[start:start + size]
        low, high = min(bucket, key=lambda p: p[1]), max(bucket, key=lambda p: p[1])
        kept += sorted({low, high})
    return kept


def _span(lo: float, hi: float) -> tuple[float, float]:
    if hi > lo:
        return lo, hi
    pad = abs(lo) * 0.05 or 1.0
    return lo - pad, hi + pad


def _nice_ticks(lo: float, hi: float, count: int = 5, *, whole: bool = False) -> list[float]:
    """Round tick values covering [lo, hi]; ``whole`` keeps them integers (steps)."""
    lo, hi = _span(lo, hi)
    raw = (hi - lo) / (count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    multiples = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in multiples if m * magnitude >= raw)
    if whole:
        step = max(1, round(step))
    first = math.floor(lo / step) * step
    ticks = []
    value = first
    while value < hi + step * 0.5:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < hi:
        ticks.append(round(value, 12))
    return ticks


def _num(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


BAR_ROW = 22  # the bar chart's row height, in its own units
BAR_LABEL_WIDTH = 200  # room for the feature names left of the bars


def importance_bars(title: str, bars: Sequence[tuple[str, float]]) -> Markup:
    """Horizontal bars of mean |SHAP| per feature, largest first: the compact stand-in for shap's bar plot.

    A few hundred bytes per feature instead of shap's 30-40 KB file, drawn in the page's own colours. Long
    feature names are cut with an ellipsis; the full name is in the bar's tooltip and the table below.
    """
    shown = [(name, value) for name, value in bars if math.isfinite(value) and value >= 0]
    if not shown:
        return Markup("")
    top = max(value for _, value in shown) or 1.0
    height = TOP + BAR_ROW * len(shown) + 8
    plot_w = WIDTH - BAR_LABEL_WIDTH - RIGHT - 70  # 70: the value printed after the bar
    description = "; ".join(f"{name}: {_num(value)}" for name, value in shown)
    parts = [
        f'<svg class="mc-chart mc-importance-bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" font-family="sans-serif" font-size="{FONT_SIZE}" '
        'fill="currentColor" data-search-exclude="">',
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>",
        f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    for row, (name, value) in enumerate(shown):
        y = TOP + row * BAR_ROW
        width = max(value / top * plot_w, 1.0)
        label = name if len(name) <= 28 else name[:27] + "…"
        parts.append(
            f'<text x="{BAR_LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="mc-series-0" x="{BAR_LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="{BAR_ROW - 6}" '
            f'fill="{PALETTE[0]}"><title>{escape(f"{name}: {_num(value)}")}</title></rect>'
            f'<text x="{BAR_LABEL_WIDTH + width + 6:.1f}" y="{y + 15}">{escape(_num(value))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
