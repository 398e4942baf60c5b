"""TPP against performance density, with a rule's controlled regions and every chip placed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from chipgap.analyses.export import classify_chips  # noqa: E402
from chipgap.catalog.catalog import Catalog  # noqa: E402
from chipgap.models import export as ex  # noqa: E402

COUNTRY_COLOURS = {"CN": "#c0392b", "US": "#2c3e50"}
REGION_COLOURS = ["#ffffff", "#f6c9b5", "#fbe3b0", "#e8e8e8"]  # none, first ECCN, second, ...


def tpp_density_chart(catalog: Catalog, rule: str = "2023-10") -> Figure:
    """A log-log chart of TPP vs performance density for the catalog's chips.

    The background shows which classification of ``rule`` a data-centre chip at each point
    would fall in; each chip sits at its point estimate, with bars spanning its range. Chips
    whose die area is not public are listed under the chart instead.
    """
    r = catalog.rule(rule)
    df = classify_chips(catalog, rules=[rule], samples=1)
    fig, ax = plt.subplots(figsize=(10, 7))
    pd_axis, tpp_axis = np.geomspace(0.5, 60, 400), np.geomspace(800, 80000, 400)
    grid_pd, grid_tpp = np.meshgrid(pd_axis, tpp_axis)
    idx, _ = ex.classify(r, {"tpp": grid_tpp, "performance_density": grid_pd,
                             "io_bw_gbps_bidir": np.full_like(grid_tpp, 1e9),
                             "memory_bw_gbps": np.full_like(grid_tpp, 1e9),
                             "scaleup_bw_gbps_bidir": np.full_like(grid_tpp, 1e9)},
                         np.array("datacenter"))
    n = len(r.classifications)
    ax.pcolormesh(pd_axis, tpp_axis, np.where(idx >= 0, idx + 1, 0), shading="auto",
                  cmap=ListedColormap(REGION_COLOURS[: n + 1]), vmin=0, vmax=n, alpha=0.9)
    placed = df[df.performance_density.notna() & df.tpp.notna()]
    labels: dict[tuple[float, float], tuple[str, list[str]]] = {}  # chips at one point share a label
    for row in placed.itertuples():
        chip = catalog.chip(row.chip)
        colour = COUNTRY_COLOURS.get(chip.country, "#7f8c8d")
        xerr = [[row.performance_density - row.performance_density_low],
                [row.performance_density_high - row.performance_density]]
        yerr = [[row.tpp - row.tpp_low], [row.tpp_high - row.tpp]]
        ax.errorbar(row.performance_density, row.tpp, xerr=xerr, yerr=yerr, fmt="o",
                    color=colour, ms=5, capsize=2, lw=0.8)
        key = (round(row.performance_density, 2), round(row.tpp, -1))
        labels.setdefault(key, (colour, []))[1].append(min((chip.id, *chip.aliases), key=len))
    for (x, y), (colour, names) in labels.items():
        ax.annotate(" / ".join(names), (x, y), fontsize=7, xytext=(4, 3),
                    textcoords="offset points", color=colour)
    ax.set(xscale="log", yscale="log", xlim=(pd_axis[0], pd_axis[-1]),
           ylim=(tpp_axis[0], tpp_axis[-1]),
           xlabel="performance density (TPP per mm² of logic die)",
           ylabel="TPP (2 × dense MacTOPS × bit length)",
           title=f"Chips against US export rule {r.id} ({r.citation.split(';')[0]})")
    ax.text(0.01, 0.99, "shading: where a data-centre part would fall;\nconsumer parts are caught "
            "only at TPP >= 4800", transform=ax.transAxes, va="top", fontsize=7)
    handles = [plt.Rectangle((0, 0), 1, 1, color=REGION_COLOURS[i + 1]) for i in range(n)]
    handles += [plt.Line2D([], [], marker="o", ls="", color=c) for c in COUNTRY_COLOURS.values()]
    ax.legend(handles, [c.eccn for c in r.classifications] + ["China", "United States"],
              loc="lower right", fontsize=8)
    missing = sorted(set(df.chip) - set(placed.chip))
    if missing:
        fig.text(0.01, 0.005, "No public die area or throughput, not placed: " + ", ".join(missing),
                 fontsize=6, wrap=True)
    return fig
