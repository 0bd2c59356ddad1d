"""Reach over time as an inline SVG drawn on the server: no script, scales to the page's width
(a viewBox), readable at 400 px and in print (large labels, dark strokes, a table beside it)."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from bot.services.reach import Figures

W, H = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 48
FONT = 18  # in viewBox units: ~11 px at 400 px wide


def reach_chart(weeks: Sequence[tuple[str, Figures]], title: str) -> str:
    """Bars per week: people sent a post asking for «Đã hiểu» (light) and those who
    acknowledged (dark)."""
    rows = [(label, (f.ack_audience, f.acknowledged)) for label, f in weeks]
    return bar_chart(rows, ("#9ec5e8", "#1f4e79"), title)


def bar_chart(
    weeks: Sequence[tuple[str, Sequence[int]]], colours: Sequence[str], title: str
) -> str:
    """Side-by-side bars per label, one per colour (values in the same order)."""
    top = max([v for _, values in weeks for v in values] + [1])
    inner_w, inner_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    step = inner_w / max(len(weeks), 1)
    bar = step * 0.8 / max(len(colours), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
        f'class="chart" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + inner_h}" x2="{W - RIGHT}" y2="{TOP + inner_h}" '
        'stroke="#333" stroke-width="2"/>',
        f'<text x="{LEFT - 6}" y="{TOP + FONT}" font-size="{FONT}" text-anchor="end">{top}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + inner_h}" font-size="{FONT}" text-anchor="end">0</text>',
    ]
    every = max(1, round(len(weeks) / 7))  # at most ~7 labels: they stay readable when narrow
    for i, (label, values) in enumerate(weeks):
        x = LEFT + i * step + (step - len(colours) * bar) / 2
        for j, (value, colour) in enumerate(zip(values, colours, strict=True)):
            h = inner_h * value / top
            parts.append(
                f'<rect x="{x + j * bar:.1f}" y="{TOP + inner_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(label)}: {value}</title></rect>'
            )
        if i % every == 0:
            parts.append(
                f'<text x="{LEFT + i * step + step / 2:.1f}" y="{H - BOTTOM + FONT + 8}" '
                f'font-size="{FONT}" text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
