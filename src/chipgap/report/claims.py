"""The claims ledger: each claim of the article, the computed evidence, and a verdict.

Verdicts follow stated rules over the sections' numbers, never a hand-set answer: change the
catalog or a scenario and a verdict can change. A claim whose inputs are missing gets
"cannot be computed from sourced data".
"""

from __future__ import annotations

import math

from chipgap.report import context as cx
from chipgap.report.document import ClaimVerdict, Section
from chipgap.text import num, ratio

CLAIMS = {
    1: "US export controls since 2022 target advanced AI chips (\"small yard, high fence\").",
    2: "NVIDIA builds China-specific chips just under the control thresholds.",
    3: "Huawei's Ascend 910C lags the H100 in memory bandwidth and computational efficiency.",
    4: "Massive clustering and proprietary interconnects are closing the gap.",
    5: "The Ascend 910D could rival the H100 by 2026.",
    6: "910C yield rose to about 40% in early 2025, making the line profitable.",
    7: "Cost advantages and scalability could offset per-chip performance gaps.",
    8: "China exploits cloud access to NVIDIA chips; domestic firms scale up.",
    9: "Zhaoxin runs distilled DeepSeek-R1 models on its x86 CPUs.",
    10: "Chinese AI spending grows ~25% a year through 2026; firms that adapt to a bifurcated supply chain gain.",
}
READABLE_TOKENS_PER_S = 5.0
"""A single stream at or above this rate keeps up with one reader: adults read English non-fiction
silently at about 238 words a minute (Brysbaert, "How many words do we read per minute?",
J. Memory and Language 109, 2019), about 4 words or 5 tokens a second."""
DESIGNED_FOR = {"nvidia-a800-sxm": "2022-10", "nvidia-h800-sxm": "2022-10", "nvidia-h20": "2023-10",
                "nvidia-l20": "2023-10", "nvidia-rtx-4090d": "2023-10"}


def _n(sec: dict[str, Section], key: str, name: str) -> float:
    v = sec[key].numbers.get(name, math.nan) if key in sec else math.nan
    return float(v)


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{abs(x):.0f}% {'low' if x < 0 else 'high'}"


def ledger(sections: list[Section]) -> list[ClaimVerdict]:
    """One verdict per article claim, from the numbers the sections computed."""
    sec = {s.key: s for s in sections}
    return [rule(sec) for rule in (_c1, _c2, _c3, _c4, _c5, _c6, _c7, _c8, _c9, _c10)]


def _cv(n: int, evidence: str, verdict: str, assumptions: str, section: str) -> ClaimVerdict:
    return ClaimVerdict(n, CLAIMS[n], evidence, verdict, assumptions, section)


def _c1(sec):  # noqa: ANN001, ANN202
    caught = [_n(sec, "export-controls", f"controlled.{c}.{r}") for c in ("nvidia-h100-sxm", "nvidia-a100-sxm")
              for r in cx.RULES]
    h20 = _n(sec, "export-controls", "controlled.nvidia-h20.2023-10")
    ok = all(p == 1 for p in caught)
    return _cv(1, f"H100 and A100 controlled under every rule version checked ({', '.join(cx.RULES)}): "
                  f"{'yes' if ok else 'no'}; the H20 is controlled by the 2023-10 thresholds with P={h20:.0%} "
                  "(it is caught only as a named part, from 2025-04).",
               "supported" if ok else "partly supported",
               "Thresholds and named parts as the catalog's rule texts state them.", "export-controls")


def _c2(sec):  # noqa: ANN001, ANN202
    under = {c: _n(sec, "export-controls", f"controlled.{c}.{r}") for c, r in DESIGNED_FOR.items()}
    free = [c for c, p in under.items() if p == 0]
    h20, line = _n(sec, "export-controls", "tpp.nvidia-h20"), _n(sec, "export-controls", "headroom.814mm2.max_tpp")
    verdict = "supported" if len(free) == len(under) else "partly supported" if free else "not supported"
    return _cv(2, f"{len(free)} of {len(under)} China parts are uncontrolled under the rule they were designed "
                  f"for; the H20's TPP {num(h20)} sits {100 * (1 - h20 / line):.1f}% under the 2023-10 line "
                  f"({num(line)}) for its die size.", verdict,
               "Each part is judged against the rule in force when it launched (A800/H800: 2022-10; H20, L20, "
               "RTX 4090D: 2023-10).", "export-controls")


