"""Charts of unit cost against yield, and of supply by scenario with its binding input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from chipgap.analyses.econ import cost_curve  # noqa: E402
from chipgap.analyses.supply import supply  # noqa: E402
from chipgap.catalog.catalog import Catalog  # noqa: E402


def cost_vs_yield_chart(catalog: Catalog, chip: str) -> Figure:
    """Cost per packaged chip against die yield (P10-P90 band, P50 line), reported yields marked."""
    c = catalog.chip(chip)
    df = cost_curve(catalog, c.id)
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.fill_between(df.die_yield, df.cost_p10_usd, df.cost_p90_usd, alpha=0.25, label="P10-P90")
    ax.plot(df.die_yield, df.cost_p50_usd, label="P50")
    inputs = catalog.chip_cost(c.id)
    for r in inputs.yields if inputs else ():
        y = r.value.point
        cost = np.interp(y, df.die_yield, df.cost_p50_usd)
        ax.axvline(y, color="grey", ls=":", lw=1)
        ax.annotate(f"{r.date}{' target' if r.kind == 'target' else ''}: {y:.0%}", (y, cost),
                    xytext=(4, 8), textcoords="offset points", fontsize=8)
    ax.set(xlabel="die yield", ylabel="cost per packaged chip (USD)", ylim=(0, None),
           title=f"{c.name}: unit cost against die yield")
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.legend(fontsize=8)
    return fig


def supply_chart(catalog: Catalog, scenarios: list[str], samples: int = 2000,
                 tables: dict | None = None) -> Figure:
    """H100-equivalents (spec) per scenario, domestic and imported, with the binding input.

    ``tables`` may hold `chipgap.analyses.supply.supply`'s result per scenario, already computed.
    """
    labels, dom, imp, err, binding = [], [], [], [], []
    for sid in scenarios:
        df = tables[sid] if tables and sid in tables else supply(catalog, sid, samples, workload_equivalents=False)
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
    for xi, total, b in zip(x, np.add(dom, imp), binding):
        ax.annotate(f"binds: {b}", (xi, total), xytext=(0, 6), textcoords="offset points",
                    ha="center", fontsize=8)
    ax.set_xticks(x, labels, rotation=20, ha="right", fontsize=8)
    ax.set(ylabel="H100-equivalents (dense BF16 peak)", title="AI-chip supply by scenario (P50, P10-P90)")
    ax.legend(fontsize=8)
    return fig
