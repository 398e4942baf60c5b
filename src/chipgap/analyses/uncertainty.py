"""Monte Carlo through the performance engines: ranges in, P10/P50/P90 and probabilities out.

Every ranged catalog quantity a question touches is drawn with `chipgap.models.sampling.Sampler`
(one stream per ``record-id.field``, so the same seed gives the same numbers bit for bit, and the
same chip gets the same draws in every question of a run). The samples are an extra array axis:
the best layouts found at the point estimate form one axis, the samples another, and one
evaluation covers both; each sample then keeps its best valid layout.

The calibrated efficiency constants are not sampled: the spread shown is that of the specs,
not the model's own error (``benchmarks/accuracy.py`` reports that separately).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from chipgap.analyses import infer as infer_mod
from chipgap.analyses import train as train_mod
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.serving_job import ServingJob
from chipgap.errors import InputError
from chipgap.models.sampling import Sampler
from chipgap.models.training import train_step

QUANTILES = (0.1, 0.5, 0.9)
TRAIN_METRICS = ("tokens_per_s", "tflops_per_chip", "mfu", "step_time_s", "memory_gb")
SERVE_METRICS = ("tokens_per_s_per_chip", "tokens_per_s", "tpot_ms", "ttft_ms", "memory_gb_per_chip")


def summarize(samples: pd.DataFrame | Mapping[str, np.ndarray],
              metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
    """P10, P50, P90 and mean of each metric over the samples (NaN samples ignored).

    >>> summarize({"x": np.arange(101.0)}).loc["x", ["p10", "p50", "p90"]].tolist()
    [10.0, 50.0, 90.0]
    """
    cols = metrics or tuple(samples.keys())
    rows = {}
    for m in cols:
        v = np.asarray(samples[m], dtype=float)
        ok = v[np.isfinite(v)]
        q = np.quantile(ok, QUANTILES) if ok.size else np.full(len(QUANTILES), np.nan)
        rows[m] = {"p10": q[0], "p50": q[1], "p90": q[2], "mean": ok.mean() if ok.size else np.nan,
                   "valid_fraction": ok.size / max(v.size, 1)}
    return pd.DataFrame.from_dict(rows, orient="index")


def probability(a: np.ndarray, b: np.ndarray | float, ratio: float = 1.0) -> float:
    """P(a >= ratio x b) over paired samples; a sample where either side is NaN counts as false.

    >>> probability(np.array([1.0, 2.0, 3.0, 4.0]), 2.5)
    0.5
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    return float(np.mean(np.nan_to_num(a, nan=-np.inf) >= ratio * np.nan_to_num(b, nan=np.inf)))