def _c3(sec):  # noqa: ANN001, ANN202
    bw = _n(sec, "spec-gap", "ratio.memory_bw_gbps")
    tok = _n(sec, "workloads", "train.910c_vs_h100")
    mfu_a = _n(sec, "workloads", "train.huawei-ascend-910c.mfu.p50")
    mfu_h = _n(sec, "workloads", "train.nvidia-h100-sxm.mfu.p50")
    if any(math.isnan(x) for x in (bw, tok, mfu_a, mfu_h)):
        return _cv(3, "inputs missing", "cannot be computed from sourced data", "", "workloads")
    # within 5 % of the H100's MFU is no lag: the held-out median error is about that size
    efficient = mfu_a >= 0.95 * mfu_h
    lags = [bw < 1, tok < 1, not efficient]
    verdict = "supported" if all(lags) else "partly supported" if any(lags) else "not supported"
    how = ("it uses its smaller peak about as well, so it lags in throughput, not in efficiency" if efficient
           else f"{ratio(mfu_a / mfu_h)} the H100's, so it lags in efficiency as well as in throughput")
    return _cv(3, f"memory bandwidth {ratio(bw)} the H100's; Llama 3.1 70B training throughput per chip "
                  f"{ratio(tok)}; MFU {num(mfu_a)} against {num(mfu_h)} ({how}).", verdict,
               f"Each chip in its usual system, {cx.asks()['train-70b'].n_chips:,} chips, best layout; the 910C's "
               f"efficiency constants: {sec['workloads'].numbers.get('basis.huawei-ascend-910c', 'n/a') if 'workloads' in sec else 'n/a'}; "
               f"the model's cross-validated error on Ascend training runs is "
               f"{_pct(_n(sec, 'accuracy', 'training.cv.ascend.median_error_pct'))} at the median.",
               "workloads")


def _c4(sec):  # noqa: ANN001, ANN202
    cm = _n(sec, "clustering", "system.huawei-cloudmatrix-384.train_tokens_per_s")
    nvl = _n(sec, "clustering", "system.nvidia-gb200-nvl72.train_tokens_per_s")
    per_kj_cm = _n(sec, "clustering", "system.huawei-cloudmatrix-384.tokens_per_kj")
    per_kj_nvl = _n(sec, "clustering", "system.nvidia-gb200-nvl72.tokens_per_kj")
    match = _n(sec, "clustering", "match.huawei-ascend-910c.chips")
    if math.isnan(cm) or math.isnan(nvl):
        return _cv(4, "inputs missing", "cannot be computed from sourced data", "", "clustering")
    verdict = "partly supported" if cm >= nvl and not per_kj_cm >= per_kj_nvl else \
        "supported" if cm >= nvl else "not supported"
    dec_cm = _n(sec, "clustering", "system.huawei-cloudmatrix-384.decode_tokens_per_s")
    dec_nvl = _n(sec, "clustering", "system.nvidia-gb200-nvl72.decode_tokens_per_s")
    decode = "" if math.isnan(dec_cm) or math.isnan(dec_nvl) else \
        f" and decodes DeepSeek-R1 at {ratio(dec_cm / dec_nvl)} the NVL72's rate"
    return _cv(4, f"A CloudMatrix 384 trains {ratio(cm / nvl)} as many tokens/s as a GB200 NVL72 at "
                  f"{ratio(per_kj_cm / per_kj_nvl)} the tokens per kJ (all-in vs IT power){decode}; matching "
                  f"{cx.MATCH_H100S:,} H100s takes {num(match)} 910Cs.", verdict,
               "System power bases differ (CM384 all-in, NVL72 IT), which flatters the NVL72's per-kJ figure; "
               "chips-needed counts double from one scale-up domain.", "clustering")


def _c5(sec):  # noqa: ANN001, ANN202
    p = _n(sec, "ascend-910d", "claim.train-llama-70b.probability")
    return _cv(5, f"No public spec exists beyond a rumoured four-die package. Under the bundled scenario's "
                  f"ranges, P(910D >= H100 on Llama 3.1 70B training) = {p:.0%}.",
               "cannot be computed from sourced data",
               "The scenario's 910D: four 910C-class dies at 50-100% clock, 910C memory up to 1.5x, in a "
               "CloudMatrix-class supernode.", "ascend-910d")


def _c6(sec):  # noqa: ANN001, ANN202
    c20, c40 = _n(sec, "unit-cost", "cost.yield20.p50"), _n(sec, "unit-cost", "cost.yield40.p50")
    be, be90 = _n(sec, "unit-cost", "cost.break_even.p50"), _n(sec, "unit-cost", "cost.break_even.p90")
    margin = _n(sec, "unit-cost", "cost.margin_latest.p50")
    evidence = f"Lower-bound cost per 910C (dies + HBM) US${num(c20)} at 20% yield, US${num(c40)} at 40%. "
    assumptions = ("Reported yields (20% Nov 2024, ~40% Feb 2025) are press reports; die area assumed equal to "
                   "the measured 910B die.")
    if math.isnan(be):
        return _cv(6, evidence + "No sourced price, packaging or test cost: profitability cannot be checked.",
                   "cannot be computed from sourced data", assumptions, "unit-cost")
    # The break-even yield is a lower bound (missing cost items count as zero): one above 40% means even
    # the known costs are not covered at 40%, which refutes the claim; one below it covers only the
    # known unit costs, not the missing ones nor the line's fixed costs, so the claim is at most partly
    # supported.
    evidence += (f"At the press-implied price the gross margin is at most {margin:.0%} and the break-even die "
                 f"yield at least {be:.1%} (P90 {be90:.1%})")
    if be > 0.4:
        return _cv(6, evidence + ": even the known costs are not covered at 40%.", "not supported",
                   assumptions, "unit-cost")
    evidence += (": the known unit costs are covered at 40%" +
                 (", and were at 20% too, so the yield gain alone does not explain a first profit" if be90 < 0.2
                  else "") + "; packaging, test and fixed costs have no source.")
    return _cv(6, evidence, "partly supported",
               assumptions + " The price is implied from press reports (FT CloudMatrix 384 price, WSJ order "
               "value), not a list price.", "unit-cost")


