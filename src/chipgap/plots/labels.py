"""Point labels that never overlap each other, and legends that never cover data."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.transforms import Bbox

OFFSETS = ((5, 3), (5, -10), (-5, 3), (-5, -10), (5, 12), (5, -19), (-5, 12), (-5, -19), (12, 21),
           (12, -28), (-12, 21), (-12, -28), (16, 30), (16, -37), (-16, 30), (-16, -37), (20, 40), (20, -46))
"""Where a label is tried, in points from its point, nearest first."""


def place_labels(ax: Axes, points: Sequence[tuple[float, float, str, str]], fontsize: float = 7) -> list:
    """Label each ``(x, y, text, colour)`` at the nearest of `OFFSETS` where its box overlaps no
    label placed before it and no point's marker, and stays inside the axes; a label that finds no free place goes at
    the last offset with a thin leader line. Returns the annotations.

    The figure is drawn once to measure text; call this after the axes' limits are set.
    """
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    markers = [Bbox.from_bounds(px - 4, py - 4, 8, 8)
               for px, py in (ax.transData.transform((x, y)) for x, y, _, _ in points)]
    placed: list[Bbox] = list(markers)
    out = []
    for x, y, text, colour in sorted(points, key=lambda p: (p[1], p[0])):
        chosen = None
        for i, (dx, dy) in enumerate(OFFSETS):
            a = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                            color=colour, ha="left" if dx >= 0 else "right", va="bottom")
            box = a.get_window_extent(renderer).padded(1.5)
            free = not any(box.overlaps(b) for b in placed)
            within = inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1)
            if free and within:
                chosen = (a, box)
                break
            last = i == len(OFFSETS) - 1
            if last:
                a.remove()
                a = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                                color=colour, ha="left" if dx >= 0 else "right", va="bottom",
                                arrowprops={"arrowstyle": "-", "lw": 0.4, "color": colour})
                chosen = (a, a.get_window_extent(renderer).padded(1.5))
            else:
                a.remove()
        placed.append(chosen[1])
        out.append(chosen[0])
    return out


def legend_below(ax: Axes, handles: list | None = None, labels: list[str] | None = None, ncol: int = 2,
                 fontsize: float = 8, extra_in: float = 0.0, under_in: float = 0.0) -> None:
    """A legend along the bottom of the figure, under the axes and their label, never over the
    data; the figure's bottom margin grows to hold it (``extra_in`` inches more for tick labels
    that need room, such as rotated ones; ``under_in`` inches left free under the legend, for a
    note)."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    fig = ax.figure
    rows = -(-len(handles) // ncol)
    height = fig.get_figheight()
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, under_in / height), ncol=ncol,
               fontsize=fontsize, frameon=False)
    fig.subplots_adjust(bottom=min(0.6, (0.65 + extra_in + under_in + 0.2 * rows) / height))
