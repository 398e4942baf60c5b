"""TPP against performance density, with a rule's controlled regions and every chip placed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from chipgap.analyses.export import classification_grid, classify_chips  # noqa: E402
from chipgap.catalog.catalog import Catalog  # noqa: E402
from chipgap.plots.labels import legend_below, place_labels  # noqa: E402

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
    fig, ax = plt.subplots(figsize=(10, 7.5))
    pd_axis, tpp_axis = np.geomspace(0.5, 60, 400), np.geomspace(800, 80000, 400)
    idx = classification_grid(catalog, rule, pd_axis, tpp_axis)
    n = len(r.classifications)
    ax.pcolormesh(pd_axis, tpp_axis, np.where(idx >= 0, idx + 1, 0), shading="auto",
                  cmap=ListedColormap(REGION_COLOURS[: n + 1]), vmin=0, vmax=n, alpha=0.9)
    placed = df[df.performance_density.notna() & df.tpp.notna()]
    labels: dict[tuple[float, float], tuple[str, list[str], float, float]] = {}  # chips at one point share a label
    for row in placed.itertuples():
        chip = catalog.chip(row.chip)
        colour = COUNTRY_COLOURS.get(chip.country, "#7f8c8d")
        xerr = [[row.performance_density - row.performance_density_low],
                [row.performance_density_high - row.performance_density]]
        yerr = [[row.tpp - row.tpp_low], [row.tpp_high - row.tpp]]
        ax.errorbar(row.performance_density, row.tpp, xerr=xerr, yerr=yerr, fmt="o",
                    color=colour, ms=5, capsize=2, lw=0.8)
        key = (round(row.performance_density, 2), round(row.tpp, -1))
        labels.setdefault(key, (colour, [], row.performance_density, row.tpp))[1].append(
            min((chip.id, *chip.aliases), key=len))
    ax.set(xscale="log", yscale="log", xlim=(pd_axis[0], pd_axis[-1]),
           ylim=(tpp_axis[0], tpp_axis[-1]),
           xlabel="performance density (TPP per mm² of logic die)",
           ylabel="TPP (2 × dense MacTOPS × bit length)",
           title=f"Chips against US export rule {r.id} ({r.citation.split(';')[0]})")
    handles = [plt.Rectangle((0, 0), 1, 1, color=REGION_COLOURS[i + 1]) for i in range(n)]
    handles += [plt.Line2D([], [], marker="o", ls="", color=c) for c in COUNTRY_COLOURS.values()]
    legend_below(ax, handles, [f"data-centre part would be {c.eccn}" for c in r.classifications]
                 + ["China", "United States"], ncol=4, under_in=0.55)
    missing = sorted(set(df.chip) - set(placed.chip))
    note = "Shading: where a data-centre part would fall; consumer parts are caught only at TPP >= 4800."
    if missing:
        note += " No public die area or throughput, not placed: " + ", ".join(missing)
    fig.text(0.01, 0.005, note, fontsize=6, wrap=True)
    place_labels(ax, [(x, y, " / ".join(names), colour) for colour, names, x, y in labels.values()])
    return fig


TREATMENT_COLOURS = {"none": "#27ae60", "notification": "#2980b9", "licence": "#8e44ad",
                     "case-by-case": "#e67e22", "denial": "#c0392b", "unknown": "#7f8c8d",
                     "uncertain": "#7f8c8d", "domestic": "#95a5a6"}


def headroom_chart(curves: pd.DataFrame, status: pd.DataFrame) -> Figure:
    """Headroom over die area: per distinct rule curve, the most TPP a data-centre die may have
    and stay uncontrolled, the case-by-case ceiling where a rule sets one, and the foreign
    chips placed at their (area, TPP), coloured by their treatment under the latest rule.

    ``curves`` is `chipgap.analyses.export.headroom_curves`; ``status`` holds one rule's rows of
    `chipgap.analyses.export.export_status`. Rules with identical curves share one line.
    """
    fig, ax = plt.subplots(figsize=(10, 6.5))
    groups = curves.groupby("same_as", sort=False)
    for (first, part), style in zip(groups, ("--", "-", ":", "-.")):
        rules = list(dict.fromkeys(part.rule))
        label = f"rule {first}" if len(rules) == 1 else f"rules {first} to {rules[-1]} (identical)"
        one = part[part.rule == first]
        ax.plot(one.die_area_mm2, one.max_tpp, style, color="black", lw=1.6, label=f"uncontrolled below: {label}"
                + (" (links assumed >= 600 GB/s)" if first == "2022-10" else ""))
    cbc = curves.dropna(subset=["case_by_case_max_tpp"])
    for rule, part in cbc.groupby("rule", sort=False):
        ax.plot(part.die_area_mm2, part.case_by_case_max_tpp, color=TREATMENT_COLOURS["case-by-case"], lw=1.2,
                label=f"case-by-case licence below ({rule}; {part.case_by_case_condition.iloc[0]})")
    placed = status[(status.treatment != "domestic") & status.area_mm2.notna() & status.tpp.notna()]
    labels_at: dict[tuple[float, float], tuple[str, list[str], float, float]] = {}  # chips at one point share a label
    for r in placed.sort_values("tpp").itertuples():
        colour = TREATMENT_COLOURS.get(r.treatment, "#7f8c8d")
        ax.plot(r.area_mm2, r.tpp, "o", color=colour, ms=6)
        key = (round(float(np.log10(r.area_mm2)), 2), round(float(np.log10(r.tpp)), 2))
        name = r.chip.split("-", 1)[-1] if r.chip.startswith(("nvidia-", "amd-", "intel-", "google-")) else r.chip
        labels_at.setdefault(key, (colour, [], r.area_mm2, r.tpp))[1].append(name)
    handles, labels = ax.get_legend_handles_labels()
    for t in dict.fromkeys(placed.treatment):
        handles.append(plt.Line2D([], [], marker="o", ls="", color=TREATMENT_COLOURS.get(t, "#7f8c8d")))
        labels.append(f"chip, export to China: {t}")
    latest = status.rule.iloc[0] if len(status) else ""
    right = max([float(curves.die_area_mm2.max()), *placed.area_mm2.tolist()]) * 1.35
    ax.set(xscale="log", yscale="log", xlim=(float(curves.die_area_mm2.min()) * 0.9, right),
           xlabel="applicable (FinFET/GAA logic) die area, mm²",
           ylabel="TPP (2 × dense MacTOPS × bit length)",
           title=f"Headroom: the most TPP a data-centre die may have, over die area (chips: rule {latest})")
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=7, frameon=False)
    fig.subplots_adjust(bottom=0.24)
    place_labels(ax, [(x, y, " / ".join(names), colour) for colour, names, x, y in labels_at.values()])
    return fig
