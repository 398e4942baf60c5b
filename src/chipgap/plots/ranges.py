"""Charts of Monte-Carlo results: throughput ranges against a baseline, and a claim's distribution."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def relative_ranges_chart(samples: dict[str, np.ndarray], baseline: str, title: str,
                          xlabel: str) -> Figure:
    """Each entry's P50 over the baseline's P50 as a bar, with its P10-P90 as a whisker.

    ``samples`` maps a label to its draws; a label whose draws are all equal gets no whisker.
    """
    base = float(np.nanmedian(samples[baseline]))
    labels = list(samples)
    q = np.array([np.nanquantile(samples[k], [0.1, 0.5, 0.9]) for k in labels]) / base
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.4))
    y = np.arange(len(labels))
    colours = ["#c0392b" if k.lower().startswith(("huawei", "ascend")) else "#2c3e50" for k in labels]
    ax.barh(y, q[:, 1], color=colours, alpha=0.8)
    ax.errorbar(q[:, 1], y, xerr=[q[:, 1] - q[:, 0], q[:, 2] - q[:, 1]], fmt="none", ecolor="black",
                capsize=3, lw=1)
    ax.axvline(1.0, color="grey", ls="--", lw=1)
    for yi, v, end in zip(y, q[:, 1], np.fmax(q[:, 2], q[:, 1])):   # right of the whisker, never on it
        ax.annotate(f"{v:.2f}x", (end, yi), xytext=(6, -3), textcoords="offset points", fontsize=8)
    ax.set_yticks(y, labels, fontsize=9)
    ax.invert_yaxis()
    ax.set(xlabel=xlabel, title=title, xlim=(0, max(1.15, float(np.nanmax(q[:, 2])) * 1.15)))
    return fig


def claim_distribution_chart(ratio_samples: np.ndarray, title: str, xlabel: str,
                             threshold: float = 1.0) -> Figure:
    """A histogram of a ratio's draws, the threshold marked, and P(ratio >= threshold) in the title."""
    r = np.asarray(ratio_samples, dtype=float)
    r = r[np.isfinite(r)]
    p = float(np.mean(r >= threshold)) if r.size else float("nan")
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.hist(r, bins=50, color="#c0392b", alpha=0.75)
    ax.axvline(threshold, color="black", ls="--", lw=1)
    lo, mid, hi = np.quantile(r, [0.1, 0.5, 0.9]) if r.size else (np.nan,) * 3
    for v, name in ((lo, "P10"), (mid, "P50"), (hi, "P90")):
        ax.axvline(v, color="grey", ls=":", lw=1)
        ax.annotate(name, (v, ax.get_ylim()[1] * 0.92), fontsize=8, ha="center")
    ax.set(xlabel=xlabel, ylabel="samples", title=f"{title}: P(>= {threshold:g}) = {p:.0%}")
    return fig