def _c7(sec):  # noqa: ANN001, ANN202
    cm = _n(sec, "tco", "tco.huawei-cloudmatrix-384.usd_per_million_tokens")
    h = _n(sec, "tco", "tco.nvidia-hgx-h100.usd_per_million_tokens")
    if math.isnan(cm) or math.isnan(h):
        return _cv(7, "a system price or serving rate is missing", "cannot be computed from sourced data", "", "tco")
    verdict = "supported" if cm <= h else "not supported"
    return _cv(7, f"US${num(cm)} per million Llama 3.1 70B tokens on a CloudMatrix 384 against US${num(h)} on an "
                  f"HGX H100 ({ratio(cm / h)}).", verdict,
               "Reported system prices (CM384's is a press figure), China electricity and PUE, full "
               "utilisation, no network or buildings.", "tco")


def _c8(sec):  # noqa: ANN001, ANN202
    d25 = _n(sec, "supply", "supply.china-2025-base.domestic_h100eq.p50")
    d26 = _n(sec, "supply", "supply.china-2026-base.domestic_h100eq.p50")
    cut = _n(sec, "supply", "supply.china-2026-hbm-cutoff.chips.p50")
    base = _n(sec, "supply", "supply.china-2026-base.chips.p50")
    if math.isnan(d25) or math.isnan(d26):
        return _cv(8, "supply scenarios missing", "cannot be computed from sourced data", "", "supply")
    cloud = sec["market-claims"].numbers.get("market.cloud-access-nvidia.verdict") if "market-claims" in sec else None
    cloud_text = ("Cloud access to NVIDIA chips is documented (market claims: " + cloud + "), though its total "
                  "capacity is not computable." if cloud else "Cloud access is not checked.")
    scaling = d26 > d25
    verdict = "supported" if scaling and cloud == "supported" else "partly supported" if scaling else "not supported"
    return _cv(8, f"Domestic compute {num(d25)} (2025) -> {num(d26)} (2026) H100-equivalents by spec, P50, every line "
                  f"with a sourced volume counted; an HBM cut-off takes 2026's accelerators (domestic and imported) "
                  f"from {num(base)} to {num(cut)}. " + cloud_text, verdict,
               "Volumes from press, analyst and company figures, rationed by separately sourced capacities (TSMC die "
               "bank, SMIC advanced wafers, HBM stockpile and CXMT output); Hygon and smaller vendors have no sourced "
               "volume.", "supply")


def _c9(sec):  # noqa: ANN001, ANN202
    z = _n(sec, "cpus", "cpu.zhaoxin-kh-40000.int4.single_stream")
    if math.isnan(z):
        return _cv(9, "inputs missing", "cannot be computed from sourced data", "", "cpus")
    return _cv(9, f"{cx.CPU_MODEL} decodes one stream at {num(z)} tokens/s with 4-bit weights on a KH-40000 "
                  "socket (memory-bound estimate).",
               "supported" if z >= READABLE_TOKENS_PER_S else "not supported",
               f"'Runs' means at least {READABLE_TOKENS_PER_S:g} tokens/s for one reader; 256 GB DRAM assumed; "
               "compute peak unknown.", "cpus")


def _c10(sec):  # noqa: ANN001, ANN202
    n = _n(sec, "exposure", "shock.no-hbm-imports.chips")
    numbers = sec["market-claims"].numbers if "market-claims" in sec else {}
    growth = numbers.get("market.ai-spending-growth-25pct.verdict")
    chain = f"The chain map shows {num(n)} Chinese accelerators exposed to an HBM import stop."
    if growth is None:
        return _cv(10, "No sourced spending series in the catalog. " + chain, "cannot be computed from sourced data",
                   "Company roles from the catalog's supplier links.", "exposure")
    # the growth half is checked in the market-claims table; who gains from adapting is not computable
    verdict = {"contradicted": "not supported", "supported": "partly supported"}.get(
        growth, "cannot be computed from sourced data")
    return _cv(10, f"Spending growth of ~25% a year is {growth} by the sourced capex series "
                   f"({numbers.get('market.ai-spending-growth-25pct.test0', '')}). " + chain, verdict,
               "Capex stands in for AI spending; which firms gain from adapting is not computed.", "market-claims")