def _best_per_sample(out: Mapping[str, np.ndarray], score: np.ndarray, ok: np.ndarray,
                     layouts: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """For arrays of shape (layouts, samples), each sample's best valid layout (NaN when none)."""
    masked = np.where(ok, score, -np.inf)
    pick = np.argmax(masked, axis=0)
    cols = np.arange(masked.shape[1])
    any_ok = ok.any(axis=0)
    df = pd.DataFrame({"sample": cols})
    for k, v in layouts.items():
        df[k] = np.asarray(v).ravel()[pick]
    for k, v in out.items():
        full = np.broadcast_to(v, masked.shape)[pick, cols]
        df[k] = np.where(any_ok, full, np.nan) if full.dtype.kind == "f" else full
    df["valid"] = any_ok
    return df


def train_samples(catalog: Catalog, model: str, chip: str, chips: int, seq_len: int,
                  global_batch: int, system: str | None = None, precision: str = "bf16",
                  samples: int = 1000, seed: int = 0, top_layouts: int = 16,
                  layout: Mapping[str, int | str] | None = None, **framework: bool) -> pd.DataFrame:
    """Training throughput with the chip's uncertain specs drawn ``samples`` times.

    The ``top_layouts`` best layouts at the point estimate are evaluated under every sample in
    one array pass; each sample keeps its fastest valid one. With ``layout`` (a mapping of
    `chipgap.analyses.train.LAYOUT_KEYS`, as `chipgap.analyses.train.evaluate` takes) only that
    layout is evaluated, and a sample where it does not fit is not valid. ``framework`` flags
    go to `chipgap.analyses.train.setup`.

    Returns
    -------
    DataFrame
        One row per sample: ``sample``, the layout, `chipgap.analyses.train.RESULT_KEYS`, the
        breakdown and ``valid`` (False where no layout fits that sample's chip).
    """
    s = train_mod.setup(catalog, model, chip, chips, seq_len, global_batch, system, precision,
                        **framework)
    if layout is not None:
        best = train_mod.evaluate(s, train_mod.check_layout(s, layout))
    else:
        best, _ = train_mod.search(s, top=top_layouts)
    if best.empty:
        raise InputError("chips", f"a chip count at which {s.job.workload.id} fits on {s.chip}", chips)
    hw = train_mod.sampled(catalog, s, Sampler(samples, seed)).hardware
    lay = {k: best[k].to_numpy()[:, None] for k in train_mod.LAYOUT_KEYS}
    out = train_mod.to_chip_units(train_step(s.job, hw, s.efficiency, **lay), s.devices)
    out.pop("fits")  # a sample's layout is valid, fit included, where its reason is 0
    return _best_per_sample(out, np.broadcast_to(out["tokens_per_s"], np.shape(out["reason"])),
                            out["reason"] == 0, lay)


def serve_samples(catalog: Catalog, model: str, chip: str, chips: int, job: ServingJob,
                  system: str | None = None, ttft_ms: float | None = None, tpot_ms: float | None = None,
                  weight_precision: str = "bf16", kv_precision: str = "bf16",
                  mtp_accept: float | None = None, samples: int = 1000, seed: int = 0,
                  top_configs: int = 16, batch: int | None = None, memory_gb: float | None = None,
                  ep_overlap: bool = False, ep_imbalance: float = 1.0, **layout: int) -> pd.DataFrame:
    """Serving throughput of ``job`` under SLOs with the chip's uncertain specs drawn ``samples`` times.

    The ``top_configs`` best (layout, batch) pairs at the point estimate that fit and meet the
    SLOs are evaluated under every sample; each sample keeps its best pair that still fits and
    meets them. ``layout`` (tp, pp, ep, dp) and ``batch`` fix parts of the configuration, as in
    `chipgap.analyses.infer.serve`, which also says what ``job`` (a
    `chipgap.catalog.serving_job.ServingJob`) sets; ``memory_gb``, ``ep_overlap`` and ``ep_imbalance`` are as in
    `chipgap.analyses.infer.serving_setup`.

    Returns
    -------
    DataFrame
        One row per sample: ``sample``, ``tp, pp, ep, dp, batch``, `SERVE_METRICS` and ``valid``.
    """
    s = infer_mod.serving_setup(catalog, model, chip, chips, system, weight_precision, kv_precision,
                                mtp_accept, memory_gb, ep_overlap, ep_imbalance)
    df = infer_mod.serve(s, job, batch, ttft_ms=ttft_ms, tpot_ms=tpot_ms, **layout)
    top = infer_mod.best(df, top_configs)
    if top.empty:
        raise InputError("chips", f"an instance size at which {s.serving.workload.id} fits on "
                                  f"{s.chip} and meets the SLOs", chips)
    sampled = infer_mod.sampled(catalog, s, Sampler(samples, seed))
    grid = {k: top[k].to_numpy()[:, None] for k in ("tp", "pp", "ep", "dp", "batch")}
    out = infer_mod.serve_arrays(sampled, grid, job)
    ok = out["reason"] == 0
    if ttft_ms is not None:
        ok &= out["ttft_ms"] <= ttft_ms
    if tpot_ms is not None:
        ok &= out["tpot_ms"] <= tpot_ms
    metrics = {k: out[k] for k in SERVE_METRICS}
    return _best_per_sample(metrics, np.broadcast_to(out["tokens_per_s_per_chip"], ok.shape), ok, grid)
