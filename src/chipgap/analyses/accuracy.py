"""The performance model against published runs: predictions, errors, and the calibration fit.

The fit sees only runs marked ``split: calibration``; held-out runs are predicted with what it
found and reported apart. It minimises squared log errors, so an overestimate and an
underestimate by the same factor weigh the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from chipgap.analyses.train import evaluate, setup
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.runs import TrainingRun
from chipgap.models.calibration import efficiency_for

SHARED = {"gemm_half_gflop": (0.05, 50.0), "attention": (0.3, 1.0), "fp8_gemm": (0.4, 1.0),
          "layer_overhead_s": (0.0, 5e-4)}
"""Shared constants the fit may move, with the bounds physics allows."""
GEMM_MAX_BOUNDS = (0.3, 0.95)
SAME_SILICON = {"nvidia-h800-sxm": "nvidia-h100-sxm", "nvidia-h20": "nvidia-h100-sxm",
                "nvidia-h200-sxm": "nvidia-h100-sxm", "nvidia-h100-pcie": "nvidia-h100-sxm",
                "nvidia-a800-sxm": "nvidia-a100-sxm", "nvidia-gb200": "nvidia-b200",
                "huawei-ascend-910c": "huawei-ascend-910b"}
"""Chips sharing a compute die and software stack with another (GH100, GA100, GB100, 910B)."""


def predict(catalog: Catalog, run: TrainingRun, table: dict[str, Any] | None = None) -> dict[str, Any]:
    """Predict one run's measured metric with the efficiency ``table`` (default: the shipped one)."""
    s = setup(catalog, run.workload, run.chip, run.chips, run.seq_len, run.global_batch,
              run.system, run.precision,
              run.scaleout_bw_gbps_unidir.point if run.scaleout_bw_gbps_unidir else None,
              run.flash_attention, run.ep_overlap, run.dp_overlap)
    if table is not None:
        eff, basis = efficiency_for(s.chip, table)
        s = type(s)(s.job, s.hardware, eff, s.chip, s.system, basis)
    lay = run.layout
    row = evaluate(s, {"tp": lay.tp, "pp": lay.pp, "dp": lay.dp, "cp": lay.cp, "ep": lay.ep,
                       "vpp": lay.vpp, "mbs": lay.mbs or 1,
                       "zero": 1 if lay.zero is None else lay.zero,
                       "recompute": lay.recompute or "none"}).iloc[0]
    value = {"tokens_per_s_per_chip": row.tokens_per_s / run.chips, "mfu": row.mfu,
             "step_time_s": row.step_time_s, "model_tflops_per_chip": row.tflops_per_chip}[run.metric]
    return {"run": run.id, "split": run.split, "workload": run.workload, "chip": run.chip,
            "chips": run.chips, "metric": run.metric, "measured": run.measured.point,
            "predicted": float(value), "error_pct": 100 * (float(value) / run.measured.point - 1),
            "fits": bool(row.fits), "valid_layout": not (row.reason and "memory" not in row.reason),
            "efficiency_basis": s.efficiency_basis}


def predict_runs(catalog: Catalog, runs: Sequence[TrainingRun] | None = None,
                 table: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per run: measured, predicted, signed error in percent, and whether it fits."""
    runs = list(catalog.runs.values()) if runs is None else list(runs)
    return pd.DataFrame([predict(catalog, r, table) for r in runs])


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Median and worst absolute percentage error per split."""
    g = df.assign(abs_error_pct=df.error_pct.abs()).groupby("split").abs_error_pct
    return pd.DataFrame({"cases": g.size(), "median_abs_error_pct": g.median(),
                         "worst_abs_error_pct": g.max()})


def fit(catalog: Catalog) -> dict[str, Any]:
    """Fit the efficiency table on the calibration runs only; return it (see `efficiency_for`).

    Fitted: ``gemm_max`` for every chip a calibration run uses (its same-silicon twins share
    it), and the shared constants of `SHARED`. Deterministic: the same runs give the same table.
    """
    runs = [r for r in catalog.runs.values() if r.split == "calibration"]
    chips = sorted({SAME_SILICON.get(r.chip, r.chip) for r in runs})
    names = list(SHARED)
    x0 = np.array([0.6] * len(chips) + [2.0, 0.7, 0.75, 5e-5])
    lo = np.array([GEMM_MAX_BOUNDS[0]] * len(chips) + [SHARED[n][0] for n in names])
    hi = np.array([GEMM_MAX_BOUNDS[1]] * len(chips) + [SHARED[n][1] for n in names])
    scale = np.array([1.0] * len(chips) + [10.0, 1.0, 1.0, 1e-4])

    def table_of(x: np.ndarray) -> dict[str, Any]:
        return {"shared": {n: float(v) for n, v in zip(names, x[len(chips):])},
                "chips": {c: {"gemm_max": float(v)} for c, v in zip(chips, x[:len(chips)])},
                "same_silicon": dict(SAME_SILICON)}

    def residuals(x: np.ndarray) -> np.ndarray:
        t = table_of(x)
        return np.array([np.log(predict(catalog, r, t)["predicted"] / r.measured.point) for r in runs])

    res = least_squares(residuals, x0, bounds=(lo, hi), x_scale=scale, diff_step=1e-3)
    table = table_of(res.x)
    table["fitted_on"] = [r.id for r in runs]
    table["rms_log_error"] = float(np.sqrt(np.mean(res.fun ** 2)))
    return table
