"""The filed report's reach chart: people reached, who tapped Đã hiểu and who took part, per
school (per audience when there are more schools than a printed page can show), as a PNG.

matplotlib draws it headless (the Agg canvas, no display, no global backend switch) in DejaVu
Sans, which matplotlib ships and which has every Vietnamese letter; three shades of one blue
keep the bars apart in black-and-white print too. Every word comes from the caller."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

SERIES: Final = ("audience", "acknowledged", "engaged")
SHADES: Final = ("#1f3b73", "#5b8bd0", "#c4d6f0")  # dark, middle, light in grey print too
MAX_BARS: Final = 15  # groups of bars one A4 page shows legibly
WIDTH_IN: Final = 6.3  # the text width of the page (165 mm)
DPI: Final = 200


def reach_png(
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    labels: Mapping[str, str],
    axis: str,
    number: Callable[[int], str],
) -> bytes:
    """Grouped horizontal bars of `SERIES` for each (name, figures) row, top to bottom in the
    rows' order; `labels` names each series, `axis` the value axis, `number` writes a value."""
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 9}):
        figure = Figure(figsize=(WIDTH_IN, 1.1 + 0.42 * len(rows)), dpi=DPI)
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        height = 0.8 / len(SERIES)
        widest = max((row[k] or 0 for _, row in rows for k in SERIES), default=0) or 1
        for i, (key, shade) in enumerate(zip(SERIES, SHADES, strict=True)):
            ys = [n - 0.4 + height * (i + 0.5) for n in range(len(rows))]
            values = [row[key] or 0 for _, row in rows]
            bars = ax.barh(ys, values, height, color=shade, edgecolor="#1f3b73",
                           linewidth=0.5, label=labels[key])  # fmt: skip
            ax.bar_label(bars, [number(v) for v in values], padding=2, fontsize=7)
        ax.set_yticks(range(len(rows)), [name for name, _ in rows])
        ax.invert_yaxis()  # the first row on top, as in the table under the chart
        ax.set_xlim(0, widest * 1.15)  # room for the largest bar's label
        ax.set_xlabel(axis)
        ax.xaxis.set_major_formatter(lambda v, _: number(int(v)))
        ax.grid(axis="x", color="#dddddd", linewidth=0.5)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(SERIES), frameon=False)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
