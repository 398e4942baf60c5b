"""Report sections about roadmaps and money: the 910D scenario, yield and unit cost, TCO,
company exposure (claims 5-7 and 10), the headline sensitivities and a user's scenario,
rendered from a `chipgap.analyses.report_model.ReportModel`. Supply is `sections_supply`."""

from __future__ import annotations

import math

import numpy as np

from chipgap.analyses.claims import COST_PARITY
from chipgap.analyses.report_model import (A, COST_RIVALS, COST_SYSTEM, REGION, SYSTEMS, ReportModel, report_asks,
                                           unit_cost_cases)
from chipgap.analyses.scenario import ScenarioResult
from chipgap.report.context import q_cell
from chipgap.report.document import Chart, Section, Table, cell
from chipgap.text import field_label, num, pct, ratio


def _scenario_tables(result: ScenarioResult, s: Section, samples: int) -> None:
    """Each question of a scenario run as a table (metrics in words), its claims as a table."""
    for r in result.results:
        t = r.table
        title = r.question.title or r.question.id
        if {"chip", "metric", "p50"} <= set(t.columns):
            chips = list(dict.fromkeys(t.chip))
            metrics = [x for x in dict.fromkeys(t.metric) if x]
            by = {(x.chip, x.metric): x for x in t.itertuples()}
            names = [result.catalog.chip(c).name for c in chips]
            rows = [[cell(field_label(mt)), *(cell(by[c, mt].p50, (), by[c, mt].p10, by[c, mt].p90) if (c, mt) in by
                                              else cell("not computed") for c in chips)] for mt in metrics]
            notes = "; ".join(f"{result.catalog.chip(x.chip).name}: {x.note}" for x in t.itertuples() if x.note)
            s.tables.append(Table(title, ["P50 (P10-P90)", *names], rows, notes,
                                  f"chipgap scenario run {result.scenario.name} --samples {samples} --format csv"))
        elif "quantile" in t.columns:
            p50 = t[(t["quantile"] == "P50") & t.line.str.startswith("total")]
            s.tables.append(Table(title, ["supply scenario", "line", "chips", "H100-equivalents (spec)", "binding"],
                                  [[cell(x.scenario), cell(x.line), cell(x.chips, rel=0.1),
                                    cell(x.h100_equivalents_spec, rel=0.1), cell(x.binding_constraint)]
                                   for x in p50.itertuples()]))
        else:
            s.tables.append(Table(title, [field_label(str(c)) for c in t.columns],
                                  [[cell(v) for v in row] for row in t.itertuples(index=False)]))
    s.cite(result.scenario.sources)


def ascend_910d(m: ReportModel) -> Section:
    s = Section("ascend-910d", 5, "The Ascend 910D scenario",
                "If the 910D is what the rumours describe, how would it compare with an H100?")
    res = m.ascend_910d
    s.paragraphs.append(res.scenario.description)
    _scenario_tables(res, s, m.samples)
    for c in res.claims().itertuples():    # the scenario's probabilities stay data, not a verdict
        s.numbers[f"claim.{c.question}.probability"] = float(c.probability)
    train_q = next((r for r in res.results if r.question.id == "train-llama-70b"), None)
    d, h = "huawei-ascend-910d", "nvidia-h100-sxm"
    if train_q is not None and {d, h} <= set(train_q.samples):
        from chipgap.plots.ranges import claim_distribution_chart
        rel = train_q.samples[d].tokens_per_s.to_numpy() / train_q.samples[h].tokens_per_s.to_numpy()
        s.numbers["train.910d_vs_h100.p50"] = float(np.nanmedian(rel))
        s.charts.append(Chart.from_figure("910d-vs-h100.png", "910D over H100, training throughput, under the rumour",
                                          claim_distribution_chart(rel, "910D / H100, Llama 3.1 70B training, "
                                                                   "rumoured specs", "tokens/s ratio (scenario samples)"),
                                          "The spread of the rumoured specs only; the claims ledger adds the model's "
                                          "error and gives no verdict, since no spec is public."))
    s.paragraphs.append(
        "Every number here rests on the scenario's ranges, not on any published 910D spec: the 910D is modelled as the "
        "910C is, each of its four dies its own device with the Ascend stack's efficiency constants, and nothing public "
        "fixes its clocks, memory or links. It is missing from Huawei's September 2025 roadmap. The claims ledger "
        "therefore states what is computed and calls the claim not computable from sourced data.")
    return s


