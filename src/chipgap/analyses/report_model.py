"""Everything the report shows, computed once: the report's model.

`build_model` answers the report's questions through the analyses (its performance questions
are the bundled scenario ``report``), the cross-validated model error by chip family, system
metrics on one power basis, costs, supply, export controls, market claims, the headline
sensitivities and the claims ledger, and returns one `ReportModel`. The report's sections only
render it; several sections read the same result (the training answers feed the workloads,
clustering and supply sections), which is computed here once.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chipgap.analyses import chain, claims, econ, infer, train
from chipgap.analyses.accuracy import predictions
from chipgap.analyses.answer import Answer, answer, resample
from chipgap.analyses.claims import ClaimVerdict, CostComparison, ModelError, Ratio
from chipgap.analyses.compare import compare_chips
from chipgap.analyses.cpu import cpu_decode, single_stream_draws
from chipgap.analyses.export import ExportOverview, export_overview
from chipgap.analyses.market import cloud_access, market_claims
from chipgap.analyses.efficiency import family_of
from chipgap.analyses.scenario import ScenarioResult, check_question, run_scenario, scenario_catalog
from chipgap.analyses.sensitivity import Sensitivity, tornado
from chipgap.analyses.supply import SupplyOverview, domestic_h100_equivalents_draws, input_label, supply_overview
from chipgap.analyses.systems import it_power_kw, system_metrics
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.load import load_catalog
from chipgap.catalog.scenario import Scenario, read_scenario
from chipgap.errors import ChipgapError

REPORT_SCENARIO = "report"
"""The bundled scenario holding the report's performance questions."""
SCENARIO_910D = "ascend-910d-2026"
SPEC_CHIPS = ("huawei-ascend-910c", "huawei-ascend-910b", "nvidia-h100-sxm", "nvidia-h800-sxm",
              "nvidia-h20", "nvidia-h200-sxm", "nvidia-b200", "huawei-ascend-950pr",
              "cambricon-mlu590", "baidu-kunlun-p800")
"""Chips in the spec table: the article's pair, NVIDIA's China parts, what came next on each side."""
RULES = ("2022-10", "2023-10", "2025-04")
"""Rule versions claim 1 checks the H100 and A100 under (the export section covers every version)."""
DESIGNED_FOR = {"nvidia-a800-sxm": "2022-10", "nvidia-h800-sxm": "2022-10", "nvidia-h20": "2023-10",
                "nvidia-l20": "2023-10", "nvidia-rtx-4090d": "2023-10"}
"""China parts and the rule they were designed under (claim 2)."""
RATIO_SPECS = ("bf16_dense_tflops", "memory_bw_gbps", "memory_capacity_gib", "scaleup_bw_gbps_unidir")
"""Specs the spec gap states as 910C over H100 ratios."""
MOE_ASKS = ("decode-r1-910c", "decode-r1-hopper", "decode-r1-nvl72")
SYSTEMS = ("huawei-cloudmatrix-384", "nvidia-gb200-nvl72", "nvidia-hgx-h100", "nvidia-hgx-h800", "nvidia-hgx-h20")
COST_SYSTEM = "huawei-cloudmatrix-384"
COST_RIVALS = ("nvidia-hgx-h100", "nvidia-gb200-nvl72", "nvidia-hgx-h20")
MATCH_H100S = 1024
MATCH_CHIPS = ("huawei-ascend-910c", "huawei-ascend-910b", "nvidia-h20", "nvidia-h800-sxm", "nvidia-gb200")
CPU_CHIPS = ("zhaoxin-kh-40000", "intel-xeon-8480", "amd-epyc-9654")
CPU_MODEL = "deepseek-r1-distill-qwen-7b"
SUPPLY_YEARS = ("china-2025-base", "china-2026-base")
"""The supply scenarios claim 8 compares: domestic compute scales up when the second year's
domestic H100-equivalents (by spec) exceed the first's."""
REGION = "cn"
"""Whose electricity price and PUE the costs and per-kJ figures use."""
A, H = "huawei-ascend-910c", "nvidia-h100-sxm"
STEPS = ("questions", "training", "serving", "decode", "accuracy", "systems", "chips needed", "costs", "cpus",
         "export controls", "supply", "market", "unit cost", "exposure", "910d scenario", "user scenario",
         "sensitivity", "claims")
