"""The market-claims section: each financial or corporate claim of the article, the figures the
sources give, their date and a verdict, from `chipgap.analyses.market` (which holds the rule)."""

from __future__ import annotations

import pandas as pd

from chipgap.analyses.market import verdict_counts
from chipgap.report.document import Section, Table, cell
from chipgap.text import num


def market_claims_section(claims: pd.DataFrame, cloud: pd.DataFrame) -> Section:
    """Render `chipgap.analyses.market.market_claims` and `cloud_access` results."""
    s = Section("market-claims", None, "The article's market claims",
                "Do the article's financial and corporate claims match what the sources report?")
    rows = []
    for r in claims.itertuples():
        s.cite(r.source)
        tests = "; ".join(f"{t['says']}: {t['outcome']} ({t['detail']})" for t in r.tests) or \
            "no test: no sourced figure"
        rows.append([cell(f"{r.claim} [{r.article_ref}]" if pd.notna(r.article_ref) else r.claim, tuple(r.source)),
                     cell(r.finding), cell(r.as_of), cell(r.verdict), cell(tests)])
        s.numbers[f"market.{r.claim_id}.verdict"] = r.verdict
        for i, t in enumerate(r.tests):
            s.numbers[f"market.{r.claim_id}.test{i}"] = t["detail"]
    counts = verdict_counts(claims)
    for v, n in counts.items():
        s.numbers[f"market.count.{v}"] = float(n)
    s.tables.append(Table("Market claims, the sources' figures and a verdict",
                          ["article's claim [its citation]", "what the sources say", "as of", "verdict",
                           "tests (outcome, figures)"], rows,
                          "Verdict by one rule (chipgap.analyses.market): supported when every test holds, "
                          "contradicted when one fails, not checkable when a figure a test needs has no source or "
                          "its range straddles the line. 'as of' is the newest source date among the figures.",
                          command="chipgap claims market --format csv"))
    fig_rows = [[cell(r.claim_id), cell(f["company"] or f["chip"] or ""), cell(f["metric"]),
                 cell(f["period"] + (" (forecast)" if f["forecast"] else "")),
                 cell(num(f["point"]) if f["low"] == f["high"] else f"{num(f['low'])}-{num(f['high'])}",
                      tuple(f["source"])), cell(f["confidence"]), cell(f["note"] or "")]
                for r in claims.itertuples() for f in r.figures]
    s.tables.append(Table("Figures behind the market claims", ["claim", "about", "metric (unit in name)",
                                                              "period", "value", "confidence", "note"], fig_rows,
                                                              command="chipgap claims market --format json"))
    if len(cloud):
        total = float(cloud.h100_equivalents_spec.sum())
        s.numbers["cloud.documented_h100eq"] = total
        s.tables.append(Table("NVIDIA chips documented as rented by Chinese firms abroad (a floor, not a total)",
                              ["chip", "period", "units", "H100-equivalents (spec)", "confidence"],
                              [[cell(r.chip), cell(r.period), cell(float(r.units), tuple(r.source)),
                                cell(float(r.h100_equivalents_spec)), cell(r.confidence)] for r in cloud.itertuples()],
                              "Cloud access as rented H100-equivalents is not computable in total: no source gives "
                              "the capacity Chinese firms rent abroad or through cloud services. The documented "
                              "cases sum to at least this much.",
                              command=("python -c \"from chipgap.analyses.market import cloud_access; import chipgap; "
                                        "print(cloud_access(chipgap.load_catalog()).to_csv())\"")))
        s.paragraphs.append(
            f"Of {len(claims)} market claims, {counts['supported']} are supported by the sources, "
            f"{counts['contradicted']} contradicted and {counts['not checkable']} not checkable. Rented access to "
            f"NVIDIA chips is documented case by case only: at least {num(total)} H100-equivalents (by dense BF16 "
            "peak), with no source for the total.")
    return s
