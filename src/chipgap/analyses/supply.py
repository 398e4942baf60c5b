"""How much AI compute a supply scenario yields, what binds it, and how that compares with the
published estimates.

A scenario's lines carry the volumes the sources report; its capacities (die bank, advanced-node
wafers, HBM stockpile and domestic output, packaging) are sourced apart, so which input binds is
computed, not assumed (see `chipgap.models.supply`). A scenario with ``carry_from`` starts from
the die bank and HBM stockpile the previous year's scenario left, sample by sample.

Two H100-equivalent measures, labelled apart: ``spec`` divides dense BF16 peak by the H100 SXM's;
``workload`` divides the best training throughput of a reference job (Llama 3.1 70B, 4K context,
1,024 chips) by the H100's on the same job, from the training model. A line whose chip the
catalog lacks counts in chips, not in compute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from chipgap.analyses.answer import answer
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.question import TrainQuestion
from chipgap.catalog.schema import Chip
from chipgap.catalog.supply import ProductionLine, SupplyEstimate, SupplyScenario
from chipgap.errors import InputError
from chipgap.models import supply as sm
from chipgap.models import wafer
from chipgap.models.sampling import Draw, Sampler

QUANTILES = (0.1, 0.5, 0.9)
REFERENCE_JOB = ("llama-3.1-70b", 4096, 1024, 1024)  # model, seq_len, global batch, chips
H100 = "nvidia-h100-sxm"
WAFER_MM, EDGE_MM, SCRIBE_MM = 300.0, 3.0, 0.1
"""Gross dies per wafer: a 300 mm wafer, 3 mm edge exclusion, 0.1 mm scribe (de Vries 2005)."""


@lru_cache(maxsize=256)
def workload_h100_equivalent(catalog: Catalog, chip: str) -> float:
    """Tokens/s per chip of the reference training job relative to the H100's (NaN if the
    model cannot place the job on the chip)."""
    model, seq, batch, chips = REFERENCE_JOB

    def rate(c: str) -> float:
        best = answer(catalog, TrainQuestion(model=model, chip=c, chips=chips, seq_len=seq,
                                             global_batch=batch)).best(1)
        return float(best.tokens_per_s[0]) if len(best) else np.nan

    try:
        return rate(chip) / rate(H100)
    except InputError:
        return np.nan


def _line_yield(catalog: Catalog, chip: Chip, draw: Sampler, line: ProductionLine) -> np.ndarray:
    if line.die_yield is not None:
        return draw(line.die_yield, f"supply.{chip.id}.die_yield")
    cost = catalog.chip_cost(chip.id)
    reported = [r for r in (cost.yields if cost else ()) if r.kind == "reported"]
    if reported:  # the latest achieved yield, never a target
        return draw(max(reported, key=lambda r: r.date).value, f"supply.{chip.id}.die_yield")
    node = catalog.node(chip.process_node) if chip.process_node else None
    if node is None or node.d0_per_cm2 is None:
        raise InputError("supply line", "a chip with a die yield, a reported yield or a node defect density",
                         chip.id)
    return wafer.die_yield(chip.compute_die_area_mm2.point, draw(node.d0_per_cm2, f"{node.id}.d0_per_cm2"))


@dataclass
class SupplyRun:
    """One scenario evaluated over Monte-Carlo samples: per-line arrays and the inputs' balance.

    Attributes
    ----------
    scenario : SupplyScenario
    chips : list of Chip or None
        Each line's catalog chip (None for a designer's line the catalog has no chip for).
    plan, made : ndarray of shape (line, sample)
        Reported volumes and the chips the capacities let them become.
    binding : ndarray of int, shape (sample,)
        Index into `chipgap.models.supply.BINDING`.
    balance : dict of str to ndarray
        `chipgap.models.supply.constrain`'s needs, losses and uses, shape (sample,).
    capacity : dict of str to ndarray or None
        ``wafers``, ``die bank``, ``hbm``, ``packaging`` per sample; None where not modelled.
    imports : list of (Chip, ndarray)
    bank_left, stockpile_left : ndarray of shape (sample,) or None
        What the year leaves for the next (`SupplyScenario.carry_from`).
    """

    scenario: SupplyScenario
    chips: list
    plan: np.ndarray
    made: np.ndarray
    binding: np.ndarray
    balance: dict
    capacity: dict
    imports: list = field(default_factory=list)
    bank_left: np.ndarray | None = None
    stockpile_left: np.ndarray | None = None


def evaluate(catalog: Catalog, scenario: str | SupplyScenario, samples: int = 4000, seed: int = 0) -> SupplyRun:
    """Evaluate a supply scenario's lines against its capacities (see the module docstring), over
    ``samples`` Monte-Carlo draws (`evaluate_draws` with a `Sampler`)."""
    return evaluate_draws(catalog, scenario, Sampler(samples, seed))


def evaluate_draws(catalog: Catalog, scenario: str | SupplyScenario, draw: Draw,
                   _chain: tuple[str, ...] = ()) -> SupplyRun:
    """`evaluate` with the ranged inputs drawn by ``draw`` (a `chipgap.models.sampling.Draw` with
    ``.n`` cases: a `Sampler`, or `chipgap.analyses.sensitivity`'s one-input-at-a-time draws). A
    ``carry_from`` scenario is evaluated with the same draw, so its inputs are inputs here too."""
    sc = scenario if isinstance(scenario, SupplyScenario) else catalog.supply(scenario)
    n, year = draw.n, sc.year
    prev = None
    if sc.carry_from is not None:
        if sc.carry_from in _chain or sc.carry_from == sc.id:
            raise InputError("carry_from", "a chain of earlier scenarios without a loop", sc.carry_from)
        prev = evaluate_draws(catalog, sc.carry_from, draw, (*_chain, sc.id))
        if prev.scenario.year >= year:
            raise InputError("carry_from", f"a scenario of a year before {year}", sc.carry_from)
    pool_nodes = set(sc.wafer_capacity.nodes) if sc.wafer_capacity else set()
    bank_chips = set(sc.die_bank.chips) if sc.die_bank else set()
    recs, cols = [], {k: [] for k in ("plan", "dies", "wpd", "pool", "access", "bank", "stacks")}
    for line in sc.lines:
        chip = catalog.chip(line.chip) if line.chip else None
        recs.append(chip)
        dies = np.round(draw(chip.compute_die_count, f"{chip.id}.compute_die_count")) \
            if chip is not None and chip.compute_die_count else np.ones(n)
        area = draw(chip.compute_die_area_mm2, f"{chip.id}.compute_die_area_mm2") \
            if chip is not None and chip.compute_die_area_mm2 else None
        if line.wafers_per_year is not None:                 # a wafer allocation: its own capacity
            if area is None:
                raise InputError("supply line", "a chip with a die area for a wafer allocation", chip.id)
            gross = wafer.gross_dies_per_wafer(area, WAFER_MM, EDGE_MM, SCRIBE_MM)
            wafers = draw(line.wafers_per_year, f"supply.{year}.{chip.id}.wafers_per_year") * line.wafer_access
            plan, wpd, pool = sm.packages_from_wafers(wafers, gross, _line_yield(catalog, chip, draw, line), dies), \
                np.zeros(n), False
        else:
            plan = draw(line.chips_per_year, f"supply.{year}.{line.label}.chips_per_year")
            pool = chip is not None and area is not None and chip.process_node in pool_nodes
            wpd = 1.0 / (wafer.gross_dies_per_wafer(area, WAFER_MM, EDGE_MM, SCRIBE_MM)
                         * _line_yield(catalog, chip, draw, line)) if pool else np.zeros(n)
        for k, v in (("plan", plan), ("dies", dies), ("wpd", wpd), ("pool", pool), ("access", line.wafer_access),
                     ("bank", line.wafers_per_year is None and line.chip in bank_chips),
                     ("stacks", chip.hbm_stacks.point if chip is not None and chip.hbm_stacks else 0.0)):
            cols[k].append(v)
    inf = np.full(n, np.inf)
    cap_wafers = draw(sc.wafer_capacity.wafers_per_year, f"supply.{year}.wafer_capacity") \
        if sc.wafer_capacity is not None else None
    bank = None
    if sc.die_bank is not None:
        bank = draw(sc.die_bank.dies, f"supply.{year}.die_bank") if sc.die_bank.dies is not None else \
            (prev.bank_left if prev is not None and prev.bank_left is not None else np.zeros(n))
    if sc.hbm_stacks is not None:
        stock, domestic = draw(sc.hbm_stacks, f"supply.{year}.hbm_stacks"), np.zeros(n)
    else:
        stock = draw(sc.hbm_stockpile_stacks, f"supply.{year}.hbm_stockpile") if sc.hbm_stockpile_stacks is not None else \
            prev.stockpile_left if prev is not None and prev.stockpile_left is not None else None
        domestic = draw(sc.hbm_domestic_stacks, f"supply.{year}.hbm_domestic") \
            if sc.hbm_domestic_stacks is not None else np.zeros(n)
        if stock is None and sc.hbm_domestic_stacks is not None:
            stock = np.zeros(n)
    hbm = stock + domestic if stock is not None else None
    pack = draw(sc.packaging_chips, f"supply.{year}.packaging_chips") if sc.packaging_chips is not None else None
    col = lambda k: np.array(cols[k], dtype=float)[:, None]  # noqa: E731  (line, 1)
    plan = np.stack([np.broadcast_to(p, (n,)) for p in cols["plan"]])                  # (line, sample)
    res = sm.constrain(plan, np.stack(cols["dies"]), np.stack([np.broadcast_to(w, (n,)) for w in cols["wpd"]]),
                       col("pool") > 0, col("access"), inf if cap_wafers is None else cap_wafers,
                       col("bank") > 0, np.zeros(n) if bank is None else bank, col("stacks"),
                       inf if hbm is None else hbm, inf if pack is None else pack)
    binding = res["binding"]
    if any(ln.wafers_per_year is not None for ln in sc.lines):  # an allocation binds when nothing else does
        binding = np.where(binding == 0, 1, binding)
    imports = [(catalog.chip(imp.chip), draw(imp.units, f"supply.{year}.{imp.chip}.import_units"))
               for imp in sc.imports]
    return SupplyRun(sc, recs, plan, res["chips"], binding, res,
                     {"wafers": cap_wafers, "die bank": bank, "hbm": hbm, "packaging": pack}, imports,
                     None if bank is None else bank - res["used_bank"],
                     None if hbm is None else np.maximum(0.0, (stock if stock is not None else hbm) - res["used_hbm"]))


_CAPACITY_LABELS = {"wafer_capacity": "advanced-node wafers per year", "die_bank": "die bank (dies)",
                    "hbm_stacks": "HBM stacks", "hbm_stockpile": "HBM stockpile (stacks)",
                    "hbm_domestic": "domestic HBM output (stacks)", "packaging_chips": "packaging capacity (packages)"}
_LINE_LABELS = {"chips_per_year": "volume (chips)", "wafers_per_year": "wafer allocation (wafers)",
                "import_units": "imports (chips)"}


def input_label(catalog: Catalog, key: str) -> str:
    """A supply input's key, as `evaluate_draws` draws it, in words.

    >>> from chipgap.catalog.load import load_catalog
    >>> cat = load_catalog()
    >>> input_label(cat, "supply.2025.huawei-ascend-910c.chips_per_year"), input_label(cat, "supply.2024.die_bank")
    ('2025 Huawei Ascend 910C volume (chips)', '2024 die bank (dies)')
    """
    parts = key.split(".")
    if len(parts) == 3 and parts[2] in _CAPACITY_LABELS:                     # supply.YEAR.CAPACITY
        return f"{parts[1]} {_CAPACITY_LABELS[parts[2]]}"
    what, year, line = parts[-1], parts[1], ".".join(parts[2:-1])

    def name(ref: str) -> str:
        chip = catalog.chips.get(ref)
        return chip.name if chip is not None else ref

    if what in _LINE_LABELS and line:                                        # supply.YEAR.LINE.FIELD
        return f"{year} {name(line)} {_LINE_LABELS[what]}"
    if len(parts) == 3 and what == "die_yield":                              # supply.CHIP.die_yield
        return f"{name(parts[1])} die yield"
    return key


def _binding_text(binding: np.ndarray) -> str:
    counts = np.bincount(binding, minlength=len(sm.BINDING))
    return f"{sm.BINDING[int(np.argmax(counts))]} ({counts.max() / len(binding):.0%} of samples)"


def supply(catalog: Catalog, scenario: str | SupplyScenario, samples: int = 4000, seed: int = 0,
           workload_equivalents: bool = True) -> pd.DataFrame:
    """Chips and compute a supply scenario yields, per line and in total, P10 / P50 / P90.

    Parameters
    ----------
    catalog : Catalog
    scenario : str or SupplyScenario
        Supply scenario id (``china-2025-base``), or a scenario record (one `shocked` made).
    samples, seed : int
        Monte-Carlo draws of the ranged inputs.
    workload_equivalents : bool, default=True
        Also compute the workload-based H100-equivalents (one training search per chip type).

    Returns
    -------
    DataFrame
        One row per (line, quantile) plus ``total`` rows: ``line, kind`` (domestic or import),
        ``chip, designer, quantile, planned_chips`` (the reported volume), ``chips, bf16_pflops,
        h100_equivalents_spec, h100_equivalents_workload, binding_constraint`` (the input that
        removed the most chips in most samples, and its share of samples; ``volumes`` when no
        modelled capacity removed any). Compute columns count only lines with a public BF16 peak.
    """
    draw = Sampler(samples, seed)
    run = evaluate_draws(catalog, scenario, draw)
    n, bind = samples, _binding_text(run.binding)
    per_line = [(ln.label, chip, ln.designer or (chip.vendor if chip else ""), run.plan[i], run.made[i], "domestic")
                for i, (ln, chip) in enumerate(zip(run.scenario.lines, run.chips))]
    per_line += [(chip.id, chip, chip.vendor, units, units, "import") for chip, units in run.imports]
    totals = {k: {c: np.zeros(n) for c in ("plan", "chips", "pflops", "spec", "work")}
              for k in ("domestic", "import", "all")}
    rows = []
    for label, chip, designer, plan, count, kind in per_line:
        pflops, spec = _bf16_compute(catalog, chip, count, draw)
        work = workload_h100_equivalent(catalog, chip.id) if workload_equivalents and chip else np.nan
        values = {"plan": plan, "chips": count, "pflops": pflops, "spec": spec, "work": count * work}
        for k in (kind, "all"):
            for key, v in values.items():
                totals[k][key] = totals[k][key] + np.nan_to_num(v)
        rows += _quantile_rows(label, kind, chip.id if chip else "", designer, values,
                               bind if kind == "domestic" else "")
    for kind in ("domestic", "import", "all"):
        t = totals[kind]
        if not workload_equivalents:
            t["work"] = np.full(n, np.nan)
        rows += _quantile_rows(f"total {kind}", kind, "", "", t, bind if kind != "import" else "")
    return pd.DataFrame(rows)


def _bf16_compute(catalog: Catalog, chip: Chip | None, count: np.ndarray,
                  draw: Draw) -> tuple[np.ndarray, np.ndarray]:
    """Dense BF16 PFLOPS and H100-equivalents by spec (dense BF16 peak over the H100 SXM's) of
    ``count`` chips, per draw; NaN for a chip without a public BF16 peak."""
    tflops = draw(chip.bf16_dense_tflops, f"{chip.id}.bf16_dense_tflops") if chip and chip.bf16_dense_tflops \
        else np.full(draw.n, np.nan)
    return count * tflops / 1e3, count * tflops / catalog.chip(H100).bf16_dense_tflops.point


def domestic_h100_equivalents_draws(catalog: Catalog, scenario: str | SupplyScenario, draw: Draw) -> np.ndarray:
    """A scenario's domestic output in H100-equivalents by spec, per case of ``draw``: the
    ``total domestic`` line's ``h100_equivalents_spec`` of `supply` before its quantiles (lines
    whose chip has no public BF16 peak count zero).

    Returns
    -------
    ndarray of shape (draw.n,)
    """
    run = evaluate_draws(catalog, scenario, draw)
    total = np.zeros(draw.n)
    for chip, count in zip(run.chips, run.made):
        total = total + np.nan_to_num(_bf16_compute(catalog, chip, count, draw)[1])
    return total


def _quantile_rows(line: str, kind: str, chip: str, designer: str, values: dict, binding: str) -> list[dict]:
    q = lambda v, p: float(np.nanquantile(v, p)) if np.isfinite(v).any() else None  # noqa: E731
    return [{"line": line, "kind": kind, "chip": chip, "designer": designer, "quantile": f"P{int(p * 100)}",
             "planned_chips": q(values["plan"], p), "chips": q(values["chips"], p),
             "bf16_pflops": q(values["pflops"], p), "h100_equivalents_spec": q(values["spec"], p),
             "h100_equivalents_workload": q(values["work"], p), "binding_constraint": binding} for p in QUANTILES]


INPUTS = (("die bank", "need_bank", "used_bank", None), ("wafers", "need_wafers", None, "lost_wafers"),
          ("hbm", "need_hbm", "used_hbm", "lost_hbm"), ("packaging", "need_packaging", None, "lost_packaging"))


def supply_inputs(catalog: Catalog, scenario: str | SupplyScenario, samples: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Each input's need against its capacity in a supply scenario, P10 / P50 / P90.

    Returns
    -------
    DataFrame
        One row per input (``die bank`` in dies, ``wafers`` per year, ``hbm`` in stacks,
        ``packaging`` in packages): ``need_p10, need_p50, need_p90`` (what the reported volumes
        would use; wafers only for the dies the bank does not cover), ``capacity_p10,
        capacity_p50, capacity_p90`` (NaN where the scenario models no such capacity),
        ``need_over_capacity_p50``, ``chips_lost_p50`` (chips the input removed),
        ``binds_share`` (share of samples in which it binds), and ``left_p50`` (dies or
        stockpiled stacks left for the next year).
    """
    run = evaluate(catalog, scenario, samples, seed)
    rows = []
    qs = lambda v: [float(np.quantile(v, p)) for p in QUANTILES] if v is not None else [np.nan] * 3  # noqa: E731
    for name, need_key, _, lost_key in INPUTS:
        need, cap = run.balance[need_key], run.capacity[name]
        left = {"die bank": run.bank_left, "hbm": run.stockpile_left}.get(name)
        index = sm.BINDING.index(name) if name in sm.BINDING else None
        rows.append({"input": name, **dict(zip(("need_p10", "need_p50", "need_p90"), qs(need))),
                     **dict(zip(("capacity_p10", "capacity_p50", "capacity_p90"), qs(cap))),
                     "need_over_capacity_p50": float(np.median(np.where(
                         cap > 0, need / np.where(cap > 0, cap, 1.0), np.where(need > 0, np.inf, 0.0))))
                     if cap is not None else np.nan,
                     "chips_lost_p50": float(np.median(run.balance[lost_key])) if lost_key else 0.0,
                     "binds_share": float(np.mean(run.binding == index)) if index is not None else 0.0,
                     "left_p50": float(np.median(left)) if left is not None else np.nan})
    return pd.DataFrame(rows)


def _estimate_scope(est: SupplyEstimate, run: SupplyRun) -> np.ndarray:
    """Which domestic lines an estimate counts, as a boolean mask over lines."""
    if est.scope in ("domestic", "domestic_share"):
        return np.ones(len(run.chips), dtype=bool)
    if est.scope == "chips":
        return np.array([ln.chip in est.chips for ln in run.scenario.lines])
    return np.array([(ln.designer or (c.vendor if c else None)) in est.designers
                     for ln, c in zip(run.scenario.lines, run.chips)])


def compare_estimates(catalog: Catalog, samples: int = 4000, seed: int = 0,
                      scenario_of_year: dict[int, str] | None = None) -> pd.DataFrame:
    """The model's output beside each published estimate of the same year and scope.

    Parameters
    ----------
    catalog : Catalog
    samples, seed : int
    scenario_of_year : dict of int to str, optional
        The scenario compared for each year; default the ``*-base`` scenario of that year.

    Returns
    -------
    DataFrame
        One row per `SupplyEstimate`: ``estimate, publisher, date, year, scope, basis,
        published`` (its point), ``published_low, published_high, comparator, model_p10,
        model_p50, model_p90`` (chips, or a fraction for ``domestic_share``), ``scenario``,
        ``input`` (True when a source of the estimate also feeds the scenario's lines: agreement
        there is partly by construction) and ``agreement`` (``within``: the published range or
        bound meets the model's P10-P90; else ``model higher`` or ``model lower``).
    """
    chosen = scenario_of_year or {s.year: s.id for s in sorted(catalog.supply_scenarios.values(), key=lambda s: s.id)
                                  if s.id.endswith("-base")}
    runs: dict[str, SupplyRun] = {}
    rows = []
    for est in catalog.supply_estimates.values():
        sid = chosen.get(est.year)
        if sid is None:
            continue
        run = runs.setdefault(sid, evaluate(catalog, sid, samples, seed))
        mask = _estimate_scope(est, run)
        if est.scope == "domestic_share":
            dom = run.made.sum(axis=0)
            imports = sum((u for _, u in run.imports), np.zeros(samples))
            model = dom / (dom + imports)
        else:
            model = run.made[mask].sum(axis=0)
        p10, p50, p90 = (float(np.quantile(model, p)) for p in QUANTILES)
        lo, hi = est.value.bounds
        if est.comparator in (">", ">="):
            hi = np.inf
        elif est.comparator in ("<", "<="):
            lo = 0.0
        agreement = "within" if p90 >= lo and p10 <= hi else "model higher" if p10 > hi else "model lower"
        line_sources = {s for ln in run.scenario.lines
                        for q in (ln.chips_per_year, ln.wafers_per_year) if q is not None for s in q.source}
        dates = [catalog.source(s).date for s in est.value.source if catalog.source(s).date]
        rows.append({"estimate": est.id, "publisher": est.publisher, "date": max(dates) if dates else "",
                     "year": est.year, "scope": _scope_text(est), "basis": est.basis, "published": est.value.point,
                     "published_low": est.value.bounds[0], "published_high": est.value.bounds[1],
                     "comparator": est.comparator, "model_p10": p10, "model_p50": p50, "model_p90": p90,
                     "scenario": sid, "input": bool(line_sources & set(est.value.source)), "agreement": agreement})
    return pd.DataFrame(rows)


def _scope_text(est: SupplyEstimate) -> str:
    return {"domestic": "all domestic lines", "domestic_share": "domestic share of all accelerators",
            "designers": ", ".join(est.designers), "chips": ", ".join(est.chips)}[est.scope]


def shocked(catalog: Catalog, scenario: str, shock_name: str, remaining: float = 0.0) -> SupplyScenario:
    """A supply scenario with a foundry or process node cut to ``remaining`` of its wafers.

    Parameters
    ----------
    catalog : Catalog
    scenario : str
        Supply scenario id.
    shock_name : str
        ``foundry:COMPANY`` or ``node:NODE`` (as `chipgap.analyses.chain.shock` takes): every
        line whose chip is made there gets at most ``remaining`` of the wafers it needs (a wafer
        allocation keeps ``remaining`` of its wafers). Dies already banked are not touched.
    remaining : float, default=0.0
        Fraction of the capacity left (0.5: "SMIC 7 nm capacity halves").

    Raises
    ------
    InputError
        For ``no-hbm-imports``: a scenario's HBM is a sourced stockpile and domestic output,
        so an HBM cut-off is a scenario of its own (``china-2026-hbm-cutoff``), not a shock
        applied here.
    """
    from chipgap.analyses.chain import shock

    if not 0 <= remaining <= 1:
        raise InputError("remaining", "a fraction of capacity in [0, 1]", remaining)
    if not shock_name.startswith(("foundry:", "node:")):
        raise InputError("shock", "foundry:COMPANY or node:NODE (for HBM, use an -hbm-cutoff supply scenario)",
                         shock_name)
    sc = catalog.supply(scenario)
    kind, _, target = shock_name.partition(":")
    # a line's wafers are of its chip's process node: a foundry shock reaches the lines whose node
    # that foundry runs (a second-source supplier entry, like TSMC dies in a 910C die bank, is not
    # in the line's wafers)
    on = {c: catalog.chip(c).process_node for c in set(shock(catalog, shock_name, sc.country).chip)}
    if kind == "foundry":
        company = catalog.resolve("company", target)
        hit = {c for c, n in on.items() if n and catalog.node(n).foundry == company}
    else:
        hit = set(on)
    note = f"{shock_name} keeps {remaining:.0%} of its wafers (shock)"

    def cut(line: ProductionLine) -> ProductionLine:
        return line.model_copy(update={"wafer_access": line.wafer_access * remaining})

    lines = tuple(cut(ln) if ln.chip in hit else ln for ln in sc.lines)
    return sc.model_copy(update={"id": f"{sc.id}+{shock_name}", "name": f"{sc.name}, {note}", "lines": lines})


def shock_effect(catalog: Catalog, scenario: str, shock_name: str, remaining: float = 0.0,
                 samples: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Supply before and after a foundry or node shock (see `shocked`), P10 / P50 / P90.

    Returns
    -------
    DataFrame
        One row per (kind, quantile) for the totals (``domestic``, ``all``): ``chips_before,
        chips_after, h100_equivalents_before, h100_equivalents_after`` (spec-based) and the
        binding input before and after.
    """
    before = supply(catalog, scenario, samples, seed, workload_equivalents=False)
    after = supply(catalog, shocked(catalog, scenario, shock_name, remaining), samples, seed,
                   workload_equivalents=False)
    rows = []
    for kind in ("domestic", "all"):
        b = before[before.line == f"total {kind}"].set_index("quantile")
        a = after[after.line == f"total {kind}"].set_index("quantile")
        for q in b.index:
            rows.append({"total": kind, "quantile": q, "chips_before": b.loc[q, "chips"],
                         "chips_after": a.loc[q, "chips"],
                         "h100_equivalents_before": b.loc[q, "h100_equivalents_spec"],
                         "h100_equivalents_after": a.loc[q, "h100_equivalents_spec"],
                         "binding_before": b.loc[q, "binding_constraint"],
                         "binding_after": a.loc[q, "binding_constraint"]})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SupplyOverview:
    """What the report's supply section shows, computed once.

    Attributes
    ----------
    lines : dict of str to DataFrame
        `supply` of each scenario, by id.
    inputs : dict of str to DataFrame
        `supply_inputs` of each scenario, by id.
    estimates : DataFrame
        `compare_estimates` against each year's base scenario.
    """

    lines: dict
    inputs: dict
    estimates: pd.DataFrame


def supply_overview(catalog: Catalog, scenarios: list[str] | None = None, samples: int = 4000,
                    seed: int = 0) -> SupplyOverview:
    """Lines, inputs and published estimates of the catalog's supply scenarios (default all, by year)."""
    ids = scenarios or sorted(catalog.supply_scenarios, key=lambda i: (catalog.supply(i).year, i))
    return SupplyOverview({s: supply(catalog, s, samples, seed) for s in ids},
                          {s: supply_inputs(catalog, s, samples, seed) for s in ids},
                          compare_estimates(catalog, samples, seed))


def scenario_for(catalog: Catalog, year: int | None = None, scenario: str | None = None) -> str:
    """The supply scenario to answer: ``scenario`` when given, else the base scenario of ``year``.

    Raises
    ------
    InputError
        When neither names one.
    """
    if scenario is not None:
        return catalog.resolve("scenario", scenario)
    matches = [s for s in catalog.supply_scenarios.values() if s.year == year and s.id.endswith("-base")]
    if not matches:
        years = ", ".join(sorted(str(s.year) for s in catalog.supply_scenarios.values()))
        raise InputError("--year / --scenario", f"a year with a base scenario ({years}) or a scenario id", year)
    return matches[0].id


@dataclass(frozen=True)
class SupplyAnswer:
    """One supply scenario answered: its lines and, when asked, its inputs and the published
    estimates of its year (None when not asked)."""

    scenario: str
    name: str
    year: int
    lines: pd.DataFrame
    inputs: pd.DataFrame | None
    estimates: pd.DataFrame | None

    @property
    def binding(self) -> str:
        """The input that binds the domestic lines (text with its share of samples)."""
        return self.lines[self.lines.line == "total domestic"].binding_constraint.iloc[0]

    def total(self) -> pd.Series:
        """The P50 row of all accelerators."""
        return self.lines[(self.lines.line == "total all") & (self.lines["quantile"] == "P50")].iloc[0]


def supply_answer(catalog: Catalog, year: int | None = None, scenario: str | None = None, samples: int = 4000,
                  seed: int = 0, views: tuple[str, ...] = ("lines",)) -> SupplyAnswer:
    """`chipgap supply`'s question: a scenario (or a year's base one) with the ``views`` asked
    ('lines' always; 'inputs': `supply_inputs`; 'estimates': `compare_estimates` for its year)."""
    sid = scenario_for(catalog, year, scenario)
    sc = catalog.supply(sid)
    return SupplyAnswer(sid, sc.name, sc.year, supply(catalog, sid, samples, seed),
                        supply_inputs(catalog, sid, samples, seed) if "inputs" in views else None,
                        compare_estimates(catalog, samples, seed, {sc.year: sid}) if "estimates" in views else None)
