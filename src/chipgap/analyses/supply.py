"""How much AI compute a supply scenario yields: chips, dense BF16 PFLOPS and H100-equivalents.

Two H100-equivalent measures, labelled apart: ``spec`` divides dense BF16 peak by the H100
SXM's; ``workload`` divides the best training throughput of a reference job (Llama 3.1 70B, 4K
context, 1,024 chips) by the H100's on the same job, from the training model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chipgap.analyses.train import search, setup
from chipgap.catalog.catalog import Catalog
from chipgap.errors import InputError
from chipgap.models import supply as sm
from chipgap.models import wafer
from chipgap.models.sampling import sample_quantity

QUANTILES = (0.1, 0.5, 0.9)
REFERENCE_JOB = ("llama-3.1-70b", 4096, 1024, 1024)  # model, seq_len, global batch, chips
H100 = "nvidia-h100-sxm"


def workload_h100_equivalent(catalog: Catalog, chip: str) -> float:
    """Tokens/s per chip of the reference training job relative to the H100's (NaN if the
    model cannot place the job on the chip)."""
    model, seq, batch, chips = REFERENCE_JOB

    def rate(c: str) -> float:
        best, _ = search(setup(catalog, model, c, chips, seq, batch), top=1)
        return float(best.tokens_per_s[0]) if len(best) else np.nan

    try:
        return rate(chip) / rate(H100)
    except InputError:
        return np.nan


def _line_yield(catalog: Catalog, chip_id: str, n: int, rng: np.random.Generator, line) -> np.ndarray:  # noqa: ANN001
    if line.die_yield is not None:
        return sample_quantity(line.die_yield, n, rng)
    cost = catalog.chip_cost(chip_id)
    reported = [r for r in (cost.yields if cost else ()) if r.kind == "reported"]
    if reported:  # the latest achieved yield, never a target
        return sample_quantity(max(reported, key=lambda r: r.date).value, n, rng)
    chip = catalog.chip(chip_id)
    node = catalog.node(chip.process_node) if chip.process_node else None
    if node is None or node.d0_per_cm2 is None:
        raise InputError("supply line", "a chip with a die yield, a reported yield or a node defect density",
                         chip_id)
    return wafer.die_yield(chip.compute_die_area_mm2.point, sample_quantity(node.d0_per_cm2, n, rng))


def supply(catalog: Catalog, scenario: str, samples: int = 4000, seed: int = 0,
           workload_equivalents: bool = True) -> pd.DataFrame:
    """Chips and compute a supply scenario yields, per line and in total, P10 / P50 / P90.

    Parameters
    ----------
    catalog : Catalog
    scenario : str
        Supply scenario id (``china-2025-base``).
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
    sc = catalog.supply(scenario)
    rng = np.random.default_rng(seed)
    n = samples
    lines = []
    for line in sc.lines:
        chip = catalog.chip(line.chip)
        if chip.compute_die_area_mm2 is None or chip.bf16_dense_tflops is None:
            raise InputError("supply line", "a chip with a die area and a bf16 peak", chip.id)
        area = sample_quantity(chip.compute_die_area_mm2, n, rng)
        dies = np.round(sample_quantity(chip.compute_die_count, n, rng)) if chip.compute_die_count else np.ones(n)
        lines.append({"chip": chip, "dies": dies, "stacks": chip.hbm_stacks.point if chip.hbm_stacks else 0.0,
                      "packages": sm.packages_from_wafers(sample_quantity(line.wafers_per_year, n, rng),
                                                          wafer.gross_dies_per_wafer(area, 300.0, 3.0, 0.1),
                                                          _line_yield(catalog, chip.id, n, rng, line), dies)})
    packages = np.stack([ln["packages"] for ln in lines])                 # (line, sample)
    stacks = np.array([[ln["stacks"]] for ln in lines])                   # (line, 1)
    hbm = sample_quantity(sc.hbm_stacks, n, rng) if sc.hbm_stacks else np.full(n, np.inf)
    pack = sample_quantity(sc.packaging_chips, n, rng) if sc.packaging_chips else np.full(n, np.inf)
    chips, binding = sm.ration(packages, stacks, hbm, pack)
    counts = np.bincount(binding, minlength=len(sm.BINDING))
    bind = f"{sm.BINDING[int(np.argmax(counts))]} ({counts.max() / n:.0%} of samples)"

    per_line = [(ln["chip"], chips[i], "domestic") for i, ln in enumerate(lines)]
    per_line += [(catalog.chip(imp.chip), sample_quantity(imp.units, n, rng), "import") for imp in sc.imports]
    h100 = catalog.chip(H100).bf16_dense_tflops.point
    rows = []
    totals = {k: {"chips": np.zeros(n), "pflops": np.zeros(n), "spec": np.zeros(n), "work": np.zeros(n)}
              for k in ("domestic", "import", "all")}
    for chip, count, kind in per_line:
        tflops = sample_quantity(chip.bf16_dense_tflops, n, rng)
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
