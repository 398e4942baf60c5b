"""The performance model against published runs: predictions, errors, and the calibration fit.

The fit sees only runs marked ``split: calibration``; held-out runs are predicted with what it
found and reported apart. It minimises squared log errors, so an overestimate and an
underestimate by the same factor weigh the same.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares, minimize_scalar

from chipgap.analyses.infer import serve, serving_setup
from chipgap.analyses.train import evaluate, setup
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.runs import ServingRun, TrainingRun
from chipgap.models.calibration import efficiency_for
from chipgap.errors import InputError
from chipgap.models.training import REASONS, RECOMPUTE

SHARED = {"gemm_half_gflop": (0.5, 20.0), "attention": (0.5, 1.0), "attention_unfused": (0.2, 1.0),
          "fp8_gemm": (0.4, 1.0)}
"""Shared constants the fit may move, within what kernels are known to reach: GEMMs of 1-4
GFLOP run near half speed; FlashAttention reaches 50-100% of GEMM efficiency (Dao 2023,
arXiv 2307.08691, Fig. 6-7); unfused attention's batched GEMMs with a short inner dimension
(head_dim) and a softmax pass in between reach less; fp8 GEMMs keep 40-100% of the bf16
fraction of peak."""
SERVING_SHARED = {"layer_overhead_s": (0.0, 5e-4)}
"""Fitted on the serving calibration runs alone, where it shows most: a decode step runs each
layer's dozen kernels, so fixed per-layer costs (launches, synchronisation, small-kernel tails)
count most at small batches. In a training step they vanish under large micro-batches, so the
training runs cannot pin it down. The serving calibration runs are all large-batch offline jobs,
which pin it down weakly too: once their elementwise traffic is counted the fit puts it near
zero, and moving it between 0 and 10 us changes the held-out median by under half a point."""
GEMM_MAX_BOUNDS = (0.5, 0.9)
"""cuBLAS-class GEMMs reach 50-90% of dense peak at large sizes."""
SAME_SILICON = {"nvidia-h800-sxm": "nvidia-h100-sxm", "nvidia-h20": "nvidia-h100-sxm",
                "nvidia-h200-sxm": "nvidia-h100-sxm", "nvidia-h100-pcie": "nvidia-h100-sxm",
                "nvidia-a800-sxm": "nvidia-a100-sxm", "nvidia-gb200": "nvidia-b200",
                "huawei-ascend-910c": "huawei-ascend-910b"}
"""Chips sharing a compute die and software stack with another (GH100, GA100, GB100, 910B)."""
SHARED_FROM = ("nvidia-a100-sxm", "nvidia-h100-sxm")
"""Chips whose runs fit the shared constants (with their own ``gemm_max``): the bounds of
`SHARED` come from NVIDIA kernels (cuBLAS, FlashAttention). Every other calibrated chip then
gets its own ``gemm_max`` with the shared constants held, so one chip's runs never move another
chip's predictions (Ascend's software stack cannot bend the H100's attention constant). Chips
with no calibration run get these chips' mean ``gemm_max`` as a prior, for the same reason."""


def predict(catalog: Catalog, run: TrainingRun, table: dict[str, Any] | None = None) -> dict[str, Any]:
    """Predict one run's measured metric with the efficiency ``table`` (default: the shipped one)."""
    s = setup(catalog, run)
    if table is not None:
        eff, basis = efficiency_for(s.chip, table)
        s = type(s)(s.job, s.hardware, eff, s.chip, s.system, basis)
    rows = evaluate(s, _layouts(run))
    # the best setting of the unreported fields that fits; if the model thinks nothing fits,
    # the best that breaks only the memory limit (the memory model is then flagged as too high)
    pool = rows[rows.valid] if rows.valid.any() else rows[rows.reason == REASONS[64]]
    if pool.empty:
        raise InputError("run", f"a layout the model accepts ({rows.reason.iloc[0]})", run.id)
    row = pool.sort_values("tokens_per_s", ascending=False).iloc[0]
    value = {"tokens_per_s_per_chip": row.tokens_per_s / run.chips, "mfu": row.mfu,
             "step_time_s": row.step_time_s, "model_tflops_per_chip": row.tflops_per_chip}[run.metric]
    return _comparison(run, float(value), bool(row.fits), s.efficiency_basis,
                       {k: int(row[k]) for k in ("tp", "pp", "dp", "cp", "ep", "vpp", "mbs", "zero",
                                                 "recompute")})


