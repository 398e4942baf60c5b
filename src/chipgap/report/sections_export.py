"""The export-control section (claims 1 and 2): every accelerator of the catalog under every rule
version, how an export to China is treated (licence, notification, named parts, fees), and the
headroom a data-centre die has under each rule, from `chipgap.analyses.export.ExportOverview`."""

from __future__ import annotations

import math

import pandas as pd

from chipgap.analyses.export import TREATMENT_TEXT, ExportOverview
from chipgap.catalog.catalog import Catalog
from chipgap.report.document import Chart, Section, Table, cell
from chipgap.text import num

LEGEND = ("a / b: ECCN 3A090.a / 3A090.b (3A090 alone in the 2022 rule); denial: licence required, presumption "
          "of denial; case-by-case: licence reviewed case by case (91 FR 1684's envelope); licence: licence "
          "required, review policy not stated; NAC: no licence, but a 25-day prior notification to BIS; named: a "
          "part named in an is-informed letter, licence required whatever its metrics; +N% fee: a revenue share or "
          "tariff on licensed sales; (CN): made in China, where it would stand if it were US-origin (US rules on "
          "exports to China do not reach it); ?: a metric that decides it is not public; -: not controlled.")


def export_controls(catalog: Catalog, result: ExportOverview) -> Section:
    """Render `ExportOverview`: status table over every rule, the latest rule in words, headroom."""
    s = Section("export-controls", 2, "Export controls: status and headroom",
                "Which chips does each US rule catch, how is an export to China treated, and how close do "
                "NVIDIA's China parts sit to the lines?")
    st, rules = result.status, list(dict.fromkeys(result.status.rule))
    latest = rules[-1]
    for r in rules:
        s.cite(catalog.rule(r).source)
        for m in catalog.rule(r).measures:
            s.cite(m.source)
    rows = []
    for cid, part in st.groupby("chip", sort=False):
        part = part.set_index("rule")
        first, c = part.iloc[0], catalog.chip(cid)
        rows.append([cell(c.name, c.bf16_dense_tflops.source if c.bf16_dense_tflops else ()), cell(c.country),
                     cell(float(first.tpp)), cell(float(first.performance_density)),
                     *(cell(part.loc[r, "short"]) for r in rules)])
        s.numbers[f"tpp.{cid}"] = float(first.tpp)
        for r in rules:
            p = part.loc[r, "probability_controlled"]
            s.numbers[f"controlled.{cid}.{r}"] = math.nan if p is None else float(p)
            s.numbers[f"treatment.{cid}.{r}"] = part.loc[r, "treatment"]
    s.tables.append(Table(f"Every accelerator in the catalog under every rule version, {rules[0]} to {latest}",
                          ["chip", "made in", "TPP", "TPP per mm2", *(f"rule {r}" for r in rules)], rows,
                          "Rule versions by effective month; each chip's status for an export to China. " + LEGEND,
                          command="chipgap export status --format csv"))
    now = st[(st.rule == latest) & (st.treatment != "domestic")]
    s.tables.append(Table(f"Foreign accelerators under the rule in force ({latest}: {catalog.rule(latest).name})",
                          ["chip", "classification", "export to China", "fees", "measures that name or cover it"],
                          [[cell(catalog.chip(r.chip).name), cell(r.classification),
                            cell(TREATMENT_TEXT.get(r.treatment, r.treatment)), cell(", ".join(r.fees)),
                            cell("; ".join(m["name"] for m in r.measures))] for r in now.itertuples()],
                          "A measure written parametrically (91 FR 1684's TPP < 21,000 and DRAM bandwidth < "
                          "6,500 GB/s) covers every chip inside its envelope, not only the parts it names; its "
                          "non-parametric conditions (US availability, certifications, third-party testing) are "
                          "not checked.", command="chipgap export status --format csv"))
    h = result.at_h100_die.set_index("rule")
    s.numbers["headroom.814mm2.max_tpp"] = float(h.loc[latest, "max_tpp"])
    s.numbers["headroom.814mm2.max_bf16"] = float(h.loc[latest, "max_dense_bf16"])
    same = list(h.index[h.same_as == h.loc[latest, "same_as"]])
    h20 = s.numbers.get("tpp.nvidia-h20", math.nan)
    line = h.loc[latest, "max_tpp"]
    s.paragraphs.append(
        f"From rule {same[0]} to {latest} the thresholds are the same: a data-centre chip with an H100-sized die "
        f"(814 mm2) must stay below TPP {num(line)} ({h.loc[latest, 'binding_test']}), about "
        f"{num(h.loc[latest, 'max_dense_bf16'])} dense BF16 TFLOPS. The H20 sits at TPP {num(h20)}, "
        f"{100 * (1 - h20 / line):.1f}% under that line; the H800 and A800 were built for the 2022 rule (interconnect "
        "cut, compute kept) and are caught by the 2023 TPP test. What changed after 2023 are the measures around "
        "the thresholds: named parts, fees and review policy.")
    s.paragraphs.append(_latest_sentence(st, latest))
    ceiling = h.loc[latest, "case_by_case_max_tpp"]
    if not math.isnan(ceiling):
        s.numbers["headroom.case_by_case_max_tpp"] = float(ceiling)
    from chipgap.plots.export import headroom_chart, tpp_density_chart
    s.charts.append(Chart.from_figure("headroom-vs-die-area.png", "Headroom over die area, by rule version",
                                      headroom_chart(result.curves, st[st.rule == latest])))
    s.charts.append(Chart.from_figure("tpp-vs-density.png", f"TPP against performance density, rule {latest}",
                                      tpp_density_chart(catalog, latest)))
    return s


def _latest_sentence(st: pd.DataFrame, latest: str) -> str:
    """What the rule in force means for the parts China imports, from the status rows."""
    now = st[st.rule == latest].set_index("chip")
    parts = []
    for cid, what in (("nvidia-h200-sxm", "H200"), ("nvidia-h20", "H20"), ("nvidia-b200", "B200")):
        if cid in now.index:
            parts.append(f"{what}: {now.loc[cid, 'label']}.")
    if not parts:
        return ""
    text = f"Under {latest}, the rule in force: " + " ".join(parts)
    if "nvidia-h200-sxm" in now.index and now.loc["nvidia-h200-sxm", "treatment"] == "case-by-case":
        text += (" An H200 reaches China only under a licence reviewed case by case, which is what the 2026 supply "
                 "cases' H200 imports assume.")
    return text
