"""An `chipgap.analyses.answer.Answer` as plain JSON-ready data: the one contract that
``chipgap train|infer --format json`` prints and the web workbench's ``/api/train`` and
``/api/serve`` return, built here once so that the two cannot drift.

Keys are snake_case with the unit in the name; numbers are numbers, NaN and infinities are
``None``; the question is echoed back under ``inputs``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from chipgap.analyses.infer import DECODE_BREAKDOWN
from chipgap.analyses.train import BREAKDOWN_KEYS, LAYOUT_KEYS, MEMORY_KEYS, RESULT_KEYS, time_to_train_days
from chipgap.jsondata import jsonable

TRAIN_SPREAD = ("tokens_per_s", "tflops_per_chip", "mfu", "step_time_s")
"""Metrics of a training answer's ``uncertainty`` block."""
PARETO_KEYS = ("tpot_ms", "tokens_per_s_per_chip", "batch", "tp", "pp", "ep", "dp")


def spread_json(summary: pd.DataFrame) -> dict:
    """A `chipgap.analyses.answer.summarize` table as JSON: metric -> p10, p50, p90, mean."""
    return {m: {k: float(r[k]) for k in ("p10", "p50", "p90", "mean")} for m, r in summary.iterrows()}


def _uncertainty(a: Any, spread: pd.DataFrame) -> dict:
    return {"samples": a.question.samples, "seed": a.question.seed, **spread_json(spread)}


def train_json(a: Any, top: int = 5, tokens: float | None = None) -> dict:
    """A training answer: the one layout evaluated (``result``), or the ``top`` best of a search
    (``layouts_evaluated``, ``results``), with ``days_to_train`` per row given a token budget."""
    one = len(a.table) == 1
    rows = a.table if one else a.best(top)
    results = [_train_row(r, tokens) for r in rows.to_dict("records")]
    out = {"inputs": a.inputs(), **({"result": results[0]} if one else
                                    {"layouts_evaluated": len(a.table), "results": results})}
    spread = a.spread(TRAIN_SPREAD)
    if spread is not None:
        out["uncertainty"] = _uncertainty(a, spread)
    return jsonable(out)


def serve_json(a: Any, top: int = 5) -> dict:
    """A serving answer: the ``top`` best layouts and batches under the SLOs, the
    throughput-vs-TPOT Pareto front, and the spread when samples were asked; of a disaggregated
    deployment, the ``top`` best rows of its table (`chipgap.analyses.disaggregation`)."""
    from chipgap.analyses.answer import SERVE_METRICS

    if a.question.disaggregated:   # one row per ratio (P/D) or pipeline setting (AFD), as computed
        return jsonable({"inputs": a.inputs(), "deployment": a.question.disaggregated,
                         "results": a.best(top).drop(columns=["valid", "meets_slo"]).to_dict("records")})
    out = {"inputs": a.inputs(), "results": [_serve_row(r) for r in a.best(top).to_dict("records")],
           "pareto": a.pareto()[list(PARETO_KEYS)].to_dict("records")}
    spread = a.spread(SERVE_METRICS)
    if spread is not None:
        out["uncertainty"] = _uncertainty(a, spread)
    return jsonable(out)


def _train_row(r: dict, tokens: float | None) -> dict:
    out = {"layout": {k: r[k] for k in LAYOUT_KEYS},
           **{k: r[k] for k in RESULT_KEYS},
           "memory_gb_per_chip": r["memory_gb"],
           "breakdown_s": {k.removesuffix("_s"): r[k] for k in BREAKDOWN_KEYS},
           "memory_breakdown_gb": {k.removeprefix("mem_").removesuffix("_gb"): r[k] for k in MEMORY_KEYS},
           "reason": r["reason"] or None}
    if tokens:
        out["days_to_train"] = time_to_train_days(r["tokens_per_s"], tokens)
    return out


def _serve_row(r: dict) -> dict:
    return {"layout": {k: r[k] for k in ("tp", "pp", "ep", "dp")}, "batch": r["batch"],
            **({"draft_tokens": r["draft_tokens"]} if "draft_tokens" in r else {}),
            "accept_length": r["accept_length"], "weight_offload": r["weight_offload"],
            "ttft_ms": r["ttft_ms"], "tpot_ms": r["tpot_ms"], "tokens_per_s": r["tokens_per_s"],
            "tokens_per_s_per_chip": r["tokens_per_s_per_chip"],
            "memory_gb_per_chip": r["memory_gb_per_chip"], "fits": r["fits"],
            "breakdown_ms": {k.removesuffix("_s"): r[k] * 1e3 for k in DECODE_BREAKDOWN}}