def unit_cost(m: ReportModel) -> Section:
    s = Section("unit-cost", 6, "Yield and unit cost of the Ascend 910C",
                "What do reported yields mean for the cost of a 910C, and can a price be checked?")
    cat, df = m.catalog, m.unit_cost
    c = cat.chip(A)
    rows = []
    for case, part in df.groupby("case", sort=False):
        q = part.set_index("quantile")
        s.numbers[f"cost.yield{round(100 * q.loc['P50', 'die_yield'])}.p50"] = float(q.loc["P50", "cost_per_chip_usd"])
        rows.append([cell(case), cell(float(q.loc["P50", "die_yield"]), rel=0.01),
                     *(cell(float(q.loc["P50", k]), (), q.loc["P10", k], q.loc["P90", k])
                       for k in ("die_cost_usd", "memory_usd", "cost_per_chip_usd")),
                     cell(float(q.loc["P50", "d0_per_cm2"]), rel=0.1)])
    cost = cat.chip_cost(c.id)
    if cost is not None:
        for rep in cost.yields:
            s.cite(rep.value.source)
    s.cite(c.compute_die_area_mm2.source)
    missing = df.missing.iloc[0]
    s.tables.append(Table("Cost build-up per 910C at each reported yield (US$)",
                          ["case", "die yield", "one die", "HBM", "chip (lower bound)", "D0 per cm2"], rows,
                          "Two dies per package. Missing from the sum, because no source gives them: "
                          f"{missing}. The totals are therefore lower bounds.",
                          f"chipgap econ chip-cost 910c --samples {m.samples} --seed {m.seed} --format csv"))
    if missing:
        s.missing.append(f"cost items without a source: {missing}")
    _, latest, case = unit_cost_cases(df)
    for name, col in (("margin_latest", "gross_margin"), ("break_even", "break_even_yield")):
        for q in ("P10", "P50", "P90"):
            v = latest.loc[q, col] if latest is not None else None
            s.numbers[f"cost.{name}.{q.lower()}"] = float(v) if v is not None else math.nan
    price_q = c.price_usd
    if df.price_usd.isna().all() or price_q is None:
        s.missing.append("a sourced 910C price, so margin and break-even yield are not computed")
    from chipgap.plots.econ import cost_vs_yield_chart
    s.charts.append(Chart.from_figure("cost-vs-yield.png", "910C cost per chip against die yield",
                                      cost_vs_yield_chart(m.cost_curve, cost, c.name)))
    lo, hi = s.numbers.get("cost.yield20.p50"), s.numbers.get("cost.yield40.p50")
    if lo and hi:
        s.paragraphs.append(
            f"Going from the reported 20% to 40% yield takes the wafer-and-HBM cost of a 910C from about "
            f"US${num(lo, 0.2)} to US${num(hi, 0.2)}: the dies halve in cost, HBM does not move.")
    if price_q is not None and latest is not None:
        s.cite(price_q.source)
        n = s.numbers
        s.tables.append(Table(f"Price, margin and break-even yield of the 910C (at {case})",
                              ["price (US$)", "gross margin (upper bound)", "break-even die yield (lower bound)"],
                              [[q_cell(price_q),
                                cell(f"{n['cost.margin_latest.p50']:.0%} ({n['cost.margin_latest.p10']:.0%}-"
                                     f"{n['cost.margin_latest.p90']:.0%})"),
                                cell(f"{n['cost.break_even.p50']:.1%} ({n['cost.break_even.p10']:.1%}-"
                                     f"{n['cost.break_even.p90']:.1%})")]],
                              "P50 (P10-P90). The price is implied by press reports, not quoted: FT's CloudMatrix "
                              "384 price over its 384 chips (all-in) to WSJ's early-order value over 70,000 chips.",
                              f"chipgap econ chip-cost 910c --samples {m.samples} --seed {m.seed} --format json"))
        s.paragraphs.append(
            f"At that press-implied price the known unit costs are a small part of the price: the gross margin is at "
            f"most about {n['cost.margin_latest.p50']:.0%}, and the chip covers its dies and HBM at a die yield of only "
            f"{n['cost.break_even.p50']:.1%}. Both are bounds, not estimates: packaging, test, assembly losses and the "
            "rest of the bill of materials have no source and count as zero, and R&D and other fixed costs of the line "
            "are outside a unit cost altogether.")
    else:
        s.paragraphs.append("Whether that makes the line profitable turns on the price and on packaging, test and "
                            "R&D costs, which no checked source gives.")
    return s


