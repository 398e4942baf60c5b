"""LLM decode on CPU sockets by one rule, whether the CPU's compute peak is public or not.

One stream on a CPU is memory-bound: each token streams every weight (and the stream's KV cache)
from DRAM once, so the serving model's decode step is taken with its memory term alone, at the
model's memory efficiency, for every CPU alike. Where a compute peak is public, it bounds what a
larger batch can reach: the batched ceiling is that peak over the FLOPs of one token (an upper
bound: no efficiency applied); where none is, the ceiling is not computed.

>>> from chipgap.catalog import load_catalog
>>> r = cpu_decode(load_catalog(), "zhaoxin-kh-40000", "deepseek-r1-distill-qwen-7b", "int4")
>>> r["compute_known"], r["batched_ceiling_tokens_per_s"] is None
(False, True)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from chipgap.analyses import infer
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.question import ServeQuestion
from chipgap.errors import InputError
from chipgap.models.params import param_count
from chipgap.models.sampling import Draw

RULE = ("one stream is memory-bound: every weight and the stream's KV cache are read from DRAM once per "
        "token, at the model's memory efficiency; the compute peak is not used for it")
"""The one rule every CPU's single stream is computed by."""


def cpu_decode(catalog: Catalog, cpu: str, model: str, precision: str = "bf16", input_len: int = 1024,
               output_len: int = 512, memory_gb: float | None = None) -> dict[str, Any]:
    """One CPU socket decoding ``model``: its single-stream rate by `RULE`, and the batched
    ceiling its compute peak allows where the peak is public.

    Parameters
    ----------
    catalog : Catalog
    cpu : str
        A chip of kind 'cpu'.
    model : str
        Workload id or alias.
    precision : {'bf16', 'fp8', 'int8', 'int4'}, default='bf16'
        Weights.
    input_len, output_len : int
        The stream's context (KV length) and generated tokens.
    memory_gb : float, optional
        DRAM per socket (default: the catalog's, or `chipgap.analyses.infer.CPU_MEMORY_GB`).

    Returns
    -------
    dict
        ``cpu, precision, single_stream_tokens_per_s, tpot_ms, compute_known,
        batched_ceiling_tokens_per_s`` (None where no peak is public), ``peak_tflops``,
        ``assumptions`` (tuple of str), ``question`` (the `ServeQuestion`).

    Raises
    ------
    InputError
        When ``cpu`` is not a CPU.
    """
    c = catalog.chip(cpu)
    if c.kind != "cpu":
        raise InputError("chip", "a CPU (kind 'cpu')", c.id)
    q = ServeQuestion(model=model, chip=c.id, phase="decode", input_len=input_len, output_len=output_len,
                      weight_precision=precision, batch=1, memory_gb=memory_gb)
    s = infer.serving_setup(catalog, q)
    peak = float(np.asarray(s.hardware.peak_tflops))
    row = infer.serve(_memory_only(s)).iloc[0]
    active = param_count(s.serving.workload).active
    known = bool(np.isfinite(peak))
    notes = tuple(a for a in s.assumptions if not a.startswith(("efficiency", "no public", "no bf16")))
    notes += (RULE,)
    if known:
        notes += (f"batched ceiling: the {'bf16' if c.bf16_dense_tflops else 'fp32'} peak over 2 FLOPs per "
                  "active parameter per token, no efficiency (an upper bound)",)
    else:
        notes += ("no public compute peak: the batched ceiling is not computed",)
    return {"cpu": c.id, "precision": precision, "single_stream_tokens_per_s": float(row.tokens_per_s),
            "tpot_ms": float(row.tpot_ms), "compute_known": known,
            "batched_ceiling_tokens_per_s": peak * 1e12 / (2.0 * active) if known else None,
            "peak_tflops": peak if known else None, "assumptions": notes, "question": q}


def _memory_only(s: infer.ServingSetup) -> infer.ServingSetup:
    """``s`` with its compute peaks unknown: the serving model then times memory traffic alone."""
    hw = dataclasses.replace(s.hardware, peak_tflops=np.nan, peak_fp8_tflops=np.nan)
    return dataclasses.replace(s, hardware=hw)


def single_stream_draws(catalog: Catalog, question: ServeQuestion, draw: Draw) -> np.ndarray:
    """`cpu_decode`'s single-stream rate for each of ``draw``'s cases (the CPU's ranged specs
    drawn), by `RULE`: for a sensitivity or Monte Carlo of the CPU's own inputs."""
    s = infer.serving_setup(catalog, question)
    sampled = _memory_only(infer.sampled(catalog, s, draw))
    one = np.ones(1, dtype=int)
    out = infer.serve_arrays(sampled, {"tp": one, "pp": one, "ep": one, "dp": one, "batch": one}, question.job)
    return np.asarray(out["tokens_per_s"], dtype=float).ravel()
