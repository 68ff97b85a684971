"""Server-rendered SVG chart: attendance % per session (no JavaScript, no CDN, no matplotlib)."""
from __future__ import annotations

from datetime import datetime
from math import ceil

from markupsafe import escape

OK_COLOUR = "#12b76a"
LOW_COLOUR = "#f04438"
GRID_COLOUR = "#d0d5dd"
TICK_WIDTH = 56  # px one date label needs ("Dec 12" at 10 px)
ZERO_BAR = 2.0  # px height of a 0% bar


def tick_label(label: str) -> str:
    """"2026-12-01 09:00" -> "Dec 1"; other labels unchanged."""
    try:
        day = datetime.strptime(label[:10], "%Y-%m-%d")
    except ValueError:
        return label
    return f"{day:%b} {day.day}"


def attendance_svg(bars: list[tuple[str, float]], threshold: float, width: int = 720, height: int = 240) -> str:
    """A bar per (label, fraction present); bars under threshold are red; a dashed line marks the threshold."""
    left, right, top, bottom = 36, 8, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Attendance per session" '
        'font-family="sans-serif" font-size="10">',
        "<title>Attendance per session</title>",
    ]
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID_COLOUR}"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">{pct}%</text>')
    if not bars:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">No sessions yet</text>')
    slot = plot_w / max(1, len(bars))
    bar_w = max(1.0, slot * 0.8)
    step = max(1, ceil(len(bars) * TICK_WIDTH / plot_w))  # a date under every step-th bar, never overlapping
    last_tick = ""
    for i, (label, fraction) in enumerate(bars):
        fraction = min(1.0, max(0.0, fraction))
        # A 0% session still gets a visible sliver, so a class nobody attended is not mistaken for no session.
        h = max(plot_h * fraction, ZERO_BAR)
        x = left + i * slot + (slot - bar_w) / 2
        colour = LOW_COLOUR if fraction < threshold else OK_COLOUR
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{colour}" data-value="{fraction * 100:.1f}"><title>{escape(label)}: {fraction * 100:.0f}%</title></rect>'
        )
        if fraction == 0 and slot >= 14:
            parts.append(f'<text class="zero" x="{x + bar_w / 2:.1f}" y="{top + plot_h - ZERO_BAR - 3:.1f}" '
                         f'text-anchor="middle" fill="{LOW_COLOUR}">0%</text>')
        if i % step == 0:
            tick = tick_label(label)
            # Two sessions on one day: the second says its time, not the same date again.
            tick, last_tick = (label[11:16] or tick if tick == last_tick else tick), tick
            parts.append(f'<text class="tick" x="{left + (i + 0.5) * slot:.1f}" y="{height - 6}" '
                         f'text-anchor="middle">{escape(tick)}</text>')
    y = top + plot_h * (1 - threshold)
    parts.append(f'<line class="threshold" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                 f'stroke="{LOW_COLOUR}" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    return "\n".join(parts)
