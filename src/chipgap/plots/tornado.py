"""Tornado charts: which inputs move a headline most, and where its verdict flips."""

from __future__ import annotations

import textwrap

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from chipgap.analyses.sensitivity import Sensitivity  # noqa: E402
from chipgap.plots.labels import legend_below  # noqa: E402
from chipgap.text import num  # noqa: E402


def tornado_chart(s: Sensitivity, title: str, xlabel: str, line_label: str = "verdict flips") -> Figure:
    """One bar per input from the headline at its low end to its high end, widest on top, the
    base value and the line at which the verdict flips marked; the inputs' ranges as labels."""
    bars = s.bars
    fig, ax = plt.subplots(figsize=(9, 0.42 * max(len(bars), 1) + 1.8))
    y = np.arange(len(bars))
    for yi, b in zip(y, bars):
        lo, hi = sorted((b.low_result, b.high_result))
        colour = "#7f8c8d" if b.key == "model-error" else "#2c6fbb"
        ax.barh(yi, hi - lo, left=lo, color=colour, alpha=0.8, height=0.6)
    ax.axvline(s.base, color="black", lw=1, label=f"every input at its point estimate: {num(s.base, 0.01)}")
    ax.axvline(s.line, color="#c0392b", ls="--", lw=1.2, label=f"{line_label}: {num(s.line, 0.01)}")
    ticks = []
    for b in bars:
        if b.key == "model-error":
            ticks.append(f"{b.label} ({100 * b.low_value:+.0f}% to {100 * b.high_value:+.0f}%)")
        else:
            ticks.append(f"{b.label} ({num(b.low_value, 0.01)}-{num(b.high_value, 0.01)})")
    ax.set_yticks(y, ticks, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title("\n".join(textwrap.wrap(title, 70)), fontsize=10)
    lo = min([s.line, s.base, *(min(b.low_result, b.high_result) for b in bars)])
    hi = max([s.line, s.base, *(max(b.low_result, b.high_result) for b in bars)])
    pad = 0.08 * (hi - lo or abs(hi) or 1)
    ax.set_xlim(lo - pad, hi + pad)
    if hi - lo >= 1e4:          # counts: thousands separated, as the labels print them
        ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    legend_below(ax, ncol=2)
    fig.subplots_adjust(left=0.45)
    return fig
