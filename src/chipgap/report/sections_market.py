"""Report sections about roadmaps and money: the 910D scenario, yield and unit cost, TCO and
company exposure (claims 5-7 and 10), and a user's scenario. Supply is `sections_supply`."""

from __future__ import annotations

import numpy as np

from chipgap.analyses import chain, econ
from chipgap.analyses.scenario import ScenarioResult, run_scenario
from chipgap.catalog.scenario import read_scenario
from chipgap.errors import ChipgapError
from chipgap.report import context as cx
from chipgap.report.context import Context, q_cell
from chipgap.report.document import Chart, Section, Table, cell
from chipgap.text import num, ratio

def _scenario_tables(result: ScenarioResult, s: Section, samples: int) -> None:
    """Each question of a scenario run as a table, its claims as a table."""
    for r in result.results:
        t = r.table
        title = r.question.title or r.question.id
        if {"chip", "metric", "p50"} <= set(t.columns):
            chips = list(dict.fromkeys(t.chip))
            metrics = [m for m in dict.fromkeys(t.metric) if m]
            by = {(x.chip, x.metric): x for x in t.itertuples()}
            rows = [[cell(m), *(cell(by[c, m].p50, (), by[c, m].p10, by[c, m].p90) if (c, m) in by
                                else cell("not computed") for c in chips)] for m in metrics]
            notes = "; ".join(f"{x.chip}: {x.note}" for x in t.itertuples() if x.note)
            s.tables.append(Table(title, ["metric (P50, P10-P90)", *chips], rows, notes))
        elif "quantile" in t.columns:
            p50 = t[(t["quantile"] == "P50") & t.line.str.startswith("total")]
            s.tables.append(Table(title, ["supply scenario", "line", "chips", "H100-equivalents (spec)", "binding"],
                                  [[cell(x.scenario), cell(x.line), cell(x.chips), cell(x.h100_equivalents_spec),
                                    cell(x.binding_constraint)] for x in p50.itertuples()]))
        else:
            s.tables.append(Table(title, list(map(str, t.columns)),
                                  [[cell(v) for v in row] for row in t.itertuples(index=False)]))
    claims = result.claims()
    if len(claims):
        s.tables.append(Table("Claims", ["claim", "probability", "A (P50)", "B (P50)"],
                              [[cell(c.claim), cell(f"{c.probability:.0%}"), cell(c.a_p50), cell(c.b_p50)]
                               for c in claims.itertuples()],
                              f"Probability over {samples:,} paired samples of the ranged inputs."))
        for c in claims.itertuples():
            s.numbers[f"claim.{c.question}.probability"] = float(c.probability)
    s.cite(result.scenario.sources)


def ascend_910d(ctx: Context) -> Section:
    s = Section("ascend-910d", 5, "The Ascend 910D scenario",
                "If the 910D is what the rumours describe, how likely is it to match an H100?")
    sc = read_scenario("ascend-910d-2026")
    overlays = (ctx.scenario.overlay(),) if ctx.scenario else ()
    result = run_scenario(sc, ctx.catalog_dir, ctx.samples, ctx.seed, extra_overlays=overlays)
    s.paragraphs.append(sc.description)
    _scenario_tables(result, s, ctx.samples)
    train_q = next((r for r in result.results if r.question.id == "train-llama-70b"), None)
    if train_q is not None and {"huawei-ascend-910d", "nvidia-h100-sxm"} <= set(train_q.samples):
        from chipgap.plots.ranges import claim_distribution_chart
        rel = train_q.samples["huawei-ascend-910d"].tokens_per_s.to_numpy() / \
            train_q.samples["nvidia-h100-sxm"].tokens_per_s.to_numpy()
        s.charts.append(Chart.from_figure("910d-vs-h100.png", "910D over H100, training throughput",
                                          claim_distribution_chart(rel, "910D / H100, Llama 3.1 70B training",
                                                                   "tokens/s ratio (scenario samples)")))
    p = s.numbers.get("claim.train-llama-70b.probability", np.nan)
    s.paragraphs.append(
        f"Under these assumptions the 910D matches or beats an H100 training Llama 3.1 70B with probability "
        f"{p:.0%}. The probability measures the scenario's ranges, not the world: nothing public fixes the "
        "910D's clocks, memory or links, and it is missing from Huawei's September 2025 roadmap.")
    return s


