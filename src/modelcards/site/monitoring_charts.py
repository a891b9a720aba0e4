"""A monitored metric over time as inline SVG: its points by day, the threshold band and the release-time value.

Drawn like the step-history charts of ``plots.py`` (same size, ticks, number format and thinning of long series),
with a shaded band and a dashed reference line; text, grid and frame in ``currentColor`` and the series in
``mc-series-0`` (alerts in ``mc-alert``), so that modelcards.css can recolour them for the dark palette. Each
marker carries ``data-date`` and ``data-value`` (the value as read, in full), so the chart can be checked against
its source. Every text is XML-escaped here.
"""

from __future__ import annotations

import datetime as dt
import math
from html import escape
from operator import itemgetter
from typing import Sequence

from markupsafe import Markup

from .plots import (BOTTOM, FONT_SIZE, HEIGHT, LEFT, MAX_POINTS, PALETTE, POINT_MARKERS, RIGHT, TOP, WIDTH, _nice_ticks,
                    _num)

ALERT_COLOR = "#d62728"
DATE_LABEL_WIDTH = 75  # px a YYYY-MM-DD label needs at the charts' font size
BAND_COLOR = "#2ca02c"


def monitoring_chart(title: str, points: Sequence[tuple[dt.date, float, bool]], *, low: float | None = None,
                     high: float | None = None, reference: float | None = None) -> Markup:
    """``points`` are (day, value, outside the band), oldest first; ``low``/``high`` bound the band."""
    if not points:
        return Markup("")
    results = len(points)
    points = _thin(list(points))
    days = [day.toordinal() for day, _, _ in points]
    values = [value for _, value, _ in points]
    shown = [*values, *(v for v in (low, high, reference) if v is not None)]
    y_ticks = _nice_ticks(min(shown), max(shown))
    y_lo, y_hi = y_ticks[0], y_ticks[-1]
    x_lo, x_hi = min(days), max(days)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (x - x_lo) / (x_hi - x_lo) * plot_w

    def sy(y: float) -> float:
        return TOP + plot_h - (y - y_lo) / (y_hi - y_lo) * plot_h

    band = " and ".join(part for part in (f"at least {_num(low)}" if low is not None else "",
                                          f"at most {_num(high)}" if high is not None else "") if part)
    description = f"{results} results from {points[0][0]} to {points[-1][0]}" + \
        (f"; band {band}" if band else "") + (f"; release-time value {_num(reference)}" if reference is not None else "")
    parts = [
        f'<svg class="mc-chart mc-monitoring-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" font-family="sans-serif" font-size="{FONT_SIZE}" '
        'fill="currentColor" data-search-exclude="">',
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>",
        f'<text x="{LEFT}" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    for tick in y_ticks:
        y = sy(tick)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="currentColor" stroke-opacity="0.15"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_num(tick))}</text>')
    if low is not None or high is not None:
        top, bottom = sy(min(high, y_hi) if high is not None else y_hi), sy(max(low, y_lo) if low is not None else y_lo)
        parts.append(f'<rect class="mc-band" x="{LEFT}" y="{top:.1f}" width="{plot_w}" height="{bottom - top:.1f}" '
                     f'fill="{BAND_COLOR}" fill-opacity="0.12"><title>{escape(f"band: {band}")}</title></rect>')
    if reference is not None:
        y = sy(reference)
        parts.append(f'<line class="mc-reference" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="currentColor" stroke-opacity="0.7" stroke-dasharray="4 3" data-value="{reference!r}">'
                     f"<title>{escape(f'release-time value: {_num(reference)}')}</title></line>")
    ticks: list[int] = []
    for day in sorted({days[0], *days[:: max(1, len(days) // 5)], days[-1]}):
        if ticks and sx(day) - sx(ticks[-1]) < DATE_LABEL_WIDTH:  # labels would overlap: the later date wins
            if day != days[-1]:
                continue
            if len(ticks) > 1:
                ticks.pop()
        ticks.append(day)
    for day in ticks:
        # The last date ends at the frame's right edge, so that it is not cut off by the chart's border.
        anchor = "end" if day == x_hi and len(ticks) > 1 else "middle"
        parts.append(f'<text x="{sx(day):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="{anchor}">'
                     f"{dt.date.fromordinal(day).isoformat()}</text>")
    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="currentColor" stroke-opacity="0.5"/>')
    path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(days, values))
    parts.append(f'<polyline class="mc-series-0" fill="none" stroke="{PALETTE[0]}" stroke-width="1.5" points="{path}"/>')
    # Every point is a marker on a short history; on a long one only the alerts are, so the page stays light.
    for (day, value, outside), x in zip(points, days):
        if not outside and len(points) > POINT_MARKERS:
            continue
        color, marker = (ALERT_COLOR, "mc-alert") if outside else (PALETTE[0], "mc-series-0")
        label = f"{day}: {_num(value)}" + (" (alert: outside the band)" if outside else "")
        parts.append(f'<circle class="{marker}" cx="{sx(x):.1f}" cy="{sy(value):.1f}" r="{4 if outside else 3}" fill="{color}" '
                     f'data-date="{day.isoformat()}" data-value="{value!r}"><title>{escape(label)}</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _thin(points: list[tuple[dt.date, float, bool]]) -> list[tuple[dt.date, float, bool]]:
    """A long history in at most about MAX_POINTS points, before any SVG is made of it: each bucket of results
    keeps its lowest and highest value (the envelope the line draws) and every result outside its band, so that
    each alert is still a marker."""
    if len(points) <= MAX_POINTS:
        return points
    size = math.ceil(len(points) / (MAX_POINTS // 2))
    kept: list[tuple[dt.date, float, bool]] = []
    for start in range(0, len(points), size):
        bucket = points[start:start + size]
        kept += sorted({min(bucket, key=_VALUE), max(bucket, key=_VALUE), *(p for p in bucket if p[2])})
    return kept


_VALUE = itemgetter(1)