def tco(m: ReportModel) -> Section:
    s = Section("tco", 7, "TCO and cost per million tokens",
                "Can cheaper chips or systems offset a per-chip performance gap?")
    ask = report_asks()["serve-70b"]
    cat, q = m.catalog, ask.question(ask.chips[0])
    s.missing += m.missing.get("costs", [])
    rows = []
    for sid in SYSTEMS:
        df = m.tco.get(sid)
        if df is None:
            continue
        sys_rec = cat.system(sid)
        hour = df.usd_per_chip_hour
        s.numbers[f"tco.{sid}.usd_per_chip_hour"] = float(hour["P50"])
        mtok = df.usd_per_million_tokens if "usd_per_million_tokens" in df else None
        if mtok is not None:
            s.numbers[f"tco.{sid}.usd_per_million_tokens"] = float(mtok["P50"])
        s.cite(sys_rec.price_usd.source if sys_rec.price_usd else (), sys_rec.power_kw.source if sys_rec.power_kw else ())
        e = m.error("serving", sys_rec.chip)
        rel = e.fraction if e else 0.1
        rows.append([cell(sys_rec.name), q_cell(sys_rec.price_usd), cell(sys_rec.price_basis or "not stated"),
                     cell(float(df.capex_per_chip_usd["P50"]), rel=0.05),
                     cell(float(df.power_kw_per_chip["P50"]), (), df.power_kw_per_chip["P10"],
                          df.power_kw_per_chip["P90"]),
                     cell(float(hour["P50"]), (), hour["P10"], hour["P90"]),
                     cell(float(mtok["P50"]), (), mtok["P10"], mtok["P90"], rel) if mtok is not None else cell("")])
    for a in (f"electricity-usd-per-kwh-{REGION}", "pue-china-new-large-dc", "server-life-years",
              "average-power-fraction", "server-power-per-chip-tdp"):
        s.cite(cat.assumption(a).source)
    s.tables.append(Table(f"Cost per chip-hour and per million generated tokens ({q.model}, {q.chips}-chip instances, "
                          f"TPOT under {q.tpot_ms:g} ms)",
                          ["system", "system price US$", "what the price buys", "capital per chip US$",
                           "IT power per chip kW", "US$ per chip-hour", "US$ per million tokens"], rows,
                          "China electricity and PUE, the same for every system; IT power of the whole system on one "
                          "basis (see the clustering section); straight-line depreciation over the server life; "
                          "buildings excluded; full utilisation. US$ per million tokens carries the serving model's "
                          "error in its rounding; its P10-P90 is the prices', electricity's and specs' spread.",
                          f"chipgap econ tco --system SYSTEM -m {q.model} --region {REGION} --format csv"
                          "  # SYSTEM: " + ", ".join(SYSTEMS)))
    if m.costs:
        rows = []
        for c in m.costs:
            lo, hi = c.ratio.band()
            rows.append([cell(c.rival), cell(c.ratio.p50, (), c.ratio.p10, c.ratio.p90),
                         cell(f"{ratio(lo)}-{ratio(hi)}"), cell(c.basis_b),
                         cell(c.flip_price_usd, rel=0.05) if c.flip_price_usd == c.flip_price_usd else cell("none"),
                         cell(pct(c.flip_price_usd / cat.system(COST_SYSTEM).price_usd.point - 1))])
            s.numbers[f"cost.{COST_SYSTEM}.vs.{c.rival_id}"] = c.ratio.p50
            s.numbers[f"cost.{COST_SYSTEM}.vs.{c.rival_id}.flip_price_usd"] = c.flip_price_usd
        name = cat.system(COST_SYSTEM).name
        s.tables.append(Table(f"{name}'s cost per million tokens over each rival's, and the price at which they are equal",
                              ["rival", "cost ratio P50 (P10-P90)", "with the model's error", "rival's price buys",
                               f"{name} price for equal cost (US$)", "from the figure used"], rows,
                              f"{name}'s price buys {cat.system(COST_SYSTEM).price_basis}. A ratio within "
                              f"{COST_PARITY:.0%} of 1 is parity: prices on different bases and press figures carry "
                              "that much. The equal-cost price holds every other input at its P50.",
                              "chipgap report  # the TCO section; per system: chipgap econ tco"))
        h = m.costs[0]
        s.paragraphs.append(
            f"At the reported prices a {name} serves {q.model} at {ratio(h.ratio.p50)} the cost per token of an "
            f"{h.rival}; the two are equal if the {name} costs US${num(h.flip_price_usd, 0.05)} "
            f"({pct(h.flip_price_usd / cat.system(COST_SYSTEM).price_usd.point - 1)} from the press figure). "
            "Against the other rivals the answer differs, and the prices are on different bases (stated in the table).")
    return s