def unit_cost(ctx: Context) -> Section:
    s = Section("unit-cost", 6, "Yield and unit cost of the Ascend 910C",
                "What do reported yields mean for the cost of a 910C, and can a price be checked?")
    cat = ctx.catalog
    cid = "huawei-ascend-910c"
    df = econ.chip_cost(cat, cid, samples=ctx.samples, seed=ctx.seed)
    rows = []
    for case, part in df.groupby("case", sort=False):
        q = part.set_index("quantile")
        s.numbers[f"cost.yield{round(100 * q.loc['P50', 'die_yield'])}.p50"] = float(q.loc["P50", "cost_per_chip_usd"])
        rows.append([cell(case), cell(float(q.loc["P50", "die_yield"])),
                     cell(float(q.loc["P50", "die_cost_usd"]), (), q.loc["P10", "die_cost_usd"], q.loc["P90", "die_cost_usd"]),
                     cell(float(q.loc["P50", "memory_usd"]), (), q.loc["P10", "memory_usd"], q.loc["P90", "memory_usd"]),
                     cell(float(q.loc["P50", "cost_per_chip_usd"]), (), q.loc["P10", "cost_per_chip_usd"],
                          q.loc["P90", "cost_per_chip_usd"]),
                     cell(float(q.loc["P50", "d0_per_cm2"]))])
    cost = cat.chip_cost(cid)
    if cost is not None:
        for rep in cost.yields:
            s.cite(rep.value.source)
    c = cat.chip(cid)
    s.cite(c.compute_die_area_mm2.source)
    s.tables.append(Table("Cost build-up per 910C at each reported yield (US$)",
                          ["case", "die yield", "one die", "HBM", "chip (lower bound)", "D0 per cm2"], rows,
                          "Two dies per package. Missing from the sum, because no source gives them: "
                          f"{df.missing.iloc[0]}. The totals are therefore lower bounds."))
    missing = df.missing.iloc[0]
    if missing:
        s.missing.append(f"cost items without a source: {missing}")
    # Margin at the latest achieved (not target) yield, and the break-even yield, which does not depend
    # on the yield case. Both lean on a cost that lacks the missing items: margin is an upper bound,
    # the break-even yield a lower bound.
    reported = [case for case in dict.fromkeys(df.case) if not case.endswith("(target)")]
    latest = df[df.case == reported[-1]].set_index("quantile") if reported else None
    for name, col in (("margin_latest", "gross_margin"), ("break_even", "break_even_yield")):
        for q in ("P10", "P50", "P90"):
            v = latest.loc[q, col] if latest is not None else None
            s.numbers[f"cost.{name}.{q.lower()}"] = float(v) if v is not None else float("nan")
    price_q = c.price_usd
    if df.price_usd.isna().all() or price_q is None:
        s.missing.append("a sourced 910C price, so margin and break-even yield are not computed")
    from chipgap.plots.econ import cost_vs_yield_chart
    s.charts.append(Chart.from_figure("cost-vs-yield.png", "910C cost per chip against die yield",
                                      cost_vs_yield_chart(econ.cost_curve(cat, cid), cat.chip_cost(cid), c.name)))
    lo, hi = s.numbers.get("cost.yield20.p50"), s.numbers.get("cost.yield40.p50")
    if lo and hi:
        s.paragraphs.append(
            f"Going from the reported 20% to 40% yield takes the wafer-and-HBM cost of a 910C from about "
            f"US${num(lo)} to US${num(hi)}: the dies halve in cost, HBM does not move.")
    if price_q is not None and latest is not None:
        s.cite(price_q.source)
        n = s.numbers
        s.tables.append(Table(f"Price, margin and break-even yield of the 910C (at {reported[-1]})",
                              ["price (US$)", "gross margin (upper bound)", "break-even die yield (lower bound)"],
                              [[q_cell(price_q),
                                cell(f"{n['cost.margin_latest.p50']:.0%} ({n['cost.margin_latest.p10']:.0%}-"
                                     f"{n['cost.margin_latest.p90']:.0%})"),
                                cell(f"{n['cost.break_even.p50']:.1%} ({n['cost.break_even.p10']:.1%}-"
                                     f"{n['cost.break_even.p90']:.1%})")]],
                              "P50 (P10-P90). The price is implied by press reports, not quoted: FT's CloudMatrix "
                              "384 price over its 384 chips (all-in) to WSJ's early-order value over 70,000 chips."))
        s.paragraphs.append(
            f"At that press-implied price the known unit costs are a small part of the price: the gross margin "
            f"is at most about {n['cost.margin_latest.p50']:.0%}, and the chip covers its dies and HBM at a die "
            f"yield of only {n['cost.break_even.p50']:.1%}. Both are bounds, not estimates: packaging, test, "
            "assembly losses and the rest of the bill of materials have no source and count as zero, and R&D "
            "and other fixed costs of the line are outside a unit cost altogether.")
    else:
        s.paragraphs.append("Whether that makes the line profitable turns on the price and on packaging, test and "
                            "R&D costs, which no checked source gives.")
    return s


