"""Throughput against latency: the Pareto fronts of serving searches."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from chipgap.analyses.infer import pareto  # noqa: E402
from chipgap.plots.labels import legend_below  # noqa: E402


SAME = 0.01
"""Fronts whose every point agrees within 1% are drawn as one series (a chart cannot tell them apart)."""


def same_fronts(fronts: dict[str, pd.DataFrame], rtol: float = SAME) -> dict[str, list[str]]:
    """Labels grouped by Pareto fronts that agree within ``rtol`` at every point (first label ->
    every label with that front), so a chart draws them once and says so.

    >>> f = pd.DataFrame({"tpot_ms": [10.0], "tokens_per_s_per_chip": [5.0], "reason": [""]})
    >>> same_fronts({"a": f, "b": f.assign(tpot_ms=10.001), "c": f.assign(tpot_ms=11.0)})
    {'a': ['a', 'b'], 'c': ['c']}
    """
    groups: dict[str, list[str]] = {}
    firsts: dict[str, np.ndarray] = {}
    for label, df in fronts.items():
        xy = pareto(df)[["tpot_ms", "tokens_per_s_per_chip"]].to_numpy()
        first = next((k for k, v in firsts.items() if v.shape == xy.shape and np.allclose(v, xy, rtol=rtol)), None)
        if first is None:
            firsts[label] = xy
            first = label
        groups.setdefault(first, []).append(label)
    return groups


def pareto_chart(fronts: dict[str, pd.DataFrame], tpot_slo_ms: float | None = None) -> Figure:
    """Tokens/s per chip against TPOT for each labelled serving search (``serve`` output).

    Every valid (layout, batch) is a faint point; the Pareto front of each search is a line.
    Searches whose fronts agree within `SAME` are drawn once, labelled 'A = B (identical within
    1%)'; the legend sits under the axes, never over the data.
    """
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for first, same in same_fronts(fronts).items():
        df = fronts[first]
        ok = df[df.reason == ""]
        points = ax.scatter(ok.tpot_ms, ok.tokens_per_s_per_chip, s=4, alpha=0.15)
        front = pareto(df)
        label = first if len(same) == 1 else " = ".join(same) + f" (identical within {SAME:.0%})"
        ax.plot(front.tpot_ms, front.tokens_per_s_per_chip, marker="o", ms=3, label=label,
                color=points.get_facecolor()[0][:3])
    if tpot_slo_ms:
        ax.axvline(tpot_slo_ms, color="grey", ls="--", lw=1, label=f"TPOT SLO {tpot_slo_ms:g} ms")
    ax.set(xscale="log", xlabel="time per output token (ms)", ylabel="output tokens/s per chip",
           title="Serving throughput against latency (Pareto fronts)")
    legend_below(ax, ncol=2)
    return fig
