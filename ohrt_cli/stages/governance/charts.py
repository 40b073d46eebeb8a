"""Inline SVG bar charts for the quarterly report (SOP 7.2): no scripts, no fonts, no network.

One kind of chart is enough for a report that compares two quarters: horizontal grouped bars, this
quarter dark and the previous one light (so the two still differ when printed in grey), each value
written at the end of its bar. A value that is not published exactly ("<5", ">=5", withheld) gets no bar,
only its text, so a chart never shows more than the tables do.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any, Callable

WIDTH = 760
LABEL_W = 270
VALUE_W = 70
BAR_H = 13
ROW_GAP = 12
TOP = 54
THIS_FILL = "#1d3f77"
PREVIOUS_FILL = "#a9bcd9"
GRID = "#d9dee7"
INK = "#1a1a1a"
MUTED = "#5b6472"


def axis_end(value: float, *, whole: bool) -> float:
    """The end of an axis of four equal steps, each 1, 2, 2.5 or 5 × 10^k, reaching `value`; with
    `whole` the steps are whole numbers (a count axis never reads 1.25)."""
    if value <= 0:
        return 4 if whole else 1
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        size = step * power
        if size >= raw and (not whole or size == int(size)):
            return 4 * size
    return 4 * math.ceil(raw)


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def grouped_bars(chart_id: str, title: str, rows: list[tuple[str, Any, Any]], *, this_label: str,
                 previous_label: str, show: Callable[[Any], str], maximum: float | None = None,
                 note: str = "") -> str:
    """An SVG of one pair of bars per row: (label, this quarter's value, previous quarter's value).

    `chart_id` must be unique in the page; `show` turns a value into its text; `maximum` fixes the axis
    end (100 for percentages)."""
    numbers = [v for _, a, b in rows for v in (a, b) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    top = maximum or axis_end(max(numbers, default=0), whole=all(isinstance(v, int) for v in numbers))
    area = WIDTH - LABEL_W - VALUE_W
    row_h = 2 * BAR_H + ROW_GAP
    height = TOP + max(len(rows), 1) * row_h + 22
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{chart_id}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'font-family="Helvetica, Arial, sans-serif" font-size="12">',
        f'<title id="{chart_id}">{escape(title)}</title>',
        f'<text x="0" y="16" font-size="14" font-weight="bold" fill="{INK}">{escape(title)}</text>',
        _legend(this_label, previous_label, note),
    ]
    parts += _grid(top, area, height)
    if not rows:
        parts.append(f'<text x="{LABEL_W}" y="{TOP + 16}" fill="{MUTED}">'
                     'nothing to show this quarter or the last</text>')
    for i, (label, this, previous) in enumerate(rows):
        y = TOP + i * row_h
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + BAR_H + 4}" text-anchor="end" fill="{INK}">'
                     f'<title>{escape(label)}</title>{escape(_shorten(label))}</text>')
        parts.append(_bar(this, y, top, area, THIS_FILL, show))
        parts.append(_bar(previous, y + BAR_H, top, area, PREVIOUS_FILL, show))
    parts.append("</svg>")
    return "".join(parts)


def _legend(this_label: str, previous_label: str, note: str) -> str:
    y = 32
    text = (f'<rect x="{LABEL_W}" y="{y}" width="12" height="12" fill="{THIS_FILL}"/>'
            f'<text x="{LABEL_W + 17}" y="{y + 10}" fill="{INK}">{escape(this_label)}</text>'
            f'<rect x="{LABEL_W + 110}" y="{y}" width="12" height="12" fill="{PREVIOUS_FILL}"/>'
            f'<text x="{LABEL_W + 127}" y="{y + 10}" fill="{INK}">{escape(previous_label)}</text>')
    if note:
        text += f'<text x="{WIDTH}" y="{y + 10}" text-anchor="end" fill="{MUTED}">{escape(note)}</text>'
    return text


def _grid(top: float, area: float, height: float) -> list[str]:
    lines = []
    for i in range(5):
        value = top * i / 4
        x = LABEL_W + area * i / 4
        lines.append(f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{height - 18}" stroke="{GRID}"/>')
        label = f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0")
        lines.append(f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle" fill="{MUTED}" '
                     f'font-size="10">{label}</text>')
    return lines


def _bar(value: Any, y: float, top: float, area: float, fill: str, show: Callable[[Any], str]) -> str:
    text = escape(show(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        width = max(area * min(value, top) / top, 0)
        return (f'<rect x="{LABEL_W}" y="{y:.1f}" width="{width:.1f}" height="{BAR_H - 1}" fill="{fill}"/>'
                f'<text x="{LABEL_W + width + 4:.1f}" y="{y + BAR_H - 2:.1f}" fill="{INK}" '
                f'font-size="11">{text}</text>')
    return f'<text x="{LABEL_W + 4}" y="{y + BAR_H - 2:.1f}" fill="{MUTED}" font-size="11">{text}</text>'
