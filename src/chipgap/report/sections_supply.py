"""The supply section (claim 8): every line's reported volume rationed by the capacities that are
sourced apart from it, the input that binds, and the published estimates beside the output, from
`chipgap.analyses.supply.SupplyOverview`."""

from __future__ import annotations

import math

import pandas as pd

from chipgap.analyses.supply import SupplyOverview
from chipgap.catalog.catalog import Catalog
from chipgap.report.document import Chart, Section, Table, cell
from chipgap.text import num

UNITS = {"die bank": "dies", "wafers": "wafers/yr", "hbm": "stacks", "packaging": "packages"}


def _q(df: pd.DataFrame, line: str, col: str):  # noqa: ANN202
    part = df[df.line == line].set_index("quantile")[col]
    return part.get("P50"), part.get("P10"), part.get("P90")


def _cell3(df: pd.DataFrame, line: str, col: str):  # noqa: ANN202
    p50, p10, p90 = _q(df, line, col)
    return cell("n/a") if p50 is None or (isinstance(p50, float) and math.isnan(p50)) else cell(float(p50), (), p10, p90)


def supply_section(catalog: Catalog, result: SupplyOverview) -> Section:
    """Render `SupplyOverview`: totals by scenario, lines of the base cases, capacities, estimates."""
    s = Section("supply", 8, "Supply and the binding constraint",
                "How many AI accelerators can China's chain produce or import per year, and what binds?")
    rows = []
    for sid, df in result.lines.items():
        sc = catalog.supply(sid)
        s.cite(sc.source)
        for key, line, col in (("chips", "total all", "chips"), ("h100eq", "total all", "h100_equivalents_spec"),
                               ("domestic", "total domestic", "chips"),
                               ("domestic_h100eq", "total domestic", "h100_equivalents_spec")):
            s.numbers[f"supply.{sid}.{key}.p50"] = float(_q(df, line, col)[0])
        bind = df[df.line == "total domestic"].binding_constraint.iloc[0]
        s.numbers[f"supply.{sid}.binding"] = bind
        rows.append([cell(sc.name), _cell3(df, "total domestic", "planned_chips"), _cell3(df, "total domestic", "chips"),
                     _cell3(df, "total import", "chips") if (df.line == "total import").any() else cell(0.0),
                     _cell3(df, "total all", "h100_equivalents_spec"),
                     _cell3(df, "total all", "h100_equivalents_workload"), cell(bind)])
    s.tables.append(Table("Accelerators by year and scenario", ["scenario", "domestic, reported volumes",
                                                               "domestic, after capacities", "imported",
                                                               "H100-eq (spec)", "H100-eq (workload)",
                                                               "binding input (domestic)"], rows,
                          "P50 (P10-P90). 'volumes' binds when no modelled capacity (die bank, SMIC advanced "
                          "wafers, HBM) falls short of the volumes the sources report. H100-equivalents by spec: dense "
                          "BF16 over the H100's; by workload: Llama 3.1 70B training throughput per chip over the "
                          "H100's, from the training model; both count only lines whose chip has a public BF16 peak "
                          "(T-Head's PPU has none).",
                          command="chipgap supply --scenario SCENARIO --format csv  # SCENARIO: " + ", ".join(result.lines)))
    bases = [sid for sid in result.lines if sid.endswith("-base")]
    for sid in bases[-2:]:
        df = result.lines[sid]
        lines = df[(df.kind == "domestic") & ~df.line.str.startswith("total")]
        s.tables.append(Table(f"Lines of {catalog.supply(sid).name}", ["line", "designer", "reported chips",
                                                                      "chips after capacities", "H100-eq (spec)"],
                              [[cell(ln), cell(part.designer.iloc[0]), _cell3(df, ln, "planned_chips"),
                                _cell3(df, ln, "chips"), _cell3(df, ln, "h100_equivalents_spec")]
                               for ln, part in lines.groupby("line", sort=False)],
                              _line_sources(catalog, sid), command=f"chipgap supply --scenario {sid} --format csv"))
    rows = []
    for sid, inp in result.inputs.items():
        if sid not in bases and not sid.endswith("cutoff"):
            continue
        for r in inp.itertuples():
            modelled = not math.isnan(r.capacity_p50)
            rows.append([cell(sid), cell(f"{r.input} ({UNITS[r.input]})"), cell(float(r.need_p50), (), r.need_p10, r.need_p90),
                         cell(float(r.capacity_p50), (), r.capacity_p10, r.capacity_p90) if modelled
                         else cell("not modelled (no source)"),
                         cell(f"{r.need_over_capacity_p50:.0%}" if modelled else ""),
                         cell(f"{r.binds_share:.0%}" if modelled else ""),
                         cell(float(r.left_p50)) if not math.isnan(r.left_p50) else cell("")])
            s.numbers[f"supply.{sid}.{r.input}.binds_share"] = float(r.binds_share)
            s.numbers[f"supply.{sid}.{r.input}.need_over_capacity.p50"] = float(r.need_over_capacity_p50)
    s.tables.append(Table("Capacities: what the reported volumes need of each input", [
        "scenario", "input", "need (P50, P10-P90)", "capacity", "need / capacity (P50)", "binds in (share of samples)",
        "left for next year (P50)"], rows,
        "Die bank: TSMC-made Ascend dies (CSIS: >2 M; SemiAnalysis: >2.9 M), drawn first, carried year to year. Wafers: "
        "SMIC's 7/5 nm-class starts, all of them (phone SoCs share them), needed only for dies the bank does not cover. "
        "HBM: the stockpile imported before the December 2024 rule, carried year to year, plus CXMT's output; only "
        "lines whose stack count is public count (910B, 910C). Packaging: no Chinese CoWoS-class capacity is sourced.",
        command="chipgap supply --scenario SCENARIO --view inputs --format csv"))
    est = result.estimates
    share = est.basis == "share"
    pct = lambda x: f"{x:.0%}"  # noqa: E731
    s.tables.append(Table("Published estimates beside the model", [
        "publisher", "date", "year", "what it counts", "basis", "published", "model P50 (P10-P90)", "agreement",
        "also a model input"],
        [[cell(r.publisher), cell(r.date), cell(str(r.year)), cell(r.scope), cell(r.basis),
          cell(("" if r.comparator == "=" else r.comparator + " ") + (pct(r.published) if sh else num(r.published)),
               tuple(catalog.supply_estimates[r.estimate].source)),
          cell(f"{pct(r.model_p50)} ({pct(r.model_p10)}-{pct(r.model_p90)})") if sh else
          cell(float(r.model_p50), (), r.model_p10, r.model_p90), cell(r.agreement), cell("yes" if r.input else "")]
         for r, sh in zip(est.itertuples(), share)],
        "Each year against its base scenario. 'also a model input': a source of the estimate feeds the scenario's "
        "lines, so agreement there is partly by construction. Imports are NVIDIA's H20/H200 from its reported revenue "
        "and licences, far below IDC's ~2.2 M NVIDIA cards for 2025, so the model's domestic share runs high.",
        command="chipgap supply --year YEAR --view estimates --format csv"))
    for r in est.itertuples():
        s.numbers[f"estimate.{r.estimate}.agreement"] = r.agreement
    s.missing.append("Hygon's DCUs and the smaller vendors IDC counts (~340k cards in 2025): no sourced volume per vendor.")
    s.missing.append("Cloud access to NVIDIA chips as rented H100-equivalents: no source gives the capacity rented; "
                     "the documented cases are in the market-claims section.")
    d25, d26 = s.numbers.get("supply.china-2025-base.domestic.p50"), s.numbers.get("supply.china-2026-base.domestic.p50")
    hbm26 = s.numbers.get("supply.china-2026-base.hbm.binds_share")
    cut26 = s.numbers.get("supply.china-2026-hbm-cutoff.hbm.binds_share")
    if d25 and d26:
        s.paragraphs.append(
            f"Domestic output goes from about {num(d25)} accelerators in 2025 to {num(d26)} in 2026 (P50), every line "
            f"with a sourced volume included. No modelled capacity binds in 2025. In 2026 the bank of TSMC-made dies "
            f"runs short and SMIC wafers make the rest without strain; HBM binds in {hbm26:.0%} of samples, and in "
            f"{cut26:.0%} without CXMT's output." if hbm26 is not None and cut26 is not None else
            f"Domestic output goes from about {num(d25)} accelerators in 2025 to {num(d26)} in 2026 (P50).")
    from chipgap.plots.econ import supply_chart
    s.charts.append(Chart.from_figure("supply.png", "Supply by scenario",
                                      supply_chart(result.lines)))
    return s


def _line_sources(catalog: Catalog, sid: str) -> str:
    notes = [f"{ln.label}: {ln.chips_per_year.note}" for ln in catalog.supply(sid).lines
             if ln.chips_per_year is not None and ln.chips_per_year.note]
    return "Reported volumes: " + " ".join(notes)
