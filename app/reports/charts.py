"""Server-rendered SVG chart: attendance % per session (no JavaScript, no CDN, no matplotlib)."""
from __future__ import annotations

from markupsafe import escape

OK_COLOUR = "#12b76a"
LOW_COLOUR = "#f04438"
GRID_COLOUR = "#d0d5dd"


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
    for i, (label, fraction) in enumerate(bars):
        fraction = min(1.0, max(0.0, fraction))
        h = plot_h * fraction
        x = left + i * slot + (slot - bar_w) / 2
        colour = LOW_COLOUR if fraction < threshold else OK_COLOUR
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{colour}" data-value="{fraction * 100:.1f}"><title>{escape(label)}: {fraction * 100:.0f}%</title></rect>'
        )
    if bars:
        # Only the first and last dates: hundreds of labels would overlap.
        parts.append(f'<text x="{left}" y="{height - 6}">{escape(bars[0][0])}</text>')
        parts.append(f'<text x="{width - right}" y="{height - 6}" text-anchor="end">{escape(bars[-1][0])}</text>')
    y = top + plot_h * (1 - threshold)
    parts.append(f'<line class="threshold" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                 f'stroke="{LOW_COLOUR}" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    return "\n".join(parts)
