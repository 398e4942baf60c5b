"""How much AI compute a supply scenario yields: chips, dense BF16 PFLOPS and H100-equivalents.

Two H100-equivalent measures, labelled apart: ``spec`` divides dense BF16 peak by the H100
SXM's; ``workload`` divides the best training throughput of a reference job (Llama 3.1 70B, 4K
context, 1,024 chips) by the H100's on the same job, from the training model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chipgap.analyses.answer import answer
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.question import TrainQuestion
from chipgap.catalog.supply import SupplyScenario
from chipgap.errors import InputError
from chipgap.models import supply as sm
from chipgap.models import wafer
from chipgap.models.sampling import Sampler

QUANTILES = (0.1, 0.5, 0.9)
REFERENCE_JOB = ("llama-3.1-70b", 4096, 1024, 1024)  # model, seq_len, global batch, chips
H100 = "nvidia-h100-sxm"


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


def _line_yield(catalog: Catalog, chip_id: str, draw: Sampler, line) -> np.ndarray:  # noqa: ANN001
    if line.die_yield is not None:
        return draw(line.die_yield, f"supply.{chip_id}.die_yield")
    cost = catalog.chip_cost(chip_id)
    reported = [r for r in (cost.yields if cost else ()) if r.kind == "reported"]
    if reported:  # the latest achieved yield, never a target
        return draw(max(reported, key=lambda r: r.date).value, f"supply.{chip_id}.die_yield")
    chip = catalog.chip(chip_id)
    node = catalog.node(chip.process_node) if chip.process_node else None
    if node is None or node.d0_per_cm2 is None:
        raise InputError("supply line", "a chip with a die yield, a reported yield or a node defect density",
                         chip_id)
    return wafer.die_yield(chip.compute_die_area_mm2.point, draw(node.d0_per_cm2, f"{node.id}.d0_per_cm2"))


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
        ``chip, quantile, chips, bf16_pflops, h100_equivalents_spec,
        h100_equivalents_workload, binding_constraint`` (the input binding in most samples,
        and its share of samples).
    """
    sc = scenario if isinstance(scenario, SupplyScenario) else catalog.supply(scenario)
    draw, n, year = Sampler(samples, seed), samples, sc.year
    lines = []
    for line in sc.lines:
        chip = catalog.chip(line.chip)
        if chip.compute_die_area_mm2 is None or chip.bf16_dense_tflops is None:
            raise InputError("supply line", "a chip with a die area and a bf16 peak", chip.id)
        area = draw(chip.compute_die_area_mm2, f"{chip.id}.compute_die_area_mm2")
        dies = np.round(draw(chip.compute_die_count, f"{chip.id}.compute_die_count")) if chip.compute_die_count \
            else np.ones(n)
        lines.append({"chip": chip, "dies": dies, "stacks": chip.hbm_stacks.point if chip.hbm_stacks else 0.0,
                      "packages": sm.packages_from_wafers(
                          draw(line.wafers_per_year, f"supply.{year}.{chip.id}.wafers_per_year"),
                          wafer.gross_dies_per_wafer(area, 300.0, 3.0, 0.1),
                          _line_yield(catalog, chip.id, draw, line), dies)})
    packages = np.stack([ln["packages"] for ln in lines])                 # (line, sample)
    stacks = np.array([[ln["stacks"]] for ln in lines])                   # (line, 1)
    hbm = draw(sc.hbm_stacks, f"supply.{year}.hbm_stacks") if sc.hbm_stacks else np.full(n, np.inf)
    pack = draw(sc.packaging_chips, f"supply.{year}.packaging_chips") if sc.packaging_chips else np.full(n, np.inf)
    chips, binding = sm.ration(packages, stacks, hbm, pack)
    counts = np.bincount(binding, minlength=len(sm.BINDING))
    bind = f"{sm.BINDING[int(np.argmax(counts))]} ({counts.max() / n:.0%} of samples)"

    per_line = [(ln["chip"], chips[i], "domestic") for i, ln in enumerate(lines)]
    per_line += [(catalog.chip(imp.chip), draw(imp.units, f"supply.{year}.{imp.chip}.import_units"), "import")
                 for imp in sc.imports]
    h100 = catalog.chip(H100).bf16_dense_tflops.point
    rows = []
    totals = {k: {"chips": np.zeros(n), "pflops": np.zeros(n), "spec": np.zeros(n), "work": np.zeros(n)}
              for k in ("domestic", "import", "all")}
    for chip, count, kind in per_line:
        tflops = draw(chip.bf16_dense_tflops, f"{chip.id}.bf16_dense_tflops")
        work = workload_h100_equivalent(catalog, chip.id) if workload_equivalents else np.nan
        values = {"chips": count, "pflops": count * tflops / 1e3, "spec": count * tflops / h100,
                  "work": count * work}
        for k in (kind, "all"):
            for key, v in values.items():
                totals[k][key] = totals[k][key] + v
        rows += _quantile_rows(chip.id, kind, chip.id, values, bind if kind == "domestic" else "")
    for kind in ("domestic", "import", "all"):
        rows += _quantile_rows(f"total {kind}", kind, "", totals[kind], bind if kind != "import" else "")
    return pd.DataFrame(rows)


def _quantile_rows(line: str, kind: str, chip: str, values: dict, binding: str) -> list[dict]:
    return [{"line": line, "kind": kind, "chip": chip, "quantile": f"P{int(q * 100)}",
             "chips": float(np.quantile(values["chips"], q)),
             "bf16_pflops": float(np.quantile(values["pflops"], q)),
             "h100_equivalents_spec": float(np.quantile(values["spec"], q)),
             "h100_equivalents_workload": float(np.nanquantile(values["work"], q))
             if np.isfinite(values["work"]).any() else None,
             "binding_constraint": binding} for q in QUANTILES]


def shocked(catalog: Catalog, scenario: str, shock_name: str, remaining: float = 0.0) -> SupplyScenario:
    """A supply scenario with a foundry or process node cut to ``remaining`` of its wafers.

    Parameters
    ----------
    catalog : Catalog
    scenario : str
        Supply scenario id.
    shock_name : str
        ``foundry:COMPANY`` or ``node:NODE`` (as `chipgap.analyses.chain.shock` takes): every
        line whose chip is made there keeps ``remaining`` of its wafers.
    remaining : float, default=0.0
        Fraction of the capacity left (0.5: "SMIC 7 nm capacity halves").

    Raises
    ------
    InputError
        For ``no-hbm-imports``: a scenario's HBM pool is one sourced total, not split into
        imports and domestic output, so an HBM cut-off is a scenario of its own
        (``china-2026-hbm-cutoff``), not a shock applied here.
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

    def cut(line):  # noqa: ANN001, ANN202
        q = line.wafers_per_year
        q = q.scaled(remaining, note) if remaining > 0 else q.model_copy(
            update={"value": 0.0, "low": None, "high": None, "mode": None, "dist": None, "note": note})
        return line.model_copy(update={"wafers_per_year": q})

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