"""The steps `build_model` reports progress on, in order."""


@functools.cache
def report_asks() -> dict[str, Any]:
    """The report's performance questions by id (`chipgap.catalog.scenario.TrainAsk` or
    `ServeAsk`: ``.chips``, ``.n_chips``, ``.question(chip, samples, seed)``, ``.published``)."""
    return {q.id: q for q in read_scenario(REPORT_SCENARIO).questions}


@dataclass
class Decode:
    """One DeepSeek-R1 decode instance answered, with the published runs of its deployment:
    each run's measurement and the model's prediction of it at the run's own settings."""

    ask: str
    chip: str
    answer: Answer
    published: pd.DataFrame

    @property
    def best(self) -> pd.Series | None:
        top = self.answer.best(1)
        return None if top.empty else top.iloc[0]


@dataclass
class ReportModel:
    """Every result the report renders (see the module docstring)."""

    catalog: Catalog
    samples: int
    seed: int
    scenario: Scenario | None
    data_date: str
    newest: list[dict]
    spec_ratios: pd.DataFrame | None = None
    training: dict[str, Answer] = field(default_factory=dict)
    serving: dict[str, Answer] = field(default_factory=dict)
    decode: list[Decode] = field(default_factory=list)
    missing: dict[str, list[str]] = field(default_factory=dict)
    predictions: pd.DataFrame | None = None
    errors: dict[tuple[str, str], ModelError] = field(default_factory=dict)
    systems: pd.DataFrame | None = None
    need_rate: float = math.nan
    chips_needed: dict[str, pd.DataFrame] = field(default_factory=dict)
    tco: dict[str, pd.DataFrame] = field(default_factory=dict)
    costs: list[CostComparison] = field(default_factory=list)
    cpus: list[dict] = field(default_factory=list)
    export: ExportOverview | None = None
    supply: SupplyOverview | None = None
    market: pd.DataFrame | None = None
    cloud: pd.DataFrame | None = None
    unit_cost: pd.DataFrame | None = None
    cost_curve: pd.DataFrame | None = None
    exposure: pd.DataFrame | None = None
    shock: pd.DataFrame | None = None
    ascend_910d: ScenarioResult | None = None
    user: ScenarioResult | None = None
    sensitivity: dict[str, Sensitivity] = field(default_factory=dict)
    claims: list[ClaimVerdict] = field(default_factory=list)

    def error(self, kind: str, chip: str) -> ModelError | None:
        """The model's error on ``kind`` ('training' or 'serving') runs of ``chip``'s family."""
        return self.errors.get((kind, family_of(self.catalog, chip)))

    def ratio(self, kind: str, a: str, b: str, metric: str, answers: dict[str, Answer]) -> Ratio:
        """a over b of ``metric`` (paired Monte-Carlo draws), with each chip's model error."""
        if a not in answers or b not in answers:
            return Ratio(math.nan, math.nan, math.nan)
        return Ratio.of(answers[a].samples[metric], answers[b].samples[metric], self.error(kind, a),
                        self.error(kind, b))

    def decode_of(self, chip: str) -> Decode | None:
        return next((d for d in self.decode if d.chip == chip), None)


def data_as_of(catalog: Catalog, newest: int = 6) -> tuple[str, list[dict]]:
    """The newest source date in the catalog, and the ``newest`` sources with the records that
    cite them (what the latest data changed)."""
    sources = catalog.all("source")
    dated = sorted(((str(s.date), sid) for sid, s in sources.items() if s.date), reverse=True)
    if not dated:
        return "", []
    cited: dict[str, list[str]] = {}
    wanted = {sid for _, sid in dated[:newest]}
    for kind in ("chip", "system", "rule", "serving_run", "run", "scenario", "supply_estimate", "market_claim",
                 "assumption", "chip_cost", "company", "node"):
        for rid, rec in catalog.all(kind).items():
            text = rec.model_dump_json()
            for sid in wanted:
                if f'"{sid}"' in text:
                    cited.setdefault(sid, []).append(f"{kind.replace('_', ' ')} {rid}")
    rows = [{"source": sid, "title": sources[sid].title, "date": date, "publisher": sources[sid].publisher,
             "feeds": cited.get(sid, [])} for date, sid in dated[:newest]]
    return dated[0][0], rows