def sensitivity(m: ReportModel) -> Section | None:
    if not m.sensitivity:
        return None
    s = Section("sensitivity", None, "What moves the headline answers",
                "Which inputs move each headline most, and at what value does its verdict flip?")
    titles = {"training": ("910C / H100 training throughput per chip", "ratio (1 = parity)", "parity"),
              "decode": ("910C / H100 DeepSeek-R1 decode per chip", "ratio (1 = parity)", "parity"),
              "clustering": ("CloudMatrix 384 / GB200 NVL72 training tokens per kJ", "ratio (1 = parity)", "parity"),
              "unit-cost": ("910C break-even die yield (a lower bound)", "die yield", "the reported 40%"),
              "cost": (f"{m.catalog.system(COST_SYSTEM).name} / {m.catalog.system(COST_RIVALS[0]).name} cost per "
                       "million tokens", "cost ratio (below 1: cheaper)", "parity"),
              "910d": ("910D / H100 training throughput (rumoured specs)", "ratio (1 = parity)", "parity"),
              "cpu": ("Zhaoxin KH-40000 one-stream decode, 4-bit weights", "tokens/s", "one reader"),
              "supply": ("China's domestic accelerator output, 2026 minus 2025 (H100-equivalents by spec)",
                         "growth, H100-equivalents", "no growth")}
    from chipgap.plots.tornado import tornado_chart
    for key, sens in m.sensitivity.items():
        title, xlabel, line = titles.get(key, (key, "value", "line"))
        s.numbers[f"sensitivity.{key}.base"] = sens.base
        rows = []
        for b in sens.bars:
            if b.key == "model-error":
                rng = f"{100 * b.low_value:+.0f}% to {100 * b.high_value:+.0f}%"
                flip = ("" if b.flip is None else f"if the true value is {pct(b.flip)} from the modelled one") + \
                    (" (within the model's error)" if b.flip_inside else " (beyond the model's error)")
            else:
                rng = f"{num(b.low_value)}-{num(b.high_value)}"
                flip = "" if b.flip is None else f"at {num(b.flip, 0.01)}" + (" (inside its range)" if b.flip_inside
                                                                               else " (outside its range)")
            s.numbers[f"sensitivity.{key}.{b.key}.flip"] = b.flip if b.flip is not None else math.nan
            rows.append([cell(b.label), cell(rng), cell(b.low_result, rel=0.01), cell(b.high_result, rel=0.01),
                         cell(flip or "does not reach the line")])
        s.tables.append(Table(f"{title}: base {num(sens.base, 0.01)}", ["input (its range)", "range", "headline at low",
                                                                        "headline at high", "verdict flips"], rows,
                              "Each input alone at the low and the high end of its range, every other at its point "
                              "estimate; the flip value is interpolated linearly between the two ends. The model's "
                              "error is the chip families' cross-validated median error.",
                              "python -c \"from chipgap.analyses.report_model import build_model; "
                              f"print(build_model().sensitivity['{key}'].rows())\""))
        s.charts.append(Chart.from_figure(f"tornado-{key}.png", f"What moves it: {title}",
                                          tornado_chart(sens, title, xlabel, line)))
    s.paragraphs.append(
        "A verdict that flips inside an input's own range, or inside the model's error, is within that uncertainty; "
        "the claims ledger says so. Inputs with no range (a single press price) do not appear as bars: for the cost "
        "headline, the price at which costs are equal is in the TCO section. The supply headline has no model-error "
        "bar: the supply model rations sourced volumes by sourced capacities, with no calibrated error; 2025's inputs "
        "move both years, since 2026 starts from the die bank and HBM 2025 left.")
    return s


def exposure(m: ReportModel) -> Section:
    s = Section("exposure", 10, "Who is exposed to which chokepoint",
                "Which companies sit where in the chain, and which foreign input does each Chinese chip depend on?")
    cat, df = m.catalog, m.exposure
    foreign = df[df.foreign]
    rows = []
    for (role, company), part in foreign.groupby(["role", "company"]):
        chips = sorted(part.chip.unique())
        rows.append([cell(role), cell(cat.company(company).name), cell(part.company_country.iloc[0]),
                     cell(len(chips)), cell(", ".join(chips))])
        s.numbers[f"exposure.{role}.{company}"] = float(len(chips))
    s.tables.append(Table("Foreign dependencies of Chinese accelerators", ["role", "company", "country",
                                                                          "chips", "which"], rows,
                          "From the chips' process nodes and supplier entries in the catalog.",
                          "chipgap chain exposure --format csv"))
    s.numbers["shock.no-hbm-imports.chips"] = float(m.shock.chip.nunique())
    s.tables.append(Table("Hit by 'no more HBM imports'", ["chip", "designer", "why"],
                          [[cell(x.chip), cell(x.designer), cell(x.hit_by)] for x in m.shock.itertuples()],
                          command="chipgap chain exposure --shock no-hbm-imports --format csv"))
    s.paragraphs.append("The article's ~25% a year growth in Chinese AI spending is checked against the sourced "
                        "capex series in the market-claims section; which firms gain from a bifurcated supply chain "
                        "is not computed.")
    return s


def user_scenario(m: ReportModel) -> Section | None:
    if m.user is None:
        return None
    sc = m.user.scenario
    s = Section("scenario", None, f"Scenario: {sc.title}", sc.description)
    s.paragraphs.append(f"From {sc.file}. Its catalog changes apply to every section of this report.")
    _scenario_tables(m.user, s, m.samples)
    return s