def tco(ctx: Context) -> Section:
    s = Section("tco", 7, "TCO and cost per million tokens",
                "Can cheaper chips or systems offset a per-chip performance gap?")
    ask = cx.asks()["serve-70b"]
    cat, q = ctx.catalog, ask.question(ask.chips[0])
    rows = []
    for sid in cx.SYSTEMS:
        sys_rec = cat.system(sid)
        chip = sys_rec.chip
        rate = ctx.shared.get("serve_rate", {}).get(chip)
        try:
            df = econ.tco(cat, sid, region=cx.TCO_REGION, tokens_per_s_per_chip=rate,
                          samples=ctx.samples, seed=ctx.seed).set_index("quantile")
        except ChipgapError as e:
            s.missing.append(f"{sid}: {e}")
            continue
        hour = df.usd_per_chip_hour
        s.numbers[f"tco.{sid}.usd_per_chip_hour"] = float(hour["P50"])
        mtok = df.usd_per_million_tokens if "usd_per_million_tokens" in df else None
        if mtok is not None:
            s.numbers[f"tco.{sid}.usd_per_million_tokens"] = float(mtok["P50"])
        s.cite(sys_rec.price_usd.source if sys_rec.price_usd else (), sys_rec.power_kw.source if sys_rec.power_kw else ())
        rows.append([cell(sys_rec.name), q_cell(sys_rec.price_usd),
                     cell(float(df.capex_per_chip_usd["P50"])),
                     cell(float(hour["P50"]), (), hour["P10"], hour["P90"]),
                     cell(rate) if rate else cell("not computed"),
                     cell(float(mtok["P50"]), (), mtok["P10"], mtok["P90"]) if mtok is not None else cell("")])
    for a in ("electricity-usd-per-kwh-cn", "pue-china-new-large-dc", "server-life-years"):
        s.cite(cat.assumption(a).source)
    s.tables.append(Table(f"Cost per chip-hour and per million generated tokens ({q.model}, {q.chips}-chip "
                          f"instances, TPOT under {q.tpot_ms:g} ms)",
                          ["system", "system price US$", "capital per chip US$", "US$ per chip-hour",
                           "tokens/s per chip", "US$ per million tokens"], rows,
                          "Electricity and PUE at the catalog's China defaults; straight-line depreciation "
                          "over the server life; network and buildings excluded; full utilisation."))
    cm = s.numbers.get("tco.huawei-cloudmatrix-384.usd_per_million_tokens")
    h = s.numbers.get("tco.nvidia-hgx-h100.usd_per_million_tokens")
    if cm and h:
        s.paragraphs.append(
            f"At the reported system prices a CloudMatrix 384 serves {q.model} at about US${num(cm)} per million "
            f"tokens against US${num(h)} on an HGX H100: {ratio(cm / h)}. "
            + ("At these prices the lower price per chip more than offsets the slower chip."
               if cm < h else "The lower price per chip does not offset the slower chip at these prices.")
            + " The CloudMatrix price is a press figure; the range in the table carries only the "
              "electricity, PUE and life ranges.")
    return s


def exposure(ctx: Context) -> Section:
    s = Section("exposure", 10, "Who is exposed to which chokepoint",
                "Which companies sit where in the chain, and which foreign input does each Chinese chip depend on?")
    cat = ctx.catalog
    df = chain.exposure(cat, country="CN")
    foreign = df[df.foreign]
    rows = []
    for (role, company), part in foreign.groupby(["role", "company"]):
        chips = sorted(part.chip.unique())
        rows.append([cell(role), cell(cat.company(company).name), cell(part.company_country.iloc[0]),
                     cell(len(chips)), cell(", ".join(chips))])
        s.numbers[f"exposure.{role}.{company}"] = float(len(chips))
    s.tables.append(Table("Foreign dependencies of Chinese accelerators", ["role", "company", "country",
                                                                          "chips", "which"], rows,
                          "From the chips' process nodes and supplier entries in the catalog."))
    hit = chain.shock(cat, "no-hbm-imports")
    s.numbers["shock.no-hbm-imports.chips"] = float(hit.chip.nunique())
    s.tables.append(Table("Hit by 'no more HBM imports'", ["chip", "designer", "why"],
                          [[cell(x.chip), cell(x.designer), cell(x.hit_by)] for x in hit.itertuples()]))
    s.paragraphs.append("The article's ~25% a year growth in Chinese AI spending is checked against the sourced "
                        "capex series in the market-claims section; which firms gain from a bifurcated supply chain "
                        "is not computed.")
    return s


def user_scenario(ctx: Context) -> Section | None:
    if ctx.scenario is None:
        return None
    sc = ctx.scenario
    s = Section("scenario", None, f"Scenario: {sc.title}", sc.description)
    result = run_scenario(sc, ctx.catalog_dir, ctx.samples, ctx.seed)
    s.paragraphs.append(f"From {sc.file}. Its catalog changes apply to every section of this report.")
    _scenario_tables(result, s, ctx.samples)
    return s