def _comparison(run: TrainingRun | ServingRun, value: float, fits: bool, basis: str,
                layout: dict[str, int]) -> dict[str, Any]:
    """One row of an accuracy table: the run, what it measured, what the model predicts."""
    lo, hi = run.measured.bounds
    return {"run": run.id, "split": run.split, "workload": run.workload, "chip": run.chip,
            "chips": run.chips, "metric": run.metric, "measured": run.measured.point,
            "predicted": value, "error_pct": 100 * (value / run.measured.point - 1),
            "in_range": bool(lo <= value <= hi) if run.measured.is_range else None,
            "fits": fits, "efficiency_basis": basis, "layout": layout}


def _layouts(run: TrainingRun) -> dict[str, np.ndarray]:
    """The run's layout, with every field it did not report spread over its usual settings."""
    lay = run.layout
    vpps = {None: [1, 2, 3, 4, 6, 8], True: [2, 3, 4, 6, 8], False: [1]}[lay.interleaved]
    options = {"vpp": [lay.vpp] if lay.vpp else (vpps if lay.pp > 1 else [1]),
               "mbs": [lay.mbs] if lay.mbs else [1, 2, 4, 8],
               "zero": [lay.zero] if lay.zero is not None else [0, 1, 2, 3],
               "recompute": [RECOMPUTE[lay.recompute]] if lay.recompute else list(RECOMPUTE.values())}
    grid = np.meshgrid(*options.values(), indexing="ij")
    out = {k: g.ravel() for k, g in zip(options, grid)}
    degrees = {k: getattr(lay, k) or 1 for k in ("tp", "pp", "dp", "cp", "ep")}  # unstated: 1
    return {**degrees, **out}