def _published(catalog: Catalog, preds: pd.DataFrame, runs: list[str], chip: str) -> pd.DataFrame:
    """The published runs of ``chip`` among ``runs``: measured, and predicted at the run's own settings."""
    rows = []
    for rid in runs:
        run = catalog.get("serving_run", rid)
        if catalog.resolve("chip", run.chip) != chip:
            continue
        p = preds[preds.run == run.id]
        rows.append({"run": run.id, "chip": chip, "measured": run.measured.point, "metric": run.metric,
                     "predicted": float(p.predicted.iloc[0]) if len(p) else math.nan,
                     "error_pct": float(p.error_pct.iloc[0]) if len(p) else math.nan,
                     "fit": p.fit.iloc[0] if len(p) else "", "source": tuple(run.source),
                     "settings": f"{run.chips} chips, context {run.input_len:,}, batch {run.batch or 'searched'}, "
                                 f"MTP {run.mtp_accept if run.mtp_accept is not None else 'off'}"})
    return pd.DataFrame(rows, columns=["run", "chip", "measured", "metric", "predicted", "error_pct", "fit", "source",
                                       "settings"])


def build_model(catalog_dir: str | Path | None = None, scenario: str | Path | None = None, samples: int = 2000,
                seed: int = 0, progress: Callable[[str], None] | None = None) -> ReportModel:
    """Compute everything the report shows (see `ReportModel`).

    Parameters
    ----------
    catalog_dir : str or Path, optional
        A user catalog folder read on top of the bundled one.
    scenario : str or Path, optional
        A scenario (file or bundled name) whose catalog changes apply to every result.
    samples, seed : int
        Monte-Carlo draws of every ranged input, and their seed.
    progress : callable, optional
        Called with each of `STEPS` before it is computed.
    """
    step = progress or (lambda _key: None)
    step("questions")
    sc = read_scenario(scenario) if scenario is not None else None
    cat = scenario_catalog(sc, catalog_dir) if sc else load_catalog(catalog_dir)
    asks = report_asks()
    for q in asks.values():
        check_question(cat, REPORT_SCENARIO, q)
    date, newest = data_as_of(cat)
    m = ReportModel(cat, samples, seed, sc, date, newest)
    m.spec_ratios = compare_chips(cat, [A, H], specs=RATIO_SPECS).query("chip == @A").set_index("spec")
    step("training")
    m.training = _answers(cat, asks["train-70b"], samples, seed, m.missing.setdefault("training", []))
    step("serving")
    m.serving = _answers(cat, asks["serve-70b"], samples, seed, m.missing.setdefault("serving", []))
    step("decode")
    decode_answers = [(k, cid, answer(cat, asks[k].question(cid))) for k in MOE_ASKS for cid in asks[k].chips]
    step("accuracy")
    m.predictions = predictions(cat)
    m.errors = claims.model_errors(m.predictions)
    m.decode = [Decode(k, cid, a, _published(cat, m.predictions, asks[k].published, cid))
                for k, cid, a in decode_answers]
    step("systems")
    t = asks["train-70b"].question(asks["train-70b"].chips[0])
    train_rate = {c: float(np.median(a.samples.tokens_per_s)) / t.chips for c, a in m.training.items()}
    decode_rate = {d.chip: float(d.best.tokens_per_s_per_chip) for d in m.decode if d.best is not None}
    m.systems = system_metrics(cat, SYSTEMS, train_rate, decode_rate, REGION, samples, seed)
    step("chips needed")
    if H in m.training:
        m.need_rate = float(np.median(m.training[H].samples.tokens_per_s))
        for cid in MATCH_CHIPS:
            m.chips_needed[cid] = train.chips_needed(cat, t.model_copy(update={"chip": cid}), m.need_rate)
    step("costs")
    _costs(m)
    step("cpus")
    m.cpus = [cpu_decode(cat, c, CPU_MODEL, p) for c in CPU_CHIPS for p in ("bf16", "int4")]
    step("export controls")
    m.export = export_overview(cat, samples, seed)
    step("supply")
    m.supply = supply_overview(cat, samples=samples, seed=seed)
    step("market")
    m.market, m.cloud = market_claims(cat), cloud_access(cat)
    step("unit cost")
    m.unit_cost = econ.chip_cost(cat, A, samples=samples, seed=seed)
    m.cost_curve = econ.cost_curve(cat, A)
    step("exposure")
    m.exposure, m.shock = chain.exposure(cat, country="CN"), chain.shock(cat, "no-hbm-imports")
    step("910d scenario")
    overlays = (sc.overlay(),) if sc else ()
    m.ascend_910d = run_scenario(read_scenario(SCENARIO_910D), catalog_dir, samples, seed, extra_overlays=overlays)
    step("user scenario")
    m.user = run_scenario(sc, catalog_dir, samples, seed) if sc else None
    step("sensitivity")
    m.sensitivity = _sensitivities(m)
    step("claims")
    m.claims = ledger(m)
    return m


