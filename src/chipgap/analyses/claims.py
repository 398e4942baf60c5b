"""The claims ledger's rules: each claim of the article judged from its evidence, by rules
written once here.

A modelled comparison is a `Ratio` (chip a over chip b, or system over system): its P50 and
P10-P90 over the specs' ranges (paired draws), and the model's cross-validated error for each
side's chip family (`ModelError`: the median absolute error of held-out runs, and the signed
median as its bias). `judge` sets the band those give around the line a claim draws and returns
one of three outcomes:

- **supported**: the whole band is on the claim's side of the line;
- **contradicted**: the whole band is on the other side;
- **within the model's error**: the band straddles the line (for costs, a `COST_PARITY` band
  around parity counts as the line).

A claim of several parts gets one verdict from its parts' outcomes (`combine`); a claim whose
inputs have no source gets "cannot be computed from sourced data", with no number standing in
for one (no probability either).

>>> r = Ratio(0.63, 0.60, 0.66, ModelError("ascend", "training", 20.0, -5.0, 8))
>>> judge(r, 1.0, "below").outcome
'supported'
>>> judge(Ratio(0.9, 0.85, 0.95, ModelError("ascend", "training", 20.0, -5.0, 8)), 1.0, "below").outcome
"within the model's error"
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from chipgap.text import num, pct, words
from chipgap.text import ratio as ratio_text

SUPPORTED, CONTRADICTED, WITHIN = "supported", "contradicted", "within the model's error"
PARTLY, CANNOT = "partly supported", "cannot be computed from sourced data"
OUTCOMES = (SUPPORTED, CONTRADICTED, WITHIN)
VERDICTS = (SUPPORTED, PARTLY, CONTRADICTED, WITHIN, CANNOT)
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
COST_PARITY = 0.15
"""Cost ratios within 15% of parity either way are parity: system prices are quoted on different
bases (a CloudMatrix 384's includes its switches and optics, an HGX server's not its scale-out
network, which Epoch AI puts at about 19% of a cluster's cost) and are press or analyst figures."""
READABLE_TOKENS_PER_S = 5.0
"""A single stream at or above this rate keeps up with one reader: adults read English non-fiction
silently at about 238 words a minute (Brysbaert, "How many words do we read per minute?",
J. Memory and Language 109, 2019), about 4 words or 5 tokens a second."""
MAX_ERROR = 0.9
"""A model error is capped at 90% when it widens a band (a factor of 10)."""


@dataclass(frozen=True)
class ClaimVerdict:
    """A line of the claims ledger: the claim, the evidence, the verdict and its one-line answer
    (``headline``: the range and the verdict, for the report's first screen)."""

    number: int
    claim: str
    evidence: str
    verdict: str
    assumptions: str
    section: str
    headline: str = ""


@dataclass(frozen=True)
class ModelError:
    """The performance model's error on a chip family, from held-out runs (percent).

    ``median_abs_pct``: median absolute error of the family's runs, each predicted by the fit
    that left its source group out; ``bias_pct``: their signed median (positive: the model
    predicts too high); ``basis`` says which error it is.
    """

    family: str
    kind: str
    median_abs_pct: float
    bias_pct: float
    runs: int
    basis: str = "cross-validated"

    @property
    def fraction(self) -> float:
        return min(abs(self.median_abs_pct) / 100.0, MAX_ERROR)

    def text(self) -> str:
        """'Ascend training: median error 20% (bias -5%, 8 runs, cross-validated)'."""
        return (f"{self.family} {self.kind}: median error {self.median_abs_pct:.0f}% (bias {self.bias_pct:+.0f}%, "
                f"{self.runs} runs, {self.basis})")


def model_errors(predictions: pd.DataFrame) -> dict[tuple[str, str], ModelError]:
    """Each (kind, family)'s `ModelError` from `chipgap.analyses.accuracy.predictions` (kind
    'training' or 'serving')."""
    from chipgap.analyses.accuracy import kind_of, summary

    out = {}
    for kind in ("training", "serving"):
        part = kind_of(predictions, kind)
        if part.empty:
            continue
        for family, r in summary(part, "family").iterrows():
            out[kind, family] = ModelError(family, kind, float(r.median_abs_error_pct), float(r.median_error_pct),
                                           int(r.runs))
    return out


@dataclass(frozen=True)
class Ratio:
    """A modelled a / b: P50 and P10-P90 over the specs' ranges, and each side's model error
    (None: exact, as a catalog spec is). Same-family sides share their error, which then cancels
    in the ratio to first order."""

    p50: float
    p10: float
    p90: float
    error_a: ModelError | None = None
    error_b: ModelError | None = None

    @classmethod
    def of(cls, a: Sequence[float], b: Sequence[float] | float, error_a: ModelError | None = None,
           error_b: ModelError | None = None) -> Ratio:
        """From paired draws of a and b (b may be one number)."""
        import numpy as np

        r = np.asarray(a, dtype=float) / np.asarray(b, dtype=float)
        r = r[np.isfinite(r)]
        if not r.size:
            return cls(math.nan, math.nan, math.nan, error_a, error_b)
        q = np.quantile(r, (0.5, 0.1, 0.9))
        return cls(float(q[0]), float(q[1]), float(q[2]), error_a, error_b)

    @property
    def shared(self) -> bool:
        return (self.error_a is not None and self.error_b is not None
                and self.error_a.family == self.error_b.family)

    def factors(self) -> tuple[float, float]:
        """How far the model's error can move the ratio down and up (multipliers)."""
        if self.shared:
            return 1.0, 1.0
        ea = self.error_a.fraction if self.error_a else 0.0
        eb = self.error_b.fraction if self.error_b else 0.0
        return (1 - eb) / (1 + ea), (1 + eb) / (1 - ea)

    def band(self) -> tuple[float, float]:
        """The P10-P90 over the specs widened by the model's error."""
        down, up = self.factors()
        return self.p10 * down, self.p90 * up

    def corrected(self) -> float:
        """P50 with each side's bias taken out (true = predicted / (1 + bias))."""
        if self.shared:
            return self.p50
        ba = self.error_a.bias_pct / 100 if self.error_a else 0.0
        bb = self.error_b.bias_pct / 100 if self.error_b else 0.0
        return self.p50 * (1 + bb) / (1 + ba)

    def text(self) -> str:
        """'0.63x (0.60-0.66 over the specs; 0.48-0.83 with the model's error)'."""
        if math.isnan(self.p50):
            return "n/a"
        lo, hi = self.band()
        parts = [] if ratio_text(self.p10) == ratio_text(self.p90) else \
            [f"{ratio_text(self.p10)}-{ratio_text(self.p90)} over the specs"]
        if self.shared:
            parts.append("the model's error cancels (one family)")
        elif self.error_a is not None or self.error_b is not None:
            parts.append(f"{ratio_text(lo)}-{ratio_text(hi)} with the model's error")
        return ratio_text(self.p50) + (f" ({'; '.join(parts)})" if parts else "")


@dataclass(frozen=True)
class Outcome:
    """One part of a claim judged: its outcome, the band, and a sentence."""

    outcome: str
    low: float
    high: float
    text: str


def judge(r: Ratio, line: float = 1.0, side: str = "below", parity: float = 0.0, what: str = "") -> Outcome:
    """Where ``r``'s band sits against ``line``: the claim says a / b is ``side`` ('below' or
    'at least') the line; ``parity`` widens the line into a band ``line x (1 -+ parity)``.

    >>> judge(Ratio(1.3, 1.2, 1.4), 1.0, "at least").outcome
    'supported'
    >>> judge(Ratio(1.05, 1.0, 1.1), 1.0, "below", parity=0.15).outcome
    "within the model's error"
    """
    if side not in ("below", "at least"):
        raise ValueError("side must be 'below' or 'at least'")
    if math.isnan(r.p50):
        return Outcome(CANNOT, math.nan, math.nan, f"{what}: not computed")
    lo, hi = r.band()
    below, above = line * (1 - parity), line * (1 + parity)
    if hi < below:
        outcome = SUPPORTED if side == "below" else CONTRADICTED
    elif lo > above if side == "below" else lo >= above:
        outcome = CONTRADICTED if side == "below" else SUPPORTED
    else:
        outcome = WITHIN
    return Outcome(outcome, lo, hi, f"{what} {r.text()}: {outcome}".strip())


def combine(outcomes: Sequence[str]) -> str:
    """One verdict for a claim that all its parts must hold (uncomputable parts left out).

    >>> combine([SUPPORTED, SUPPORTED]), combine([SUPPORTED, WITHIN]), combine([SUPPORTED, CONTRADICTED])
    ('supported', 'partly supported', 'partly supported')
    >>> combine([CONTRADICTED, WITHIN]), combine([WITHIN]), combine([CANNOT])
    ('contradicted', "within the model's error", 'cannot be computed from sourced data')
    """
    known = [o for o in outcomes if o in OUTCOMES]
    if not known:
        return CANNOT
    if all(o == SUPPORTED for o in known):
        return SUPPORTED
    if SUPPORTED in known:
        return PARTLY
    if CONTRADICTED in known:
        return CONTRADICTED
    return WITHIN


def _cv(n: int, evidence: str, verdict: str, assumptions: str, section: str, headline: str) -> ClaimVerdict:
    return ClaimVerdict(n, CLAIMS[n], evidence, verdict, assumptions, section, headline)


def _cannot(n: int, why: str, section: str) -> ClaimVerdict:
    return _cv(n, why, CANNOT, "", section, why)


# -- the rules, one per claim ------------------------------------------------------------------------

def claim_1(controlled: Mapping[tuple[str, str], float], rules: Sequence[str], h20_2023: float) -> ClaimVerdict:
    """Export controls catch the advanced chips: the H100 and A100 under every rule checked.

    ``controlled`` maps (chip, rule) to the share of samples in which the chip is controlled.
    """
    caught = [controlled.get((c, r), math.nan) for c in ("nvidia-h100-sxm", "nvidia-a100-sxm") for r in rules]
    if any(math.isnan(p) for p in caught):
        return _cannot(1, "a rule or chip is missing from the export section", "export-controls")
    ok = all(p == 1 for p in caught)
    verdict = SUPPORTED if ok else CONTRADICTED if not any(p == 1 for p in caught) else PARTLY
    return _cv(1, f"H100 and A100 controlled under every rule version checked ({', '.join(rules)}): "
                  f"{'yes' if ok else 'no'}; the 2023-10 thresholds control the H20 in {h20_2023:.0%} of samples "
                  "(it is caught only as a named part, from 2025-04).", verdict,
               "Thresholds and named parts as the catalog's rule texts state them.", "export-controls",
               f"H100 and A100 controlled under every rule from {rules[0]}: {verdict}")


def claim_2(free: Sequence[str], parts: Sequence[str], h20_tpp: float, line_tpp: float) -> ClaimVerdict:
    """China parts sit under the rule they were designed for."""
    n, k = len(parts), len(free)
    verdict = SUPPORTED if k == n else PARTLY if k else CONTRADICTED
    margin = 100 * (1 - h20_tpp / line_tpp)
    return _cv(2, f"{k} of {n} China parts are uncontrolled under the rule they were designed for; the H20's "
                  f"TPP {num(h20_tpp)} sits {margin:.1f}% under the 2023-10 line ({num(line_tpp)}) for its die size.",
               verdict, "Each part is judged against the rule in force when it launched (A800/H800: 2022-10; H20, "
                        "L20, RTX 4090D: 2023-10).", "export-controls",
               f"{k} of {n} China parts under their rule's line; H20 {margin:.1f}% under: {verdict}")


def claim_3(bandwidth: Ratio, throughput: Ratio, mfu: Ratio, workload: str, basis: str) -> ClaimVerdict:
    """The 910C lags the H100 in memory bandwidth (spec ratio below 1) and in computational
    efficiency (MFU ratio below 1, beyond the model's error)."""
    if math.isnan(mfu.p50) or math.isnan(bandwidth.p50):
        return _cannot(3, "a training result or a spec is missing", "workloads")
    bw = judge(bandwidth, 1.0, "below", what="memory bandwidth")
    eff = judge(mfu, 1.0, "below", what="MFU")
    verdict = combine([bw.outcome, eff.outcome])
    errors = "; ".join(e.text() for e in (mfu.error_a, mfu.error_b) if e is not None)
    corrected = mfu.corrected()
    evidence = (f"Memory bandwidth {bandwidth.text()}: {bw.outcome}. MFU training {workload} {mfu.text()}: "
                f"{eff.outcome}" + (f" (with each family's bias taken out: {ratio_text(corrected)})"
                                   if not mfu.shared and errors else "")
                + f". Throughput per chip {throughput.text()}.")
    return _cv(3, evidence, verdict,
               f"Each chip in its usual system, best layout; efficiency constants: {basis}. Model error: "
               f"{errors or 'none held out'}.", "workloads",
               f"910C memory bandwidth {ratio_text(bandwidth.p50)}, MFU {ratio_text(mfu.p50)} "
               f"({ratio_text(eff.low)}-{ratio_text(eff.high)} with model error) the H100's: {verdict}")


def claim_4(system: Ratio, per_kj: Ratio, decode: Ratio | None, chips_needed: float | None, match: int,
            workload: str) -> ClaimVerdict:
    """Clustering closes the gap: a CloudMatrix 384 matches an NVL72's system throughput (at
    least 1), and at what energy; chips needed to match an H100 cluster."""
    if math.isnan(system.p50):
        return _cannot(4, "a system's training result is missing", "clustering")
    thr = judge(system, 1.0, "at least", what="system throughput")
    energy = judge(per_kj, 1.0, "at least", what="tokens per kJ")
    verdict = combine([thr.outcome, energy.outcome])
    dec = (f" DeepSeek-R1 decode per system {decode.text()}." if decode is not None and not math.isnan(decode.p50)
           else "")
    found = chips_needed is not None and chips_needed == chips_needed
    need = (f" Matching {match:,} H100s takes {num(chips_needed)} 910Cs." if found
            else f" {match:,} H100s are not matched within the counts tried.")
    return _cv(4, f"A CloudMatrix 384 against a GB200 NVL72, training {workload}: {thr.text}; {energy.text} "
                  f"(IT power of each whole system, one PUE).{dec}{need}", verdict,
               "System throughput is the system's chips at the per-chip rate of a 1,024-chip job of such systems; "
               "power on one basis (IT power with CPUs, switches and optics, then one PUE).", "clustering",
               f"CM384 / NVL72 training {ratio_text(system.p50)}, per kJ {ratio_text(per_kj.p50)}: {verdict}")


def claim_5(training: Ratio | None, serving: Ratio | None, rumour: str) -> ClaimVerdict:
    """The 910D has no public spec: the verdict cannot be computed; what the rumoured specs give
    under the model is stated as such, with no probability."""
    parts = []
    for label, r in (("training Llama 3.1 70B", training), ("serving Llama 3.1 70B", serving)):
        if r is not None and not math.isnan(r.p50):
            parts.append(f"{label} {r.text()}, which the rule would call '{judge(r, 1.0, 'at least').outcome}' "
                         "if the rumour held")
    computed = ("Computed under those rumoured specs, the 910D against the H100: " + "; ".join(parts) + "."
                if parts else "Nothing was computed from the rumour.")
    return _cv(5, f"No public spec: {rumour} {computed}", CANNOT,
               "The 910D is modelled as the 910C is: each die its own device, with the Ascend stack's efficiency "
               "constants; its specs are the bundled scenario's, derived from a rumour.", "ascend-910d",
               f"no public 910D spec; under the rumour, training {ratio_text(training.p50) if training else 'n/a'} "
               f"the H100's: {CANNOT}")


def claim_6(c20: float, c40: float, break_even: float, break_even_p90: float, margin: float) -> ClaimVerdict:
    """Yield and profitability: the break-even die yield is a lower bound (missing cost items
    count as zero); above 40% refutes the claim, below it covers only the known unit costs."""
    evidence = f"Lower-bound cost per 910C (dies + HBM) US${num(c20, 0.2)} at 20% yield, US${num(c40, 0.2)} at 40%. "
    assumptions = ("Reported yields (20% Nov 2024, ~40% Feb 2025) are press reports; die area assumed equal to "
                   "the measured 910B die.")
    if math.isnan(break_even):
        return _cv(6, evidence + "No sourced price, packaging or test cost: profitability cannot be checked.",
                   CANNOT, assumptions, "unit-cost", f"cost per 910C US${num(c40, 0.2)} at 40% yield; no price")
    evidence += (f"At the press-implied price the gross margin is at most {margin:.0%} and the break-even die "
                 f"yield at least {break_even:.1%} (P90 {break_even_p90:.1%})")
    if break_even > 0.4:
        return _cv(6, evidence + ": even the known costs are not covered at 40%.", CONTRADICTED, assumptions,
                   "unit-cost", f"break-even yield above 40%: {CONTRADICTED}")
    evidence += (": the known unit costs are covered at 40%" +
                 (", and were at 20% too, so the yield gain alone does not explain a first profit"
                  if break_even_p90 < 0.2 else "") + "; packaging, test and fixed costs have no source.")
    return _cv(6, evidence, PARTLY, assumptions + " The price is implied from press reports (FT CloudMatrix 384 "
               "price, WSJ order value), not a list price.", "unit-cost",
               f"US${num(c40, 0.2)} per 910C at 40% yield, break-even yield >= {break_even:.1%}: {PARTLY}")


@dataclass(frozen=True)
class CostComparison:
    """One system's cost per token against a rival's: the ratio (a over b), each price's basis,
    and the price of a at which the two costs are equal."""

    rival: str
    ratio: Ratio
    basis_a: str
    basis_b: str
    flip_price_usd: float
    rival_id: str = ""


def claim_7(system: str, workload: str, comparisons: Sequence[CostComparison], price_usd: float) -> ClaimVerdict:
    """Cost offsets performance: the system's cost per million tokens against each rival's,
    judged with `COST_PARITY` and the throughput model's error."""
    if not comparisons:
        return _cannot(7, "a system price or serving rate is missing", "tco")
    outcomes, parts = [], []
    for c in comparisons:
        o = judge(c.ratio, 1.0, "below", parity=COST_PARITY, what=f"against {c.rival}")
        outcomes.append(o.outcome)
        flip = "" if c.flip_price_usd != c.flip_price_usd else (
            f"; costs are equal at a price of US${num(c.flip_price_usd, 0.1)} for the {system} "
            f"({pct(c.flip_price_usd / price_usd - 1)} from the figure used)")
        parts.append(f"{o.text}{flip} [{c.rival}'s price: {c.basis_b}]")
    verdict = combine(outcomes)
    return _cv(7, f"Cost per million {workload} tokens of a {system} over each rival's: " + "; ".join(parts) + ".",
               verdict, f"The {system}'s price: {comparisons[0].basis_a}. Costs within {COST_PARITY:.0%} of each other "
                        "are parity (prices on different bases); China electricity and PUE, full utilisation, no "
                        "buildings; the serving rates carry the model's error.", "tco",
               "; ".join(f"vs {c.rival} {ratio_text(c.ratio.p50)}" for c in comparisons) + f": {verdict}")


def claim_8(d25: float, d26: float, base: float, cut: float, cloud: str | None) -> ClaimVerdict:
    """Domestic firms scale up (domestic compute grows year on year) and cloud access is documented."""
    if math.isnan(d25) or math.isnan(d26):
        return _cannot(8, "supply scenarios missing", "supply")
    cloud_text = ("Cloud access to NVIDIA chips is documented (market claims: " + cloud + "), though its total "
                  "capacity is not computable." if cloud else "Cloud access is not checked.")
    scaling = d26 > d25
    verdict = combine([SUPPORTED if scaling else CONTRADICTED,
                       {"supported": SUPPORTED, "contradicted": CONTRADICTED}.get(cloud or "", CANNOT)])
    return _cv(8, f"Domestic compute {num(d25, 0.1)} (2025) -> {num(d26, 0.1)} (2026) H100-equivalents by spec, P50, "
                  f"every line with a sourced volume counted; an HBM cut-off takes 2026's accelerators (domestic and "
                  f"imported) from {num(base, 0.1)} to {num(cut, 0.1)}. " + cloud_text, verdict,
               "Volumes from press, analyst and company figures, rationed by separately sourced capacities (TSMC die "
               "bank, SMIC advanced wafers, HBM stockpile and CXMT output); Hygon and smaller vendors have no sourced "
               "volume.", "supply",
               f"domestic H100-equivalents {num(d25, 0.1)} (2025) -> {num(d26, 0.1)} (2026): {verdict}")


def claim_9(single_stream: float, error: ModelError | None, model: str, cpu: str, assumed: str) -> ClaimVerdict:
    """A CPU 'runs' a model when one stream keeps up with a reader (`READABLE_TOKENS_PER_S`),
    beyond the model's error."""
    if math.isnan(single_stream):
        return _cannot(9, "inputs missing", "cpus")
    r = Ratio(single_stream / READABLE_TOKENS_PER_S, single_stream / READABLE_TOKENS_PER_S,
              single_stream / READABLE_TOKENS_PER_S, error)
    o = judge(r, 1.0, "at least")
    lo, hi = o.low * READABLE_TOKENS_PER_S, o.high * READABLE_TOKENS_PER_S
    rel = error.fraction if error else 0.1
    return _cv(9, f"{model} decodes one stream at {num(single_stream, rel)} tokens/s ({num(lo, rel)}-{num(hi, rel)} "
                  f"with the model's CPU error) with 4-bit weights on a {cpu} socket, by the one CPU rule.",
               o.outcome, f"'Runs' means at least {READABLE_TOKENS_PER_S:g} tokens/s for one reader; {assumed}",
               "cpus", f"{num(single_stream, rel)} tokens/s on one {cpu} socket ({num(lo, rel)}-{num(hi, rel)}): "
                       f"{o.outcome}")


def claim_10(growth: str | None, detail: str, exposed: float) -> ClaimVerdict:
    """Spending growth against the sourced capex series; who gains is not computable."""
    chain = f"The chain map shows {num(exposed)} Chinese accelerators exposed to an HBM import stop."
    if growth is None:
        return _cv(10, "No sourced spending series in the catalog. " + chain, CANNOT,
                   "Company roles from the catalog's supplier links.", "exposure", "no sourced spending series")
    verdict = {"contradicted": CONTRADICTED, "supported": PARTLY}.get(growth, CANNOT)
    detail = words(detail)
    return _cv(10, f"Spending growth of ~25% a year is {growth} by the sourced capex series ({detail}). " + chain,
               verdict, "Capex stands in for AI spending; which firms gain from adapting is not computed.",
               "market-claims", f"~25% a year: {growth} by the capex series ({detail}); who gains: not computable")