def predict_runs(catalog: Catalog, runs: Sequence[TrainingRun] | None = None,
                 table: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per run: measured, predicted, signed error in percent, and whether it fits."""
    runs = list(catalog.runs.values()) if runs is None else list(runs)
    return pd.DataFrame([predict(catalog, r, table) for r in runs])


def predict_serving(catalog: Catalog, run: ServingRun, table: dict[str, Any] | None = None) -> dict[str, Any]:
    """Predict one serving run: its job (a run is a `ServingJob`) on its layout, at its batch or
    the best one memory (and its TPOT SLO) allows, as the run's engine would have picked
    (efficiency ``table``: default the shipped one)."""
    # a degree the source does not state is 1, every engine's default
    lay = {k: v or 1 for k, v in run.layout.model_dump().items()}
    s = serving_setup(catalog, run.model_copy(update={"layout": run.layout.model_copy(update=lay)}))
    if table is not None:
        s = dataclasses.replace(s, efficiency=efficiency_for(s.chip, table)[0])
    df = serve(s)
    pool = df[df.meets_slo] if df.meets_slo.any() else df[df.reason == ""]
    if pool.empty:
        raise InputError("serving run", f"a layout the model accepts ({df.reason.iloc[0]})", run.id)
    row = pool.sort_values("tokens_per_s", ascending=False).iloc[0]
    value = {"output_tokens_per_s_per_chip": row.tokens_per_s_per_chip,
             "prefill_tokens_per_s_per_chip": row.tokens_per_s_per_chip,
             "ttft_ms": row.ttft_ms, "tpot_ms": row.tpot_ms}[run.metric]
    return _comparison(run, float(value), bool(row.fits), "; ".join(s.assumptions),
                       {k: int(row[k]) for k in ("tp", "pp", "ep", "dp", "batch")})


def predict_serving_runs(catalog: Catalog) -> pd.DataFrame:
    """One row per serving run: measured, predicted, signed error in percent."""
    return pd.DataFrame([predict_serving(catalog, r) for r in catalog.serving_runs.values()])


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Median and worst absolute percentage error per split."""
    g = df.assign(abs_error_pct=df.error_pct.abs()).groupby("split").abs_error_pct
    return pd.DataFrame({"cases": g.size(), "median_abs_error_pct": g.median(),
                         "worst_abs_error_pct": g.max()})


def fit(catalog: Catalog) -> dict[str, Any]:
    """Fit the efficiency table on the calibration runs only; return it (see `efficiency_for`).

    Stages, each on the runs that can identify its constants: the constants of `SHARED` with
    the ``gemm_max`` of the `SHARED_FROM` chips, on those chips' training calibration runs; then
    the ``gemm_max`` of every other chip a training calibration run uses, alone on its runs
    (same-silicon twins share a chip's value); then `SERVING_SHARED` on the serving calibration
    runs with the training stages' table. Deterministic: the same runs give the same
    table.
    """
    table = _fit_training(catalog)
    runs = [r for r in catalog.serving_runs.values() if r.split == "calibration"]
    (name, (lo, hi)), = SERVING_SHARED.items()

    def loss(x: float) -> float:
        t = {**table, "shared": {**table["shared"], name: x * 1e-6}}
        return float(np.mean([np.log(predict_serving(catalog, r, t)["predicted"] / r.measured.point) ** 2
                              for r in runs]))

    res = minimize_scalar(loss, bounds=(lo * 1e6, hi * 1e6), method="bounded", options={"xatol": 0.5})
    table["shared"][name] = float(res.x) * 1e-6
    table["serving_fitted_on"] = [r.id for r in runs]
    table["serving_rms_log_error"] = float(np.sqrt(res.fun))
    return table


def _fit_training(catalog: Catalog) -> dict[str, Any]:
    runs = [r for r in catalog.runs.values() if r.split == "calibration"]
    reference = [r for r in runs if SAME_SILICON.get(r.chip, r.chip) in SHARED_FROM]
    table = _fit_shared(catalog, reference)
    for chip in sorted({SAME_SILICON.get(r.chip, r.chip) for r in runs} - set(SHARED_FROM)):
        own = [r for r in runs if SAME_SILICON.get(r.chip, r.chip) == chip]

        def loss(x: float) -> float:
            t = {**table, "chips": {**table["chips"], chip: {"gemm_max": x}}}
            return float(np.mean([np.log(predict(catalog, r, t)["predicted"] / r.measured.point) ** 2
                                  for r in own]))

        res = minimize_scalar(loss, bounds=GEMM_MAX_BOUNDS, method="bounded", options={"xatol": 1e-4})
        table["chips"][chip] = {"gemm_max": float(res.x)}
    errors = [np.log(predict(catalog, r, table)["predicted"] / r.measured.point) for r in runs]
    table["prior_from"] = [c for c in SHARED_FROM if c in table["chips"]]
    table["fitted_on"] = [r.id for r in runs]
    table["rms_log_error"] = float(np.sqrt(np.mean(np.square(errors))))
    return table


def _fit_shared(catalog: Catalog, runs: list[TrainingRun]) -> dict[str, Any]:
    """`SHARED` and the reference chips' ``gemm_max``, jointly, on the reference chips' runs."""
    chips = sorted({SAME_SILICON.get(r.chip, r.chip) for r in runs})
    names = list(SHARED)
    x0 = np.array([0.7] * len(chips) + [2.0, 0.7, 0.5, 0.75])
    lo = np.array([GEMM_MAX_BOUNDS[0]] * len(chips) + [SHARED[n][0] for n in names])
    hi = np.array([GEMM_MAX_BOUNDS[1]] * len(chips) + [SHARED[n][1] for n in names])
    scale = np.array([1.0] * len(chips) + [10.0, 1.0, 1.0, 1.0])

    def table_of(x: np.ndarray) -> dict[str, Any]:
        return {"shared": {n: float(v) for n, v in zip(names, x[len(chips):])},
                "chips": {c: {"gemm_max": float(v)} for c, v in zip(chips, x[:len(chips)])},
                "same_silicon": dict(SAME_SILICON)}

    def residuals(x: np.ndarray) -> np.ndarray:
        t = table_of(x)
        return np.array([np.log(predict(catalog, r, t)["predicted"] / r.measured.point) for r in runs])

    res = least_squares(residuals, np.clip(x0, lo, hi), bounds=(lo, hi), x_scale=scale, diff_step=1e-3)
    return table_of(res.x)