def _answers(cat: Catalog, ask: Any, samples: int, seed: int, missing: list[str]) -> dict[str, Answer]:
    out = {}
    for cid in ask.chips:
        try:
            out[cid] = answer(cat, ask.question(cid, samples, seed))
        except ChipgapError as e:
            missing.append(f"{cid}: {e}")
    return out


def _costs(m: ReportModel) -> None:
    """Cost per chip-hour and per million tokens of each system, and the cost comparisons."""
    cat, missing = m.catalog, m.missing.setdefault("costs", [])
    rates = {c: float(a.spread(("tokens_per_s_per_chip",)).loc["tokens_per_s_per_chip", "p50"])
             for c, a in m.serving.items()}
    for sid in SYSTEMS:
        chip = cat.system(sid).chip
        try:
            m.tco[sid] = econ.tco(cat, sid, region=REGION, tokens_per_s_per_chip=rates.get(chip), samples=m.samples,
                                  seed=m.seed).set_index("quantile")
        except ChipgapError as e:
            missing.append(f"{sid}: {e}")
    base = m.tco.get(COST_SYSTEM)
    if base is None or "usd_per_million_tokens" not in base:
        return
    a_chip = cat.system(COST_SYSTEM).chip
    for rival in COST_RIVALS:
        other = m.tco.get(rival)
        if other is None or "usd_per_million_tokens" not in other:
            continue
        b_chip = cat.system(rival).chip
        ratio = Ratio(float(base.usd_per_million_tokens["P50"] / other.usd_per_million_tokens["P50"]),
                      float(base.usd_per_million_tokens["P10"] / other.usd_per_million_tokens["P90"]),
                      float(base.usd_per_million_tokens["P90"] / other.usd_per_million_tokens["P10"]),
                      # cost is inverse to the serving rate: the rival's rate error moves the ratio as
                      # 'a' would, the system's own as 'b'
                      m.error("serving", b_chip), m.error("serving", a_chip))
        price = cat.system(COST_SYSTEM).price_usd.point
        flip = econ.price_at_cost(base.loc["P50"], rates[a_chip], float(other.usd_per_million_tokens["P50"]), price)
        m.costs.append(CostComparison(cat.system(rival).name, ratio,
                                      cat.system(COST_SYSTEM).price_basis or "not stated",
                                      cat.system(rival).price_basis or "not stated", flip, rival))


def _label(cat: Catalog) -> Callable[[str], str]:
    from chipgap.text import field_label

    def label(key: str) -> str:
        if key.startswith("supply."):
            return input_label(cat, key)
        rid, _, f = key.rpartition(".")
        if rid == "assumption":
            return f.replace("-", " ")
        for kind, name in (("chip", lambda r: r.name), ("system", lambda r: r.name),
                           ("chip_cost", lambda r: f"{cat.chip(r.chip).name} cost inputs"),
                           ("node", lambda r: f"process {r.id}")):
            try:
                return f"{name(cat.get(kind, rid))}: {field_label(f)}"
            except ChipgapError:
                continue
        return f"{rid}: {field_label(f)}"
    return label


