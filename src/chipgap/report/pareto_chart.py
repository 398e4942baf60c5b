"""Throughput against latency: the Pareto front of a serving search."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from chipgap.analyses.infer import pareto  # noqa: E402


def pareto_chart(fronts: dict[str, pd.DataFrame], tpot_slo_ms: float | None = None) -> Figure:
    """Tokens/s per chip against TPOT for each labelled serving search (``serve`` output).

    Every valid (layout, batch) is a faint point; the Pareto front of each search is a line.
    """
    fig, ax = plt.subplots(figsize=(8, 5))
    for label, df in fronts.items():
        ok = df[df.reason == ""]
        ax.scatter(ok.tpot_ms, ok.tokens_per_s_per_chip, s=4, alpha=0.15)
        front = pareto(df)
        ax.plot(front.tpot_ms, front.tokens_per_s_per_chip, marker="o", ms=3, label=label)
    if tpot_slo_ms:
        ax.axvline(tpot_slo_ms, color="grey", ls="--", lw=1)
        ax.text(tpot_slo_ms, ax.get_ylim()[1], f" TPOT SLO {tpot_slo_ms:g} ms", va="top", fontsize=8)
    ax.set(xscale="log", xlabel="time per output token (ms)", ylabel="output tokens/s per chip",
           title="Serving throughput against latency (Pareto fronts)")
    ax.legend(fontsize=8)
    return fig
