"""Charts of unit cost against yield, and of supply by scenario with its binding input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from chipgap.catalog.costs import ChipCost  # noqa: E402
from chipgap.plots.labels import legend_below  # noqa: E402


def cost_vs_yield_chart(df: pd.DataFrame, inputs: ChipCost | None, name: str) -> Figure:
    """Cost per packaged chip against die yield (P10-P90 band, P50 line), reported yields marked.

    ``df`` is `chipgap.analyses.econ.cost_curve`; ``inputs`` the chip's cost record (its yields).
    """
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.fill_between(df.die_yield, df.cost_p10_usd, df.cost_p90_usd, alpha=0.25, label="P10-P90")
    ax.plot(df.die_yield, df.cost_p50_usd, label="P50")
    for r in inputs.yields if inputs else ():
        y = r.value.point
        cost = np.interp(y, df.die_yield, df.cost_p50_usd)
        ax.axvline(y, color="grey", ls=":", lw=1)
        ax.annotate(f"{r.date}{' target' if r.kind == 'target' else ''}: {y:.0%}", (y, cost),
                    xytext=(4, 8), textcoords="offset points", fontsize=8)
    ax.set(xlabel="die yield", ylabel="cost per packaged chip (USD)", ylim=(0, None),
           title=f"{name}: unit cost against die yield")
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    legend_below(ax, ncol=2)
    return fig


def supply_chart(tables: dict[str, pd.DataFrame]) -> Figure:
    """H100-equivalents (spec) per scenario, domestic and imported, with the binding input.

    ``tables`` holds `chipgap.analyses.supply.supply`'s result per scenario.
    """
    labels, dom, imp, err, binding = [], [], [], [], []
    for sid, df in tables.items():
        pick = lambda line, q: df[(df.line == line) & (df["quantile"] == q)].h100_equivalents_spec.iloc[0]  # noqa: E731
        labels.append(sid)
        dom.append(pick("total domestic", "P50"))
        imp.append(pick("total import", "P50"))
        err.append([[pick("total all", "P50") - pick("total all", "P10")],
                    [pick("total all", "P90") - pick("total all", "P50")]])
        binding.append(df[df.line == "total domestic"].binding_constraint.iloc[0].split(" (")[0])
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(labels)), 5))
    ax.bar(x, dom, label="domestic")
    ax.bar(x, imp, bottom=dom, label="imports")
    ax.errorbar(x, np.add(dom, imp), yerr=np.hstack(err), fmt="none", color="black", capsize=3, lw=1)
    tops = np.add(dom, imp) + np.hstack(err)[1]
    for xi, top, b in zip(x, tops, binding):     # above the whisker, never on it
        ax.annotate(f"binds: {b}", (xi, top), xytext=(0, 5), textcoords="offset points",
                    ha="center", fontsize=8)
    ax.set_xticks(x, labels, rotation=20, ha="right", fontsize=8)
    ax.set(ylabel="H100-equivalents (dense BF16 peak)", title="AI-chip supply by scenario (P50, P10-P90)")
    ax.set_ylim(0, max(np.add(dom, imp) + np.hstack(err)[1]) * 1.15)
    legend_below(ax, ncol=2, extra_in=0.5)
    return fig