def _sensitivities(m: ReportModel) -> dict[str, Sensitivity]:
    """Tornadoes of the headline answers: training and decode 910C / H100, CM384 / NVL72
    training tokens per kJ, the 910C's break-even die yield against the reported 40%, CM384 /
    HGX H100 cost per token, 910D / H100 training (under the scenario), the Zhaoxin's single
    stream, and supply.

    Supply is claim 8's comparison: China's domestic output in H100-equivalents by spec in 2026
    minus 2025 (`SUPPLY_YEARS`), both years evaluated from the same draw (2026 starts from the die
    bank and HBM stockpile 2025 left, so 2025's inputs move both). Its line is 0: the verdict
    ("domestic compute grows year on year") flips where 2026's output falls to 2025's. No model
    error bar: the supply model rations sourced volumes by sourced capacities and has no
    calibrated error."""
    cat, out, label = m.catalog, {}, _label(m.catalog)

    def pair(a: Answer, b: Answer, metric: str, cat_: Catalog = cat) -> Callable:
        return lambda draw: resample(cat_, a, draw)[metric].to_numpy() / resample(cat_, b, draw)[metric].to_numpy()

    if A in m.training and H in m.training:
        r = m.ratio("training", A, H, "tokens_per_s", m.training)
        out["training"] = tornado(pair(m.training[A], m.training[H], "tokens_per_s"), 1.0, "training",
                                  label, r.factors(), "model error (Ascend and Hopper training)")
    da, dh = m.decode_of(A), m.decode_of(H)
    if da is not None and dh is not None and da.best is not None and dh.best is not None:
        r = Ratio(1, 1, 1, m.error("serving", A), m.error("serving", H))
        out["decode"] = tornado(pair(da.answer, dh.answer, "tokens_per_s_per_chip"), 1.0, "decode", label,
                                r.factors(), "model error (Ascend and Hopper serving)")
    cm, nvl = "huawei-cloudmatrix-384", "nvidia-gb200-nvl72"
    a_chip, b_chip = cat.system(cm).chip, cat.system(nvl).chip
    if a_chip in m.training and b_chip in m.training:
        def per_kj(draw: Any) -> np.ndarray:
            out_ = []
            for sid, chip in ((cm, a_chip), (nvl, b_chip)):
                rate = resample(cat, m.training[chip], draw).tokens_per_s.to_numpy()
                out_.append(rate * cat.system(sid).chip_count.point / it_power_kw(cat, sid, draw)[0])
            return out_[0] / out_[1]

        r = Ratio(1, 1, 1, m.error("training", a_chip), m.error("training", b_chip))
        out["clustering"] = tornado(per_kj, 1.0, "clustering", label, r.factors(),
                                    "model error (Ascend and Blackwell training)")
    if m.unit_cost is not None and not m.unit_cost.break_even_yield.isna().all():
        out["unit-cost"] = tornado(lambda draw: econ.break_even_draws(cat, A, draw), 0.4, "unit-cost", label)
    rival = COST_RIVALS[0]
    if COST_SYSTEM in m.tco and rival in m.tco and m.costs:
        a_chip, b_chip = cat.system(COST_SYSTEM).chip, cat.system(rival).chip

        def cost(draw: Any) -> np.ndarray:
            per = {}
            for sid, chip in ((COST_SYSTEM, a_chip), (rival, b_chip)):
                rate = resample(cat, m.serving[chip], draw).tokens_per_s_per_chip.to_numpy()
                per[sid] = econ.tco_draws(cat, sid, draw, REGION, tokens_per_s_per_chip=rate)["usd_per_million_tokens"]
            return per[COST_SYSTEM] / per[rival]

        out["cost"] = tornado(cost, 1.0, "cost", label, m.costs[0].ratio.factors(),
                              "model error (serving rates)")
    res = m.ascend_910d
    if res is not None:
        q = next((x for x in res.scenario.questions if x.id == "train-llama-70b"), None)
        if q is not None:
            try:
                a, b = (answer(res.catalog, q.question(c)) for c in ("huawei-ascend-910d", H))
                r = Ratio(1, 1, 1, m.error("training", "huawei-ascend-910d"), m.error("training", H))
                out["910d"] = tornado(pair(a, b, "tokens_per_s", res.catalog), 1.0, "910d", _label(res.catalog),
                                      r.factors(), "model error (Ascend and Hopper training)")
            except ChipgapError:
                pass
    if m.supply is not None and all(sid in m.supply.lines for sid in SUPPLY_YEARS):
        before, after = SUPPLY_YEARS
        out["supply"] = tornado(lambda draw: domestic_h100_equivalents_draws(cat, after, draw)
                                - domestic_h100_equivalents_draws(cat, before, draw), 0.0, "supply", label)
    z = next((c for c in m.cpus if c["cpu"] == CPU_CHIPS[0] and c["precision"] == "int4"), None)
    if z is not None:
        e = m.error("serving", CPU_CHIPS[0])
        f = e.fraction if e else 0.0
        out["cpu"] = tornado(lambda draw: single_stream_draws(cat, z["question"], draw),
                             claims.READABLE_TOKENS_PER_S, "cpu", label, (1 / (1 + f), 1 / (1 - f)),
                             "model error (CPU serving)")
    return out


