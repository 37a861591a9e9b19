"""Server-drawn SVG charts: markup built here, every text escaped, no script, no style attribute.

Colours come from CSS classes in static/css/app.css (CSP allows no inline style), sizes from
SVG attributes; the root carries role="img" with a <title> and <desc> for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 360, 240
LEFT, RIGHT, TOP, BOTTOM = 62, 8, 12, 46
UNITS = ((1, "s"), (60, "min"), (3600, "h"), (86400, "d"))


@dataclass(frozen=True)
class Bar:
    """One bar: its length in seconds, a short axis label and a longer tooltip."""

    seconds: float
    label: str
    title: str
    css_class: str = ""


def duration(seconds: float | None) -> str:
    """A short human duration: 45 s, 12 min, 3 h 5 min, 2 d 4 h; an em dash for None."""
    if seconds is None:
        return "—"
    whole = int(max(seconds, 0))
    if whole < 60:  # to the nearest second (the API's 9.7 reads 10 s), below a minute
        return f"{min(round(max(seconds, 0)), 59)} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86400:
        hours, minutes = divmod(whole // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(whole // 3600, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _unit(longest: float) -> tuple[int, str]:
    """The unit the axis counts in: seconds up to 2 min, minutes up to 2 h, then hours, days."""
    if longest < 120:
        return UNITS[0]
    if longest < 7200:
        return UNITS[1]
    if longest < 2 * 86400:
        return UNITS[2]
    return UNITS[3]


def _step(span: float, ticks: int = 4) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about `ticks` intervals."""
    raw = max(span / ticks, 1e-9)
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _attrs(**values: object) -> str:
    return " ".join(f'{name.rstrip("_").replace("_", "-")}="{escape(value)}"'
                    for name, value in values.items() if value not in (None, ""))


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    description: str,
    x_label: str,
    y_label: str,
    chart_id: str = "chart",
) -> Markup:
    """A vertical bar chart of durations, as an inline <svg> element (valid XML)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    longest = max((bar.seconds for bar in bars), default=0.0)
    unit_seconds, unit_name = _unit(longest)
    step = _step(max(longest / unit_seconds, 1.0))
    top = max(math.ceil(longest / unit_seconds / step), 1) * step
    scale = plot_h / (top * unit_seconds)
    base_y = TOP + plot_h
    ident = escape(chart_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart-svg" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'preserveAspectRatio="xMidYMid meet">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
    ]
    tick = 0.0
    while tick <= top + step / 2:
        y = base_y - tick * unit_seconds * scale
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
                     f'y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{escape(_number(round(tick, 6)))} {escape(unit_name)}</text>')
        tick += step
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{base_y}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
                 f'y1="{base_y}" y2="{base_y}"/>')
    if bars:
        slot = plot_w / len(bars)
        width = max(slot * 0.7, 1.0)
        every = max(math.ceil(len(bars) / 6), 1)
        for index, bar in enumerate(bars):
            height = max(bar.seconds, 0) * scale
            if bar.seconds > 0:
                height = max(height, 1.0)
            x = LEFT + index * slot + (slot - width) / 2
            classes = " ".join(filter(None, ("bar", bar.css_class)))
            parts.append(f'<rect {_attrs(class_=classes)} x="{x:.1f}" y="{base_y - height:.1f}" '
                         f'width="{width:.1f}" height="{height:.1f}">'
                         f'<title>{escape(bar.title)}</title></rect>')
            if index % every == 0 or index == len(bars) - 1:
                parts.append(f'<text class="tick" x="{x + width / 2:.1f}" y="{base_y + 16}" '
                             f'text-anchor="middle">{escape(bar.label)}</text>')
    else:
        parts.append(f'<text class="empty" x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" '
                     f'text-anchor="middle">No data yet</text>')
    parts.append(f'<text class="label" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<text class="label" x="14" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">{escape(y_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