def ledger(m: ReportModel) -> list[ClaimVerdict]:
    """One verdict per article claim, each by its rule in `chipgap.analyses.claims`."""
    cat = m.catalog
    st = m.export.status
    controlled = {(r.chip, r.rule): (math.nan if r.probability_controlled is None else float(r.probability_controlled))
                  for r in st.itertuples()}
    h = m.export.at_h100_die.set_index("rule")
    latest = list(dict.fromkeys(st.rule))[-1]
    tpp = st.drop_duplicates("chip").set_index("chip").tpp
    free = [c for c, r in DESIGNED_FOR.items() if controlled.get((c, r)) == 0]
    out = [claims.claim_1(controlled, RULES, controlled.get(("nvidia-h20", "2023-10"), math.nan)),
           claims.claim_2(free, list(DESIGNED_FOR), float(tpp.get("nvidia-h20", math.nan)),
                          float(h.loc[latest, "max_tpp"]))]
    r = m.spec_ratios.loc["memory_bw_gbps"]
    bw = Ratio(float(r.ratio_point), float(r.ratio_low), float(r.ratio_high))
    t = report_asks()["train-70b"].question(A)
    basis = ", ".join(f"{cat.chip(c).name} {m.training[c].setup.efficiency_basis}" for c in (A, H) if c in m.training)
    out.append(claims.claim_3(bw, m.ratio("training", A, H, "tokens_per_s", m.training),
                              m.ratio("training", A, H, "mfu", m.training), t.model, basis))
    out.append(claims.claim_4(*_system_ratios(m), _chips_needed(m, A), MATCH_H100S, t.model))
    out.append(claims.claim_5(*_910d_ratios(m), "the 910D's dies, clocks, memory and links are a rumour (a "
                                                "four-die package, TrendForce/WSJ and a Huawei patent)."))
    uc = m.unit_cost
    out.append(claims.claim_6(*_unit_cost_numbers(uc)))
    price = cat.system(COST_SYSTEM).price_usd
    out.append(claims.claim_7(cat.system(COST_SYSTEM).name, report_asks()["serve-70b"].question(A).model, m.costs,
                              price.point if price else math.nan))
    out.append(claims.claim_8(*_supply_numbers(m), _market_verdict(m, "cloud-access-nvidia")))
    z = next((c for c in m.cpus if c["cpu"] == CPU_CHIPS[0] and c["precision"] == "int4"), None)
    out.append(claims.claim_9(z["single_stream_tokens_per_s"] if z else math.nan, m.error("serving", CPU_CHIPS[0]),
                              CPU_MODEL, cat.chip(CPU_CHIPS[0]).name,
                              "; ".join(z["assumptions"]) if z else ""))
    growth = m.market[m.market.claim_id == "ai-spending-growth-25pct"] if m.market is not None else pd.DataFrame()
    detail = growth.tests.iloc[0][0]["detail"] if len(growth) and growth.tests.iloc[0] else ""
    out.append(claims.claim_10(growth.verdict.iloc[0] if len(growth) else None, detail,
                               float(m.shock.chip.nunique()) if m.shock is not None else math.nan))
    return out


def _chips_needed(m: ReportModel, chip: str) -> float | None:
    df = m.chips_needed.get(chip)
    if df is None:
        return None
    ok = df[df.reaches]
    return float(ok.chips.iloc[0]) if len(ok) else None


def _system_ratios(m: ReportModel) -> tuple[Ratio, Ratio, Ratio | None]:
    s = m.systems.set_index("system")
    a, b = "huawei-cloudmatrix-384", "nvidia-gb200-nvl72"
    ea, eb = m.error("training", s.loc[a, "chip"]), m.error("training", s.loc[b, "chip"])
    ta = m.training.get(s.loc[a, "chip"])
    tb = m.training.get(s.loc[b, "chip"])
    if ta is None or tb is None:
        nan = Ratio(math.nan, math.nan, math.nan)
        return nan, nan, None
    n = s.loc[a, "chips"] / s.loc[b, "chips"]
    system = Ratio.of(ta.samples.tokens_per_s * n, tb.samples.tokens_per_s, ea, eb)
    per_kj = Ratio(s.loc[a, "train_tokens_per_kj"] / s.loc[b, "train_tokens_per_kj"],
                   s.loc[a, "train_tokens_per_kj_p10"] / s.loc[b, "train_tokens_per_kj_p90"],
                   s.loc[a, "train_tokens_per_kj_p90"] / s.loc[b, "train_tokens_per_kj_p10"], ea, eb)
    da, db = s.loc[a, "decode_tokens_per_s"], s.loc[b, "decode_tokens_per_s"]
    decode = Ratio(da / db, da / db, da / db, m.error("serving", s.loc[a, "chip"]),
                   m.error("serving", s.loc[b, "chip"])) if da == da and db == db else None
    return system, per_kj, decode


def _910d_ratios(m: ReportModel) -> tuple[Ratio | None, Ratio | None]:
    res = m.ascend_910d
    if res is None:
        return None, None
    out = []
    for qid, metric, kind in (("train-llama-70b", "tokens_per_s", "training"),
                              ("decode-llama-70b", "tokens_per_s_per_chip", "serving")):
        r = next((x for x in res.results if x.question.id == qid), None)
        d = "huawei-ascend-910d"
        if r is None or d not in r.samples or H not in r.samples:
            out.append(None)
            continue
        out.append(Ratio.of(r.samples[d][metric], r.samples[H][metric], m.error(kind, d), m.error(kind, H)))
    return out[0], out[1]


def unit_cost_cases(uc: pd.DataFrame) -> tuple[dict[int, pd.DataFrame], pd.DataFrame | None, str | None]:
    """The unit-cost table by yield (percent, rounded) and the latest achieved (not target) case."""
    by_yield = {round(100 * float(p.set_index("quantile").loc["P50", "die_yield"])): p.set_index("quantile")
                for _, p in uc.groupby("case", sort=False)}
    reported = [c for c in dict.fromkeys(uc.case) if not c.endswith("(target)")]
    latest = uc[uc.case == reported[-1]].set_index("quantile") if reported else None
    return by_yield, latest, reported[-1] if reported else None


def _unit_cost_numbers(uc: pd.DataFrame) -> tuple[float, float, float, float, float]:
    by_yield, latest, _ = unit_cost_cases(uc)

    def cost(y: int) -> float:
        return float(by_yield[y].loc["P50", "cost_per_chip_usd"]) if y in by_yield else math.nan

    def val(q: str, col: str) -> float:
        return math.nan if latest is None or latest.loc[q, col] is None else float(latest.loc[q, col])

    return (cost(20), cost(40), val("P50", "break_even_yield"), val("P90", "break_even_yield"),
            val("P50", "gross_margin"))


def supply_p50(df: pd.DataFrame, line: str, col: str) -> float:
    """The P50 of ``col`` on ``line`` of a `chipgap.analyses.supply.supply` table (NaN if absent)."""
    part = df[(df.line == line) & (df["quantile"] == "P50")][col]
    return float(part.iloc[0]) if len(part) and part.iloc[0] is not None else math.nan


def _supply_numbers(m: ReportModel) -> tuple[float, float, float, float]:
    lines = m.supply.lines
    get = lambda sid, line, col: supply_p50(lines[sid], line, col) if sid in lines else math.nan  # noqa: E731
    before, after = SUPPLY_YEARS
    return (get(before, "total domestic", "h100_equivalents_spec"),
            get(after, "total domestic", "h100_equivalents_spec"),
            get(after, "total all", "chips"), get("china-2026-hbm-cutoff", "total all", "chips"))


def _market_verdict(m: ReportModel, claim_id: str) -> str | None:
    part = m.market[m.market.claim_id == claim_id] if m.market is not None else pd.DataFrame()
    return part.verdict.iloc[0] if len(part) else None
